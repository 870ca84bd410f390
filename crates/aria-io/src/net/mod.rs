//! Networking on the runtime's driver: TCP, UDP and Unix-domain sockets, and name lookup.
//!
//! Every socket is non-blocking, close-on-exec, and registered with the driver of the
//! runtime it was created in (`socket` below), so it is usable from any task of that
//! runtime; the types are `Send`.
//!
//! An echo server and a client, on any free port of the loopback interface:
//!
//! ```
//! use aria_io::net::{TcpListener, TcpStream};
//! use futures_util::{AsyncReadExt, AsyncWriteExt};
//!
//! aria_io::Runtime::new()?.block_on(async {
//!     let listener = TcpListener::bind("127.0.0.1:0").await?;
//!     let addr = listener.local_addr()?;
//!     aria_io::spawn(async move {
//!         while let Ok((mut stream, _)) = listener.accept().await {
//!             aria_io::spawn(async move {
//!                 let (mut reader, mut writer) = stream.into_split();
//!                 futures_util::io::copy(&mut reader, &mut writer).await?;
//!                 writer.close().await // end of file for the client
//!             });
//!         }
//!     });
//!     let mut client = TcpStream::connect(addr).await?;
//!     client.write_all(b"hello").await?;
//!     client.close().await?; // shutdown(SHUT_WR): the server's copy ends
//!     let mut echoed = Vec::new();
//!     client.read_to_end(&mut echoed).await?;
//!     assert_eq!(echoed, b"hello");
//!     Ok::<_, std::io::Error>(())
//! })?;
//! # Ok::<_, std::io::Error>(())
//! ```
//!
//! # TCP
//!
//! [`TcpListener`] accepts connections, [`TcpStream`] is one (the `futures-io` traits, and
//! owned-buffer operations that are io_uring submissions), [`TcpSocket`] sets the options
//! that must precede bind(2), listen(2) or connect(2). Addresses are anything
//! [`ToSocketAddrs`]: a literal resolves at once, a host name with getaddrinfo(3) on the
//! blocking pool ([`lookup_host`]).
//!
//! The API follows tokio's `tokio::net` (names, arguments, cancel safety), except where an
//! item says otherwise: [`TcpStream::into_std`] and [`TcpListener::from_std`] handle
//! `O_NONBLOCK` for you, the owned-buffer operations are extra, and `set_linger` with a
//! non-zero time (which makes close(2) block) is replaced by
//! [`TcpStream::set_zero_linger`].
//!
//! # Thread-per-core: one listener per core
//!
//! On the thread-per-core scheduler each core has its own driver, and a socket stays with
//! the driver of the core it was created on. To serve on every core, bind one listener per
//! core on the same address with `SO_REUSEPORT` ([`TcpSocket::set_reuseport`]), each in a
//! task on its core ([`Handle::spawn_on`](crate::Handle::spawn_on)): the kernel spreads new
//! connections among the listeners (by a hash of the connection's addresses), and each
//! connection is then served on the core that accepted it, with no cross-core hand-off.
//! A single listener shared by all cores would wake one core for every connection and
//! serve them all from its driver.
//!
//! ```
//! use std::net::SocketAddr;
//! use aria_io::net::{TcpListener, TcpSocket, TcpStream};
//! use futures_util::{AsyncReadExt, AsyncWriteExt};
//!
//! /// This core's listener on `addr`, sharing the port with the other cores' listeners.
//! fn listener(addr: SocketAddr) -> std::io::Result<TcpListener> {
//!     let socket = if addr.is_ipv4() { TcpSocket::new_v4()? } else { TcpSocket::new_v6()? };
//!     socket.set_reuseaddr(true)?;
//!     socket.set_reuseport(true)?;
//!     socket.bind(addr)?;
//!     socket.listen(1024)
//! }
//!
//! /// Binds on the calling core and serves there, one local task per connection.
//! fn serve_on_this_core(addr: SocketAddr) -> std::io::Result<SocketAddr> {
//!     let listener = listener(addr)?;
//!     let bound = listener.local_addr()?;
//!     aria_io::task::spawn_local(async move {
//!         while let Ok((stream, _)) = listener.accept().await {
//!             aria_io::task::spawn_local(async move {
//!                 let (mut r, mut w) = stream.into_split();
//!                 futures_util::io::copy(&mut r, &mut w).await?;
//!                 w.close().await
//!             });
//!         }
//!     });
//!     Ok(bound)
//! }
//!
//! let rt = aria_io::Builder::new_thread_per_core().worker_threads(2).build()?;
//! let handle = rt.handle();
//! rt.block_on(async move {
//!     // Core 0 binds a free port; every other core binds the same one.
//!     let any: SocketAddr = "127.0.0.1:0".parse().unwrap();
//!     let addr = handle.spawn_on(0, move || async move { serve_on_this_core(any) }).await.unwrap()?;
//!     for core in 1..handle.cores().unwrap() {
//!         handle.spawn_on(core, move || async move { serve_on_this_core(addr) }).await.unwrap()?;
//!     }
//!     for _ in 0..4 {
//!         let mut client = TcpStream::connect(addr).await?;
//!         client.write_all(b"any core").await?;
//!         client.close().await?;
//!         let mut echoed = Vec::new();
//!         client.read_to_end(&mut echoed).await?;
//!         assert_eq!(echoed, b"any core");
//!     }
//!     Ok::<_, std::io::Error>(())
//! })?;
//! # Ok::<_, std::io::Error>(())
//! ```

mod socket;

mod accept;
mod addr;
pub(crate) mod ops;
mod tcp;
mod udp;
pub mod unix;

pub use addr::{lookup_host, ToSocketAddrs};
pub use tcp::{
    Incoming, OwnedReadHalf, OwnedWriteHalf, ReadHalf, ReuniteError, TcpListener, TcpSocket, TcpStream,
    WriteHalf,
};
pub use udp::UdpSocket;
