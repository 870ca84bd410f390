//! The unbounded channel: the shared queue with no slot limit.

use std::fmt;
use std::pin::Pin;
use std::task::{Context, Poll};

use super::chan::Chan;
use super::{SendError, TryRecvError};
use crate::loom::sync::Arc;

/// Creates an unbounded channel: sending never waits, so only memory limits the queue.
pub fn unbounded_channel<T>() -> (UnboundedSender<T>, UnboundedReceiver<T>) {
    let chan = Chan::new(None);
    (UnboundedSender { chan: chan.clone() }, UnboundedReceiver { chan })
}

/// Sends messages to an unbounded channel. Clone it for more producers; it can be used from
/// any thread, async or not.
pub struct UnboundedSender<T> {
    chan: Arc<Chan<T>>,
}

impl<T> UnboundedSender<T> {
    /// Enqueues `value` without waiting and wakes the receiver.
    ///
    /// # Errors
    /// `SendError(value)` if the receiver is dropped or [closed](UnboundedReceiver::close).
    pub fn send(&self, value: T) -> Result<(), SendError<T>> {
        self.chan.push(value).map_err(SendError)
    }

    /// Waits until the receiver is dropped or [closed](UnboundedReceiver::close).
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

    /// Whether both senders belong to the same channel.
    pub fn same_channel(&self, other: &UnboundedSender<T>) -> bool {
        Arc::ptr_eq(&self.chan, &other.chan)
    }
}

impl<T> Clone for UnboundedSender<T> {
    fn clone(&self) -> UnboundedSender<T> {
        self.chan.add_sender();
        UnboundedSender { chan: self.chan.clone() }
    }
}

impl<T> Drop for UnboundedSender<T> {
    fn drop(&mut self) {
        self.chan.drop_sender();
    }
}

impl<T> fmt::Debug for UnboundedSender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("mpsc::UnboundedSender").field("chan", &self.chan).finish()
    }
}

/// Receives the messages of an unbounded channel, in the order they were sent.
///
/// It is also a [`Stream`](futures_core::Stream) of the messages.
pub struct UnboundedReceiver<T> {
    chan: Arc<Chan<T>>,
}

impl<T> UnboundedReceiver<T> {
    /// Waits for the next message. Returns `None` once every sender is dropped (or the
    /// receiver [closed](UnboundedReceiver::close)) and the queue is drained.
    ///
    /// # Cancel safety
    /// Cancel-safe: a message leaves the queue only in the poll that returns it.
    pub async fn recv(&mut self) -> Option<T> {
        std::future::poll_fn(|cx| self.poll_recv(cx)).await
    }

    /// Waits for at least one message, then moves up to `limit` queued messages into `buf`.
    /// Returns how many were moved: `0` only once the channel is closed and drained, or when
    /// `limit` is zero.
    ///
    /// # Cancel safety
    /// Cancel-safe, as [`recv`](UnboundedReceiver::recv).
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
        crate::sync::block_on::block_on("mpsc::UnboundedReceiver::blocking_recv", self.recv())
    }

    /// Closes the channel for sending while keeping the queued messages for receiving.
    pub fn close(&mut self) {
        self.chan.close();
    }

    /// Whether the receiver was [closed](UnboundedReceiver::close).
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

impl<T> futures_core::Stream for UnboundedReceiver<T> {
    type Item = T;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<T>> {
        self.get_mut().poll_recv(cx)
    }
}

impl<T> Drop for UnboundedReceiver<T> {
    fn drop(&mut self) {
        self.chan.drop_receiver();
    }
}

impl<T> fmt::Debug for UnboundedReceiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("mpsc::UnboundedReceiver").field("chan", &self.chan).finish()
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use crate::sync::test_util::{poll_once, poll_with, CountingWaker};

    #[test]
    fn recv_ends_after_the_last_sender_once_drained() {
        let (tx, mut rx) = unbounded_channel();
        let tx2 = tx.clone();
        assert!(tx.same_channel(&tx2));
        let (woken, waker) = CountingWaker::new();
        assert!(poll_with(&mut Box::pin(rx.recv()), &waker).is_pending());
        tx.send(1).unwrap();
        assert_eq!(woken.count(), 1);
        tx2.send(2).unwrap();
        drop((tx, tx2));
        assert_eq!(rx.len(), 2);
        assert_eq!(rx.try_recv(), Ok(1));
        assert_eq!(poll_once(&mut Box::pin(rx.recv())), Poll::Ready(Some(2)));
        assert_eq!(rx.try_recv(), Err(TryRecvError::Disconnected));
    }

    #[test]
    fn send_after_the_receiver_is_gone_returns_the_value() {
        let (tx, rx) = unbounded_channel();
        tx.send(String::from("queued")).unwrap();
        drop(rx);
        assert!(tx.is_closed());
        assert_eq!(tx.send(String::from("late")), Err(SendError(String::from("late"))));
        assert!(poll_once(&mut Box::pin(tx.closed())).is_ready());
    }
}
