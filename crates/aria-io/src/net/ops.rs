//! Socket operations in the completion shape (`driver::op`): a native io_uring entry
//! (`IORING_OP_RECV`, `IORING_OP_SEND`, `IORING_OP_CONNECT`, `IORING_OP_SENDMSG`,
//! `IORING_OP_RECVMSG`) and the readiness fallback, for the owned-buffer methods of the
//! stream types, for connecting, and for passing descriptors over Unix sockets.

use std::io;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::sync::Arc;

use socket2::{SockAddr, Socket};

use crate::driver::op::{native, native_on, Native, Op, OpCode};
use crate::driver::registration::{self, short_read, AbandonedRead};
use crate::driver::{Interest, IoSource};
use crate::net::socket::Registered;
use crate::sys;

/// `read_owned` of the stream types: one receive into `buf`'s spare capacity.
/// Bytes that reads abandoned in flight received come first (see
/// `driver::registration`, *the stash*).
pub(crate) async fn read_owned(io: &Registered, mut buf: Vec<u8>) -> (io::Result<usize>, Vec<u8>) {
    match io.source().registration().take_stashed_spare(&mut buf).await {
        Ok(Some(n)) => return (Ok(n), buf),
        Ok(None) => {}
        Err(e) => return (Err(e), buf),
    }
    let (res, op) = Op::new(RecvOp { source: io.source().clone(), buf, abandoned: None }).await;
    (res, op.buf)
}

/// `write_owned` of the stream types: one send of `buf`.
pub(crate) async fn write_owned(io: &Registered, buf: Vec<u8>) -> (io::Result<usize>, Vec<u8>) {
    let (res, op) = Op::new(SendOp { source: io.source().clone(), buf, offset: 0 }).await;
    (res, op.buf)
}

/// `write_all_owned` of the stream types: sends until all of `buf` is sent (`WriteZero` if a
/// send accepts nothing; `EINTR` retried).
pub(crate) async fn write_all_owned(io: &Registered, buf: Vec<u8>) -> (io::Result<()>, Vec<u8>) {
    let mut op = SendOp { source: io.source().clone(), buf, offset: 0 };
    while op.offset < op.buf.len() {
        let (res, back) = Op::new(op).await;
        op = back;
        match res {
            Ok(0) => return (Err(io::ErrorKind::WriteZero.into()), op.buf),
            Ok(n) => op.offset += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return (Err(e), op.buf),
        }
    }
    (Ok(()), op.buf)
}

/// recv(2) into the spare capacity of `buf` (appending to it).
pub(crate) struct RecvOp {
    pub(crate) source: Arc<IoSource>,
    pub(crate) buf: Vec<u8>,
    /// Set when the `Op` was dropped in flight: what the completion brings is stashed.
    // Read by completion backends only (io_uring: `driver::uring::ops`).
    #[cfg_attr(not(target_os = "linux"), allow(dead_code))]
    pub(crate) abandoned: Option<AbandonedRead>,
}

impl OpCode for RecvOp {
    type Output = usize;
    fn source(&self) -> Option<&Arc<IoSource>> {
        Some(&self.source)
    }
    fn interest(&self) -> Interest {
        Interest::Readable
    }
    fn perform(&mut self) -> io::Result<usize> {
        sys::read_into_spare(self.source.as_fd(), &mut self.buf)
    }
    fn drained(&self, n: &usize) -> bool {
        // The read filled `n` bytes of the spare capacity it was given; room left means it
        // came up short.
        short_read(*n, *n + (self.buf.capacity() - self.buf.len()))
    }
}

/// send(2) of `buf[offset..]` with `MSG_NOSIGNAL`.
pub(crate) struct SendOp {
    pub(crate) source: Arc<IoSource>,
    pub(crate) buf: Vec<u8>,
    pub(crate) offset: usize,
}

impl OpCode for SendOp {
    type Output = usize;
    fn source(&self) -> Option<&Arc<IoSource>> {
        Some(&self.source)
    }
    fn interest(&self) -> Interest {
        Interest::Writable
    }
    fn perform(&mut self) -> io::Result<usize> {
        socket2::SockRef::from(&*self.source).send_with_flags(&self.buf[self.offset..], libc::MSG_NOSIGNAL)
    }
}

/// Connects the non-blocking `socket` to `addr` and registers it: one `IORING_OP_CONNECT`
/// on io_uring; elsewhere a connect(2) that returns `EINPROGRESS`, then a wait until the
/// socket is writable, then `SO_ERROR`. On the readiness path the socket is registered only
/// once the connect is in progress (a socket that never connected reports `EPOLLHUP`,
/// which would stay sticky if it were registered before).
///
/// # Cancel safety
/// Dropping the future closes the socket (on io_uring, once the cancelled request has
/// completed: the operation holds the descriptor until then).
pub(crate) async fn connect(socket: Socket, addr: SockAddr) -> io::Result<Registered> {
    if native(Native::Connect) {
        let io = Registered::from_nonblocking(socket)?;
        let (res, _) = Op::new(ConnectOp { source: io.source().clone(), addr: Box::new(addr) }).await;
        return res.map(|()| io);
    }
    match socket.connect(&addr) {
        Ok(()) => {}
        Err(e) if e.raw_os_error() == Some(libc::EINPROGRESS) => {}
        Err(e) => return Err(e),
    }
    let io = Registered::from_nonblocking(socket)?;
    io.io(Interest::Writable, connected).await?;
    Ok(io)
}

/// The outcome of a connect(2) in progress: `WouldBlock` until it has one.
fn connected(sock: &socket2::SockRef<'_>) -> io::Result<()> {
    if let Some(e) = sock.take_error()? {
        return Err(e);
    }
    match sock.peer_addr() {
        Ok(_) => Ok(()),
        Err(e) if e.raw_os_error() == Some(libc::ENOTCONN) => Err(io::ErrorKind::WouldBlock.into()),
        Err(e) => Err(e),
    }
}

/// connect(2) of a registered socket to `addr` (boxed: the kernel reads it after the
/// submission, and the operation value may move meanwhile).
pub(crate) struct ConnectOp {
    pub(crate) source: Arc<IoSource>,
    pub(crate) addr: Box<SockAddr>,
}

impl OpCode for ConnectOp {
    type Output = ();
    fn source(&self) -> Option<&Arc<IoSource>> {
        Some(&self.source)
    }
    fn interest(&self) -> Interest {
        Interest::Writable
    }
    /// The readiness path, taken only if the ring lost the opcode between
    /// [`connect`]'s check and the submission (never, in practice): the connect(2) is
    /// issued again, and `EALREADY`/`EINPROGRESS` mean it is still in progress.
    fn perform(&mut self) -> io::Result<()> {
        let sock = socket2::SockRef::from(&*self.source);
        match sock.connect(&self.addr) {
            Ok(()) => Ok(()),
            Err(e) if e.raw_os_error() == Some(libc::EISCONN) => Ok(()),
            Err(e) if matches!(e.raw_os_error(), Some(libc::EINPROGRESS | libc::EALREADY)) => {
                connected(&sock)
            }
            Err(e) => Err(e),
        }
    }
}

/// `send_with_fds` of the Unix socket types: one `IORING_OP_SENDMSG` where the ring has the
/// opcode, on a message that owns a copy of `data` and duplicates of `fds` (the kernel reads
/// them when it runs the request, after the submission, and looks the descriptors up by
/// number only then); elsewhere sendmsg(2) after readiness, on the caller's memory.
pub(crate) async fn send_with_fds(io: &Registered, data: &[u8], fds: &[BorrowedFd<'_>]) -> io::Result<usize> {
    if !native_on(io.source(), Native::SendMsg) {
        return io.io(Interest::Writable, |s| sys::socket::send_with_fds(s.as_fd(), data, fds, None)).await;
    }
    let msg = sys::socket::Msg::send(data, fds)?;
    Op::new(SendMsgOp { source: io.source().clone(), msg }).await.0
}

/// `recv_with_fds` of the Unix socket types, into `buf`: one `IORING_OP_RECVMSG` where the
/// ring has the opcode, into a message the operation owns (its bytes are copied into `buf`);
/// elsewhere recvmsg(2) after readiness, into `buf` directly. Received descriptors are
/// close-on-exec on both paths.
///
/// On a `stream`, bytes that reads abandoned in flight received come first (with no
/// descriptor), and this receive, dropped in flight, keeps its bytes the same way (see
/// `driver::registration`, *the stash*); on a datagram socket a datagram it received is
/// discarded. Descriptors a dropped receive got are closed.
pub(crate) async fn recv_with_fds(
    io: &Registered,
    buf: &mut [u8],
    max_fds: usize,
    stream: bool,
) -> io::Result<(usize, Vec<OwnedFd>)> {
    if stream {
        if let Some(n) = io.stashed(|stash| registration::take_into(stash, buf)).await? {
            return Ok((n, Vec::new()));
        }
    }
    if !native_on(io.source(), Native::RecvMsg) {
        let received =
            io.io(Interest::Readable, |s| sys::socket::recv_with_fds(s.as_fd(), &mut *buf, max_fds)).await?;
        return Ok((received.len, received.fds));
    }
    let op = RecvMsgOp {
        source: io.source().clone(),
        msg: sys::socket::Msg::recv(buf.len(), max_fds),
        stream,
        abandoned: None,
    };
    let (res, op) = Op::new(op).await;
    let (n, fds) = res?;
    buf[..n].copy_from_slice(&op.msg.data()[..n]);
    Ok((n, fds))
}

/// sendmsg(2) of an owned message (data and `SCM_RIGHTS`), with `MSG_NOSIGNAL`.
pub(crate) struct SendMsgOp {
    pub(crate) source: Arc<IoSource>,
    pub(crate) msg: sys::socket::Msg,
}

impl OpCode for SendMsgOp {
    type Output = usize;
    fn source(&self) -> Option<&Arc<IoSource>> {
        Some(&self.source)
    }
    fn interest(&self) -> Interest {
        Interest::Writable
    }
    fn perform(&mut self) -> io::Result<usize> {
        self.msg.sendmsg(self.source.as_fd())
    }
}

/// recvmsg(2) into an owned message, with `MSG_CMSG_CLOEXEC`: the bytes (in the message)
/// and the descriptors received.
pub(crate) struct RecvMsgOp {
    pub(crate) source: Arc<IoSource>,
    pub(crate) msg: sys::socket::Msg,
    /// A stream socket: bytes of a receive dropped in flight are kept for the next read.
    // Read by completion backends only (io_uring: `driver::uring::ops`).
    #[cfg_attr(not(target_os = "linux"), allow(dead_code))]
    pub(crate) stream: bool,
    /// Set when the `Op` was dropped in flight on a stream.
    // Read by completion backends only (io_uring: `driver::uring::ops`).
    #[cfg_attr(not(target_os = "linux"), allow(dead_code))]
    pub(crate) abandoned: Option<AbandonedRead>,
}

impl OpCode for RecvMsgOp {
    type Output = (usize, Vec<OwnedFd>);
    fn source(&self) -> Option<&Arc<IoSource>> {
        Some(&self.source)
    }
    fn interest(&self) -> Interest {
        Interest::Readable
    }
    fn perform(&mut self) -> io::Result<(usize, Vec<OwnedFd>)> {
        let n = self.msg.recvmsg(self.source.as_fd())?;
        Ok((n, self.msg.received(n)?))
    }
}
