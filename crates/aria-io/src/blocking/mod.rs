//! A pool of threads for work that blocks: system calls with no asynchronous form on the
//! current backend (file I/O on epoll, `copy_file_range`, directory walks), CPU-heavy
//! computations, and libraries that only offer blocking calls.
//!
//! ```
//! let rt = aria_io::Runtime::new()?;
//! let sum = rt.block_on(aria_io::blocking::spawn_blocking(|| (1..=100u64).sum::<u64>()));
//! assert_eq!(sum.unwrap(), 5050);
//! # Ok::<_, std::io::Error>(())
//! ```
//!
//! # The pool
//!
//! One pool serves the whole process (every runtime, and code running outside any runtime).
//! It starts with no thread and:
//!
//! - **Spawns threads on demand**: a job goes to an idle thread if there is one, otherwise a
//!   new thread is started, up to a bound (512 by default, like tokio's). Beyond the bound,
//!   jobs wait in a first-in, first-out queue until a thread is free.
//! - **Names its threads** `aria-io-blocking-N` (`N` counts up from 0 over the life of the
//!   process; the kernel's copy of the name, in `/proc/<pid>/task/<tid>/comm`, is truncated
//!   to 15 bytes: `aria-io-blockin`).
//! - **Lets idle threads go** after a keep-alive (10 s by default) without work.
//! - **Never blocks a runtime's shutdown**: threads are detached, never joined. A job whose
//!   [`BlockingJoinHandle`] was dropped (for example because the task awaiting it was
//!   cancelled when its runtime shut down) still runs to the end; its result is dropped on the
//!   pool thread. A job cannot be interrupted: blocking system calls have no cancellation.
//!
//! The two limits are read once, when the pool first starts, from the environment:
//! `ARIA_IO_BLOCKING_MAX_THREADS` (a positive integer) and `ARIA_IO_BLOCKING_KEEP_ALIVE_MS`
//! (milliseconds). Missing or unparsable values keep the defaults.
//!
//! ## Protocol
//!
//! One mutex protects the queue and three counters: `threads` (alive), `idle` (waiting for
//! work and not yet claimed) and `notified` (claimed wake-ups not yet consumed). Submitting
//! a job pushes it and, under the same lock, either claims an idle thread (`idle -= 1`,
//! `notified += 1`, signal the condition variable) or starts a thread (`threads += 1`). A
//! thread takes jobs from the queue until it is empty, then counts itself idle and waits on
//! the condition variable. It leaves the wait when it consumes a notification (`notified -=
//! 1`), and exits when its keep-alive passes with no notification to consume (`idle -= 1`,
//! `threads -= 1`). Because a thread always drains the queue before it becomes idle, and a
//! job is pushed without claiming a thread only when no thread is idle, every queued job is
//! eventually taken.

mod pool;

use std::fmt;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use crate::sync::oneshot;
use crate::task::JoinError;

/// Runs `f` on the blocking pool and returns a handle to await its result.
///
/// The closure starts as soon as a pool thread is free (at once, unless every one of the
/// pool's threads is busy). This function does not need a runtime: the handle is a plain
/// future, usable from any executor, and the pool is shared by the whole process (see the
/// [module docs](self)).
///
/// # Errors
/// The handle yields a [`JoinError`] for which [`is_panic`](JoinError::is_panic) holds if `f`
/// panicked (the payload is kept: [`JoinError::try_into_panic`]), and one for which
/// [`is_cancelled`](JoinError::is_cancelled) holds if `f` never ran because the pool had no
/// thread and could not start one (for example `EAGAIN` from clone(2) under
/// `RLIMIT_NPROC`).
///
/// # References
/// pthread_create(3) (each pool thread), tokio's `spawn_blocking`.
pub fn spawn_blocking<F, R>(f: F) -> BlockingJoinHandle<R>
where
    F: FnOnce() -> R + Send + 'static,
    R: Send + 'static,
{
    match spawn_with((), move |()| f()) {
        Ok(handle) => handle,
        Err(((), _)) => {
            // The sender is dropped unused: the handle resolves to a cancelled JoinError.
            let (_, rx) = oneshot::channel();
            BlockingJoinHandle { rx }
        }
    }
}

/// Runs `f(state)` on the pool, or gives `state` back with the reason if no thread can run it
/// (the pool has no thread and cannot start one). `state` is typically an operation owning
/// buffers, which the caller must get back to return them.
pub(crate) fn spawn_with<S, F, R>(state: S, f: F) -> Result<BlockingJoinHandle<R>, (S, io::Error)>
where
    S: Send + 'static,
    F: FnOnce(S) -> R + Send + 'static,
    R: Send + 'static,
{
    let (tx, rx) = oneshot::channel();
    let job = move |state: S| {
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(move || f(state)));
        // The handle may have been dropped: the result is then dropped here.
        let _ = tx.send(result);
    };
    pool::global().submit(state, job)?;
    Ok(BlockingJoinHandle { rx })
}

/// A future of the result of a [`spawn_blocking`] job.
///
/// Resolves to `Ok(value)`, or a [`JoinError`] if the job panicked or could not be started.
/// Dropping the handle does not stop the job (nothing can interrupt a blocking call): it runs
/// to the end and its result is dropped.
#[must_use = "dropping the handle detaches the job; await it to get its result"]
pub struct BlockingJoinHandle<T> {
    rx: oneshot::Receiver<std::thread::Result<T>>,
}

impl<T> Future for BlockingJoinHandle<T> {
    type Output = Result<T, JoinError>;

    /// # Panics
    /// If polled again after it completed.
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        Poll::Ready(match std::task::ready!(Pin::new(&mut self.rx).poll(cx)) {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(panic)) => Err(JoinError::panic(panic)),
            Err(_) => Err(JoinError::cancelled()),
        })
    }
}

impl<T> fmt::Debug for BlockingJoinHandle<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BlockingJoinHandle").finish_non_exhaustive()
    }
}
