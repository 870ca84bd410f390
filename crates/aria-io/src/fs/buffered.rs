//! `AsyncRead` and `AsyncWrite` for [`File`], through an internal buffer.
//!
//! The `futures-io` traits lend the caller's buffer for one poll only, but the kernel (or a
//! pool thread) needs memory it owns until the operation completes. So `File` owns one
//! buffer of at most [`MAX_BUF`] bytes and moves it into each operation:
//!
//! - `poll_read` serves bytes left in the buffer, or starts a read of
//!   `max(len, 64 KiB)` (capped at `MAX_BUF`) at the file position into it and copies out
//!   what it returns; the rest is kept as read-ahead.
//! - `poll_write` copies up to `MAX_BUF` bytes into the buffer, starts writing all of it at
//!   the file position and returns at once: the write completes in the background. Its
//!   error, if any, is returned by the next `poll_write`, `poll_flush`, `poll_close` or
//!   `File` method.
//! - Before writing, and before any `File` method, read-ahead bytes are given back by moving
//!   the file position back over them (lseek(2) with `SEEK_CUR`, which never blocks), so the
//!   file position is always where the caller's view of the stream is.
//! - `poll_flush` and `poll_close` wait for the buffer's operation; they do not sync to the
//!   device (that is [`File::sync_all`]) and `poll_close` does not close the descriptor
//!   (dropping the `File` does).

use std::future::Future;
use std::io::{self, Seek, SeekFrom};
use std::pin::Pin;
use std::task::{Context, Poll};

use super::file::{write_all_owned, File};
use super::ops::ReadOp;
use super::shared::FileRef;
use super::with_path;
use crate::driver::op::Op;

/// The largest internal buffer (and so the most one `poll_write` accepts).
const MAX_BUF: usize = 2 * 1024 * 1024;
/// The smallest read `poll_read` issues.
const MIN_READ: usize = 64 * 1024;

/// The operation owning the buffer: a read, or the writes of all of it.
pub(super) struct BoxedOp {
    write: bool,
    fut: Pin<Box<dyn Future<Output = Completed> + Send + Sync>>,
}

/// The internal buffer, or the operation that owns it.
pub(super) enum Buffered {
    /// `data[pos..]` is read-ahead not yet returned (empty after a write).
    Idle {
        data: Vec<u8>,
        pos: usize,
    },
    Busy(BoxedOp),
}

impl Default for Buffered {
    fn default() -> Buffered {
        Buffered::Idle { data: Vec::new(), pos: 0 }
    }
}

pub(super) struct Completed {
    write: bool,
    res: io::Result<usize>,
    data: Vec<u8>,
}

impl File {
    /// Waits for the buffer's operation. A failed write returns its error; a failed read
    /// returns its error unless `discard_read_error` (nobody asked for that read-ahead).
    /// A successful read leaves its bytes as read-ahead.
    pub(super) fn poll_buffered(
        &mut self,
        cx: &mut Context<'_>,
        discard_read_error: bool,
    ) -> Poll<io::Result<()>> {
        let Buffered::Busy(op) = &mut self.buffered else { return Poll::Ready(Ok(())) };
        let Completed { write, res, mut data } = std::task::ready!(op.fut.as_mut().poll(cx));
        if write || res.is_err() {
            data.clear();
        }
        self.buffered = Buffered::Idle { data, pos: 0 };
        match res {
            Err(e) if write || !discard_read_error => Poll::Ready(Err(e)),
            _ => Poll::Ready(Ok(())),
        }
    }

    /// Gives read-ahead bytes back to the file position. Only when nothing is in flight.
    pub(super) fn unread(&mut self) -> io::Result<()> {
        let Buffered::Idle { data, pos } = &mut self.buffered else { return Ok(()) };
        let unread = data.len() - *pos;
        if unread > 0 {
            // On a file that cannot seek (a FIFO, a terminal) this fails with ESPIPE and the
            // read-ahead is kept, still served by `poll_read`, rather than lost.
            let back = -i64::try_from(unread).unwrap_or(i64::MAX);
            if let Err(e) = (&mut self.shared.file()).seek(SeekFrom::Current(back)) {
                return Err(with_path(e, "seek", self.shared.path()));
            }
        }
        data.clear();
        *pos = 0;
        Ok(())
    }

    /// Takes the (emptied) buffer out of the `Idle` state.
    fn take_buffer(&mut self) -> Vec<u8> {
        match &mut self.buffered {
            Buffered::Idle { data, pos } => {
                *pos = 0;
                let mut data = std::mem::take(data);
                data.clear();
                data
            }
            Buffered::Busy(_) => Vec::new(),
        }
    }
}

impl futures_io::AsyncRead for File {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, dst: &mut [u8]) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        loop {
            if let Buffered::Busy(op) = &this.buffered {
                let was_read = !op.write;
                std::task::ready!(this.poll_buffered(cx, false))?;
                if let (true, Buffered::Idle { data, .. }) = (was_read, &this.buffered) {
                    if data.is_empty() {
                        return Poll::Ready(Ok(0)); // the read returned 0: end of file
                    }
                }
                continue;
            }
            if let Buffered::Idle { data, pos } = &mut this.buffered {
                if *pos < data.len() {
                    let n = (data.len() - *pos).min(dst.len());
                    dst[..n].copy_from_slice(&data[*pos..*pos + n]);
                    *pos += n;
                    return Poll::Ready(Ok(n));
                }
            }
            if dst.is_empty() {
                return Poll::Ready(Ok(0));
            }
            std::task::ready!(this.shared.poll_idle(cx));
            let mut buf = this.take_buffer();
            buf.reserve(dst.len().clamp(MIN_READ, MAX_BUF));
            let op = Op::new(ReadOp { file: FileRef::new(&this.shared), buf, offset: None });
            let shared = this.shared.clone();
            let fut = Box::pin(async move {
                let (res, op) = op.await;
                let res = res.map_err(|e| with_path(e, "read", shared.path()));
                Completed { write: false, res, data: op.buf }
            });
            this.buffered = Buffered::Busy(BoxedOp { write: false, fut });
        }
    }
}

impl futures_io::AsyncWrite for File {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, src: &[u8]) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        std::task::ready!(this.poll_buffered(cx, true))?;
        if src.is_empty() {
            return Poll::Ready(Ok(0));
        }
        std::task::ready!(this.shared.poll_idle(cx));
        this.unread()?;
        let n = src.len().min(MAX_BUF);
        let mut buf = this.take_buffer();
        buf.extend_from_slice(&src[..n]);
        let shared = this.shared.clone();
        let fut = Box::pin(async move {
            // Detached: data already reported written is not cancelled if the file is dropped.
            let (res, data) = write_all_owned(&shared, buf, None, true).await;
            Completed { write: true, res: res.map(|()| n), data }
        });
        this.buffered = Buffered::Busy(BoxedOp { write: true, fut });
        // Poll once so the write is submitted now, not at the next call (which may never come).
        match this.poll_buffered(cx, true) {
            Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
            _ => Poll::Ready(Ok(n)),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        std::task::ready!(this.poll_buffered(cx, true))?;
        this.shared.poll_idle(cx).map(Ok)
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.poll_flush(cx)
    }
}
