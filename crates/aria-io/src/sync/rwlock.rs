//! An async, fair reader-writer lock: a [`Semaphore`] with `max_readers` permits, of which a
//! reader takes one and a writer all.
//!
//! Writer preference falls out of the semaphore's FIFO queue: a writer waiting at the head
//! collects every permit the departing readers release, and readers arriving after it queue
//! behind it instead of sharing the lock with the readers already inside.

use std::fmt;
use std::marker::PhantomData;
use std::ops::{Deref, DerefMut};

use super::mutex::TryLockError;
use super::semaphore::Semaphore;
use crate::loom::cell::UnsafeCell;

/// An async reader-writer lock: many readers or one writer, held across `.await` points.
///
/// The lock is fair and writer-preferring: tasks are served in the order they asked, so once
/// a writer waits, readers that come after it wait too, and neither side can starve the other.
///
/// ```
/// use aria_io::sync::RwLock;
///
/// aria_io::Runtime::new()?.block_on(async {
///     let lock = RwLock::new(5);
///     {
///         let (r1, r2) = (lock.read().await, lock.read().await);
///         assert_eq!(*r1 + *r2, 10);
///         assert!(lock.try_write().is_err());
///     }
///     *lock.write().await += 1;
///     assert_eq!(*lock.read().await, 6);
/// });
/// # Ok::<_, std::io::Error>(())
/// ```
pub struct RwLock<T: ?Sized> {
    max_readers: u32,
    sem: Semaphore,
    data: UnsafeCell<T>,
}

// SAFETY: readers share `&T` between threads (needs `T: Sync`) and a writer may be on any
// thread (needs `T: Send`); the semaphore keeps a writer's permits exclusive of every reader's.
unsafe impl<T: ?Sized + Send + Sync> Sync for RwLock<T> {}

/// The most readers a lock admits at once, and the default.
const MAX_READERS: u32 = u32::MAX >> 3;

impl<T> RwLock<T> {
    /// An unlocked lock holding `value`, admitting up to `u32::MAX >> 3` concurrent readers.
    pub fn new(value: T) -> RwLock<T> {
        RwLock::with_max_readers(value, MAX_READERS)
    }

    /// An unlocked lock admitting at most `max_readers` concurrent readers; further readers
    /// wait (in order) for one to leave.
    ///
    /// # Panics
    /// If `max_readers` is zero or above `u32::MAX >> 3`.
    pub fn with_max_readers(value: T, max_readers: u32) -> RwLock<T> {
        assert!((1..=MAX_READERS).contains(&max_readers), "max_readers must be between 1 and u32::MAX >> 3");
        RwLock { max_readers, sem: Semaphore::new(max_readers as usize), data: UnsafeCell::new(value) }
    }

    /// Consumes the lock and returns the value.
    pub fn into_inner(self) -> T {
        self.data.into_inner()
    }
}

impl<T: ?Sized> RwLock<T> {
    /// Waits for shared read access.
    ///
    /// # Cancel safety
    /// Cancel-safe: dropping the future gives up its place in the queue, and a read slot
    /// already handed to it goes to the next waiter.
    pub async fn read(&self) -> RwLockReadGuard<'_, T> {
        match self.sem.acquire_raw(1).await {
            Ok(()) => RwLockReadGuard { lock: self, _marker: PhantomData },
            Err(_) => unreachable!("an RwLock's semaphore is never closed"),
        }
    }

    /// Takes shared read access if no writer holds or waits for the lock.
    ///
    /// # Errors
    /// [`TryLockError`] if a writer holds the lock, anyone is queued, or `max_readers`
    /// readers are inside.
    pub fn try_read(&self) -> Result<RwLockReadGuard<'_, T>, TryLockError> {
        self.sem.try_acquire_raw(1)?;
        Ok(RwLockReadGuard { lock: self, _marker: PhantomData })
    }

    /// Waits for exclusive write access. Readers arriving while this waits queue behind it.
    ///
    /// # Cancel safety
    /// Cancel-safe: dropping the future gives up its place in the queue and releases the read
    /// slots already set aside for it, waking the readers queued behind it.
    pub async fn write(&self) -> RwLockWriteGuard<'_, T> {
        match self.sem.acquire_raw(self.max_readers).await {
            Ok(()) => RwLockWriteGuard { lock: self, _marker: PhantomData },
            Err(_) => unreachable!("an RwLock's semaphore is never closed"),
        }
    }

    /// Takes exclusive write access if the lock is free and nobody is queued.
    ///
    /// # Errors
    /// [`TryLockError`] if the lock is held or anyone is queued for it.
    pub fn try_write(&self) -> Result<RwLockWriteGuard<'_, T>, TryLockError> {
        self.sem.try_acquire_raw(self.max_readers)?;
        Ok(RwLockWriteGuard { lock: self, _marker: PhantomData })
    }

    /// The value, through exclusive access to the lock (no locking needed).
    pub fn get_mut(&mut self) -> &mut T {
        // SAFETY: `&mut self` proves no guard and no other reference to `data` exists.
        self.data.with_mut(|p| unsafe { &mut *p })
    }

    /// # Safety
    /// The caller holds at least one permit, for at least as long as the reference lives.
    unsafe fn value(&self) -> &T {
        // SAFETY: a held permit excludes writers; only shared references exist.
        self.data.with(|p| unsafe { &*p })
    }

    /// # Safety
    /// The caller holds all `max_readers` permits and borrows its guard mutably for as long as
    /// the reference lives.
    #[allow(clippy::mut_from_ref)]
    unsafe fn value_mut(&self) -> &mut T {
        // SAFETY: holding every permit excludes all other guards; the caller's guard is
        // borrowed mutably, so this is the only reference.
        self.data.with_mut(|p| unsafe { &mut *p })
    }
}

impl<T: Default> Default for RwLock<T> {
    fn default() -> RwLock<T> {
        RwLock::new(T::default())
    }
}

impl<T> From<T> for RwLock<T> {
    fn from(value: T) -> RwLock<T> {
        RwLock::new(value)
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for RwLock<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("RwLock");
        match self.try_read() {
            Ok(guard) => d.field("data", &&*guard),
            Err(_) => d.field("data", &format_args!("<locked>")),
        };
        d.finish()
    }
}

/// Shared access to the value of an [`RwLock`]; releases its read slot when dropped.
#[must_use = "the read lock is released as soon as the guard is dropped"]
pub struct RwLockReadGuard<'a, T: ?Sized> {
    lock: &'a RwLock<T>,
    _marker: PhantomData<&'a T>,
}

impl<T: ?Sized> Deref for RwLockReadGuard<'_, T> {
    type Target = T;

    fn deref(&self) -> &T {
        // SAFETY: this guard holds a read permit and the reference borrows it.
        unsafe { self.lock.value() }
    }
}

impl<T: ?Sized> Drop for RwLockReadGuard<'_, T> {
    fn drop(&mut self) {
        self.lock.sem.release(1);
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for RwLockReadGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

/// Exclusive access to the value of an [`RwLock`]; unlocks when dropped.
#[must_use = "the write lock is released as soon as the guard is dropped"]
pub struct RwLockWriteGuard<'a, T: ?Sized> {
    lock: &'a RwLock<T>,
    _marker: PhantomData<&'a mut T>,
}

impl<'a, T: ?Sized> RwLockWriteGuard<'a, T> {
    /// Turns write access into read access without letting a writer in between. Readers
    /// queued behind this writer (up to the first queued writer) are let in too.
    pub fn downgrade(this: RwLockWriteGuard<'a, T>) -> RwLockReadGuard<'a, T> {
        let lock = this.lock;
        std::mem::forget(this);
        lock.sem.release(lock.max_readers as usize - 1);
        RwLockReadGuard { lock, _marker: PhantomData }
    }
}

impl<T: ?Sized> Deref for RwLockWriteGuard<'_, T> {
    type Target = T;

    fn deref(&self) -> &T {
        // SAFETY: this guard holds every permit and the reference borrows it.
        unsafe { self.lock.value() }
    }
}

impl<T: ?Sized> DerefMut for RwLockWriteGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: this guard holds every permit and is borrowed mutably by the reference.
        unsafe { self.lock.value_mut() }
    }
}

impl<T: ?Sized> Drop for RwLockWriteGuard<'_, T> {
    fn drop(&mut self) {
        self.lock.sem.release(self.lock.max_readers as usize);
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for RwLockWriteGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use crate::sync::test_util::poll_once;
    use std::task::Poll;

    #[test]
    fn a_waiting_writer_keeps_new_readers_out() {
        let lock = RwLock::new(0);
        let r1 = lock.try_read().unwrap();
        let mut w = Box::pin(lock.write());
        assert!(poll_once(&mut w).is_pending());
        assert!(lock.try_read().is_err(), "a reader may not overtake the queued writer");
        let mut r2 = Box::pin(lock.read());
        assert!(poll_once(&mut r2).is_pending());
        drop(r1);
        let Poll::Ready(mut g) = poll_once(&mut w) else { panic!("the writer was next") };
        *g = 1;
        assert!(poll_once(&mut r2).is_pending());
        let g = RwLockWriteGuard::downgrade(g);
        let Poll::Ready(r2) = poll_once(&mut r2) else { panic!("downgrade lets readers in") };
        assert_eq!((*g, *r2), (1, 1));
    }

    #[test]
    fn a_dropped_writer_lets_the_readers_behind_it_in() {
        let lock = RwLock::with_max_readers(String::from("x"), 4);
        let r1 = lock.try_read().unwrap();
        let mut w = Box::pin(lock.write());
        assert!(poll_once(&mut w).is_pending());
        let mut r2 = Box::pin(lock.read());
        assert!(poll_once(&mut r2).is_pending());
        drop(w);
        assert!(poll_once(&mut r2).is_ready());
        drop(r1);
        assert_eq!(format!("{lock:?}"), "RwLock { data: \"x\" }");
    }

    /// Under Miri this checks the `UnsafeCell` accesses for data races.
    #[test]
    fn readers_and_writers_on_several_threads() {
        let lock = std::sync::Arc::new(RwLock::new(0u32));
        let threads: Vec<_> = (0..3)
            .map(|i| {
                let lock = lock.clone();
                std::thread::spawn(move || {
                    for _ in 0..20 {
                        crate::sync::block_on::block_on("test", async {
                            if i == 0 {
                                *lock.write().await += 1;
                            } else {
                                assert!(*lock.read().await <= 20);
                            }
                        });
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        assert_eq!(*lock.try_read().unwrap(), 20);
    }

    #[test]
    fn max_readers_bounds_concurrent_readers() {
        let lock = RwLock::with_max_readers((), 2);
        let (_a, _b) = (lock.try_read().unwrap(), lock.try_read().unwrap());
        assert!(lock.try_read().is_err());
    }
}
