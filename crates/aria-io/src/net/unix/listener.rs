use std::fmt;
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd, RawFd};
use std::path::Path;
use std::pin::Pin;
use std::task::{Context, Poll};

use socket2::{Domain, Socket, Type};

use super::{SocketAddr, UnixStream};
use crate::net::accept::Acceptor;
use crate::net::socket::Registered;

/// A Unix-domain stream socket listening for connections, registered with the runtime it
/// was created in.
///
/// Binding to a path creates the socket file; it is **not** removed when the listener is
/// dropped (remove it yourself, or use an abstract name with
/// [`bind_addr`](UnixListener::bind_addr), which vanishes with the socket).
///
/// # References
/// unix(7), listen(2), accept(2)
pub struct UnixListener {
    acceptor: Acceptor,
}

/// The backlog given to listen(2); the kernel caps it at `/proc/sys/net/core/somaxconn`.
const BACKLOG: i32 = 1024;

impl UnixListener {
    /// Creates a socket bound to a new socket file at `path` and listening on it.
    ///
    /// # Errors
    /// `AddrInUse` if `path` exists (even a stale socket file: remove it first),
    /// `PermissionDenied`, `NotFound` (a missing parent directory), `InvalidInput` for a path
    /// too long for `sun_path` (107 bytes); `Other` outside a runtime.
    ///
    /// # References
    /// bind(2), listen(2), unix(7)
    pub fn bind(path: impl AsRef<Path>) -> io::Result<UnixListener> {
        UnixListener::bind_addr(&SocketAddr::from_pathname(path)?)
    }

    /// Creates a socket bound to `addr` (a path or, on Linux, an abstract name) and
    /// listening on it.
    ///
    /// # Errors
    /// As [`bind`](UnixListener::bind); `AddrInUse` for an abstract name already bound.
    ///
    /// # References
    /// bind(2), listen(2), unix(7) ("Abstract sockets")
    pub fn bind_addr(addr: &SocketAddr) -> io::Result<UnixListener> {
        let socket = Socket::new(Domain::UNIX, Type::STREAM, None)?;
        socket.bind(addr.as_sockaddr())?;
        socket.listen(BACKLOG)?;
        Ok(UnixListener { acceptor: Acceptor::new(Registered::new(socket)?) })
    }

    /// Takes a listening `std::os::unix::net::UnixListener` and registers it with the
    /// current runtime, making it non-blocking.
    ///
    /// # Errors
    /// The fcntl(2) error; `Other` outside a runtime.
    pub fn from_std(listener: std::os::unix::net::UnixListener) -> io::Result<UnixListener> {
        Ok(UnixListener { acceptor: Acceptor::new(Registered::new(Socket::from(OwnedFd::from(listener)))?) })
    }

    /// Deregisters the socket and returns it as a `std::os::unix::net::UnixListener`,
    /// **still in non-blocking mode** (as tokio does).
    ///
    /// # Errors
    /// The dup(2) error, only if an operation dropped while in the kernel still holds the
    /// registered descriptor (io_uring, until its cancellation completes): the socket is
    /// then returned as a duplicate.
    pub fn into_std(self) -> io::Result<std::os::unix::net::UnixListener> {
        Ok(OwnedFd::from(self.acceptor.into_socket()?).into())
    }

    /// Waits for a connection and returns it with the client's address (usually unnamed).
    /// The new stream is close-on-exec and registered with the current runtime.
    ///
    /// # Cancel safety
    /// Cancel safe: if the future is dropped before it completes, no connection was taken
    /// from the backlog.
    ///
    /// # Errors
    /// `EMFILE`/`ENFILE` (out of descriptors: the connection stays queued), the accept4(2)
    /// error; `Other` if the runtime has shut down.
    ///
    /// # References
    /// accept4(2), unix(7)
    pub async fn accept(&self) -> io::Result<(UnixStream, SocketAddr)> {
        std::future::poll_fn(|cx| self.poll_accept(cx)).await
    }

    /// The poll form of [`accept`](UnixListener::accept).
    ///
    /// # Errors
    /// As [`accept`](UnixListener::accept).
    pub fn poll_accept(&self, cx: &mut Context<'_>) -> Poll<io::Result<(UnixStream, SocketAddr)>> {
        let (socket, addr) = std::task::ready!(self.acceptor.poll_accept(cx))?;
        Poll::Ready(Ok((UnixStream::from_socket(socket)?, SocketAddr::from_sockaddr(addr))))
    }

    /// The connections, as a [`Stream`](futures_core::Stream) that never ends; each item is
    /// what [`accept`](UnixListener::accept) returns, without the address.
    pub fn incoming(&self) -> Incoming<'_> {
        Incoming { listener: self }
    }

    /// The address the listener is bound to.
    ///
    /// # Errors
    /// The getsockname(2) error.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        Ok(SocketAddr::from_sockaddr(self.acceptor.io().socket().local_addr()?))
    }
}

/// The connections of a [`UnixListener`] ([`UnixListener::incoming`]): a
/// [`futures_core::Stream`] of `io::Result<UnixStream>` that never returns `None`.
///
/// # Cancel safety
/// Cancel safe between items, as [`UnixListener::accept`].
#[derive(Debug)]
pub struct Incoming<'a> {
    listener: &'a UnixListener,
}

impl futures_core::Stream for Incoming<'_> {
    type Item = io::Result<UnixStream>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.listener.poll_accept(cx).map(|res| Some(res.map(|(stream, _)| stream)))
    }
}

impl TryFrom<std::os::unix::net::UnixListener> for UnixListener {
    type Error = io::Error;

    /// [`UnixListener::from_std`].
    fn try_from(listener: std::os::unix::net::UnixListener) -> io::Result<UnixListener> {
        UnixListener::from_std(listener)
    }
}

impl AsFd for UnixListener {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.acceptor.io().as_fd()
    }
}

impl AsRawFd for UnixListener {
    fn as_raw_fd(&self) -> RawFd {
        self.acceptor.io().as_raw_fd()
    }
}

impl fmt::Debug for UnixListener {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("UnixListener");
        if let Ok(addr) = self.local_addr() {
            d.field("addr", &addr);
        }
        d.field("fd", &self.as_raw_fd()).finish()
    }
}
