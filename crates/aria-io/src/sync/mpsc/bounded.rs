//! The bounded channel: a queue plus a semaphore of free slots.

use std::fmt;
use std::pin::Pin;
use std::task::{Context, Poll};

use super::chan::Chan;
use super::{SendError, TryRecvError, TrySendError};
use crate::loom::sync::Arc;
use crate::sync::{Semaphore, TryAcquireError};

/// Creates a bounded channel queueing at most `capacity` messages.
///
/// # Panics
/// If `capacity` is zero or above [`Semaphore::MAX_PERMITS`].
pub fn channel<T>(capacity: usize) -> (Sender<T>, Receiver<T>) {
    assert!(capacity > 0, "mpsc bounded channel capacity must be greater than zero");
    assert!(capacity <= Semaphore::MAX_PERMITS, "mpsc bounded channel capacity too large");
    let chan = Chan::new(Some(Semaphore::new(capacity)));
    (Sender { chan: chan.clone(), capacity }, Receiver { chan })
}

/// Sends messages to a bounded channel, waiting for room. Clone it for more producers.
pub struct Sender<T> {
    chan: Arc<Chan<T>>,
    capacity: usize,
}

impl<T> Sender<T> {
    /// Waits for room in the channel, then enqueues `value`. Senders waiting for room get it
    /// in the order they started waiting.
    ///
    /// # Errors
    /// `SendError(value)` if the receiver is dropped or closed, before or while waiting.
    ///
    /// # Cancel safety
    /// Dropping the future before it completes never enqueues the value: it is dropped with
    /// the future, and a slot that had been handed to it goes to the next waiting sender. Use
    /// [`try_send`](Sender::try_send) to keep the value when there is no room.
    pub async fn send(&self, value: T) -> Result<(), SendError<T>> {
        let slots = self.chan.slots();
        if slots.acquire_raw(1).await.is_err() {
            return Err(SendError(value));
        }
        // Same poll as the acquisition: no cancellation point between taking the slot and
        // enqueuing.
        self.chan.push(value).map_err(|value| {
            slots.release(1);
            SendError(value)
        })
    }

    /// Enqueues `value` if there is room right now and no other sender waits for it.
    ///
    /// # Errors
    /// [`TrySendError::Full`] if there is no room, [`TrySendError::Closed`] if the receiver
    /// is dropped or closed; both hand the value back.
    pub fn try_send(&self, value: T) -> Result<(), TrySendError<T>> {
        let slots = self.chan.slots();
        match slots.try_acquire_raw(1) {
            Ok(()) => {}
            Err(TryAcquireError::NoPermits) => return Err(TrySendError::Full(value)),
            Err(TryAcquireError::Closed) => return Err(TrySendError::Closed(value)),
        }
        self.chan.push(value).map_err(|value| {
            slots.release(1);
            TrySendError::Closed(value)
        })
    }

    /// Sends by blocking the current thread until there is room, for producers outside async
    /// code (for example a plain `std::thread`).
    ///
    /// # Errors
    /// As [`send`](Sender::send).
    ///
    /// # Panics
    /// If called from a thread running an aria-io runtime.
    pub fn blocking_send(&self, value: T) -> Result<(), SendError<T>> {
        crate::sync::block_on::block_on("mpsc::Sender::blocking_send", self.send(value))
    }

    /// Waits until the receiver is dropped or [closed](Receiver::close).
    ///
    /// # Cancel safety
    /// Cancel-safe: it only observes the channel.
    pub async fn closed(&self) {
        self.chan.closed().await
    }

    /// Whether the receiver is dropped or closed, so that sends fail.
    pub fn is_closed(&self) -> bool {
        self.chan.is_closed()
    }

    /// How many more messages fit right now.
    pub fn capacity(&self) -> usize {
        self.chan.slots().available_permits()
    }

    /// The capacity the channel was created with.
    pub fn max_capacity(&self) -> usize {
        self.capacity
    }

    /// Whether both senders belong to the same channel.
    pub fn same_channel(&self, other: &Sender<T>) -> bool {
        Arc::ptr_eq(&self.chan, &other.chan)
    }
}

impl<T> Clone for Sender<T> {
    fn clone(&self) -> Sender<T> {
        self.chan.add_sender();
        Sender { chan: self.chan.clone(), capacity: self.capacity }
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        self.chan.drop_sender();
    }
}

impl<T> fmt::Debug for Sender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("mpsc::Sender").field("chan", &self.chan).field("capacity", &self.capacity).finish()
    }
}

/// Receives the messages of a bounded channel, in the order they were enqueued.
///
/// It is also a [`Stream`](futures_core::Stream) of the messages.
pub struct Receiver<T> {
    chan: Arc<Chan<T>>,
}

impl<T> Receiver<T> {
    /// Waits for the next message. Returns `None` once every sender is dropped (or the
    /// receiver [closed](Receiver::close)) and the queue is drained.
    ///
    /// # Cancel safety
    /// Cancel-safe: a message leaves the queue only in the poll that returns it, so dropping
    /// the future (for example in a `select` or under a timeout) loses nothing.
    pub async fn recv(&mut self) -> Option<T> {
        std::future::poll_fn(|cx| self.poll_recv(cx)).await
    }

    /// Waits for at least one message, then moves up to `limit` queued messages into `buf`.
    /// Returns how many were moved: `0` only once the channel is closed and drained, or when
    /// `limit` is zero.
    ///
    /// # Cancel safety
    /// Cancel-safe, as [`recv`](Receiver::recv).
    pub async fn recv_many(&mut self, buf: &mut Vec<T>, limit: usize) -> usize {
        std::future::poll_fn(|cx| self.chan.poll_recv_many(cx, buf, limit)).await
    }

    /// Polls for the next message: `Ready(Some)` with a message, `Ready(None)` when the
    /// channel is closed and drained, `Pending` (registering `cx`'s waker) otherwise.
    pub fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Option<T>> {
        self.chan.poll_recv(cx)
    }

    /// Takes the next message if one is queued.
    ///
    /// # Errors
    /// [`TryRecvError::Empty`] if none is queued, [`TryRecvError::Disconnected`] if none is
    /// queued and none can come.
    pub fn try_recv(&mut self) -> Result<T, TryRecvError> {
        self.chan.try_recv()
    }

    /// Waits for the next message by blocking the current thread, for use outside async code.
    ///
    /// # Panics
    /// If called from a thread running an aria-io runtime.
    pub fn blocking_recv(&mut self) -> Option<T> {
        crate::sync::block_on::block_on("mpsc::Receiver::blocking_recv", self.recv())
    }

    /// Closes the channel for sending: sends fail from now on (waiting senders too) and
    /// [`Sender::closed`] completes, while the messages already queued can still be received.
    pub fn close(&mut self) {
        self.chan.close();
    }

    /// Whether the receiver was [closed](Receiver::close).
    pub fn is_closed(&self) -> bool {
        self.chan.is_closed()
    }

    /// How many messages are queued.
    pub fn len(&self) -> usize {
        self.chan.len()
    }

    /// Whether no message is queued.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl<T> futures_core::Stream for Receiver<T> {
    type Item = T;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<T>> {
        self.get_mut().poll_recv(cx)
    }
}

impl<T> Drop for Receiver<T> {
    fn drop(&mut self) {
        self.chan.drop_receiver();
    }
}

impl<T> fmt::Debug for Receiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("mpsc::Receiver").field("chan", &self.chan).finish()
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use crate::sync::test_util::{poll_once, poll_with, CountingWaker};

    #[test]
    fn a_full_channel_makes_senders_wait_in_order() {
        let (tx, mut rx) = channel(1);
        tx.try_send(0).unwrap();
        assert_eq!(tx.try_send(9), Err(TrySendError::Full(9)));
        let mut a = Box::pin(tx.send(1));
        let mut b = Box::pin(tx.send(2));
        assert!(poll_once(&mut a).is_pending());
        assert!(poll_once(&mut b).is_pending());
        assert_eq!(rx.try_recv(), Ok(0));
        assert!(poll_once(&mut b).is_pending(), "the freed slot belongs to the first waiter");
        assert_eq!(poll_once(&mut a), Poll::Ready(Ok(())));
        assert_eq!(rx.try_recv(), Ok(1));
        assert_eq!(poll_once(&mut b), Poll::Ready(Ok(())));
        assert_eq!(rx.try_recv(), Ok(2));
        assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    }

    #[test]
    fn a_dropped_send_enqueues_nothing_and_passes_its_slot_on() {
        let (tx, mut rx) = channel(1);
        tx.try_send(0).unwrap();
        let mut dropped = Box::pin(tx.send(1));
        let mut next = Box::pin(tx.send(2));
        assert!(poll_once(&mut dropped).is_pending());
        assert!(poll_once(&mut next).is_pending());
        assert_eq!(rx.try_recv(), Ok(0));
        drop(dropped);
        assert_eq!(poll_once(&mut next), Poll::Ready(Ok(())));
        assert_eq!(rx.try_recv(), Ok(2));
        assert_eq!(tx.capacity(), 1);
    }

    #[test]
    fn dropping_the_receiver_fails_waiting_senders_with_their_value() {
        let (tx, rx) = channel(1);
        tx.try_send(0).unwrap();
        let (closed_woken, waker) = CountingWaker::new();
        let mut closed = Box::pin(tx.closed());
        assert!(poll_with(&mut closed, &waker).is_pending());
        let mut send = Box::pin(tx.send(1));
        assert!(poll_once(&mut send).is_pending());
        drop(rx);
        assert_eq!(poll_once(&mut send), Poll::Ready(Err(SendError(1))));
        assert_eq!(closed_woken.count(), 1);
        assert!(poll_once(&mut closed).is_ready());
        assert_eq!(tx.try_send(2), Err(TrySendError::Closed(2)));
    }

    #[test]
    fn close_keeps_the_queue_for_the_receiver() {
        let (tx, mut rx) = channel(4);
        tx.try_send(1).unwrap();
        rx.close();
        assert!(tx.is_closed() && rx.is_closed());
        assert_eq!(tx.try_send(2), Err(TrySendError::Closed(2)));
        assert_eq!(poll_once(&mut Box::pin(rx.recv())), Poll::Ready(Some(1)));
        assert_eq!(poll_once(&mut Box::pin(rx.recv())), Poll::Ready(None));
    }

    #[test]
    fn recv_many_takes_up_to_the_limit() {
        let (tx, mut rx) = channel(8);
        for i in 0..5 {
            tx.try_send(i).unwrap();
        }
        let mut buf = Vec::new();
        assert_eq!(poll_once(&mut Box::pin(rx.recv_many(&mut buf, 3))), Poll::Ready(3));
        assert_eq!(tx.capacity(), 6);
        drop(tx);
        assert_eq!(poll_once(&mut Box::pin(rx.recv_many(&mut buf, 10))), Poll::Ready(2));
        assert_eq!(poll_once(&mut Box::pin(rx.recv_many(&mut buf, 10))), Poll::Ready(0));
        assert_eq!(buf, [0, 1, 2, 3, 4]);
    }
}

#[cfg(all(test, loom))]
mod loom_models {
    use super::*;
    use loom::future::block_on;
    use loom::thread;

    /// Two sends through a one-slot channel racing with the receiver, then the sender's
    /// drop: every message arrives in order, then `None`.
    #[test]
    fn bounded_send_and_recv_deliver_everything_then_close() {
        loom::model(|| {
            let (tx, mut rx) = channel(1);
            let producer = thread::spawn(move || {
                block_on(tx.send(1)).unwrap();
                block_on(tx.send(2)).unwrap();
            });
            assert_eq!(block_on(rx.recv()), Some(1));
            assert_eq!(block_on(rx.recv()), Some(2));
            assert_eq!(block_on(rx.recv()), None);
            producer.join().unwrap();
        });
    }

    /// `close` racing with a send: the value is either received or handed back, never lost
    /// in the queue after `recv` returned `None`.
    #[test]
    fn close_racing_send_delivers_or_returns_the_value() {
        loom::model(|| {
            let (tx, mut rx) = channel(1);
            let sender = thread::spawn(move || block_on(tx.send(1)).is_ok());
            rx.close();
            let got = block_on(rx.recv());
            let sent = sender.join().unwrap();
            assert_eq!(got.is_some(), sent);
            assert_eq!(block_on(rx.recv()), None);
        });
    }

    /// A sender waiting for room while the receiver is dropped gets its value back.
    #[test]
    fn a_waiting_sender_fails_when_the_receiver_drops() {
        loom::model(|| {
            let (tx, rx) = channel(1);
            tx.try_send(0).unwrap();
            let dropper = thread::spawn(move || drop(rx));
            assert_eq!(block_on(tx.send(1)), Err(SendError(1)));
            dropper.join().unwrap();
        });
    }
}
