//! Operations in the completion shape (see the [driver contract](super)).
//!
//! An [`Op`] owns its operation value (descriptor reference and buffers) and hands it back
//! with the result, so the same call sites work unchanged when a completion backend keeps the
//! value inside the kernel's reach until the completion arrives.

use std::future::Future;
use std::io;
use std::os::fd::{AsFd, BorrowedFd, RawFd};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use io_uring::squeue;

use super::uring::Ring;
use super::{Backend, Interest, IoSource};

/// One kind of operation.
pub(crate) trait OpCode: Unpin + Send + 'static {
    /// What a successful completion yields.
    type Output;
    /// Readiness backends: what to wait for when `perform` reports `WouldBlock`.
    fn interest(&self) -> Interest;
    /// Readiness backends: the non-blocking system call.
    fn perform(&mut self, fd: BorrowedFd<'_>) -> io::Result<Self::Output>;
    /// io_uring: the submission entry (its `user_data` is set by the driver), or `None` to
    /// use the readiness path (poll, then `perform`). Every pointer in the entry must point
    /// into heap memory owned by `self` (it stays valid when `self` moves).
    fn uring_entry(&mut self, _fd: RawFd, _ring: &Ring) -> Option<squeue::Entry> {
        None
    }
    /// io_uring: turns the completion's result into the output.
    fn uring_complete(&mut self, res: i32) -> io::Result<Self::Output> {
        if res < 0 {
            Err(io::Error::from_raw_os_error(-res))
        } else {
            Err(io::Error::other("operation has no io_uring completion"))
        }
    }
}

/// A submitted operation on a registered descriptor. Completes with the result and the
/// operation value (its buffers) given back.
#[derive(Debug)]
pub(crate) struct Op<T: OpCode> {
    source: Arc<IoSource>,
    op: Option<T>,
    /// io_uring: the key of the operation in flight.
    key: Option<usize>,
}

impl<T: OpCode> Op<T> {
    pub(crate) fn new(source: Arc<IoSource>, op: T) -> Op<T> {
        Op { source, op: Some(op), key: None }
    }
}

impl<T: OpCode> Future for Op<T> {
    type Output = (io::Result<T::Output>, T);

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        let handle = this.source.registration().driver().clone();
        if let Backend::Uring(ring) = &handle.backend {
            if let Some(key) = this.key {
                let Some(res) = ring.poll_op(key, cx.waker()) else { return Poll::Pending };
                this.key = None;
                let mut op = this.op.take().expect("Op polled after completion");
                let out = op.uring_complete(res);
                return Poll::Ready((out, op));
            }
            let op = this.op.as_mut().expect("Op polled after completion");
            if let Some(entry) = op.uring_entry(this.source.registration().fd(), ring) {
                match ring.push_op(entry, cx.waker()) {
                    Some(key) => {
                        this.key = Some(key);
                        handle.unpark_if_remote();
                        return Poll::Pending;
                    }
                    None => {
                        let op = this.op.take().expect("Op polled after completion");
                        return Poll::Ready((Err(shut_down()), op));
                    }
                }
            }
        }
        let op = this.op.as_mut().expect("Op polled after completion");
        let interest = op.interest();
        let source = &this.source;
        let res =
            std::task::ready!(source.registration().poll_io(cx, interest, || op.perform(source.as_fd())));
        let op = this.op.take().expect("Op polled after completion");
        Poll::Ready((res, op))
    }
}

impl<T: OpCode> Drop for Op<T> {
    fn drop(&mut self) {
        let (Some(key), Some(op)) = (self.key.take(), self.op.take()) else { return };
        if let Backend::Uring(ring) = &self.source.registration().driver().backend {
            // The kernel may still write into `op`'s buffers: the ring keeps them until the
            // completion arrives (or gives them back now if it already has).
            drop(ring.cancel_op(key, Box::new(op)));
        }
    }
}

fn shut_down() -> io::Error {
    io::Error::other("the runtime this I/O object belongs to has shut down")
}
