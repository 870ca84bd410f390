//! Collecting a child's output without deadlock: every piped output stream is drained in the
//! same poll as the wait, so the child can never block on a full pipe while the parent waits
//! for its exit.

use std::future::{poll_fn, Future};
use std::io;
use std::pin::Pin;
use std::task::Poll;
use std::time::Duration;

use super::{Child, ExitStatus};
use crate::io::PipeReader;
use crate::time::{sleep, Sleep};

/// The result of [`Command::output`](super::Command::output).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Output {
    /// How the child ended.
    pub status: ExitStatus,
    /// Everything written to stdout (empty if it was not piped).
    pub stdout: Vec<u8>,
    /// Everything written to stderr (empty if it was not piped).
    pub stderr: Vec<u8>,
    /// Everything written to stddbg, fd 3 (empty if it was not piped).
    pub stddbg: Vec<u8>,
    /// Everything written to stddato, fd 5 (empty if it was not piped).
    pub stddato: Vec<u8>,
}

/// The error inside the `io::Error` (of kind `TimedOut`) that
/// [`Command::output`](super::Command::output) returns when its
/// [`wait_delay`](super::Command::wait_delay) expired: the child exited, but a pipe was still
/// held open (typically by a background grandchild), so reading stopped before end of file.
/// It carries the child's status and the output read until then, so nothing is lost:
///
/// ```
/// # fn main() -> std::io::Result<()> {
/// use aria_io::process::{Command, WaitDelayExpired};
/// use std::time::Duration;
///
/// aria_io::Runtime::new()?.block_on(async {
///     let mut cmd = Command::new("sh");
///     cmd.args(["-c", "echo a; (sleep 2; echo b) &"]).wait_delay(Some(Duration::from_millis(100)));
///     let err = cmd.output().await.unwrap_err();
///     let expired = WaitDelayExpired::from_io(&err).expect("the wait delay expired");
///     assert!(expired.output.status.success());
///     assert_eq!(expired.output.stdout, b"a\n");
/// });
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct WaitDelayExpired {
    /// The status and what was read before the pipes were closed.
    pub output: Output,
    delay: Duration,
}

impl WaitDelayExpired {
    /// Finds the `WaitDelayExpired` inside an `io::Error`, if it is one.
    pub fn from_io(err: &io::Error) -> Option<&WaitDelayExpired> {
        err.get_ref().and_then(|e| e.downcast_ref::<WaitDelayExpired>())
    }

    /// Takes the `WaitDelayExpired` out of an `io::Error`, or gives the error back.
    ///
    /// # Errors
    /// `err` itself when it is not a `WaitDelayExpired`.
    pub fn into_output(err: io::Error) -> Result<Output, io::Error> {
        if WaitDelayExpired::from_io(&err).is_none() {
            return Err(err);
        }
        let inner = err.into_inner().expect("checked above");
        Ok(inner.downcast::<WaitDelayExpired>().map(|e| e.output).expect("checked above"))
    }

    /// The delay that expired.
    pub fn delay(&self) -> Duration {
        self.delay
    }
}

impl std::fmt::Display for WaitDelayExpired {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "the child exited ({}) but its output was still held open {:?} later (by a background process?); \
             the output is truncated",
            self.output.status, self.delay
        )
    }
}

impl std::error::Error for WaitDelayExpired {}

/// Drains `readers` into their buffers while `wait` polls for the exit; after the exit,
/// keeps reading for at most `delay`. Shared by `Child` and `Pipeline` output collection.
pub(crate) async fn drain_while<W, T>(
    readers: &mut [(Option<PipeReader>, Vec<u8>)],
    delay: Option<std::time::Duration>,
    mut wait: W,
) -> io::Result<(T, bool)>
where
    W: FnMut(&mut std::task::Context<'_>) -> Poll<io::Result<T>>,
{
    let mut done: Option<T> = None;
    let mut timer: Option<Sleep> = None;
    let mut expired = false;
    poll_fn(|cx| {
        for (reader, buf) in readers.iter_mut() {
            if let Some(r) = reader {
                if let Poll::Ready(res) = r.poll_read_to_end(cx, buf) {
                    *reader = None;
                    res?;
                }
            }
        }
        if done.is_none() {
            if let Poll::Ready(res) = wait(cx) {
                done = Some(res?);
            }
        }
        if done.is_some() {
            let open = readers.iter().any(|(r, _)| r.is_some());
            if open {
                if let Some(d) = delay {
                    let t = timer.get_or_insert_with(|| sleep(d));
                    if Pin::new(t).poll(cx).is_ready() {
                        for (r, _) in readers.iter_mut() {
                            *r = None;
                        }
                        expired = true;
                    }
                }
            }
            if expired || !open {
                return Poll::Ready(Ok::<(), io::Error>(()));
            }
        }
        Poll::Pending
    })
    .await?;
    let done = done.ok_or_else(|| io::Error::other("wait did not complete"))?;
    Ok((done, expired))
}

pub(crate) async fn collect(mut child: Child) -> io::Result<Output> {
    child.stdin = None;
    child.stddati = None;
    let mut readers = [
        (child.stdout.take(), Vec::new()),
        (child.stderr.take(), Vec::new()),
        (child.stddbg.take(), Vec::new()),
        (child.stddato.take(), Vec::new()),
    ];
    // Bigger pipes let the child write more before it blocks on a full one, so fewer
    // wake-ups and context switches per byte (capped by /proc/sys/fs/pipe-max-size).
    for (reader, _) in &readers {
        if let Some(r) = reader {
            let _ = r.set_pipe_size(1 << 20);
        }
    }
    let delay = child.wait_delay;
    let (status, expired) = drain_while(&mut readers, delay, |cx| child.poll_wait(cx)).await?;
    let [(_, stdout), (_, stderr), (_, stddbg), (_, stddato)] = readers;
    let output = Output { status, stdout, stderr, stddbg, stddato };
    match (expired, delay) {
        (true, Some(delay)) => {
            Err(io::Error::new(io::ErrorKind::TimedOut, WaitDelayExpired { output, delay }))
        }
        _ => Ok(output),
    }
}
