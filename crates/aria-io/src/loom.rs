//! The one switch between `std` and [loom](https://docs.rs/loom) for the primitives loom can
//! model.
//!
//! Code that should be checked by loom imports `Arc`, `Mutex`, `Condvar`, `RwLock`, atomics
//! and `UnsafeCell` from here instead of from `std`. Built with `RUSTFLAGS="--cfg loom"`,
//! these are loom's instrumented types and the `#[cfg(all(test, loom))]` models explore every
//! interleaving of them; otherwise they are `std`'s, at no cost.
//!
//! `UnsafeCell` is the exception in shape: both versions only hand out raw pointers through
//! `with` / `with_mut` closures, so loom can check every access for data races.
#![allow(dead_code, unused_imports)]

#[cfg(loom)]
pub(crate) use loom::{cell, sync};

#[cfg(not(loom))]
pub(crate) mod sync {
    pub(crate) use std::sync::{Arc, Condvar, Mutex, MutexGuard, RwLock, RwLockReadGuard, RwLockWriteGuard};

    pub(crate) mod atomic {
        pub(crate) use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, AtomicUsize, Ordering};
    }
}

/// Locks `mutex`, ignoring poisoning: its users leave the protected data consistent before
/// anything that could panic (and loom's mutexes never poison).
pub(crate) fn lock<T: ?Sized>(mutex: &sync::Mutex<T>) -> sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

#[cfg(not(loom))]
pub(crate) mod cell {
    /// `std::cell::UnsafeCell` with loom's closure-based access API.
    #[derive(Debug, Default)]
    pub(crate) struct UnsafeCell<T: ?Sized>(std::cell::UnsafeCell<T>);

    impl<T> UnsafeCell<T> {
        pub(crate) const fn new(data: T) -> UnsafeCell<T> {
            UnsafeCell(std::cell::UnsafeCell::new(data))
        }

        pub(crate) fn into_inner(self) -> T {
            self.0.into_inner()
        }
    }

    impl<T: ?Sized> UnsafeCell<T> {
        /// Runs `f` with a pointer for shared access to the contents.
        pub(crate) fn with<R>(&self, f: impl FnOnce(*const T) -> R) -> R {
            f(self.0.get())
        }

        /// Runs `f` with a pointer for exclusive access to the contents.
        pub(crate) fn with_mut<R>(&self, f: impl FnOnce(*mut T) -> R) -> R {
            f(self.0.get())
        }
    }
}
