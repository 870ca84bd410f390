//! A channel that holds one value and lets many receivers observe its latest version.
//!
//! ```
//! use aria_io::sync::watch;
//!
//! aria_io::Runtime::new()?.block_on(async {
//!     let (tx, mut rx) = watch::channel("starting");
//!     let observer = aria_io::spawn(async move {
//!         while rx.changed().await.is_ok() {
//!             if *rx.borrow_and_update() == "ready" {
//!                 return true;
//!             }
//!         }
//!         false
//!     });
//!     tx.send("loading").unwrap();
//!     tx.send("ready").unwrap();
//!     assert!(observer.await.unwrap());
//! });
//! # Ok::<_, std::io::Error>(())
//! ```
//!
//! Receivers never queue values: a receiver that is slow sees only the latest one. Each send
//! bumps a version number; each receiver remembers the version it has seen, and
//! [`Receiver::changed`] completes when the current version differs from it.
//!
//! # Protocol
//!
//! The value sits behind a reader-writer lock; the version (bit 0: the sender is gone) is an
//! atomic, bumped while the value's write lock is held, so a reader holding the read lock sees
//! the version of the value it reads. After bumping, the sender calls
//! [`Notify::notify_waiters`]. `changed` creates its [`Notified`](super::Notified) *before*
//! loading the version, so a send that the load misses is one whose `notify_waiters` comes
//! after the `Notified` was created, which completes it: no change is missed.

use std::fmt;
use std::ops::Deref;

use super::Notify;
use crate::loom::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use crate::loom::sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard};

/// Bit 0 of the state: the sender was dropped. Versions count in steps of 2 above it.
const CLOSED: usize = 1;

/// Creates a watch channel holding `init`. The receiver starts out having seen `init`.
pub fn channel<T>(init: T) -> (Sender<T>, Receiver<T>) {
    let shared = Arc::new(Shared {
        value: RwLock::new(init),
        state: AtomicUsize::new(0),
        receivers: AtomicUsize::new(1),
        changed: Notify::new(),
        receivers_gone: Notify::new(),
    });
    (Sender { shared: shared.clone() }, Receiver { shared, seen: 0 })
}

struct Shared<T> {
    value: RwLock<T>,
    /// `version | CLOSED`.
    state: AtomicUsize,
    receivers: AtomicUsize,
    /// Woken (all) on every send and when the sender is dropped.
    changed: Notify,
    /// Woken (all) when the last receiver is dropped.
    receivers_gone: Notify,
}

impl<T> Shared<T> {
    fn read(&self) -> RwLockReadGuard<'_, T> {
        self.value.read().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn write(&self) -> RwLockWriteGuard<'_, T> {
        self.value.write().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn version(&self) -> usize {
        self.state.load(SeqCst) & !CLOSED
    }
}

/// Sends new values to a [`watch`](self) channel's receivers. There is one sender per channel;
/// dropping it closes the channel.
pub struct Sender<T> {
    shared: Arc<Shared<T>>,
}

impl<T> Sender<T> {
    /// Replaces the value and notifies every receiver.
    ///
    /// # Errors
    /// `SendError(value)` if every receiver has been dropped; the value is not stored then.
    /// [`send_replace`](Sender::send_replace) stores it anyway.
    pub fn send(&self, value: T) -> Result<(), SendError<T>> {
        if self.shared.receivers.load(SeqCst) == 0 {
            return Err(SendError(value));
        }
        self.send_replace(value);
        Ok(())
    }

    /// Replaces the value, notifies the receivers (if any) and returns the old value.
    pub fn send_replace(&self, value: T) -> T {
        let old = {
            let mut current = self.shared.write();
            let old = std::mem::replace(&mut *current, value);
            self.shared.state.fetch_add(2, SeqCst);
            old
        };
        self.shared.changed.notify_waiters();
        old
    }

    /// Modifies the value in place and notifies the receivers, even without receivers.
    ///
    /// # Panics
    /// If `modify` panics the panic propagates, the value stays as `modify` left it, and
    /// receivers are not notified. Calling this while holding a [`Ref`] from the same channel
    /// on this thread deadlocks.
    pub fn send_modify(&self, modify: impl FnOnce(&mut T)) {
        self.send_if_modified(|v| {
            modify(v);
            true
        });
    }

    /// Modifies the value in place; notifies the receivers only if `modify` returns `true`.
    /// Returns what `modify` returned.
    ///
    /// # Panics
    /// As [`send_modify`](Sender::send_modify).
    pub fn send_if_modified(&self, modify: impl FnOnce(&mut T) -> bool) -> bool {
        {
            let mut value = self.shared.write();
            if !modify(&mut value) {
                return false;
            }
            // Bumped under the write lock: readers see a version with its value.
            self.shared.state.fetch_add(2, SeqCst);
        }
        self.shared.changed.notify_waiters();
        true
    }

    /// The current value; it stays read-locked while the [`Ref`] lives.
    pub fn borrow(&self) -> Ref<'_, T> {
        Ref { guard: self.shared.read(), has_changed: false }
    }

    /// A new receiver that has seen the current value.
    pub fn subscribe(&self) -> Receiver<T> {
        self.shared.receivers.fetch_add(1, SeqCst);
        // Taking the read lock pairs the version with the value it names.
        let seen = {
            let _value = self.shared.read();
            self.shared.version()
        };
        Receiver { shared: self.shared.clone(), seen }
    }

    /// How many receivers exist.
    pub fn receiver_count(&self) -> usize {
        self.shared.receivers.load(SeqCst)
    }

    /// Whether every receiver has been dropped.
    pub fn is_closed(&self) -> bool {
        self.receiver_count() == 0
    }

    /// Waits until every receiver has been dropped.
    ///
    /// # Cancel safety
    /// Cancel-safe: it only observes the channel.
    pub async fn closed(&self) {
        loop {
            let gone = self.shared.receivers_gone.notified();
            if self.is_closed() {
                return;
            }
            gone.await;
        }
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        self.shared.state.fetch_or(CLOSED, SeqCst);
        self.shared.changed.notify_waiters();
    }
}

impl<T: fmt::Debug> fmt::Debug for Sender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("watch::Sender").field("receivers", &self.receiver_count()).finish_non_exhaustive()
    }
}

/// Observes a [`watch`](self) channel's value. Clone it for more observers; each clone tracks
/// what it has seen separately.
pub struct Receiver<T> {
    shared: Arc<Shared<T>>,
    /// The version last seen; odd (never a version) after `mark_changed`.
    seen: usize,
}

impl<T> Receiver<T> {
    /// The current value, without marking it seen. It stays read-locked while the [`Ref`]
    /// lives: keep it short, never hold it across an `.await`, and do not borrow again on the
    /// same thread while holding it (a send waiting in between would deadlock both).
    pub fn borrow(&self) -> Ref<'_, T> {
        let guard = self.shared.read();
        let has_changed = self.shared.version() != self.seen;
        Ref { guard, has_changed }
    }

    /// The current value, marking it seen: [`changed`](Receiver::changed) then waits for the
    /// next send.
    pub fn borrow_and_update(&mut self) -> Ref<'_, T> {
        let guard = self.shared.read();
        let version = self.shared.version();
        let has_changed = version != self.seen;
        self.seen = version;
        Ref { guard, has_changed }
    }

    /// Whether a value this receiver has not seen was sent.
    ///
    /// # Errors
    /// [`RecvError`] if there is no unseen value and the sender was dropped: no change can
    /// come anymore.
    pub fn has_changed(&self) -> Result<bool, RecvError> {
        let state = self.shared.state.load(SeqCst);
        if state & !CLOSED != self.seen {
            Ok(true)
        } else if state & CLOSED != 0 {
            Err(RecvError(()))
        } else {
            Ok(false)
        }
    }

    /// Waits for a value this receiver has not seen and marks it seen. Completes at once if
    /// one was sent since the last [`borrow_and_update`](Receiver::borrow_and_update) or
    /// `changed`. Several sends in between count as one change.
    ///
    /// # Errors
    /// [`RecvError`] once the sender is dropped and every value was seen.
    ///
    /// # Cancel safety
    /// Cancel-safe: the value is marked seen only when the future completes, so a dropped
    /// `changed` misses nothing.
    pub async fn changed(&mut self) -> Result<(), RecvError> {
        loop {
            let notified = self.shared.changed.notified();
            let state = self.shared.state.load(SeqCst);
            if state & !CLOSED != self.seen {
                self.seen = state & !CLOSED;
                return Ok(());
            }
            if state & CLOSED != 0 {
                return Err(RecvError(()));
            }
            notified.await;
        }
    }

    /// Marks the current value unseen, so the next [`changed`](Receiver::changed) completes at
    /// once.
    pub fn mark_changed(&mut self) {
        self.seen = CLOSED;
    }

    /// Marks the current value seen.
    pub fn mark_unchanged(&mut self) {
        let _value = self.shared.read();
        self.seen = self.shared.version();
    }

    /// Whether both receivers belong to the same channel.
    pub fn same_channel(&self, other: &Receiver<T>) -> bool {
        Arc::ptr_eq(&self.shared, &other.shared)
    }
}

impl<T> Clone for Receiver<T> {
    fn clone(&self) -> Receiver<T> {
        self.shared.receivers.fetch_add(1, SeqCst);
        Receiver { shared: self.shared.clone(), seen: self.seen }
    }
}

impl<T> Drop for Receiver<T> {
    fn drop(&mut self) {
        if self.shared.receivers.fetch_sub(1, SeqCst) == 1 {
            self.shared.receivers_gone.notify_waiters();
        }
    }
}

impl<T: fmt::Debug> fmt::Debug for Receiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("watch::Receiver").field("seen", &(self.seen >> 1)).finish_non_exhaustive()
    }
}

/// A read-locked view of a [`watch`](self) channel's value. Senders wait while it lives.
pub struct Ref<'a, T> {
    guard: RwLockReadGuard<'a, T>,
    has_changed: bool,
}

impl<T> Ref<'_, T> {
    /// Whether the receiver had not seen this value when it borrowed it (always `false` for a
    /// [`Sender::borrow`]).
    pub fn has_changed(&self) -> bool {
        self.has_changed
    }
}

impl<T> Deref for Ref<'_, T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.guard
    }
}

impl<T: fmt::Debug> fmt::Debug for Ref<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

/// The error of [`Sender::send`] when every receiver is gone; holds the value.
#[derive(Clone, PartialEq, Eq)]
pub struct SendError<T>(pub T);

impl<T> fmt::Debug for SendError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SendError").finish_non_exhaustive()
    }
}

impl<T> fmt::Display for SendError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("every watch receiver was dropped")
    }
}

impl<T> std::error::Error for SendError<T> {}

/// The error of [`Receiver::changed`] once the sender is gone and no change can come.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecvError(());

impl fmt::Display for RecvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("watch sender dropped")
    }
}

impl std::error::Error for RecvError {}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use crate::sync::test_util::poll_once;
    use std::task::Poll;

    #[test]
    fn changed_waits_for_an_unseen_version() {
        let (tx, mut rx) = channel(0);
        assert_eq!(rx.has_changed(), Ok(false));
        assert!(poll_once(&mut Box::pin(rx.changed())).is_pending());
        tx.send(1).unwrap();
        tx.send_modify(|v| *v += 1);
        assert!(rx.borrow().has_changed());
        assert_eq!(poll_once(&mut Box::pin(rx.changed())), Poll::Ready(Ok(())));
        let r = rx.borrow_and_update();
        assert_eq!((*r, r.has_changed()), (2, false));
        drop(r);
        assert!(!tx.send_if_modified(|_| false));
        assert!(poll_once(&mut Box::pin(rx.changed())).is_pending());
        rx.mark_changed();
        assert_eq!(poll_once(&mut Box::pin(rx.changed())), Poll::Ready(Ok(())));
    }

    #[test]
    fn closing_reports_unseen_values_first() {
        let (tx, mut rx) = channel("a");
        let mut rx2 = tx.subscribe();
        assert_eq!(tx.send_replace("b"), "a");
        drop(tx);
        assert_eq!(rx.has_changed(), Ok(true));
        assert_eq!(poll_once(&mut Box::pin(rx.changed())), Poll::Ready(Ok(())));
        assert_eq!(poll_once(&mut Box::pin(rx.changed())), Poll::Ready(Err(RecvError(()))));
        assert_eq!(*rx2.borrow_and_update(), "b");
        assert_eq!(rx2.has_changed(), Err(RecvError(())));
    }

    #[test]
    fn send_fails_without_receivers_and_closed_completes() {
        let (tx, rx) = channel(0);
        let rx2 = rx.clone();
        assert!(rx.same_channel(&rx2));
        assert_eq!(tx.receiver_count(), 2);
        let mut closed = Box::pin(tx.closed());
        assert!(poll_once(&mut closed).is_pending());
        drop((rx, rx2));
        assert!(poll_once(&mut closed).is_ready());
        assert_eq!(tx.send(3), Err(SendError(3)));
        assert_eq!(tx.send_replace(4), 0);
        assert_eq!(*tx.borrow(), 4);
    }
}

#[cfg(all(test, loom))]
mod loom_models {
    use super::*;
    use loom::future::block_on;
    use loom::thread;

    /// A send racing with `changed`: the receiver always wakes and sees the new value.
    #[test]
    fn changed_never_misses_a_concurrent_send() {
        loom::model(|| {
            let (tx, mut rx) = channel(0);
            let sender = thread::spawn(move || {
                tx.send(1).unwrap();
                tx
            });
            block_on(rx.changed()).unwrap();
            assert_eq!(*rx.borrow_and_update(), 1);
            drop(sender.join().unwrap());
            assert_eq!(block_on(rx.changed()), Err(RecvError(())));
        });
    }
}
