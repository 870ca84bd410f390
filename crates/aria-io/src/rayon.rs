//! A bridge to [Rayon](https://docs.rs/rayon): hand CPU-bound work to Rayon's thread pool and
//! await its result without blocking the runtime.
//!
//! Enabled by the `rayon` feature. The futures here are runtime-agnostic: the result comes
//! back through an [`aria_io::sync::oneshot`](crate::sync::oneshot) channel, so they can be
//! awaited inside [`Runtime::block_on`](crate::Runtime::block_on), in a spawned task, or under
//! any other executor.
//!
//! Rayon is for work that computes; work that *waits* (blocking system calls, locks held for
//! long) belongs on [`spawn_blocking`](crate::blocking::spawn_blocking), where a waiting thread
//! does not take a core away from the computation.
//!
//! ```
//! # fn main() -> std::io::Result<()> {
//! aria_io::Runtime::new()?.block_on(async {
//!     let sum = aria_io::rayon::compute(|| (1..=1_000u64).sum::<u64>()).await;
//!     assert_eq!(sum, 500_500);
//!
//!     let squares = aria_io::rayon::par_map((1..=4u64).collect(), |x| x * x).await;
//!     assert_eq!(squares, [1, 4, 9, 16]);
//! });
//! # Ok(())
//! # }
//! ```
//!
//! # Panics
//!
//! A panic in the closure is caught on the Rayon thread (where an uncaught panic would abort
//! the process) and **resumed at the `.await`** with [`std::panic::resume_unwind`], with its
//! original payload: awaiting a computation behaves like calling the closure, as
//! `rayon::join` and `std::thread::scope` do. Inside a spawned task the resumed panic becomes
//! that task's [`JoinError`](crate::JoinError) as usual; wrap the closure in
//! [`std::panic::catch_unwind`] to handle it as a value instead.
//!
//! # Cancellation
//!
//! Dropping a [`Compute`] future does not cancel the closure: a closure that has been handed
//! to Rayon always runs to completion, and its result is dropped on the Rayon thread.

use std::fmt;
use std::future::Future;
use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use ::rayon::iter::{IntoParallelIterator, IntoParallelRefIterator, ParallelIterator};
use ::rayon::ThreadPool;

use crate::sync::oneshot;

/// Runs `f` on Rayon's global thread pool (with `rayon::spawn`) and returns a future of its
/// result.
///
/// The closure starts as soon as a Rayon thread is free, whether or not the future is polled.
/// It may itself use Rayon's parallel iterators, `join` and `scope`: it runs inside the pool.
///
/// Mirrors `tokio_rayon::spawn` (and `tokio::task::spawn_blocking` for blocking work).
///
/// # Panics
/// Awaiting the future resumes a panic of `f` (see the [module docs](self#panics)).
///
/// # Cancel safety
/// Dropping the future does not stop `f`; its result is discarded.
pub fn compute<F, R>(f: F) -> Compute<R>
where
    F: FnOnce() -> R + Send + 'static,
    R: Send + 'static,
{
    let (tx, rx) = oneshot::channel();
    ::rayon::spawn(job(f, tx));
    Compute { rx }
}

/// Like [`compute`], on the given Rayon pool instead of the global one.
///
/// Mirrors `tokio_rayon::AsyncThreadPool::spawn_async` (built on `rayon::ThreadPool::spawn`).
///
/// # Panics
/// As [`compute`].
///
/// # Cancel safety
/// As [`compute`].
pub fn compute_in<F, R>(pool: &ThreadPool, f: F) -> Compute<R>
where
    F: FnOnce() -> R + Send + 'static,
    R: Send + 'static,
{
    let (tx, rx) = oneshot::channel();
    pool.spawn(job(f, tx));
    Compute { rx }
}

fn job<F, R>(f: F, tx: oneshot::Sender<std::thread::Result<R>>) -> impl FnOnce() + Send + 'static
where
    F: FnOnce() -> R + Send + 'static,
    R: Send + 'static,
{
    move || {
        let outcome = catch_unwind(AssertUnwindSafe(f));
        // The receiver is gone if the future was dropped: the result is discarded here.
        let _ = tx.send(outcome);
    }
}

/// Maps `f` over `items` on Rayon's global pool, in parallel, and returns a future of the
/// results **in the order of `items`**.
///
/// The whole map is one [`compute`] job running `items.into_par_iter().map(f).collect()`,
/// so Rayon splits the work across its threads by work stealing.
///
/// Mirrors `rayon`'s `into_par_iter().map(f).collect::<Vec<_>>()`. For data that is borrowed
/// or shared, see [`par_map_slice`].
///
/// # Panics
/// If `f` panics for any item, awaiting the future resumes that panic (if several items
/// panic, one of the panics).
///
/// # Cancel safety
/// As [`compute`]: dropping the future lets the map run to the end and discards the results.
pub fn par_map<T, R, F>(items: Vec<T>, f: F) -> Compute<Vec<R>>
where
    T: Send + 'static,
    R: Send + 'static,
    F: Fn(T) -> R + Send + Sync + 'static,
{
    compute(move || items.into_par_iter().map(f).collect())
}

/// Maps `f` over references to `items` on Rayon's global pool, in parallel, and returns a
/// future of the results in the order of `items`.
///
/// `items` is anything that converts into an `Arc<[T]>`: an `Arc<[T]>` is shared without
/// copying; a `&[T]` (with `T: Clone`) is cloned once into a new allocation, since the work
/// outlives the borrow; a `Vec<T>` is moved into one.
///
/// Mirrors `rayon`'s `par_iter().map(f).collect::<Vec<_>>()`.
///
/// # Panics
/// As [`par_map`].
///
/// # Cancel safety
/// As [`par_map`].
pub fn par_map_slice<T, R, F>(items: impl Into<Arc<[T]>>, f: F) -> Compute<Vec<R>>
where
    T: Send + Sync + 'static,
    R: Send + 'static,
    F: Fn(&T) -> R + Send + Sync + 'static,
{
    let items: Arc<[T]> = items.into();
    compute(move || items.par_iter().map(f).collect())
}

/// The future of a closure running on a Rayon pool: resolves to its result.
///
/// Returned by [`compute`], [`compute_in`], [`par_map`] and [`par_map_slice`]. Mirrors
/// `tokio_rayon::AsyncRayonHandle`.
///
/// # Panics
/// Polling resumes a panic of the closure (see the [module docs](self#panics)), and panics if
/// polled again after returning `Ready`.
///
/// # Cancel safety
/// Cancel-safe in that awaiting it through `&mut` loses nothing while it is pending; dropping
/// it does not stop the closure, whose result is then dropped on the Rayon thread.
#[must_use = "the closure runs anyway; awaiting the future is the only way to get its result"]
pub struct Compute<R> {
    rx: oneshot::Receiver<std::thread::Result<R>>,
}

impl<R> Future for Compute<R> {
    type Output = R;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<R> {
        match Pin::new(&mut self.rx).poll(cx) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(Ok(Ok(value))) => Poll::Ready(value),
            Poll::Ready(Ok(Err(payload))) => resume_unwind(payload),
            // The job always sends (panics are caught), and Rayon runs every spawned job,
            // even after its pool is dropped.
            Poll::Ready(Err(_)) => panic!("the Rayon job was dropped without running"),
        }
    }
}

impl<R> fmt::Debug for Compute<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Compute").finish_non_exhaustive()
    }
}
