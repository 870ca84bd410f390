//! `for (line in stream(pipeline)) { ... }` and `for (line in lines_of(stdin)) { ... }`:
//! a loop over lines as they arrive.
//!
//! Memory is bounded: the pipeline writes into a pipe, ariash reads it 64 KiB at a time and
//! keeps only the bytes of the line not yet complete, and while the loop body runs nobody
//! reads, so a fast producer blocks on the full pipe (backpressure) instead of filling
//! ariash's memory. Leaving the loop early (`break`, `return`, an error) closes the pipe and
//! sends the pipeline's process group `SIGTERM` (`SIGKILL` after the grace period), then
//! reaps it: `tail -f` ends with the loop. A pipeline that ran to its end sets the status
//! as a foreground pipeline does (pipefail; `stream(`cmd`?)` stops the script on failure).

use std::rc::Rc;
use std::time::{Duration, Instant};

use super::files::stdin_line;
use super::jobs::TIMED_OUT;
use super::pipeline::{status_code, Plan};
use super::{runtime_error, Eval, Flow, Interp};
use crate::ast::{Block, PipeExpr, PipeKind, Span};
use crate::value::{StreamSource, Value};
use aria_io::os::unix::PipelineChildExt;

/// How a loop over lines ended.
enum End {
    /// The source ran out.
    Finished,
    /// `break`.
    Broken,
}

/// Bytes read from the pipe per read.
const CHUNK: usize = 64 * 1024;

fn line_value(bytes: &[u8]) -> Value {
    let bytes = bytes.strip_suffix(b"\r").unwrap_or(bytes);
    Value::str(String::from_utf8_lossy(bytes).into_owned())
}

impl Interp<'_> {
    /// Runs the body once with `var` bound to `line`: `Ok(false)` after a `break`.
    async fn iteration(&mut self, var: &str, line: Value, body: &Block, span: Span) -> Eval<bool> {
        self.loop_tick(span).await?;
        self.scopes.push(Default::default());
        self.declare(var, line);
        let r = self.stmts(&body.stmts).await;
        self.scopes.pop();
        match r {
            Ok(()) | Err(Flow::Continue) => Ok(true),
            Err(Flow::Break) => Ok(false),
            Err(other) => Err(other),
        }
    }

    /// A `for` loop over a stream's lines.
    pub(super) async fn for_stream(
        &mut self,
        src: &StreamSource,
        var: &str,
        body: &Block,
        span: Span,
    ) -> Eval<()> {
        match src {
            StreamSource::Stdin => {
                if self.sandboxed() {
                    return Ok(());
                }
                while let Some(line) = stdin_line(span).await? {
                    if !self.iteration(var, Value::str(line), body, span).await? {
                        break;
                    }
                }
                Ok(())
            }
            StreamSource::Pipeline(p) => self.for_pipeline(p, var, body, span).await,
        }
    }

    async fn for_pipeline(&mut self, p: &PipeExpr, var: &str, body: &Block, span: Span) -> Eval<()> {
        let check = matches!(p.kind, PipeKind::Try(_));
        self.check_signal()?;
        let mut plan = Plan::default();
        let pipeline = self.build(p, None, false, &mut plan).await?.capture_stdout();
        self.check_signal()?;
        if self.sandboxed() {
            self.status = super::sandbox::stub_status(&plan.stages);
            return Ok(());
        }
        let mut child = match pipeline.spawn() {
            Ok(child) => child,
            Err(err) => return self.spawn_error(&err, p, &plan, check),
        };
        let pgid = child.pgid();
        self.groups.register(pgid);
        let mut out = child.take_stdout();
        let mut deadline = plan.limit.map(|d| Instant::now() + d);
        let mut timed_out = false;
        let mut buf: Vec<u8> = Vec::new();
        let mut chunk: Vec<u8> = Vec::with_capacity(CHUNK);
        let end: Eval<End> = 'read: loop {
            let Some(reader) = out.as_mut() else { break Ok(End::Finished) };
            // `read_owned` fills the spare capacity.
            chunk.clear();
            let read = reader.read_owned(chunk);
            let (result, back) = match deadline {
                None => read.await,
                Some(at) => {
                    match aria_io::time::timeout(at.saturating_duration_since(Instant::now()), read).await {
                        Ok(r) => r,
                        Err(_) => {
                            // The read was dropped before completing: its buffer went with it.
                            chunk = Vec::with_capacity(CHUNK);
                            let signo = if timed_out { libc::SIGKILL } else { libc::SIGTERM };
                            let _ = child.signal_group(signo);
                            deadline = if timed_out { None } else { Some(Instant::now() + self.grace) };
                            timed_out = true;
                            continue;
                        }
                    }
                }
            };
            chunk = back;
            let n = match result {
                Ok(n) => n,
                Err(e) => {
                    break Err(runtime_error(
                        p.span,
                        format!("reading the pipeline's output failed: {e}"),
                        "here",
                    ))
                }
            };
            if n == 0 {
                if !buf.is_empty() {
                    let line = line_value(&std::mem::take(&mut buf));
                    match self.iteration(var, line, body, span).await {
                        Ok(true) => {}
                        Ok(false) => break Ok(End::Broken),
                        Err(e) => break Err(e),
                    }
                }
                break Ok(End::Finished);
            }
            buf.extend_from_slice(&chunk);
            let mut start = 0;
            while let Some(nl) = buf[start..].iter().position(|&b| b == b'\n') {
                let line = line_value(&buf[start..start + nl]);
                start += nl + 1;
                match self.iteration(var, line, body, span).await {
                    Ok(true) => {}
                    Ok(false) => break 'read Ok(End::Broken),
                    Err(e) => break 'read Err(e),
                }
            }
            buf.drain(..start);
        };
        // Close the pipe first: a writer still running gets EPIPE/SIGPIPE.
        drop(out);
        // A loop that ran to the end waits for the pipeline like a foreground one; a loop left
        // early (break, error, signal) ends the group at once: TERM, the grace, then KILL.
        let finished = matches!(end, Ok(End::Finished));
        let limit = if finished { None } else { Some(Duration::ZERO) };
        let (status, _) = self.with_limit(pgid, limit, child.wait()).await;
        self.groups.deregister(pgid);
        let end = end?;
        self.check_signal()?;
        if matches!(end, End::Broken) {
            return Ok(());
        }
        let status = status
            .map_err(|e| runtime_error(p.span, format!("waiting for the pipeline failed: {e}"), "here"))?;
        self.status = if timed_out { TIMED_OUT } else { status_code(&status) };
        if check && self.status != 0 {
            return Err(self.stopped(self.status, p.span));
        }
        Ok(())
    }
}

/// `stream(p)`: the value a `for` loop reads lines from.
pub(super) fn pipeline_stream(p: &PipeExpr) -> Value {
    Value::Stream(Rc::new(StreamSource::Pipeline(p.clone())))
}
