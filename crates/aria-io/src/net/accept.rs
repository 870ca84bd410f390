//! Accepting connections: the one mechanism of [`TcpListener`](super::TcpListener) and
//! [`UnixListener`](super::unix::UnixListener).
//!
//! | backend | how a connection is accepted |
//! |---|---|
//! | io_uring (Linux 5.19+) | a multishot `IORING_OP_ACCEPT` kept armed on the listener (`driver::multishot`), its descriptors queued until taken; the peer's address from getpeername(2) |
//! | epoll | accept4(2) after readiness |
//!
//! Both are cancel safe: a connection is handed over only by the poll that returns it.

use std::io;
use std::sync::Arc;
use std::task::{ready, Context, Poll};

use socket2::{SockAddr, Socket};

use crate::driver::Interest;
use crate::driver::MultiAccept;
use crate::net::socket::Registered;

/// A listening socket and the way its connections are accepted.
#[derive(Debug)]
pub(crate) struct Acceptor {
    io: Registered,
    multishot: Option<Multishot>,
}

/// The multishot accept of an io_uring listener, cancelled when the listener goes.
#[derive(Debug)]
struct Multishot(Arc<MultiAccept>);

impl Drop for Multishot {
    fn drop(&mut self) {
        self.0.close();
    }
}

impl Acceptor {
    /// Accepts on `io`, a listening socket.
    pub(crate) fn new(io: Registered) -> Acceptor {
        let multishot = MultiAccept::new(io.source()).map(Multishot);
        Acceptor { io, multishot }
    }

    /// The listening socket.
    pub(crate) fn io(&self) -> &Registered {
        &self.io
    }

    /// The next connection, non-blocking and close-on-exec, with its peer's address.
    ///
    /// # Errors
    /// The accept4(2) error (`EMFILE`..., returned, never retried here); `Other` once the
    /// runtime has shut down.
    pub(crate) fn poll_accept(&self, cx: &mut Context<'_>) -> Poll<io::Result<(Socket, SockAddr)>> {
        let Some(Multishot(multi)) = &self.multishot else {
            return self.io.poll_io(cx, Interest::Readable, |sock| crate::sys::accept_nonblocking(sock));
        };
        loop {
            let socket = Socket::from(ready!(multi.poll_accept(cx))?);
            match socket.peer_addr() {
                Ok(addr) => return Poll::Ready(Ok((socket, addr))),
                // Reset by its client before it was taken: skipped, as accept4(2) skips
                // connections aborted in the backlog.
                Err(e) if e.raw_os_error() == Some(libc::ENOTCONN) => continue,
                Err(e) => return Poll::Ready(Err(e)),
            }
        }
    }

    /// Stops accepting (connections the kernel accepted and nobody took are closed) and
    /// gives the socket back, still non-blocking.
    ///
    /// # Errors
    /// The dup(2) error, if the cancelled multishot request still holds the descriptor.
    pub(crate) fn into_socket(self) -> io::Result<Socket> {
        drop(self.multishot);
        self.io.into_socket()
    }
}
