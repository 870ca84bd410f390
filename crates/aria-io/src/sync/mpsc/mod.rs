//! Multi-producer, single-consumer FIFO channels.
//!
//! - [`channel`]`(capacity)` is bounded: at most `capacity` messages are queued, and
//!   [`Sender::send`] waits for room (backpressure). Waiting senders get room in the order they
//!   started waiting.
//! - [`unbounded_channel`] never makes a sender wait; memory is the only limit.
//!
//! ```
//! use aria_io::sync::mpsc;
//!
//! aria_io::Runtime::new()?.block_on(async {
//!     let (tx, mut rx) = mpsc::channel(8);
//!     for id in 0..3 {
//!         let tx = tx.clone();
//!         aria_io::spawn(async move {
//!             tx.send(id).await.unwrap();
//!         });
//!     }
//!     drop(tx); // recv returns None once every sender is gone and the queue is drained
//!     let mut got = Vec::new();
//!     while let Some(id) = rx.recv().await {
//!         got.push(id);
//!     }
//!     got.sort();
//!     assert_eq!(got, [0, 1, 2]);
//! });
//! # Ok::<_, std::io::Error>(())
//! ```
//!
//! # Closing
//!
//! - When every sender is dropped, the receiver still gets every queued message, then `None`.
//! - When the receiver is dropped, sends fail and hand the message back ([`SendError`]);
//!   queued messages are dropped. [`Receiver::close`] stops sends the same way but keeps the
//!   queue for the receiver to drain. [`Sender::closed`] waits for either.
//!
//! # Design
//!
//! One lock-protected queue (`chan::Chan`) holds the messages, the sender count, the closed
//! flag and the receiver's waker. A bounded channel adds a [`Semaphore`](super::Semaphore) of
//! free slots: a sender acquires a slot (waiting in the semaphore's FIFO queue), then enqueues
//! in the same poll; the receiver releases the slot when it dequeues. Closing the receiver
//! closes the semaphore, which fails the waiting senders.

mod bounded;
mod chan;
mod unbounded;

use std::fmt;

pub use bounded::{channel, Receiver, Sender};
pub use unbounded::{unbounded_channel, UnboundedReceiver, UnboundedSender};

/// The error of sending to a channel whose receiver was dropped or closed; holds the message.
#[derive(Clone, PartialEq, Eq)]
pub struct SendError<T>(pub T);

impl<T> fmt::Debug for SendError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SendError").finish_non_exhaustive()
    }
}

impl<T> fmt::Display for SendError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("channel closed")
    }
}

impl<T> std::error::Error for SendError<T> {}

/// The error of [`Sender::try_send`]; holds the message.
#[derive(Clone, PartialEq, Eq)]
pub enum TrySendError<T> {
    /// The channel is at capacity (or other senders are waiting for room first).
    Full(T),
    /// The receiver was dropped or closed.
    Closed(T),
}

impl<T> TrySendError<T> {
    /// The message that was not sent.
    pub fn into_inner(self) -> T {
        match self {
            TrySendError::Full(v) | TrySendError::Closed(v) => v,
        }
    }
}

impl<T> fmt::Debug for TrySendError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TrySendError::Full(_) => f.write_str("Full(..)"),
            TrySendError::Closed(_) => f.write_str("Closed(..)"),
        }
    }
}

impl<T> fmt::Display for TrySendError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TrySendError::Full(_) => f.write_str("channel full"),
            TrySendError::Closed(_) => f.write_str("channel closed"),
        }
    }
}

impl<T> std::error::Error for TrySendError<T> {}

impl<T> From<SendError<T>> for TrySendError<T> {
    fn from(SendError(v): SendError<T>) -> TrySendError<T> {
        TrySendError::Closed(v)
    }
}

/// The error of [`Receiver::try_recv`] and [`UnboundedReceiver::try_recv`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TryRecvError {
    /// No message is queued; a sender is alive.
    Empty,
    /// No message is queued and none can come: every sender was dropped, or the receiver was
    /// closed.
    Disconnected,
}

impl fmt::Display for TryRecvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TryRecvError::Empty => f.write_str("channel empty"),
            TryRecvError::Disconnected => f.write_str("channel disconnected"),
        }
    }
}

impl std::error::Error for TryRecvError {}
