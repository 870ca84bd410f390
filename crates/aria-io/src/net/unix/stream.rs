use std::fmt;
use std::io;
use std::net::Shutdown;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd, RawFd};
use std::path::Path;
use std::pin::Pin;
use std::task::{Context, Poll};

use socket2::{Domain, Socket, Type};

use super::split::{OwnedReadHalf, OwnedWriteHalf, ReadHalf, WriteHalf};
use super::{SocketAddr, UCred};
use crate::driver::Interest;
use crate::net::ops;
use crate::net::socket::Registered;
use crate::sys;

/// A connected Unix-domain stream socket (`SOCK_STREAM`), registered with the runtime it
/// was created in.
///
/// Made by [`connect`](UnixStream::connect), [`UnixListener::accept`](super::UnixListener::accept)
/// or [`pair`](UnixStream::pair). It implements [`futures_io::AsyncRead`] and
/// [`futures_io::AsyncWrite`], so the `futures` extension traits (`read`, `write_all`,
/// `read_to_end`...) work on it unqualified; its own methods take owned buffers
/// ([`read_owned`](UnixStream::read_owned), [`write_owned`](UnixStream::write_owned),
/// [`write_all_owned`](UnixStream::write_all_owned)) or pass descriptors
/// ([`send_with_fds`](UnixStream::send_with_fds), [`recv_with_fds`](UnixStream::recv_with_fds)).
/// See the [module docs](super) for an example.
///
/// Writes never raise `SIGPIPE`: writing after the peer closed fails with `BrokenPipe`.
///
/// # References
/// unix(7), socket(7)
pub struct UnixStream {
    io: Registered,
}

impl UnixStream {
    /// Connects to the socket bound to the file at `path`.
    ///
    /// # Errors
    /// `NotFound` (no such file), `ConnectionRefused` (nobody listens there),
    /// `PermissionDenied` (no write permission on the socket file), `InvalidInput` for a path
    /// too long for `sun_path`; `Other` outside a runtime.
    ///
    /// # Cancel safety
    /// Cancel safe: dropping the future closes the socket (if it was connected meanwhile, the
    /// listener may see a connection closed at once).
    ///
    /// # Platform
    /// The connect is non-blocking; only when the listener's backlog is full (`EAGAIN`) does
    /// it wait, as a blocking connect(2) on the [blocking pool](crate::blocking), because no
    /// readiness event reports room in another socket's backlog.
    ///
    /// # References
    /// connect(2), unix(7)
    pub async fn connect(path: impl AsRef<Path>) -> io::Result<UnixStream> {
        UnixStream::connect_addr(&SocketAddr::from_pathname(path)?).await
    }

    /// Connects to `addr`: a path or (Linux) an abstract name.
    ///
    /// # Errors
    /// As [`connect`](UnixStream::connect); `InvalidInput` for an unnamed address.
    ///
    /// # Cancel safety
    /// As [`connect`](UnixStream::connect).
    ///
    /// # References
    /// connect(2), unix(7)
    pub async fn connect_addr(addr: &SocketAddr) -> io::Result<UnixStream> {
        if addr.is_unnamed() {
            return Err(io::Error::new(io::ErrorKind::InvalidInput, "cannot connect to an unnamed address"));
        }
        let socket = Socket::new(Domain::UNIX, Type::STREAM, None)?;
        socket.set_nonblocking(true)?;
        match socket.connect(addr.as_sockaddr()) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                // The listener's backlog is full: wait for room in a blocking connect.
                socket.set_nonblocking(false)?;
                let addr = addr.as_sockaddr().clone();
                let connected =
                    crate::blocking::spawn_blocking(move || socket.connect(&addr).map(|()| socket));
                let socket = match connected.await {
                    Ok(res) => res?,
                    Err(e) => match e.try_into_panic() {
                        Ok(payload) => std::panic::resume_unwind(payload),
                        Err(e) => return Err(io::Error::other(e.to_string())),
                    },
                };
                return UnixStream::from_socket(socket);
            }
            Err(e) => return Err(e),
        }
        UnixStream::from_socket(socket)
    }

    /// A connected pair of sockets (socketpair(2)), both registered with the current
    /// runtime; neither has an address.
    ///
    /// # Errors
    /// `EMFILE`/`ENFILE`; `Other` outside a runtime.
    ///
    /// # References
    /// socketpair(2), unix(7)
    pub fn pair() -> io::Result<(UnixStream, UnixStream)> {
        let (a, b) = Socket::pair(Domain::UNIX, Type::STREAM, None)?;
        Ok((UnixStream::from_socket(a)?, UnixStream::from_socket(b)?))
    }

    pub(crate) fn from_socket(socket: Socket) -> io::Result<UnixStream> {
        Ok(UnixStream { io: Registered::new(socket)? })
    }

    /// Takes a connected `std::os::unix::net::UnixStream` and registers it with the current
    /// runtime, making it non-blocking.
    ///
    /// # Errors
    /// The fcntl(2) error; `Other` outside a runtime.
    pub fn from_std(stream: std::os::unix::net::UnixStream) -> io::Result<UnixStream> {
        UnixStream::from_socket(Socket::from(OwnedFd::from(stream)))
    }

    /// Deregisters the socket and returns it as a `std::os::unix::net::UnixStream`, **still
    /// in non-blocking mode** (as tokio does).
    ///
    /// # Errors
    /// The dup(2) error, only if an operation dropped while in the kernel still holds the
    /// registered descriptor (io_uring, until its cancellation completes): the socket is
    /// then returned as a duplicate.
    pub fn into_std(self) -> io::Result<std::os::unix::net::UnixStream> {
        Ok(OwnedFd::from(self.io.into_socket()?).into())
    }

    /// This socket's address (unnamed for a client or one end of a [`pair`](UnixStream::pair)).
    ///
    /// # Errors
    /// The getsockname(2) error.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        Ok(SocketAddr::from_sockaddr(self.io.socket().local_addr()?))
    }

    /// The peer's address (the listener's path or name, for a client).
    ///
    /// # Errors
    /// The getpeername(2) error.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        Ok(SocketAddr::from_sockaddr(self.io.socket().peer_addr()?))
    }

    /// The credentials of the peer process, as they were when the connection was made
    /// (connect(2), or socketpair(2) for a [`pair`](UnixStream::pair)).
    ///
    /// # Errors
    /// The getsockopt(2) error.
    ///
    /// # References
    /// unix(7) (`SO_PEERCRED`)
    pub fn peer_cred(&self) -> io::Result<UCred> {
        let (pid, uid, gid) = sys::peer_cred(self.io.as_fd())?;
        Ok(UCred { pid, uid, gid })
    }

    /// Shuts down the read, write or both halves of the connection: after
    /// `Shutdown::Write` the peer reads end of file. Other copies of the descriptor are
    /// affected too (unlike closing it).
    ///
    /// # Errors
    /// `NotConnected` if the socket is not connected.
    ///
    /// # References
    /// shutdown(2)
    pub fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        self.io.socket().shutdown(how)
    }

    /// Waits until the socket may be readable (data, end of file or an error). Readiness can
    /// be spurious: follow with [`try_read`](UnixStream::try_read) and loop on `WouldBlock`.
    ///
    /// # Cancel safety
    /// Cancel safe.
    ///
    /// # Errors
    /// `Other` if the runtime has shut down.
    pub async fn readable(&self) -> io::Result<()> {
        self.io.ready(Interest::Readable).await
    }

    /// Waits until the socket may be writable. Readiness can be spurious: follow with
    /// [`try_write`](UnixStream::try_write) and loop on `WouldBlock`.
    ///
    /// # Cancel safety
    /// Cancel safe.
    ///
    /// # Errors
    /// `Other` if the runtime has shut down.
    pub async fn writable(&self) -> io::Result<()> {
        self.io.ready(Interest::Writable).await
    }

    /// Reads what is available into `buf` without waiting (`0`: end of file).
    ///
    /// # Errors
    /// `WouldBlock` if nothing is available; the recv(2) error.
    pub fn try_read(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.io.try_read(buf, |s, buf| sys::socket::recv(s.as_fd(), buf, 0))
    }

    /// Writes some of `buf` without waiting.
    ///
    /// # Errors
    /// `WouldBlock` if the send buffer is full; `BrokenPipe` if the peer has closed.
    pub fn try_write(&self, buf: &[u8]) -> io::Result<usize> {
        self.io.try_io(Interest::Writable, |s| s.send_with_flags(buf, libc::MSG_NOSIGNAL))
    }

    /// Reads at most `buf.capacity() - buf.len()` bytes, appending them to `buf`, and gives
    /// `buf` back with the count (`0` at end of file, or when `buf` has no spare capacity).
    /// The buffer is owned by the operation while it is in flight, so the call is the same on
    /// readiness and completion backends.
    ///
    /// # Cancel safety
    /// Cancel safe: no byte is lost if the future is dropped. On epoll nothing is received
    /// until the call completes. On io_uring, if the future is dropped while the receive is in
    /// the kernel and the cancellation comes too late, the bytes it received are kept by the
    /// stream and its next read (of any kind) returns them first, in order; that next read
    /// waits for the dropped receive's completion, so that no later byte overtakes them.
    ///
    /// # Errors
    /// The recv(2) error; `Other` if the runtime the socket is registered with has shut down.
    ///
    /// # Platform
    /// `IORING_OP_RECV` on io_uring; read(2) after epoll readiness otherwise.
    ///
    /// # References
    /// recv(2), unix(7), io_uring_prep_recv(3)
    pub async fn read_owned(&self, buf: Vec<u8>) -> (io::Result<usize>, Vec<u8>) {
        ops::read_owned(&self.io, buf).await
    }

    /// Writes some of `buf` (owned while in flight) and gives it back with the count of bytes
    /// written.
    ///
    /// # Cancel safety
    /// Not cancel safe on io_uring: if the future is dropped while the send is in the kernel,
    /// some bytes may have been sent. On epoll nothing is sent unless the call completes.
    ///
    /// # Errors
    /// `BrokenPipe` if the peer has closed (never `SIGPIPE`: `MSG_NOSIGNAL`); the send(2)
    /// error; `Other` if the runtime has shut down.
    ///
    /// # Platform
    /// `IORING_OP_SEND` on io_uring; send(2) after epoll readiness otherwise.
    ///
    /// # References
    /// send(2), unix(7), io_uring_prep_send(3)
    pub async fn write_owned(&self, buf: Vec<u8>) -> (io::Result<usize>, Vec<u8>) {
        ops::write_owned(&self.io, buf).await
    }

    /// Writes all of `buf` and gives it back.
    ///
    /// # Cancel safety
    /// **Not** cancel safe: if the future is dropped, an unknown prefix of `buf` may have
    /// been written.
    ///
    /// # Errors
    /// As [`write_owned`](UnixStream::write_owned); `WriteZero` if the kernel accepts nothing.
    ///
    /// # Platform
    /// As [`write_owned`](UnixStream::write_owned), one operation per partial write.
    pub async fn write_all_owned(&self, buf: Vec<u8>) -> (io::Result<()>, Vec<u8>) {
        ops::write_all_owned(&self.io, buf).await
    }

    /// Sends `data` with the descriptors `fds` attached (an `SCM_RIGHTS` control message);
    /// returns the bytes of `data` sent. The receiver gets its own copies of the descriptors
    /// (the same open file descriptions, like dup(2)); this process keeps its own.
    ///
    /// The descriptors travel with the first byte sent, so a short count still delivered all
    /// of them: send the rest of `data` with a plain write. `data` must not be empty: Linux
    /// drops descriptors sent with no byte on a stream socket.
    ///
    /// # Cancel safety
    /// Cancel safe on epoll: if the future is dropped before it completes, nothing was sent.
    /// **Not** cancel safe on io_uring: a dropped send may or may not have been sent
    /// (unknowable), as with [`write_owned`](UnixStream::write_owned). Either way the
    /// caller's descriptors may be closed as soon as the future is gone: the operation sends
    /// duplicates it owns, closed when the kernel is done with them.
    ///
    /// # Errors
    /// `InvalidInput` if `data` is empty or for more than 253 descriptors (`SCM_MAX_FD`);
    /// `ETOOMANYREFS` (a raw OS error) when descriptors in flight exceed `RLIMIT_NOFILE`;
    /// `BrokenPipe` if the peer has closed; the sendmsg(2) error; on io_uring the fcntl(2)
    /// error of duplicating a descriptor (`EMFILE`).
    ///
    /// # Platform
    /// `IORING_OP_SENDMSG` on io_uring (Linux 5.3), on a copy of `data` and duplicates of
    /// `fds` (close-on-exec) that the operation owns until its completion, because the kernel
    /// reads them when it runs the request, after the submission; sendmsg(2) after readiness
    /// on epoll and on a ring that lacks the opcode.
    ///
    /// # References
    /// sendmsg(2), cmsg(3), unix(7) (`SCM_RIGHTS`), io_uring_prep_sendmsg(3)
    pub async fn send_with_fds(&self, data: &[u8], fds: &[BorrowedFd<'_>]) -> io::Result<usize> {
        if data.is_empty() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "send_with_fds on a stream socket needs at least one byte of data",
            ));
        }
        ops::send_with_fds(&self.io, data, fds).await
    }

    /// Reads into `buf`, accepting up to `max_fds` descriptors sent with
    /// [`send_with_fds`](UnixStream::send_with_fds); returns the bytes read and the
    /// descriptors received, close-on-exec (`MSG_CMSG_CLOEXEC`), in the order they were sent.
    ///
    /// A read stops at the boundary of a message that carried descriptors, so descriptors are
    /// returned with the bytes they were sent with. `max_fds` above 253 (`SCM_MAX_FD`) is
    /// taken as 253.
    ///
    /// Bytes kept from a read dropped in flight (see [`read_owned`](UnixStream::read_owned))
    /// are returned first, with no descriptor.
    ///
    /// # Cancel safety
    /// Cancel safe for the bytes; not for the descriptors on io_uring. On epoll, if the
    /// future is dropped before it completes, nothing was received. On io_uring a receive
    /// dropped while in the kernel may still complete: its bytes are kept and the stream's
    /// next read returns them, in order; the descriptors that came with them are **closed**
    /// (never leaked, never handed to anyone).
    ///
    /// # Errors
    /// `InvalidData` if the sender passed more descriptors than `max_fds` (the control
    /// message was truncated, `MSG_CTRUNC`): the descriptors that arrived are closed, the
    /// rest were discarded by the kernel, and the bytes of that message are consumed. The
    /// recvmsg(2) error. No received descriptor is leaked on any error.
    ///
    /// # Platform
    /// `IORING_OP_RECVMSG` with `MSG_CMSG_CLOEXEC` on io_uring (Linux 5.3), into a message
    /// the operation owns until its completion (the bytes are then copied into `buf`);
    /// recvmsg(2) after readiness on epoll and on a ring that lacks the opcode.
    ///
    /// # References
    /// recvmsg(2), cmsg(3), unix(7) (`SCM_RIGHTS`), io_uring_prep_recvmsg(3)
    pub async fn recv_with_fds(&self, buf: &mut [u8], max_fds: usize) -> io::Result<(usize, Vec<OwnedFd>)> {
        ops::recv_with_fds(&self.io, buf, max_fds, true).await
    }

    /// Splits the stream into a reading and a writing half borrowing it, usable from two
    /// futures at once (for example with `join`).
    ///
    /// With `futures::AsyncReadExt` in scope, method syntax (`stream.split()`) resolves to
    /// that trait's `split(self)` (which takes the stream by value, behind a lock), because a
    /// method taking `self` is found before one taking `&mut self`: call this one as
    /// `UnixStream::split(&mut stream)`, or use [`into_split`](UnixStream::into_split).
    pub fn split(&mut self) -> (ReadHalf<'_>, WriteHalf<'_>) {
        (ReadHalf::new(self), WriteHalf::new(self))
    }

    /// Splits the stream into a reading and a writing half that own it (shared), for two
    /// tasks. Dropping the [`OwnedWriteHalf`] shuts the write direction down (the peer
    /// reads end of file), as tokio does; the socket closes when both halves are dropped.
    pub fn into_split(self) -> (OwnedReadHalf, OwnedWriteHalf) {
        super::split::into_split(self)
    }

    pub(crate) fn poll_read_priv(&self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
        self.io.poll_read(cx, buf, |s, buf| sys::socket::recv(s.as_fd(), buf, 0))
    }

    pub(crate) fn poll_write_priv(&self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        self.io.poll_io(cx, Interest::Writable, |s| s.send_with_flags(buf, libc::MSG_NOSIGNAL))
    }

    #[cfg_attr(not(feature = "hyper"), allow(dead_code))]
    pub(crate) fn registered(&self) -> &Registered {
        &self.io
    }
}

impl futures_io::AsyncRead for UnixStream {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
        self.poll_read_priv(cx, buf)
    }
}

impl futures_io::AsyncWrite for UnixStream {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        self.poll_write_priv(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(())) // no user-space buffer
    }

    /// Shuts down the write direction (the peer reads end of file).
    fn poll_close(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(self.shutdown(Shutdown::Write))
    }
}

impl TryFrom<std::os::unix::net::UnixStream> for UnixStream {
    type Error = io::Error;

    /// [`UnixStream::from_std`].
    fn try_from(stream: std::os::unix::net::UnixStream) -> io::Result<UnixStream> {
        UnixStream::from_std(stream)
    }
}

impl AsFd for UnixStream {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.io.as_fd()
    }
}

impl AsRawFd for UnixStream {
    fn as_raw_fd(&self) -> RawFd {
        self.io.as_raw_fd()
    }
}

impl fmt::Debug for UnixStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UnixStream").field("fd", &self.as_raw_fd()).finish()
    }
}
