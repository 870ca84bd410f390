//! Background jobs: `pipeline &` and the job values it yields, `wait`, `wait_any`, `jobs`,
//! `kill`, bare `wait;`, and `parallel`.
//!
//! A job is one pipeline in its own process group. Its state lives in a [`JobCell`] shared
//! by every value that names it, and is only borrowed inside a `poll`, never across an
//! `await`, so several waiters (a `wait(j)` inside a `parallel` call and the script's own
//! `wait;`) never trip over each other. Exits come from the pipeline's pidfds through
//! [`PipelineChild::poll_wait`]; no thread waits.
//!
//! A job started under `timeout(d, ...)` carries its deadline; whoever waits for it (a
//! `wait`, `wait_any`, bare `wait;`, or ariash at the end of the script) sends its group
//! `SIGTERM` once the deadline has passed, `SIGKILL` after the grace period, and the job's
//! status is then 124.

use std::cell::{Cell, RefCell};
use std::future::{poll_fn, Future};
use std::rc::Rc;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Instant;

use aria_io::process::{JobChange, PipelineChild};

use super::pipeline::{status_code, Plan};
use super::{runtime_error, BoxFut, Eval, Flow, Interp};
use crate::ast::{FuncDef, PipeExpr, Span};
use crate::signals::Groups;
use crate::value::{JobRef, Value};
use aria_io::os::unix::PipelineChildExt;

/// The status a pipeline stopped by `timeout` gets, as coreutils `timeout` gives.
pub(crate) const TIMED_OUT: i32 = 124;

/// One background job.
#[derive(Debug)]
pub(crate) struct JobCell {
    /// `%N`: numbered from 1 in start order.
    pub(crate) id: usize,
    /// The pipeline as written in the script.
    pub(crate) text: String,
    /// Where it was started.
    pub(crate) span: Span,
    state: RefCell<JobState>,
    /// When `timeout` next acts on it: the deadline, then the end of the grace period.
    deadline: Cell<Option<Instant>>,
    /// How far `timeout` has gone: 0 nothing sent, 1 `SIGTERM` sent, 2 `SIGKILL` sent.
    stage: Cell<u8>,
    /// The job's terminal modes, saved when it stopped, restored by `fg` (REPL only).
    pub(super) modes: RefCell<Option<aria_io::process::terminal::Modes>>,
    /// The job's stddbg lines, for `watch` (REPL only).
    pub(super) telemetry: RefCell<Option<aria_io::io::LineDrainer>>,
}

#[derive(Debug)]
enum JobState {
    /// Started, in its own process group; `stopped` is the signal that stopped it, if it
    /// is stopped (known from [`JobCell::poll_event`], in the REPL).
    Running { child: PipelineChild, pgid: i32, stopped: Option<i32> },
    /// Finished (or never started: the failure was reported then) with this status.
    Done(i32),
}

/// A change of a job's state, as the REPL reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum JobEvent {
    /// Stopped by this signal.
    Stopped(i32),
    /// Continued after a stop.
    Continued,
    /// Finished with this status.
    Done(i32),
}

impl JobCell {
    /// A job that has already finished with `code` (a job variable's zero value, a job that
    /// could not be started).
    pub(crate) fn done(code: i32) -> JobCell {
        JobCell {
            id: 0,
            text: String::new(),
            span: Span::default(),
            state: RefCell::new(JobState::Done(code)),
            deadline: Cell::new(None),
            stage: Cell::new(0),
            modes: RefCell::new(None),
            telemetry: RefCell::new(None),
        }
    }

    /// The process group, while the job has not been reaped.
    pub(crate) fn pgid(&self) -> Option<i32> {
        match *self.state.borrow() {
            JobState::Running { pgid, .. } => Some(pgid),
            JobState::Done(_) => None,
        }
    }

    /// The signal that stopped the job, if it is stopped.
    pub(crate) fn stopped(&self) -> Option<i32> {
        match *self.state.borrow() {
            JobState::Running { stopped, .. } => stopped,
            JobState::Done(_) => None,
        }
    }

    /// Polls the job's next change of state (a stop, a continue, its exit), recording it;
    /// a job that has finished reports `Done` every time.
    pub(crate) fn poll_event(&self, groups: &Groups, cx: &mut Context<'_>) -> Poll<Result<JobEvent, String>> {
        let mut state = self.state.borrow_mut();
        let JobState::Running { child, stopped, .. } = &mut *state else {
            let JobState::Done(code) = *state else { unreachable!() };
            return Poll::Ready(Ok(JobEvent::Done(code)));
        };
        match child.poll_wait_change(cx) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(Ok(JobChange::Stopped(sig))) => {
                *stopped = Some(sig);
                Poll::Ready(Ok(JobEvent::Stopped(sig)))
            }
            Poll::Ready(Ok(JobChange::Continued)) => {
                *stopped = None;
                Poll::Ready(Ok(JobEvent::Continued))
            }
            Poll::Ready(Ok(JobChange::Exited(_)) | Err(_)) => {
                drop(state);
                // The exit is recorded (and the group forgotten) the one way scripts do it.
                self.poll_exit(groups, cx).map(|r| r.map(JobEvent::Done))
            }
        }
    }

    /// Records that the job was stopped by `sig` (seen by the foreground wait), or is running
    /// again (`None`: the shell sent it `SIGCONT` for `fg` or `bg`).
    pub(crate) fn set_stopped(&self, sig: Option<i32>) {
        if let JobState::Running { stopped, .. } = &mut *self.state.borrow_mut() {
            *stopped = sig;
        }
    }

    /// The status, if the job has finished.
    pub(crate) fn finished(&self) -> Option<i32> {
        match *self.state.borrow() {
            JobState::Done(code) => Some(code),
            JobState::Running { .. } => None,
        }
    }

    /// Polls the job's exit; on the way it records the status and forgets the group.
    fn poll_exit(&self, groups: &Groups, cx: &mut Context<'_>) -> Poll<Result<i32, String>> {
        let mut state = self.state.borrow_mut();
        let JobState::Running { child, pgid, .. } = &mut *state else {
            let JobState::Done(code) = *state else { unreachable!() };
            return Poll::Ready(Ok(code));
        };
        let pgid = *pgid;
        let code = match child.poll_wait(cx) {
            Poll::Pending => return Poll::Pending,
            Poll::Ready(Ok(_)) if self.stage.get() > 0 => TIMED_OUT,
            Poll::Ready(Ok(status)) => status_code(&status),
            Poll::Ready(Err(e)) => {
                *state = JobState::Done(1);
                groups.deregister(pgid);
                return Poll::Ready(Err(format!("waiting for job %{} failed: {e}", self.id)));
            }
        };
        *state = JobState::Done(code);
        groups.deregister(pgid);
        Poll::Ready(Ok(code))
    }

    /// Sends `signo` to the job's process group; false if it has finished.
    pub(crate) fn signal(&self, signo: i32) -> bool {
        match &*self.state.borrow() {
            // The group is ours until the job is reaped, which has not happened yet.
            JobState::Running { child, .. } => {
                let _ = child.signal_group(signo);
                true
            }
            JobState::Done(_) => false,
        }
    }

    /// The deadline passed: the next step of `timeout`.
    fn expire(&self, grace: std::time::Duration) {
        match self.stage.get() {
            0 => {
                self.stage.set(1);
                self.signal(libc::SIGTERM);
                self.deadline.set(Some(Instant::now() + grace));
            }
            _ => {
                self.stage.set(2);
                self.signal(libc::SIGKILL);
                self.deadline.set(None);
            }
        }
    }
}

/// A signal's number from its name: `TERM`, `SIGTERM`, `term` or `15`.
fn signal_number(name: &str) -> Option<i32> {
    if let Ok(n) = name.parse::<i32>() {
        return (1..=64).contains(&n).then_some(n);
    }
    let upper = name.to_ascii_uppercase();
    let bare = upper.strip_prefix("SIG").unwrap_or(&upper);
    Some(match bare {
        "HUP" => libc::SIGHUP,
        "INT" => libc::SIGINT,
        "QUIT" => libc::SIGQUIT,
        "KILL" => libc::SIGKILL,
        "USR1" => libc::SIGUSR1,
        "USR2" => libc::SIGUSR2,
        "PIPE" => libc::SIGPIPE,
        "ALRM" => libc::SIGALRM,
        "TERM" => libc::SIGTERM,
        "CONT" => libc::SIGCONT,
        "STOP" => libc::SIGSTOP,
        "TSTP" => libc::SIGTSTP,
        "WINCH" => libc::SIGWINCH,
        _ => return None,
    })
}

impl Interp<'_> {
    /// Registers a started (or failed) pipeline as a job and returns it.
    pub(super) fn add_job(
        &mut self,
        p: &PipeExpr,
        child: Option<PipelineChild>,
        code: i32,
        plan: &Plan,
    ) -> JobRef {
        let id = self.next_job.get();
        self.next_job.set(id + 1);
        let state = match child {
            Some(child) => {
                let pgid = child.pgid();
                self.groups.register(pgid);
                JobState::Running { child, pgid, stopped: None }
            }
            None => JobState::Done(code),
        };
        let text = self.source.text.get(p.span.start..p.span.end).unwrap_or("").to_string();
        let cell = Rc::new(JobCell {
            id,
            text,
            span: p.span,
            state: RefCell::new(state),
            deadline: Cell::new(plan.limit.map(|d| Instant::now() + d)),
            stage: Cell::new(0),
            modes: RefCell::new(None),
            telemetry: RefCell::new(None),
        });
        self.jobs.push(Rc::clone(&cell));
        JobRef(cell)
    }

    /// Waits until one of `jobs` has finished (acting on their `timeout` deadlines meanwhile)
    /// and returns its index and status. An interrupted REPL line (Ctrl-C) stops waiting.
    async fn wait_first(&self, jobs: &[Rc<JobCell>], span: Span) -> Eval<(usize, i32)> {
        let waiting = self.wait_first_job(jobs, span);
        let interrupted = self.groups.interrupted();
        let mut waiting = std::pin::pin!(waiting);
        let mut interrupted = std::pin::pin!(interrupted);
        poll_fn(|cx| {
            if let Poll::Ready(r) = waiting.as_mut().poll(cx) {
                return Poll::Ready(r);
            }
            match interrupted.as_mut().poll(cx) {
                Poll::Ready(()) => {
                    Poll::Ready(Err(self.check_signal().err().unwrap_or(Flow::Signal(libc::SIGINT))))
                }
                Poll::Pending => Poll::Pending,
            }
        })
        .await
    }

    /// [`wait_first`](Self::wait_first), without the interrupt (which also ends reaping).
    async fn wait_first_job(&self, jobs: &[Rc<JobCell>], span: Span) -> Eval<(usize, i32)> {
        loop {
            let next = jobs.iter().filter(|j| j.finished().is_none()).filter_map(|j| j.deadline.get()).min();
            let first = poll_fn(|cx| {
                for (i, j) in jobs.iter().enumerate() {
                    if let Poll::Ready(r) = j.poll_exit(&self.groups, cx) {
                        return Poll::Ready((i, r));
                    }
                }
                Poll::Pending
            });
            let ready = match next {
                None => Some(first.await),
                Some(at) => {
                    aria_io::time::timeout(at.saturating_duration_since(Instant::now()), first).await.ok()
                }
            };
            match ready {
                Some((i, Ok(code))) => return Ok((i, code)),
                Some((_, Err(message))) => return Err(runtime_error(span, message, "waiting here")),
                None => {
                    let now = Instant::now();
                    for j in jobs.iter().filter(|j| j.deadline.get().is_some_and(|d| d <= now)) {
                        j.expire(self.grace);
                    }
                }
            }
            self.check_signal()?;
        }
    }

    /// Forgets finished jobs that were waited for, so bare `wait;` does not count them twice.
    fn forget(&mut self, job: &Rc<JobCell>) {
        self.jobs.retain(|j| !Rc::ptr_eq(j, job));
    }

    /// `wait(j)`: the job's status (0 at once for a job variable that holds no job).
    pub(super) async fn wait_job(&mut self, job: &JobRef, span: Span) -> Eval<Value> {
        let (_, code) = self.wait_first(std::slice::from_ref(&job.0), span).await?;
        self.forget(&job.0);
        Ok(Value::Int(i64::from(code)))
    }

    /// `wait_any(js)`: the first of the jobs to finish (one already finished counts).
    pub(super) async fn wait_any(&mut self, jobs: &[Value], span: Span) -> Eval<Value> {
        let cells: Vec<Rc<JobCell>> = jobs
            .iter()
            .filter_map(|v| match v {
                Value::Job(j) => Some(Rc::clone(&j.0)),
                _ => None,
            })
            .collect();
        if cells.is_empty() {
            return Err(runtime_error(span, "wait_any: the list of jobs is empty", "nothing to wait for")
                .with_help("check len(js) > 0 first"));
        }
        let (i, _) = self.wait_first(&cells, span).await?;
        self.forget(&cells[i]);
        Ok(Value::Job(JobRef(Rc::clone(&cells[i]))))
    }

    /// `jobs()`: the jobs still running, in start order.
    pub(super) fn running_jobs(&mut self) -> Value {
        let mut cx = Context::from_waker(std::task::Waker::noop());
        let groups = Arc::clone(&self.groups);
        let running = self.jobs.iter().filter(|j| j.poll_exit(&groups, &mut cx).is_pending());
        Value::list(running.map(|j| Value::Job(JobRef(Rc::clone(j)))).collect())
    }

    /// `kill(j)` / `kill(j, "TERM")`: signals the job's process group (nothing if it has
    /// finished).
    pub(super) fn kill_job(&mut self, job: &JobRef, signal: Option<&str>, span: Span) -> Eval<Value> {
        let signo = match signal {
            None => libc::SIGTERM,
            Some(name) => signal_number(name).ok_or_else(|| {
                runtime_error(span, format!("unknown signal `{name}`"), "not a signal")
                    .with_help("use a name such as TERM, KILL, INT, HUP, USR1, STOP or CONT")
            })?,
        };
        if !self.sandboxed() {
            job.0.signal(signo);
        }
        Ok(Value::Str(Rc::default()))
    }

    /// `wait;`: waits for every background job not waited for yet. The status becomes 0 if
    /// all succeeded, else that of the last-started job that failed; each failure is
    /// reported on stderr (naming the job) when more than one job failed. With `?` a failure
    /// stops the script.
    pub(crate) async fn wait_jobs(&mut self, check: bool, span: Span) -> Eval<()> {
        let jobs = std::mem::take(&mut self.jobs);
        let mut failed: Vec<(i32, Rc<JobCell>)> = Vec::new();
        let mut pending = jobs.clone();
        while !pending.is_empty() {
            let (i, code) = self.wait_first(&pending, span).await?;
            let job = pending.remove(i);
            if code != 0 {
                failed.push((code, job));
            }
        }
        self.check_signal()?;
        failed.sort_by_key(|(_, j)| j.id);
        if failed.len() > 1 && !self.sandboxed() {
            for (code, job) in &failed {
                crate::diag::eprint_text(&format!(
                    "ariash: {}: job %{} failed with status {code}: {}\n",
                    self.source.location(job.span.start),
                    job.id,
                    crate::diag::escape_controls(&job.text)
                ));
            }
        }
        let last = failed.last();
        self.status = last.map_or(0, |(code, _)| *code);
        match last {
            Some((code, job)) if check => Err(self.stopped(*code, job.span)),
            _ => Ok(()),
        }
    }

    /// Stops every remaining background job: `SIGTERM` to its group, `SIGKILL` if it is still
    /// running after the grace period, then reaps it.
    pub(crate) async fn terminate_jobs(&mut self) {
        let jobs = std::mem::take(&mut self.jobs);
        for job in &jobs {
            if job.finished().is_none() {
                job.stage.set(0);
                job.deadline.set(Some(Instant::now()));
            }
        }
        self.reap(jobs).await;
    }

    /// Waits for every remaining background job (honouring their deadlines), ignoring their
    /// statuses.
    pub(crate) async fn reap_jobs(&mut self) {
        let jobs = std::mem::take(&mut self.jobs);
        self.reap(jobs).await;
    }

    async fn reap(&mut self, mut pending: Vec<Rc<JobCell>>) {
        let span = Span::default();
        while !pending.is_empty() {
            match self.wait_first_job(&pending, span).await {
                Ok((i, _)) => {
                    pending.remove(i);
                }
                // A signal arrived: the watcher kills every group; wait without deadlines.
                Err(_) => {
                    for j in &pending {
                        j.deadline.set(None);
                    }
                    self.grace = std::time::Duration::ZERO;
                }
            }
        }
    }

    /// `parallel(list, n, func)`: calls `func` on every element, at most `n` calls running at
    /// once (each in its own copy of the interpreter, sharing the script's functions and
    /// environment), and returns the results in the list's order. The first error stops new
    /// calls from starting; the running ones finish, then the error is raised.
    pub(super) fn parallel<'s>(
        &'s mut self,
        items: Rc<Vec<Value>>,
        limit: i64,
        func: Arc<FuncDef>,
        span: Span,
    ) -> BoxFut<'s, Eval<Value>> {
        Box::pin(async move {
            if limit < 1 {
                return Err(runtime_error(
                    span,
                    format!("parallel: the limit must be at least 1, not {limit}"),
                    "here",
                ));
            }
            let limit = usize::try_from(limit).unwrap_or(usize::MAX);
            let mut results: Vec<Option<Value>> = vec![None; items.len()];
            let mut running: Vec<(usize, BoxFut<'_, Eval<Value>>)> = Vec::new();
            let mut next = 0;
            let mut error: Option<Flow> = None;
            loop {
                while error.is_none() && running.len() < limit && next < items.len() {
                    // In the sandbox each call costs fuel before its copy of the interpreter
                    // is made: a recursive `parallel` over a long list would otherwise make
                    // copies without end.
                    if let Err(e) = self.spend_fuel(span) {
                        error = Some(e);
                        break;
                    }
                    let mut sub = self.fork();
                    let (f, item) = (Arc::clone(&func), items[next].clone());
                    running.push((
                        next,
                        Box::pin(async move {
                            let r = sub.call_func(&f, vec![item], span).await;
                            if r.is_ok() {
                                sub.reap_jobs().await;
                            } else {
                                sub.terminate_jobs().await;
                            }
                            r
                        }),
                    ));
                    next += 1;
                }
                if running.is_empty() {
                    break;
                }
                let (slot, result) = poll_fn(|cx| {
                    for (k, (_, fut)) in running.iter_mut().enumerate() {
                        if let Poll::Ready(r) = fut.as_mut().poll(cx) {
                            return Poll::Ready((k, r));
                        }
                    }
                    Poll::Pending
                })
                .await;
                let (index, _) = running.swap_remove(slot);
                match result {
                    Ok(v) => results[index] = Some(v),
                    Err(e) => {
                        error.get_or_insert(e);
                    }
                }
            }
            if let Some(e) = error {
                return Err(e);
            }
            self.check_signal()?;
            if func.ret.ty == crate::ast::Ty::Void {
                return Ok(Value::Str(Rc::default()));
            }
            Ok(Value::list(results.into_iter().map(Option::unwrap_or_default).collect()))
        })
    }
}
