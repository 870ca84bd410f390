//! A non-blocking socket registered with the current runtime's driver: the one mechanism
//! every socket type of this module is built on.
//!
//! Sockets are created non-blocking and close-on-exec (socket2 sets `SOCK_CLOEXEC`; this
//! module sets `O_NONBLOCK`) and registered for edge-triggered readiness (epoll) or for
//! readiness delivered as completions (`IORING_OP_POLL_ADD` on io_uring). An operation runs
//! its non-blocking system call, and on `EAGAIN` waits for the readiness it needs and tries
//! again; operations with a native io_uring form go through `driver::op::Op` instead.

use std::future::poll_fn;
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd, RawFd};
use std::sync::Arc;
use std::task::{Context, Poll};

use socket2::{SockRef, Socket};

use crate::driver::{registration, Interest, IoSource};
use crate::sys;

/// A socket registered with the driver of the runtime it was created in. The source is
/// shared with the completion operations (`driver::op::Op`) in flight on it, which must keep
/// the descriptor open until the kernel is done (see the driver's operation contract).
#[derive(Debug)]
pub(crate) struct Registered {
    /// Shared with the operations in flight on it (`driver::op::Op` owns a reference to the
    /// descriptor it targets), so that the number is never reused under them.
    source: Arc<IoSource>,
}

impl Registered {
    /// Makes `socket` non-blocking and registers it with the current runtime's driver.
    ///
    /// # Errors
    /// The fcntl(2) error, or the registration's (no runtime, epoll_ctl(2)).
    pub(crate) fn new(socket: Socket) -> io::Result<Registered> {
        socket.set_nonblocking(true)?;
        let fd: OwnedFd = socket.into();
        Ok(Registered { source: Arc::new(IoSource::new_pollable(fd)?) })
    }

    /// The registered source, for completion operations (`driver::op::OpCode::source`).
    pub(crate) fn source(&self) -> &Arc<IoSource> {
        &self.source
    }

    /// Registers `socket`, which the caller created non-blocking (`SOCK_NONBLOCK`, as
    /// accept4(2) gives it), saving the fcntl(2) of [`new`](Registered::new).
    ///
    /// # Errors
    /// The registration's (no runtime, epoll_ctl(2)).
    pub(crate) fn from_nonblocking(socket: Socket) -> io::Result<Registered> {
        let fd: OwnedFd = socket.into();
        Ok(Registered { source: Arc::new(IoSource::new_pollable(fd)?) })
    }

    /// The socket, for options and system calls (socket2's view of the descriptor).
    pub(crate) fn socket(&self) -> SockRef<'_> {
        SockRef::from(&self.source)
    }

    /// Runs the non-blocking `f` until it does not fail with `WouldBlock`, waiting for
    /// `interest` in between.
    pub(crate) fn poll_io<R>(
        &self,
        cx: &mut Context<'_>,
        interest: Interest,
        mut f: impl FnMut(&SockRef<'_>) -> io::Result<R>,
    ) -> Poll<io::Result<R>> {
        let sock = self.socket();
        self.source.registration().poll_io(cx, interest, || f(&sock))
    }

    /// A read from the stream socket into `buf` with `f` (see `Registration::poll_read`:
    /// bytes stashed by reads abandoned in flight come first; a short read clears the
    /// readiness it used).
    pub(crate) fn poll_read(
        &self,
        cx: &mut Context<'_>,
        buf: &mut [u8],
        mut f: impl FnMut(&SockRef<'_>, &mut [u8]) -> io::Result<usize>,
    ) -> Poll<io::Result<usize>> {
        let sock = self.socket();
        self.source.registration().poll_read(cx, buf, |buf| f(&sock, buf))
    }

    /// A read from the stream socket (recv(2)) into `buf`, which may be uninitialised: the
    /// kernel writes it, nothing reads it (see `Registration::poll_read_uninit`).
    #[cfg_attr(not(feature = "hyper"), allow(dead_code))]
    pub(crate) fn poll_recv_uninit(
        &self,
        cx: &mut Context<'_>,
        buf: &mut [std::mem::MaybeUninit<u8>],
    ) -> Poll<io::Result<usize>> {
        let sock = self.socket();
        self.source.registration().poll_read_uninit(cx, buf, |buf| sock.recv(buf))
    }

    /// A read from the stream socket into `buf` with `f`, without waiting: bytes stashed by
    /// reads abandoned in flight come first (`WouldBlock` while one is still in the kernel);
    /// otherwise as [`try_io`](Registered::try_io).
    pub(crate) fn try_read(
        &self,
        buf: &mut [u8],
        f: impl FnOnce(&SockRef<'_>, &mut [u8]) -> io::Result<usize>,
    ) -> io::Result<usize> {
        let reg = self.source.registration();
        if let Some(n) = reg.try_stash(|stash| registration::take_into(stash, buf))? {
            return Ok(n);
        }
        self.try_io(Interest::Readable, |sock| f(sock, buf))
    }

    /// Waits until no read abandoned in flight is pending, then hands `take` the stash of
    /// the bytes such reads received (see `Registration::poll_stash`): `Some(n)` if it took
    /// (or copied) `n` of them, `None` if there were none.
    ///
    /// # Errors
    /// `Other` if the runtime shut down with an abandoned read in flight.
    pub(crate) async fn stashed(
        &self,
        mut take: impl FnMut(&mut std::collections::VecDeque<u8>) -> usize,
    ) -> io::Result<Option<usize>> {
        let reg = self.source.registration();
        poll_fn(|cx| reg.poll_stash(cx, &mut take)).await
    }

    /// Runs the non-blocking `f` once, without waiting: on `WouldBlock` the readiness it
    /// observed is cleared, so that the next wait really waits for a new event.
    pub(crate) fn try_io<R>(
        &self,
        interest: Interest,
        f: impl FnOnce(&SockRef<'_>) -> io::Result<R>,
    ) -> io::Result<R> {
        let sock = self.socket();
        self.source.registration().try_io(interest, || f(&sock))
    }

    /// The async form of [`poll_io`](Registered::poll_io).
    pub(crate) async fn io<R>(
        &self,
        interest: Interest,
        mut f: impl FnMut(&SockRef<'_>) -> io::Result<R>,
    ) -> io::Result<R> {
        poll_fn(|cx| self.poll_io(cx, interest, &mut f)).await
    }

    /// Waits until the driver reports `interest` ready (the `readable`/`writable` methods).
    /// Readiness may be spurious: the next system call can still report `WouldBlock`.
    pub(crate) async fn ready(&self, interest: Interest) -> io::Result<()> {
        poll_fn(|cx| self.source.registration().poll_ready_or_shut_down(cx, interest)).await.map(drop)
    }

    /// Deregisters the socket and gives it back, still non-blocking. If an operation the
    /// caller dropped is still in the kernel (io_uring, until its cancellation completes), it
    /// keeps the registered descriptor and a duplicate is returned instead.
    ///
    /// # Errors
    /// The dup(2) error in that case.
    pub(crate) fn into_socket(self) -> io::Result<Socket> {
        let fd = match Arc::try_unwrap(self.source) {
            Ok(source) => source.into_fd(),
            Err(shared) => sys::dup_at_least(shared.as_fd(), 0)?,
        };
        Ok(Socket::from(fd))
    }
}

impl AsFd for Registered {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.source.as_fd()
    }
}

impl AsRawFd for Registered {
    fn as_raw_fd(&self) -> RawFd {
        self.source.as_fd().as_raw_fd()
    }
}
