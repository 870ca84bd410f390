//! Task-local storage: values that belong to a future rather than to a thread.
//!
//! # How it works
//!
//! A [`LocalKey`] wraps a `thread_local!` slot (`RefCell<Option<T>>`). The value itself lives
//! in the [`TaskLocalFuture`] returned by [`LocalKey::scope`]; around every poll of the inner
//! future it is *swapped* into the thread-local slot, and swapped back out when the poll
//! returns. The swap-back is done by a guard's `Drop`, so it also happens when the poll
//! unwinds. Swapping (rather than setting and clearing) is what makes nested scopes work: the
//! outer value waits in the inner scope's guard while the inner future is polled. Two tasks
//! that interleave on one thread each install their own value only while they are polled, so
//! neither sees the other's.
//!
//! Dropping a `TaskLocalFuture` drops its inner future inside the scope too, so destructors
//! of the inner future can read the value.

use std::cell::RefCell;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::thread;

use pin_project_lite::pin_project;

/// Declares task-local keys: `static NAME: LocalKey<T>`.
///
/// Mirrors `tokio::task_local!`. Any number of keys, each with optional attributes (doc
/// comments) and visibility. A value is set for the duration of a future with
/// [`LocalKey::scope`] or of a closure with [`LocalKey::sync_scope`], and read with
/// [`LocalKey::with`], [`LocalKey::try_with`] or [`LocalKey::get`].
///
/// ```
/// aria_io::task_local! {
///     /// The id of the request being served.
///     pub static REQUEST_ID: u64;
///     static USER: String;
/// }
///
/// aria_io::Runtime::new()?.block_on(REQUEST_ID.scope(7, async {
///     assert_eq!(REQUEST_ID.get(), 7);
///     USER.sync_scope("ada".to_string(), || USER.with(|u| assert_eq!(u, "ada")));
///     assert!(USER.try_with(|_| ()).is_err());
/// }));
/// # Ok::<_, std::io::Error>(())
/// ```
#[macro_export]
macro_rules! task_local {
    () => {};
    ($(#[$attr:meta])* $vis:vis static $name:ident: $t:ty; $($rest:tt)*) => {
        $crate::__task_local_inner!($(#[$attr])* $vis $name, $t);
        $crate::task_local!($($rest)*);
    };
    ($(#[$attr:meta])* $vis:vis static $name:ident: $t:ty) => {
        $crate::__task_local_inner!($(#[$attr])* $vis $name, $t);
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __task_local_inner {
    ($(#[$attr:meta])* $vis:vis $name:ident, $t:ty) => {
        $(#[$attr])*
        $vis static $name: $crate::task::LocalKey<$t> = {
            ::std::thread_local! {
                static __ARIA_IO_TASK_LOCAL: ::std::cell::RefCell<::std::option::Option<$t>> =
                    const { ::std::cell::RefCell::new(::std::option::Option::None) };
            }
            $crate::task::LocalKey::__new(__ARIA_IO_TASK_LOCAL)
        };
    };
}

/// A key for task-local data, declared with [`task_local!`](crate::task_local).
///
/// Mirrors `tokio::task::LocalKey`. Unlike a thread-local, the value is set by a *scope*
/// ([`scope`](LocalKey::scope) for a future, [`sync_scope`](LocalKey::sync_scope) for a
/// closure) and is visible only inside it, whichever thread polls the future. Tasks spawned
/// from inside a scope do not inherit the value: give them their own scope.
pub struct LocalKey<T: 'static> {
    inner: thread::LocalKey<RefCell<Option<T>>>,
}

impl<T: 'static> LocalKey<T> {
    #[doc(hidden)]
    pub const fn __new(inner: thread::LocalKey<RefCell<Option<T>>>) -> LocalKey<T> {
        LocalKey { inner }
    }

    /// Runs `future` with this key set to `value`: the value is installed around every poll
    /// of `future` (and around its drop), on whichever thread polls it.
    ///
    /// Scopes nest: inside, the innermost value is seen; when the inner scope's poll returns
    /// (or unwinds), the outer value is back.
    ///
    /// # Panics
    /// The returned future panics when polled while this key's value is borrowed by a
    /// [`with`](LocalKey::with) closure on the same thread (entering a scope from inside
    /// `with`), or during thread-local destruction.
    ///
    /// Mirrors `tokio::task::LocalKey::scope`.
    pub fn scope<F: Future>(&'static self, value: T, future: F) -> TaskLocalFuture<T, F> {
        TaskLocalFuture { local: self, slot: Some(value), future: Some(future) }
    }

    /// Runs `f` with this key set to `value` and returns its result. The previous value (if
    /// any) is back when `f` returns or unwinds.
    ///
    /// Mirrors `tokio::task::LocalKey::sync_scope`.
    ///
    /// # Panics
    /// As [`scope`](LocalKey::scope), and if `f` panics.
    pub fn sync_scope<F, R>(&'static self, value: T, f: F) -> R
    where
        F: FnOnce() -> R,
    {
        let mut slot = Some(value);
        match self.scope_inner(&mut slot, f) {
            Ok(r) => r,
            Err(e) => e.panic(),
        }
    }

    /// Swaps `slot` into the thread-local, runs `f`, and swaps back (also on unwind).
    fn scope_inner<F, R>(&'static self, slot: &mut Option<T>, f: F) -> Result<R, ScopeError>
    where
        F: FnOnce() -> R,
    {
        struct Guard<'a, T: 'static> {
            local: &'static LocalKey<T>,
            slot: &'a mut Option<T>,
        }

        impl<T: 'static> Drop for Guard<'_, T> {
            fn drop(&mut self) {
                // Cannot fail: the swap-in just borrowed it, and any `with` borrow taken in
                // between has ended (borrows do not escape their closures).
                self.local.inner.with(|cell| {
                    let mut value = cell.borrow_mut();
                    std::mem::swap(self.slot, &mut *value);
                });
            }
        }

        self.inner
            .try_with(|cell| {
                let mut value = cell.try_borrow_mut().map_err(|_| ScopeError::Borrowed)?;
                std::mem::swap(slot, &mut *value);
                Ok(())
            })
            .map_err(|_| ScopeError::Destroyed)??;
        let _guard = Guard { local: self, slot };
        Ok(f())
    }

    /// Calls `f` with a reference to the value of the innermost scope on this task.
    ///
    /// Mirrors `tokio::task::LocalKey::with`.
    ///
    /// # Panics
    /// If no scope of this key is active (outside [`scope`](LocalKey::scope) and
    /// [`sync_scope`](LocalKey::sync_scope)), or during thread-local destruction. Use
    /// [`try_with`](LocalKey::try_with) to get an error instead.
    #[track_caller]
    pub fn with<F, R>(&'static self, f: F) -> R
    where
        F: FnOnce(&T) -> R,
    {
        match self.try_with(f) {
            Ok(r) => r,
            Err(_) => panic!(
                "task-local value of type `{}` is not set: read it inside `LocalKey::scope` or \
                 `LocalKey::sync_scope`",
                std::any::type_name::<T>()
            ),
        }
    }

    /// Calls `f` with a reference to the value of the innermost scope on this task.
    ///
    /// Mirrors `tokio::task::LocalKey::try_with`.
    ///
    /// # Errors
    /// [`AccessError`] if no scope of this key is active, or during thread-local destruction;
    /// `f` is not called then.
    pub fn try_with<F, R>(&'static self, f: F) -> Result<R, AccessError>
    where
        F: FnOnce(&T) -> R,
    {
        // `f`'s result is wrapped in `Some`, so only a missing value or a destroyed slot maps
        // to `AccessError`; a panic in `f` propagates as it is.
        self.inner
            .try_with(|cell| {
                let value = cell.try_borrow().ok()?;
                let value = value.as_ref()?;
                Some(f(value))
            })
            .ok()
            .flatten()
            .ok_or(AccessError(()))
    }
}

impl<T: Clone + 'static> LocalKey<T> {
    /// A copy of the value of the innermost scope (for `Copy` types as for `Clone` ones).
    ///
    /// Mirrors `tokio::task::LocalKey::get`.
    ///
    /// # Panics
    /// As [`with`](LocalKey::with), outside a scope.
    #[track_caller]
    pub fn get(&'static self) -> T {
        self.with(T::clone)
    }
}

impl<T: 'static> fmt::Debug for LocalKey<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LocalKey").field("type", &std::any::type_name::<T>()).finish_non_exhaustive()
    }
}

/// Why a scope could not be entered.
enum ScopeError {
    Borrowed,
    Destroyed,
}

impl ScopeError {
    #[track_caller]
    fn panic(&self) -> ! {
        match self {
            ScopeError::Borrowed => {
                panic!("cannot enter a task-local scope while the task-local value is borrowed by `LocalKey::with`")
            }
            ScopeError::Destroyed => {
                panic!("cannot enter a task-local scope during or after thread-local destruction")
            }
        }
    }
}

/// The error of [`LocalKey::try_with`]: no scope of the key is active on this task.
///
/// Mirrors the `AccessError` of tokio's `task::LocalKey::try_with` (and `std::thread::AccessError`).
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct AccessError(());

impl fmt::Debug for AccessError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AccessError")
    }
}

impl fmt::Display for AccessError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("task-local value not set")
    }
}

impl std::error::Error for AccessError {}

pin_project! {
    /// The future of [`LocalKey::scope`]: runs the inner future with the key set to a value.
    ///
    /// Mirrors `tokio::task::futures::TaskLocalFuture`.
    pub struct TaskLocalFuture<T, F>
    where
        T: 'static,
    {
        local: &'static LocalKey<T>,
        // The value while the inner future is not being polled.
        slot: Option<T>,
        // `None` once the inner future completed.
        #[pin]
        future: Option<F>,
    }

    impl<T, F> PinnedDrop for TaskLocalFuture<T, F>
    where
        T: 'static,
    {
        fn drop(this: Pin<&mut Self>) {
            let this = this.project();
            if std::mem::needs_drop::<F>() && this.future.is_some() {
                let mut future = this.future;
                // Drop the inner future inside the scope so its destructors see the value. If
                // the scope cannot be entered (thread-local destruction, a `with` borrow), it
                // is dropped outside of it by the field's own drop right after.
                let _ = this.local.scope_inner(this.slot, || future.set(None));
            }
        }
    }
}

impl<T: 'static, F> TaskLocalFuture<T, F> {
    /// Takes the value out of the scope. Returns `None` if it was already taken. After the
    /// inner future completes the value is still here, so this gives it back; taken before
    /// that, the inner future sees no value from then on (its `with` panics).
    ///
    /// Mirrors `tokio::task::futures::TaskLocalFuture::take_value`.
    pub fn take_value(self: Pin<&mut Self>) -> Option<T> {
        self.project().slot.take()
    }
}

impl<T: 'static, F: Future> Future for TaskLocalFuture<T, F> {
    type Output = F::Output;

    #[track_caller]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = self.project();
        let mut future = this.future;
        let res = this.local.scope_inner(this.slot, || {
            let poll = future.as_mut().as_pin_mut()?.poll(cx);
            if poll.is_ready() {
                // Dropped inside the scope, in place.
                future.set(None);
            }
            Some(poll)
        });
        match res {
            Ok(Some(poll)) => poll,
            Ok(None) => panic!("`TaskLocalFuture` polled after it completed"),
            Err(e) => e.panic(),
        }
    }
}

impl<T: 'static + fmt::Debug, F> fmt::Debug for TaskLocalFuture<T, F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TaskLocalFuture")
            .field("value", &self.slot)
            .field("done", &self.future.is_none())
            .finish_non_exhaustive()
    }
}
