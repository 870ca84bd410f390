use std::io;
use std::net::Shutdown;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use super::UnixStream;

/// The reading half of a [`UnixStream`], borrowed ([`UnixStream::split`]); implements
/// [`futures_io::AsyncRead`].
#[derive(Debug)]
pub struct ReadHalf<'a>(&'a UnixStream);

/// The writing half of a [`UnixStream`], borrowed ([`UnixStream::split`]); implements
/// [`futures_io::AsyncWrite`]. Its `close` shuts the write direction down.
#[derive(Debug)]
pub struct WriteHalf<'a>(&'a UnixStream);

impl<'a> ReadHalf<'a> {
    pub(crate) fn new(stream: &'a UnixStream) -> ReadHalf<'a> {
        ReadHalf(stream)
    }
}

impl<'a> WriteHalf<'a> {
    pub(crate) fn new(stream: &'a UnixStream) -> WriteHalf<'a> {
        WriteHalf(stream)
    }
}

/// The reading half of a [`UnixStream`], owned ([`UnixStream::into_split`]); implements
/// [`futures_io::AsyncRead`].
#[derive(Debug)]
pub struct OwnedReadHalf(Arc<UnixStream>);

/// The writing half of a [`UnixStream`], owned ([`UnixStream::into_split`]); implements
/// [`futures_io::AsyncWrite`]. Dropping it (or its `close`) shuts the write direction down,
/// so the peer reads end of file even while the [`OwnedReadHalf`] lives on.
#[derive(Debug)]
pub struct OwnedWriteHalf(Arc<UnixStream>);

pub(crate) fn into_split(stream: UnixStream) -> (OwnedReadHalf, OwnedWriteHalf) {
    let stream = Arc::new(stream);
    (OwnedReadHalf(stream.clone()), OwnedWriteHalf(stream))
}

impl Drop for OwnedWriteHalf {
    fn drop(&mut self) {
        // ENOTCONN if the peer is gone already: nothing to report from a drop.
        let _ = self.0.shutdown(Shutdown::Write);
    }
}

macro_rules! halves {
    ($read:ty, $write:ty) => {
        impl futures_io::AsyncRead for $read {
            fn poll_read(
                self: Pin<&mut Self>,
                cx: &mut Context<'_>,
                buf: &mut [u8],
            ) -> Poll<io::Result<usize>> {
                self.0.poll_read_priv(cx, buf)
            }
        }

        impl futures_io::AsyncWrite for $write {
            fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
                self.0.poll_write_priv(cx, buf)
            }

            fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
                Poll::Ready(Ok(()))
            }

            /// Shuts down the write direction of the whole stream.
            fn poll_close(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
                Poll::Ready(self.0.shutdown(Shutdown::Write))
            }
        }

        impl AsRef<UnixStream> for $read {
            fn as_ref(&self) -> &UnixStream {
                &self.0
            }
        }

        impl AsRef<UnixStream> for $write {
            fn as_ref(&self) -> &UnixStream {
                &self.0
            }
        }
    };
}

halves!(ReadHalf<'_>, WriteHalf<'_>);
halves!(OwnedReadHalf, OwnedWriteHalf);
