//! Task notification: [`Notify`], a wait queue plus at most one stored permit.
//!
//! # Protocol
//!
//! State under the lock: `permit` and a [`WaitList`] whose values record which notification
//! each waiter received. A counter of [`Notify::notify_waiters`] calls sits beside it; every
//! [`Notified`] reads it when created.
//!
//! - `notify_one` unlinks the first queued waiter and marks it `One`, or, if nobody is queued,
//!   sets `permit`.
//! - `notify_waiters` increments the counter and unlinks every queued waiter, marking it `All`;
//!   it never sets `permit`.
//! - A `Notified` completes when, under the lock, it finds the counter moved since its creation,
//!   `permit` set (which it clears), or its node unlinked.
//! - A `Notified` dropped after `notify_one` unlinked it, but before it completed, re-runs
//!   `notify_one` under the same lock hold: the next waiter gets the notification, or it
//!   becomes the permit. A dropped `All` waiter passes nothing on.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

use super::lock;
use super::waiters::{WaitList, WaiterKey, WakeList};
use crate::loom::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use crate::loom::sync::Mutex;

/// Wakes tasks waiting for an event: one at a time ([`notify_one`](Notify::notify_one)) or all
/// at once ([`notify_waiters`](Notify::notify_waiters)).
///
/// `notify_one` with nobody waiting stores a single permit, so the next
/// [`notified`](Notify::notified) completes at once: a notification sent just before the
/// receiving task starts waiting is not lost. Waiters are notified in the order they started
/// waiting.
///
/// ```
/// use std::sync::Arc;
/// use aria_io::sync::Notify;
///
/// aria_io::Runtime::new()?.block_on(async {
///     let ready = Arc::new(Notify::new());
///     let r = ready.clone();
///     let waiter = aria_io::spawn(async move { r.notified().await; "woken" });
///     ready.notify_one(); // works whether or not the waiter has started waiting
///     assert_eq!(waiter.await.unwrap(), "woken");
/// });
/// # Ok::<_, std::io::Error>(())
/// ```
pub struct Notify {
    state: Mutex<State>,
    /// How many times `notify_waiters` ran; only changed under `state`'s lock.
    waiters_calls: AtomicUsize,
}

struct State {
    permit: bool,
    waiters: WaitList<Notification>,
}

/// What a waiter received.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Notification {
    None,
    One,
    All,
}

impl State {
    /// Gives one notification to the first waiter, or stores it as the permit. Returns the
    /// waker to wake once the lock is released.
    fn notify_one(&mut self) -> Option<Waker> {
        match self.waiters.pop_front() {
            Some(key) => {
                *self.waiters.value_mut(key) = Notification::One;
                self.waiters.take_waker(key)
            }
            None => {
                self.permit = true;
                None
            }
        }
    }
}

impl Notify {
    /// A `Notify` with no waiter and no stored permit.
    pub fn new() -> Notify {
        Notify {
            state: Mutex::new(State { permit: false, waiters: WaitList::new() }),
            waiters_calls: AtomicUsize::new(0),
        }
    }

    /// A future that completes at the next notification. It starts waiting when first polled
    /// (or [enabled](Notified::enable)), except that a [`notify_waiters`](Notify::notify_waiters)
    /// call made after this one also completes it.
    pub fn notified(&self) -> Notified<'_> {
        Notified { notify: self, waiters_calls: self.waiters_calls.load(SeqCst), state: Waiting::Init }
    }

    /// Wakes the task that has been waiting longest. If no task is waiting, stores a permit
    /// that the next [`notified`](Notify::notified) consumes (permits do not accumulate: at
    /// most one is stored).
    pub fn notify_one(&self) {
        let waker = lock(&self.state).notify_one();
        if let Some(waker) = waker {
            waker.wake();
        }
    }

    /// Wakes every task waiting now, and completes every [`Notified`] created before this call
    /// even if it was not polled yet. Stores no permit.
    pub fn notify_waiters(&self) {
        let mut wakers = WakeList::new();
        {
            let mut state = lock(&self.state);
            self.waiters_calls.fetch_add(1, SeqCst);
            state.waiters.drain(&mut wakers, |n| *n = Notification::All);
        }
        wakers.wake_all();
    }
}

impl Default for Notify {
    fn default() -> Notify {
        Notify::new()
    }
}

impl fmt::Debug for Notify {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = lock(&self.state);
        f.debug_struct("Notify")
            .field("permit", &state.permit)
            .field("waiters", &state.waiters.len())
            .finish()
    }
}

/// The future of [`Notify::notified`].
///
/// # Cancel safety
/// Cancel-safe: a dropped `Notified` that was picked by [`Notify::notify_one`] passes the
/// notification on to the next waiter, or stores it as the permit if nobody waits. Only
/// notifications that were delivered by completing a `Notified` are consumed.
#[must_use = "futures do nothing unless polled"]
pub struct Notified<'a> {
    notify: &'a Notify,
    waiters_calls: usize,
    state: Waiting,
}

#[derive(Debug)]
enum Waiting {
    Init,
    Queued(WaiterKey),
    Done,
}

impl Notified<'_> {
    /// Starts waiting without polling: from now on a [`Notify::notify_one`] can pick this
    /// future. Returns whether it is already notified (then the next poll completes at once).
    ///
    /// This is for checking a condition after registering, so that a notification sent
    /// between the check and the first poll is not missed:
    ///
    /// ```
    /// # use aria_io::sync::Notify;
    /// # use std::pin::pin;
    /// # let notify = Notify::new();
    /// # let condition = || true;
    /// # aria_io::Runtime::new()?.block_on(async {
    /// let mut notified = pin!(notify.notified());
    /// notified.as_mut().enable();
    /// if !condition() {
    ///     notified.await;
    /// }
    /// # });
    /// # Ok::<_, std::io::Error>(())
    /// ```
    pub fn enable(self: Pin<&mut Self>) -> bool {
        self.get_mut().poll_notified(None).is_ready()
    }

    fn poll_notified(&mut self, waker: Option<&Waker>) -> Poll<()> {
        let mut state = lock(&self.notify.state);
        match self.state {
            Waiting::Done => Poll::Ready(()),
            Waiting::Init => {
                let woken_by_all = self.notify.waiters_calls.load(SeqCst) != self.waiters_calls;
                if woken_by_all || std::mem::take(&mut state.permit) {
                    self.state = Waiting::Done;
                    return Poll::Ready(());
                }
                self.state = Waiting::Queued(state.waiters.push_back(Notification::None, waker));
                Poll::Pending
            }
            Waiting::Queued(key) => {
                if !state.waiters.is_queued(key) {
                    state.waiters.remove(key);
                    self.state = Waiting::Done;
                    return Poll::Ready(());
                }
                if let Some(waker) = waker {
                    state.waiters.register(key, waker);
                }
                Poll::Pending
            }
        }
    }
}

impl Future for Notified<'_> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        self.get_mut().poll_notified(Some(cx.waker()))
    }
}

impl Drop for Notified<'_> {
    fn drop(&mut self) {
        let Waiting::Queued(key) = self.state else { return };
        let waker = {
            let mut state = lock(&self.notify.state);
            match state.waiters.remove(key) {
                Notification::One => state.notify_one(),
                Notification::None | Notification::All => None,
            }
        };
        if let Some(waker) = waker {
            waker.wake();
        }
    }
}

impl fmt::Debug for Notified<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Notified").field("state", &self.state).finish_non_exhaustive()
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use crate::sync::test_util::{poll_once, poll_with, CountingWaker};

    #[test]
    fn notify_one_wakes_waiters_in_fifo_order() {
        let notify = Notify::new();
        let (ca, wa) = CountingWaker::new();
        let (cb, wb) = CountingWaker::new();
        let mut a = notify.notified();
        let mut b = notify.notified();
        assert!(poll_with(&mut a, &wa).is_pending());
        assert!(poll_with(&mut b, &wb).is_pending());
        notify.notify_one();
        assert_eq!((ca.count(), cb.count()), (1, 0));
        assert!(poll_once(&mut b).is_pending());
        assert!(poll_once(&mut a).is_ready());
    }

    #[test]
    fn a_permit_is_stored_once_and_consumed_once() {
        let notify = Notify::new();
        notify.notify_one();
        notify.notify_one();
        assert!(poll_once(&mut notify.notified()).is_ready());
        assert!(poll_once(&mut notify.notified()).is_pending());
    }

    #[test]
    fn a_dropped_chosen_waiter_passes_the_notification_on() {
        let notify = Notify::new();
        let mut a = notify.notified();
        let (cb, wb) = CountingWaker::new();
        let mut b = notify.notified();
        assert!(poll_once(&mut a).is_pending());
        assert!(poll_with(&mut b, &wb).is_pending());
        notify.notify_one();
        drop(a);
        assert_eq!(cb.count(), 1);
        assert!(poll_once(&mut b).is_ready());
        // With nobody left, a dropped chosen waiter leaves the permit behind.
        let mut c = notify.notified();
        assert!(poll_once(&mut c).is_pending());
        notify.notify_one();
        drop(c);
        assert!(poll_once(&mut notify.notified()).is_ready());
    }

    #[test]
    fn notify_waiters_completes_earlier_futures_even_unpolled() {
        let notify = Notify::new();
        let mut polled = notify.notified();
        assert!(poll_once(&mut polled).is_pending());
        let mut unpolled = notify.notified();
        notify.notify_waiters();
        let mut later = notify.notified();
        assert!(poll_once(&mut polled).is_ready());
        assert!(poll_once(&mut unpolled).is_ready());
        assert!(poll_once(&mut later).is_pending());
        drop(later);
        assert!(poll_once(&mut notify.notified()).is_pending(), "notify_waiters stores no permit");
    }

    #[test]
    fn an_enabled_future_can_be_picked_before_it_is_polled() {
        let notify = Notify::new();
        let mut a = std::pin::pin!(notify.notified());
        assert!(!a.as_mut().enable());
        notify.notify_one();
        assert!(poll_once(&mut a).is_ready());
        assert!(poll_once(&mut notify.notified()).is_pending());
    }
}

#[cfg(all(test, loom))]
mod loom_models {
    use super::*;
    use crate::loom::sync::Arc;
    use loom::future::block_on;
    use loom::thread;

    fn poll_once(n: &mut Pin<Box<Notified<'_>>>) -> bool {
        n.as_mut().poll(&mut Context::from_waker(Waker::noop())).is_ready()
    }

    /// `notify_one` racing with a waiter that registers and is dropped: the notification is
    /// either consumed by that waiter completing or still there for the next one, never both
    /// and never neither.
    #[test]
    fn notify_one_survives_a_dropped_notified() {
        loom::model(|| {
            let notify = Arc::new(Notify::new());
            let n = notify.clone();
            let waiter = thread::spawn(move || {
                let mut fut = Box::pin(n.notified());
                poll_once(&mut fut)
            });
            notify.notify_one();
            let consumed = waiter.join().unwrap();
            let mut next = Box::pin(notify.notified());
            assert_eq!(poll_once(&mut next), !consumed);
        });
    }

    /// Two queued waiters, the first dropped while `notify_one` picks: the second still
    /// completes, whichever of the two the notification first went to.
    #[test]
    fn the_waiter_list_hands_over_under_concurrent_notify_and_drop() {
        loom::model(|| {
            let notify = Arc::new(Notify::new());
            let mut first = Box::pin(notify.notified());
            let mut second = Box::pin(notify.notified());
            assert!(!poll_once(&mut first));
            assert!(!poll_once(&mut second));
            let n = notify.clone();
            let notifier = thread::spawn(move || n.notify_one());
            drop(first);
            block_on(second);
            notifier.join().unwrap();
        });
    }

    /// `notify_waiters` racing with a waiter's first poll and a `notified()` created before
    /// it: the waiter created before the call always completes.
    #[test]
    fn notify_waiters_reaches_futures_created_before_it() {
        loom::model(|| {
            let notify = Arc::new(Notify::new());
            let fut = notify.notified();
            let n = notify.clone();
            let notifier = thread::spawn(move || n.notify_waiters());
            block_on(fut);
            notifier.join().unwrap();
        });
    }
}
