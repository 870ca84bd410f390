//! The halves of a [`TcpStream`]: borrowed ([`TcpStream::split`]) and owned
//! ([`TcpStream::into_split`]).

use std::error::Error;
use std::fmt;
use std::io::{self, IoSlice};
use std::net::{Shutdown, SocketAddr};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use super::stream::TcpStream;
use crate::net::ops::{read_owned, write_all_owned, write_owned};

pub(super) fn split(stream: &mut TcpStream) -> (ReadHalf<'_>, WriteHalf<'_>) {
    (ReadHalf(stream), WriteHalf(stream))
}

pub(super) fn into_split(stream: Arc<TcpStream>) -> (OwnedReadHalf, OwnedWriteHalf) {
    (OwnedReadHalf { inner: stream.clone() }, OwnedWriteHalf { inner: stream, shutdown_on_drop: true })
}

/// The read half of a [`TcpStream`] borrowed by [`TcpStream::split`]: implements
/// [`futures_io::AsyncRead`].
#[derive(Debug)]
pub struct ReadHalf<'a>(&'a TcpStream);

/// The write half of a [`TcpStream`] borrowed by [`TcpStream::split`]: implements
/// [`futures_io::AsyncWrite`], whose `close` shuts down the write side of the stream.
#[derive(Debug)]
pub struct WriteHalf<'a>(&'a TcpStream);

/// The read half of a [`TcpStream`] made by [`TcpStream::into_split`]: implements
/// [`futures_io::AsyncRead`] and can move to another task than its [`OwnedWriteHalf`].
#[derive(Debug)]
pub struct OwnedReadHalf {
    inner: Arc<TcpStream>,
}

/// The write half of a [`TcpStream`] made by [`TcpStream::into_split`]: implements
/// [`futures_io::AsyncWrite`].
///
/// Dropping it shuts down the write side of the stream (`shutdown(SHUT_WR)`: the peer
/// reads end of file), unless it was put back with [`OwnedReadHalf::reunite`] or given up
/// with [`forget`](OwnedWriteHalf::forget). The socket itself closes when both halves are
/// dropped.
#[derive(Debug)]
pub struct OwnedWriteHalf {
    inner: Arc<TcpStream>,
    shutdown_on_drop: bool,
}

/// The error of [`OwnedReadHalf::reunite`] given halves of two different streams; it gives
/// both halves back.
#[derive(Debug)]
pub struct ReuniteError(pub OwnedReadHalf, pub OwnedWriteHalf);

impl fmt::Display for ReuniteError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("tried to reunite halves that are not from the same TcpStream")
    }
}

impl Error for ReuniteError {}

/// The methods both kinds of read halves share, on the stream they read.
macro_rules! read_half_methods {
    () => {
        /// [`TcpStream::peek`].
        ///
        /// # Errors
        /// As [`TcpStream::peek`].
        ///
        /// # Cancel safety
        /// Cancel-safe.
        pub async fn peek(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            self.stream().peek(buf).await
        }

        /// [`TcpStream::readable`].
        ///
        /// # Errors
        /// As [`TcpStream::readable`].
        ///
        /// # Cancel safety
        /// Cancel-safe.
        pub async fn readable(&self) -> io::Result<()> {
            self.stream().readable().await
        }

        /// [`TcpStream::try_read`].
        ///
        /// # Errors
        /// As [`TcpStream::try_read`] (`WouldBlock` when nothing is available).
        pub fn try_read(&self, buf: &mut [u8]) -> io::Result<usize> {
            self.stream().try_read(buf)
        }

        /// [`TcpStream::read_owned`].
        ///
        /// # Errors
        /// As [`TcpStream::read_owned`].
        ///
        /// # Cancel safety
        /// As [`TcpStream::read_owned`]: cancel safe (on io_uring, bytes a dropped call
        /// received are returned by the next read of the stream).
        pub async fn read_owned(&mut self, buf: Vec<u8>) -> (io::Result<usize>, Vec<u8>) {
            read_owned(self.stream().registered(), buf).await
        }

        /// The local address of the stream.
        ///
        /// # Errors
        /// The getsockname(2) error.
        pub fn local_addr(&self) -> io::Result<SocketAddr> {
            self.stream().local_addr()
        }

        /// The remote address of the stream.
        ///
        /// # Errors
        /// The getpeername(2) error.
        pub fn peer_addr(&self) -> io::Result<SocketAddr> {
            self.stream().peer_addr()
        }
    };
}

/// The methods both kinds of write halves share.
macro_rules! write_half_methods {
    () => {
        /// [`TcpStream::writable`].
        ///
        /// # Errors
        /// As [`TcpStream::writable`].
        ///
        /// # Cancel safety
        /// Cancel-safe.
        pub async fn writable(&self) -> io::Result<()> {
            self.stream().writable().await
        }

        /// [`TcpStream::try_write`].
        ///
        /// # Errors
        /// As [`TcpStream::try_write`] (`WouldBlock` when the send buffer is full).
        pub fn try_write(&self, buf: &[u8]) -> io::Result<usize> {
            self.stream().try_write(buf)
        }

        /// [`TcpStream::write_owned`].
        ///
        /// # Errors
        /// As [`TcpStream::write_owned`].
        ///
        /// # Cancel safety
        /// As [`TcpStream::write_owned`].
        pub async fn write_owned(&mut self, buf: Vec<u8>) -> (io::Result<usize>, Vec<u8>) {
            write_owned(self.stream().registered(), buf).await
        }

        /// [`TcpStream::write_all_owned`].
        ///
        /// # Errors
        /// As [`TcpStream::write_all_owned`].
        ///
        /// # Cancel safety
        /// Not cancel-safe, as [`TcpStream::write_all_owned`].
        pub async fn write_all_owned(&mut self, buf: Vec<u8>) -> (io::Result<()>, Vec<u8>) {
            write_all_owned(self.stream().registered(), buf).await
        }

        /// The local address of the stream.
        ///
        /// # Errors
        /// The getsockname(2) error.
        pub fn local_addr(&self) -> io::Result<SocketAddr> {
            self.stream().local_addr()
        }

        /// The remote address of the stream.
        ///
        /// # Errors
        /// The getpeername(2) error.
        pub fn peer_addr(&self) -> io::Result<SocketAddr> {
            self.stream().peer_addr()
        }
    };
}

impl ReadHalf<'_> {
    fn stream(&self) -> &TcpStream {
        self.0
    }
    read_half_methods!();
}

impl WriteHalf<'_> {
    fn stream(&self) -> &TcpStream {
        self.0
    }
    write_half_methods!();
}

impl OwnedReadHalf {
    fn stream(&self) -> &TcpStream {
        &self.inner
    }
    read_half_methods!();

    /// Puts the halves back together into the [`TcpStream`] they were split from (the write
    /// half's drop-time shutdown is cancelled).
    ///
    /// # Errors
    /// [`ReuniteError`], with both halves, if `other` comes from another stream.
    pub fn reunite(self, other: OwnedWriteHalf) -> Result<TcpStream, ReuniteError> {
        if !Arc::ptr_eq(&self.inner, &other.inner) {
            return Err(ReuniteError(self, other));
        }
        other.forget();
        match Arc::try_unwrap(self.inner) {
            Ok(stream) => Ok(stream),
            Err(_) => unreachable!("the two halves were the only references to the stream"),
        }
    }
}

impl OwnedWriteHalf {
    fn stream(&self) -> &TcpStream {
        &self.inner
    }
    write_half_methods!();

    /// Drops the write half **without** shutting down the write side: the stream stays
    /// open for writing until the read half is dropped too.
    pub fn forget(mut self) {
        self.shutdown_on_drop = false;
    }

    /// Puts the halves back together (see [`OwnedReadHalf::reunite`]).
    ///
    /// # Errors
    /// [`ReuniteError`], with both halves, if `other` comes from another stream.
    pub fn reunite(self, other: OwnedReadHalf) -> Result<TcpStream, ReuniteError> {
        other.reunite(self)
    }
}

impl Drop for OwnedWriteHalf {
    fn drop(&mut self) {
        if self.shutdown_on_drop {
            // Nothing to report to: the connection may be gone already (ENOTCONN).
            let _ = self.inner.shutdown(Shutdown::Write);
        }
    }
}

impl AsRef<TcpStream> for ReadHalf<'_> {
    fn as_ref(&self) -> &TcpStream {
        self.0
    }
}

impl AsRef<TcpStream> for WriteHalf<'_> {
    fn as_ref(&self) -> &TcpStream {
        self.0
    }
}

impl AsRef<TcpStream> for OwnedReadHalf {
    fn as_ref(&self) -> &TcpStream {
        &self.inner
    }
}

impl AsRef<TcpStream> for OwnedWriteHalf {
    fn as_ref(&self) -> &TcpStream {
        &self.inner
    }
}

macro_rules! async_read {
    ($($t:ty),*) => {$(
        impl futures_io::AsyncRead for $t {
            fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
                self.stream().poll_read_priv(cx, buf)
            }
        }
    )*};
}

macro_rules! async_write {
    ($($t:ty),*) => {$(
        impl futures_io::AsyncWrite for $t {
            fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
                self.stream().poll_write_priv(cx, buf)
            }

            fn poll_write_vectored(
                self: Pin<&mut Self>,
                cx: &mut Context<'_>,
                bufs: &[IoSlice<'_>],
            ) -> Poll<io::Result<usize>> {
                self.stream().poll_write_vectored_priv(cx, bufs)
            }

            fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
                Poll::Ready(Ok(()))
            }

            /// Shuts down the write side of the stream (`shutdown(SHUT_WR)`).
            fn poll_close(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
                Poll::Ready(self.stream().shutdown(Shutdown::Write))
            }
        }
    )*};
}

async_read!(ReadHalf<'_>, OwnedReadHalf);
async_write!(WriteHalf<'_>, OwnedWriteHalf);
