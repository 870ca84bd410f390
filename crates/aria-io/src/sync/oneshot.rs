//! A channel for sending a single value between tasks.
//!
//! ```
//! use aria_io::sync::oneshot;
//!
//! aria_io::Runtime::new()?.block_on(async {
//!     let (tx, rx) = oneshot::channel();
//!     aria_io::spawn(async move {
//!         let _ = tx.send(6 * 7);
//!     });
//!     assert_eq!(rx.await, Ok(42));
//! });
//! # Ok::<_, std::io::Error>(())
//! ```
//!
//! Both halves share one lock-protected slot: the value, whether the sender is done (sent or
//! dropped), whether the receiver is closed (closed or dropped), and each side's waker. Every
//! state change happens under the lock and wakes the other side after unlocking; a value sent
//! to a receiver that is dropped before taking it is dropped with the receiver.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

use super::lock;
use crate::loom::sync::{Arc, Mutex};

/// Creates a one-value channel: a [`Sender`] that sends at most once and a [`Receiver`] that is
/// a future of the value.
pub fn channel<T>() -> (Sender<T>, Receiver<T>) {
    let inner = Arc::new(Mutex::new(State {
        value: None,
        tx_done: false,
        rx_closed: false,
        rx_waker: None,
        tx_waker: None,
    }));
    (Sender { inner: Some(inner.clone()) }, Receiver { inner: Some(inner) })
}

struct State<T> {
    value: Option<T>,
    /// The sender sent or was dropped.
    tx_done: bool,
    /// The receiver was closed or dropped: sending fails.
    rx_closed: bool,
    rx_waker: Option<Waker>,
    tx_waker: Option<Waker>,
}

type Inner<T> = Arc<Mutex<State<T>>>;

fn store(slot: &mut Option<Waker>, waker: &Waker) {
    match slot {
        Some(w) if w.will_wake(waker) => {}
        _ => *slot = Some(waker.clone()),
    }
}

fn wake(waker: Option<Waker>) {
    if let Some(waker) = waker {
        waker.wake();
    }
}

/// Sends the value of a [`oneshot`](self) channel. Dropping it without sending makes the
/// receiver complete with [`RecvError`].
pub struct Sender<T> {
    /// `None` once sent.
    inner: Option<Inner<T>>,
}

impl<T> Sender<T> {
    /// Sends `value`, completing the receiver. Never waits.
    ///
    /// # Errors
    /// `Err(value)` if the receiver was dropped or [closed](Receiver::close): the value is
    /// handed back. `Ok` means the value was stored for the receiver; if the receiver is
    /// dropped before it takes it, the value is dropped with it.
    pub fn send(mut self, value: T) -> Result<(), T> {
        let Some(inner) = self.inner.take() else { unreachable!("a Sender holds its channel until sent") };
        let (result, waker) = {
            let mut state = lock(&inner);
            state.tx_done = true;
            let result = match state.rx_closed {
                true => Err(value),
                false => {
                    state.value = Some(value);
                    Ok(())
                }
            };
            (result, state.rx_waker.take())
        };
        wake(waker);
        result
    }

    /// Whether the receiver was dropped or [closed](Receiver::close), so that [`send`](Sender::send)
    /// would fail.
    pub fn is_closed(&self) -> bool {
        self.inner.as_ref().is_none_or(|inner| lock(inner).rx_closed)
    }

    /// Waits until the receiver is dropped or closed: lets a producer stop computing a value
    /// nobody wants.
    ///
    /// # Cancel safety
    /// Cancel-safe: it only observes the channel.
    pub async fn closed(&mut self) {
        std::future::poll_fn(|cx| self.poll_closed(cx)).await
    }

    /// Polls for the receiver being dropped or closed, registering `cx`'s waker if it is not.
    /// Only the waker of the most recent call is woken.
    pub fn poll_closed(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        let Some(inner) = &self.inner else { return Poll::Ready(()) };
        let mut state = lock(inner);
        if state.rx_closed {
            return Poll::Ready(());
        }
        store(&mut state.tx_waker, cx.waker());
        Poll::Pending
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        let Some(inner) = self.inner.take() else { return };
        let waker = {
            let mut state = lock(&inner);
            state.tx_done = true;
            state.rx_waker.take()
        };
        wake(waker);
    }
}

impl<T> fmt::Debug for Sender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("oneshot::Sender").field("closed", &self.is_closed()).finish()
    }
}

/// Receives the value of a [`oneshot`](self) channel: a future of `Result<T, RecvError>`.
///
/// Awaiting the receiver consumes it; awaiting `&mut receiver` does not, so it can be raced
/// with something else (for example under a timeout) and awaited again.
///
/// # Cancel safety
/// Cancel-safe when polled through `&mut receiver`: a poll that returns `Pending` takes
/// nothing, so dropping that future leaves the value in the channel. Dropping the receiver
/// itself closes the channel and drops any value already sent.
pub struct Receiver<T> {
    /// `None` once the value or the error was returned.
    inner: Option<Inner<T>>,
}

impl<T> Receiver<T> {
    /// Takes the value if it was sent, without waiting.
    ///
    /// # Errors
    /// [`TryRecvError::Empty`] if nothing was sent yet and the sender is alive,
    /// [`TryRecvError::Closed`] if the sender was dropped without sending or the value was
    /// already received.
    pub fn try_recv(&mut self) -> Result<T, TryRecvError> {
        let Some(inner) = &self.inner else { return Err(TryRecvError::Closed) };
        let result = {
            let mut state = lock(inner);
            match state.value.take() {
                Some(value) => Ok(value),
                None if state.tx_done => Err(TryRecvError::Closed),
                None => return Err(TryRecvError::Empty),
            }
        };
        self.inner = None;
        result
    }

    /// Closes the channel without dropping the receiver: [`Sender::send`] fails from now on and
    /// [`Sender::closed`] completes, while a value sent before can still be received.
    pub fn close(&mut self) {
        let Some(inner) = &self.inner else { return };
        let waker = {
            let mut state = lock(inner);
            state.rx_closed = true;
            state.tx_waker.take()
        };
        wake(waker);
    }

    /// Waits for the value by blocking the current thread, for use outside async code.
    ///
    /// # Errors
    /// [`RecvError`] if the sender was dropped without sending.
    ///
    /// # Panics
    /// If called from a thread running an aria-io runtime.
    pub fn blocking_recv(self) -> Result<T, RecvError> {
        super::block_on::block_on("oneshot::Receiver::blocking_recv", self)
    }
}

impl<T> Future for Receiver<T> {
    type Output = Result<T, RecvError>;

    /// # Panics
    /// If polled after it completed.
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let Some(inner) = &self.inner else { panic!("oneshot::Receiver polled after completion") };
        let result = {
            let mut state = lock(inner);
            match state.value.take() {
                Some(value) => Ok(value),
                None if state.tx_done => Err(RecvError(())),
                None => {
                    store(&mut state.rx_waker, cx.waker());
                    return Poll::Pending;
                }
            }
        };
        self.inner = None;
        Poll::Ready(result)
    }
}

impl<T> Drop for Receiver<T> {
    fn drop(&mut self) {
        let Some(inner) = self.inner.take() else { return };
        let (value, waker) = {
            let mut state = lock(&inner);
            state.rx_closed = true;
            (state.value.take(), state.tx_waker.take())
        };
        drop(value);
        wake(waker);
    }
}

impl<T> fmt::Debug for Receiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("oneshot::Receiver").field("done", &self.inner.is_none()).finish()
    }
}

/// The error of awaiting a [`Receiver`] whose sender was dropped without sending.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecvError(());

impl fmt::Display for RecvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("oneshot sender dropped without sending")
    }
}

impl std::error::Error for RecvError {}

/// The error of [`Receiver::try_recv`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TryRecvError {
    /// Nothing was sent yet; the sender is alive.
    Empty,
    /// The sender was dropped without sending, or the value was already received.
    Closed,
}

impl fmt::Display for TryRecvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TryRecvError::Empty => f.write_str("oneshot channel empty"),
            TryRecvError::Closed => f.write_str("oneshot channel closed"),
        }
    }
}

impl std::error::Error for TryRecvError {}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use crate::sync::test_util::{poll_once, poll_with, CountingWaker};

    #[test]
    fn a_pending_poll_takes_nothing() {
        let (tx, mut rx) = channel();
        let (woken, waker) = CountingWaker::new();
        assert!(poll_with(&mut &mut rx, &waker).is_pending());
        assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
        tx.send(5).unwrap();
        assert_eq!(woken.count(), 1);
        assert_eq!(poll_once(&mut rx), Poll::Ready(Ok(5)));
        assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
    }

    #[test]
    fn close_fails_the_send_and_completes_closed() {
        let (mut tx, mut rx) = channel::<u8>();
        let (woken, waker) = CountingWaker::new();
        assert!(!tx.is_closed());
        assert!(tx.poll_closed(&mut Context::from_waker(&waker)).is_pending());
        rx.close();
        assert_eq!(woken.count(), 1);
        assert!(tx.is_closed());
        assert_eq!(tx.send(1), Err(1));
        assert_eq!(poll_once(&mut rx), Poll::Ready(Err(RecvError(()))));
    }

    #[test]
    fn a_value_sent_to_a_dropped_receiver_is_dropped() {
        let value = std::sync::Arc::new(());
        let (tx, rx) = channel();
        tx.send(value.clone()).unwrap();
        drop(rx);
        assert_eq!(std::sync::Arc::strong_count(&value), 1);
    }
}

#[cfg(all(test, loom))]
mod loom_models {
    use super::*;
    use loom::future::block_on;
    use loom::thread;

    /// Send racing with the receiver's drop: the value comes back or is dropped, exactly once.
    #[test]
    fn send_racing_receiver_drop_loses_or_returns_the_value() {
        loom::model(|| {
            let value = Arc::new(());
            let (tx, rx) = channel();
            let v = value.clone();
            let sender = thread::spawn(move || tx.send(v).is_ok());
            drop(rx);
            let _sent = sender.join().unwrap();
            assert_eq!(Arc::strong_count(&value), 1, "the value was neither returned nor dropped");
        });
    }

    /// Send racing with the receive: the receiver gets the value.
    #[test]
    fn send_racing_recv_delivers() {
        loom::model(|| {
            let (tx, rx) = channel();
            let sender = thread::spawn(move || tx.send(7).unwrap());
            assert_eq!(block_on(rx), Ok(7));
            sender.join().unwrap();
        });
    }

    /// A sender dropped without sending completes the receiver with an error.
    #[test]
    fn sender_drop_racing_recv_completes_with_an_error() {
        loom::model(|| {
            let (tx, rx) = channel::<u8>();
            let dropper = thread::spawn(move || drop(tx));
            assert_eq!(block_on(rx), Err(RecvError(())));
            dropper.join().unwrap();
        });
    }

    /// `Sender::closed` completes when the receiver is dropped concurrently.
    #[test]
    fn closed_completes_when_the_receiver_drops() {
        loom::model(|| {
            let (mut tx, rx) = channel::<u8>();
            let dropper = thread::spawn(move || drop(rx));
            block_on(tx.closed());
            assert!(tx.is_closed());
            dropper.join().unwrap();
        });
    }
}
