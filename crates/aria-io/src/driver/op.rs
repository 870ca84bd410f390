//! Operations in the completion shape (see the [driver contract](super)).
//!
//! # What an operation owns
//!
//! An [`OpCode`] value owns everything the kernel may touch while the operation runs: its
//! buffers, paths and result structures (`statx`, `siginfo_t`), all on the heap, **and a
//! reference to the descriptor it targets** (the `Arc<IoSource>` of a registered I/O object,
//! or a file's reference). Owning the descriptor matters as much as owning the buffers: an
//! entry waiting in the submission ring names its descriptor by number, and a number closed
//! and reused by another `open` before the kernel reads the entry would send the operation to
//! the wrong file.
//!
//! An [`Op`] future submits the value and completes with the result and the value handed
//! back, so callers get their buffers back on every backend.
//!
//! # How an operation runs
//!
//! | operation on | io_uring | readiness backends (epoll) |
//! |---|---|---|
//! | a registered descriptor (pipes, pidfds) | its submission entry | [`OpCode::perform`], non-blocking, retried after readiness |
//! | anything else (regular files, paths) | its submission entry | [`OpCode::perform`] on the [blocking pool](crate::blocking) |
//!
//! On io_uring an operation whose opcode the kernel lacks (its [`OpCode::uring_entry`]
//! returns `None` after asking [`Ring::supports`]) takes the readiness-backend column. An
//! operation on no registered descriptor started outside any runtime runs on the pool too.
//!
//! # Dropping an operation in flight
//!
//! - **io_uring**: the operation value moves into the ring (see `uring.rs`) and an
//!   `IORING_OP_ASYNC_CANCEL` is queued, unless the `Op` is [detached](Op::detached). When
//!   the completion of the original request arrives (success, error or `-ECANCELED`), the
//!   driver calls the operation's cancel hook, [`OpCode::cancelled`], with its result, on the
//!   thread that turns the driver (or at once on the dropping thread, if the completion had
//!   already arrived), then frees the value. The default hook completes the operation and
//!   drops its output, so what a completed operation produced is released: a descriptor
//!   opened by an `OPENAT` the cancellation came too late for is closed. Reads of a stream
//!   keep what they received instead ([`OpCode::abandoned`], then their cancel hook): the
//!   next read of the stream returns it (see
//!   [`registration`](super::registration#reads-abandoned-in-flight-the-stash)).
//! - **Readiness**: no system call runs between two polls, so the value is dropped at once.
//! - **Blocking pool**: the pool job owns the value until its system call returns; the
//!   output is then dropped on the pool thread (which closes an opened descriptor too).

use std::fmt;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use io_uring::squeue;

use super::uring::{Abandoned, Ring};
use super::{Backend, Handle, Interest, IoSource};
use crate::blocking::{self, BlockingJoinHandle};
use crate::runtime::context;

/// One kind of operation: how to submit it to io_uring, how to perform it otherwise, and how
/// to release what it produced if nobody waits for it any more.
pub(crate) trait OpCode: Unpin + Send + Sized + 'static {
    /// What a successful completion yields.
    type Output: Send + 'static;

    /// The registered I/O object the operation targets, if any. It decides the fallback path
    /// (readiness on that registration, or the blocking pool when `None`) and the driver the
    /// operation is submitted to (the registration's, or the current runtime's when `None`).
    fn source(&self) -> Option<&Arc<IoSource>> {
        None
    }

    /// Readiness fallback: what to wait for when [`perform`](OpCode::perform) reports
    /// `WouldBlock`. Unused for operations without a [`source`](OpCode::source).
    fn interest(&self) -> Interest {
        Interest::Readable
    }

    /// The system call of the fallback path: non-blocking on a registered source (retried
    /// after readiness on `WouldBlock`), blocking on the pool otherwise.
    fn perform(&mut self) -> io::Result<Self::Output>;

    /// Readiness path, right after `perform` returned `out`: whether it was a read that
    /// emptied a stream (`registration::short_read`), so that the readiness it used is
    /// cleared (see `Registration::poll_io_drained`). The default says no.
    fn drained(&self, _out: &Self::Output) -> bool {
        false
    }

    /// io_uring: the submission entry (its `user_data` is set by the driver), or `None` for
    /// the fallback path (typically: `ring` does not [support](Ring::supports) the opcode).
    /// Every pointer in the entry must point into heap memory owned by `self` (it stays valid
    /// when `self` moves) and every descriptor must be kept open by `self`.
    fn uring_entry(&mut self, ring: &Ring) -> Option<squeue::Entry>;

    /// io_uring: turns the completion's result (`-errno`, or a count or descriptor) into the
    /// output.
    fn uring_complete(&mut self, res: i32) -> io::Result<Self::Output>;

    /// io_uring: the `Op` is being dropped while the operation is in the kernel. Called on
    /// the dropping thread before the value is handed to the ring (so before the drop
    /// returns), whatever happens to the request next. A read of a stream takes an
    /// [`AbandonedRead`](super::registration::AbandonedRead) here, so that the next reads of
    /// its stream wait for it and return what it received first (see
    /// [`registration`](super::registration#reads-abandoned-in-flight-the-stash)). The default
    /// does nothing.
    fn abandoned(&mut self) {}

    /// io_uring: the cancel hook, called with the completion's result when the `Op` was
    /// dropped while the operation was in the kernel (`res` is `-ECANCELED` if the
    /// cancellation won the race). The default completes the operation and drops its output,
    /// which releases anything the operation produced (a descriptor, for an open).
    fn cancelled(&mut self, res: i32) {
        drop(self.uring_complete(res));
    }
}

/// A submitted operation. Completes with the result and the operation value (its buffers)
/// given back; see the [module docs](self) for the paths it takes and what dropping it does.
pub(crate) struct Op<T: OpCode> {
    state: State<T>,
    /// If dropped in flight on io_uring, let the request finish instead of cancelling it.
    detached: bool,
}

enum State<T: OpCode> {
    /// Not polled yet.
    Start(T),
    /// The readiness path on a registered descriptor.
    Readiness {
        op: T,
        source: Arc<IoSource>,
    },
    /// Submitted to io_uring as `key`.
    Uring {
        op: T,
        key: usize,
        driver: Arc<Handle>,
    },
    /// On the blocking pool, which owns the value until its system call returns.
    Blocking(BlockingJoinHandle<(io::Result<T::Output>, T)>),
    Done,
}

impl<T: OpCode> Op<T> {
    pub(crate) fn new(op: T) -> Op<T> {
        Op { state: State::Start(op), detached: false }
    }

    /// An operation that, if dropped while in the kernel, runs to its end instead of being
    /// cancelled (for a write whose bytes were already reported written to the caller). Its
    /// cancel hook still runs when it completes.
    pub(crate) fn detached(op: T) -> Op<T> {
        Op { state: State::Start(op), detached: true }
    }
}

impl<T: OpCode> Future for Op<T> {
    type Output = (io::Result<T::Output>, T);

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        loop {
            match std::mem::replace(&mut this.state, State::Done) {
                State::Start(mut op) => {
                    if let Some(driver) = uring_driver(&op) {
                        if let Backend::Uring(ring) = &driver.backend {
                            if let Some(entry) = op.uring_entry(ring) {
                                let Some(key) = ring.push_op(entry, cx.waker()) else {
                                    return Poll::Ready((Err(shut_down()), op));
                                };
                                driver.unpark_if_remote();
                                this.state = State::Uring { op, key, driver };
                                return Poll::Pending;
                            }
                        }
                    }
                    match op.source().cloned() {
                        Some(source) => this.state = State::Readiness { op, source },
                        None => match blocking::spawn_with(op, |mut op: T| (op.perform(), op)) {
                            Ok(handle) => this.state = State::Blocking(handle),
                            Err((op, e)) => return Poll::Ready((Err(e), op)),
                        },
                    }
                }
                State::Readiness { mut op, source } => {
                    let interest = op.interest();
                    let attempt = || {
                        op.perform().map(|out| {
                            let drained = op.drained(&out);
                            (out, drained)
                        })
                    };
                    return match source.registration().poll_io_drained(cx, interest, attempt) {
                        Poll::Ready(res) => Poll::Ready((res, op)),
                        Poll::Pending => {
                            this.state = State::Readiness { op, source };
                            Poll::Pending
                        }
                    };
                }
                State::Uring { mut op, key, driver } => {
                    let Backend::Uring(ring) = &driver.backend else {
                        unreachable!("an io_uring key comes from an io_uring driver")
                    };
                    let Some(res) = ring.poll_op(key, cx.waker()) else {
                        this.state = State::Uring { op, key, driver };
                        return Poll::Pending;
                    };
                    let out = op.uring_complete(res);
                    return Poll::Ready((out, op));
                }
                State::Blocking(mut handle) => {
                    return match Pin::new(&mut handle).poll(cx) {
                        Poll::Pending => {
                            this.state = State::Blocking(handle);
                            Poll::Pending
                        }
                        Poll::Ready(Ok(out)) => Poll::Ready(out),
                        // A system call wrapper panicked: a bug, surfaced in the caller's task.
                        Poll::Ready(Err(e)) => match e.try_into_panic() {
                            Ok(payload) => std::panic::resume_unwind(payload),
                            Err(e) => panic!("the blocking pool dropped an accepted operation: {e}"),
                        },
                    };
                }
                State::Done => panic!("Op polled after completion"),
            }
        }
    }
}

/// Whether an operation with this opcode and no readiness fallback of its own would be a
/// submission: the current runtime's driver is io_uring and its kernel has the opcode.
pub(crate) fn uring_supports(opcode: u8) -> bool {
    context::driver_handle()
        .is_ok_and(|d| matches!(&d.backend, Backend::Uring(ring) if ring.supports(opcode)))
}

/// Whether an operation with this opcode on `source` would be a submission: the driver
/// `source` is registered with is io_uring and its kernel has the opcode (for operations
/// whose fallback differs from their `perform`, such as a readiness path on the caller's
/// memory).
pub(crate) fn uring_supports_on(source: &IoSource, opcode: u8) -> bool {
    matches!(&source.registration().driver().backend, Backend::Uring(ring) if ring.supports(opcode))
}

/// The io_uring driver `op` would be submitted to, if it goes to one.
fn uring_driver<T: OpCode>(op: &T) -> Option<Arc<Handle>> {
    match op.source() {
        Some(source) => {
            let driver = source.registration().driver();
            matches!(driver.backend, Backend::Uring(_)).then(|| driver.clone())
        }
        None => context::driver_handle().ok().filter(|d| matches!(d.backend, Backend::Uring(_))),
    }
}

impl<T: OpCode> Drop for Op<T> {
    fn drop(&mut self) {
        // Readiness: nothing in flight. Blocking: the pool job owns the value.
        let State::Uring { mut op, key, driver } = std::mem::replace(&mut self.state, State::Done) else {
            return;
        };
        op.abandoned();
        if let Backend::Uring(ring) = &driver.backend {
            // The kernel may still use `op`'s memory and descriptor: the ring keeps them
            // until the completion arrives, then runs the cancel hook.
            ring.cancel_op(key, Box::new(Dropped(op)), !self.detached);
            driver.unpark_if_remote();
        }
    }
}

impl<T: OpCode> fmt::Debug for Op<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = match &self.state {
            State::Start(_) => "start",
            State::Readiness { .. } => "readiness",
            State::Uring { .. } => "io_uring",
            State::Blocking(_) => "blocking",
            State::Done => "done",
        };
        f.debug_struct("Op").field("state", &state).field("detached", &self.detached).finish()
    }
}

/// An operation value whose `Op` was dropped in flight, as the ring keeps it.
struct Dropped<T: OpCode>(T);

impl<T: OpCode> Abandoned for Dropped<T> {
    fn complete(mut self: Box<Self>, res: i32) {
        self.0.cancelled(res);
    }
}

/// An io_uring completion's result as the system call would return it: `-errno` becomes the
/// error, anything else is a count (bytes moved) or a descriptor number.
pub(crate) fn uring_result(res: i32) -> io::Result<usize> {
    if res < 0 {
        Err(io::Error::from_raw_os_error(-res))
    } else {
        Ok(res as usize)
    }
}

fn shut_down() -> io::Error {
    io::Error::other("the runtime this operation belongs to has shut down")
}
