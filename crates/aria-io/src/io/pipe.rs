use std::fmt;
use std::future::poll_fn;
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd, RawFd};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use crate::driver::op::{Op, OpCode};
use crate::driver::registration::{short_read, AbandonedRead};
use crate::driver::{Interest, IoSource};
use crate::sys;

/// Creates an anonymous pipe whose two ends are registered with the current runtime, and
/// returns them as `(reader, writer)`, in the order of `std::io::pipe()`. Both ends are
/// close-on-exec and non-blocking.
///
/// Either end can be given to a child as one of its streams (`impl From<PipeWriter> for
/// Stdio`): the spawn hands the child its own copy, in blocking mode, and closes the
/// parent's, so the reader sees end of file once the child (and every process it passed the
/// descriptor on to) has closed it.
///
/// ```
/// use aria_io::process::Command;
///
/// let rt = aria_io::Runtime::new()?;
/// rt.block_on(async {
///     let (mut reader, writer) = aria_io::io::pipe()?;
///     let mut child = Command::new("echo").arg("through a pipe").stdout(writer).spawn()?;
///
///     let mut out = Vec::new();
///     reader.read_to_end(&mut out).await?; // end of file: the child exited
///     assert_eq!(out, b"through a pipe\n");
///     assert!(child.wait().await?.success());
///     Ok::<_, std::io::Error>(())
/// })?;
/// # Ok::<_, std::io::Error>(())
/// ```
///
/// # Errors
/// `EMFILE`/`ENFILE` from pipe2(2); `Other` outside a runtime; the error registering an end
/// with the driver (on epoll, epoll_ctl(2): `ENOSPC` past `/proc/sys/fs/epoll/max_user_watches`,
/// `ENOMEM`).
///
/// # Platform
/// The pipe has the kernel's default capacity (16 pages: 64 KiB with 4 KiB pages, see
/// pipe(7)); [`PipeReader::set_pipe_size`] grows it. A write of at most `PIPE_BUF` (4096)
/// bytes is atomic.
///
/// # References
/// pipe(7), pipe2(2)
pub fn pipe() -> io::Result<(PipeReader, PipeWriter)> {
    let (r, w) = sys::pipe_nonblocking()?;
    let reader = PipeReader { source: Arc::new(IoSource::new_pollable(r)?) };
    let writer = PipeWriter { source: Some(Arc::new(IoSource::new_pollable(w)?)) };
    Ok((reader, writer))
}

/// Registers one end of a pipe this crate just created (blocking, no other status flag):
/// non-blocking, pollable, with no check of what it is.
fn register_pipe_end(fd: OwnedFd) -> io::Result<Arc<IoSource>> {
    sys::set_status_flags(fd.as_fd(), libc::O_NONBLOCK)?;
    Ok(Arc::new(IoSource::new_pollable(fd)?))
}

/// Registers `fd` with the current runtime: a descriptor the kernel can poll (a pipe, a
/// socket, a terminal) in non-blocking mode, for the readiness path; one it cannot (a
/// regular file, `/dev/null`) in blocking mode, as always ready (see
/// [`PipeReader::from_owned_fd`]).
fn register(fd: OwnedFd) -> io::Result<Arc<IoSource>> {
    let raw = fd.as_raw_fd();
    let source = IoSource::new(fd)?;
    // Blocking mode for an always-ready descriptor, whatever it was given in: read(2) ignores
    // O_NONBLOCK on a regular file, but io_uring does not (a read the file system cannot do
    // without waiting would fail with EAGAIN instead of going to the kernel's workers).
    let nonblocking = source.registration().is_polled();
    sys::set_nonblocking(source.as_fd(), nonblocking).map_err(|e| {
        let verb = if nonblocking { "set" } else { "clear" };
        sys::context(e, format!("cannot {verb} O_NONBLOCK on fd {raw} (fcntl F_SETFL)"))
    })?;
    Ok(Arc::new(source))
}

/// Gives the descriptor back in blocking mode, for a child process. The descriptor is
/// shared with in-flight operations only while one runs, which `&mut`/ownership excludes.
fn unregister(source: Arc<IoSource>) -> io::Result<OwnedFd> {
    let fd = match Arc::try_unwrap(source) {
        Ok(source) => source.into_fd(),
        Err(shared) => sys::dup_at_least(shared.as_fd(), 0)?,
    };
    sys::set_nonblocking(fd.as_fd(), false)?;
    Ok(fd)
}

/// The reading end of a pipe (for example a child's stdout), registered with a runtime; or
/// any other descriptor read as a stream, such as a regular file or `/dev/null` (see
/// [`from_owned_fd`](PipeReader::from_owned_fd)).
///
/// Made by [`pipe`], by a spawn with [`Stdio::piped`](crate::process::Stdio::piped)
/// ([`Child::stdout`](crate::process::Child::stdout), `stderr`, `stddbg`, `stddato`), or by
/// [`from_owned_fd`](PipeReader::from_owned_fd). It implements
/// [`futures_io::AsyncRead`], so the `futures` extension traits work on it; reading a child's
/// output line by line:
///
/// ```
/// use aria_io::process::{Command, Stdio};
/// use futures_util::io::{AsyncBufReadExt, BufReader};
/// use futures_util::StreamExt;
///
/// let rt = aria_io::Runtime::new()?;
/// rt.block_on(async {
///     let mut child = Command::new("printf").arg("a\nb\n").stdout(Stdio::piped()).spawn()?;
///     let stdout = child.stdout.take().expect("stdout was piped");
///
///     let lines: Vec<String> = BufReader::new(stdout).lines().map(Result::unwrap).collect().await;
///     assert_eq!(lines, ["a", "b"]);
///     assert!(child.wait().await?.success());
///     Ok::<_, std::io::Error>(())
/// })?;
/// # Ok::<_, std::io::Error>(())
/// ```
///
/// Its own reads take an owned buffer and give it back, on every backend
/// ([`read_owned`](PipeReader::read_owned)), or read to the end
/// ([`read_to_end`](PipeReader::read_to_end)):
///
/// ```
/// let rt = aria_io::Runtime::new()?;
/// rt.block_on(async {
///     let (mut reader, mut writer) = aria_io::io::pipe()?;
///     writer.write_all(b"owned").await?;
///     drop(writer); // the only write end: the reader sees end of file after "owned"
///
///     let mut buf = Vec::with_capacity(4096);
///     loop {
///         let (n, b) = reader.read_owned(buf).await; // appends to the buffer
///         buf = b;
///         if n? == 0 {
///             break;
///         }
///     }
///     assert_eq!(buf, b"owned");
///     Ok::<_, std::io::Error>(())
/// })?;
/// # Ok::<_, std::io::Error>(())
/// ```
///
/// Dropping it removes the descriptor from the driver and closes it (on io_uring, once the
/// kernel is done with a read that was cancelled); writers then fail with `BrokenPipe`
/// (`EPIPE`) if no other read end is open.
///
/// # References
/// pipe(7), read(2)
pub struct PipeReader {
    source: Arc<IoSource>,
}

impl PipeReader {
    /// Takes ownership of `fd` (the read end of a pipe or any other stream descriptor) and
    /// registers it with the current runtime. Every kind of stream descriptor works, on every
    /// backend:
    ///
    /// - One the kernel can report readiness for (a pipe, a socket, a terminal) is made
    ///   non-blocking (`O_NONBLOCK`, on its open file description, which every duplicate
    ///   shares) and read when it is ready.
    /// - One it cannot (a regular file, or a device such as `/dev/null`: epoll refuses them)
    ///   is *always ready*: it is put in blocking mode and each read is simply performed,
    ///   with no readiness registered or polled on any backend. Such a read never waits for
    ///   a writer, but **it may block the thread that performs it for disk I/O**, as any
    ///   read(2) of a regular file does (see *Platform*). A regular file is read from its file
    ///   position, which the read advances (the shell's `4< in.bin` gives a program fd 4 so).
    ///
    /// # Errors
    /// `Other` outside a runtime. Otherwise an error naming the descriptor and what failed,
    /// with the kind of the cause: ``cannot register fd 7 with the epoll driver: it is a
    /// directory, not a stream`` (`IsADirectory`), `... Bad file descriptor` (a descriptor
    /// opened with `O_PATH`), or the epoll_ctl(2) or fcntl(2) error (`cannot set O_NONBLOCK
    /// on fd 7 (fcntl F_SETFL): ...`).
    ///
    /// # Platform
    /// On an always-ready descriptor, [`read_owned`](PipeReader::read_owned) is an
    /// `IORING_OP_READ` on io_uring (the kernel finishes a read that must wait for the disk
    /// on its own workers) and a read(2) on the calling thread on epoll;
    /// [`read_to_end`](PipeReader::read_to_end) and `AsyncRead` are a read(2) on the calling
    /// thread on both. Whether the kernel can poll a descriptor is what epoll_ctl(2) says of
    /// it (`EPERM` when it cannot), on both backends.
    ///
    /// # References
    /// read(2), fcntl(2) (`O_NONBLOCK`), epoll_ctl(2) (`EPERM`), fstat(2)
    pub fn from_owned_fd(fd: OwnedFd) -> io::Result<PipeReader> {
        Ok(PipeReader { source: register(fd)? })
    }

    /// The read end of a pipe this crate just created with `sys::pipe` (see
    /// `register_pipe_end`).
    pub(crate) fn from_new_pipe(fd: OwnedFd) -> io::Result<PipeReader> {
        Ok(PipeReader { source: register_pipe_end(fd)? })
    }

    /// Deregisters the descriptor and returns it in blocking mode (to give it to a child).
    ///
    /// # Errors
    /// The fcntl(2) error.
    pub fn into_owned_fd(self) -> io::Result<OwnedFd> {
        unregister(self.source)
    }

    /// Reads at most `buf.capacity() - buf.len()` bytes, appending them to `buf`, and gives
    /// `buf` back with the count (`0` at end of file or when there is no spare capacity).
    /// The buffer is owned by the operation while it is in flight, so the call is the same on
    /// readiness and completion backends.
    ///
    /// # Errors
    /// The read(2) error; `Other` if the runtime the pipe is registered with has shut down.
    ///
    /// # Cancel safety
    /// Cancel safe: no byte is lost if the future is dropped. On epoll nothing is read until
    /// the call completes. On io_uring, if the future is dropped while the read is in the
    /// kernel and the cancellation comes too late, the bytes it read are kept by the reader
    /// and its next read (`read_owned`, `AsyncRead`, [`read_to_end`](PipeReader::read_to_end),
    /// [`copy`](super::copy())) returns them first, in order; that next read waits for the
    /// dropped read's completion, so that no later byte overtakes them.
    ///
    /// # Platform
    /// `IORING_OP_READ` on io_uring; read(2) after epoll readiness otherwise (at once on an
    /// always-ready descriptor, such as a regular file: see
    /// [`from_owned_fd`](PipeReader::from_owned_fd)).
    ///
    /// # References
    /// read(2), pipe(7), io_uring_prep_read(3)
    pub async fn read_owned(&mut self, mut buf: Vec<u8>) -> (io::Result<usize>, Vec<u8>) {
        match self.source.registration().take_stashed_spare(&mut buf).await {
            Ok(Some(n)) => return (Ok(n), buf),
            Ok(None) => {}
            Err(e) => return (Err(e), buf),
        }
        let (res, op) = Op::new(ReadOp { source: self.source.clone(), buf, abandoned: None }).await;
        (res, op.buf)
    }

    /// Reads until end of file, appending to `buf`; returns the number of bytes read.
    /// Grows `buf` geometrically, so the memory touched stays close to the bytes read.
    ///
    /// # Errors
    /// The read(2) error; bytes read before it stay in `buf`.
    pub async fn read_to_end(&mut self, buf: &mut Vec<u8>) -> io::Result<usize> {
        let start = buf.len();
        poll_fn(|cx| self.poll_read_to_end(cx, buf)).await?;
        Ok(buf.len() - start)
    }

    /// Reads as much as is available into `buf` (growing it); `Ready(Ok(()))` at end of file.
    /// An always-ready descriptor (a regular file) never runs dry the way a pipe does, so it
    /// yields to the other tasks after each [`READ_TO_END_SLICE`] bytes instead.
    pub(crate) fn poll_read_to_end(&self, cx: &mut Context<'_>, buf: &mut Vec<u8>) -> Poll<io::Result<()>> {
        let fd = self.source.as_fd();
        let always_ready = !self.source.registration().is_polled();
        let start = buf.len();
        // Bytes that reads abandoned in flight received come first.
        let stashed = self.source.registration().poll_stash(cx, |stash| {
            let n = stash.len();
            buf.extend(stash.drain(..));
            n
        });
        std::task::ready!(stashed)?;
        loop {
            if always_ready && buf.len() - start >= READ_TO_END_SLICE {
                cx.waker().wake_by_ref();
                return Poll::Pending;
            }
            // Keep at least 64 KiB (a default pipe's capacity) of room for each read; grow
            // geometrically (realloc of large blocks remaps pages instead of copying them).
            if buf.capacity() - buf.len() < 64 * 1024 {
                buf.reserve(buf.len().clamp(64 * 1024, 64 * 1024 * 1024));
            }
            // What a full 1 MiB pipe can hand over in one read, faulted in before the read.
            sys::prefault_spare(buf, 1 << 20);
            let n = std::task::ready!(self
                .source
                .registration()
                .poll_io(cx, Interest::Readable, || { sys::read_into_spare(fd, buf) }))?;
            if n == 0 {
                return Poll::Ready(Ok(()));
            }
        }
    }

    /// The registered descriptor (for splicing by [`copy`](super::copy())).
    pub(crate) fn io_source(&self) -> &Arc<IoSource> {
        &self.source
    }

    /// Asks the kernel to grow the pipe's buffer to at least `bytes` (F_SETPIPE_SZ), which
    /// reduces the number of reads for bulk transfers. Returns the size granted.
    ///
    /// # Errors
    /// `EPERM` above `/proc/sys/fs/pipe-max-size` for an unprivileged process; `EBADF`/`EINVAL`
    /// if the descriptor is not a pipe.
    pub fn set_pipe_size(&self, bytes: usize) -> io::Result<usize> {
        sys::set_pipe_size(self.source.as_fd(), bytes)
    }
}

/// The bytes [`PipeReader::poll_read_to_end`] reads from an always-ready descriptor before
/// it lets other tasks run.
const READ_TO_END_SLICE: usize = 4 << 20;

/// read(2) into the spare capacity of `buf`.
pub(crate) struct ReadOp {
    pub(crate) source: Arc<IoSource>,
    pub(crate) buf: Vec<u8>,
    /// Set when the `Op` was dropped in flight: what the completion brings is stashed.
    // Read by completion backends only (io_uring: `driver::uring::ops`).
    #[cfg_attr(not(target_os = "linux"), allow(dead_code))]
    pub(crate) abandoned: Option<AbandonedRead>,
}

impl OpCode for ReadOp {
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

impl futures_io::AsyncRead for PipeReader {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
        let fd = self.source.as_fd();
        self.source.registration().poll_read(cx, buf, |buf| sys::read(fd, buf))
    }
}

impl AsFd for PipeReader {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.source.as_fd()
    }
}

impl AsRawFd for PipeReader {
    fn as_raw_fd(&self) -> RawFd {
        self.source.as_fd().as_raw_fd()
    }
}

impl fmt::Debug for PipeReader {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PipeReader").field("fd", &self.as_raw_fd()).finish()
    }
}

/// The writing end of a pipe (for example a child's stdin), registered with a runtime; or
/// any other descriptor written as a stream, such as a regular file or `/dev/null` (see
/// [`from_owned_fd`](PipeWriter::from_owned_fd)). Writes to a pipe whose reader has closed
/// fail with `BrokenPipe` (`EPIPE`): the runtime ignores `SIGPIPE`.
///
/// Made by [`pipe`], by a spawn with [`Stdio::piped`](crate::process::Stdio::piped)
/// ([`Child::stdin`](crate::process::Child::stdin), `stddati`), or by
/// [`from_owned_fd`](PipeWriter::from_owned_fd). It implements [`futures_io::AsyncWrite`].
/// The reader sees end of file once every copy of the write end is closed: drop the writer,
/// or [`close`](PipeWriter::close) it.
///
/// ```
/// use aria_io::process::{Command, Stdio};
///
/// let rt = aria_io::Runtime::new()?;
/// rt.block_on(async {
///     let mut wc = Command::new("wc");
///     wc.arg("-c").stdin(Stdio::piped()).stdout(Stdio::piped());
///     let mut child = wc.spawn()?;
///     let mut stdin = child.stdin.take().expect("stdin was piped");
///     stdin.write_all(b"12345").await?;
///     stdin.close().await?; // end of file for wc
///
///     let out = child.wait_with_output().await?;
///     assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "5");
///     Ok::<_, std::io::Error>(())
/// })?;
/// # Ok::<_, std::io::Error>(())
/// ```
///
/// # References
/// pipe(7), write(2)
pub struct PipeWriter {
    source: Option<Arc<IoSource>>,
}

impl PipeWriter {
    /// Takes ownership of `fd` (the write end of a pipe or any other stream descriptor) and
    /// registers it with the current runtime, as [`PipeReader::from_owned_fd`] does: a
    /// descriptor the kernel can poll is made non-blocking and written when it is ready; a
    /// regular file or a device such as `/dev/null` is always ready, put in blocking mode,
    /// and each write simply performed, **which may block the thread that performs it for
    /// disk I/O**, as any write(2) of a regular file does. A regular file is written at its
    /// file position (at its end if it was opened for appending).
    ///
    /// # Errors
    /// As [`PipeReader::from_owned_fd`]: `Other` outside a runtime, otherwise an error
    /// naming the descriptor and what failed.
    ///
    /// # Platform
    /// On an always-ready descriptor, [`write_owned`](PipeWriter::write_owned) is an
    /// `IORING_OP_WRITE` on io_uring and a write(2) on the calling thread on epoll;
    /// [`write_all`](PipeWriter::write_all) and `AsyncWrite` are a write(2) on the calling
    /// thread on both.
    ///
    /// # References
    /// write(2), fcntl(2) (`O_NONBLOCK`), epoll_ctl(2) (`EPERM`), fstat(2)
    pub fn from_owned_fd(fd: OwnedFd) -> io::Result<PipeWriter> {
        Ok(PipeWriter { source: Some(register(fd)?) })
    }

    /// The write end of a pipe this crate just created with `sys::pipe` (see
    /// `register_pipe_end`).
    pub(crate) fn from_new_pipe(fd: OwnedFd) -> io::Result<PipeWriter> {
        Ok(PipeWriter { source: Some(register_pipe_end(fd)?) })
    }

    /// Deregisters the descriptor and returns it in blocking mode.
    ///
    /// # Errors
    /// `NotConnected` if already closed; the fcntl(2) error.
    pub fn into_owned_fd(mut self) -> io::Result<OwnedFd> {
        unregister(self.source.take().ok_or_else(closed)?)
    }

    /// The registered descriptor, unless closed (for splicing by [`copy`](super::copy())).
    pub(crate) fn io_source(&self) -> Option<&Arc<IoSource>> {
        self.source.as_ref()
    }

    fn source(&self) -> io::Result<&Arc<IoSource>> {
        self.source.as_ref().ok_or_else(closed)
    }

    /// Writes some of `buf` (owned while in flight) and gives it back with the count of
    /// bytes written.
    ///
    /// # Errors
    /// `NotConnected` if closed; `BrokenPipe` when the reader has gone (`EPIPE`: the runtime
    /// ignores `SIGPIPE`); `Other` if the runtime the pipe is registered with has shut down.
    ///
    /// # Platform
    /// `IORING_OP_WRITE` on io_uring; write(2) after epoll readiness otherwise (at once on an
    /// always-ready descriptor, such as a regular file: see
    /// [`from_owned_fd`](PipeWriter::from_owned_fd)).
    ///
    /// # References
    /// write(2), pipe(7), io_uring_prep_write(3)
    pub async fn write_owned(&mut self, buf: Vec<u8>) -> (io::Result<usize>, Vec<u8>) {
        let source = match self.source() {
            Ok(s) => s.clone(),
            Err(e) => return (Err(e), buf),
        };
        let (res, op) = Op::new(WriteOp { source, buf }).await;
        (res, op.buf)
    }

    /// Writes all of `data`.
    ///
    /// # Errors
    /// `BrokenPipe` when the reader has gone; `WriteZero` if the kernel accepts nothing.
    pub async fn write_all(&mut self, mut data: &[u8]) -> io::Result<()> {
        while !data.is_empty() {
            let n = poll_fn(|cx| self.poll_write_slice(cx, data)).await?;
            if n == 0 {
                return Err(io::ErrorKind::WriteZero.into());
            }
            data = &data[n..];
        }
        Ok(())
    }

    /// Closes the descriptor now (the reader sees end of file once every other copy of this
    /// end is closed). Later writes fail with `NotConnected`. A pipe has no user-space
    /// buffer, so nothing is flushed and this never fails; it is `async` with the same
    /// signature as `futures::AsyncWriteExt::close`, which it would otherwise shadow.
    ///
    /// # Errors
    /// None: always `Ok(())`.
    pub async fn close(&mut self) -> io::Result<()> {
        self.close_now();
        Ok(())
    }

    /// The same as [`close`](PipeWriter::close), under the name `tokio::io::AsyncWriteExt`
    /// gives it, so that code ported from `tokio::process` (`stdin.shutdown().await?`)
    /// compiles unchanged.
    ///
    /// # Errors
    /// None: always `Ok(())`.
    pub async fn shutdown(&mut self) -> io::Result<()> {
        self.close().await
    }

    /// Closes the descriptor without waiting (see [`close`](PipeWriter::close)).
    pub(crate) fn close_now(&mut self) {
        self.source = None;
    }

    fn poll_write_slice(&self, cx: &mut Context<'_>, data: &[u8]) -> Poll<io::Result<usize>> {
        let source = self.source()?;
        let fd = source.as_fd();
        source.registration().poll_io(cx, Interest::Writable, || sys::write(fd, data))
    }
}

fn closed() -> io::Error {
    io::Error::new(io::ErrorKind::NotConnected, "pipe writer is closed")
}

/// write(2) of `buf`.
pub(crate) struct WriteOp {
    pub(crate) source: Arc<IoSource>,
    pub(crate) buf: Vec<u8>,
}

impl OpCode for WriteOp {
    type Output = usize;
    fn source(&self) -> Option<&Arc<IoSource>> {
        Some(&self.source)
    }
    fn interest(&self) -> Interest {
        Interest::Writable
    }
    fn perform(&mut self) -> io::Result<usize> {
        sys::write(self.source.as_fd(), &self.buf)
    }
}

impl futures_io::AsyncWrite for PipeWriter {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        self.poll_write_slice(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(())) // a pipe has no user-space buffer
    }

    fn poll_close(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.get_mut().close_now();
        Poll::Ready(Ok(()))
    }
}

impl AsFd for PipeWriter {
    /// # Panics
    /// If the writer was closed with [`close`](PipeWriter::close) (which closes the
    /// descriptor itself, so that the reader sees end of file).
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.source.as_ref().expect("PipeWriter::as_fd after close").as_fd()
    }
}

impl AsRawFd for PipeWriter {
    /// -1 once the writer was closed with [`close`](PipeWriter::close).
    fn as_raw_fd(&self) -> RawFd {
        self.source.as_ref().map_or(-1, |s| s.as_fd().as_raw_fd())
    }
}

impl fmt::Debug for PipeWriter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let fd = self.source.as_ref().map(|s| s.as_fd().as_raw_fd());
        f.debug_struct("PipeWriter").field("fd", &fd).finish()
    }
}

impl TryFrom<PipeReader> for std::process::Stdio {
    type Error = io::Error;

    /// Deregisters the pipe and hands it, in blocking mode, to a `std::process::Command`
    /// (tokio's `ChildStdout: TryInto<std::process::Stdio>`). For this crate's
    /// [`Command`](crate::process::Command) no conversion is needed: a `PipeReader` is
    /// already a [`Stdio`](crate::process::Stdio).
    ///
    /// # Errors
    /// The fcntl(2) error of clearing `O_NONBLOCK`, or the dup(2) error when the descriptor
    /// is shared with an operation still in flight.
    fn try_from(reader: PipeReader) -> io::Result<std::process::Stdio> {
        Ok(reader.into_owned_fd()?.into())
    }
}

impl TryFrom<PipeWriter> for std::process::Stdio {
    type Error = io::Error;

    /// Deregisters the pipe and hands it, in blocking mode, to a `std::process::Command`
    /// (tokio's `ChildStdin: TryInto<std::process::Stdio>`).
    ///
    /// # Errors
    /// `NotConnected` if the writer was closed; otherwise as for `PipeReader`.
    fn try_from(writer: PipeWriter) -> io::Result<std::process::Stdio> {
        Ok(writer.into_owned_fd()?.into())
    }
}
