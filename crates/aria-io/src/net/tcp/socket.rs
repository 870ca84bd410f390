use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};

use socket2::{Domain, Protocol, SockAddr, Socket, Type};

use super::stream::sock_addr;
use super::{TcpListener, TcpStream};

/// A TCP socket not yet connected or listening, to set options that must come before
/// bind(2), listen(2) or connect(2) (`SO_REUSEPORT`, buffer sizes, a device), as tokio's
/// `TcpSocket`. [`listen`](TcpSocket::listen) makes a [`TcpListener`] of it,
/// [`connect`](TcpSocket::connect) a [`TcpStream`].
///
/// The socket is non-blocking and close-on-exec from its creation; it is registered with
/// the runtime only when it becomes a listener or a stream, so a `TcpSocket` can be made
/// outside a runtime.
///
/// ```
/// use aria_io::net::TcpSocket;
///
/// let rt = aria_io::Runtime::new()?;
/// rt.block_on(async {
///     let socket = TcpSocket::new_v4()?;
///     socket.set_reuseaddr(true)?;
///     socket.set_reuseport(true)?; // one such listener per core, see the module docs
///     socket.bind("127.0.0.1:0".parse().unwrap())?;
///     let listener = socket.listen(128)?;
///
///     let client = TcpSocket::new_v4()?;
///     client.set_nodelay(true)?;
///     let stream = client.connect(listener.local_addr()?).await?;
///     assert!(stream.nodelay()?);
///     Ok::<_, std::io::Error>(())
/// })?;
/// # Ok::<_, std::io::Error>(())
/// ```
///
/// # References
/// socket(2), socket(7), tcp(7)
pub struct TcpSocket {
    inner: Socket,
}

impl TcpSocket {
    /// A new IPv4 TCP socket (`AF_INET`, `SOCK_STREAM`).
    ///
    /// # Errors
    /// The socket(2) error (`EMFILE`, `ENFILE`).
    pub fn new_v4() -> io::Result<TcpSocket> {
        TcpSocket::new(Domain::IPV4)
    }

    /// A new IPv6 TCP socket (`AF_INET6`, `SOCK_STREAM`). It also accepts IPv4-mapped
    /// addresses unless `/proc/sys/net/ipv6/bindv6only` says otherwise.
    ///
    /// # Errors
    /// The socket(2) error (`EAFNOSUPPORT` where IPv6 is disabled, `EMFILE`).
    pub fn new_v6() -> io::Result<TcpSocket> {
        TcpSocket::new(Domain::IPV6)
    }

    fn new(domain: Domain) -> io::Result<TcpSocket> {
        Ok(TcpSocket { inner: crate::sys::nonblocking_socket(domain, Type::STREAM, Some(Protocol::TCP))? })
    }

    /// Allows binding an address in `TIME_WAIT` (`SO_REUSEADDR`): set it on a server's
    /// socket so that it restarts at once on its port.
    ///
    /// # Errors
    /// The setsockopt(2) error.
    ///
    /// # References
    /// socket(7) `SO_REUSEADDR`
    pub fn set_reuseaddr(&self, reuse: bool) -> io::Result<()> {
        self.inner.set_reuse_address(reuse)
    }

    /// Whether `SO_REUSEADDR` is set.
    ///
    /// # Errors
    /// The getsockopt(2) error.
    pub fn reuseaddr(&self) -> io::Result<bool> {
        self.inner.reuse_address()
    }

    /// Allows several sockets (of the same user) to bind the same address and port
    /// (`SO_REUSEPORT`): the kernel spreads incoming connections among their listeners,
    /// which is how a thread-per-core server gives each core its own listener (see the
    /// [module docs](crate::net#thread-per-core-one-listener-per-core)).
    ///
    /// # Errors
    /// The setsockopt(2) error.
    ///
    /// # References
    /// socket(7) `SO_REUSEPORT` (Linux 3.9)
    pub fn set_reuseport(&self, reuse: bool) -> io::Result<()> {
        self.inner.set_reuse_port(reuse)
    }

    /// Whether `SO_REUSEPORT` is set.
    ///
    /// # Errors
    /// The getsockopt(2) error.
    pub fn reuseport(&self) -> io::Result<bool> {
        self.inner.reuse_port()
    }

    /// Turns Nagle's algorithm off (`TCP_NODELAY`); the stream made by
    /// [`connect`](TcpSocket::connect) keeps it. See [`TcpStream::set_nodelay`].
    ///
    /// # Errors
    /// The setsockopt(2) error.
    pub fn set_nodelay(&self, nodelay: bool) -> io::Result<()> {
        self.inner.set_tcp_nodelay(nodelay)
    }

    /// Whether `TCP_NODELAY` is set.
    ///
    /// # Errors
    /// The getsockopt(2) error.
    pub fn nodelay(&self) -> io::Result<bool> {
        self.inner.tcp_nodelay()
    }

    /// Sends keepalive probes on an idle connection (`SO_KEEPALIVE`), with the kernel's
    /// timings (`net.ipv4.tcp_keepalive_time`, 2 hours by default).
    ///
    /// # Errors
    /// The setsockopt(2) error.
    ///
    /// # References
    /// socket(7) `SO_KEEPALIVE`, tcp(7)
    pub fn set_keepalive(&self, keepalive: bool) -> io::Result<()> {
        self.inner.set_keepalive(keepalive)
    }

    /// Whether `SO_KEEPALIVE` is set.
    ///
    /// # Errors
    /// The getsockopt(2) error.
    pub fn keepalive(&self) -> io::Result<bool> {
        self.inner.keepalive()
    }

    /// Asks for a send buffer of `size` bytes (`SO_SNDBUF`). Linux doubles the value (for
    /// its bookkeeping) and caps it at `/proc/sys/net/core/wmem_max`;
    /// [`send_buffer_size`](TcpSocket::send_buffer_size) reads back what was granted.
    ///
    /// # Errors
    /// The setsockopt(2) error.
    ///
    /// # References
    /// socket(7) `SO_SNDBUF`
    pub fn set_send_buffer_size(&self, size: u32) -> io::Result<()> {
        self.inner.set_send_buffer_size(size as usize)
    }

    /// The send buffer's size in bytes (`SO_SNDBUF`, as the kernel reports it: doubled).
    ///
    /// # Errors
    /// The getsockopt(2) error.
    pub fn send_buffer_size(&self) -> io::Result<u32> {
        self.inner.send_buffer_size().map(|n| u32::try_from(n).unwrap_or(u32::MAX))
    }

    /// Asks for a receive buffer of `size` bytes (`SO_RCVBUF`), doubled and capped at
    /// `/proc/sys/net/core/rmem_max`; set it before [`connect`](TcpSocket::connect) or
    /// [`listen`](TcpSocket::listen) for it to count in the TCP window negotiation.
    ///
    /// # Errors
    /// The setsockopt(2) error.
    ///
    /// # References
    /// socket(7) `SO_RCVBUF`, tcp(7)
    pub fn set_recv_buffer_size(&self, size: u32) -> io::Result<()> {
        self.inner.set_recv_buffer_size(size as usize)
    }

    /// The receive buffer's size in bytes (`SO_RCVBUF`, as the kernel reports it).
    ///
    /// # Errors
    /// The getsockopt(2) error.
    pub fn recv_buffer_size(&self) -> io::Result<u32> {
        self.inner.recv_buffer_size().map(|n| u32::try_from(n).unwrap_or(u32::MAX))
    }

    /// Binds the socket to a network interface by name (`SO_BINDTODEVICE`, for example
    /// `Some(b"eth0")`), or removes the binding (`None`): only packets of that interface are
    /// received, and packets go out through it.
    ///
    /// # Errors
    /// `PermissionDenied` (`EPERM`) without `CAP_NET_RAW` on kernels before 5.7; `ENODEV`
    /// for an unknown interface.
    ///
    /// # Platform
    /// Linux only: `Unsupported` on macOS and FreeBSD.
    ///
    /// # References
    /// socket(7) `SO_BINDTODEVICE`
    pub fn bind_device(&self, interface: Option<&[u8]>) -> io::Result<()> {
        crate::sys::bind_device(&self.inner, interface)
    }

    /// The interface the socket is bound to with [`bind_device`](TcpSocket::bind_device).
    ///
    /// # Errors
    /// The getsockopt(2) error.
    pub fn device(&self) -> io::Result<Option<Vec<u8>>> {
        crate::sys::device(&self.inner)
    }

    /// Binds the socket to `addr` (port 0: any free port).
    ///
    /// # Errors
    /// The bind(2) error: `AddrInUse`, `AddrNotAvailable`, `PermissionDenied` (a port
    /// below 1024 without `CAP_NET_BIND_SERVICE`), `InvalidInput` (an address of the other
    /// family).
    ///
    /// # References
    /// bind(2), ip(7)
    pub fn bind(&self, addr: SocketAddr) -> io::Result<()> {
        self.inner.bind(&SockAddr::from(addr))
    }

    /// The address the socket is bound to.
    ///
    /// # Errors
    /// The getsockname(2) error.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        sock_addr(self.inner.local_addr()?)
    }

    /// Starts listening, with a queue of `backlog` completed connections not yet accepted
    /// (capped by `/proc/sys/net/core/somaxconn`, 4096 by default), and registers the
    /// socket with the current runtime. An unbound socket gets an ephemeral port.
    ///
    /// # Errors
    /// The listen(2) error (`AddrInUse` when another socket listens on the port without
    /// `SO_REUSEPORT` on both); `Other` outside a runtime.
    ///
    /// # References
    /// listen(2), tcp(7)
    pub fn listen(self, backlog: u32) -> io::Result<TcpListener> {
        self.inner.listen(i32::try_from(backlog).unwrap_or(i32::MAX))?;
        TcpListener::from_listening(self.inner)
    }

    /// Connects to `addr` and registers the socket with the current runtime: a
    /// non-blocking connect(2), a wait until writable, then `SO_ERROR`.
    ///
    /// # Errors
    /// As [`TcpStream::connect`] for one address: `ConnectionRefused`, `TimedOut`,
    /// `HostUnreachable`...; `Other` outside a runtime.
    ///
    /// # Cancel safety
    /// Dropping the future closes the socket; no descriptor is left behind.
    ///
    /// # References
    /// connect(2), tcp(7)
    pub async fn connect(self, addr: SocketAddr) -> io::Result<TcpStream> {
        TcpStream::connect_socket(self.inner, addr).await
    }
}

impl AsFd for TcpSocket {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.inner.as_fd()
    }
}

impl AsRawFd for TcpSocket {
    fn as_raw_fd(&self) -> RawFd {
        self.inner.as_raw_fd()
    }
}

impl fmt::Debug for TcpSocket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TcpSocket").field("fd", &self.as_raw_fd()).finish()
    }
}
