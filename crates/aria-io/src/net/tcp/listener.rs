use std::fmt;
use std::future::poll_fn;
use std::io;
use std::net::SocketAddr;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use socket2::{Domain, Protocol, SockAddr, Socket, Type};

use super::stream::{self, sock_addr, TcpStream};
use crate::net::accept::Acceptor;
use crate::net::addr::{try_each, ToSocketAddrs};
use crate::net::socket::Registered;

/// The backlog of [`TcpListener::bind`]: the queue of connections the kernel completes
/// before they are accepted (capped by `/proc/sys/net/core/somaxconn`).
const BIND_BACKLOG: i32 = 1024;

/// A TCP socket listening for connections, registered with the runtime it was made in.
///
/// ```
/// use aria_io::net::{TcpListener, TcpStream};
///
/// let rt = aria_io::Runtime::new()?;
/// rt.block_on(async {
///     let listener = TcpListener::bind("127.0.0.1:0").await?; // port 0: any free port
///     let addr = listener.local_addr()?;
///     let client = TcpStream::connect(addr).await?;
///     let (server, peer) = listener.accept().await?;
///     assert_eq!(peer, client.local_addr()?);
///     assert_eq!(server.local_addr()?, addr);
///     Ok::<_, std::io::Error>(())
/// })?;
/// # Ok::<_, std::io::Error>(())
/// ```
///
/// Dropping it closes the socket; connections queued but not accepted are reset.
///
/// # References
/// listen(2), accept4(2), tcp(7)
pub struct TcpListener {
    acceptor: Acceptor,
}

impl TcpListener {
    /// Creates a listener bound to `addr`, trying each address it resolves to in order until
    /// one binds. The socket has `SO_REUSEADDR` (so a server restarts on a port with
    /// connections in `TIME_WAIT`, as with tokio and std on Unix) and a backlog of 1024.
    /// Port 0 asks the kernel for any free port: read it back with
    /// [`local_addr`](TcpListener::local_addr). For other options (`SO_REUSEPORT`, buffer
    /// sizes, another backlog), build it with [`TcpSocket`](super::TcpSocket).
    ///
    /// # Errors
    /// The error of the last address tried (`AddrInUse`, `AddrNotAvailable`,
    /// `PermissionDenied` below port 1024 without `CAP_NET_BIND_SERVICE`); `InvalidInput` if
    /// `addr` resolves to no address; the resolver's error; `Other` outside a runtime.
    ///
    /// # Cancel safety
    /// Dropping the future while it resolves a name abandons the lookup; no socket is open
    /// at that point (each bind happens within a single poll).
    ///
    /// # References
    /// socket(2), bind(2), listen(2), socket(7) `SO_REUSEADDR`
    pub async fn bind<A: ToSocketAddrs>(addr: A) -> io::Result<TcpListener> {
        try_each(&addr, TcpListener::bind_one).await
    }

    fn bind_one(addr: SocketAddr) -> io::Result<TcpListener> {
        let socket =
            crate::sys::nonblocking_socket(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))?;
        socket.set_reuse_address(true)?;
        socket.bind(&SockAddr::from(addr))?;
        socket.listen(BIND_BACKLOG)?;
        TcpListener::from_listening(socket)
    }

    /// A listener of a non-blocking socket already listening.
    pub(crate) fn from_listening(socket: Socket) -> io::Result<TcpListener> {
        Ok(TcpListener { acceptor: Acceptor::new(Registered::from_nonblocking(socket)?) })
    }

    /// Waits for a connection and returns it, with the address of its peer. The new socket
    /// is close-on-exec and non-blocking from the start (accept4(2) with `SOCK_CLOEXEC |
    /// SOCK_NONBLOCK`).
    ///
    /// # Errors
    /// The accept4(2) error. **`EMFILE`/`ENFILE` (out of descriptors: see
    /// `raw_os_error()`) and `ENOBUFS`/`ENOMEM` are returned, never retried inside**: the connection stays
    /// queued, and retrying at once would spin, since nothing frees a descriptor meanwhile
    /// (tokio#3529). A server should log the error, sleep a little (for example 100 ms with
    /// [`time::sleep`](crate::time::sleep)) and accept again:
    ///
    /// ```no_run
    /// # async fn serve(listener: aria_io::net::TcpListener) {
    /// loop {
    ///     match listener.accept().await {
    ///         Ok((stream, _peer)) => drop(aria_io::spawn(async move { drop(stream) })),
    ///         Err(e) => {
    ///             eprintln!("accept: {e}");
    ///             aria_io::time::sleep(std::time::Duration::from_millis(100)).await;
    ///         }
    ///     }
    /// }
    /// # }
    /// ```
    ///
    /// A connection that its client reset before it was accepted is skipped by the kernel
    /// (`ECONNABORTED` is not reported on Linux). `Other` if the runtime the listener is
    /// registered with has shut down.
    ///
    /// # Cancel safety
    /// Cancel-safe: a connection is taken from the queue only in the poll that returns it,
    /// so a dropped `accept` loses none and leaks no descriptor.
    ///
    /// # References
    /// accept4(2), tcp(7)
    pub async fn accept(&self) -> io::Result<(TcpStream, SocketAddr)> {
        poll_fn(|cx| self.poll_accept(cx)).await
    }

    /// The poll form of [`accept`](TcpListener::accept): `Pending` (the task woken when a
    /// connection arrives), or a connection, or the error.
    ///
    /// # Errors
    /// As [`accept`](TcpListener::accept).
    pub fn poll_accept(&self, cx: &mut Context<'_>) -> Poll<io::Result<(TcpStream, SocketAddr)>> {
        let (socket, addr) = ready!(self.acceptor.poll_accept(cx))?;
        let addr = sock_addr(addr)?;
        Poll::Ready(Ok((TcpStream::from_accepted(socket)?, addr)))
    }

    /// The connections, as a [`Stream`](futures_core::Stream) that never ends: each item is
    /// a connection or an accept error (see [`accept`](TcpListener::accept): an `EMFILE`
    /// item is followed by more items, so back off before polling again).
    ///
    /// ```
    /// use aria_io::net::{TcpListener, TcpStream};
    /// use futures_util::StreamExt;
    ///
    /// let rt = aria_io::Runtime::new()?;
    /// rt.block_on(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0").await?;
    ///     let _client = TcpStream::connect(listener.local_addr()?).await?;
    ///     let mut incoming = listener.incoming();
    ///     let server = incoming.next().await.expect("never ends")?;
    ///     assert!(server.peer_addr()?.ip().is_loopback());
    ///     Ok::<_, std::io::Error>(())
    /// })?;
    /// # Ok::<_, std::io::Error>(())
    /// ```
    pub fn incoming(&self) -> Incoming<'_> {
        Incoming { listener: self }
    }

    /// The address the listener is bound to (with the port the kernel chose for port 0).
    ///
    /// # Errors
    /// The getsockname(2) error.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        sock_addr(self.acceptor.io().socket().local_addr()?)
    }

    /// The time-to-live of the packets of accepted connections, in hops (`IP_TTL`; for
    /// IPv6, `IPV6_UNICAST_HOPS`).
    ///
    /// # Errors
    /// The getsockopt(2) error.
    pub fn ttl(&self) -> io::Result<u32> {
        stream::ttl(self.acceptor.io())
    }

    /// Sets the time-to-live of outgoing packets, in hops (1-255); accepted connections
    /// inherit it.
    ///
    /// # Errors
    /// `InvalidInput` outside 1-255; the setsockopt(2) error.
    ///
    /// # References
    /// ip(7) `IP_TTL`, ipv6(7) `IPV6_UNICAST_HOPS`
    pub fn set_ttl(&self, ttl: u32) -> io::Result<()> {
        stream::set_ttl(self.acceptor.io(), ttl)
    }

    /// Registers a listening `std::net::TcpListener` with the current runtime, making it
    /// non-blocking.
    ///
    /// # Errors
    /// `Other` outside a runtime; the fcntl(2) or epoll_ctl(2) error.
    pub fn from_std(listener: std::net::TcpListener) -> io::Result<TcpListener> {
        Ok(TcpListener { acceptor: Acceptor::new(Registered::new(Socket::from(listener))?) })
    }

    /// Deregisters the socket and returns it as a `std::net::TcpListener`, **still in
    /// non-blocking mode** (as tokio's `into_std`): call `set_nonblocking(false)` on it for
    /// blocking accepts.
    ///
    /// # Errors
    /// The fcntl(2) error of duplicating the descriptor (never, in practice: a listener has
    /// no operation in flight once it is owned).
    pub fn into_std(self) -> io::Result<std::net::TcpListener> {
        Ok(self.acceptor.into_socket()?.into())
    }
}

/// The connections of a [`TcpListener`], made by [`TcpListener::incoming`]: a
/// [`Stream`](futures_core::Stream) of `io::Result<TcpStream>` that never ends.
#[derive(Debug)]
#[must_use = "streams do nothing unless polled"]
pub struct Incoming<'a> {
    listener: &'a TcpListener,
}

impl futures_core::Stream for Incoming<'_> {
    type Item = io::Result<TcpStream>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let res = ready!(self.listener.poll_accept(cx));
        Poll::Ready(Some(res.map(|(stream, _)| stream)))
    }
}

impl TryFrom<std::net::TcpListener> for TcpListener {
    type Error = io::Error;

    /// [`TcpListener::from_std`].
    fn try_from(listener: std::net::TcpListener) -> io::Result<TcpListener> {
        TcpListener::from_std(listener)
    }
}

impl AsFd for TcpListener {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.acceptor.io().as_fd()
    }
}

impl AsRawFd for TcpListener {
    fn as_raw_fd(&self) -> RawFd {
        self.acceptor.io().as_raw_fd()
    }
}

impl fmt::Debug for TcpListener {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("TcpListener");
        if let Ok(addr) = self.local_addr() {
            d.field("addr", &addr);
        }
        d.field("fd", &self.as_raw_fd()).finish()
    }
}
