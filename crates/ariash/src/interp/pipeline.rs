//! Running pipelines: the walk from a [`PipeExpr`] tree to an `aria_io` pipeline, and the
//! foreground, background and `wait` paths.
//!
//! The walk threads the pipeline built so far through the tree: a stage starts the pipeline
//! or is attached to it with the pipe kind of its parent, and a redirection applies to the
//! stage just added (redirections apply left to right, as in a shell).

use std::io;
use std::path::PathBuf;
use std::rc::Rc;
use std::time::Instant;

use aria_io::process::{Command, Pipeline, PipelineChild, PipelineStatus, Redirect};

use super::{runtime_error, BoxFut, Eval, Flow, Interp};
use crate::ast::{PipeExpr, PipeKind, PipeOp, RedirectKind, Span};
use crate::diag::{eprint_text, escape_controls};
use crate::value::Value;

/// A background job started with `&`.
#[derive(Debug)]
pub(crate) struct Job {
    state: JobState,
    span: Span,
}

#[derive(Debug)]
enum JobState {
    /// Started, in its own process group.
    Running { child: PipelineChild, pgid: i32 },
    /// Could not be started (the failure was reported then): a failed job with this status
    /// for `wait`.
    NotStarted(i32),
    /// Never spawned, in the sandbox: finished with this status.
    Stubbed(i32),
}

/// The result of running a pipeline in the foreground.
#[derive(Debug)]
pub(crate) struct Outcome {
    /// Whether it succeeded (pipefail, SIGPIPE'd writers excused).
    pub(crate) success: bool,
    /// Captured stdout (empty unless capturing).
    pub(crate) output: Vec<u8>,
}

/// The shell-style status of a finished pipeline: 0 exactly when it succeeded.
fn status_code(status: &PipelineStatus) -> i32 {
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

/// The programs of the stages, with the spans of their `run(...)` calls, filled in while
/// building so a spawn error can point at the stage it names.
type StageSpans = Vec<(String, Span)>;

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

    /// Builds the pipeline for `p`, attaching it to `acc` (with its pipe kind) if given.
    fn build<'s>(
        &'s mut self,
        p: &'s PipeExpr,
        acc: Option<(Pipeline, PipeOp)>,
        background: bool,
        stages: &'s mut StageSpans,
    ) -> BoxFut<'s, Eval<Pipeline>> {
        Box::pin(async move {
            match &p.kind {
                PipeKind::Stage(stage) => {
                    let program = match self.eval(&stage.args[0]).await? {
                        Value::Str(s) => Rc::unwrap_or_clone(s),
                        _ => return Err(runtime_error(stage.span, "bad program", "run")),
                    };
                    let args = match stage.args.get(1) {
                        Some(a) => match self.eval(a).await? {
                            Value::List(items) => items.iter().map(ToString::to_string).collect(),
                            _ => return Err(runtime_error(a.span, "bad arguments", "run")),
                        },
                        None => Vec::new(),
                    };
                    stages.push((program.clone(), stage.span));
                    let cmd = self.command(program, args);
                    Ok(match acc {
                        None if background => Pipeline::new(cmd)
                            .redirect(Redirect::Read { fd: 0, path: PathBuf::from("/dev/null") }),
                        None => Pipeline::new(cmd),
                        Some((pl, PipeOp::Text)) => pl.pipe(cmd),
                        Some((pl, PipeOp::Data)) => pl.pipe_data(cmd),
                    })
                }
                PipeKind::Pipe { op, lhs, rhs } => {
                    let pl = self.build(lhs, acc, background, stages).await?;
                    self.build(rhs, Some((pl, *op)), background, stages).await
                }
                PipeKind::Redirect { inner, redirect } => {
                    let pl = self.build(inner, acc, background, stages).await?;
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
                PipeKind::Try(inner) => self.build(inner, acc, background, stages).await,
            }
        })
    }

    async fn path(&mut self, target: &crate::ast::Expr) -> Eval<PathBuf> {
        match self.eval(target).await? {
            Value::Str(s) => Ok(PathBuf::from(s.as_str())),
            _ => Err(runtime_error(target.span, "bad path", "redirection")),
        }
    }

    /// Reports a failed spawn as `ariash: FILE:LINE:COL: <message>`, naming the program (the
    /// error does, or the message starts `cannot start \`prog\``), and records its status.
    fn spawn_failed(&mut self, err: &io::Error, p: &PipeExpr, stages: &StageSpans) -> i32 {
        let mut message = err.to_string();
        let named = stages.iter().find(|(prog, _)| message.contains(&format!("`{prog}`")));
        let span = named.or(stages.first()).map_or(p.span, |(_, s)| *s);
        if named.is_none() {
            let programs: Vec<&str> = stages.iter().map(|(prog, _)| prog.as_str()).collect();
            message = format!("cannot start `{}`: {message}", programs.join(" | "));
        }
        eprint_text(&format!(
            "ariash: {}: {}\n",
            self.source.location(span.start),
            escape_controls(&message)
        ));
        let code = spawn_failure_code(err);
        self.status = code;
        code
    }

    /// Runs `p` in the foreground, updating the last status. With `capture`, the last stage's
    /// stdout is collected instead of inherited. A failed `?` pipeline stops the script.
    pub(crate) fn foreground<'s>(&'s mut self, p: &'s PipeExpr, capture: bool) -> BoxFut<'s, Eval<Outcome>> {
        Box::pin(async move {
            let check = matches!(p.kind, PipeKind::Try(_));
            self.check_signal()?;
            let mut stages = StageSpans::new();
            let mut pipeline = self.build(p, None, false, &mut stages).await?;
            if capture {
                pipeline = pipeline.capture_stdout();
            }
            self.check_signal()?;
            if self.sandboxed() {
                self.status = super::sandbox::stub_status(&stages);
                if check && self.status != 0 {
                    return Err(self.stopped(self.status, p.span));
                }
                return Ok(Outcome { success: self.status == 0, output: Vec::new() });
            }
            let mut child = match pipeline.spawn() {
                Ok(child) => child,
                Err(err) => {
                    let code = self.spawn_failed(&err, p, &stages);
                    if check {
                        return Err(self.stopped(code, p.span));
                    }
                    return Ok(Outcome { success: false, output: Vec::new() });
                }
            };
            let pgid = child.pgid();
            self.groups.register(pgid);
            let result = if capture {
                child.wait_with_output().await
            } else {
                child.wait().await.map(|s| (s, Vec::new()))
            };
            self.groups.deregister(pgid);
            let (status, output) = result.map_err(|e| {
                runtime_error(p.span, format!("waiting for the pipeline failed: {e}"), "here")
            })?;
            self.status = status_code(&status);
            self.check_signal()?;
            if check && self.status != 0 {
                return Err(self.stopped(self.status, p.span));
            }
            Ok(Outcome { success: self.status == 0, output })
        })
    }

    /// The script stops because a checked pipeline (or `wait?`) failed.
    fn stopped(&self, code: i32, span: Span) -> Flow {
        if self.sandboxed() {
            return Flow::Exit(code);
        }
        eprint_text(&format!(
            "ariash: {}: stopping: pipeline failed with status {code}\n",
            self.source.location(span.start)
        ));
        Flow::Exit(code)
    }

    /// `pipeline &;`: starts a background job with stdin from `/dev/null` (unless redirected).
    pub(crate) async fn background(&mut self, p: &PipeExpr) -> Eval<()> {
        self.check_signal()?;
        let mut stages = StageSpans::new();
        let pipeline = self.build(p, None, true, &mut stages).await?;
        self.check_signal()?;
        if self.sandboxed() {
            let code = super::sandbox::stub_status(&stages);
            self.jobs.push(Job { state: JobState::Stubbed(code), span: p.span });
            self.status = 0;
            return Ok(());
        }
        match pipeline.spawn() {
            Ok(child) => {
                let pgid = child.pgid();
                self.groups.register(pgid);
                self.jobs.push(Job { state: JobState::Running { child, pgid }, span: p.span });
                self.status = 0;
            }
            Err(err) => {
                let code = self.spawn_failed(&err, p, &stages);
                self.jobs.push(Job { state: JobState::NotStarted(code), span: p.span });
            }
        }
        Ok(())
    }

    /// `wait;`: waits for every background job. The status becomes 0 if all succeeded, else
    /// that of the last-started job that failed (a job that could not start failed); with `?`
    /// that failure stops the script.
    pub(crate) async fn wait_jobs(&mut self, check: bool) -> Eval<()> {
        let mut failed: Option<(i32, Span)> = None;
        let mut error = None;
        for job in std::mem::take(&mut self.jobs) {
            let (mut child, pgid) = match job.state {
                JobState::Running { child, pgid } => (child, pgid),
                JobState::NotStarted(code) => {
                    failed = Some((code, job.span));
                    continue;
                }
                JobState::Stubbed(code) => {
                    if code != 0 {
                        failed = Some((code, job.span));
                    }
                    continue;
                }
            };
            let result = child.wait().await;
            self.groups.deregister(pgid);
            match result {
                Ok(status) => {
                    let code = status_code(&status);
                    if code != 0 {
                        failed = Some((code, job.span));
                    }
                }
                Err(e) => {
                    error.get_or_insert(runtime_error(
                        job.span,
                        format!("waiting for the background job failed: {e}"),
                        "this job",
                    ));
                }
            }
        }
        if let Some(e) = error {
            return Err(e);
        }
        self.check_signal()?;
        self.status = failed.map_or(0, |(code, _)| code);
        match failed {
            Some((code, job_span)) if check => Err(self.stopped(code, job_span)),
            _ => Ok(()),
        }
    }

    /// Stops every remaining background job: `SIGTERM` to its group, `SIGKILL` if it is still
    /// running after the grace period, then reaps it.
    pub(crate) async fn terminate_jobs(&mut self) {
        for job in &self.jobs {
            if let JobState::Running { child, .. } = &job.state {
                // ESRCH (the job already exited) is fine.
                let _ = child.signal_group(libc::SIGTERM);
            }
        }
        let deadline = Instant::now() + self.grace;
        for job in std::mem::take(&mut self.jobs) {
            let JobState::Running { mut child, pgid } = job.state else { continue };
            let left = deadline.saturating_duration_since(Instant::now());
            if aria_io::time::timeout(left, child.wait()).await.is_err() {
                let _ = child.signal_group(libc::SIGKILL);
                let _ = child.wait().await;
            }
            self.groups.deregister(pgid);
        }
    }

    /// Waits for every remaining background job, ignoring their statuses.
    pub(crate) async fn reap_jobs(&mut self) {
        for job in std::mem::take(&mut self.jobs) {
            let JobState::Running { mut child, pgid } = job.state else { continue };
            // Errors here mean the job is already gone; nothing else to do at exit.
            let _ = child.wait().await;
            self.groups.deregister(pgid);
        }
    }
}
