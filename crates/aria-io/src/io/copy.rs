//! [`copy`]: moving a stream from a reader to a writer, in the kernel when it can.
//!
//! # Paths
//!
//! The ends are recognised by their type (hence the `Any` bound):
//!
//! | reader \ writer | [`PipeWriter`] | [`File`] | anything else |
//! |---|---|---|---|
//! | [`PipeReader`] | splice(2), inline | splice(2) twice, through an intermediate pipe, on the blocking pool | buffered |
//! | [`File`] | splice(2) as an operation | splice(2) twice, through an intermediate pipe | buffered |
//! | anything else | buffered | buffered | buffered |
//!
//! - **Between two pipes** both ends are non-blocking, so the splice runs inline on the task
//!   once the side that blocked is ready (a zero-timeout poll(2) after `EAGAIN` tells which).
//! - **From a pipe into a file** a pump (see `splice.rs`) runs on one blocking-pool thread for
//!   as long as the pipe keeps producing, on every backend: it takes what the pipe holds
//!   with a pipe-to-pipe splice into a private intermediate pipe (no byte copied, the
//!   producer's pipe locked for microseconds), then splices that into the file while the
//!   producer keeps writing. Splicing the pipe straight into the file would hold the pipe's
//!   mutex for the whole file write and make the producer wait on it. When the pipe stays
//!   empty the task waits for its readiness, holding no thread.
//! - **From a file into a pipe** the splice is an operation of the driver:
//!   `IORING_OP_SPLICE` on io_uring, splice(2) on the blocking pool on epoll, because a file
//!   may block and readiness cannot tell. Before each one the task waits for the pipe's
//!   readiness, so an operation is only started when it can move bytes.
//! - A file takes part at its file position, which advances by the bytes moved, exactly as
//!   if they had been read or written.
//! - **Between two files** (any two descriptors neither of which is a pipe) the bytes go
//!   file -> intermediate pipe -> file: the kernel moves page references into the pipe and
//!   copies once out of it. The 1 MiB intermediate pipe comes from a small process-wide
//!   cache and goes back to it empty.
//! - **Buffered**: a 64 KiB buffer, for everything else, and when the kernel refuses a
//!   splice before any byte moved (`EINVAL`: a file system without splice support, or a file
//!   opened for append; `ENOSYS`, `EOPNOTSUPP`).
//!
//! Pipes taking part in a splice are grown to 1 MiB first (`F_SETPIPE_SZ`, within
//! `/proc/sys/fs/pipe-max-size`), which divides the number of system calls and wake-ups by up
//! to 16.

use std::any::Any;
use std::future::poll_fn;
use std::io;
use std::os::fd::{AsFd, BorrowedFd};
use std::pin::Pin;
use std::sync::Arc;

use futures_io::{AsyncRead, AsyncWrite};

use super::splice::{End, MidEnd, MidPipe, Pump, SpliceFd, SpliceOp, BATCH, CHUNK};
use super::{PipeReader, PipeWriter};
use crate::driver::op::Op;
use crate::driver::{Interest, IoSource};
use crate::fs::{with_path, File};
use crate::sys;

/// Size of the buffer of the portable path.
const BUF: usize = 64 * 1024;

/// Copies everything `reader` produces into `writer` until end of file, then flushes
/// `writer`; returns the number of bytes written to `writer`.
///
/// When both ends are descriptors the bytes never cross into user space:
///
/// - a [`PipeReader`] or a [`PipeWriter`] (such as a child's stdout or stdin) with the
///   other end a pipe or a [`File`]: splice(2) (from a pipe into a file, through an
///   intermediate 1 MiB pipe, so that the producer never waits for the file);
/// - two [`File`]s: splice(2) through an intermediate 1 MiB pipe.
///
/// Any other pair goes through a 64 KiB buffer, as does a pair the kernel refuses to splice
/// before any byte moved (`EINVAL`: a file opened for append, a file system without splice
/// support). A `File` is read or written at its file position, which ends up after the bytes
/// copied, as with reads and writes.
///
/// # Errors
/// The first read or write error: `BrokenPipe` when the reader of a pipe `writer` has gone
/// (`EPIPE`: the runtime ignores `SIGPIPE`), `WriteZero` if `writer` accepts no bytes, and
/// errors of a `File` end naming its path (``cannot copy into `/x`: No space left on device
/// (os error 28)``). The bytes counted before the error were delivered to `writer`; a copy
/// into a file may also have taken up to 1 MiB more from `reader` than it delivered (the
/// bytes of the failed write, which are lost).
///
/// # Cancel safety
/// Dropping the future stops the copy; the bytes already counted were delivered, and no
/// byte is lost, duplicated or reordered:
///
/// - A pipe `reader` with a `File` `writer`: when the drop returns, the copy has stopped
///   taking bytes from the pipe (the drop waits for a pipe-to-pipe splice in progress, a
///   matter of microseconds), so the caller reads exactly what the copy did not take. The
///   bytes already taken (at most 1 MiB) are still being written into the file, at its
///   position; the file's next operation waits for that write.
/// - Otherwise a splice in flight finishes or is cancelled in the kernel, so a `File` end may
///   be ahead of (reader) or behind (writer) by the bytes of that one operation, and its
///   next operation waits for it.
///
/// # Platform
/// splice(2) is Linux-only; elsewhere every copy would take the buffered path. Between two
/// pipes the splice runs inline on the task. From a pipe into a file it runs on one
/// blocking-pool thread per copy while the pipe produces, on every backend. From a file it is
/// `IORING_OP_SPLICE` on io_uring and runs on the blocking pool on epoll (a file may block).
///
/// # References
/// splice(2), fcntl(2) `F_SETPIPE_SZ`, pipe(7), io_uring_prep_splice(3)
pub async fn copy<R, W>(reader: &mut R, writer: &mut W) -> io::Result<u64>
where
    R: AsyncRead + Unpin + Any,
    W: AsyncWrite + Unpin + Any,
{
    let spliced = {
        let (r, w): (&mut dyn Any, &mut dyn Any) = (reader, writer);
        match (Source::of(r), Sink::of(w)) {
            (Some(Source::Pipe(src)), Some(Sink::Pipe(dst))) => splice_pipes(src, dst, sys::splice).await,
            (Some(Source::Pipe(src)), Some(Sink::File(dst))) => {
                pump_pipe_into_file(src.io_source(), dst).await
            }
            (Some(Source::File(src)), Some(Sink::Pipe(dst))) => splice_file_into_pipe(src, dst).await,
            (Some(Source::File(src)), Some(Sink::File(dst))) => splice_files(src, dst).await,
            _ => Spliced::Unsupported { carry: Vec::new() },
        }
    };
    match spliced {
        Spliced::Done(res) => res,
        Spliced::Unsupported { carry } => {
            write_all(writer, &carry).await?;
            Ok(carry.len() as u64 + copy_buffered(reader, writer).await?)
        }
    }
}

/// How a splice path ended.
enum Spliced {
    Done(io::Result<u64>),
    /// The kernel refused the splice before anything was delivered: take the buffered path,
    /// after writing `carry` (bytes already taken from the reader).
    Unsupported {
        carry: Vec<u8>,
    },
}

/// A reader whose descriptor can be spliced from.
enum Source<'a> {
    Pipe(&'a PipeReader),
    File(&'a mut File),
}

impl<'a> Source<'a> {
    fn of(r: &'a mut dyn Any) -> Option<Source<'a>> {
        if r.is::<PipeReader>() {
            // An always-ready descriptor wrapped as a pipe (a regular file, /dev/null) is
            // not a pipe to splice from, nor is a pipe whose next bytes are in user space
            // (received by a read dropped in flight: see `driver::registration`, the stash):
            // the buffered path, which reads them first.
            return r
                .downcast_ref::<PipeReader>()
                .filter(|p| {
                    p.io_source().registration().is_polled() && !p.io_source().registration().has_stash()
                })
                .map(Source::Pipe);
        }
        r.downcast_mut::<File>().map(Source::File)
    }
}

/// A writer whose descriptor can be spliced into (a closed [`PipeWriter`] cannot: the
/// buffered path reports `NotConnected`).
enum Sink<'a> {
    Pipe(&'a Arc<IoSource>),
    File(&'a mut File),
}

impl<'a> Sink<'a> {
    fn of(w: &'a mut dyn Any) -> Option<Sink<'a>> {
        if w.is::<PipeWriter>() {
            let source = w.downcast_ref::<PipeWriter>()?.io_source()?;
            return source.registration().is_polled().then_some(Sink::Pipe(source));
        }
        w.downcast_mut::<File>().map(Sink::File)
    }
}

/// Errors on which a splice falls back to the buffered path, if nothing moved yet.
pub(super) fn unsupported(e: &io::Error) -> bool {
    matches!(e.raw_os_error(), Some(libc::EINVAL | libc::ENOSYS | libc::EOPNOTSUPP))
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
        write_all(writer, &buf[..n]).await?;
        total += n as u64;
    }
    poll_fn(|cx| Pin::new(&mut *writer).poll_flush(cx)).await?;
    Ok(total)
}

async fn write_all<W: AsyncWrite + Unpin + ?Sized>(writer: &mut W, mut data: &[u8]) -> io::Result<()> {
    while !data.is_empty() {
        let n = poll_fn(|cx| Pin::new(&mut *writer).poll_write(cx, data)).await?;
        if n == 0 {
            return Err(io::ErrorKind::WriteZero.into());
        }
        data = &data[n..];
    }
    Ok(())
}

/// Pipe to file: runs of the [`Pump`] on the blocking pool, each started once the pipe is
/// ready (see `splice.rs`).
async fn pump_pipe_into_file(pipe: &Arc<IoSource>, file: &mut File) -> Spliced {
    let _ = sys::set_pipe_size(pipe.as_fd(), CHUNK);
    let mut pump = match Pump::new(pipe.clone()) {
        Ok(pump) => pump,
        Err(e) => return Spliced::Done(Err(e)),
    };
    let registration = pipe.registration();
    let mut total = 0u64;
    let mut pending = 0;
    let res = loop {
        let ev = match poll_fn(|cx| registration.poll_ready_or_shut_down(cx, Interest::Readable)).await {
            Ok(ev) => ev,
            Err(e) => break Err(e),
        };
        let file_ref = match file.settled_ref().await {
            Ok(r) => r,
            Err(e) => break Err(e),
        };
        let run = match pump.run(file_ref).await {
            Ok(run) => run,
            Err(e) => break Err(e),
        };
        total += run.delivered;
        match run.end {
            End::Eof => break Ok(total),
            End::Empty => registration.clear_readiness(ev),
            End::Idle => {}
            // Not a source splice(2) can read (a PipeReader made from a terminal, say).
            End::TakeFailed(e) if total == 0 && unsupported(&e) => {
                pump.finish(true);
                return Spliced::Unsupported { carry: Vec::new() };
            }
            End::TakeFailed(e) => break Err(e),
            End::DeliverFailed { error, pending: left } if total == 0 && unsupported(&error) => {
                // The file cannot be spliced into (`O_APPEND`, no splice support), but
                // bytes were taken from the pipe: hand them to the buffered path.
                let res = pump.mid().drain(left);
                pump.finish(res.is_ok());
                return match res {
                    Ok(carry) => Spliced::Unsupported { carry },
                    Err(e) => Spliced::Done(Err(e)),
                };
            }
            End::DeliverFailed { error, pending: left } => {
                pending = left;
                break Err(with_path(error, "copy into", file.path()));
            }
            End::Cancelled => break Err(io::Error::other("the copy's pump was cancelled")),
        }
    };
    pump.finish(pending == 0);
    Spliced::Done(res)
}

/// File to pipe, one splice operation at a time, each started once the pipe is writable.
async fn splice_file_into_pipe(file: &mut File, pipe: &Arc<IoSource>) -> Spliced {
    let _ = sys::set_pipe_size(pipe.as_fd(), CHUNK);
    let registration = pipe.registration();
    let mut total = 0u64;
    let res = loop {
        let ev = match poll_fn(|cx| registration.poll_ready_or_shut_down(cx, Interest::Writable)).await {
            Ok(ev) => ev,
            Err(e) => break Err(e),
        };
        let src = match file.settled_ref().await {
            Ok(r) => SpliceFd::File(r),
            Err(e) => break Err(e),
        };
        match Op::new(SpliceOp { src, dst: SpliceFd::Pipe(pipe.clone()), len: BATCH }).await.0 {
            Ok(0) => break Ok(total),
            Ok(n) => total += n as u64,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => registration.clear_readiness(ev),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) if total == 0 && unsupported(&e) => return Spliced::Unsupported { carry: Vec::new() },
            // EPIPE concerns the pipe: report it as it is.
            Err(e) if e.kind() == io::ErrorKind::BrokenPipe => break Err(e),
            Err(e) => break Err(with_path(e, "copy from", file.path())),
        }
    };
    Spliced::Done(res)
}

/// File to file through an intermediate pipe: fill it from `src`, drain it into `dst`.
async fn splice_files(src: &mut File, dst: &mut File) -> Spliced {
    let mid = match MidPipe::take() {
        Ok(mid) => Arc::new(mid),
        Err(e) => return Spliced::Done(Err(e)),
    };
    let capacity = mid.capacity();
    let mut total = 0u64;
    // Bytes in the intermediate pipe.
    let mut pending = 0usize;
    let res = loop {
        if pending == 0 {
            let from = match src.settled_ref().await {
                Ok(r) => SpliceFd::File(r),
                Err(e) => break Err(e),
            };
            let op = SpliceOp { src: from, dst: SpliceFd::Mid(mid.clone(), MidEnd::Write), len: capacity };
            match Op::new(op).await.0 {
                Ok(0) => break Ok(total),
                Ok(n) => pending = n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) if total == 0 && unsupported(&e) => return Spliced::Unsupported { carry: Vec::new() },
                Err(e) => break Err(with_path(e, "copy from", src.path())),
            }
        }
        let to = match dst.settled_ref().await {
            Ok(r) => SpliceFd::File(r),
            Err(e) => break Err(e),
        };
        let op = SpliceOp { src: SpliceFd::Mid(mid.clone(), MidEnd::Read), dst: to, len: pending };
        match Op::new(op).await.0 {
            Ok(0) => {
                let e = io::Error::new(io::ErrorKind::WriteZero, "the file accepted no more bytes");
                break Err(with_path(e, "copy into", dst.path()));
            }
            Ok(n) => {
                pending -= n;
                total += n as u64;
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) if total == 0 && unsupported(&e) => {
                // `dst` cannot be spliced into, but bytes were taken from `src`: hand them to
                // the buffered path (they are in the pipe, so this read does not block).
                return match mid.drain(pending) {
                    Ok(carry) => Spliced::Unsupported { carry },
                    Err(e) => Spliced::Done(Err(e)),
                };
            }
            Err(e) => break Err(with_path(e, "copy into", dst.path())),
        }
    };
    if pending == 0 {
        MidPipe::give_back(mid);
    }
    Spliced::Done(res)
}

/// The side of a pipe-to-pipe transfer that blocked last.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(super) enum Side {
    Src,
    Dst,
}

enum Step {
    Moved(usize),
    /// The other side is the one that blocks: wait on it instead.
    Switch(Side),
}

/// Pipe to pipe, inline: splices until end of input.
async fn splice_pipes(src: &PipeReader, dst: &Arc<IoSource>, splice: SpliceFn) -> Spliced {
    let _ = sys::set_pipe_size(src.as_fd(), CHUNK);
    let _ = sys::set_pipe_size(dst.as_fd(), CHUNK);
    let mut total = 0u64;
    let mut waiting = Side::Src;
    loop {
        match pipe_step(src.io_source(), dst, &mut waiting, splice).await {
            Ok(0) => return Spliced::Done(Ok(total)),
            Ok(n) => total += n as u64,
            // No splice(2) here (not Linux): nothing moved yet, so the buffered path.
            Err(e) if total == 0 && unsupported(&e) => return Spliced::Unsupported { carry: Vec::new() },
            Err(e) => return Spliced::Done(Err(e)),
        }
    }
}

/// splice(2) or tee(2), as `sys` offers them.
type SpliceFn = fn(BorrowedFd<'_>, BorrowedFd<'_>, usize) -> io::Result<usize>;

/// One non-blocking transfer `f(src, dst, CHUNK)` between two registered pipes (splice(2),
/// or tee(2), which copies without consuming), waiting for whichever side blocks: returns
/// the bytes moved, `0` at end of input. On `EAGAIN`, a zero-timeout poll(2) tells which
/// side blocks (the source is empty or the destination full), so the task waits for exactly
/// that side's readiness and never spins. `waiting` carries that side to the next call.
pub(super) async fn pipe_step(
    src: &IoSource,
    dst: &IoSource,
    waiting: &mut Side,
    f: SpliceFn,
) -> io::Result<usize> {
    let (src_fd, dst_fd) = (src.as_fd(), dst.as_fd());
    let attempt = |waiting: Side| -> io::Result<Step> {
        match f(src_fd, dst_fd, CHUNK) {
            Ok(n) => Ok(Step::Moved(n)),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                let (src_ready, dst_ready) = sys::poll_pair(src_fd, dst_fd)?;
                let blocked = match (src_ready, dst_ready) {
                    (false, _) => Side::Src,
                    (true, false) => Side::Dst,
                    // Changed meanwhile: try again at once.
                    (true, true) => return Ok(Step::Switch(waiting)),
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
        let side = *waiting;
        let step = poll_fn(|cx| match side {
            Side::Src => src.registration().poll_io(cx, Interest::Readable, || attempt(Side::Src)),
            Side::Dst => dst.registration().poll_io(cx, Interest::Writable, || attempt(Side::Dst)),
        })
        .await?;
        match step {
            Step::Moved(n) => return Ok(n),
            Step::Switch(side) => *waiting = side,
        }
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    /// What splice(2) answers where the kernel has none (see `sys::splice` on the BSDs).
    fn refused(_: BorrowedFd<'_>, _: BorrowedFd<'_>, _: usize) -> io::Result<usize> {
        Err(io::Error::from_raw_os_error(libc::EINVAL))
    }

    /// Without splice(2), a pipe-to-pipe copy takes the buffered path with every byte.
    #[test]
    fn a_refused_pipe_splice_falls_back_to_the_buffer_and_loses_nothing() {
        let rt = crate::Runtime::new().unwrap();
        rt.block_on(async {
            let (mut src, mut feed) = crate::io::pipe().unwrap();
            let (mut out, mut dst) = crate::io::pipe().unwrap();
            feed.write_all(b"through the buffer").await.unwrap();
            drop(feed);
            let sink = dst.io_source().unwrap().clone();
            let Spliced::Unsupported { carry } = splice_pipes(&src, &sink, refused).await else {
                panic!("a refused splice is no result");
            };
            assert!(carry.is_empty());
            drop(sink);
            let n = copy_buffered(&mut src, &mut dst).await.unwrap();
            drop(dst);
            let mut got = Vec::new();
            out.read_to_end(&mut got).await.unwrap();
            assert_eq!((n, &got[..]), (18, &b"through the buffer"[..]));
        });
    }
}
