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
//! On io_uring an operation whose opcode the kernel lacks (its [`UringOp::uring_entry`](super::uring::ops::UringOp::uring_entry)
//! returns `None` after asking `Ring::supports`) takes the readiness-backend column. An
//! operation on no registered descriptor started outside any runtime runs on the pool too.
//!
//! # Dropping an operation in flight
//!
//! - **io_uring**: the operation value moves into the ring (see `uring.rs`) and an
//!   `IORING_OP_ASYNC_CANCEL` is queued, unless the `Op` is [detached](Op::detached). When
//!   the completion of the original request arrives (success, error or `-ECANCELED`), the
//!   driver calls the operation's cancel hook, `UringOp::cancelled`, with its result, on the
//!   thread that turns the driver (or at once on the dropping thread, if the completion had
//!   already arrived), then frees the value. The default hook completes the operation and
//!   drops its output, so what a completed operation produced is released: a descriptor
//!   opened by an `OPENAT` the cancellation came too late for is closed. Reads of a stream
//!   keep what they received instead (`UringOp::abandoned`, then their cancel hook): the
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

#[cfg(target_os = "linux")]
use super::uring::{ops::UringOp, Abandoned};
#[cfg(target_os = "linux")]
use super::{Backend, Handle};
use super::{Interest, IoSource};
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
}

/// What an operation needs besides [`OpCode`] to be submitted on this platform: on Linux
/// its io_uring form ([`UringOp`]); nothing elsewhere (every operation takes the readiness
/// or blocking path there). Implemented for every operation that has what it needs.
#[cfg(target_os = "linux")]
pub(crate) trait Submit: UringOp {}
#[cfg(target_os = "linux")]
impl<T: UringOp> Submit for T {}
/// What an operation needs besides [`OpCode`] to be submitted on this platform: nothing
/// here (no completion backend yet), so every operation qualifies.
#[cfg(not(target_os = "linux"))]
pub(crate) trait Submit: OpCode {}
#[cfg(not(target_os = "linux"))]
impl<T: OpCode> Submit for T {}

/// Operations whose native completion form behaves differently from their readiness path
/// (the readiness path works on the caller's memory, the native one on memory the operation
/// owns), so the caller asks which one it gets before building the operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Native {
    /// connect(2) (`IORING_OP_CONNECT`).
    Connect,
    /// sendmsg(2) (`IORING_OP_SENDMSG`).
    SendMsg,
    /// recvmsg(2) (`IORING_OP_RECVMSG`).
    RecvMsg,
}

/// Whether `kind` would be a native completion on the current runtime's driver.
pub(crate) fn native(kind: Native) -> bool {
    context::driver_handle().is_ok_and(|d| d.completes(kind))
}

/// Whether `kind` on `source` would be a native completion on the driver `source` is
/// registered with.
pub(crate) fn native_on(source: &IoSource, kind: Native) -> bool {
    source.registration().driver().completes(kind)
}

/// A submitted operation. Completes with the result and the operation value (its buffers)
/// given back; see the [module docs](self) for the paths it takes and what dropping it does.
pub(crate) struct Op<T: Submit> {
    state: State<T>,
    /// If dropped in flight on io_uring, let the request finish instead of cancelling it.
    detached: bool,
}

enum State<T: Submit> {
    /// Not polled yet.
    Start(T),
    /// The readiness path on a registered descriptor.
    Readiness {
        op: T,
        source: Arc<IoSource>,
    },
    /// Submitted to io_uring as `key`.
    #[cfg(target_os = "linux")]
    Uring {
        op: T,
        key: usize,
        driver: Arc<Handle>,
    },
    /// On the blocking pool, which owns the value until its system call returns.
    Blocking(BlockingJoinHandle<(io::Result<T::Output>, T)>),
    Done,
}

impl<T: Submit> Op<T> {
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

impl<T: Submit> Future for Op<T> {
    type Output = (io::Result<T::Output>, T);

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        loop {
            match std::mem::replace(&mut this.state, State::Done) {
                #[allow(unused_mut)]
                State::Start(mut op) => {
                    #[cfg(target_os = "linux")]
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
                #[cfg(target_os = "linux")]
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

/// The io_uring driver `op` would be submitted to, if it goes to one.
#[cfg(target_os = "linux")]
fn uring_driver<T: OpCode>(op: &T) -> Option<Arc<Handle>> {
    match op.source() {
        Some(source) => {
            let driver = source.registration().driver();
            matches!(driver.backend, Backend::Uring(_)).then(|| driver.clone())
        }
        None => context::driver_handle().ok().filter(|d| matches!(d.backend, Backend::Uring(_))),
    }
}

impl<T: Submit> Drop for Op<T> {
    fn drop(&mut self) {
        #[cfg(target_os = "linux")]
        self.drop_uring();
    }
}

impl<T: Submit> Op<T> {
    /// The operation is in the kernel's hands on io_uring: hand it to the ring, which
    /// cancels it (unless detached) and frees it once its completion arrives.
    #[cfg(target_os = "linux")]
    fn drop_uring(&mut self) {
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

impl<T: Submit> fmt::Debug for Op<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = match &self.state {
            State::Start(_) => "start",
            State::Readiness { .. } => "readiness",
            #[cfg(target_os = "linux")]
            State::Uring { .. } => "io_uring",
            State::Blocking(_) => "blocking",
            State::Done => "done",
        };
        f.debug_struct("Op").field("state", &state).field("detached", &self.detached).finish()
    }
}

/// An operation value whose `Op` was dropped in flight, as the ring keeps it.
#[cfg(target_os = "linux")]
struct Dropped<T: Submit>(T);

#[cfg(target_os = "linux")]
impl<T: Submit> Abandoned for Dropped<T> {
    fn complete(mut self: Box<Self>, res: i32) {
        self.0.cancelled(res);
    }
}

#[cfg(target_os = "linux")]
fn shut_down() -> io::Error {
    io::Error::other("the runtime this operation belongs to has shut down")
}
