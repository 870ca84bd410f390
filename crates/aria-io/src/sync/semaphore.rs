//! A fair counting semaphore, and the permit accounting every lock and the bounded channel
//! reuse.
//!
//! # How permits move
//!
//! The state is `permits` (available), `closed`, and a [`WaitList`] of acquirers, each node
//! holding how many permits that acquirer still needs. Invariant: **if anyone is queued, no
//! permit is available.** Released permits go to the front of the queue first: the head takes
//! as many as it still needs (possibly only part of them, in which case it stays at the head
//! and everything behind it keeps waiting), and once it has all of them it is unlinked and
//! woken. This is what makes acquisition FIFO even for `acquire_many`: a large request at the
//! head is never overtaken by small ones behind it, so it cannot starve.
//!
//! An acquirer that is dropped while queued removes its node and releases whatever was already
//! assigned to it, which flows on to the next waiters. After [`Semaphore::close`] the queue is
//! emptied: every waiter that had not received all its permits returns those it had and
//! completes with [`AcquireError`].

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use super::lock;
use super::waiters::{WaitList, WaiterKey, WakeList};
use crate::loom::sync::Mutex;

/// An async counting semaphore: a pool of permits that tasks take and give back.
///
/// Acquisition is fair: acquirers are served in the order they started waiting, including
/// [`acquire_many`](Semaphore::acquire_many) requests, and [`try_acquire`](Semaphore::try_acquire)
/// does not jump the queue (it fails while anyone waits).
///
/// ```
/// use std::sync::Arc;
/// use aria_io::sync::Semaphore;
///
/// aria_io::Runtime::new()?.block_on(async {
///     let limit = Arc::new(Semaphore::new(2)); // at most two jobs at once
///     let mut jobs = Vec::new();
///     for i in 0..5 {
///         let permit = limit.clone().acquire_owned().await.unwrap();
///         jobs.push(aria_io::spawn(async move {
///             let _permit = permit; // released when the job ends
///             i * 2
///         }));
///     }
///     let mut sum = 0;
///     for job in jobs {
///         sum += job.await.unwrap();
///     }
///     assert_eq!(sum, 20);
/// });
/// # Ok::<_, std::io::Error>(())
/// ```
pub struct Semaphore {
    state: Mutex<State>,
}

struct State {
    permits: usize,
    closed: bool,
    /// Each waiter's value is how many permits it still needs.
    waiters: WaitList<usize>,
}

impl State {
    /// Adds `n` permits and hands them to the front of the queue.
    ///
    /// # Panics
    /// If the total would exceed [`Semaphore::MAX_PERMITS`] (the state is unchanged then).
    fn release(&mut self, n: usize, wakers: &mut WakeList) {
        match self.permits.checked_add(n) {
            Some(total) if total <= Semaphore::MAX_PERMITS => self.permits = total,
            _ => panic!("a semaphore cannot hold more than {} permits", Semaphore::MAX_PERMITS),
        }
        while self.permits > 0 {
            let Some(key) = self.waiters.front() else { break };
            let needed = self.waiters.value_mut(key);
            let take = (*needed).min(self.permits);
            *needed -= take;
            self.permits -= take;
            if *needed > 0 {
                break;
            }
            self.waiters.pop_front();
            wakers.extend(self.waiters.take_waker(key));
        }
    }
}

impl Semaphore {
    /// The largest number of permits a semaphore can hold (`usize::MAX >> 3`).
    pub const MAX_PERMITS: usize = usize::MAX >> 3;

    /// A semaphore holding `permits` permits.
    ///
    /// # Panics
    /// If `permits` exceeds [`Semaphore::MAX_PERMITS`].
    pub fn new(permits: usize) -> Semaphore {
        assert!(permits <= Semaphore::MAX_PERMITS, "a semaphore cannot hold more than MAX_PERMITS permits");
        Semaphore { state: Mutex::new(State { permits, closed: false, waiters: WaitList::new() }) }
    }

    /// How many permits are available right now (zero while anyone is waiting).
    pub fn available_permits(&self) -> usize {
        lock(&self.state).permits
    }

    /// Adds `n` permits, waking the waiters they satisfy, in order.
    ///
    /// # Panics
    /// If the semaphore would then hold more than [`Semaphore::MAX_PERMITS`] permits.
    pub fn add_permits(&self, n: usize) {
        self.release(n);
    }

    /// Removes up to `n` available permits from the semaphore for good and returns how many
    /// were removed. Permits held by others are not affected.
    pub fn forget_permits(&self, n: usize) -> usize {
        let mut state = lock(&self.state);
        let forgotten = n.min(state.permits);
        state.permits -= forgotten;
        forgotten
    }

    /// Waits for one permit.
    ///
    /// # Errors
    /// [`AcquireError`] if the semaphore is [closed](Semaphore::close) before the permit is
    /// acquired.
    ///
    /// # Cancel safety
    /// Cancel-safe, and fair: dropping the future gives up its place in the queue, and if a
    /// permit had already been assigned to it, the permit goes to the next waiter.
    pub async fn acquire(&self) -> Result<SemaphorePermit<'_>, AcquireError> {
        self.acquire_many(1).await
    }

    /// Waits for `n` permits, taken all at once. Requests are served in order: while this one
    /// waits at the head of the queue, released permits are set aside for it rather than given
    /// to smaller requests behind it. `n == 0` completes at once.
    ///
    /// # Errors
    /// [`AcquireError`] if the semaphore is [closed](Semaphore::close) before all `n` permits
    /// are acquired.
    ///
    /// # Cancel safety
    /// Cancel-safe: permits set aside for a dropped request are released to the next waiters.
    pub async fn acquire_many(&self, n: u32) -> Result<SemaphorePermit<'_>, AcquireError> {
        self.acquire_raw(n).await?;
        Ok(SemaphorePermit { sem: self, permits: n })
    }

    /// Takes one permit if one is available and nobody is waiting.
    ///
    /// # Errors
    /// [`TryAcquireError::Closed`] if the semaphore is closed, [`TryAcquireError::NoPermits`]
    /// otherwise.
    pub fn try_acquire(&self) -> Result<SemaphorePermit<'_>, TryAcquireError> {
        self.try_acquire_many(1)
    }

    /// Takes `n` permits if they are available and nobody is waiting.
    ///
    /// # Errors
    /// As [`try_acquire`](Semaphore::try_acquire).
    pub fn try_acquire_many(&self, n: u32) -> Result<SemaphorePermit<'_>, TryAcquireError> {
        self.try_acquire_raw(n)?;
        Ok(SemaphorePermit { sem: self, permits: n })
    }

    /// Waits for one permit that keeps the semaphore alive, for moving into a spawned task.
    ///
    /// # Errors
    /// As [`acquire`](Semaphore::acquire).
    ///
    /// # Cancel safety
    /// As [`acquire`](Semaphore::acquire).
    pub async fn acquire_owned(self: Arc<Self>) -> Result<OwnedSemaphorePermit, AcquireError> {
        self.acquire_many_owned(1).await
    }

    /// Waits for `n` permits that keep the semaphore alive.
    ///
    /// # Errors
    /// As [`acquire_many`](Semaphore::acquire_many).
    ///
    /// # Cancel safety
    /// As [`acquire_many`](Semaphore::acquire_many).
    pub async fn acquire_many_owned(self: Arc<Self>, n: u32) -> Result<OwnedSemaphorePermit, AcquireError> {
        self.acquire_raw(n).await?;
        Ok(OwnedSemaphorePermit { sem: self, permits: n })
    }

    /// Takes one permit that keeps the semaphore alive, if available and nobody waits.
    ///
    /// # Errors
    /// As [`try_acquire`](Semaphore::try_acquire).
    pub fn try_acquire_owned(self: Arc<Self>) -> Result<OwnedSemaphorePermit, TryAcquireError> {
        self.try_acquire_many_owned(1)
    }

    /// Takes `n` permits that keep the semaphore alive, if available and nobody waits.
    ///
    /// # Errors
    /// As [`try_acquire`](Semaphore::try_acquire).
    pub fn try_acquire_many_owned(self: Arc<Self>, n: u32) -> Result<OwnedSemaphorePermit, TryAcquireError> {
        self.try_acquire_raw(n)?;
        Ok(OwnedSemaphorePermit { sem: self, permits: n })
    }

    /// Closes the semaphore: every pending and future acquisition fails with
    /// [`AcquireError`]. Permits already held stay valid and are still returned on drop.
    pub fn close(&self) {
        let mut wakers = WakeList::new();
        {
            let mut state = lock(&self.state);
            state.closed = true;
            state.waiters.drain(&mut wakers, |_| {});
        }
        wakers.wake_all();
    }

    /// Whether [`close`](Semaphore::close) was called.
    pub fn is_closed(&self) -> bool {
        lock(&self.state).closed
    }

    /// The acquisition future without a permit guard, for the types built on the semaphore.
    pub(crate) fn acquire_raw(&self, n: u32) -> Acquire<'_> {
        Acquire { sem: self, needed: n, waiter: None }
    }

    /// Takes `n` permits without a guard; the caller releases them with [`Semaphore::release`].
    pub(crate) fn try_acquire_raw(&self, n: u32) -> Result<(), TryAcquireError> {
        let mut state = lock(&self.state);
        if state.closed {
            return Err(TryAcquireError::Closed);
        }
        // Permits are only available when nobody waits, so this never jumps the queue.
        let n = n as usize;
        if state.permits < n {
            return Err(TryAcquireError::NoPermits);
        }
        state.permits -= n;
        Ok(())
    }

    /// Gives back `n` permits, handing them to waiters in order.
    pub(crate) fn release(&self, n: usize) {
        if n == 0 {
            return;
        }
        let mut wakers = WakeList::new();
        lock(&self.state).release(n, &mut wakers);
        wakers.wake_all();
    }
}

impl fmt::Debug for Semaphore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = lock(&self.state);
        f.debug_struct("Semaphore")
            .field("permits", &state.permits)
            .field("waiters", &state.waiters.len())
            .field("closed", &state.closed)
            .finish()
    }
}

/// Waits for `needed` permits; completes with `Ok(())` once they are the caller's to release.
///
/// See the [module docs](self) for how permits reach a queued acquirer and what dropping one
/// gives back.
pub(crate) struct Acquire<'a> {
    sem: &'a Semaphore,
    needed: u32,
    /// Set while queued.
    waiter: Option<WaiterKey>,
}

impl Future for Acquire<'_> {
    type Output = Result<(), AcquireError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let (sem, needed) = (self.sem, self.needed as usize);
        let mut state = lock(&sem.state);
        let Some(key) = self.waiter else {
            if state.closed {
                return Poll::Ready(Err(AcquireError(())));
            }
            if state.permits >= needed {
                state.permits -= needed;
                return Poll::Ready(Ok(()));
            }
            // Nobody can be queued with permits available, so this waiter will be the head:
            // it takes what there is now and waits for the rest.
            let got = state.permits;
            state.permits = 0;
            let key = state.waiters.push_back(needed - got, Some(cx.waker()));
            drop(state);
            self.waiter = Some(key);
            return Poll::Pending;
        };
        if state.waiters.is_queued(key) {
            state.waiters.register(key, cx.waker());
            return Poll::Pending;
        }
        let missing = state.waiters.remove(key);
        self.waiter = None;
        if missing == 0 {
            return Poll::Ready(Ok(()));
        }
        // Unlinked before it had everything: the semaphore was closed.
        let mut wakers = WakeList::new();
        state.release(needed - missing, &mut wakers);
        drop(state);
        wakers.wake_all();
        Poll::Ready(Err(AcquireError(())))
    }
}

impl Drop for Acquire<'_> {
    fn drop(&mut self) {
        let Some(key) = self.waiter.take() else { return };
        let mut wakers = WakeList::new();
        {
            let mut state = lock(&self.sem.state);
            let missing = state.waiters.remove(key);
            // Whatever was assigned to this waiter, possibly everything, goes to the next ones.
            state.release(self.needed as usize - missing, &mut wakers);
        }
        wakers.wake_all();
    }
}

impl fmt::Debug for Acquire<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Acquire")
            .field("needed", &self.needed)
            .field("queued", &self.waiter.is_some())
            .finish()
    }
}

/// Permits borrowed from a [`Semaphore`]; dropping the permit gives them back.
#[must_use = "the permits are released as soon as the permit is dropped"]
pub struct SemaphorePermit<'a> {
    sem: &'a Semaphore,
    permits: u32,
}

impl<'a> SemaphorePermit<'a> {
    /// How many permits this holds.
    pub fn num_permits(&self) -> u32 {
        self.permits
    }

    /// Drops the permit without giving its permits back: the semaphore shrinks for good.
    pub fn forget(mut self) {
        self.permits = 0;
    }

    /// Adds the permits of `other` (from the same semaphore) to this one.
    ///
    /// # Panics
    /// If `other` belongs to a different semaphore.
    pub fn merge(&mut self, mut other: SemaphorePermit<'a>) {
        assert!(std::ptr::eq(self.sem, other.sem), "merging permits of different semaphores");
        self.permits += std::mem::take(&mut other.permits);
    }

    /// Moves `n` of this permit's permits into a new permit; `None` if it holds fewer than `n`.
    pub fn split(&mut self, n: u32) -> Option<SemaphorePermit<'a>> {
        self.permits = self.permits.checked_sub(n)?;
        Some(SemaphorePermit { sem: self.sem, permits: n })
    }
}

impl Drop for SemaphorePermit<'_> {
    fn drop(&mut self) {
        self.sem.release(self.permits as usize);
    }
}

impl fmt::Debug for SemaphorePermit<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SemaphorePermit").field("permits", &self.permits).finish_non_exhaustive()
    }
}

/// Permits of an `Arc<Semaphore>`, keeping it alive; dropping the permit gives them back.
#[must_use = "the permits are released as soon as the permit is dropped"]
pub struct OwnedSemaphorePermit {
    sem: Arc<Semaphore>,
    permits: u32,
}

impl OwnedSemaphorePermit {
    /// How many permits this holds.
    pub fn num_permits(&self) -> u32 {
        self.permits
    }

    /// The semaphore the permits belong to.
    pub fn semaphore(&self) -> &Arc<Semaphore> {
        &self.sem
    }

    /// Drops the permit without giving its permits back: the semaphore shrinks for good.
    pub fn forget(mut self) {
        self.permits = 0;
    }

    /// Adds the permits of `other` (from the same semaphore) to this one.
    ///
    /// # Panics
    /// If `other` belongs to a different semaphore.
    pub fn merge(&mut self, mut other: OwnedSemaphorePermit) {
        assert!(Arc::ptr_eq(&self.sem, &other.sem), "merging permits of different semaphores");
        self.permits += std::mem::take(&mut other.permits);
    }

    /// Moves `n` of this permit's permits into a new permit; `None` if it holds fewer than `n`.
    pub fn split(&mut self, n: u32) -> Option<OwnedSemaphorePermit> {
        self.permits = self.permits.checked_sub(n)?;
        Some(OwnedSemaphorePermit { sem: self.sem.clone(), permits: n })
    }
}

impl Drop for OwnedSemaphorePermit {
    fn drop(&mut self) {
        self.sem.release(self.permits as usize);
    }
}

impl fmt::Debug for OwnedSemaphorePermit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OwnedSemaphorePermit").field("permits", &self.permits).finish_non_exhaustive()
    }
}

/// The error of waiting on a [`Semaphore`] that was closed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AcquireError(());

impl fmt::Display for AcquireError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("semaphore closed")
    }
}

impl std::error::Error for AcquireError {}

/// The error of [`Semaphore::try_acquire`] and its variants.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TryAcquireError {
    /// The semaphore was closed.
    Closed,
    /// Not enough permits were available, or other tasks were waiting for them.
    NoPermits,
}

impl fmt::Display for TryAcquireError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TryAcquireError::Closed => f.write_str("semaphore closed"),
            TryAcquireError::NoPermits => f.write_str("no permits available"),
        }
    }
}

impl std::error::Error for TryAcquireError {}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use crate::sync::test_util::{poll_once, poll_with, CountingWaker};

    #[test]
    fn a_large_request_at_the_head_is_not_overtaken() {
        let sem = Semaphore::new(1);
        let held = sem.try_acquire().unwrap();
        let mut big = Box::pin(sem.acquire_many(3));
        assert!(poll_once(&mut big).is_pending());
        let mut small = Box::pin(sem.acquire());
        assert!(poll_once(&mut small).is_pending());
        sem.add_permits(1);
        drop(held);
        // Two permits are set aside for the big request; the small one still waits.
        assert_eq!(sem.available_permits(), 0);
        assert!(poll_once(&mut small).is_pending());
        sem.add_permits(1);
        let big = match poll_once(&mut big) {
            Poll::Ready(p) => p.unwrap(),
            Poll::Pending => panic!("three permits were released"),
        };
        assert_eq!(big.num_permits(), 3);
        drop(big);
        assert!(poll_once(&mut small).is_ready());
    }

    #[test]
    fn a_dropped_partially_served_request_returns_its_permits() {
        let sem = Semaphore::new(2);
        let mut big = Box::pin(sem.acquire_many(5));
        assert!(poll_once(&mut big).is_pending());
        let (counter, waker) = CountingWaker::new();
        let mut next = Box::pin(sem.acquire_many(2));
        assert!(poll_with(&mut next, &waker).is_pending());
        sem.add_permits(1);
        drop(big); // held 3 of its 5: they go to `next`, which needs 2
        assert_eq!(counter.count(), 1);
        let Poll::Ready(Ok(_two)) = poll_once(&mut next) else { panic!("the permits were lost") };
        assert_eq!(sem.available_permits(), 1);
    }

    #[test]
    fn close_fails_waiters_and_keeps_the_count() {
        let sem = Semaphore::new(1);
        let mut w = Box::pin(sem.acquire_many(2));
        assert!(poll_once(&mut w).is_pending());
        assert_eq!(sem.available_permits(), 0);
        sem.close();
        assert!(matches!(poll_once(&mut w), Poll::Ready(Err(AcquireError(())))));
        assert_eq!(sem.available_permits(), 1);
        assert_eq!(sem.try_acquire().unwrap_err(), TryAcquireError::Closed);
    }

    #[test]
    fn permits_split_merge_and_forget() {
        let sem = Semaphore::new(4);
        let mut p = sem.try_acquire_many(3).unwrap();
        let q = p.split(2).unwrap();
        assert!(p.split(2).is_none());
        assert_eq!((p.num_permits(), q.num_permits()), (1, 2));
        p.merge(q);
        assert_eq!(p.num_permits(), 3);
        p.forget();
        assert_eq!(sem.available_permits(), 1);
        assert_eq!(sem.forget_permits(5), 1);
    }
}

#[cfg(all(test, loom))]
mod loom_models {
    use super::*;
    use crate::loom::sync::Arc;
    use loom::future::block_on;
    use loom::thread;
    use std::task::Waker;

    /// A holder releases while another acquirer is cancelled mid-wait: no permit is lost.
    #[test]
    fn acquire_release_and_cancel_lose_no_permit() {
        loom::model(|| {
            let sem = Arc::new(Semaphore::new(1));
            let s = sem.clone();
            let holder = thread::spawn(move || {
                let p = block_on(s.acquire()).unwrap();
                drop(p);
            });
            let s = sem.clone();
            let canceller = thread::spawn(move || {
                let mut acq = Box::pin(s.acquire());
                let _ = acq.as_mut().poll(&mut Context::from_waker(Waker::noop()));
                drop(acq); // ready or not, its permit must come back
            });
            holder.join().unwrap();
            canceller.join().unwrap();
            assert_eq!(sem.available_permits(), 1);
        });
    }

    /// A partially served `acquire_many` dropped while a release hands it permits gives them
    /// all back.
    #[test]
    fn a_cancelled_partial_acquire_returns_its_share() {
        loom::model(|| {
            let sem = Arc::new(Semaphore::new(1));
            let s = sem.clone();
            let releaser = thread::spawn(move || s.add_permits(1));
            let mut acq = Box::pin(sem.acquire_many(3));
            let first = acq.as_mut().poll(&mut Context::from_waker(Waker::noop()));
            assert!(first.is_pending());
            drop(acq);
            releaser.join().unwrap();
            assert_eq!(sem.available_permits(), 2);
        });
    }
}
