use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::task::{Context, Poll};

use super::raw::{Panic, RawTask};

/// An owned permission to await a spawned task's output. Dropping it detaches the task (it
/// keeps running); [`JoinHandle::abort`] cancels it.
///
/// Awaiting it yields `Ok(output)`, or a [`JoinError`] if the task panicked or was cancelled
/// (by `abort` or because its runtime shut down).
pub struct JoinHandle<T> {
    raw: RawTask,
    _output: PhantomData<fn() -> T>,
}

impl<T> JoinHandle<T> {
    pub(crate) fn new(raw: RawTask) -> Self {
        JoinHandle { raw, _output: PhantomData }
    }

    /// Cancels the task: its future is dropped the next time its scheduler reaches it
    /// (immediately if it is idle), and awaiting the handle yields a cancelled [`JoinError`].
    /// A task that already completed keeps its output. May be called from any thread.
    pub fn abort(&self) {
        self.raw.abort();
    }

    /// Whether the task has completed (output stored, panicked or cancelled).
    pub fn is_finished(&self) -> bool {
        self.raw.is_complete()
    }
}

impl<T> Future for JoinHandle<T> {
    type Output = Result<T, JoinError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut out: Poll<Result<T, JoinError>> = Poll::Pending;
        // SAFETY: `out` has exactly the task's output type: JoinHandle<T> is only created by
        // `spawn` for a future whose output is `T`.
        unsafe { self.raw.read_output((&mut out as *mut Poll<Result<T, JoinError>>).cast(), cx.waker()) };
        out
    }
}

impl<T> fmt::Debug for JoinHandle<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JoinHandle").field("finished", &self.is_finished()).finish()
    }
}

/// Why a task produced no output.
pub struct JoinError {
    repr: Repr,
}

enum Repr {
    Cancelled,
    Panic(Panic),
}

impl JoinError {
    pub(crate) fn cancelled() -> JoinError {
        JoinError { repr: Repr::Cancelled }
    }

    pub(crate) fn panic(p: Panic) -> JoinError {
        JoinError { repr: Repr::Panic(p) }
    }

    /// The task was aborted or its runtime shut down before it finished.
    pub fn is_cancelled(&self) -> bool {
        matches!(self.repr, Repr::Cancelled)
    }

    /// The task's future panicked.
    pub fn is_panic(&self) -> bool {
        matches!(self.repr, Repr::Panic(_))
    }

    /// The panic payload, to resume it with `std::panic::resume_unwind`.
    ///
    /// # Errors
    /// Gives the error back if the task was cancelled rather than panicking.
    pub fn try_into_panic(self) -> Result<Box<dyn std::any::Any + Send + 'static>, JoinError> {
        match self.repr {
            Repr::Panic(p) => Ok(p),
            Repr::Cancelled => Err(self),
        }
    }
}

impl fmt::Display for JoinError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.repr {
            Repr::Cancelled => f.write_str("task was cancelled"),
            Repr::Panic(p) => {
                let msg = p
                    .downcast_ref::<&str>()
                    .copied()
                    .or_else(|| p.downcast_ref::<String>().map(String::as_str));
                match msg {
                    Some(m) => write!(f, "task panicked: {m}"),
                    None => f.write_str("task panicked"),
                }
            }
        }
    }
}

impl fmt::Debug for JoinError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "JoinError({self})")
    }
}

impl std::error::Error for JoinError {}

impl From<JoinError> for std::io::Error {
    fn from(e: JoinError) -> std::io::Error {
        std::io::Error::other(e.to_string())
    }
}
