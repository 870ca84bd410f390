//! Job control in the REPL, after the glibc manual's "Implementing a Job Control Shell".
//!
//! - [`JobControl::start`] waits until ariash is in the foreground (a shell started in the
//!   background stops on `SIGTTIN` instead of spinning), ignores `SIGTSTP`, `SIGTTIN` and
//!   `SIGTTOU` in ariash (never `SIGCHLD`: ignoring it would reap children behind their
//!   pidfds; `aria_io` resets the three to `SIG_DFL` in every child), puts ariash in a
//!   process group of its own, takes the terminal and saves the shell's terminal modes.
//!   [`JobControl::finish`] puts it all back.
//! - Every pipeline is a job in its own process group. A foreground one is spawned with the
//!   terminal ([`aria_io::process::Pipeline::foreground`]: the child makes its group the
//!   terminal's foreground group before `execve`, so Ctrl-C and Ctrl-Z reach the job alone).
//!   ariash waits with [`PipelineChild::wait_change`] (stops and continues from `waitid`
//!   driven by `SIGCHLD`, exits from the pidfds).
//! - When the job exits, or stops (Ctrl-Z), ariash takes the terminal back and restores the
//!   shell's modes, whatever state the job left the terminal in (even when it was killed with
//!   `SIGKILL` mid-way through a full-screen program). A stopped job's own modes are saved
//!   and given back by `fg`. A stop ends the line (status 128 + signal) and the job is kept
//!   in the job table; a job killed by `SIGINT` ends the line too (status 130), as Ctrl-C in
//!   a loop should.
//! - `jobs`, `fg`, `bg`, `disown` and `watch` are [`Session`] methods the REPL calls for the
//!   commands of those names; background jobs that stop or finish are announced by
//!   [`Session::poll_notices`].

use std::cell::Cell;
use std::future::poll_fn;
use std::io::{self, IsTerminal};
use std::rc::Rc;
use std::task::{Context, Poll};

use aria_io::process::terminal::{self, JobSignals, Modes};
use aria_io::process::{JobChange, PipelineChild, PipelineStatus};

use super::jobs::{JobCell, JobEvent};
use super::pipeline::{status_code, Outcome, Plan};
use super::session::Session;
use super::{runtime_error, Eval, Flow, Interp};
use crate::ast::PipeExpr;
use crate::watch::{Pane, Watch};
use aria_io::os::unix::PipelineChildExt;

/// The terminal descriptor: the REPL's stdin, which [`JobControl::start`] checked is its
/// controlling terminal.
const TTY: i32 = 0;

/// The REPL's hold on its controlling terminal.
#[derive(Debug)]
pub(crate) struct JobControl {
    /// ariash's own process group.
    pgid: i32,
    /// The terminal's foreground group before ariash took it, given back at the end.
    original: i32,
    /// The shell's terminal modes, restored after every foreground job.
    modes: Modes,
    signals: JobSignals,
    /// Whether a foreground pipeline holds the terminal (a second one started meanwhile, by
    /// `parallel`, runs without it).
    lent: Cell<bool>,
}

impl JobControl {
    /// Sets up job control on stdin (see the module docs); `None` when stdin is not ariash's
    /// controlling terminal (the REPL then runs without job control).
    ///
    /// # Errors
    /// A system call of the set-up failed.
    pub(crate) fn start() -> io::Result<Option<JobControl>> {
        let tty = std::io::stdin();
        if !tty.is_terminal() || terminal::foreground_group(&tty).is_err() {
            return Ok(None);
        }
        terminal::wait_until_foreground(&tty)?;
        let original = terminal::foreground_group(&tty)?;
        let signals = terminal::ignore_job_control_signals()?;
        terminal::become_group_leader()?;
        let pgid = terminal::getpgrp();
        terminal::set_foreground_group(&tty, pgid)?;
        let modes = Modes::save(&tty)?;
        Ok(Some(JobControl { pgid, original, modes, signals, lent: Cell::new(false) }))
    }

    /// The terminal for a foreground pipeline, unless another one holds it.
    fn lend(&self) -> Option<i32> {
        (!self.lent.replace(true)).then_some(TTY)
    }

    /// Gives the terminal to group `pgid` with `modes` (a stopped job's own), for `fg`.
    fn give(&self, pgid: i32, modes: Option<&Modes>) -> io::Result<()> {
        self.lent.set(true);
        if let Some(modes) = modes {
            modes.restore(std::io::stdin())?;
        }
        terminal::set_foreground_group(std::io::stdin(), pgid)
    }

    /// Takes the terminal back and restores the shell's modes.
    fn reclaim(&self) {
        self.lent.set(false);
        // Errors are ignored: the terminal may be gone (a hang-up), and then nothing is left
        // to restore.
        let _ = terminal::set_foreground_group(std::io::stdin(), self.pgid);
        let _ = self.modes.restore(std::io::stdin());
    }

    /// Puts back what [`start`](JobControl::start) changed: the modes, the signal
    /// dispositions and the terminal's foreground group.
    pub(crate) fn finish(&self) {
        self.reclaim();
        let _ = self.signals.restore();
        if self.original != self.pgid {
            let _ = terminal::set_foreground_group(std::io::stdin(), self.original);
        }
    }
}

/// How a foreground job's wait ended.
enum Foreground {
    Exited(PipelineStatus, Vec<u8>),
    Stopped(i32),
}

/// Waits for `child` to exit or stop, reading its captured stdout (if any) meanwhile.
async fn wait_foreground(child: &mut PipelineChild) -> io::Result<Foreground> {
    let mut stdout = child.take_stdout();
    let mut output = Vec::new();
    let mut status = None;
    poll_fn(|cx| {
        if let Some(reader) = stdout.as_mut() {
            if let Poll::Ready(done) = read_some(reader, &mut output, cx) {
                done?;
                stdout = None;
            }
        }
        while status.is_none() {
            match child.poll_wait_change(cx) {
                Poll::Pending => break,
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Ready(Ok(JobChange::Stopped(sig))) => return Poll::Ready(Ok(Foreground::Stopped(sig))),
                Poll::Ready(Ok(JobChange::Continued)) => {}
                Poll::Ready(Ok(JobChange::Exited(s))) => status = Some(s),
            }
        }
        match status.take() {
            Some(s) if stdout.is_none() => {
                Poll::Ready(Ok(Foreground::Exited(s, std::mem::take(&mut output))))
            }
            unfinished => {
                status = unfinished;
                Poll::Pending
            }
        }
    })
    .await
}

/// Reads what `reader` has into `out`: `Ready` at the end of the stream (or on an error).
fn read_some(
    reader: &mut aria_io::io::PipeReader,
    out: &mut Vec<u8>,
    cx: &mut Context<'_>,
) -> Poll<io::Result<()>> {
    let mut buf = [0u8; 8192];
    loop {
        match futures_io::AsyncRead::poll_read(std::pin::Pin::new(&mut *reader), cx, &mut buf) {
            Poll::Ready(Ok(0)) => return Poll::Ready(Ok(())),
            Poll::Ready(Ok(n)) => out.extend_from_slice(&buf[..n]),
            Poll::Ready(Err(e)) if e.kind() == io::ErrorKind::Interrupted => {}
            Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
            Poll::Pending => return Poll::Pending,
        }
    }
}

/// Whether a stage of the job was killed by `SIGINT` (Ctrl-C).
fn interrupted(status: &PipelineStatus) -> bool {
    status.statuses().iter().any(|s| s.signal() == Some(libc::SIGINT))
}

/// How `jobs` and the notices show a job's state.
fn state_text(event: JobEvent) -> String {
    match event {
        JobEvent::Stopped(sig) => format!("Stopped ({})", aria_io::process::signal_name(sig)),
        JobEvent::Continued => "Running".to_string(),
        JobEvent::Done(0) => "Done".to_string(),
        JobEvent::Done(code) => format!("Done (status {code})"),
    }
}

/// A line of `jobs` or a notice: `[1]  Stopped (SIGTSTP)  sleep 100`.
fn job_line(job: &JobCell, event: JobEvent) -> String {
    format!("[{}]  {:<18}  {}", job.id, state_text(event), shown(job))
}

/// The job's pipeline as the user thinks of it: command literals without their backquotes
/// (a bare command typed at the REPL runs as command literals), control characters escaped.
fn shown(job: &JobCell) -> String {
    crate::diag::escape_controls(&job.text.replace('`', "")).into_owned()
}

impl Interp<'_> {
    /// The terminal for a foreground pipeline, in the REPL with job control.
    pub(super) fn lend_terminal(&self) -> Option<i32> {
        self.jc.as_ref().and_then(|jc| jc.lend())
    }

    /// Takes the terminal back after a foreground pipeline that held it failed to start.
    pub(super) fn reclaim_terminal(&self) {
        if let Some(jc) = &self.jc {
            jc.reclaim();
        }
    }

    /// Waits for a foreground pipeline in the REPL (see the module docs): the terminal comes
    /// back to ariash when it exits or stops; a stopped job joins the job table and ends the
    /// line, as does a job killed by `SIGINT`.
    pub(super) async fn wait_job_in_foreground(
        &mut self,
        p: &PipeExpr,
        mut child: PipelineChild,
        plan: &Plan,
        holds_terminal: bool,
    ) -> Eval<Outcome> {
        let pgid = child.pgid();
        let (result, timed_out) = self.with_limit(pgid, plan.limit, wait_foreground(&mut child)).await;
        // The job control to take the terminal back with, if this job held it.
        let holder = self.jc.clone().filter(|_| holds_terminal);
        let reclaim = || {
            if let Some(jc) = &holder {
                jc.reclaim();
            }
        };
        match result {
            Ok(Foreground::Stopped(sig)) => {
                let job = self.add_job(p, Some(child), 0, plan);
                job.0.set_stopped(Some(sig));
                stopped_in_foreground(holder.as_deref(), &job.0, sig);
                self.status = 128 + sig;
                Err(Flow::Signal(sig))
            }
            Ok(Foreground::Exited(status, output)) => {
                reclaim();
                self.groups.deregister(pgid);
                self.status = if timed_out { super::jobs::TIMED_OUT } else { status_code(&status) };
                if interrupted(&status) {
                    self.groups.interrupt(libc::SIGINT);
                }
                self.check_signal()?;
                Ok(Outcome { success: self.status == 0, output })
            }
            Err(e) => {
                reclaim();
                self.groups.deregister(pgid);
                Err(runtime_error(p.span, format!("waiting for the pipeline failed: {e}"), "here"))
            }
        }
    }
}

/// A foreground job stopped (Ctrl-Z): its terminal modes are kept for `fg`, the terminal
/// comes back to the shell (`jc`, when the job held it) with the shell's modes, and the stop
/// is announced.
fn stopped_in_foreground(jc: Option<&JobControl>, job: &JobCell, sig: i32) {
    *job.modes.borrow_mut() = Modes::save(std::io::stdin()).ok();
    if let Some(jc) = jc {
        jc.reclaim();
    }
    crate::diag::eprint_text(&format!("\n{}\n", job_line(job, JobEvent::Stopped(sig))));
}

/// The shortest time between two frames of `watch`.
const FRAME: std::time::Duration = std::time::Duration::from_millis(50);

/// A `watch` pane's title: `[1] Running  sleep 100`.
fn pane_title(job: &JobCell) -> String {
    format!("[{}] {}  {}", job.id, state_text(current_state(job)), shown(job))
}

/// The job's state as last recorded (`Continued` stands for running).
fn current_state(job: &JobCell) -> JobEvent {
    match (job.finished(), job.stopped()) {
        (Some(code), _) => JobEvent::Done(code),
        (None, Some(sig)) => JobEvent::Stopped(sig),
        (None, None) => JobEvent::Continued,
    }
}

/// Records `job`'s pending stops, continues and exit, without announcing them.
fn record_changes(job: &JobCell, groups: &crate::signals::Groups, cx: &mut Context<'_>) {
    while let Poll::Ready(Ok(JobEvent::Stopped(_) | JobEvent::Continued)) = job.poll_event(groups, cx) {}
}

/// Which job a `fg`, `bg` or `disown` argument names.
fn find<'j>(jobs: &'j [Rc<JobCell>], spec: Option<&str>) -> Result<&'j Rc<JobCell>, String> {
    let current = || {
        let stopped = jobs.iter().rev().find(|j| j.stopped().is_some());
        stopped.or_else(|| jobs.last()).ok_or_else(|| "no current job".to_string())
    };
    let Some(spec) = spec else { return current() };
    match spec.trim_start_matches('%') {
        "" | "+" => current(),
        "-" => {
            let cur = current()?;
            jobs.iter().rev().find(|j| !Rc::ptr_eq(j, cur)).ok_or_else(|| "no previous job".to_string())
        }
        rest => match rest.parse::<usize>() {
            Ok(n) => jobs.iter().find(|j| j.id == n).ok_or_else(|| format!("{spec}: no such job")),
            Err(_) => jobs
                .iter()
                .rev()
                .find(|j| j.text.starts_with(rest))
                .ok_or_else(|| format!("{spec}: no such job")),
        },
    }
}

impl Session {
    /// Notices for the background jobs that stopped or finished since the last call (a
    /// finished job leaves the table once announced); with `cx` the jobs wake the caller on
    /// their next change.
    pub(crate) fn poll_notices(&mut self, cx: &mut Context<'_>) -> Vec<String> {
        let mut notices = Vec::new();
        let groups = &self.groups;
        self.jobs.retain(|job| loop {
            match job.poll_event(groups, cx) {
                Poll::Pending => return true,
                Poll::Ready(Ok(JobEvent::Continued)) => {}
                Poll::Ready(Ok(event @ JobEvent::Stopped(_))) => notices.push(job_line(job, event)),
                Poll::Ready(Ok(event @ JobEvent::Done(_))) => {
                    notices.push(job_line(job, event));
                    return false;
                }
                Poll::Ready(Err(message)) => {
                    notices.push(format!("ariash: {message}"));
                    return false;
                }
            }
        });
        notices
    }

    /// `jobs`: one line per job with its state (`-l` adds the process group); finished
    /// jobs are shown once, then forgotten.
    pub(crate) fn jobs_listing(&mut self, long: bool) -> String {
        // Stops and exits not announced yet are shown here instead.
        self.record_all_changes();
        let mut out = String::new();
        for job in &self.jobs {
            let mut line = job_line(job, current_state(job));
            if long {
                if let Some(pgid) = job.pgid() {
                    line = format!("{line}  (process group {pgid})");
                }
            }
            out.push_str(&line);
            out.push('\n');
        }
        self.jobs.retain(|j| j.finished().is_none());
        out
    }

    /// Records every job's pending changes without announcing them (`jobs`, `fg` and `bg`
    /// act on the states).
    fn record_all_changes(&self) {
        let mut cx = Context::from_waker(std::task::Waker::noop());
        for job in &self.jobs {
            record_changes(job, &self.groups, &mut cx);
        }
    }

    /// How many jobs are stopped.
    pub(crate) fn stopped_jobs(&self) -> usize {
        self.jobs.iter().filter(|j| j.stopped().is_some()).count()
    }

    /// `fg [%n]`: continues the job in the foreground with its saved terminal modes and waits
    /// for it to exit or stop; returns the status (128 + signal when it stops again).
    ///
    /// # Errors
    /// No such job, no job control, or the terminal could not be handed over.
    pub(crate) async fn fg(&mut self, spec: Option<&str>) -> Result<i32, String> {
        let jc = self.jc.clone().ok_or("fg: no job control (stdin is not ariash's controlling terminal)")?;
        self.record_all_changes();
        let job = Rc::clone(find(&self.jobs, spec).map_err(|e| format!("fg: {e}"))?);
        let Some(pgid) = job.pgid() else {
            self.jobs.retain(|j| !Rc::ptr_eq(j, &job));
            return Err(format!("fg: job %{} has finished", job.id));
        };
        crate::diag::eprint_text(&format!("{}\n", shown(&job)));
        let modes = job.modes.borrow_mut().take();
        jc.give(pgid, modes.as_ref()).map_err(|e| {
            jc.reclaim();
            format!("fg: could not give the terminal to job %{}: {e}", job.id)
        })?;
        job.signal(libc::SIGCONT);
        job.set_stopped(None);
        let groups = std::sync::Arc::clone(&self.groups);
        loop {
            match poll_fn(|cx| job.poll_event(&groups, cx)).await {
                Ok(JobEvent::Continued) => {}
                Ok(JobEvent::Stopped(sig)) => {
                    stopped_in_foreground(Some(&jc), &job, sig);
                    return Ok(128 + sig);
                }
                Ok(JobEvent::Done(code)) => {
                    jc.reclaim();
                    self.jobs.retain(|j| !Rc::ptr_eq(j, &job));
                    return Ok(code);
                }
                Err(message) => {
                    jc.reclaim();
                    self.jobs.retain(|j| !Rc::ptr_eq(j, &job));
                    return Err(message);
                }
            }
        }
    }

    /// `watch` (`jobs -w`): the live view of the background jobs' telemetry (see
    /// [`crate::watch`]), redrawn at most every [`FRAME`] while lines arrive, until every
    /// job's stddbg has ended or Ctrl-C. Job states in the pane titles follow the jobs.
    ///
    /// # Errors
    /// No job has telemetry to show.
    pub(crate) async fn watch(&mut self) -> Result<i32, String> {
        let mut jobs: Vec<Rc<JobCell>> =
            self.jobs.iter().filter(|j| j.telemetry.borrow().is_some()).map(Rc::clone).collect();
        if jobs.is_empty() {
            return Err("watch: no background job to watch (the jobs started with `&` in this REPL)".into());
        }
        let (width, height) = rustix::termios::tcgetwinsize(std::io::stdin())
            .map_or((80, 24), |w| (usize::from(w.ws_col), usize::from(w.ws_row)));
        // The frame is redrawn in place, so it must fit on the screen: a title and a row per
        // pane, with a row left for this note and one for the prompt.
        let room = (height.saturating_sub(2) / 2).max(1);
        if jobs.len() > room {
            crate::diag::eprint_text(&format!(
                "watch: the first {room} of {} jobs (the terminal has room for {room})\n",
                jobs.len()
            ));
            jobs.truncate(room);
        }
        // Each pane is a title and its rows; the frame leaves rows for the note and the prompt.
        let rows = (height.saturating_sub(2) / jobs.len()).saturating_sub(1).clamp(1, 5);
        let panes = jobs
            .iter()
            .map(|j| Pane::new(pane_title(j), j.telemetry.borrow().clone().expect("filtered")))
            .collect();
        let mut view = Watch::new(panes, rows);
        self.groups.clear_interrupt();
        let groups = std::sync::Arc::clone(&self.groups);
        let mut frame = String::new();
        let mut first = true;
        loop {
            let mut cx = Context::from_waker(std::task::Waker::noop());
            let mut changed = false;
            for (pane, job) in view.panes_mut().iter_mut().zip(&jobs) {
                // Records the watched jobs' changes (a finished job is announced later).
                record_changes(job, &groups, &mut cx);
                let title = pane_title(job);
                if pane.title != title {
                    pane.title = title;
                    changed = true;
                }
            }
            changed |= view.collect();
            if changed || first {
                frame.clear();
                view.render(width, &mut frame);
                let mut stdout = std::io::stdout().lock();
                let _ = std::io::Write::write_all(&mut stdout, frame.as_bytes());
                let _ = std::io::Write::flush(&mut stdout);
                first = false;
            }
            if view.finished() {
                return Ok(0);
            }
            if aria_io::time::timeout(FRAME, groups.interrupted()).await.is_ok() {
                groups.clear_interrupt();
                // The terminal echoed ^C below the frame: end that line.
                crate::diag::eprint_text("\n");
                return Ok(0);
            }
        }
    }

    /// `bg [%n]`: continues a stopped job in the background.
    ///
    /// # Errors
    /// No such job, or the job is not stopped.
    pub(crate) fn bg(&mut self, spec: Option<&str>) -> Result<String, String> {
        self.record_all_changes();
        let job = find(&self.jobs, spec).map_err(|e| format!("bg: {e}"))?;
        if job.stopped().is_none() {
            return Err(format!("bg: job %{} is already running", job.id));
        }
        job.signal(libc::SIGCONT);
        job.set_stopped(None);
        Ok(format!("[{}]  {} &\n", job.id, shown(job)))
    }

    /// `disown [%n]`: forgets a job: it is not listed, announced, waited for or hung up any
    /// more (a stopped one is continued first, or it would never run again).
    ///
    /// # Errors
    /// No such job.
    pub(crate) fn disown(&mut self, spec: Option<&str>) -> Result<(), String> {
        let job = Rc::clone(find(&self.jobs, spec).map_err(|e| format!("disown: {e}"))?);
        if let Some(pgid) = job.pgid() {
            if job.stopped().is_some() {
                job.signal(libc::SIGCONT);
            }
            self.groups.deregister(pgid);
        }
        self.jobs.retain(|j| !Rc::ptr_eq(j, &job));
        Ok(())
    }
}
