//! The system calls of the blocking path that `std` does not offer in the shape needed
//! (reading into a `Vec`'s spare capacity at an offset, `openat` with exact flags, what a stat
//! reports),
//! and the conversion of an io_uring `openat` result into an owned descriptor.
//!
//! Part of the syscall layer: `crate::fs` itself contains no `unsafe`.

use std::ffi::CStr;
use std::fs::File;
use std::io;
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, RawFd};

pub(crate) use super::{stat_at, stat_fields, AT_EMPTY_PATH};

/// The largest count read(2) and write(2) transfer in one call on Linux (`MAX_RW_COUNT`).
pub(crate) const MAX_RW: usize = 0x7fff_f000;

/// openat(2) relative to the working directory, always `O_CLOEXEC`.
pub(crate) fn open(path: &CStr, flags: libc::c_int, mode: u32) -> io::Result<File> {
    let fd = super::cvt_retry(|| {
        // SAFETY: `path` is a NUL-terminated string that outlives the call; the other
        // arguments are plain integers.
        unsafe { libc::openat(libc::AT_FDCWD, path.as_ptr(), flags | libc::O_CLOEXEC, mode as libc::c_uint) }
    })?;
    Ok(file_from_raw(fd))
}

/// Takes ownership of a descriptor the kernel just returned (io_uring `openat` completion).
pub(crate) fn file_from_raw(fd: RawFd) -> File {
    // SAFETY: `fd` was just created by the kernel for this process and nothing else owns it.
    unsafe { File::from_raw_fd(fd) }
}

/// pread(2) into the spare capacity of `buf` (at most `MAX_RW` bytes), extending its length
/// by the count read. Retries `EINTR`.
pub(crate) fn pread_spare(fd: BorrowedFd<'_>, buf: &mut Vec<u8>, offset: u64) -> io::Result<usize> {
    let spare = buf.spare_capacity_mut();
    let len = spare.len().min(MAX_RW);
    let offset = libc::off_t::try_from(offset).map_err(|_| io::Error::from_raw_os_error(libc::EINVAL))?;
    let n = super::cvt_retry(|| {
        // SAFETY: the pointer and length describe the spare capacity of `buf`, writable
        // memory the kernel may fill; uninitialised bytes are fine to write over.
        unsafe { libc::pread(fd.as_raw_fd(), spare.as_mut_ptr().cast(), len, offset) }
    })? as usize;
    // SAFETY: pread(2) initialised the first `n` bytes of the spare capacity.
    unsafe { buf.set_len(buf.len() + n) };
    Ok(n)
}

/// What a stat call reported, the same on every platform (filled from `statx` on Linux,
/// `struct stat` elsewhere: see each room's `stat_fields`). Times are (seconds since the
/// epoch, nanoseconds).
#[derive(Debug, Clone, Copy)]
pub(crate) struct FileStat {
    pub(crate) mode: u32,
    pub(crate) len: u64,
    pub(crate) ino: u64,
    pub(crate) dev: u64,
    pub(crate) nlink: u64,
    pub(crate) uid: u32,
    pub(crate) gid: u32,
    pub(crate) blksize: u64,
    pub(crate) blocks: u64,
    pub(crate) accessed: (i64, u32),
    pub(crate) modified: (i64, u32),
    pub(crate) changed: (i64, u32),
    /// The creation time, where the file system records it.
    pub(crate) created: Option<(i64, u32)>,
}

/// A zeroed stat buffer on the heap (an io_uring `STATX` writes into it asynchronously, so
/// it must not move).
pub(crate) fn stat_buf() -> Box<super::StatBuf> {
    // SAFETY: the buffer type is plain old data (integers); all-zero is a valid value.
    Box::new(unsafe { std::mem::zeroed() })
}
