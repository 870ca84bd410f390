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

use io_uring::{opcode, squeue, types};

use super::metadata::Metadata;
use super::shared::FileRef;
use crate::driver::op::{uring_result, OpCode};
use crate::driver::uring::Ring;
use crate::sys::fs::{self as sys, MAX_RW};

/// The io_uring offset meaning "the file position" (and advance it), as read(2) does.
const CURRENT_POSITION: u64 = u64::MAX;

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
    fn uring_entry(&mut self, ring: &Ring) -> Option<squeue::Entry> {
        ring.supports(opcode::OpenAt::CODE).then(|| {
            opcode::OpenAt::new(types::Fd(libc::AT_FDCWD), self.path.as_ptr())
                .flags(self.flags | libc::O_CLOEXEC)
                .mode(self.mode)
                .build()
        })
    }
    fn uring_complete(&mut self, res: i32) -> io::Result<std::fs::File> {
        let fd = uring_result(res)?;
        Ok(sys::file_from_raw(fd as i32))
    }
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
    fn uring_entry(&mut self, _ring: &Ring) -> Option<squeue::Entry> {
        let spare = self.buf.spare_capacity_mut();
        let len = spare.len().min(MAX_RW) as u32;
        // The spare capacity is heap memory owned by `self.buf`, untouched until completion.
        let entry = opcode::Read::new(types::Fd(self.file.raw()), spare.as_mut_ptr().cast(), len)
            .offset(self.offset.unwrap_or(CURRENT_POSITION))
            .build();
        Some(entry)
    }
    fn uring_complete(&mut self, res: i32) -> io::Result<usize> {
        let n = uring_result(res)?;
        crate::sys::assume_init_spare(&mut self.buf, n);
        Ok(n)
    }
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
    fn data(&self) -> &[u8] {
        let data = self.buf.get(self.start..).unwrap_or_default();
        &data[..data.len().min(MAX_RW)]
    }
}

impl OpCode for WriteOp {
    type Output = usize;
    fn uring_entry(&mut self, _ring: &Ring) -> Option<squeue::Entry> {
        let data = self.data();
        // `data` is heap memory owned by `self.buf`, untouched until completion.
        let entry = opcode::Write::new(types::Fd(self.file.raw()), data.as_ptr(), data.len() as u32)
            .offset(self.offset.unwrap_or(CURRENT_POSITION))
            .build();
        Some(entry)
    }
    fn uring_complete(&mut self, res: i32) -> io::Result<usize> {
        uring_result(res)
    }
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
    fn uring_entry(&mut self, ring: &Ring) -> Option<squeue::Entry> {
        let flags = if self.data_only { types::FsyncFlags::DATASYNC } else { types::FsyncFlags::empty() };
        ring.supports(opcode::Fsync::CODE)
            .then(|| opcode::Fsync::new(types::Fd(self.file.raw())).flags(flags).build())
    }
    fn uring_complete(&mut self, res: i32) -> io::Result<()> {
        uring_result(res).map(drop)
    }
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
    fn uring_entry(&mut self, ring: &Ring) -> Option<squeue::Entry> {
        ring.supports(opcode::Ftruncate::CODE)
            .then(|| opcode::Ftruncate::new(types::Fd(self.file.raw()), self.len).build())
    }
    fn uring_complete(&mut self, res: i32) -> io::Result<()> {
        uring_result(res).map(drop)
    }
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

/// statx(2) into a heap buffer.
pub(crate) struct StatxOp {
    pub(crate) target: StatTarget,
    pub(crate) buf: Box<libc::statx>,
}

const EMPTY: &CStr = c"";

impl StatxOp {
    pub(crate) fn new(target: StatTarget) -> StatxOp {
        StatxOp { target, buf: sys::statx_buf() }
    }

    /// The arguments of the call: directory descriptor, path and flags.
    fn args(&self) -> (i32, &CStr, i32) {
        match &self.target {
            StatTarget::File(file) => (file.raw(), EMPTY, libc::AT_EMPTY_PATH),
            StatTarget::Path { path, follow } => {
                let flags = if *follow { 0 } else { libc::AT_SYMLINK_NOFOLLOW };
                (libc::AT_FDCWD, path.as_c_str(), flags)
            }
        }
    }
}

const STATX_MASK: u32 = libc::STATX_BASIC_STATS | libc::STATX_BTIME;

impl OpCode for StatxOp {
    type Output = Metadata;
    fn uring_entry(&mut self, ring: &Ring) -> Option<squeue::Entry> {
        if !ring.supports(opcode::Statx::CODE) {
            return None;
        }
        let (dirfd, path, flags) = self.args();
        let path = path.as_ptr();
        // The path is a static empty string or a `CString` owned by `self`; the buffer is a
        // `Box` owned by `self`.
        let buf: *mut libc::statx = &mut *self.buf;
        let entry =
            opcode::Statx::new(types::Fd(dirfd), path, buf.cast()).flags(flags).mask(STATX_MASK).build();
        Some(entry)
    }
    fn uring_complete(&mut self, res: i32) -> io::Result<Metadata> {
        uring_result(res)?;
        Ok(Metadata::from_statx(&self.buf))
    }
    fn perform(&mut self) -> io::Result<Metadata> {
        let (dirfd, path, flags) = self.args();
        let mut buf = sys::statx_buf();
        sys::statx(dirfd, path, flags, STATX_MASK, &mut buf)?;
        Ok(Metadata::from_statx(&buf))
    }
}

/// unlinkat(2) of a file.
pub(crate) struct UnlinkOp {
    pub(crate) path: CString,
}

impl OpCode for UnlinkOp {
    type Output = ();
    fn uring_entry(&mut self, ring: &Ring) -> Option<squeue::Entry> {
        ring.supports(opcode::UnlinkAt::CODE)
            .then(|| opcode::UnlinkAt::new(types::Fd(libc::AT_FDCWD), self.path.as_ptr()).build())
    }
    fn uring_complete(&mut self, res: i32) -> io::Result<()> {
        uring_result(res).map(drop)
    }
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
    fn uring_entry(&mut self, ring: &Ring) -> Option<squeue::Entry> {
        ring.supports(opcode::RenameAt::CODE).then(|| {
            let cwd = types::Fd(libc::AT_FDCWD);
            opcode::RenameAt::new(cwd, self.from.as_ptr(), cwd, self.to.as_ptr()).build()
        })
    }
    fn uring_complete(&mut self, res: i32) -> io::Result<()> {
        uring_result(res).map(drop)
    }
    fn perform(&mut self) -> io::Result<()> {
        std::fs::rename(OsStr::from_bytes(self.from.as_bytes()), OsStr::from_bytes(self.to.as_bytes()))
    }
}
