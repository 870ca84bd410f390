//! Synchronization primitives for async code: channels, locks, semaphores, notification.
//!
//! These are runtime-agnostic futures: they only use [`Waker`](std::task::Waker)s, so they work
//! on any executor, and every waiting operation is cancellation-safe as documented per method
//! (the "Cancel safety" section).
//!
//! | Type | For |
//! |---|---|
//! | [`mpsc`] | many producers, one consumer; bounded (backpressure) or unbounded |
//! | [`oneshot`] | one value, once |
//! | [`broadcast`] | many producers, many consumers, each consumer sees every value |
//! | [`watch`] | many consumers observing the latest value |
//! | [`Mutex`], [`RwLock`] | exclusive / shared access across `.await` points, fair (FIFO) |
//! | [`Semaphore`] | limiting concurrency, fair (FIFO) |
//! | [`Notify`] | waking one or all tasks, like a condition variable without the lock |
//! | [`Barrier`] | waiting for `n` tasks to arrive |
//!
//! # Design
//!
//! One mechanism parks tasks: a waiter queue (`waiters::WaitList`), a FIFO of wakers kept in a
//! slab under the primitive's lock, with O(1) enqueue, dequeue and removal of a cancelled
//! waiter. [`Semaphore`] and [`Notify`] are built on it directly, [`Mutex`] and [`RwLock`] are
//! semaphores (one permit; `max_readers` permits with a writer taking all of them), and the
//! bounded [`mpsc`] channel hands out one permit per message slot. [`Barrier`] and the
//! [`broadcast`] receivers park on the same queue; [`watch`] receivers and the `closed()`
//! futures of [`mpsc`] and [`watch`] park on a [`Notify`]. Only [`oneshot`], with a single
//! waiter per side, keeps a plain waker slot.
//!
//! The rules that make waiting cancellation-safe, for every primitive:
//!
//! - A waiting future owns its place in the queue and removes it when dropped.
//! - Whoever grants something to a waiter (permits, a notification) records the grant in the
//!   waiter's node and unlinks it; the waiter takes the grant when it is next polled.
//! - A waiter dropped after being granted something but before taking it gives it back: a
//!   semaphore waiter returns its permits (which then go to the next waiter), a `Notify`
//!   waiter picked by [`Notify::notify_one`] passes the notification to the next waiter or
//!   stores it as the permit.
//! - Channels never take a message out of the queue for a receive that does not return it,
//!   and a bounded send only enqueues its value in the same poll that completes the send.
//! - Wakers are called after the primitive's lock is released.
//!
//! Internally the locks and atomics come from `crate::loom`, so the `cfg(loom)` models in this
//! module explore every interleaving of them.

mod barrier;
pub(crate) mod block_on;
pub mod broadcast;
pub mod mpsc;
mod mutex;
mod notify;
pub mod oneshot;
mod rwlock;
mod semaphore;
mod waiters;
pub mod watch;

pub use barrier::{Barrier, BarrierWaitResult};
pub use mutex::{Mutex, MutexGuard, OwnedMutexGuard, TryLockError};
pub use notify::{Notified, Notify};
pub use rwlock::{RwLock, RwLockReadGuard, RwLockWriteGuard};
pub use semaphore::{AcquireError, OwnedSemaphorePermit, Semaphore, SemaphorePermit, TryAcquireError};

// Locks the primitives' internal mutexes, ignoring poisoning: no code that can panic runs
// while they are held (values and wakers are dropped and woken after unlocking).
use crate::loom::lock;

#[cfg(all(test, not(loom)))]
mod test_util {
    use std::future::Future;
    use std::pin::Pin;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    use std::task::{Context, Poll, Wake, Waker};

    /// A waker that counts its wake-ups.
    #[derive(Default)]
    pub(crate) struct CountingWaker(AtomicUsize);

    impl CountingWaker {
        pub(crate) fn new() -> (Arc<CountingWaker>, Waker) {
            let c = Arc::new(CountingWaker::default());
            let w = Waker::from(c.clone());
            (c, w)
        }

        pub(crate) fn count(&self) -> usize {
            self.0.load(Ordering::SeqCst)
        }
    }

    impl Wake for CountingWaker {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    /// Polls `f` once with `waker`.
    pub(crate) fn poll_with<F: Future + Unpin>(f: &mut F, waker: &Waker) -> Poll<F::Output> {
        Pin::new(f).poll(&mut Context::from_waker(waker))
    }

    /// Polls `f` once with a waker that does nothing.
    pub(crate) fn poll_once<F: Future + Unpin>(f: &mut F) -> Poll<F::Output> {
        poll_with(f, Waker::noop())
    }
}
