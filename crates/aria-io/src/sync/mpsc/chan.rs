//! The queue shared by the bounded and unbounded channels.

use std::collections::VecDeque;
use std::fmt;
use std::task::{Context, Poll, Waker};

use super::TryRecvError;
use crate::loom::sync::{Arc, Mutex};
use crate::sync::{lock, Notify, Semaphore};

pub(super) struct Chan<T> {
    state: Mutex<State<T>>,
    /// A bounded channel's free message slots; `None` for an unbounded one.
    slots: Option<Semaphore>,
    /// Woken (all) when the receiver closes or is dropped.
    rx_closed_notify: Notify,
}

struct State<T> {
    queue: VecDeque<T>,
    senders: usize,
    /// Set by `Receiver::close` and by dropping the receiver; nothing is enqueued after it.
    rx_closed: bool,
    rx_waker: Option<Waker>,
}

impl<T> State<T> {
    /// With the queue empty: `Ready` if no message can come anymore, otherwise registers the
    /// receiver's waker.
    fn poll_empty(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        if self.senders == 0 || self.rx_closed {
            return Poll::Ready(());
        }
        match &self.rx_waker {
            Some(w) if w.will_wake(cx.waker()) => {}
            _ => self.rx_waker = Some(cx.waker().clone()),
        }
        Poll::Pending
    }
}

impl<T> Chan<T> {
    pub(super) fn new(slots: Option<Semaphore>) -> Arc<Chan<T>> {
        Arc::new(Chan {
            state: Mutex::new(State { queue: VecDeque::new(), senders: 1, rx_closed: false, rx_waker: None }),
            slots,
            rx_closed_notify: Notify::new(),
        })
    }

    /// The free-slot semaphore of a bounded channel.
    pub(super) fn slots(&self) -> &Semaphore {
        match &self.slots {
            Some(slots) => slots,
            None => unreachable!("only bounded channels ask for slots"),
        }
    }

    /// Enqueues `value` and wakes the receiver, unless the receiver is closed.
    pub(super) fn push(&self, value: T) -> Result<(), T> {
        let waker = {
            let mut state = lock(&self.state);
            if state.rx_closed {
                return Err(value);
            }
            state.queue.push_back(value);
            state.rx_waker.take()
        };
        if let Some(waker) = waker {
            waker.wake();
        }
        Ok(())
    }

    pub(super) fn poll_recv(&self, cx: &mut Context<'_>) -> Poll<Option<T>> {
        let value = {
            let mut state = lock(&self.state);
            match state.queue.pop_front() {
                Some(value) => value,
                None => return state.poll_empty(cx).map(|()| None),
            }
        };
        self.free_slots(1);
        Poll::Ready(Some(value))
    }

    /// Moves up to `limit` messages into `buf`; `Ready(0)` once the channel is closed and
    /// empty, or at once if `limit` is zero.
    pub(super) fn poll_recv_many(&self, cx: &mut Context<'_>, buf: &mut Vec<T>, limit: usize) -> Poll<usize> {
        if limit == 0 {
            return Poll::Ready(0);
        }
        let taken = {
            let mut state = lock(&self.state);
            if state.queue.is_empty() {
                return state.poll_empty(cx).map(|()| 0);
            }
            let n = limit.min(state.queue.len());
            buf.extend(state.queue.drain(..n));
            n
        };
        self.free_slots(taken);
        Poll::Ready(taken)
    }

    pub(super) fn try_recv(&self) -> Result<T, TryRecvError> {
        let value = {
            let mut state = lock(&self.state);
            match state.queue.pop_front() {
                Some(value) => value,
                None if state.senders == 0 || state.rx_closed => return Err(TryRecvError::Disconnected),
                None => return Err(TryRecvError::Empty),
            }
        };
        self.free_slots(1);
        Ok(value)
    }

    fn free_slots(&self, n: usize) {
        if let Some(slots) = &self.slots {
            slots.release(n);
        }
    }

    pub(super) fn add_sender(&self) {
        lock(&self.state).senders += 1;
    }

    /// Called when a sender is dropped; the last one wakes the receiver to see the end.
    pub(super) fn drop_sender(&self) {
        let waker = {
            let mut state = lock(&self.state);
            state.senders -= 1;
            if state.senders > 0 {
                return;
            }
            state.rx_waker.take()
        };
        if let Some(waker) = waker {
            waker.wake();
        }
    }

    /// `Receiver::close`: stops sends, keeps the queue for the receiver to drain.
    pub(super) fn close(&self) {
        lock(&self.state).rx_closed = true;
        self.after_close();
    }

    /// The receiver's drop: stops sends and drops every queued message (outside the lock).
    pub(super) fn drop_receiver(&self) {
        let queue = {
            let mut state = lock(&self.state);
            state.rx_closed = true;
            std::mem::take(&mut state.queue)
        };
        self.after_close();
        drop(queue);
    }

    fn after_close(&self) {
        if let Some(slots) = &self.slots {
            slots.close(); // fails the senders waiting for a slot
        }
        self.rx_closed_notify.notify_waiters();
    }

    pub(super) fn is_closed(&self) -> bool {
        lock(&self.state).rx_closed
    }

    /// Completes once the receiver is closed or dropped.
    pub(super) async fn closed(&self) {
        loop {
            // Created before the check, so a close after the check still completes it.
            let notified = self.rx_closed_notify.notified();
            if self.is_closed() {
                return;
            }
            notified.await;
        }
    }

    pub(super) fn len(&self) -> usize {
        lock(&self.state).queue.len()
    }
}

impl<T> fmt::Debug for Chan<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = lock(&self.state);
        f.debug_struct("Chan")
            .field("queued", &state.queue.len())
            .field("senders", &state.senders)
            .field("rx_closed", &state.rx_closed)
            .finish()
    }
}
