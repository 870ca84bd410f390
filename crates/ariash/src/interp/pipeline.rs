//! Running pipelines: the walk from a [`PipeExpr`] tree to an `aria_io` pipeline, and the
//! foreground, background and `wait` paths.
//!
//! The walk threads the pipeline built so far through the tree: a stage starts the pipeline
//! or is attached to it with the pipe kind of its parent, and a redirection applies to the
//! stage just added (redirections apply left to right, as in a shell).

use std::future::Future;
use std::io;
use std::path::PathBuf;
use std::pin::pin;
use std::rc::Rc;
use std::time::Duration;

use aria_io::process::{Command, Pipeline, PipelineStatus, Redirect};

use super::jobs::TIMED_OUT;
use super::sandbox::{render, render_into};
use super::{runtime_error, BoxFut, Eval, Flow, Interp};
use crate::ast::{PipeExpr, PipeKind, PipeOp, RedirectKind, Span, Stage, WordPart};
use crate::diag::{eprint_text, escape_controls};
use crate::value::{JobRef, Value};
use aria_io::os::unix::{PipelineChildExt, PipelineExt};

/// The result of running a pipeline in the foreground.
#[derive(Debug, Default)]
pub(crate) struct Outcome {
    /// Whether it succeeded (pipefail, SIGPIPE'd writers excused).
    pub(crate) success: bool,
    /// Captured stdout (empty unless capturing).
    pub(crate) output: Vec<u8>,
}

/// The shell-style status of a finished pipeline: 0 exactly when it succeeded.
pub(super) fn status_code(status: &PipelineStatus) -> i32 {
    if status.success() {
        0
    } else {
        match status.code() {
            0 => 1,
            code => code,
        }
    }
}

/// Status for a pipeline that could not be started: 127 when a program was not found, 126
/// when it could not be executed, and 1 when a redirection failed (as in a shell): only
/// errors of the program itself carry an `aria_io` `SpawnError`.
fn spawn_failure_code(err: &io::Error) -> i32 {
    if aria_io::process::SpawnError::from_io(err).is_none() {
        1
    } else if err.kind() == io::ErrorKind::NotFound {
        127
    } else {
        126
    }
}

/// What building a pipeline learnt on the way.
#[derive(Debug, Default)]
pub(super) struct Plan {
    /// The programs of the stages, with the spans of their `run(...)` calls or command
    /// literals, so a spawn error can point at the stage it names.
    pub(super) stages: Vec<(String, Span)>,
    /// The shortest `timeout(...)` limit around any part of the pipeline: it applies to the
    /// whole pipeline (one process group).
    pub(super) limit: Option<Duration>,
}

impl Interp<'_> {
    fn command(&self, program: String, args: Vec<String>) -> Command {
        let mut cmd = Command::new(program);
        cmd.args(args);
        for (k, v) in &self.env {
            match v {
                Some(v) => cmd.env(k, v),
                None => cmd.env_remove(k),
            };
        }
        cmd
    }

    /// A stage's program and arguments: `run(program, args)`'s values, or a command
    /// literal's words (`{x}` one argument, `{...xs}` one per element).
    async fn argv(&mut self, stage: &Stage) -> Eval<Vec<String>> {
        let Some(words) = &stage.words else {
            let mut argv = match self.eval(&stage.args[0]).await? {
                Value::Str(s) => vec![Rc::unwrap_or_clone(s)],
                _ => return Err(runtime_error(stage.span, "bad program", "run")),
            };
            if let Some(a) = stage.args.get(1) {
                match self.eval(a).await? {
                    Value::List(items) => self.render_args(&mut argv, &items, a.span)?,
                    _ => return Err(runtime_error(a.span, "bad arguments", "run")),
                }
            }
            return Ok(argv);
        };
        let mut argv = Vec::with_capacity(words.len());
        for word in words {
            if let [WordPart::Splice(e)] = word.parts.as_slice() {
                match self.eval(e).await? {
                    Value::List(items) => self.render_args(&mut argv, &items, word.span)?,
                    other => argv.push(render(&other, self.len_limit(), word.span)?),
                }
                continue;
            }
            let mut arg = String::new();
            for part in &word.parts {
                match part {
                    WordPart::Lit(s) => arg.push_str(s),
                    WordPart::Expr(e) | WordPart::Splice(e) => {
                        let v = self.eval(e).await?;
                        render_into(&mut arg, &v, self.len_limit(), word.span)?;
                    }
                }
            }
            argv.push(arg);
        }
        if argv.is_empty() {
            return Err(runtime_error(stage.span, "the command is empty", "no program to run")
                .with_help("the list spliced in with {...} was empty; check len(...) first"));
        }
        Ok(argv)
    }

    /// Appends the elements of a list to `argv`, one argument each. In the sandbox the
    /// arguments together may not be longer than [`MAX_LEN`](super::sandbox::MAX_LEN) bytes.
    fn render_args(&self, argv: &mut Vec<String>, items: &[Value], span: Span) -> Eval<()> {
        let Some(limit) = self.len_limit() else {
            argv.extend(items.iter().map(ToString::to_string));
            return Ok(());
        };
        let mut total: usize = argv.iter().map(String::len).sum();
        for item in items {
            let arg = render(item, Some(limit - total.min(limit)), span)?;
            total += arg.len();
            argv.push(arg);
        }
        Ok(())
    }

    /// Builds the pipeline for `p`, attaching it to `acc` (with its pipe kind) if given.
    pub(super) fn build<'s>(
        &'s mut self,
        p: &'s PipeExpr,
        acc: Option<(Pipeline, PipeOp)>,
        background: bool,
        plan: &'s mut Plan,
    ) -> BoxFut<'s, Eval<Pipeline>> {
        Box::pin(async move {
            match &p.kind {
                PipeKind::Stage(stage) => {
                    let mut argv = self.argv(stage).await?.into_iter();
                    let program = argv.next().unwrap_or_default();
                    plan.stages.push((program.clone(), stage.span));
                    let mut cmd = self.command(program, argv.collect());
                    let interactive = self.jc.is_some();
                    if background && interactive {
                        // The REPL watches background jobs' telemetry (see `crate::watch`).
                        cmd.stddbg(aria_io::process::Stdio::piped());
                    }
                    Ok(match acc {
                        None if background && !interactive => Pipeline::new(cmd)
                            .redirect(Redirect::Read { fd: 0, path: PathBuf::from("/dev/null") }),
                        None => Pipeline::new(cmd),
                        Some((pl, PipeOp::Text)) => pl.pipe(cmd),
                        Some((pl, PipeOp::Data)) => pl.pipe_data(cmd),
                    })
                }
                PipeKind::Pipe { op, lhs, rhs } => {
                    let pl = self.build(lhs, acc, background, plan).await?;
                    self.build(rhs, Some((pl, *op)), background, plan).await
                }
                PipeKind::Redirect { inner, redirect } => {
                    let pl = self.build(inner, acc, background, plan).await?;
                    let r = match &redirect.kind {
                        RedirectKind::Write { fd, target, append } => Redirect::Write {
                            fd: i32::from(*fd),
                            path: self.path(target).await?,
                            append: *append,
                        },
                        RedirectKind::Read { fd, target } => {
                            Redirect::Read { fd: i32::from(*fd), path: self.path(target).await? }
                        }
                        RedirectKind::Dup { fd, from } => {
                            Redirect::Dup { fd: i32::from(*fd), from: i32::from(*from) }
                        }
                    };
                    Ok(pl.redirect(r))
                }
                PipeKind::Try(inner) => self.build(inner, acc, background, plan).await,
                PipeKind::Timeout { limit, inner } => {
                    let d = match self.eval(limit).await? {
                        Value::Duration(d) => d,
                        _ => return Err(runtime_error(limit.span, "expected a duration", "timeout")),
                    };
                    plan.limit = Some(plan.limit.map_or(d, |l| l.min(d)));
                    self.build(inner, acc, background, plan).await
                }
            }
        })
    }

    async fn path(&mut self, target: &crate::ast::Expr) -> Eval<PathBuf> {
        match self.eval(target).await? {
            Value::Str(s) => Ok(PathBuf::from(s.as_str())),
            _ => Err(runtime_error(target.span, "bad path", "redirection")),
        }
    }

    /// The message for a failed spawn, naming the program (the error does, or the message
    /// starts `cannot start \`prog\``), and the span of the stage it names.
    fn spawn_message(err: &io::Error, p: &PipeExpr, plan: &Plan) -> (String, Span) {
        let mut message = err.to_string();
        let named = plan.stages.iter().find(|(prog, _)| message.contains(&format!("`{prog}`")));
        let span = named.or(plan.stages.first()).map_or(p.span, |(_, s)| *s);
        if named.is_none() {
            let programs: Vec<&str> = plan.stages.iter().map(|(prog, _)| prog.as_str()).collect();
            message = format!("cannot start `{}`: {message}", programs.join(" | "));
        }
        (message, span)
    }

    /// A pipeline could not be started. Inside `try` that is an error the `catch` gets;
    /// elsewhere it is reported as `ariash: FILE:LINE:COL: <message>`, the status becomes
    /// 127 (not found), 126 (not executable) or 1 (a redirection failed), and the script
    /// goes on, unless the pipeline was checked with `?`.
    pub(super) fn spawn_error<T>(
        &mut self,
        err: &io::Error,
        p: &PipeExpr,
        plan: &Plan,
        check: bool,
    ) -> Eval<T>
    where
        T: Default,
    {
        let (message, span) = Self::spawn_message(err, p, plan);
        let code = spawn_failure_code(err);
        self.status = code;
        if self.trying > 0 {
            return Err(runtime_error(span, message, "could not start"));
        }
        if !self.sandboxed() {
            eprint_text(&format!(
                "ariash: {}: {}\n",
                self.source.location(span.start),
                escape_controls(&message)
            ));
        }
        if check {
            return Err(self.stopped(code, p.span));
        }
        Ok(T::default())
    }

    /// Waits for `waiting` (a pipeline in process group `pgid`), stopping the group if
    /// `limit` passes first: `SIGTERM`, then `SIGKILL` after the grace period. Returns the
    /// result and whether the limit passed.
    pub(super) async fn with_limit<F: Future>(
        &self,
        pgid: i32,
        limit: Option<Duration>,
        waiting: F,
    ) -> (F::Output, bool) {
        let Some(limit) = limit else { return (waiting.await, false) };
        let mut waiting = pin!(waiting);
        if let Ok(r) = aria_io::time::timeout(limit, waiting.as_mut()).await {
            return (r, false);
        }
        // The group is not reaped while `waiting` is pending, so `pgid` is still ours.
        let _ = aria_io::process::signal_process_group(pgid, libc::SIGTERM);
        if let Ok(r) = aria_io::time::timeout(self.grace, waiting.as_mut()).await {
            return (r, true);
        }
        let _ = aria_io::process::signal_process_group(pgid, libc::SIGKILL);
        (waiting.await, true)
    }

    /// Runs `p` in the foreground, updating the last status. With `capture`, the last stage's
    /// stdout is collected instead of inherited. A failed `?` pipeline stops the script.
    pub(crate) fn foreground<'s>(&'s mut self, p: &'s PipeExpr, capture: bool) -> BoxFut<'s, Eval<Outcome>> {
        Box::pin(async move {
            let check = matches!(p.kind, PipeKind::Try(_));
            self.check_signal()?;
            let mut plan = Plan::default();
            let mut pipeline = self.build(p, None, false, &mut plan).await?;
            if capture {
                pipeline = pipeline.capture_stdout();
            }
            self.check_signal()?;
            if self.sandboxed() {
                self.status = super::sandbox::stub_status(&plan.stages);
                if check && self.status != 0 {
                    return Err(self.stopped(self.status, p.span));
                }
                return Ok(Outcome { success: self.status == 0, output: Vec::new() });
            }
            let terminal = self.lend_terminal();
            if let Some(tty) = terminal {
                pipeline = pipeline.foreground(tty);
            }
            let mut child = match pipeline.spawn() {
                Ok(child) => child,
                Err(err) => {
                    if terminal.is_some() {
                        self.reclaim_terminal();
                    }
                    return self.spawn_error(&err, p, &plan, check);
                }
            };
            let pgid = child.pgid();
            self.groups.register(pgid);
            if self.jc.is_some() {
                let outcome = self.wait_job_in_foreground(p, child, &plan, terminal.is_some()).await?;
                if check && self.status != 0 {
                    return Err(self.stopped(self.status, p.span));
                }
                return Ok(outcome);
            }
            let (result, timed_out) = if capture {
                self.with_limit(pgid, plan.limit, child.wait_with_output()).await
            } else {
                self.with_limit(pgid, plan.limit, async { child.wait().await.map(|s| (s, Vec::new())) }).await
            };
            self.groups.deregister(pgid);
            let (status, output) = result.map_err(|e| {
                runtime_error(p.span, format!("waiting for the pipeline failed: {e}"), "here")
            })?;
            self.status = if timed_out { TIMED_OUT } else { status_code(&status) };
            self.check_signal()?;
            if check && self.status != 0 {
                return Err(self.stopped(self.status, p.span));
            }
            Ok(Outcome { success: self.status == 0, output })
        })
    }

    /// The script stops because a checked pipeline (or `wait?`) failed; inside `try` that
    /// is an error the `catch` gets.
    pub(super) fn stopped(&self, code: i32, span: Span) -> Flow {
        if self.trying > 0 {
            return runtime_error(span, format!("pipeline failed with status {code}"), "failed");
        }
        if !self.sandboxed() {
            eprint_text(&format!(
                "ariash: {}: stopping: pipeline failed with status {code}\n",
                self.source.location(span.start)
            ));
        }
        Flow::Exit(code)
    }

    /// `pipeline &`: starts a background job with stdin from `/dev/null` (unless redirected)
    /// and returns it. A job that could not start is reported (as a foreground failure is)
    /// and is a job that failed with that status.
    ///
    /// In the REPL with job control stdin stays the terminal, as in other job-control
    /// shells: a job that reads it is stopped by `SIGTTIN` until `fg` gives it the terminal.
    /// Every stage's stddbg (fd 3) is a pipe read into the job's telemetry queue, for
    /// `watch`. The job's number and process group are shown (`[1] 4242`).
    pub(crate) async fn background(&mut self, p: &PipeExpr) -> Eval<JobRef> {
        self.check_signal()?;
        let mut plan = Plan::default();
        let pipeline = self.build(p, None, true, &mut plan).await?;
        self.check_signal()?;
        if self.sandboxed() {
            let code = super::sandbox::stub_status(&plan.stages);
            self.status = 0;
            return Ok(self.add_job(p, None, code, &plan));
        }
        match pipeline.spawn() {
            Ok(mut child) => {
                self.status = 0;
                let pgid = child.pgid();
                // In the REPL: every stage's stddbg drains into the job's telemetry queue.
                let telemetry = self.jc.is_some().then(|| {
                    let drainer = crate::watch::drainer();
                    for stage in child.children_mut() {
                        if let Some(stddbg) = stage.stddbg.take() {
                            drop(aria_io::spawn(drainer.clone().pump(stddbg)));
                        }
                    }
                    drainer
                });
                let job = self.add_job(p, Some(child), 0, &plan);
                if let Some(drainer) = telemetry {
                    *job.0.telemetry.borrow_mut() = Some(drainer);
                    eprint_text(&format!("[{}] {pgid}\n", job.0.id));
                }
                Ok(job)
            }
            Err(err) => {
                self.spawn_error::<()>(&err, p, &plan, false)?;
                let code = self.status;
                Ok(self.add_job(p, None, code, &plan))
            }
        }
    }
}
