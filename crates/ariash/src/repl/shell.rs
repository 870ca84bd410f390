//! The runtime thread's side of the REPL: lines, job-control commands, job notices and
//! signals, all on one `aria_io` runtime.
//!
//! # Waiting
//!
//! Between lines the runtime thread waits in one `poll` for whichever comes first: the next
//! line from the editor thread (an `aria_io` channel, which wakes the driver), a background
//! job stopping or exiting (its pidfds and the `SIGCHLD` stream, as
//! [`aria_io::process::PipelineChild::wait_change`] uses them), or `SIGHUP`/`SIGTERM`.
//! Nothing polls and no timer is armed, so a REPL watching hundreds of background jobs makes
//! no system call until one of them changes.
//!
//! # Notices
//!
//! A background job that stops or finishes is announced as `[1]  Done  sleep 1` (the
//! format of `jobs`): above the prompt, through the editor's [`NoticePrinter`], when it
//! happens while the prompt is idle; on stderr before the next prompt when it happens while
//! a line runs. A finished job leaves the job table once announced.
//!
//! # Commands
//!
//! A line that is exactly one of these (a trailing `;` allowed) is a job-control command,
//! not ariash; any other form of the same words (`fg(x)`) is compiled as ariash:
//!
//! - `jobs` (`jobs -l` adds each job's process group): every job with its state,
//!   `Running`, `Stopped (SIGTSTP)`, `Done` or `Done (status N)`;
//! - `watch` or `jobs -w`: the live view of the background jobs' telemetry, a pane per job
//!   with the latest lines it wrote to its stddbg (fd 3), until they all end or Ctrl-C (see
//!   [`crate::watch`]); `watch` with arguments is the program of that name;
//! - `fg [%n]`: the job's saved terminal modes back, the terminal to its group, `SIGCONT`,
//!   then wait for it as for a foreground pipeline (the status is the job's);
//! - `bg [%n]`: `SIGCONT` to a stopped job, which goes on in the background;
//! - `disown [%n]`: forget the job: no notice, no `wait`, no hang-up when the REPL ends.
//!
//! A job is named `%n` (or `n`) by its number, `%+` or `%%` or nothing for the current job
//! (the latest stopped one, else the latest started), `%-` for the one before it, and
//! `%text` for the latest job whose pipeline starts with `text`.
//!
//! # Signals and leaving
//!
//! - `SIGINT` (Ctrl-C while ariash itself runs a line: a loop, `sleep(10s)`, `wait;`)
//!   interrupts the line, which ends with status 130; background jobs are not touched.
//! - `SIGHUP` (the terminal closed) and `SIGTERM` end the REPL at once; `SIGQUIT` is
//!   ignored, as interactive shells do.
//! - Leaving (`exit(n)`, Ctrl-D, a hang-up) sends every job not disowned `SIGHUP` then
//!   `SIGCONT`. With stopped jobs, `exit` and Ctrl-D warn once instead of leaving; the next
//!   attempt leaves.

use std::future::{poll_fn, Future};
use std::io;
use std::pin::pin;
use std::sync::mpsc;
use std::sync::Arc;
use std::task::{Context, Poll};

use aria_io::signal::{signal, Signal, SignalKind};
use aria_io::sync::mpsc::UnboundedReceiver;

use super::{NoticePrinter, Reply, Request};
use crate::check::CheckSession;
use crate::interp::{LineEnd, Session};
use crate::signals::Groups;

/// A job-control command line (see the module docs).
#[derive(Debug, Clone, PartialEq, Eq)]
enum JobCommand {
    Jobs { long: bool },
    Watch,
    Fg(Option<String>),
    Bg(Option<String>),
    Disown(Option<String>),
}

/// The job-control command `line` is, if it is one.
fn job_command(line: &str) -> Option<JobCommand> {
    let line = line.trim();
    let line = line.strip_suffix(';').unwrap_or(line);
    let mut words = line.split_whitespace();
    let name = words.next()?;
    let arg = words.next();
    if words.next().is_some() {
        return None;
    }
    let spec = |arg: Option<&str>| match arg {
        None => Some(None),
        Some(a) if a.starts_with('%') || a.bytes().all(|b| b.is_ascii_digit()) => Some(Some(a.to_string())),
        Some(_) => None,
    };
    Some(match (name, arg) {
        ("jobs", None) => JobCommand::Jobs { long: false },
        ("jobs", Some("-l")) => JobCommand::Jobs { long: true },
        ("jobs", Some("-w")) | ("watch", None) => JobCommand::Watch,
        ("fg", a) => JobCommand::Fg(spec(a)?),
        ("bg", a) => JobCommand::Bg(spec(a)?),
        ("disown", a) => JobCommand::Disown(spec(a)?),
        _ => return None,
    })
}

/// Whether `line` is a job-control command (for the editor's highlighting).
pub(super) fn is_job_command(line: &str) -> bool {
    job_command(line).is_some()
}

/// Runs a job-control command and returns its status.
async fn run_job_command(command: JobCommand, session: &mut Session) -> i32 {
    let result = match command {
        JobCommand::Jobs { long } => {
            print!("{}", session.jobs_listing(long));
            Ok(0)
        }
        JobCommand::Watch => session.watch().await,
        JobCommand::Fg(spec) => session.fg(spec.as_deref()).await,
        JobCommand::Bg(spec) => session.bg(spec.as_deref()).map(|line| {
            eprint!("{line}");
            0
        }),
        JobCommand::Disown(spec) => session.disown(spec.as_deref()).map(|()| 0),
    };
    match result {
        Ok(status) => status,
        Err(message) => {
            crate::diag::eprint_text(&format!("ariash: {message}\n"));
            1
        }
    }
}

/// The signals the REPL listens to (see the module docs).
struct Signals {
    hangup: Signal,
    terminate: Signal,
    /// Listened to, never read: a handler instead of the default action (a core dump).
    _quit: Signal,
}

impl Signals {
    /// Starts listening; `SIGINT` interrupts the running line through `groups`.
    fn listen(groups: &Arc<Groups>) -> io::Result<Signals> {
        let mut interrupt = signal(SignalKind::interrupt())?;
        let groups = Arc::clone(groups);
        drop(aria_io::spawn(async move {
            while interrupt.recv().await.is_some() {
                groups.interrupt(libc::SIGINT);
            }
        }));
        Ok(Signals {
            hangup: signal(SignalKind::hangup())?,
            terminate: signal(SignalKind::terminate())?,
            _quit: signal(SignalKind::quit())?,
        })
    }

    /// Ready with the signal number once a signal that ends the REPL arrived.
    fn poll_leave(&mut self, cx: &mut Context<'_>) -> Poll<i32> {
        if self.hangup.poll_recv(cx).is_ready() {
            return Poll::Ready(libc::SIGHUP);
        }
        if self.terminate.poll_recv(cx).is_ready() {
            return Poll::Ready(libc::SIGTERM);
        }
        Poll::Pending
    }
}

/// What woke the idle REPL.
enum Event {
    Request(Option<Request>),
    Notices(Vec<String>),
    Leave(i32),
}

/// Whether the user may leave now: not the first time while jobs are stopped.
fn may_leave(session: &Session, warned: &mut bool) -> bool {
    if session.stopped_jobs() == 0 || *warned {
        return true;
    }
    *warned = true;
    crate::diag::eprint_text(
        "ariash: there are stopped jobs (`jobs` lists them); leave again to hang them up\n",
    );
    false
}

/// Runs one line: a job-control command, or ariash.
async fn run_request(line: &str, checked: &mut CheckSession, session: &mut Session) -> LineEnd {
    if let Some(command) = job_command(line) {
        let status = run_job_command(command, session).await;
        session.set_status(status);
        return LineEnd::Status(status);
    }
    match super::compile_line(checked, line, session) {
        Err((source, diags)) => {
            crate::diag::eprint_text(&crate::diag::render(&diags, &source));
            LineEnd::Status(2)
        }
        Ok((source, stmts)) => session.run_line(&source, &stmts).await,
    }
}

/// Serves the editor's requests until the REPL ends; returns the exit status and whether
/// the editor thread has been told to end (see the module docs).
pub(super) async fn serve(
    mut requests: UnboundedReceiver<Request>,
    replies: &mpsc::Sender<Reply>,
    mut notices: NoticePrinter,
    session: &mut Session,
    groups: Arc<Groups>,
) -> io::Result<(i32, bool)> {
    let mut signals = Signals::listen(&groups)?;
    let mut checked = CheckSession::default();
    let mut warned = false;
    let mut status = 0;
    loop {
        let event = poll_fn(|cx| {
            if let Poll::Ready(signo) = signals.poll_leave(cx) {
                return Poll::Ready(Event::Leave(signo));
            }
            if let Poll::Ready(request) = requests.poll_recv(cx) {
                return Poll::Ready(Event::Request(request));
            }
            let lines = session.poll_notices(cx);
            if lines.is_empty() {
                Poll::Pending
            } else {
                Poll::Ready(Event::Notices(lines))
            }
        })
        .await;
        let line = match event {
            Event::Notices(lines) => {
                let _ = notices.print(lines.join("\n") + "\n");
                continue;
            }
            Event::Leave(signo) => return Ok((128 + signo, false)),
            Event::Request(None | Some(Request::Hangup)) => return Ok((128 + libc::SIGHUP, false)),
            Event::Request(Some(Request::End)) => {
                let quit = may_leave(session, &mut warned);
                let _ = replies.send(reply(session, status, quit));
                if quit {
                    return Ok((0, true));
                }
                continue;
            }
            Event::Request(Some(Request::Line(line))) => line,
        };
        let end = {
            let mut running = pin!(run_request(&line, &mut checked, session));
            poll_fn(|cx| {
                if let Poll::Ready(signo) = signals.poll_leave(cx) {
                    return Poll::Ready(Err(signo));
                }
                running.as_mut().poll(cx).map(Ok)
            })
            .await
        };
        let quit = match end {
            Err(signo) => return Ok((128 + signo, false)),
            Ok(LineEnd::Status(n)) => {
                status = n;
                warned = false;
                None
            }
            Ok(LineEnd::Exit(n)) => may_leave(session, &mut warned).then_some(n),
        };
        let mut cx = Context::from_waker(std::task::Waker::noop());
        for notice in session.poll_notices(&mut cx) {
            crate::diag::eprint_text(&format!("{notice}\n"));
        }
        let _ = replies.send(reply(session, status, quit.is_some()));
        if let Some(code) = quit {
            return Ok((code, true));
        }
    }
}

fn reply(session: &Session, status: i32, quit: bool) -> Reply {
    Reply { status, jobs: session.jobs(), names: session.names(), quit }
}

#[cfg(test)]
mod tests {
    use super::{job_command, JobCommand};

    #[test]
    fn job_commands_are_recognised_only_in_their_exact_forms() {
        assert_eq!(job_command("jobs"), Some(JobCommand::Jobs { long: false }));
        assert_eq!(job_command(" jobs -l ;"), Some(JobCommand::Jobs { long: true }));
        assert_eq!(job_command("fg"), Some(JobCommand::Fg(None)));
        assert_eq!(job_command("fg %2"), Some(JobCommand::Fg(Some("%2".into()))));
        assert_eq!(job_command("bg 1;"), Some(JobCommand::Bg(Some("1".into()))));
        assert_eq!(job_command("disown %sleep"), Some(JobCommand::Disown(Some("%sleep".into()))));
        assert_eq!(job_command("watch"), Some(JobCommand::Watch));
        assert_eq!(job_command("jobs -w"), Some(JobCommand::Watch));
        for not in [
            "fg(j);",
            "jobs();",
            "fg x",
            "fg %1 %2",
            "jobs -w -l",
            "bg = 1;",
            "job",
            "watch -n 1 ls",
            "watch %1",
        ] {
            assert_eq!(job_command(not), None, "{not}");
        }
    }
}
