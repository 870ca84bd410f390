use std::fmt;
use std::future::poll_fn;
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};
use std::path::Path;
use std::sync::Arc;
use std::task::{Context, Poll};

use super::buffered::Buffered;
use super::metadata::Metadata;
use super::ops::{ReadOp, StatTarget, StatxOp, SyncOp, TruncateOp, WriteOp};
use super::shared::{FileRef, FileShared};
use super::{with_path, OpenOptions};
use crate::driver::op::{Op, Submit};

/// Spare capacity below which `read_to_end` grows its buffer.
const MIN_SPARE: usize = 32 * 1024;

/// An open file on the file system.
///
/// Every operation takes its buffer by value and gives it back with the result, because on
/// io_uring the kernel fills or drains the buffer after the call returns, and on the other
/// backends a pool thread does (see the [module docs](super) for how dropped operations stay
/// sound). [`futures_io::AsyncRead`] and [`futures_io::AsyncWrite`] are implemented too, for
/// borrowed buffers, through an internal buffer.
///
/// Operations on one `File` take `&mut self` and run one at a time, in the order they were
/// started: an operation whose future was dropped in flight delays the next one until the
/// kernel (or the pool thread) is done with it.
///
/// The descriptor is closed with close(2) when the `File` and every operation still in
/// flight on it are gone. Data written through `AsyncWrite` and not yet flushed
/// ([`poll_flush`](futures_io::AsyncWrite::poll_flush)) is still written (not cancelled)
/// when the `File` is dropped, but errors are then lost: flush first.
///
/// Errors name the file: ``cannot read `/var/log/x`: Is a directory (os error 21)``. Their
/// [kind](io::Error::kind) is the OS error's, and the OS error itself is their
/// [source](std::error::Error::source).
///
/// ```
/// # aria_io::Runtime::new()?.block_on(async {
/// use aria_io::fs::File;
/// # let dir = tempfile::tempdir()?;
/// # let path = dir.path().join("hello.txt");
/// let mut file = File::create(&path).await?;
/// let (res, _) = file.write_all_owned(b"hello".to_vec()).await;
/// res?;
/// let mut file = File::open(&path).await?;
/// let (res, buf) = file.read_at(Vec::with_capacity(16), 1).await;
/// assert_eq!(res?, 4);
/// assert_eq!(buf, b"ello");
/// # Ok::<_, std::io::Error>(())
/// # })?;
/// # Ok::<_, std::io::Error>(())
/// ```
pub struct File {
    pub(super) shared: Arc<FileShared>,
    pub(super) buffered: Buffered,
}

impl File {
    pub(super) fn from_shared(shared: Arc<FileShared>) -> File {
        File { shared, buffered: Buffered::default() }
    }

    /// A `File` for a file opened synchronously (by a pipeline's redirections), named `path`
    /// in errors.
    pub(crate) fn from_std(file: std::fs::File, path: std::path::PathBuf) -> File {
        File::from_shared(FileShared::new(file, path))
    }

    /// Opens an existing file for reading.
    ///
    /// # Errors
    /// As [`OpenOptions::open`]: ``cannot open `/x/y`: No such file or directory (os error
    /// 2)``.
    ///
    /// # References
    /// open(2) with `O_RDONLY | O_CLOEXEC`, io_uring_prep_openat(3)
    pub async fn open(path: impl AsRef<Path>) -> io::Result<File> {
        OpenOptions::new().read(true).open(path).await
    }

    /// Opens a file for writing, creating it (mode `0o644` before the umask) or truncating
    /// it to length 0.
    ///
    /// # Errors
    /// As [`OpenOptions::open`].
    ///
    /// # References
    /// open(2) with `O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC`
    pub async fn create(path: impl AsRef<Path>) -> io::Result<File> {
        OpenOptions::new().write(true).create(true).truncate(true).open(path).await
    }

    /// Creates a new file for reading and writing, failing if it exists.
    ///
    /// # Errors
    /// `AlreadyExists` if it exists; otherwise as [`OpenOptions::open`].
    ///
    /// # References
    /// open(2) with `O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC`
    pub async fn create_new(path: impl AsRef<Path>) -> io::Result<File> {
        OpenOptions::new().read(true).write(true).create_new(true).open(path).await
    }

    /// Options to open a file with (the same as [`OpenOptions::new`]).
    pub fn options() -> OpenOptions {
        OpenOptions::new()
    }

    /// The path the file was opened with (as given, not canonicalised; the file may since
    /// have been renamed or removed).
    pub fn path(&self) -> &Path {
        self.shared.path()
    }

    /// Reads at the file position into the spare capacity of `buf` (at most
    /// `buf.capacity() - buf.len()` bytes, and at most `0x7fff_f000`), appending to it and
    /// advancing the position, and gives `buf` back with the count: `0` at end of file or if
    /// there is no spare capacity.
    ///
    /// # Errors
    /// The read(2) error, naming the path (`IsADirectory`, `PermissionDenied` for a file
    /// opened without read access...). `buf` comes back unchanged.
    ///
    /// # Platform
    /// io_uring: `IORING_OP_READ` at offset `-1` (the file position). epoll and outside a
    /// runtime: read(2) on the [blocking pool](crate::blocking).
    ///
    /// # References
    /// read(2), io_uring_prep_read(3)
    pub async fn read_owned(&mut self, buf: Vec<u8>) -> (io::Result<usize>, Vec<u8>) {
        self.read_op(buf, None).await
    }

    /// Like [`read_owned`](File::read_owned) but at `offset` bytes from the start of the file, leaving
    /// the file position unchanged.
    ///
    /// # Errors
    /// The pread(2) error, naming the path (`InvalidInput` for an offset above `i64::MAX`).
    ///
    /// # Platform
    /// io_uring: `IORING_OP_READ` at `offset`. Elsewhere: pread(2) on the blocking pool.
    ///
    /// # References
    /// pread(2), io_uring_prep_read(3)
    pub async fn read_at(&mut self, buf: Vec<u8>, offset: u64) -> (io::Result<usize>, Vec<u8>) {
        self.read_op(buf, Some(offset)).await
    }

    async fn read_op(&mut self, buf: Vec<u8>, offset: Option<u64>) -> (io::Result<usize>, Vec<u8>) {
        if let Err(e) = self.settle().await {
            return (Err(e), buf);
        }
        let (res, op) = Op::new(ReadOp { file: FileRef::new(&self.shared), buf, offset }).await;
        (res.map_err(|e| self.error(e, "read")), op.buf)
    }

    /// Reads from the file position to the end of the file, appending to `buf` (grown
    /// geometrically), and returns the number of bytes read.
    ///
    /// # Errors
    /// As [`read_owned`](File::read_owned); the bytes read before the error stay in `buf`.
    ///
    /// # Cancel safety
    /// Not cancel safe: `buf` is moved into each read while it is in flight, so if this
    /// future is dropped, `buf` is left empty (its contents went with the cancelled read).
    pub async fn read_to_end(&mut self, buf: &mut Vec<u8>) -> io::Result<usize> {
        self.read_to_end_hint(buf, None).await
    }

    /// `read_to_end`, reserving exactly `hint` more bytes first (the file's size) and then
    /// confirming the end with a small read, so a file of known size is read into a buffer
    /// of exactly its size.
    pub(super) async fn read_to_end_hint(
        &mut self,
        buf: &mut Vec<u8>,
        hint: Option<u64>,
    ) -> io::Result<usize> {
        let start = buf.len();
        if let Some(hint) = hint.and_then(|h| usize::try_from(h).ok()) {
            // A failed reservation (an absurd size) only loses the optimisation.
            let _ = buf.try_reserve_exact(hint);
        }
        loop {
            let read = buf.len() - start;
            let spare = buf.capacity() - buf.len();
            if spare == 0 && hint.is_some_and(|h| read as u64 >= h) {
                // Probably at the end: check without growing `buf`.
                let (res, probe) = self.read_owned(Vec::with_capacity(32)).await;
                match res {
                    Ok(0) => return Ok(read),
                    Ok(_) => buf.extend_from_slice(&probe),
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) => return Err(e),
                }
                continue;
            }
            if spare < MIN_SPARE {
                buf.reserve(buf.len().clamp(64 * 1024, 64 * 1024 * 1024));
            }
            let (res, back) = self.read_owned(std::mem::take(buf)).await;
            *buf = back;
            match res {
                Ok(0) => return Ok(buf.len() - start),
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
    }

    /// Reads from the file position to the end of the file, appending to `buf`, and returns
    /// the number of bytes read.
    ///
    /// # Errors
    /// As [`read_owned`](File::read_owned); `InvalidData` if the bytes read are not UTF-8 (`buf` is then
    /// left as it was).
    ///
    /// # Cancel safety
    /// Not cancel safe: if this future is dropped, `buf` is left empty.
    pub async fn read_to_string(&mut self, buf: &mut String) -> io::Result<usize> {
        let mut bytes = std::mem::take(buf).into_bytes();
        let start = bytes.len();
        let res = self.read_to_end(&mut bytes).await;
        if let Err(e) = std::str::from_utf8(&bytes[start..]) {
            bytes.truncate(start);
            *buf = String::from_utf8(bytes).unwrap_or_default();
            return Err(self.error(io::Error::new(io::ErrorKind::InvalidData, e), "read"));
        }
        *buf = String::from_utf8(bytes).unwrap_or_default();
        res
    }

    /// Writes `buf` (at most `0x7fff_f000` bytes of it) at the file position, or at the end
    /// of the file if it was opened for [`append`](OpenOptions::append), advancing the
    /// position; gives `buf` back with the count written, which may be less than its length
    /// (for example when the disk fills up).
    ///
    /// # Errors
    /// The write(2) error, naming the path (`StorageFull`, `PermissionDenied` for a file
    /// opened without write access...).
    ///
    /// # Platform
    /// io_uring: `IORING_OP_WRITE` at offset `-1`. Elsewhere: write(2) on the blocking pool.
    ///
    /// # References
    /// write(2), io_uring_prep_write(3)
    pub async fn write_owned(&mut self, buf: Vec<u8>) -> (io::Result<usize>, Vec<u8>) {
        self.write_op(buf, None).await
    }

    /// Like [`write_owned`](File::write_owned) but at `offset` bytes from the start of the file, leaving
    /// the file position unchanged (the file grows, with a hole, if `offset` is past its end).
    ///
    /// # Errors
    /// The pwrite(2) error, naming the path.
    ///
    /// # Platform
    /// A file opened for append writes at its end whatever `offset` says (Linux's pwrite(2)
    /// behaviour, on every backend). io_uring: `IORING_OP_WRITE` at `offset`. Elsewhere:
    /// pwrite(2) on the blocking pool.
    ///
    /// # References
    /// pwrite(2), io_uring_prep_write(3)
    pub async fn write_at(&mut self, buf: Vec<u8>, offset: u64) -> (io::Result<usize>, Vec<u8>) {
        self.write_op(buf, Some(offset)).await
    }

    async fn write_op(&mut self, buf: Vec<u8>, offset: Option<u64>) -> (io::Result<usize>, Vec<u8>) {
        if let Err(e) = self.settle().await {
            return (Err(e), buf);
        }
        let op = WriteOp { file: FileRef::new(&self.shared), buf, start: 0, offset };
        let (res, op) = Op::new(op).await;
        (res.map_err(|e| self.error(e, "write")), op.buf)
    }

    /// Writes all of `buf` at the file position (issuing as many writes as needed) and gives
    /// it back.
    ///
    /// # Errors
    /// As [`write_owned`](File::write_owned); `WriteZero` if a write accepts nothing. Part of `buf` may
    /// have been written.
    pub async fn write_all_owned(&mut self, buf: Vec<u8>) -> (io::Result<()>, Vec<u8>) {
        if let Err(e) = self.settle().await {
            return (Err(e), buf);
        }
        write_all_owned(&self.shared, buf, None, false).await
    }

    /// Writes all of `buf` starting at `offset`, leaving the file position unchanged.
    ///
    /// # Errors
    /// As [`write_at`](File::write_at); `WriteZero` if a write accepts nothing.
    pub async fn write_all_at(&mut self, buf: Vec<u8>, offset: u64) -> (io::Result<()>, Vec<u8>) {
        if let Err(e) = self.settle().await {
            return (Err(e), buf);
        }
        write_all_owned(&self.shared, buf, Some(offset), false).await
    }

    /// Truncates or extends the file to `len` bytes (extending with zeros, as a hole). The
    /// file position is unchanged.
    ///
    /// # Errors
    /// The ftruncate(2) error, naming the path: `InvalidInput` if the file is not open for
    /// writing or `len` is above `i64::MAX`; `FileTooLarge`.
    ///
    /// # Platform
    /// io_uring on Linux 6.9+: `IORING_OP_FTRUNCATE`. Older kernels and other backends:
    /// ftruncate(2) on the blocking pool.
    ///
    /// # References
    /// ftruncate(2)
    pub async fn set_len(&mut self, len: u64) -> io::Result<()> {
        self.run(|file| TruncateOp { file, len }, "truncate").await
    }

    /// Flushes the file's data and metadata to the storage device, after every write
    /// started before (including [`AsyncWrite`](futures_io::AsyncWrite) data still
    /// buffered).
    ///
    /// # Errors
    /// The fsync(2) error, naming the path (`EIO`...).
    ///
    /// # Platform
    /// io_uring: `IORING_OP_FSYNC`. Elsewhere: fsync(2) on the blocking pool.
    ///
    /// # References
    /// fsync(2), io_uring_prep_fsync(3)
    pub async fn sync_all(&mut self) -> io::Result<()> {
        self.run(|file| SyncOp { file, data_only: false }, "sync").await
    }

    /// Like [`sync_all`](File::sync_all) but skips metadata not needed to read the data back
    /// (such as the modification time).
    ///
    /// # Errors
    /// The fdatasync(2) error, naming the path.
    ///
    /// # Platform
    /// io_uring: `IORING_OP_FSYNC` with `IORING_FSYNC_DATASYNC`. Elsewhere: fdatasync(2) on
    /// the blocking pool.
    ///
    /// # References
    /// fdatasync(2), io_uring_prep_fsync(3)
    pub async fn sync_data(&mut self) -> io::Result<()> {
        self.run(|file| SyncOp { file, data_only: true }, "sync").await
    }

    /// The file's metadata (size, type, permissions, times...).
    ///
    /// # Errors
    /// The statx(2) error, naming the path.
    ///
    /// # Platform
    /// io_uring: `IORING_OP_STATX` with `AT_EMPTY_PATH`. Elsewhere: statx(2) on the
    /// blocking pool.
    ///
    /// # References
    /// statx(2), io_uring_prep_statx(3)
    pub async fn metadata(&mut self) -> io::Result<Metadata> {
        self.run(|file| StatxOp::new(StatTarget::File(file)), "stat").await
    }

    /// Settles the file, then runs one operation whose value holds nothing to give back.
    /// The operation's file reference is made after settling (it counts as in flight).
    async fn run<T: Submit>(
        &mut self,
        op: impl FnOnce(FileRef) -> T,
        verb: &'static str,
    ) -> io::Result<T::Output> {
        self.settle().await?;
        let (res, op) = Op::new(op(FileRef::new(&self.shared))).await;
        drop(op);
        res.map_err(|e| self.error(e, verb))
    }

    /// Waits for the internal buffer's operation and for operations dropped in flight, and
    /// gives read-ahead bytes back to the file position, so that the next operation starts
    /// where the caller expects. An error of a buffered write is returned here.
    async fn settle(&mut self) -> io::Result<()> {
        poll_fn(|cx| self.poll_settle(cx)).await
    }

    /// Settles the file (see `settle`) and returns a reference for one operation that uses
    /// the descriptor and its file position directly, such as a splice by
    /// [`io::copy`](crate::io::copy). The reference counts as in flight until dropped.
    pub(crate) async fn settled_ref(&mut self) -> io::Result<FileRef> {
        self.settle().await?;
        Ok(FileRef::new(&self.shared))
    }

    pub(super) fn poll_settle(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        std::task::ready!(self.poll_buffered(cx, true))?;
        std::task::ready!(self.shared.poll_idle(cx));
        Poll::Ready(self.unread())
    }

    pub(super) fn error(&self, e: io::Error, verb: &'static str) -> io::Error {
        with_path(e, verb, self.shared.path())
    }
}

/// Writes all of `buf` at `offset` (or the file position), through `shared`'s descriptor.
/// `detach`: each write, if dropped in flight, finishes rather than being cancelled.
pub(super) async fn write_all_owned(
    shared: &Arc<FileShared>,
    mut buf: Vec<u8>,
    mut offset: Option<u64>,
    detach: bool,
) -> (io::Result<()>, Vec<u8>) {
    let mut start = 0;
    while start < buf.len() {
        let op = WriteOp { file: FileRef::new(shared), buf, start, offset };
        let (res, op) = if detach { Op::detached(op).await } else { Op::new(op).await };
        buf = op.buf;
        match res {
            Ok(0) => {
                let e = io::Error::new(io::ErrorKind::WriteZero, "the file accepted no more bytes");
                return (Err(with_path(e, "write", shared.path())), buf);
            }
            Ok(n) => {
                start += n;
                offset = offset.map(|o| o + n as u64);
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return (Err(with_path(e, "write", shared.path())), buf),
        }
    }
    (Ok(()), buf)
}

impl AsFd for File {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.shared.as_fd()
    }
}

impl AsRawFd for File {
    fn as_raw_fd(&self) -> RawFd {
        self.shared.as_fd().as_raw_fd()
    }
}

impl fmt::Debug for File {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("File").field("fd", &self.as_raw_fd()).field("path", &self.path()).finish()
    }
}
