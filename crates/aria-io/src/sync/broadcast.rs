//! A multi-producer, multi-consumer channel where every receiver sees every value.
//!
//! ```
//! use aria_io::sync::broadcast;
//!
//! aria_io::Runtime::new()?.block_on(async {
//!     let (tx, mut rx1) = broadcast::channel(16);
//!     let mut rx2 = tx.subscribe();
//!     tx.send("hello").unwrap();
//!     assert_eq!(rx1.recv().await, Ok("hello"));
//!     assert_eq!(rx2.recv().await, Ok("hello"));
//! });
//! # Ok::<_, std::io::Error>(())
//! ```
//!
//! # Lagging
//!
//! The channel keeps the last `capacity` values in a ring. Sending never waits: when the ring
//! is full the oldest value is overwritten, and a receiver that had not read it yet learns
//! about the loss from its next `recv`, which returns [`RecvError::Lagged`] with the number of
//! values it missed; the `recv` after that returns the oldest value still kept.
//!
//! # Protocol
//!
//! Every value gets a position; slot `pos % capacity` holds it with a count of receivers that
//! have yet to read it (the receivers that existed when it was sent). Each receiver keeps the
//! position it reads next. A receive clones the value, or moves it out if it is the last
//! reader, so values are dropped as soon as everyone has seen them. Waiting receivers park on
//! a waiter queue (`sync::waiters`); a send or the last sender's drop unlinks and wakes them all.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use super::lock;
use super::waiters::{WaitList, WaiterKey, WakeList};
use crate::loom::sync::{Arc, Mutex};

/// Creates a broadcast channel keeping the last `capacity` values, returning a sender and a
/// first receiver; more receivers come from [`Sender::subscribe`].
///
/// # Panics
/// If `capacity` is zero.
pub fn channel<T: Clone>(capacity: usize) -> (Sender<T>, Receiver<T>) {
    assert!(capacity > 0, "broadcast channel capacity must be greater than zero");
    let buffer = (0..capacity).map(|_| Slot { pos: u64::MAX, unread: 0, value: None }).collect();
    let shared =
        Arc::new(Mutex::new(State { buffer, next: 0, senders: 1, receivers: 1, waiters: WaitList::new() }));
    (Sender { shared: shared.clone() }, Receiver { shared, next: 0 })
}

type Shared<T> = Arc<Mutex<State<T>>>;

struct State<T> {
    buffer: Box<[Slot<T>]>,
    /// The position of the next value sent.
    next: u64,
    senders: usize,
    receivers: usize,
    waiters: WaitList<()>,
}

struct Slot<T> {
    pos: u64,
    /// Receivers that have yet to read this value.
    unread: usize,
    value: Option<T>,
}

impl<T> State<T> {
    fn slot(&mut self, pos: u64) -> &mut Slot<T> {
        let cap = self.buffer.len() as u64;
        &mut self.buffer[(pos % cap) as usize]
    }

    /// Receives for a receiver reading position `*next`.
    fn try_recv(&mut self, next: &mut u64) -> Result<T, TryRecvError>
    where
        T: Clone,
    {
        if *next == self.next {
            return Err(if self.senders == 0 { TryRecvError::Closed } else { TryRecvError::Empty });
        }
        let slot = self.slot(*next);
        if slot.pos != *next {
            // Overwritten: skip to the oldest value still kept.
            let oldest = self.next - self.buffer.len() as u64;
            let missed = oldest - *next;
            *next = oldest;
            return Err(TryRecvError::Lagged(missed));
        }
        // Clone before touching the count, so a panicking clone changes nothing.
        let value = match slot.unread {
            1 => slot.value.take(),
            _ => slot.value.clone(),
        };
        let Some(value) = value else { unreachable!("an unread slot holds its value") };
        slot.unread -= 1;
        *next += 1;
        Ok(value)
    }

    /// Gives up a departing receiver's claim on the values it has not read; returns those it
    /// was the last reader of, to be dropped after unlocking.
    fn forget_reader(&mut self, from: u64) -> Vec<T> {
        let mut unclaimed = Vec::new();
        let start = from.max(self.next.saturating_sub(self.buffer.len() as u64));
        for pos in start..self.next {
            let slot = self.slot(pos);
            if slot.pos == pos {
                slot.unread -= 1;
                if slot.unread == 0 {
                    unclaimed.extend(slot.value.take());
                }
            }
        }
        self.receivers -= 1;
        unclaimed
    }
}

/// Sends values to every receiver of a [`broadcast`](self) channel. Clone it for more
/// producers; the channel closes when the last sender is dropped.
pub struct Sender<T> {
    shared: Shared<T>,
}

impl<T> Sender<T> {
    /// Sends `value` to every current receiver, overwriting the oldest kept value if the ring
    /// is full. Never waits. Returns how many receivers will see the value.
    ///
    /// # Errors
    /// `SendError(value)` if there are no receivers.
    pub fn send(&self, value: T) -> Result<usize, SendError<T>> {
        let mut wakers = WakeList::new();
        let (receivers, overwritten) = {
            let mut state = lock(&self.shared);
            if state.receivers == 0 {
                return Err(SendError(value));
            }
            let (pos, receivers) = (state.next, state.receivers);
            let slot = state.slot(pos);
            let overwritten = slot.value.replace(value);
            slot.pos = pos;
            slot.unread = receivers;
            state.next += 1;
            state.waiters.drain(&mut wakers, |_| {});
            (receivers, overwritten)
        };
        drop(overwritten);
        wakers.wake_all();
        Ok(receivers)
    }

    /// A new receiver that gets every value sent from now on.
    pub fn subscribe(&self) -> Receiver<T> {
        let mut state = lock(&self.shared);
        state.receivers += 1;
        Receiver { shared: self.shared.clone(), next: state.next }
    }

    /// How many receivers exist.
    pub fn receiver_count(&self) -> usize {
        lock(&self.shared).receivers
    }

    /// Whether both senders belong to the same channel.
    pub fn same_channel(&self, other: &Sender<T>) -> bool {
        Arc::ptr_eq(&self.shared, &other.shared)
    }
}

impl<T> Clone for Sender<T> {
    fn clone(&self) -> Sender<T> {
        lock(&self.shared).senders += 1;
        Sender { shared: self.shared.clone() }
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        let mut wakers = WakeList::new();
        {
            let mut state = lock(&self.shared);
            state.senders -= 1;
            if state.senders == 0 {
                state.waiters.drain(&mut wakers, |_| {});
            }
        }
        wakers.wake_all();
    }
}

impl<T> fmt::Debug for Sender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("broadcast::Sender").finish_non_exhaustive()
    }
}

/// Receives every value sent on a [`broadcast`](self) channel after it was created.
pub struct Receiver<T> {
    shared: Shared<T>,
    /// The position this receiver reads next.
    next: u64,
}

impl<T: Clone> Receiver<T> {
    /// Waits for the next value.
    ///
    /// # Errors
    /// [`RecvError::Lagged`]`(n)` if `n` values were overwritten before this receiver read
    /// them (the next call returns the oldest value kept); [`RecvError::Closed`] once every
    /// sender is dropped and every value was received.
    ///
    /// # Cancel safety
    /// Cancel-safe: a value is taken only in the poll that returns it, so dropping the future
    /// loses nothing.
    pub async fn recv(&mut self) -> Result<T, RecvError> {
        Recv { rx: self, waiter: None }.await
    }

    /// Takes the next value if there is one.
    ///
    /// # Errors
    /// [`TryRecvError::Empty`] if no value is waiting and a sender is alive; otherwise as
    /// [`recv`](Receiver::recv).
    pub fn try_recv(&mut self) -> Result<T, TryRecvError> {
        lock(&self.shared).try_recv(&mut self.next)
    }

    /// Waits for the next value by blocking the current thread, for use outside async code.
    ///
    /// # Errors
    /// As [`recv`](Receiver::recv).
    ///
    /// # Panics
    /// If called from a thread running an aria-io runtime.
    pub fn blocking_recv(&mut self) -> Result<T, RecvError> {
        super::block_on::block_on("broadcast::Receiver::blocking_recv", self.recv())
    }
}

impl<T> Receiver<T> {
    /// How many values are waiting for this receiver (at most the capacity).
    pub fn len(&self) -> usize {
        let state = lock(&self.shared);
        (state.next - self.next).min(state.buffer.len() as u64) as usize
    }

    /// Whether no value is waiting for this receiver.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// A new receiver of the same channel that gets the values sent from now on.
    pub fn resubscribe(&self) -> Receiver<T> {
        let mut state = lock(&self.shared);
        state.receivers += 1;
        Receiver { shared: self.shared.clone(), next: state.next }
    }
}

impl<T> Drop for Receiver<T> {
    fn drop(&mut self) {
        let unclaimed = lock(&self.shared).forget_reader(self.next);
        drop(unclaimed);
    }
}

impl<T> fmt::Debug for Receiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("broadcast::Receiver").field("next", &self.next).finish_non_exhaustive()
    }
}

struct Recv<'a, T> {
    rx: &'a mut Receiver<T>,
    waiter: Option<WaiterKey>,
}

impl<T: Clone> Future for Recv<'_, T> {
    type Output = Result<T, RecvError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        let mut state = lock(&this.rx.shared);
        if let Some(key) = this.waiter {
            if state.waiters.is_queued(key) {
                state.waiters.register(key, cx.waker());
                return Poll::Pending;
            }
            state.waiters.remove(key);
            this.waiter = None;
        }
        match state.try_recv(&mut this.rx.next) {
            Ok(value) => Poll::Ready(Ok(value)),
            Err(TryRecvError::Lagged(n)) => Poll::Ready(Err(RecvError::Lagged(n))),
            Err(TryRecvError::Closed) => Poll::Ready(Err(RecvError::Closed)),
            Err(TryRecvError::Empty) => {
                this.waiter = Some(state.waiters.push_back((), Some(cx.waker())));
                Poll::Pending
            }
        }
    }
}

impl<T> Drop for Recv<'_, T> {
    fn drop(&mut self) {
        if let Some(key) = self.waiter.take() {
            lock(&self.rx.shared).waiters.remove(key);
        }
    }
}

/// The error of [`Sender::send`] when there are no receivers; holds the value.
#[derive(Clone, PartialEq, Eq)]
pub struct SendError<T>(pub T);

impl<T> fmt::Debug for SendError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SendError").finish_non_exhaustive()
    }
}

impl<T> fmt::Display for SendError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("broadcast channel has no receivers")
    }
}

impl<T> std::error::Error for SendError<T> {}

/// The error of [`Receiver::recv`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecvError {
    /// Every sender was dropped and every value received.
    Closed,
    /// This many values were overwritten before this receiver read them.
    Lagged(u64),
}

impl fmt::Display for RecvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RecvError::Closed => f.write_str("broadcast channel closed"),
            RecvError::Lagged(n) => write!(f, "broadcast receiver lagged behind by {n} values"),
        }
    }
}

impl std::error::Error for RecvError {}

/// The error of [`Receiver::try_recv`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TryRecvError {
    /// No value is waiting; a sender is alive.
    Empty,
    /// Every sender was dropped and every value received.
    Closed,
    /// This many values were overwritten before this receiver read them.
    Lagged(u64),
}

impl fmt::Display for TryRecvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TryRecvError::Empty => f.write_str("broadcast channel empty"),
            TryRecvError::Closed => f.write_str("broadcast channel closed"),
            TryRecvError::Lagged(n) => write!(f, "broadcast receiver lagged behind by {n} values"),
        }
    }
}

impl std::error::Error for TryRecvError {}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use crate::sync::test_util::poll_once;
    use std::sync::Arc as StdArc;

    #[test]
    fn a_lagging_receiver_learns_how_much_it_missed() {
        let (tx, mut rx) = channel(2);
        for i in 0..5 {
            tx.send(i).unwrap();
        }
        assert_eq!(rx.len(), 2);
        assert_eq!(rx.try_recv(), Err(TryRecvError::Lagged(3)));
        assert_eq!(rx.try_recv(), Ok(3));
        assert_eq!(rx.try_recv(), Ok(4));
        assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
        drop(tx);
        assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
    }

    #[test]
    fn values_are_dropped_once_every_receiver_read_them() {
        let (tx, mut rx1) = channel(4);
        let mut rx2 = tx.subscribe();
        let v = StdArc::new(());
        tx.send(v.clone()).unwrap();
        tx.send(v.clone()).unwrap();
        assert_eq!(StdArc::strong_count(&v), 3);
        let a = rx1.try_recv().unwrap();
        assert_eq!(StdArc::strong_count(&v), 4, "rx1 holds a clone, the slot still holds one");
        let b = rx2.try_recv().unwrap();
        assert_eq!(StdArc::strong_count(&v), 4, "the slot moved its value to rx2");
        drop(rx2); // its unread second value stays for rx1
        assert_eq!(StdArc::strong_count(&v), 4);
        drop(rx1);
        assert_eq!(StdArc::strong_count(&v), 3);
        drop((a, b));
        assert_eq!(StdArc::strong_count(&v), 1);
    }

    #[test]
    fn a_dropped_recv_loses_nothing() {
        let (tx, mut rx) = channel(1);
        let mut recv = Box::pin(rx.recv());
        assert!(poll_once(&mut recv).is_pending());
        tx.send(1).unwrap();
        drop(recv);
        assert_eq!(rx.try_recv(), Ok(1));
        assert_eq!(lock(&rx.shared).waiters.len(), 0);
    }

    #[test]
    fn send_without_receivers_fails() {
        let (tx, rx) = channel(1);
        let rx2 = rx.resubscribe();
        assert_eq!(tx.receiver_count(), 2);
        drop((rx, rx2));
        assert_eq!(tx.send(1), Err(SendError(1)));
    }
}
