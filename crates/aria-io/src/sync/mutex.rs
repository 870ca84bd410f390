//! An async, fair mutex: a [`Semaphore`] with one permit guarding an `UnsafeCell`.

use std::fmt;
use std::marker::PhantomData;
use std::ops::{Deref, DerefMut};
use std::sync::Arc;

use super::semaphore::{Semaphore, TryAcquireError};
use crate::loom::cell::UnsafeCell;

/// An async mutual-exclusion lock whose guard can be held across `.await` points.
///
/// The lock is fair: tasks get it in the order they called [`lock`](Mutex::lock), because
/// unlocking hands it straight to the first waiter (the lock's single permit goes through
/// a [`Semaphore`]'s FIFO queue). A task that keeps locking cannot starve the others, and
/// [`try_lock`](Mutex::try_lock) fails while anyone waits.
///
/// Prefer `std::sync::Mutex` when the lock is never held across an `.await`: it is cheaper.
///
/// ```
/// use std::sync::Arc;
/// use aria_io::sync::Mutex;
///
/// aria_io::Runtime::new()?.block_on(async {
///     let count = Arc::new(Mutex::new(0));
///     let tasks: Vec<_> = (0..10)
///         .map(|_| {
///             let count = count.clone();
///             aria_io::spawn(async move {
///                 let mut n = count.lock().await;
///                 aria_io::yield_now().await; // still held across the await
///                 *n += 1;
///             })
///         })
///         .collect();
///     for t in tasks {
///         t.await.unwrap();
///     }
///     assert_eq!(*count.lock().await, 10);
/// });
/// # Ok::<_, std::io::Error>(())
/// ```
pub struct Mutex<T: ?Sized> {
    sem: Semaphore,
    data: UnsafeCell<T>,
}

// SAFETY: the single permit of `sem` lets at most one guard exist at a time, and only a guard
// reaches `data`; sharing the mutex thus moves `&mut T` between threads, which `T: Send` allows.
unsafe impl<T: ?Sized + Send> Sync for Mutex<T> {}

impl<T> Mutex<T> {
    /// An unlocked mutex holding `value`.
    pub fn new(value: T) -> Mutex<T> {
        Mutex { sem: Semaphore::new(1), data: UnsafeCell::new(value) }
    }

    /// Consumes the mutex and returns the value.
    pub fn into_inner(self) -> T {
        self.data.into_inner()
    }
}

impl<T: ?Sized> Mutex<T> {
    /// Waits for the lock.
    ///
    /// # Cancel safety
    /// Cancel-safe: dropping the future gives up its place in the queue, and if the lock had
    /// already been handed to it, the lock passes to the next waiter.
    pub async fn lock(&self) -> MutexGuard<'_, T> {
        match self.sem.acquire_raw(1).await {
            Ok(()) => MutexGuard { lock: self, _marker: PhantomData },
            Err(_) => unreachable!("a mutex's semaphore is never closed"),
        }
    }

    /// Takes the lock if it is free and nobody is waiting for it.
    ///
    /// # Errors
    /// [`TryLockError`] if the lock is held or other tasks are queued for it.
    pub fn try_lock(&self) -> Result<MutexGuard<'_, T>, TryLockError> {
        match self.sem.try_acquire_raw(1) {
            Ok(()) => Ok(MutexGuard { lock: self, _marker: PhantomData }),
            Err(_) => Err(TryLockError(())),
        }
    }

    /// Waits for the lock, returning a guard that keeps the mutex alive (for moving into a
    /// spawned task).
    ///
    /// # Cancel safety
    /// As [`lock`](Mutex::lock).
    pub async fn lock_owned(self: Arc<Self>) -> OwnedMutexGuard<T> {
        match self.sem.acquire_raw(1).await {
            Ok(()) => OwnedMutexGuard { lock: self, _marker: PhantomData },
            Err(_) => unreachable!("a mutex's semaphore is never closed"),
        }
    }

    /// As [`try_lock`](Mutex::try_lock), returning a guard that keeps the mutex alive.
    ///
    /// # Errors
    /// As [`try_lock`](Mutex::try_lock).
    pub fn try_lock_owned(self: Arc<Self>) -> Result<OwnedMutexGuard<T>, TryLockError> {
        match self.sem.try_acquire_raw(1) {
            Ok(()) => Ok(OwnedMutexGuard { lock: self, _marker: PhantomData }),
            Err(_) => Err(TryLockError(())),
        }
    }

    /// The value, through exclusive access to the mutex (no locking needed).
    pub fn get_mut(&mut self) -> &mut T {
        // SAFETY: `&mut self` proves no guard exists and no other reference to `data` does.
        self.data.with_mut(|p| unsafe { &mut *p })
    }

    /// # Safety
    /// The caller holds the mutex's permit, for at least as long as the reference lives.
    unsafe fn value(&self) -> &T {
        // SAFETY: the permit excludes every other guard, so only shared access derived from
        // the caller's guard exists while the reference lives.
        self.data.with(|p| unsafe { &*p })
    }

    /// # Safety
    /// The caller holds the mutex's permit, for at least as long as the reference lives, and
    /// borrows its guard mutably for as long.
    #[allow(clippy::mut_from_ref)]
    unsafe fn value_mut(&self) -> &mut T {
        // SAFETY: the permit excludes every other guard, and the caller's guard is borrowed
        // mutably, so this is the only reference to `data`.
        self.data.with_mut(|p| unsafe { &mut *p })
    }
}

impl<T: Default> Default for Mutex<T> {
    fn default() -> Mutex<T> {
        Mutex::new(T::default())
    }
}

impl<T> From<T> for Mutex<T> {
    fn from(value: T) -> Mutex<T> {
        Mutex::new(value)
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for Mutex<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("Mutex");
        match self.try_lock() {
            Ok(guard) => d.field("data", &&*guard),
            Err(_) => d.field("data", &format_args!("<locked>")),
        };
        d.finish()
    }
}

/// Exclusive access to the value of a [`Mutex`]; unlocks when dropped.
#[must_use = "the lock is released as soon as the guard is dropped"]
pub struct MutexGuard<'a, T: ?Sized> {
    lock: &'a Mutex<T>,
    /// Makes the guard `Send`/`Sync` exactly when `&mut T` is.
    _marker: PhantomData<&'a mut T>,
}

impl<T: ?Sized> Deref for MutexGuard<'_, T> {
    type Target = T;

    fn deref(&self) -> &T {
        // SAFETY: this guard holds the permit and the reference borrows the guard.
        unsafe { self.lock.value() }
    }
}

impl<T: ?Sized> DerefMut for MutexGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: this guard holds the permit and is borrowed mutably by the reference.
        unsafe { self.lock.value_mut() }
    }
}

impl<T: ?Sized> Drop for MutexGuard<'_, T> {
    fn drop(&mut self) {
        self.lock.sem.release(1);
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for MutexGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl<T: ?Sized + fmt::Display> fmt::Display for MutexGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&**self, f)
    }
}

/// Exclusive access to the value of an `Arc<Mutex<T>>`, keeping the mutex alive; unlocks when
/// dropped. Returned by [`Mutex::lock_owned`].
#[must_use = "the lock is released as soon as the guard is dropped"]
pub struct OwnedMutexGuard<T: ?Sized> {
    lock: Arc<Mutex<T>>,
    /// Makes the guard `Sync` only when `T` is.
    _marker: PhantomData<T>,
}

impl<T: ?Sized> OwnedMutexGuard<T> {
    /// The mutex this guard locks.
    pub fn mutex(this: &OwnedMutexGuard<T>) -> &Arc<Mutex<T>> {
        &this.lock
    }
}

impl<T: ?Sized> Deref for OwnedMutexGuard<T> {
    type Target = T;

    fn deref(&self) -> &T {
        // SAFETY: this guard holds the permit and the reference borrows the guard.
        unsafe { self.lock.value() }
    }
}

impl<T: ?Sized> DerefMut for OwnedMutexGuard<T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: this guard holds the permit and is borrowed mutably by the reference.
        unsafe { self.lock.value_mut() }
    }
}

impl<T: ?Sized> Drop for OwnedMutexGuard<T> {
    fn drop(&mut self) {
        self.lock.sem.release(1);
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for OwnedMutexGuard<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl<T: ?Sized + fmt::Display> fmt::Display for OwnedMutexGuard<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&**self, f)
    }
}

/// The error of [`Mutex::try_lock`], [`RwLock::try_read`](super::RwLock::try_read) and
/// [`RwLock::try_write`](super::RwLock::try_write): the lock is held or others wait for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TryLockError(pub(super) ());

impl fmt::Display for TryLockError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("lock is held or contended")
    }
}

impl std::error::Error for TryLockError {}

impl From<TryAcquireError> for TryLockError {
    fn from(_: TryAcquireError) -> TryLockError {
        TryLockError(())
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use crate::sync::test_util::poll_once;
    use std::task::Poll;

    #[test]
    fn unlocking_hands_the_lock_to_the_first_waiter() {
        let m = Mutex::new(Vec::new());
        let g = m.try_lock().unwrap();
        let mut a = Box::pin(async {
            m.lock().await.push('a');
        });
        let mut b = Box::pin(async {
            m.lock().await.push('b');
        });
        assert!(poll_once(&mut b).is_pending());
        assert!(poll_once(&mut a).is_pending());
        drop(g);
        assert!(m.try_lock().is_err(), "the lock went to the first waiter, not to try_lock");
        assert_eq!(poll_once(&mut a), Poll::Pending, "a queued second");
        assert_eq!(poll_once(&mut b), Poll::Ready(()));
        assert_eq!(poll_once(&mut a), Poll::Ready(()));
        drop((a, b));
        assert_eq!(m.into_inner(), ['b', 'a']);
    }

    #[test]
    fn a_dropped_lock_future_passes_the_lock_on() {
        let m = Arc::new(Mutex::new(1));
        let g = m.try_lock().unwrap();
        let mut first = Box::pin(m.lock());
        let mut second = Box::pin(m.clone().lock_owned());
        assert!(poll_once(&mut first).is_pending());
        assert!(poll_once(&mut second).is_pending());
        drop(g); // the lock goes to `first`, which is then dropped without being polled
        drop(first);
        let Poll::Ready(mut g) = poll_once(&mut second) else { panic!("the lock was lost") };
        *g += 1;
        drop(g);
        assert_eq!(format!("{m:?}"), "Mutex { data: 2 }");
    }

    /// Under Miri this checks the `UnsafeCell` accesses for data races.
    #[test]
    fn guards_on_several_threads_never_overlap() {
        let m = Arc::new(Mutex::new(0u32));
        let threads: Vec<_> = (0..3)
            .map(|_| {
                let m = m.clone();
                std::thread::spawn(move || {
                    for _ in 0..20 {
                        crate::sync::block_on::block_on("test", async { *m.lock().await += 1 });
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        assert_eq!(*m.try_lock().unwrap(), 60);
    }

    #[test]
    fn unsized_values_and_get_mut() {
        let mut m: Box<Mutex<[u8]>> = Box::new(Mutex::new([1, 2, 3]));
        m.get_mut()[0] = 9;
        let mut g = m.try_lock().unwrap();
        g[1] = 8;
        assert_eq!(&*g, [9, 8, 3]);
    }
}

#[cfg(all(test, loom))]
mod loom_models {
    use super::*;
    use loom::future::block_on;
    use loom::thread;

    /// Two threads increment through the lock; loom checks the cell accesses never race.
    #[test]
    fn guards_exclude_each_other() {
        loom::model(|| {
            let m = crate::loom::sync::Arc::new(Mutex::new(0));
            let m2 = m.clone();
            let other = thread::spawn(move || block_on(async { *m2.lock().await += 1 }));
            block_on(async { *m.lock().await += 1 });
            other.join().unwrap();
            assert_eq!(*m.try_lock().unwrap(), 2);
        });
    }
}
