//! [`copy`]: moving a stream from a reader to a writer, in the kernel when it can.

use std::any::Any;
use std::future::poll_fn;
use std::io;
use std::os::fd::{AsFd, BorrowedFd};
use std::pin::Pin;

use futures_io::{AsyncRead, AsyncWrite};

use super::{PipeReader, PipeWriter};
use crate::driver::{Interest, Registration};
use crate::sys;

/// Size of the buffer of the portable path.
const BUF: usize = 64 * 1024;
/// Bytes asked of one splice(2), and the pipe size requested with `F_SETPIPE_SZ` (the
/// default `/proc/sys/fs/pipe-max-size`).
const SPLICE_CHUNK: usize = 1 << 20;

/// Copies everything `reader` produces into `writer` until end of file, then flushes
/// `writer`; returns the number of bytes copied.
///
/// When both ends are descriptors and at least one is a pipe (today: [`PipeReader`] and
/// [`PipeWriter`], such as a child's stdout or stdin), the data moves with splice(2) and never
/// crosses into user space; the pipes' buffers are first grown to 1 MiB (`F_SETPIPE_SZ`,
/// within `/proc/sys/fs/pipe-max-size`), which cuts the number of wake-ups. Otherwise the
/// bytes go through a 64 KiB buffer. The ends are recognised by their type, hence the
/// `'static` bound.
///
/// # Errors
/// The first read or write error: `BrokenPipe` when the reader of a pipe `writer` has gone,
/// `WriteZero` if `writer` accepts no bytes. Bytes copied before the error were delivered.
///
/// # Platform
/// splice is Linux-only; elsewhere every copy takes the buffered path.
///
/// # References
/// splice(2), fcntl(2) `F_SETPIPE_SZ`, pipe(7)
pub async fn copy<R, W>(reader: &mut R, writer: &mut W) -> io::Result<u64>
where
    R: AsyncRead + Unpin + Any,
    W: AsyncWrite + Unpin + Any,
{
    if let (Some(src), Some(dst)) = (End::source(reader), End::sink(writer)) {
        return splice_all(src, dst).await;
    }
    copy_buffered(reader, writer).await
}

/// The portable path of [`copy`]: read into a buffer, write it out.
async fn copy_buffered<R, W>(reader: &mut R, writer: &mut W) -> io::Result<u64>
where
    R: AsyncRead + Unpin + ?Sized,
    W: AsyncWrite + Unpin + ?Sized,
{
    let mut buf = vec![0u8; BUF];
    let mut total = 0u64;
    loop {
        let n = poll_fn(|cx| Pin::new(&mut *reader).poll_read(cx, &mut buf)).await?;
        if n == 0 {
            break;
        }
        let mut done = 0;
        while done < n {
            let w = poll_fn(|cx| Pin::new(&mut *writer).poll_write(cx, &buf[done..n])).await?;
            if w == 0 {
                return Err(io::ErrorKind::WriteZero.into());
            }
            done += w;
        }
        total += n as u64;
    }
    poll_fn(|cx| Pin::new(&mut *writer).poll_flush(cx)).await?;
    Ok(total)
}

/// One end of a splice: a descriptor and, for a pipe, its readiness registration.
struct End<'a> {
    fd: BorrowedFd<'a>,
    registration: &'a Registration,
}

impl<'a> End<'a> {
    fn source(r: &'a mut dyn Any) -> Option<End<'a>> {
        let r = r.downcast_ref::<PipeReader>()?;
        let _ = r.set_pipe_size(SPLICE_CHUNK);
        Some(End { fd: r.as_fd(), registration: r.registration() })
    }

    fn sink(w: &'a mut dyn Any) -> Option<End<'a>> {
        let w = w.downcast_ref::<PipeWriter>()?;
        let (fd, registration) = w.parts()?;
        let _ = sys::set_pipe_size(fd, SPLICE_CHUNK);
        Some(End { fd, registration })
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Side {
    Src,
    Dst,
}

enum Step {
    Moved(usize),
    Eof,
    /// The other side is the one that blocks: wait on it instead.
    Switch(Side),
}

/// Splices until end of input. On `EAGAIN`, a zero-timeout poll(2) tells which side blocks
/// (the source is empty or the destination full) so the copy waits for exactly that side's
/// readiness and never spins.
async fn splice_all(src: End<'_>, dst: End<'_>) -> io::Result<u64> {
    let mut total = 0u64;
    let mut waiting = Side::Src;
    let attempt = |waiting: Side| -> io::Result<Step> {
        match sys::splice(src.fd, dst.fd, SPLICE_CHUNK) {
            Ok(0) => Ok(Step::Eof),
            Ok(n) => Ok(Step::Moved(n)),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                let (src_ready, dst_ready) = sys::poll_pair(src.fd, dst.fd)?;
                let blocked = match (src_ready, dst_ready) {
                    (false, _) => Side::Src,
                    (true, false) => Side::Dst,
                    (true, true) => return Ok(Step::Moved(0)), // changed meanwhile: retry
                };
                if blocked == waiting {
                    Err(e) // let the registration clear its readiness and wait
                } else {
                    Ok(Step::Switch(blocked))
                }
            }
            Err(e) => Err(e),
        }
    };
    loop {
        let step = poll_fn(|cx| match waiting {
            Side::Src => src.registration.poll_io(cx, Interest::Readable, || attempt(Side::Src)),
            Side::Dst => dst.registration.poll_io(cx, Interest::Writable, || attempt(Side::Dst)),
        })
        .await?;
        match step {
            Step::Moved(n) => total += n as u64,
            Step::Eof => return Ok(total),
            Step::Switch(side) => waiting = side,
        }
    }
}
