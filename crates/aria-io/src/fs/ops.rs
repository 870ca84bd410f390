//! The file operations, each with its io_uring entry (when the ring supports the opcode) and
//! its blocking system call, which the [driver's `Op`](crate::driver::op) runs on the pool
//! on other backends: files are not registered with the driver.
//!
//! Entries point only into memory the operation owns on the heap: a `Vec`'s buffer, a
//! `CString`, a boxed `statx`, or static data. The descriptor is kept open by the
//! operation's [`FileRef`].

use std::ffi::{CStr, CString, OsStr};
use std::io::{self, Write};
use std::os::fd::AsFd;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::FileExt;

use super::metadata::Metadata;
use super::shared::FileRef;
use crate::driver::op::OpCode;
use crate::sys::fs::{self as sys, MAX_RW};

/// Opens `path` (openat(2) relative to the working directory, `O_CLOEXEC`).
///
/// Dropped in flight on io_uring, it is cancelled; if the kernel opened the file anyway, the
/// default [cancel hook](OpCode::cancelled) makes the `File` from the completion and drops
/// it, closing the descriptor inside the driver.
pub(crate) struct OpenOp {
    pub(crate) path: CString,
    pub(crate) flags: libc::c_int,
    pub(crate) mode: u32,
}

impl OpCode for OpenOp {
    type Output = std::fs::File;
    fn perform(&mut self) -> io::Result<std::fs::File> {
        sys::open(&self.path, self.flags, self.mode)
    }
}

/// Reads into the spare capacity of `buf`, at `offset` or at the file position.
pub(crate) struct ReadOp {
    pub(crate) file: FileRef,
    pub(crate) buf: Vec<u8>,
    pub(crate) offset: Option<u64>,
}

impl OpCode for ReadOp {
    type Output = usize;
    fn perform(&mut self) -> io::Result<usize> {
        let fd = self.file.file().as_fd();
        match self.offset {
            None => crate::sys::read_into_spare(fd, &mut self.buf),
            Some(offset) => sys::pread_spare(fd, &mut self.buf, offset),
        }
    }
}

/// Writes `buf[start..]` (at most `MAX_RW` bytes), at `offset` or at the file position.
pub(crate) struct WriteOp {
    pub(crate) file: FileRef,
    pub(crate) buf: Vec<u8>,
    pub(crate) start: usize,
    pub(crate) offset: Option<u64>,
}

impl WriteOp {
    pub(crate) fn data(&self) -> &[u8] {
        let data = self.buf.get(self.start..).unwrap_or_default();
        &data[..data.len().min(MAX_RW)]
    }
}

impl OpCode for WriteOp {
    type Output = usize;
    fn perform(&mut self) -> io::Result<usize> {
        let data = self.data();
        let mut file = self.file.file();
        loop {
            let res = match self.offset {
                None => file.write(data),
                Some(offset) => file.write_at(data, offset),
            };
            match res {
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                res => return res,
            }
        }
    }
}

/// fsync(2) or fdatasync(2).
pub(crate) struct SyncOp {
    pub(crate) file: FileRef,
    pub(crate) data_only: bool,
}

impl OpCode for SyncOp {
    type Output = ();
    fn perform(&mut self) -> io::Result<()> {
        if self.data_only {
            self.file.file().sync_data()
        } else {
            self.file.file().sync_all()
        }
    }
}

/// ftruncate(2).
pub(crate) struct TruncateOp {
    pub(crate) file: FileRef,
    pub(crate) len: u64,
}

impl OpCode for TruncateOp {
    type Output = ();
    fn perform(&mut self) -> io::Result<()> {
        self.file.file().set_len(self.len)
    }
}

/// What a [`StatxOp`] describes.
pub(crate) enum StatTarget {
    /// An open file (`AT_EMPTY_PATH`).
    File(FileRef),
    /// A path relative to the working directory; `follow`: the target of a final symbolic
    /// link rather than the link.
    Path { path: CString, follow: bool },
}

impl StatTarget {
    /// The arguments of the call: directory descriptor, path and flags.
    pub(crate) fn args(&self) -> (i32, &CStr, i32) {
        match self {
            StatTarget::File(file) => (file.raw(), EMPTY, sys::AT_EMPTY_PATH),
            StatTarget::Path { path, follow } => {
                let flags = if *follow { 0 } else { libc::AT_SYMLINK_NOFOLLOW };
                (libc::AT_FDCWD, path.as_c_str(), flags)
            }
        }
    }
}

/// A stat into a heap buffer: statx(2) on Linux (and io_uring), fstatat(2) elsewhere.
pub(crate) struct StatxOp {
    pub(crate) target: StatTarget,
    pub(crate) buf: Box<crate::sys::StatBuf>,
}

const EMPTY: &CStr = c"";

impl StatxOp {
    pub(crate) fn new(target: StatTarget) -> StatxOp {
        StatxOp { target, buf: sys::stat_buf() }
    }
}

impl OpCode for StatxOp {
    type Output = Metadata;
    fn perform(&mut self) -> io::Result<Metadata> {
        let (dirfd, path, flags) = self.target.args();
        sys::stat_at(dirfd, path, flags, &mut self.buf)?;
        Ok(Metadata::from_stat(&sys::stat_fields(&self.buf)))
    }
}

/// unlinkat(2) of a file.
pub(crate) struct UnlinkOp {
    pub(crate) path: CString,
}

impl OpCode for UnlinkOp {
    type Output = ();
    fn perform(&mut self) -> io::Result<()> {
        std::fs::remove_file(OsStr::from_bytes(self.path.as_bytes()))
    }
}

/// renameat(2).
pub(crate) struct RenameOp {
    pub(crate) from: CString,
    pub(crate) to: CString,
}

impl OpCode for RenameOp {
    type Output = ();
    fn perform(&mut self) -> io::Result<()> {
        std::fs::rename(OsStr::from_bytes(self.from.as_bytes()), OsStr::from_bytes(self.to.as_bytes()))
    }
}
