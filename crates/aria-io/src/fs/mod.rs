//! Asynchronous file system access: [`File`], [`OpenOptions`], [`Metadata`] and whole-file
//! helpers ([`read()`], [`write()`], [`copy()`], [`rename()`]...).
//!
//! ```
//! # aria_io::Runtime::new()?.block_on(async {
//! use aria_io::fs;
//! # let dir = tempfile::tempdir()?;
//! # let path = dir.path().join("greeting.txt");
//! fs::write(&path, "hello, file").await?;
//! assert_eq!(fs::read_to_string(&path).await?, "hello, file");
//! assert_eq!(fs::metadata(&path).await?.len(), 11);
//! # Ok::<_, std::io::Error>(())
//! # })?;
//! # Ok::<_, std::io::Error>(())
//! ```
//!
//! # How operations run
//!
//! Regular files are always "ready" to epoll, so readiness cannot make their I/O
//! asynchronous. Each operation is instead either a native completion or a blocking system
//! call on the process's [blocking pool](crate::blocking):
//!
//! | operation | io_uring backend | epoll backend, or outside a runtime |
//! |---|---|---|
//! | open | `IORING_OP_OPENAT` | openat(2) on the pool |
//! | read, read at | `IORING_OP_READ` (offset `-1`: the file position) | read(2), pread(2) on the pool |
//! | write, write at | `IORING_OP_WRITE` | write(2), pwrite(2) on the pool |
//! | sync all/data | `IORING_OP_FSYNC` | fsync(2), fdatasync(2) on the pool |
//! | metadata | `IORING_OP_STATX` | statx(2) on the pool |
//! | set length | `IORING_OP_FTRUNCATE` (Linux 6.9+) | ftruncate(2) on the pool |
//! | remove file, rename | `IORING_OP_UNLINKAT`, `IORING_OP_RENAMEAT` | unlink(2), rename(2) on the pool |
//! | create dir all, copy | on the pool (several calls; copy_file_range(2)) | the same |
//! | close | close(2), synchronously, when the last reference goes | the same |
//!
//! An opcode the running kernel lacks (probed when the runtime's ring is set up) takes the
//! pool on io_uring too. Files are not registered with the driver: they are always "ready",
//! so only the completion and blocking paths of the driver's operations apply to them. The
//! public API and its results are the same on every backend.
//!
//! # Buffers, ordering and cancellation
//!
//! Every operation owns its buffers while it is in flight (`Vec<u8>` in, `(io::Result<_>,
//! Vec<u8>)` out), as the [driver contract](crate#the-driver) requires. Dropping a future
//! mid-operation is always allowed and never lets the kernel, or a pool thread, write into
//! freed memory:
//!
//! - **io_uring**: the operation (buffers, path, `statx` buffer and a reference that keeps
//!   the descriptor open) moves into the ring with an `IORING_OP_ASYNC_CANCEL`, and is freed
//!   when the completion of the original request arrives, after the driver ran its cancel
//!   hook: an open that the cancellation came too late for has its descriptor closed there,
//!   never leaked. A write issued by [`AsyncWrite`](futures_io::AsyncWrite) is not cancelled
//!   (its bytes were already reported written): it runs to its end inside the driver.
//! - **Blocking pool**: the job owns the operation until its system call returns; the result
//!   is then dropped on the pool thread (an opened descriptor is closed).
//!
//! Either way the operation may or may not take effect: a dropped write may have written
//! some or all of its bytes, a dropped read may have advanced the file position. What cannot
//! happen is a later operation on the same [`File`] overtaking it: each operation holds a
//! reference that counts as "in flight" until the kernel or the pool is done with it, and a
//! `File` starts an operation only when that count is zero. The descriptor stays open (its
//! number cannot be reused by another file) for as long as any such reference lives.
//!
//! # Errors
//!
//! Errors name the path and the action: ``cannot open `/x/y`: No such file or directory (os
//! error 2)``. The [kind](io::Error::kind) is the original error's; the original error (with
//! its [`raw_os_error`](io::Error::raw_os_error)) is the wrapper's
//! [source](std::error::Error::source).

mod buffered;
mod file;
mod metadata;
pub(crate) mod ops;
mod options;
mod shared;

use std::error::Error;
use std::ffi::CString;
use std::fmt;
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

pub use file::File;
pub use metadata::Metadata;
pub use options::OpenOptions;
pub(crate) use shared::FileRef;

use crate::driver::op::Op;
use ops::{RenameOp, StatTarget, StatxOp, UnlinkOp};

/// An I/O error with the action and path(s) it concerns.
#[derive(Debug)]
struct PathError {
    verb: &'static str,
    path: PathBuf,
    to: Option<PathBuf>,
    source: io::Error,
}

impl fmt::Display for PathError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "cannot {} `{}`", self.verb, self.path.display())?;
        if let Some(to) = &self.to {
            write!(f, " to `{}`", to.display())?;
        }
        write!(f, ": {}", self.source)
    }
}

impl Error for PathError {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        Some(&self.source)
    }
}

/// Wraps `e` so its message names `path`; keeps its kind.
pub(crate) fn with_path(e: io::Error, verb: &'static str, path: &Path) -> io::Error {
    wrap(e, verb, path, None)
}

fn wrap(e: io::Error, verb: &'static str, path: &Path, to: Option<&Path>) -> io::Error {
    // Already named (by an inner step): do not say it twice.
    if e.get_ref().is_some_and(|inner| inner.is::<PathError>()) {
        return e;
    }
    let to = to.map(Path::to_owned);
    io::Error::new(e.kind(), PathError { verb, path: path.to_owned(), to, source: e })
}

/// The path as a C string for the kernel.
fn c_path(path: &Path) -> io::Result<CString> {
    CString::new(path.as_os_str().as_bytes())
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "path contains a NUL byte"))
}

/// Reads a whole file into a vector sized to fit it exactly (when the file reports its size).
///
/// # Errors
/// Opening or reading fails (naming the path: ``cannot open `x`: ...``, ``cannot read `x`:
/// ...``).
///
/// # Platform
/// See the [module docs](self): open, statx, read(s), on io_uring or the pool.
///
/// # References
/// open(2), statx(2), read(2)
pub async fn read(path: impl AsRef<Path>) -> io::Result<Vec<u8>> {
    let path = path.as_ref();
    let mut file = File::open(path).await?;
    // Files that report no size (most of /proc) are read by growing the buffer.
    let hint = file.metadata().await.ok().map(|m| m.len()).filter(|len| *len > 0);
    let mut buf = Vec::new();
    file.read_to_end_hint(&mut buf, hint).await?;
    Ok(buf)
}

/// Reads a whole file as UTF-8.
///
/// # Errors
/// As [`read`]; `InvalidData` if the contents are not UTF-8.
pub async fn read_to_string(path: impl AsRef<Path>) -> io::Result<String> {
    let path = path.as_ref();
    let bytes = read(path).await?;
    String::from_utf8(bytes)
        .map_err(|e| with_path(io::Error::new(io::ErrorKind::InvalidData, e.utf8_error()), "read", path))
}

/// Writes `contents` as the whole content of a file, creating it (mode `0o644` before the
/// umask) or truncating it. An owned `Vec<u8>` or `String` is written without a copy.
///
/// # Errors
/// Opening or writing fails, naming the path.
///
/// # References
/// open(2) with `O_WRONLY | O_CREAT | O_TRUNC`, write(2)
pub async fn write(path: impl AsRef<Path>, contents: impl Into<Vec<u8>>) -> io::Result<()> {
    let path = path.as_ref();
    let contents = contents.into();
    let mut file = File::create(path).await?;
    file.write_all_owned(contents).await.0
}

/// Copies the contents and permission bits of `from` to `to` (created or truncated) and
/// returns the number of bytes copied.
///
/// # Errors
/// Either file cannot be opened, read or written: ``cannot copy `a` to `b`: ...``.
///
/// # Platform
/// On the blocking pool on every backend, with [`std::fs::copy`], which uses
/// copy_file_range(2) (the data never crosses into user space) and falls back to reads and
/// writes.
///
/// # References
/// copy_file_range(2)
pub async fn copy(from: impl AsRef<Path>, to: impl AsRef<Path>) -> io::Result<u64> {
    let (from, to) = (from.as_ref().to_owned(), to.as_ref().to_owned());
    let (f, t) = (from.clone(), to.clone());
    let res = on_pool(move || std::fs::copy(f, t)).await;
    res.map_err(|e| wrap(e, "copy", &from, Some(&to)))
}

/// Creates a directory and every missing parent (mode `0o777` before the umask). Succeeds if
/// it already exists as a directory.
///
/// # Errors
/// A component exists and is not a directory, or cannot be created: ``cannot create
/// directory `a/b`: ...``.
///
/// # Platform
/// On the blocking pool on every backend ([`std::fs::create_dir_all`]).
///
/// # References
/// mkdir(2)
pub async fn create_dir_all(path: impl AsRef<Path>) -> io::Result<()> {
    let path = path.as_ref().to_owned();
    let p = path.clone();
    let res = on_pool(move || std::fs::create_dir_all(p)).await;
    res.map_err(|e| with_path(e, "create directory", &path))
}

/// Removes a file (or symbolic link; not a directory).
///
/// # Errors
/// The unlink(2) error, naming the path (`NotFound`, `IsADirectory`...).
///
/// # Platform
/// io_uring: `IORING_OP_UNLINKAT`. Elsewhere: unlink(2) on the blocking pool.
///
/// # References
/// unlink(2), io_uring_prep_unlinkat(3)
pub async fn remove_file(path: impl AsRef<Path>) -> io::Result<()> {
    let path = path.as_ref();
    let res = async { Op::new(UnlinkOp { path: c_path(path)? }).await.0 }.await;
    res.map_err(|e| with_path(e, "remove", path))
}

/// Renames `from` to `to`, replacing `to` if it exists (atomically, on one file system).
///
/// # Errors
/// The rename(2) error, naming both paths (`CrossesDevices` across file systems...).
///
/// # Platform
/// io_uring: `IORING_OP_RENAMEAT`. Elsewhere: rename(2) on the blocking pool.
///
/// # References
/// rename(2), io_uring_prep_renameat(3)
pub async fn rename(from: impl AsRef<Path>, to: impl AsRef<Path>) -> io::Result<()> {
    let (from, to) = (from.as_ref(), to.as_ref());
    let res = async { Op::new(RenameOp { from: c_path(from)?, to: c_path(to)? }).await.0 }.await;
    res.map_err(|e| wrap(e, "rename", from, Some(to)))
}

/// The metadata of the file at `path`, following symbolic links.
///
/// # Errors
/// The statx(2) error, naming the path.
///
/// # Platform
/// io_uring: `IORING_OP_STATX`. Elsewhere: statx(2) on the blocking pool.
///
/// # References
/// statx(2), io_uring_prep_statx(3)
pub async fn metadata(path: impl AsRef<Path>) -> io::Result<Metadata> {
    stat(path.as_ref(), true).await
}

/// The metadata of the file at `path`, not following a final symbolic link.
///
/// # Errors
/// The statx(2) error, naming the path.
///
/// # Platform
/// As [`metadata`], with `AT_SYMLINK_NOFOLLOW`.
pub async fn symlink_metadata(path: impl AsRef<Path>) -> io::Result<Metadata> {
    stat(path.as_ref(), false).await
}

async fn stat(path: &Path, follow: bool) -> io::Result<Metadata> {
    let res = async {
        let target = StatTarget::Path { path: c_path(path)?, follow };
        Op::new(StatxOp::new(target)).await.0
    }
    .await;
    res.map_err(|e| with_path(e, "stat", path))
}

/// Runs `f` on the blocking pool, resuming its panic in the caller.
async fn on_pool<R: Send + 'static>(f: impl FnOnce() -> io::Result<R> + Send + 'static) -> io::Result<R> {
    let handle = match crate::blocking::spawn_with((), move |()| f()) {
        Ok(handle) => handle,
        Err(((), e)) => return Err(e),
    };
    match handle.await {
        Ok(res) => res,
        Err(e) => match e.try_into_panic() {
            Ok(payload) => std::panic::resume_unwind(payload),
            Err(e) => Err(io::Error::other(e.to_string())),
        },
    }
}
