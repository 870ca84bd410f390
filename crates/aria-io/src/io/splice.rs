//! The splice(2) operation of [`copy`](super::copy) when one end is a file, and the
//! intermediate pipes of copies where neither end is a pipe.
//!
//! A [`SpliceOp`] moves bytes between two descriptors, one of them a pipe, through the
//! driver's [`Op`](crate::driver::op::Op): `IORING_OP_SPLICE` on io_uring (the kernel runs it
//! on its io-wq workers, since a file may block), splice(2) on the blocking pool on epoll (a
//! regular file is always "ready", so readiness cannot make it asynchronous). Files take
//! part with their file position (offset `-1` / `NULL`), which the kernel advances.
//!
//! Pipes are non-blocking (`SPLICE_F_NONBLOCK`, and `O_NONBLOCK` on registered pipes), so an
//! operation never waits for a pipe: it moves what is there (or what fits) and reports
//! `WouldBlock` when that is nothing; the caller then waits for the pipe's readiness on its
//! registration and tries again.

use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::sync::{Arc, Mutex};

use io_uring::{opcode, squeue, types};

use crate::driver::op::{uring_result, OpCode};
use crate::driver::uring::Ring;
use crate::driver::{lock, IoSource};
use crate::fs::FileRef;
use crate::sys;

/// Bytes asked of one splice(2), and the pipe size requested with `F_SETPIPE_SZ` (the
/// default `/proc/sys/fs/pipe-max-size`).
pub(super) const CHUNK: usize = 1 << 20;
/// The most one splice operation between a pipe and a file is asked to move. On the blocking
/// pool that takes several splices (of at most [`CHUNK`]), so that one trip to the pool moves
/// as much as is ready, yet a dropped copy stops within a bounded amount of work. On io_uring
/// one splice moves at most what the pipe holds or has room for.
pub(super) const BATCH: usize = 16 * CHUNK;

/// How long a splice on the blocking pool waits for a pipe to become ready again before it
/// returns what it moved (milliseconds).
const LINGER_MS: libc::c_int = 1;

/// One end of a splice, kept open by the operation for as long as the kernel may use it.
pub(super) enum SpliceFd {
    /// A registered pipe end.
    Pipe(Arc<IoSource>),
    /// A file, at its file position (the reference also counts as in flight on the file).
    File(FileRef),
    /// An end of an intermediate pipe.
    Mid(Arc<MidPipe>, MidEnd),
}

/// Which end of a [`MidPipe`].
#[derive(Clone, Copy, Debug)]
pub(super) enum MidEnd {
    Read,
    Write,
}

impl SpliceFd {
    fn fd(&self) -> BorrowedFd<'_> {
        match self {
            SpliceFd::Pipe(source) => source.as_fd(),
            SpliceFd::File(file) => file.file().as_fd(),
            SpliceFd::Mid(pipe, MidEnd::Read) => pipe.read.as_fd(),
            SpliceFd::Mid(pipe, MidEnd::Write) => pipe.write.as_fd(),
        }
    }
}

/// splice(2) of up to `len` bytes from `src` to `dst`; `Ok(0)` at end of input,
/// `WouldBlock` when a pipe end is empty (source) or full (destination) before any byte
/// moved.
pub(super) struct SpliceOp {
    pub(super) src: SpliceFd,
    pub(super) dst: SpliceFd,
    pub(super) len: usize,
}

impl OpCode for SpliceOp {
    type Output = usize;

    /// On the blocking pool: splices (at most [`CHUNK`] at a time) until the input ends,
    /// `len` bytes moved, or a registered pipe stays empty (source) or full (destination)
    /// for [`LINGER_MS`] after some bytes moved. Lingering lets one trip to the pool move a
    /// whole batch while a producer keeps up, as a blocking loop would, instead of going
    /// back to the task (and the driver) every time the pipe runs dry for a moment.
    ///
    /// An error after some bytes moved returns the count; the next operation meets the error
    /// again (`EPIPE`, `ENOSPC`...) and reports it, so no byte goes uncounted.
    fn perform(&mut self) -> io::Result<usize> {
        let (src, dst) = (self.src.fd(), self.dst.fd());
        let linger = match (&self.src, &self.dst) {
            (SpliceFd::Pipe(p), _) => Some((p.as_fd(), libc::POLLIN)),
            (_, SpliceFd::Pipe(p)) => Some((p.as_fd(), libc::POLLOUT)),
            _ => None,
        };
        let mut moved = 0;
        while moved < self.len {
            match sys::splice(src, dst, (self.len - moved).min(CHUNK)) {
                Ok(0) => break,
                Ok(n) => moved += n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock && moved > 0 => match linger {
                    // A poll error ends the batch with the bytes moved; the next splice meets it.
                    Some((fd, events)) if sys::poll_one(fd, events, LINGER_MS).unwrap_or(false) => {}
                    _ => break,
                },
                Err(_) if moved > 0 => break,
                Err(e) => return Err(e),
            }
        }
        Ok(moved)
    }

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

/// An intermediate pipe for copies between two descriptors neither of which is a pipe:
/// non-blocking, close-on-exec, grown to 1 MiB where `/proc/sys/fs/pipe-max-size` allows.
#[derive(Debug)]
pub(super) struct MidPipe {
    read: OwnedFd,
    write: OwnedFd,
    /// Its capacity in bytes (what `F_SETPIPE_SZ` granted).
    capacity: usize,
}

/// Empty intermediate pipes kept for the next copy (a few: creating one costs pipe2(2) and an
/// fcntl(2) to grow it, and each holds up to 1 MiB of kernel memory only while it has data
/// in it).
static CACHE: Mutex<Vec<MidPipe>> = Mutex::new(Vec::new());
const CACHED: usize = 4;

impl MidPipe {
    /// An empty intermediate pipe: from the cache, or new.
    pub(super) fn take() -> io::Result<MidPipe> {
        if let Some(pipe) = lock(&CACHE).pop() {
            return Ok(pipe);
        }
        let (read, write) = sys::pipe_nonblocking()?;
        // Refused above the limit for unprivileged processes: keep the default size then.
        let capacity = sys::set_pipe_size(write.as_fd(), CHUNK).or_else(|_| sys::pipe_size(write.as_fd()))?;
        Ok(MidPipe { read, write, capacity })
    }

    /// Its capacity in bytes.
    pub(super) fn capacity(&self) -> usize {
        self.capacity
    }

    /// The reading end.
    pub(super) fn read_end(&self) -> BorrowedFd<'_> {
        self.read.as_fd()
    }

    /// Gives back a pipe that holds no data and that no operation uses any more. A pipe
    /// still shared with an operation (its copy was dropped mid-transfer) is closed instead,
    /// when the last user drops it.
    pub(super) fn give_back(pipe: Arc<MidPipe>) {
        if let Ok(pipe) = Arc::try_unwrap(pipe) {
            let mut cache = lock(&CACHE);
            if cache.len() < CACHED {
                cache.push(pipe);
            }
        }
    }
}
