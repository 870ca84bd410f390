//! Operations in the completion shape (see the [driver contract](super)).
//!
//! An [`Op`] owns its operation value (descriptor reference and buffers) and hands it back
//! with the result, so the same call sites work unchanged when a completion backend keeps the
//! value inside the kernel's reach until the completion arrives.

use std::future::Future;
use std::io;
use std::os::fd::{AsFd, BorrowedFd};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use super::{Interest, IoSource};

/// One kind of operation.
pub(crate) trait OpCode: Unpin {
    /// What a successful completion yields.
    type Output;
    /// Readiness backends: what to wait for when `perform` reports `WouldBlock`.
    fn interest(&self) -> Interest;
    /// Readiness backends: the non-blocking system call.
    fn perform(&mut self, fd: BorrowedFd<'_>) -> io::Result<Self::Output>;
}

/// A submitted operation on a registered descriptor. Completes with the result and the
/// operation value (its buffers) given back.
#[derive(Debug)]
pub(crate) struct Op<T> {
    source: Arc<IoSource>,
    op: Option<T>,
}

impl<T: OpCode> Op<T> {
    pub(crate) fn new(source: Arc<IoSource>, op: T) -> Op<T> {
        Op { source, op: Some(op) }
    }
}

impl<T: OpCode> Future for Op<T> {
    type Output = (io::Result<T::Output>, T);

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        let op = this.op.as_mut().expect("Op polled after completion");
        let interest = op.interest();
        let source = &this.source;
        let res =
            std::task::ready!(source.registration().poll_io(cx, interest, || op.perform(source.as_fd())));
        let op = this.op.take().expect("Op polled after completion");
        Poll::Ready((res, op))
    }
}
