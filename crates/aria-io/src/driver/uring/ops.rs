//! The io_uring form of every operation (see [`UringOp`]): its submission entry, how its
//! completion's result becomes the output, and what happens to an operation dropped in
//! flight. The operations themselves, with their readiness and blocking paths, live with
//! their types (`net::ops`, `fs::ops`, `io::pipe`); this file is their io_uring room.
//!
//! Every pointer in an entry points into heap memory owned by the operation (a `Vec`'s
//! buffer, a `CString`, a boxed address, message or `statx`, or static data), and every
//! descriptor is kept open by the operation (its `Arc<IoSource>` or `FileRef`), so both stay
//! valid when the operation value moves and until its completion (see [`super`]).

use std::io;
use std::os::fd::{AsFd, AsRawFd, OwnedFd};

use io_uring::{opcode, squeue, types};

use super::Ring;
use crate::driver::op::{Native, OpCode};
use crate::driver::registration::AbandonedRead;
use crate::sys;
use crate::sys::fs::MAX_RW;

/// The io_uring offset meaning "the file position" (and advance it), as read(2) does.
const CURRENT_POSITION: u64 = u64::MAX;

/// The opcode of an operation asked about with [`native`](crate::driver::op::native).
pub(crate) fn opcode_of(kind: Native) -> u8 {
    match kind {
        Native::Connect => opcode::Connect::CODE,
        Native::SendMsg => opcode::SendMsg::CODE,
        Native::RecvMsg => opcode::RecvMsg::CODE,
    }
}

/// An io_uring completion's result as the system call would return it: `-errno` becomes the
/// error, anything else is a count (bytes moved) or a descriptor number.
pub(crate) fn uring_result(res: i32) -> io::Result<usize> {
    if res < 0 {
        Err(io::Error::from_raw_os_error(-res))
    } else {
        Ok(res as usize)
    }
}

/// Marks `n` more bytes of `buf`'s spare capacity as initialised, after the kernel wrote them
/// (an io_uring read completion reporting `n`).
fn assume_init_spare(buf: &mut Vec<u8>, n: usize) {
    let n = n.min(buf.capacity() - buf.len());
    // SAFETY: the kernel reported writing `n` bytes at the start of the spare capacity, which
    // is where the read was pointed; `n` is clamped to the capacity.
    unsafe { buf.set_len(buf.len() + n) };
}

/// A read of a stream into `buf`'s spare capacity completed with `res`: the bytes become
/// part of `buf`.
fn complete_spare_read(buf: &mut Vec<u8>, res: i32) -> io::Result<usize> {
    let n = uring_result(res)?;
    assume_init_spare(buf, n);
    Ok(n)
}

/// The cancel hook of such a read dropped in flight: what it received is kept for the next
/// read of its stream (see `registration`, *the stash*).
fn keep_abandoned_read(buf: &mut Vec<u8>, res: i32, abandoned: Option<&AbandonedRead>) {
    if let (Ok(n), Some(abandoned)) = (complete_spare_read(buf, res), abandoned) {
        abandoned.keep(&buf[buf.len() - n..]);
    }
}

/// The io_uring form of an operation.
pub(crate) trait UringOp: OpCode {
    /// The submission entry (its `user_data` is set by the driver), or `None` for the
    /// fallback path (typically: `ring` does not [support](Ring::supports) the opcode).
    /// Every pointer in the entry must point into heap memory owned by `self` (it stays valid
    /// when `self` moves) and every descriptor must be kept open by `self`.
    fn uring_entry(&mut self, ring: &Ring) -> Option<squeue::Entry>;

    /// Turns the completion's result (`-errno`, or a count or descriptor) into the output.
    fn uring_complete(&mut self, res: i32) -> io::Result<Self::Output>;

    /// The `Op` is being dropped while the operation is in the kernel. Called on the
    /// dropping thread before the value is handed to the ring (so before the drop returns),
    /// whatever happens to the request next. A read of a stream takes an
    /// [`AbandonedRead`] here, so that the next reads of its stream wait for it and return
    /// what it received first (see
    /// [`registration`](crate::driver::registration#reads-abandoned-in-flight-the-stash)). The
    /// default does nothing.
    fn abandoned(&mut self) {}

    /// The cancel hook, called with the completion's result when the `Op` was dropped while
    /// the operation was in the kernel (`res` is `-ECANCELED` if the cancellation won the
    /// race). The default completes the operation and drops its output, which releases
    /// anything the operation produced (a descriptor, for an open).
    fn cancelled(&mut self, res: i32) {
        drop(self.uring_complete(res));
    }
}

// Sockets (`net::ops`).

impl UringOp for crate::net::ops::RecvOp {
    fn uring_entry(&mut self, ring: &Ring) -> Option<squeue::Entry> {
        if !ring.supports(opcode::Recv::CODE) {
            return None;
        }
        let fd = types::Fd(self.source.as_fd().as_raw_fd());
        let spare = self.buf.spare_capacity_mut();
        let len = u32::try_from(spare.len()).unwrap_or(u32::MAX);
        // The spare capacity is heap memory owned by `self.buf`: it stays put when the
        // operation value moves, and the Vec is not touched until the completion.
        Some(opcode::Recv::new(fd, spare.as_mut_ptr().cast(), len).build())
    }
    fn uring_complete(&mut self, res: i32) -> io::Result<usize> {
        complete_spare_read(&mut self.buf, res)
    }
    fn abandoned(&mut self) {
        self.abandoned = Some(AbandonedRead::new(&self.source));
    }
    fn cancelled(&mut self, res: i32) {
        keep_abandoned_read(&mut self.buf, res, self.abandoned.as_ref());
    }
}

impl UringOp for crate::net::ops::SendOp {
    fn uring_entry(&mut self, ring: &Ring) -> Option<squeue::Entry> {
        if !ring.supports(opcode::Send::CODE) {
            return None;
        }
        let fd = types::Fd(self.source.as_fd().as_raw_fd());
        let data = &self.buf[self.offset..];
        let len = u32::try_from(data.len()).unwrap_or(u32::MAX);
        // The bytes are heap memory owned by `self.buf`, untouched until the completion.
        Some(opcode::Send::new(fd, data.as_ptr(), len).flags(libc::MSG_NOSIGNAL).build())
    }
    fn uring_complete(&mut self, res: i32) -> io::Result<usize> {
        uring_result(res)
    }
}

impl UringOp for crate::net::ops::ConnectOp {
    fn uring_entry(&mut self, ring: &Ring) -> Option<squeue::Entry> {
        if !ring.supports(opcode::Connect::CODE) {
            return None;
        }
        let fd = types::Fd(self.source.as_fd().as_raw_fd());
        // The address is heap memory owned by `self`, untouched until the completion.
        Some(opcode::Connect::new(fd, self.addr.as_ptr().cast(), self.addr.len()).build())
    }
    fn uring_complete(&mut self, res: i32) -> io::Result<()> {
        uring_result(res).map(drop)
    }
}

impl UringOp for crate::net::ops::SendMsgOp {
    fn uring_entry(&mut self, ring: &Ring) -> Option<squeue::Entry> {
        if !ring.supports(opcode::SendMsg::CODE) {
            return None;
        }
        let fd = types::Fd(self.source.as_fd().as_raw_fd());
        // The header, its iovec, the data, the control buffer and the descriptors it names
        // are owned by `self.msg` at stable heap addresses until the completion.
        let entry = opcode::SendMsg::new(fd, self.msg.as_mut_ptr()).flags(libc::MSG_NOSIGNAL as u32).build();
        Some(entry)
    }
    fn uring_complete(&mut self, res: i32) -> io::Result<usize> {
        uring_result(res)
    }
}

impl UringOp for crate::net::ops::RecvMsgOp {
    fn uring_entry(&mut self, ring: &Ring) -> Option<squeue::Entry> {
        if !ring.supports(opcode::RecvMsg::CODE) {
            return None;
        }
        let fd = types::Fd(self.source.as_fd().as_raw_fd());
        // The header, its iovec, the data and control buffers are owned by `self.msg` at
        // stable heap addresses until the completion; the kernel writes the header's
        // `msg_controllen` and `msg_flags`, read back by `received`.
        let entry =
            opcode::RecvMsg::new(fd, self.msg.as_mut_ptr()).flags(libc::MSG_CMSG_CLOEXEC as u32).build();
        Some(entry)
    }
    fn uring_complete(&mut self, res: i32) -> io::Result<(usize, Vec<OwnedFd>)> {
        let n = uring_result(res)?;
        Ok((n, self.msg.received(n)?))
    }
    fn abandoned(&mut self) {
        if self.stream {
            self.abandoned = Some(AbandonedRead::new(&self.source));
        }
    }
    /// Closes the descriptors the receive got (also after a truncated control message),
    /// and keeps its bytes for the next read of a stream.
    fn cancelled(&mut self, res: i32) {
        let Ok(n) = uring_result(res) else { return };
        drop(self.msg.received(n));
        if let Some(abandoned) = &self.abandoned {
            abandoned.keep(&self.msg.data()[..n]);
        }
    }
}

// Files (`fs::ops`).

impl UringOp for crate::fs::ops::OpenOp {
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
        Ok(sys::fs::file_from_raw(fd as i32))
    }
}

impl UringOp for crate::fs::ops::ReadOp {
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
        assume_init_spare(&mut self.buf, n);
        Ok(n)
    }
}

impl UringOp for crate::fs::ops::WriteOp {
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
}

impl UringOp for crate::fs::ops::SyncOp {
    fn uring_entry(&mut self, ring: &Ring) -> Option<squeue::Entry> {
        let flags = if self.data_only { types::FsyncFlags::DATASYNC } else { types::FsyncFlags::empty() };
        ring.supports(opcode::Fsync::CODE)
            .then(|| opcode::Fsync::new(types::Fd(self.file.raw())).flags(flags).build())
    }
    fn uring_complete(&mut self, res: i32) -> io::Result<()> {
        uring_result(res).map(drop)
    }
}

impl UringOp for crate::fs::ops::TruncateOp {
    fn uring_entry(&mut self, ring: &Ring) -> Option<squeue::Entry> {
        ring.supports(opcode::Ftruncate::CODE)
            .then(|| opcode::Ftruncate::new(types::Fd(self.file.raw()), self.len).build())
    }
    fn uring_complete(&mut self, res: i32) -> io::Result<()> {
        uring_result(res).map(drop)
    }
}

impl UringOp for crate::fs::ops::StatxOp {
    fn uring_entry(&mut self, ring: &Ring) -> Option<squeue::Entry> {
        if !ring.supports(opcode::Statx::CODE) {
            return None;
        }
        let (dirfd, path, flags) = self.target.args();
        let path = path.as_ptr();
        // The path is a static empty string or a `CString` owned by `self`; the buffer is a
        // `Box` owned by `self`.
        let buf: *mut libc::statx = &mut *self.buf;
        let entry =
            opcode::Statx::new(types::Fd(dirfd), path, buf.cast()).flags(flags).mask(sys::STATX_MASK).build();
        Some(entry)
    }
    fn uring_complete(&mut self, res: i32) -> io::Result<crate::fs::Metadata> {
        uring_result(res)?;
        Ok(crate::fs::Metadata::from_stat(&sys::stat_fields(&self.buf)))
    }
}

impl UringOp for crate::fs::ops::UnlinkOp {
    fn uring_entry(&mut self, ring: &Ring) -> Option<squeue::Entry> {
        ring.supports(opcode::UnlinkAt::CODE)
            .then(|| opcode::UnlinkAt::new(types::Fd(libc::AT_FDCWD), self.path.as_ptr()).build())
    }
    fn uring_complete(&mut self, res: i32) -> io::Result<()> {
        uring_result(res).map(drop)
    }
}

impl UringOp for crate::fs::ops::RenameOp {
    fn uring_entry(&mut self, ring: &Ring) -> Option<squeue::Entry> {
        ring.supports(opcode::RenameAt::CODE).then(|| {
            let cwd = types::Fd(libc::AT_FDCWD);
            opcode::RenameAt::new(cwd, self.from.as_ptr(), cwd, self.to.as_ptr()).build()
        })
    }
    fn uring_complete(&mut self, res: i32) -> io::Result<()> {
        uring_result(res).map(drop)
    }
}

// Pipes (`io::pipe`).

impl UringOp for crate::io::pipe::ReadOp {
    fn uring_entry(&mut self, _ring: &Ring) -> Option<squeue::Entry> {
        let fd = types::Fd(self.source.as_fd().as_raw_fd());
        let spare = self.buf.spare_capacity_mut();
        let len = u32::try_from(spare.len()).unwrap_or(u32::MAX);
        // The spare capacity is heap memory owned by `self.buf`: it stays put when the
        // operation value moves, and the Vec is not touched until the completion.
        let entry = opcode::Read::new(fd, spare.as_mut_ptr().cast(), len).offset(u64::MAX).build();
        Some(entry)
    }
    fn uring_complete(&mut self, res: i32) -> io::Result<usize> {
        complete_spare_read(&mut self.buf, res)
    }
    fn abandoned(&mut self) {
        self.abandoned = Some(AbandonedRead::new(&self.source));
    }
    fn cancelled(&mut self, res: i32) {
        keep_abandoned_read(&mut self.buf, res, self.abandoned.as_ref());
    }
}

impl UringOp for crate::io::pipe::WriteOp {
    fn uring_entry(&mut self, _ring: &Ring) -> Option<squeue::Entry> {
        let fd = types::Fd(self.source.as_fd().as_raw_fd());
        let len = u32::try_from(self.buf.len()).unwrap_or(u32::MAX);
        // The bytes are heap memory owned by `self.buf`, untouched until the completion.
        Some(opcode::Write::new(fd, self.buf.as_ptr(), len).offset(u64::MAX).build())
    }
    fn uring_complete(&mut self, res: i32) -> io::Result<usize> {
        uring_result(res)
    }
}

// Splicing (`io::splice`).

impl UringOp for crate::io::splice::SpliceOp {
    fn uring_entry(&mut self, ring: &Ring) -> Option<squeue::Entry> {
        if !ring.supports(opcode::Splice::CODE) {
            return None;
        }
        let src = types::Fd(self.src.fd().as_raw_fd());
        let dst = types::Fd(self.dst.fd().as_raw_fd());
        let len = u32::try_from(self.len).unwrap_or(u32::MAX);
        // Offsets -1: the file position (which the kernel advances), and none for a pipe.
        // Both descriptors are kept open by `self`; no user memory is involved.
        let entry = opcode::Splice::new(src, -1, dst, -1, len)
            .flags(libc::SPLICE_F_NONBLOCK | libc::SPLICE_F_MOVE)
            .build();
        Some(entry)
    }

    fn uring_complete(&mut self, res: i32) -> io::Result<usize> {
        uring_result(res)
    }
}
