//! UDP sockets.

use std::fmt;
use std::io;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd, RawFd};

use socket2::{Domain, Protocol, SockAddr, Socket, Type};

use super::addr::{no_addresses, resolve, try_each, ToSocketAddrs};
use super::socket::Registered;
use crate::driver::Interest;
use crate::sys;

/// A UDP socket registered with the runtime it was created in.
///
/// Unconnected, it sends to and receives from any address ([`send_to`](UdpSocket::send_to),
/// [`recv_from`](UdpSocket::recv_from)); after [`connect`](UdpSocket::connect) it exchanges
/// datagrams with one peer ([`send`](UdpSocket::send), [`recv`](UdpSocket::recv)) and the
/// kernel drops datagrams from anyone else. All methods take `&self`, so one socket can be
/// shared between tasks (in an `Arc`): one task receiving while another sends.
/// Any number of tasks may wait on it at once, in either direction: each is woken when
/// the socket becomes ready (a datagram goes to whichever task receives first; the others
/// wait again).
///
/// ```
/// use aria_io::net::UdpSocket;
///
/// let rt = aria_io::Runtime::new()?;
/// rt.block_on(async {
///     let a = UdpSocket::bind("127.0.0.1:0").await?;
///     let b = UdpSocket::bind("127.0.0.1:0").await?;
///     a.send_to(b"ping", b.local_addr()?).await?;
///
///     let mut buf = [0; 16];
///     let (n, from) = b.recv_from(&mut buf).await?;
///     assert_eq!((&buf[..n], from), (&b"ping"[..], a.local_addr()?));
///     Ok::<_, std::io::Error>(())
/// })?;
/// # Ok::<_, std::io::Error>(())
/// ```
///
/// # Truncation
/// Every receive takes one whole datagram. If it is larger than the buffer, the buffer is
/// filled and **the rest of the datagram is discarded**; the count returned is the buffer's
/// length, with no indication that bytes were lost (tokio's behaviour, and recv(2)'s without
/// `MSG_TRUNC`). A UDP datagram carries at most 65,507 bytes over IPv4.
///
/// # References
/// udp(7), ip(7), ipv6(7), socket(7)
pub struct UdpSocket {
    io: Registered,
}

/// The address family's error for an address the kernel should not have returned.
fn inet(addr: SockAddr) -> io::Result<SocketAddr> {
    addr.as_socket().ok_or_else(|| io::Error::other("the kernel returned a non-IP address for a UDP socket"))
}

impl UdpSocket {
    /// Creates a UDP socket bound to `addr` (port 0: the kernel picks a free port, see
    /// [`local_addr`](UdpSocket::local_addr)), non-blocking and close-on-exec, registered
    /// with the current runtime. A name is resolved without blocking the runtime (see
    /// [`lookup_host`](super::lookup_host)) and each of its addresses tried in order.
    ///
    /// # Errors
    /// `AddrInUse`, `AddrNotAvailable` (an address of no local interface), `PermissionDenied`
    /// (a port below 1024 without `CAP_NET_BIND_SERVICE`) from bind(2); `Other` outside a
    /// runtime.
    ///
    /// # References
    /// socket(2), bind(2), udp(7)
    pub async fn bind<A: ToSocketAddrs>(addr: A) -> io::Result<UdpSocket> {
        try_each(&addr, UdpSocket::bind_one).await
    }

    fn bind_one(addr: SocketAddr) -> io::Result<UdpSocket> {
        let socket = Socket::new(Domain::for_address(addr), Type::DGRAM, Some(Protocol::UDP))?;
        socket.bind(&addr.into())?;
        UdpSocket::from_socket(socket)
    }

    fn from_socket(socket: Socket) -> io::Result<UdpSocket> {
        Ok(UdpSocket { io: Registered::new(socket)? })
    }

    /// Takes a `std::net::UdpSocket` and registers it with the current runtime, making it
    /// non-blocking (the caller need not).
    ///
    /// # Errors
    /// The fcntl(2) error; `Other` outside a runtime.
    pub fn from_std(socket: std::net::UdpSocket) -> io::Result<UdpSocket> {
        UdpSocket::from_socket(Socket::from(OwnedFd::from(socket)))
    }

    /// Deregisters the socket and returns it as a `std::net::UdpSocket`, **still in
    /// non-blocking mode** (as tokio does); call `set_nonblocking(false)` for blocking use.
    ///
    /// # Errors
    /// The dup(2) error, only if an operation dropped while in the kernel still holds the
    /// registered descriptor (io_uring, until its cancellation completes): the socket is
    /// then returned as a duplicate.
    pub fn into_std(self) -> io::Result<std::net::UdpSocket> {
        Ok(self.io.into_socket()?.into())
    }

    /// Sets the default destination to `addr` and keeps only datagrams from it: afterwards
    /// [`send`](UdpSocket::send) and [`recv`](UdpSocket::recv) work. Nothing is sent. A name
    /// is resolved as by [`bind`](UdpSocket::bind), and each address tried in order.
    ///
    /// # Errors
    /// The connect(2) error (`AddrNotAvailable`, `InvalidInput` for a family mismatch).
    ///
    /// # References
    /// connect(2), udp(7)
    pub async fn connect<A: ToSocketAddrs>(&self, addr: A) -> io::Result<()> {
        try_each(&addr, |addr| self.io.socket().connect(&addr.into())).await
    }

    /// The address this socket is bound to.
    ///
    /// # Errors
    /// The getsockname(2) error.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        inet(self.io.socket().local_addr()?)
    }

    /// The address this socket is connected to.
    ///
    /// # Errors
    /// `NotConnected` (`ENOTCONN`) if [`connect`](UdpSocket::connect) was not called.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        inet(self.io.socket().peer_addr()?)
    }

    /// Sends one datagram of `buf` to `target` (a name resolves as for
    /// [`bind`](UdpSocket::bind); the first address is used); returns the bytes sent (all of
    /// `buf`).
    ///
    /// # Cancel safety
    /// Cancel safe: if the future is dropped before it completes, nothing was sent.
    ///
    /// # Errors
    /// `EMSGSIZE` (a raw OS error) for a datagram larger than the protocol allows; `PermissionDenied` sending to a broadcast address without
    /// [`set_broadcast`](UdpSocket::set_broadcast); `ConnectionRefused` may report an ICMP
    /// error for an earlier datagram; other sendto(2) errors.
    ///
    /// # References
    /// sendto(2), udp(7)
    pub async fn send_to<A: ToSocketAddrs>(&self, buf: &[u8], target: A) -> io::Result<usize> {
        let target = resolve(&target).await?.into_iter().next().ok_or_else(no_addresses)?;
        let target = SockAddr::from(target);
        self.io.io(Interest::Writable, |s| s.send_to(buf, &target)).await
    }

    /// Tries to send a datagram to `target` without waiting.
    ///
    /// # Errors
    /// `WouldBlock` if the socket's send buffer is full; otherwise as
    /// [`send_to`](UdpSocket::send_to).
    pub fn try_send_to(&self, buf: &[u8], target: SocketAddr) -> io::Result<usize> {
        self.io.try_io(Interest::Writable, |s| s.send_to(buf, &SockAddr::from(target)))
    }

    /// Receives one datagram into `buf`; returns its length and sender. A datagram larger
    /// than `buf` is truncated to it, the rest discarded (see the [type docs](UdpSocket#truncation)).
    ///
    /// # Cancel safety
    /// Cancel safe: if the future is dropped before it completes, no datagram was taken.
    ///
    /// # Errors
    /// The recvfrom(2) error; `ConnectionRefused` on a connected socket after an ICMP
    /// port-unreachable for an earlier datagram.
    ///
    /// # References
    /// recvfrom(2), udp(7)
    pub async fn recv_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        let (n, addr) =
            self.io.io(Interest::Readable, |s| sys::socket::recv_from(s.as_fd(), &mut *buf, 0)).await?;
        Ok((n, inet(addr)?))
    }

    /// Tries to receive a datagram without waiting (truncated as by
    /// [`recv_from`](UdpSocket::recv_from)).
    ///
    /// # Errors
    /// `WouldBlock` if no datagram is queued; otherwise as [`recv_from`](UdpSocket::recv_from).
    pub fn try_recv_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        let (n, addr) = self.io.try_io(Interest::Readable, |s| sys::socket::recv_from(s.as_fd(), buf, 0))?;
        Ok((n, inet(addr)?))
    }

    /// Like [`recv_from`](UdpSocket::recv_from), but leaves the datagram queued
    /// (`MSG_PEEK`): the next receive returns it again.
    ///
    /// # Cancel safety
    /// Cancel safe.
    ///
    /// # Errors
    /// As [`recv_from`](UdpSocket::recv_from).
    ///
    /// # References
    /// recv(2) (`MSG_PEEK`)
    pub async fn peek_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        let (n, addr) = self
            .io
            .io(Interest::Readable, |s| sys::socket::recv_from(s.as_fd(), &mut *buf, libc::MSG_PEEK))
            .await?;
        Ok((n, inet(addr)?))
    }

    /// Sends one datagram of `buf` to the connected peer; returns the bytes sent.
    ///
    /// # Cancel safety
    /// Cancel safe: if the future is dropped before it completes, nothing was sent.
    ///
    /// # Errors
    /// `EDESTADDRREQ` (a raw OS error) if not connected; otherwise as
    /// [`send_to`](UdpSocket::send_to).
    ///
    /// # References
    /// send(2)
    pub async fn send(&self, buf: &[u8]) -> io::Result<usize> {
        self.io.io(Interest::Writable, |s| s.send(buf)).await
    }

    /// Tries to send a datagram to the connected peer without waiting.
    ///
    /// # Errors
    /// `WouldBlock` if the send buffer is full; otherwise as [`send`](UdpSocket::send).
    pub fn try_send(&self, buf: &[u8]) -> io::Result<usize> {
        self.io.try_io(Interest::Writable, |s| s.send(buf))
    }

    /// Receives one datagram from the connected peer into `buf` (truncated as by
    /// [`recv_from`](UdpSocket::recv_from)); returns its length.
    ///
    /// # Cancel safety
    /// Cancel safe: if the future is dropped before it completes, no datagram was taken.
    ///
    /// # Errors
    /// The recv(2) error (`ConnectionRefused` after an ICMP port-unreachable).
    ///
    /// # References
    /// recv(2)
    pub async fn recv(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.io.io(Interest::Readable, |s| sys::socket::recv(s.as_fd(), &mut *buf, 0)).await
    }

    /// Tries to receive a datagram from the connected peer without waiting.
    ///
    /// # Errors
    /// `WouldBlock` if no datagram is queued; otherwise as [`recv`](UdpSocket::recv).
    pub fn try_recv(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.io.try_io(Interest::Readable, |s| sys::socket::recv(s.as_fd(), buf, 0))
    }

    /// Waits until a datagram may be queued (or an error is pending). Readiness can be
    /// spurious: follow with [`try_recv_from`](UdpSocket::try_recv_from) and loop on
    /// `WouldBlock`.
    ///
    /// # Cancel safety
    /// Cancel safe.
    ///
    /// # Errors
    /// `Other` if the runtime has shut down.
    pub async fn readable(&self) -> io::Result<()> {
        self.io.ready(Interest::Readable).await
    }

    /// Waits until the send buffer may have room. Readiness can be spurious: follow with
    /// [`try_send_to`](UdpSocket::try_send_to) and loop on `WouldBlock`.
    ///
    /// # Cancel safety
    /// Cancel safe.
    ///
    /// # Errors
    /// `Other` if the runtime has shut down.
    pub async fn writable(&self) -> io::Result<()> {
        self.io.ready(Interest::Writable).await
    }

    /// Allows or forbids sending to broadcast addresses (`SO_BROADCAST`).
    ///
    /// # Errors
    /// The setsockopt(2) error.
    ///
    /// # References
    /// socket(7) (`SO_BROADCAST`)
    pub fn set_broadcast(&self, on: bool) -> io::Result<()> {
        self.io.socket().set_broadcast(on)
    }

    /// Whether `SO_BROADCAST` is set.
    ///
    /// # Errors
    /// The getsockopt(2) error.
    pub fn broadcast(&self) -> io::Result<bool> {
        self.io.socket().broadcast()
    }

    /// Sets the time-to-live of outgoing unicast IPv4 datagrams (`IP_TTL`, hops, 1-255).
    ///
    /// # Errors
    /// `InvalidInput` outside 1-255 (the kernel's `EINVAL`); `IPPROTO_IP` options on an IPv6
    /// socket are refused too.
    ///
    /// # References
    /// ip(7) (`IP_TTL`)
    pub fn set_ttl(&self, ttl: u32) -> io::Result<()> {
        self.io.socket().set_ttl_v4(ttl)
    }

    /// The time-to-live of outgoing unicast IPv4 datagrams (`IP_TTL`, hops; 64 by default on
    /// Linux, `/proc/sys/net/ipv4/ip_default_ttl`).
    ///
    /// # Errors
    /// The getsockopt(2) error.
    pub fn ttl(&self) -> io::Result<u32> {
        self.io.socket().ttl_v4()
    }

    /// Joins the IPv4 multicast group `multiaddr` on the interface with address `interface`
    /// (`Ipv4Addr::UNSPECIFIED`: the kernel chooses) (`IP_ADD_MEMBERSHIP`).
    ///
    /// # Errors
    /// `ENODEV`/`AddrNotAvailable` when no interface can carry the group (a host or VM with
    /// no multicast route); `InvalidInput` for a non-multicast address.
    ///
    /// # References
    /// ip(7) (`IP_ADD_MEMBERSHIP`)
    pub fn join_multicast_v4(&self, multiaddr: Ipv4Addr, interface: Ipv4Addr) -> io::Result<()> {
        self.io.socket().join_multicast_v4(&multiaddr, &interface)
    }

    /// Leaves an IPv4 multicast group joined with
    /// [`join_multicast_v4`](UdpSocket::join_multicast_v4) (`IP_DROP_MEMBERSHIP`).
    ///
    /// # Errors
    /// `AddrNotAvailable` if the group was not joined on that interface.
    ///
    /// # References
    /// ip(7) (`IP_DROP_MEMBERSHIP`)
    pub fn leave_multicast_v4(&self, multiaddr: Ipv4Addr, interface: Ipv4Addr) -> io::Result<()> {
        self.io.socket().leave_multicast_v4(&multiaddr, &interface)
    }

    /// Joins the IPv6 multicast group `multiaddr` on the interface with index `interface`
    /// (0: the kernel chooses) (`IPV6_ADD_MEMBERSHIP`).
    ///
    /// # Errors
    /// As [`join_multicast_v4`](UdpSocket::join_multicast_v4).
    ///
    /// # References
    /// ipv6(7) (`IPV6_ADD_MEMBERSHIP`)
    pub fn join_multicast_v6(&self, multiaddr: &Ipv6Addr, interface: u32) -> io::Result<()> {
        self.io.socket().join_multicast_v6(multiaddr, interface)
    }

    /// Leaves an IPv6 multicast group (`IPV6_DROP_MEMBERSHIP`).
    ///
    /// # Errors
    /// `AddrNotAvailable` if the group was not joined on that interface.
    ///
    /// # References
    /// ipv6(7) (`IPV6_DROP_MEMBERSHIP`)
    pub fn leave_multicast_v6(&self, multiaddr: &Ipv6Addr, interface: u32) -> io::Result<()> {
        self.io.socket().leave_multicast_v6(multiaddr, interface)
    }

    /// Whether IPv4 multicast datagrams this socket sends are looped back to local listeners
    /// (`IP_MULTICAST_LOOP`, on by default).
    ///
    /// # Errors
    /// The setsockopt(2) error.
    ///
    /// # References
    /// ip(7) (`IP_MULTICAST_LOOP`)
    pub fn set_multicast_loop_v4(&self, on: bool) -> io::Result<()> {
        self.io.socket().set_multicast_loop_v4(on)
    }

    /// Whether `IP_MULTICAST_LOOP` is set.
    ///
    /// # Errors
    /// The getsockopt(2) error.
    pub fn multicast_loop_v4(&self) -> io::Result<bool> {
        self.io.socket().multicast_loop_v4()
    }
}

impl TryFrom<std::net::UdpSocket> for UdpSocket {
    type Error = io::Error;

    /// [`UdpSocket::from_std`].
    fn try_from(socket: std::net::UdpSocket) -> io::Result<UdpSocket> {
        UdpSocket::from_std(socket)
    }
}

impl AsFd for UdpSocket {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.io.as_fd()
    }
}

impl AsRawFd for UdpSocket {
    fn as_raw_fd(&self) -> RawFd {
        self.io.as_raw_fd()
    }
}

impl fmt::Debug for UdpSocket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("UdpSocket");
        if let Ok(addr) = self.local_addr() {
            d.field("addr", &addr);
        }
        d.field("fd", &self.as_raw_fd()).finish()
    }
}
