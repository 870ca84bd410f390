use std::fmt;
use std::io;
use std::net::Shutdown;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd, RawFd};
use std::path::Path;

use socket2::{Domain, Socket, Type};

use super::SocketAddr;
use crate::driver::Interest;
use crate::net::ops;
use crate::net::socket::Registered;
use crate::sys;

/// A Unix-domain datagram socket (`SOCK_DGRAM`), registered with the runtime it was created
/// in. Datagrams are reliable and ordered (unlike UDP) and keep their boundaries; a send
/// waits while the receiver's queue is full.
///
/// # Truncation
/// Every receive takes one whole datagram; if it is larger than the buffer, the rest is
/// **discarded** and the count is the buffer's length (as tokio, and recv(2) without
/// `MSG_TRUNC`).
///
/// # References
/// unix(7), socket(7)
pub struct UnixDatagram {
    io: Registered,
}

impl UnixDatagram {
    /// Creates a socket bound to a new socket file at `path` (not removed on drop).
    ///
    /// # Errors
    /// `AddrInUse` if `path` exists; `PermissionDenied`, `NotFound`, `InvalidInput` as for
    /// [`UnixListener::bind`](super::UnixListener::bind); `Other` outside a runtime.
    ///
    /// # References
    /// bind(2), unix(7)
    pub fn bind(path: impl AsRef<Path>) -> io::Result<UnixDatagram> {
        UnixDatagram::bind_addr(&SocketAddr::from_pathname(path)?)
    }

    /// Creates a socket bound to `addr`: a path or (Linux) an abstract name.
    ///
    /// # Errors
    /// As [`bind`](UnixDatagram::bind).
    pub fn bind_addr(addr: &SocketAddr) -> io::Result<UnixDatagram> {
        let socket = Socket::new(Domain::UNIX, Type::DGRAM, None)?;
        socket.bind(addr.as_sockaddr())?;
        UnixDatagram::from_socket(socket)
    }

    /// Creates a socket with no address: it can send, and receive replies only once
    /// [`connect`](UnixDatagram::connect)ed (a peer cannot address an unnamed socket).
    ///
    /// # Errors
    /// `EMFILE`/`ENFILE`; `Other` outside a runtime.
    pub fn unbound() -> io::Result<UnixDatagram> {
        UnixDatagram::from_socket(Socket::new(Domain::UNIX, Type::DGRAM, None)?)
    }

    /// A connected pair of unnamed datagram sockets (socketpair(2)).
    ///
    /// # Errors
    /// `EMFILE`/`ENFILE`; `Other` outside a runtime.
    ///
    /// # References
    /// socketpair(2)
    pub fn pair() -> io::Result<(UnixDatagram, UnixDatagram)> {
        let (a, b) = Socket::pair(Domain::UNIX, Type::DGRAM, None)?;
        Ok((UnixDatagram::from_socket(a)?, UnixDatagram::from_socket(b)?))
    }

    fn from_socket(socket: Socket) -> io::Result<UnixDatagram> {
        Ok(UnixDatagram { io: Registered::new(socket)? })
    }

    /// Takes a `std::os::unix::net::UnixDatagram` and registers it with the current
    /// runtime, making it non-blocking.
    ///
    /// # Errors
    /// The fcntl(2) error; `Other` outside a runtime.
    pub fn from_std(socket: std::os::unix::net::UnixDatagram) -> io::Result<UnixDatagram> {
        UnixDatagram::from_socket(Socket::from(OwnedFd::from(socket)))
    }

    /// Deregisters the socket and returns it as a `std::os::unix::net::UnixDatagram`,
    /// **still in non-blocking mode** (as tokio does).
    ///
    /// # Errors
    /// The dup(2) error, only if an operation dropped while in the kernel still holds the
    /// registered descriptor (io_uring, until its cancellation completes): the socket is
    /// then returned as a duplicate.
    pub fn into_std(self) -> io::Result<std::os::unix::net::UnixDatagram> {
        Ok(OwnedFd::from(self.io.into_socket()?).into())
    }

    /// Sets the default destination to the socket at `path` and receives only from it.
    ///
    /// # Errors
    /// `NotFound`, `ConnectionRefused` (no socket bound there), `PermissionDenied`.
    ///
    /// # References
    /// connect(2), unix(7)
    pub fn connect(&self, path: impl AsRef<Path>) -> io::Result<()> {
        self.connect_addr(&SocketAddr::from_pathname(path)?)
    }

    /// Sets the default destination to `addr`: a path or (Linux) an abstract name.
    ///
    /// # Errors
    /// As [`connect`](UnixDatagram::connect).
    pub fn connect_addr(&self, addr: &SocketAddr) -> io::Result<()> {
        self.io.socket().connect(addr.as_sockaddr())
    }

    /// This socket's address (unnamed if never bound).
    ///
    /// # Errors
    /// The getsockname(2) error.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        Ok(SocketAddr::from_sockaddr(self.io.socket().local_addr()?))
    }

    /// The connected peer's address.
    ///
    /// # Errors
    /// `NotConnected` if not connected.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        Ok(SocketAddr::from_sockaddr(self.io.socket().peer_addr()?))
    }

    /// Sends one datagram to the connected peer; returns its length.
    ///
    /// # Cancel safety
    /// Cancel safe: if the future is dropped before it completes, nothing was sent.
    ///
    /// # Errors
    /// `EMSGSIZE` (a raw OS error) above the socket's send buffer size;
    /// `ConnectionRefused` if the peer has closed; `NotConnected` if not connected.
    ///
    /// # References
    /// send(2), unix(7)
    pub async fn send(&self, buf: &[u8]) -> io::Result<usize> {
        self.io.io(Interest::Writable, |s| s.send_with_flags(buf, libc::MSG_NOSIGNAL)).await
    }

    /// Tries to send one datagram to the connected peer without waiting.
    ///
    /// # Errors
    /// `WouldBlock` if the peer's queue is full; otherwise as [`send`](UnixDatagram::send).
    pub fn try_send(&self, buf: &[u8]) -> io::Result<usize> {
        self.io.try_io(Interest::Writable, |s| s.send_with_flags(buf, libc::MSG_NOSIGNAL))
    }

    /// Receives one datagram into `buf` (truncated to it: see the
    /// [type docs](UnixDatagram#truncation)); returns its length.
    ///
    /// # Cancel safety
    /// Cancel safe: if the future is dropped before it completes, no datagram was taken.
    ///
    /// # Errors
    /// The recv(2) error.
    ///
    /// # References
    /// recv(2), unix(7)
    pub async fn recv(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.io.io(Interest::Readable, |s| sys::socket::recv(s.as_fd(), &mut *buf, 0)).await
    }

    /// Tries to receive one datagram without waiting.
    ///
    /// # Errors
    /// `WouldBlock` if none is queued; otherwise as [`recv`](UnixDatagram::recv).
    pub fn try_recv(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.io.try_io(Interest::Readable, |s| sys::socket::recv(s.as_fd(), buf, 0))
    }

    /// Sends one datagram to the socket bound at `path`; returns its length.
    ///
    /// # Cancel safety
    /// Cancel safe: if the future is dropped before it completes, nothing was sent.
    ///
    /// # Errors
    /// `NotFound`, `ConnectionRefused` (no socket bound there), `PermissionDenied`; as
    /// [`send`](UnixDatagram::send).
    ///
    /// # References
    /// sendto(2), unix(7)
    pub async fn send_to(&self, buf: &[u8], path: impl AsRef<Path>) -> io::Result<usize> {
        self.send_to_addr(buf, &SocketAddr::from_pathname(path)?).await
    }

    /// Sends one datagram to `addr`: a path or (Linux) an abstract name.
    ///
    /// # Cancel safety
    /// Cancel safe.
    ///
    /// # Errors
    /// As [`send_to`](UnixDatagram::send_to).
    pub async fn send_to_addr(&self, buf: &[u8], addr: &SocketAddr) -> io::Result<usize> {
        let addr = addr.as_sockaddr();
        self.io.io(Interest::Writable, |s| s.send_to_with_flags(buf, addr, libc::MSG_NOSIGNAL)).await
    }

    /// Receives one datagram into `buf` (truncated to it); returns its length and the
    /// sender's address (unnamed if the sender is not bound).
    ///
    /// # Cancel safety
    /// Cancel safe: if the future is dropped before it completes, no datagram was taken.
    ///
    /// # Errors
    /// The recvfrom(2) error.
    ///
    /// # References
    /// recvfrom(2), unix(7)
    pub async fn recv_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        let (n, addr) =
            self.io.io(Interest::Readable, |s| sys::socket::recv_from(s.as_fd(), &mut *buf, 0)).await?;
        Ok((n, SocketAddr::from_sockaddr(addr)))
    }

    /// Sends one datagram of `data` (possibly empty) to the connected peer with the
    /// descriptors `fds` attached (`SCM_RIGHTS`); returns the bytes sent. The receiver gets
    /// its own copies; this process keeps its own.
    ///
    /// # Cancel safety
    /// Cancel safe on epoll: if the future is dropped before it completes, nothing was sent.
    /// **Not** cancel safe on io_uring: a dropped send may or may not have been sent. The
    /// caller's descriptors may be closed as soon as the future is gone either way (the
    /// operation sends duplicates it owns).
    ///
    /// # Errors
    /// `InvalidInput` for more than 253 descriptors (`SCM_MAX_FD`); `ETOOMANYREFS` (a raw
    /// OS error) when descriptors in flight exceed `RLIMIT_NOFILE`; as
    /// [`send`](UnixDatagram::send); on io_uring the fcntl(2) error of duplicating a
    /// descriptor (`EMFILE`).
    ///
    /// # Platform
    /// As [`UnixStream::send_with_fds`](super::UnixStream::send_with_fds):
    /// `IORING_OP_SENDMSG` on io_uring, sendmsg(2) after readiness otherwise.
    ///
    /// # References
    /// sendmsg(2), cmsg(3), unix(7) (`SCM_RIGHTS`), io_uring_prep_sendmsg(3)
    pub async fn send_with_fds(&self, data: &[u8], fds: &[BorrowedFd<'_>]) -> io::Result<usize> {
        ops::send_with_fds(&self.io, data, fds).await
    }

    /// Receives one datagram into `buf` (truncated to it), accepting up to `max_fds`
    /// descriptors attached to it; returns its length and the descriptors, close-on-exec
    /// (`MSG_CMSG_CLOEXEC`), in the order sent. `max_fds` above 253 is taken as 253.
    ///
    /// # Cancel safety
    /// Cancel safe on epoll: if the future is dropped before it completes, no datagram was
    /// taken. **Not** cancel safe on io_uring: a receive dropped while in the kernel may
    /// still take a datagram, which is then discarded and its descriptors **closed** (never
    /// leaked). Keep the future until it completes where every datagram matters.
    ///
    /// # Errors
    /// `InvalidData` if the sender attached more than `max_fds` descriptors (`MSG_CTRUNC`):
    /// those that arrived are closed and the datagram is consumed. The recvmsg(2) error. No
    /// received descriptor is leaked on any error.
    ///
    /// # Platform
    /// As [`UnixStream::recv_with_fds`](super::UnixStream::recv_with_fds):
    /// `IORING_OP_RECVMSG` with `MSG_CMSG_CLOEXEC` on io_uring, recvmsg(2) after readiness
    /// otherwise.
    ///
    /// # References
    /// recvmsg(2), cmsg(3), unix(7) (`SCM_RIGHTS`), io_uring_prep_recvmsg(3)
    pub async fn recv_with_fds(&self, buf: &mut [u8], max_fds: usize) -> io::Result<(usize, Vec<OwnedFd>)> {
        ops::recv_with_fds(&self.io, buf, max_fds, false).await
    }

    /// Waits until a datagram may be queued. Readiness can be spurious: follow with
    /// [`try_recv`](UnixDatagram::try_recv) and loop on `WouldBlock`.
    ///
    /// # Cancel safety
    /// Cancel safe.
    ///
    /// # Errors
    /// `Other` if the runtime has shut down.
    pub async fn readable(&self) -> io::Result<()> {
        self.io.ready(Interest::Readable).await
    }

    /// Waits until a send may not block. Readiness can be spurious.
    ///
    /// # Cancel safety
    /// Cancel safe.
    ///
    /// # Errors
    /// `Other` if the runtime has shut down.
    pub async fn writable(&self) -> io::Result<()> {
        self.io.ready(Interest::Writable).await
    }

    /// Shuts down reading, writing or both (shutdown(2)).
    ///
    /// # Errors
    /// The shutdown(2) error.
    pub fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        self.io.socket().shutdown(how)
    }
}

impl TryFrom<std::os::unix::net::UnixDatagram> for UnixDatagram {
    type Error = io::Error;

    /// [`UnixDatagram::from_std`].
    fn try_from(socket: std::os::unix::net::UnixDatagram) -> io::Result<UnixDatagram> {
        UnixDatagram::from_std(socket)
    }
}

impl AsFd for UnixDatagram {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.io.as_fd()
    }
}

impl AsRawFd for UnixDatagram {
    fn as_raw_fd(&self) -> RawFd {
        self.io.as_raw_fd()
    }
}

impl fmt::Debug for UnixDatagram {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UnixDatagram").field("fd", &self.as_raw_fd()).finish()
    }
}
