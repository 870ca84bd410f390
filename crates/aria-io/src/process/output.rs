//! Collecting a child's output without deadlock: every piped output stream is drained in the
//! same poll as the wait, so the child can never block on a full pipe while the parent waits
//! for its exit.

use std::future::{poll_fn, Future};
use std::io;
use std::pin::Pin;
use std::task::Poll;

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
    /// The child exited but some pipe was still held open (by a grandchild) when the wait
    /// delay ran out, so reading stopped early.
    pub wait_delay_expired: bool,
}

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
    Ok(Output { status, stdout, stderr, stddbg, stddato, wait_delay_expired: expired })
}
