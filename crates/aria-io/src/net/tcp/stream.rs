use std::fmt;
use std::io::{self, IoSlice, Read};
use std::net::{Shutdown, SocketAddr};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use socket2::{Domain, Protocol, SockAddr, Socket, Type};

use super::split::{self, OwnedReadHalf, OwnedWriteHalf, ReadHalf, WriteHalf};
use crate::driver::{registration, Interest};
use crate::net::addr::{no_addresses, resolve, ToSocketAddrs};
use crate::net::ops;
use crate::net::socket::Registered;
use crate::sys;

/// A TCP connection between a local and a remote socket, registered with the runtime it was
/// made in: made by [`connect`](TcpStream::connect), by [`TcpListener::accept`](super::TcpListener::accept),
/// by [`TcpSocket::connect`](super::TcpSocket::connect) or [`from_std`](TcpStream::from_std).
///
/// It implements [`futures_io::AsyncRead`] and [`futures_io::AsyncWrite`] (so the `futures`
/// extension traits work on it: `stream.read(&mut buf).await` with
/// `futures_util::AsyncReadExt` in scope), and has owned-buffer operations
/// ([`read_owned`](TcpStream::read_owned), [`write_owned`](TcpStream::write_owned),
/// [`write_all_owned`](TcpStream::write_all_owned)) that are native io_uring submissions
/// (`IORING_OP_RECV`, `IORING_OP_SEND`) where the ring has them.
///
/// ```
/// use aria_io::net::{TcpListener, TcpStream};
/// use futures_util::{AsyncReadExt, AsyncWriteExt};
///
/// let rt = aria_io::Runtime::new()?;
/// rt.block_on(async {
///     let listener = TcpListener::bind("127.0.0.1:0").await?;
///     let mut client = TcpStream::connect(listener.local_addr()?).await?;
///     let (mut server, _) = listener.accept().await?;
///     client.write_all(b"ping").await?;
///     let mut buf = [0; 4];
///     server.read_exact(&mut buf).await?;
///     assert_eq!(&buf, b"ping");
///     Ok::<_, std::io::Error>(())
/// })?;
/// # Ok::<_, std::io::Error>(())
/// ```
///
/// One task may read while another writes (see [`split`](TcpStream::split) and
/// [`into_split`](TcpStream::into_split)); two tasks reading (or two writing) at once wake
/// each other in turn, as with tokio. Writes never raise `SIGPIPE` (`MSG_NOSIGNAL`): a
/// write to a connection the peer reset fails with `BrokenPipe` or `ConnectionReset`.
///
/// Dropping it closes the socket: the peer reads end of file after the bytes already sent
/// (or gets a reset, after [`set_zero_linger`](TcpStream::set_zero_linger), or when
/// unread bytes were left in the receive queue: see tcp(7)).
///
/// # References
/// tcp(7), socket(7), ip(7)
pub struct TcpStream {
    io: Registered,
}

impl TcpStream {
    /// Opens a connection to `addr`, trying each address it resolves to (see
    /// [`ToSocketAddrs`]) in order until one accepts.
    ///
    /// Each attempt is one `IORING_OP_CONNECT` on io_uring; on epoll, a non-blocking
    /// connect(2) (`EINPROGRESS`), a wait until the socket is writable, then `SO_ERROR` for
    /// its outcome.
    ///
    /// # Errors
    /// The error of the last address tried (`ConnectionRefused`, `TimedOut` after the
    /// kernel's SYN retries (`net.ipv4.tcp_syn_retries`, about 2 minutes by default),
    /// `HostUnreachable`, `NetworkUnreachable`, `AddrNotAvailable`); `InvalidInput` if
    /// `addr` resolves to no address; the resolver's error (see
    /// [`lookup_host`](crate::net::lookup_host)); `Other` outside a runtime.
    ///
    /// # Cancel safety
    /// Dropping the future abandons the attempt in progress and closes its socket (the peer
    /// may see a connection opened and reset); no descriptor is left behind.
    ///
    /// # References
    /// connect(2), tcp(7), socket(7) (`SO_ERROR`)
    pub async fn connect<A: ToSocketAddrs>(addr: A) -> io::Result<TcpStream> {
        let mut last = None;
        for addr in resolve(&addr).await? {
            let attempt = async {
                let socket = crate::sys::nonblocking_socket(
                    Domain::for_address(addr),
                    Type::STREAM,
                    Some(Protocol::TCP),
                )?;
                TcpStream::connect_socket(socket, addr).await
            };
            match attempt.await {
                Ok(stream) => return Ok(stream),
                Err(e) => last = Some(e),
            }
        }
        Err(last.unwrap_or_else(no_addresses))
    }

    /// Connects the non-blocking `socket` to `addr` and registers it (see `ops::connect`).
    pub(crate) async fn connect_socket(socket: Socket, addr: SocketAddr) -> io::Result<TcpStream> {
        Ok(TcpStream { io: ops::connect(socket, SockAddr::from(addr)).await? })
    }

    /// A stream of a connected socket made non-blocking already (accept4(2)).
    pub(crate) fn from_accepted(socket: Socket) -> io::Result<TcpStream> {
        Ok(TcpStream { io: Registered::from_nonblocking(socket)? })
    }

    /// Registers a connected `std::net::TcpStream` with the current runtime, making it
    /// non-blocking (tokio requires the caller to do that; here it is done for you).
    ///
    /// # Errors
    /// `Other` outside a runtime; the fcntl(2) or epoll_ctl(2) error.
    pub fn from_std(stream: std::net::TcpStream) -> io::Result<TcpStream> {
        Ok(TcpStream { io: Registered::new(Socket::from(stream))? })
    }

    /// Deregisters the socket and returns it as a `std::net::TcpStream`, **still in
    /// non-blocking mode** (as tokio's `into_std`): call `set_nonblocking(false)` on it for
    /// blocking use.
    ///
    /// # Errors
    /// The fcntl(2) error (`EMFILE`) of duplicating the descriptor, needed only when an
    /// owned-buffer operation dropped in flight on io_uring still holds it.
    pub fn into_std(self) -> io::Result<std::net::TcpStream> {
        Ok(self.io.into_socket()?.into())
    }

    /// The local address of the connection.
    ///
    /// # Errors
    /// The getsockname(2) error.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        sock_addr(self.io.socket().local_addr()?)
    }

    /// The remote address of the connection.
    ///
    /// # Errors
    /// `NotConnected` (`ENOTCONN`) once the connection was reset; the getpeername(2) error.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        sock_addr(self.io.socket().peer_addr()?)
    }

    /// Whether Nagle's algorithm is off (`TCP_NODELAY`, see [`set_nodelay`](TcpStream::set_nodelay)).
    ///
    /// # Errors
    /// The getsockopt(2) error.
    pub fn nodelay(&self) -> io::Result<bool> {
        self.io.socket().tcp_nodelay()
    }

    /// Turns Nagle's algorithm off (`true`: small writes are sent at once instead of being
    /// coalesced while an acknowledgement is outstanding) or on (`false`, the default).
    ///
    /// # Errors
    /// The setsockopt(2) error.
    ///
    /// # References
    /// tcp(7) `TCP_NODELAY`
    pub fn set_nodelay(&self, nodelay: bool) -> io::Result<()> {
        self.io.socket().set_tcp_nodelay(nodelay)
    }

    /// The time-to-live of outgoing packets, in hops: `IP_TTL` for IPv4, the unicast hop
    /// limit (`IPV6_UNICAST_HOPS`) for IPv6.
    ///
    /// # Errors
    /// The getsockopt(2) error.
    pub fn ttl(&self) -> io::Result<u32> {
        ttl(&self.io)
    }

    /// Sets the time-to-live of outgoing packets, in hops (1-255): `IP_TTL` for IPv4,
    /// `IPV6_UNICAST_HOPS` for IPv6.
    ///
    /// # Errors
    /// `InvalidInput` (`EINVAL`) outside 1-255; the setsockopt(2) error.
    ///
    /// # References
    /// ip(7) `IP_TTL`, ipv6(7) `IPV6_UNICAST_HOPS`
    pub fn set_ttl(&self, ttl: u32) -> io::Result<()> {
        set_ttl(&self.io, ttl)
    }

    /// Sets `SO_LINGER` to zero seconds: closing the socket (dropping the stream) discards
    /// unsent bytes and sends a reset (RST), so the peer's reads and writes fail with
    /// `ConnectionReset`, and the connection skips `TIME_WAIT`. A non-zero linger, which
    /// would make close(2) block the thread, is deliberately not offered.
    ///
    /// # Errors
    /// The setsockopt(2) error.
    ///
    /// # References
    /// socket(7) `SO_LINGER`, tcp(7)
    pub fn set_zero_linger(&self) -> io::Result<()> {
        self.io.socket().set_linger(Some(Duration::ZERO))
    }

    /// Waits for data and copies it into `buf` **without removing it** from the receive
    /// queue (the next read returns it again); returns the count (`0` at end of file or for
    /// an empty `buf`).
    ///
    /// # Errors
    /// The recv(2) error (`ConnectionReset`).
    ///
    /// # Cancel safety
    /// Cancel-safe: nothing is consumed until the future completes. Bytes kept from a
    /// dropped [`read_owned`](TcpStream::read_owned) (see its cancel safety) are the next
    /// ones a read returns, so a peek shows them (and only them) while there are any.
    ///
    /// # References
    /// recv(2) `MSG_PEEK`
    pub async fn peek(&self, buf: &mut [u8]) -> io::Result<usize> {
        // Bytes a read abandoned in flight received are the next ones a read returns.
        if let Some(n) = self.io.stashed(|stash| registration::copy_into(stash, buf)).await? {
            return Ok(n);
        }
        self.io.io(Interest::Readable, |sock| sys::recv_peek(sock.as_fd(), buf)).await
    }

    /// Shuts down the read half, the write half or both, at once (no wait). `Write` sends
    /// a FIN after the bytes already queued: the peer reads end of file and can still send
    /// (a half-close). Later writes fail with `BrokenPipe`; reads after `Read` return end of
    /// file.
    ///
    /// # Errors
    /// `NotConnected` (`ENOTCONN`) if the connection is not (or no longer) established.
    ///
    /// # References
    /// shutdown(2), tcp(7)
    pub fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        self.io.socket().shutdown(how)
    }

    /// Waits until the socket is readable: data, end of file or an error is pending. Then
    /// [`try_read`](TcpStream::try_read) may still report `WouldBlock` (a spurious wake-up):
    /// loop.
    ///
    /// # Errors
    /// `Other` if the runtime the stream is registered with has shut down.
    ///
    /// # Cancel safety
    /// Cancel-safe.
    pub async fn readable(&self) -> io::Result<()> {
        self.io.ready(Interest::Readable).await
    }

    /// Waits until the socket is writable (room in the send buffer, or an error). Then
    /// [`try_write`](TcpStream::try_write) may still report `WouldBlock`: loop.
    ///
    /// # Errors
    /// `Other` if the runtime the stream is registered with has shut down.
    ///
    /// # Cancel safety
    /// Cancel-safe.
    pub async fn writable(&self) -> io::Result<()> {
        self.io.ready(Interest::Writable).await
    }

    /// Reads what is available into `buf` without waiting; `Ok(0)` at end of file.
    ///
    /// # Errors
    /// `WouldBlock` when nothing is available (wait with [`readable`](TcpStream::readable));
    /// the recv(2) error.
    pub fn try_read(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.io.try_read(buf, |sock, buf| (&**sock).read(buf))
    }

    /// Writes what fits of `buf` into the send buffer without waiting; returns the count.
    ///
    /// # Errors
    /// `WouldBlock` when the send buffer is full (wait with
    /// [`writable`](TcpStream::writable)); the send(2) error (`BrokenPipe`, `ConnectionReset`).
    pub fn try_write(&self, buf: &[u8]) -> io::Result<usize> {
        self.io.try_io(Interest::Writable, |sock| sock.send_with_flags(buf, libc::MSG_NOSIGNAL))
    }

    /// Receives at most `buf.capacity() - buf.len()` bytes, appending them to `buf`, and
    /// gives `buf` back with the count (`0` at end of file or when there is no spare
    /// capacity).
    ///
    /// # Errors
    /// The recv(2) error (`ConnectionReset`); `Other` if the runtime the stream is
    /// registered with has shut down.
    ///
    /// # Cancel safety
    /// Cancel safe: no byte is lost if the future is dropped. The buffer is owned by the
    /// operation, so dropping the future never lets the kernel write freed memory. On the
    /// readiness path (epoll) nothing is consumed before the future completes. On io_uring
    /// the driver keeps the buffer until the kernel completes or cancels the receive; bytes
    /// the receive took off the socket before the cancellation arrived are kept by the
    /// stream, and its next read (of any kind: `read_owned`, `AsyncRead`, `try_read`,
    /// `peek`) returns them first, in order. That next read waits for the dropped receive's
    /// completion (the cancellation makes it prompt), so that no later byte overtakes them.
    ///
    /// # Platform
    /// `IORING_OP_RECV` on io_uring (Linux 5.6); recv(2) after epoll readiness otherwise,
    /// and on a ring that lacks the opcode.
    ///
    /// # References
    /// recv(2), io_uring_prep_recv(3)
    pub async fn read_owned(&mut self, buf: Vec<u8>) -> (io::Result<usize>, Vec<u8>) {
        ops::read_owned(&self.io, buf).await
    }

    /// Sends some of `buf` (owned while in flight) and gives it back with the count of
    /// bytes sent.
    ///
    /// # Errors
    /// The send(2) error (`BrokenPipe` after a shutdown or a reset, `ConnectionReset`);
    /// `Other` if the runtime the stream is registered with has shut down.
    ///
    /// # Cancel safety
    /// The buffer is owned by the operation; on io_uring the driver holds it until the
    /// kernel is done. A dropped `write_owned` may or may not have sent some of `buf`
    /// (unknowable), so the stream's contents are then undefined.
    ///
    /// # Platform
    /// `IORING_OP_SEND` on io_uring (Linux 5.6); send(2) after epoll readiness otherwise.
    ///
    /// # References
    /// send(2), io_uring_prep_send(3)
    pub async fn write_owned(&mut self, buf: Vec<u8>) -> (io::Result<usize>, Vec<u8>) {
        ops::write_owned(&self.io, buf).await
    }

    /// Sends all of `buf` (as many sends as needed) and gives it back.
    ///
    /// # Errors
    /// As [`write_owned`](TcpStream::write_owned); `WriteZero` if a send accepts nothing.
    /// Part of `buf` may have been sent.
    ///
    /// # Cancel safety
    /// Not cancel-safe: a dropped `write_all_owned` has sent an unknown prefix of `buf`.
    pub async fn write_all_owned(&mut self, buf: Vec<u8>) -> (io::Result<()>, Vec<u8>) {
        ops::write_all_owned(&self.io, buf).await
    }

    /// Splits the stream into a read half and a write half borrowing it, for a reader task
    /// and a writer future that do not outlive the stream (both polled by one task, with a
    /// `join` combinator); [`into_split`](TcpStream::into_split) gives owned halves for
    /// spawned tasks. Costs nothing: the halves are references.
    ///
    /// **With `futures::AsyncReadExt` in scope, `stream.split()` calls that trait's
    /// `split(self)`** (which takes the stream by value, so method resolution finds it
    /// before this `&mut self` method) and gives lock-based halves: write
    /// `TcpStream::split(&mut stream)` to get these.
    ///
    /// ```
    /// use aria_io::net::{TcpListener, TcpStream};
    /// use futures_util::{AsyncReadExt, AsyncWriteExt};
    ///
    /// let rt = aria_io::Runtime::new()?;
    /// rt.block_on(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0").await?;
    ///     let mut client = TcpStream::connect(listener.local_addr()?).await?;
    ///     let (mut server, _) = listener.accept().await?;
    ///     let (mut reader, mut writer) = TcpStream::split(&mut server);
    ///     client.write_all(b"echo").await?;
    ///     client.close().await?;
    ///     futures_util::io::copy(&mut reader, &mut writer).await?;
    ///     let mut echoed = [0; 4];
    ///     client.read_exact(&mut echoed).await?;
    ///     assert_eq!(&echoed, b"echo");
    ///     Ok::<_, std::io::Error>(())
    /// })?;
    /// # Ok::<_, std::io::Error>(())
    /// ```
    pub fn split(&mut self) -> (ReadHalf<'_>, WriteHalf<'_>) {
        split::split(self)
    }

    /// Splits the stream into owned halves, which may move to different tasks;
    /// [`OwnedReadHalf::reunite`] puts them back together. Dropping the
    /// [`OwnedWriteHalf`] shuts down the write side (the peer reads end of file), as tokio's
    /// does; the socket closes when both halves are dropped.
    pub fn into_split(self) -> (OwnedReadHalf, OwnedWriteHalf) {
        split::into_split(Arc::new(self))
    }

    pub(crate) fn poll_read_priv(&self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
        self.io.poll_read(cx, buf, |sock, buf| (&**sock).read(buf))
    }

    pub(crate) fn poll_write_priv(&self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        self.io.poll_io(cx, Interest::Writable, |sock| sock.send_with_flags(buf, libc::MSG_NOSIGNAL))
    }

    pub(crate) fn poll_write_vectored_priv(
        &self,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        self.io
            .poll_io(cx, Interest::Writable, |sock| sock.send_vectored_with_flags(bufs, libc::MSG_NOSIGNAL))
    }

    pub(crate) fn registered(&self) -> &Registered {
        &self.io
    }
}

/// A socket2 address as a `SocketAddr` (always IPv4 or IPv6 for a TCP socket).
pub(crate) fn sock_addr(addr: SockAddr) -> io::Result<SocketAddr> {
    addr.as_socket().ok_or_else(|| io::Error::new(io::ErrorKind::InvalidData, "not an IP socket address"))
}

pub(crate) fn ttl(io: &Registered) -> io::Result<u32> {
    let sock = io.socket();
    match sock.local_addr()?.domain() {
        Domain::IPV6 => sock.unicast_hops_v6(),
        _ => sock.ttl_v4(),
    }
}

pub(crate) fn set_ttl(io: &Registered, ttl: u32) -> io::Result<()> {
    let sock = io.socket();
    match sock.local_addr()?.domain() {
        Domain::IPV6 => sock.set_unicast_hops_v6(ttl),
        _ => sock.set_ttl_v4(ttl),
    }
}

impl futures_io::AsyncRead for TcpStream {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
        self.poll_read_priv(cx, buf)
    }
}

impl futures_io::AsyncWrite for TcpStream {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        self.poll_write_priv(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        self.poll_write_vectored_priv(cx, bufs)
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(())) // no user-space buffer
    }

    /// Shuts down the write half (`shutdown(SHUT_WR)`): the peer reads end of file.
    fn poll_close(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(self.shutdown(Shutdown::Write))
    }
}

impl TryFrom<std::net::TcpStream> for TcpStream {
    type Error = io::Error;

    /// [`TcpStream::from_std`].
    fn try_from(stream: std::net::TcpStream) -> io::Result<TcpStream> {
        TcpStream::from_std(stream)
    }
}

impl AsFd for TcpStream {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.io.as_fd()
    }
}

impl AsRawFd for TcpStream {
    fn as_raw_fd(&self) -> RawFd {
        self.io.as_raw_fd()
    }
}

impl fmt::Debug for TcpStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("TcpStream");
        if let Ok(addr) = self.local_addr() {
            d.field("local", &addr);
        }
        if let Ok(addr) = self.peer_addr() {
            d.field("peer", &addr);
        }
        d.field("fd", &self.as_raw_fd()).finish()
    }
}
