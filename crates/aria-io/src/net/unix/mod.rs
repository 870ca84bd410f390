//! Unix-domain sockets: streams ([`UnixListener`], [`UnixStream`]) and datagrams
//! ([`UnixDatagram`]) between processes of one host, addressed by a path in the file system
//! or, on Linux, by an abstract name ([`SocketAddr`]); and passing open descriptors between
//! processes (`SCM_RIGHTS`), which tokio does not offer.
//!
//! A connected pair exchanging bytes, then one end passing the write end of a pipe to the
//! other, which writes into it:
//!
//! ```
//! use std::os::fd::AsFd;
//!
//! use aria_io::net::unix::UnixStream;
//! use futures_util::{AsyncReadExt, AsyncWriteExt};
//!
//! let rt = aria_io::Runtime::new()?;
//! rt.block_on(async {
//!     let (mut a, mut b) = UnixStream::pair()?;
//!     a.write_all(b"ping").await?;
//!     let mut buf = [0; 4];
//!     b.read_exact(&mut buf).await?;
//!     assert_eq!(&buf, b"ping");
//!
//!     // Pass a descriptor: `b` receives its own copy of the pipe's write end.
//!     let (mut reader, writer) = aria_io::io::pipe()?;
//!     a.send_with_fds(b"fd", &[writer.as_fd()]).await?;
//!     drop(writer); // ours: the copy in flight keeps the pipe open
//!     let (n, fds) = b.recv_with_fds(&mut buf, 1).await?;
//!     assert_eq!((&buf[..n], fds.len()), (&b"fd"[..], 1));
//!
//!     let mut passed = std::fs::File::from(fds.into_iter().next().unwrap());
//!     std::io::Write::write_all(&mut passed, b"through the passed descriptor")?;
//!     drop(passed); // the last write end: the reader sees end of file
//!     let mut out = Vec::new();
//!     reader.read_to_end(&mut out).await?;
//!     assert_eq!(out, b"through the passed descriptor");
//!     Ok::<_, std::io::Error>(())
//! })?;
//! # Ok::<_, std::io::Error>(())
//! ```
//!
//! # Passing descriptors
//!
//! [`UnixStream::send_with_fds`] and [`UnixDatagram::send_with_fds`] attach up to 253
//! descriptors (the kernel's `SCM_MAX_FD`) to a message; [`UnixStream::recv_with_fds`] and
//! [`UnixDatagram::recv_with_fds`] return them as [`OwnedFd`](std::os::fd::OwnedFd)s,
//! always close-on-exec (`MSG_CMSG_CLOEXEC`, so a concurrent spawn cannot inherit them).
//! The receiver says how many it accepts: if more were sent, the control message is
//! truncated (`MSG_CTRUNC`), the ones that arrived are closed and the call fails with
//! `InvalidData`; no received descriptor is leaked on any path. The unsafe control-message
//! code lives in the crate's platform layer (`sys/socket.rs`).
//!
//! # Cancel safety
//! The async methods that wait for readiness (`recv`, `send_to`, `accept`...) are cancel
//! safe on both backends: they run their system call only when it can complete, so a dropped
//! future sent or received nothing. So are `send_with_fds` and `recv_with_fds` on epoll.
//! [`UnixStream::read_owned`] and [`UnixStream::recv_with_fds`] keep their bytes on io_uring
//! too: bytes a dropped receive took off the socket are returned by the stream's next read
//! (descriptors that came with them are closed). The other io_uring operations are not cancel
//! safe there: [`UnixStream::write_owned`] and both `send_with_fds` may or may not have sent,
//! and [`UnixDatagram::recv_with_fds`] may have taken a datagram (discarded, its descriptors
//! closed). [`UnixStream::write_all_owned`] is not cancel safe anywhere. Each method's docs
//! say which.
//!
//! # Sharing a socket between tasks
//! Methods that take `&self` may be called from several tasks at once (the socket in an
//! `Arc`): every waiting task is woken when the socket becomes ready, and whichever calls
//! first gets the data; the others wait again.
//!
//! # Platform
//! [`UnixStream::read_owned`], [`write_owned`](UnixStream::write_owned) and
//! [`write_all_owned`](UnixStream::write_all_owned) are `IORING_OP_RECV`/`IORING_OP_SEND` on
//! io_uring, and descriptor passing (`send_with_fds`, `recv_with_fds`, on streams and
//! datagrams) is `IORING_OP_SENDMSG`/`IORING_OP_RECVMSG`, on memory the operation owns
//! (probed per opcode: a ring without them takes the readiness path). Everything else waits
//! for readiness (epoll, or `IORING_OP_POLL_ADD` on io_uring) and then makes the system call
//! on the task's thread, on both backends.
//!
//! # References
//! unix(7), socket(7), recvmsg(2), sendmsg(2), cmsg(3)

mod datagram;
mod listener;
mod socket_addr;
mod split;
mod stream;

pub use datagram::UnixDatagram;
pub use listener::{Incoming, UnixListener};
pub use socket_addr::SocketAddr;
pub use split::{OwnedReadHalf, OwnedWriteHalf, ReadHalf, WriteHalf};
pub use stream::UnixStream;

/// The credentials of the peer of a [`UnixStream`] ([`UnixStream::peer_cred`]), from
/// `SO_PEERCRED`: those of the process that connected (or created the pair), taken when it
/// did, in this process's namespaces.
///
/// # References
/// unix(7) (`SO_PEERCRED`), credentials(7)
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct UCred {
    pid: libc::pid_t,
    uid: libc::uid_t,
    gid: libc::gid_t,
}

impl UCred {
    /// The peer's process id; `None` when the kernel reports 0 (a peer in a pid namespace
    /// this process cannot see).
    pub fn pid(&self) -> Option<libc::pid_t> {
        (self.pid != 0).then_some(self.pid)
    }

    /// The peer's effective user id.
    pub fn uid(&self) -> libc::uid_t {
        self.uid
    }

    /// The peer's effective group id.
    pub fn gid(&self) -> libc::gid_t {
        self.gid
    }
}
