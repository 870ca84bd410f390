//! [hyper] 1.x on aria-io (the `hyper` feature): the I/O adapter, executors and timer that
//! hyper's `rt` traits ask a runtime for, as `hyper-util`'s `TokioIo`, `TokioExecutor` and
//! `TokioTimer` do for tokio.
//!
//! [`TcpStream`](crate::net::TcpStream) and [`UnixStream`](crate::net::unix::UnixStream)
//! implement `hyper::rt::Read` and `hyper::rt::Write` themselves: hyper reads straight into
//! its own buffer, uninitialised, with no zeroing and no extra copy (recv(2) writes it). Any
//! other `futures-io` stream goes through [`HyperIo`].
//!
//! An HTTP/1 server and client on one connection (here a Unix socket pair; a
//! [`TcpStream`](crate::net::TcpStream) is used the same way):
//!
//! ```
//! use aria_io::hyper::{HyperExecutor, HyperIo, HyperTimer};
//! // The server end is served as it is; the client end shows the `HyperIo` adapter, which
//! // any futures-io stream can use.
//! use aria_io::net::unix::UnixStream;
//! use http_body_util::{BodyExt, Empty, Full};
//! use hyper::body::{Bytes, Incoming};
//! use hyper::{Request, Response};
//!
//! let rt = aria_io::Runtime::new()?;
//! rt.block_on(async {
//!     let (server_end, client_end) = UnixStream::pair()?;
//!     let hello = hyper::service::service_fn(|_req: Request<Incoming>| async {
//!         Ok::<_, std::convert::Infallible>(Response::new(Full::new(Bytes::from("Hello, world!"))))
//!     });
//!     aria_io::spawn(async move {
//!         let conn = hyper::server::conn::http1::Builder::new()
//!             .timer(HyperTimer::new())
//!             .serve_connection(server_end, hello);
//!         let _ = conn.await;
//!     });
//!
//!     let (mut sender, conn) =
//!         hyper::client::conn::http1::handshake(HyperIo::new(client_end)).await.map_err(std::io::Error::other)?;
//!     HyperExecutor::new().spawn(conn);
//!     sender.ready().await.map_err(std::io::Error::other)?;
//!     let req = Request::get("/").body(Empty::<Bytes>::new()).map_err(std::io::Error::other)?;
//!     let res = sender.send_request(req).await.map_err(std::io::Error::other)?;
//!     let body = res.into_body().collect().await.map_err(std::io::Error::other)?.to_bytes();
//!     assert_eq!(&body[..], b"Hello, world!");
//!     Ok::<_, std::io::Error>(())
//! })?;
//! # Ok::<_, std::io::Error>(())
//! ```
//!
//! On a thread-per-core runtime, give hyper's HTTP/2 builders a [`LocalExecutor`] from a
//! task on a core, so that the connection's tasks stay on that core.
//!
//! # References
//! <https://docs.rs/hyper/1/hyper/rt/index.html>

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use ::hyper::rt::{Executor, ReadBufCursor, Sleep as HyperSleep, Timer};
use futures_io::{AsyncRead, AsyncWrite};

use crate::sys;
use crate::time::{self, Sleep};

pin_project_lite::pin_project! {
    /// Any `futures-io` stream of this crate (or of the ecosystem) as a hyper connection:
    /// implements `hyper::rt::Read` when `T: AsyncRead` and `hyper::rt::Write` when
    /// `T: AsyncWrite`.
    ///
    /// Reads go straight into hyper's buffer (the kernel copies each byte once; up to 64 KiB
    /// of the buffer is zeroed first, since `AsyncRead` takes initialised memory). Writes
    /// pass hyper's slices through, vectored when the stream is.
    #[derive(Debug)]
    pub struct HyperIo<T> {
        #[pin]
        inner: T,
    }
}

impl<T> HyperIo<T> {
    /// Wraps `inner`.
    pub fn new(inner: T) -> HyperIo<T> {
        HyperIo { inner }
    }

    /// The wrapped stream.
    pub fn inner(&self) -> &T {
        &self.inner
    }

    /// The wrapped stream, mutably.
    pub fn inner_mut(&mut self) -> &mut T {
        &mut self.inner
    }

    /// Unwraps the stream.
    pub fn into_inner(self) -> T {
        self.inner
    }
}

/// `hyper::rt::Read` and `hyper::rt::Write` for a stream socket of this crate: reads into
/// hyper's uninitialised buffer (see the module docs), writes vectored where the stream's
/// are (sendmsg(2) for TCP), `poll_shutdown` shuts the write direction down.
macro_rules! hyper_stream {
    ($ty:ty, vectored: $vectored:expr) => {
        impl ::hyper::rt::Read for $ty {
            fn poll_read(
                self: Pin<&mut Self>,
                cx: &mut Context<'_>,
                mut buf: ReadBufCursor<'_>,
            ) -> Poll<io::Result<()>> {
                let io = self.get_mut().registered();
                sys::hyper_buf::read_uninit(&mut buf, |unfilled| io.poll_recv_uninit(cx, unfilled))
            }
        }

        impl ::hyper::rt::Write for $ty {
            fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
                AsyncWrite::poll_write(self, cx, buf)
            }

            fn poll_write_vectored(
                self: Pin<&mut Self>,
                cx: &mut Context<'_>,
                bufs: &[io::IoSlice<'_>],
            ) -> Poll<io::Result<usize>> {
                AsyncWrite::poll_write_vectored(self, cx, bufs)
            }

            fn is_write_vectored(&self) -> bool {
                $vectored
            }

            fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
                AsyncWrite::poll_flush(self, cx)
            }

            /// Shuts the write direction down (the peer reads end of file).
            fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
                AsyncWrite::poll_close(self, cx)
            }
        }
    };
}

hyper_stream!(crate::net::TcpStream, vectored: true);
hyper_stream!(crate::net::unix::UnixStream, vectored: false);

impl<T: AsyncRead> ::hyper::rt::Read for HyperIo<T> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        mut buf: ReadBufCursor<'_>,
    ) -> Poll<io::Result<()>> {
        let inner = self.project().inner;
        sys::hyper_buf::read_into(&mut buf, |slice| inner.poll_read(cx, slice))
    }
}

impl<T: AsyncWrite> ::hyper::rt::Write for HyperIo<T> {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        self.project().inner.poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        self.project().inner.poll_write_vectored(cx, bufs)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.project().inner.poll_flush(cx)
    }

    /// `AsyncWrite::poll_close`: for sockets, shuts down the write side (the peer reads end
    /// of file).
    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.project().inner.poll_close(cx)
    }
}

/// hyper's executor for the tasks of a connection (HTTP/2 streams, a client's connection
/// driver): [`crate::spawn`] on the runtime running on the calling thread.
///
/// # Panics
/// `execute` panics outside a runtime, as [`crate::spawn`] does; hyper calls it from the
/// task that drives the connection.
#[derive(Debug, Clone, Copy, Default)]
pub struct HyperExecutor(());

impl HyperExecutor {
    /// The executor.
    pub fn new() -> HyperExecutor {
        HyperExecutor(())
    }

    /// Spawns `fut`, detached (hyper's `Executor::execute`).
    pub fn spawn<F>(&self, fut: F)
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        drop(crate::spawn(fut));
    }
}

impl<F> Executor<F> for HyperExecutor
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    fn execute(&self, fut: F) {
        self.spawn(fut);
    }
}

/// hyper's executor for futures that are not `Send`, or that should stay on one core of a
/// thread-per-core runtime: [`crate::task::spawn_local`].
///
/// # Panics
/// `execute` panics outside a core of a thread-per-core runtime (see `spawn_local`).
#[derive(Debug, Clone, Copy, Default)]
pub struct LocalExecutor(());

impl LocalExecutor {
    /// The executor.
    pub fn new() -> LocalExecutor {
        LocalExecutor(())
    }
}

impl<F> Executor<F> for LocalExecutor
where
    F: Future + 'static,
    F::Output: Send + 'static,
{
    fn execute(&self, fut: F) {
        drop(crate::task::spawn_local(fut));
    }
}

/// hyper's timer (header read timeouts, keep-alive, HTTP/2 pings) on the runtime's timer
/// wheel: [`time::sleep`] with millisecond resolution.
#[derive(Debug, Clone, Copy, Default)]
pub struct HyperTimer(());

impl HyperTimer {
    /// The timer.
    pub fn new() -> HyperTimer {
        HyperTimer(())
    }
}

impl Timer for HyperTimer {
    fn sleep(&self, duration: Duration) -> Pin<Box<dyn HyperSleep>> {
        Box::pin(time::sleep(duration))
    }

    fn sleep_until(&self, deadline: Instant) -> Pin<Box<dyn HyperSleep>> {
        Box::pin(time::sleep_until(deadline))
    }

    fn reset(&self, sleep: &mut Pin<Box<dyn HyperSleep>>, new_deadline: Instant) {
        match sleep.as_mut().downcast_mut_pin::<Sleep>() {
            Some(ours) => ours.reset(new_deadline),
            None => *sleep = self.sleep_until(new_deadline),
        }
    }
}

impl HyperSleep for Sleep {}
