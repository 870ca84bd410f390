//! The splice(2) machinery of [`copy`](super::copy) when one end is a file: the [`Pump`]
//! that moves a pipe into a file, the [`SpliceOp`] operation for the other directions, and
//! the intermediate pipes of copies where neither end is a pipe.
//!
//! # Pipe to file: the pump
//!
//! splice(2) from a pipe into a file holds the pipe's mutex for the whole write into the
//! file (`iter_file_splice_write`: the page-cache copy, block allocation, and on tmpfs the
//! page allocation and memory-cgroup charge). The process filling the pipe then waits for that
//! mutex on every write, spinning while the owner runs: producer and consumer take turns
//! instead of overlapping, and the spinning burns the other CPU. So a [`Pump`] never splices
//! from the source straight into the file. Each round it
//!
//! 1. *takes* what the source holds with one pipe-to-pipe splice into a private 1 MiB
//!    [`MidPipe`]: buffer references change pipes, no byte is copied, and the source's mutex
//!    is held for microseconds;
//! 2. *delivers* the intermediate pipe into the file with splice(2), holding only the
//!    intermediate pipe's mutex, while the producer keeps writing into the source.
//!
//! The rounds run in a loop on one thread of the [blocking pool](crate::blocking) for as
//! long as the source keeps producing (a file write may block, and readiness cannot tell),
//! so the task, the driver and the pool take part once per burst instead of once per chunk.
//! When the source is empty the loop waits for it with poll(2); when it stays empty for
//! [`LINGER_MS`], the run ends ([`End::Idle`]) and the task waits for the pipe's readiness
//! on its registration, holding no thread, before it starts another run. A run that finds
//! the source empty before moving anything ends at once ([`End::Empty`]) so that the task
//! can clear the readiness it observed.
//!
//! ## Cancellation
//!
//! Dropping the [`Pump`] (the copy future was dropped) stops the run at once on the source
//! side and within one delivery on the file side:
//!
//! - The source is taken from only under the pump's `take` mutex, after checking the
//!   `cancelled` flag it guards. The drop sets the flag under that mutex, so when the drop
//!   returns no take is in progress and none will start: **the caller can read the pipe
//!   again and gets every byte the copy did not take.** The drop blocks for at most one
//!   non-blocking pipe-to-pipe splice (microseconds), never for the file.
//! - Then it writes the pump's eventfd, which the run polls next to the source, so a run
//!   waiting for data ends at once and releases its references to the pipe and the file
//!   (a run holds the pipe's descriptor open; the producer sees `EPIPE` only once it ends).
//! - A delivery in progress is not interrupted: the bytes in the intermediate pipe were
//!   taken from the source and go into the file, at its position, after the drop returned
//!   (at most 1 MiB, one delivery). The run holds a [`FileRef`], which counts as an operation
//!   in flight on the file, so the file's next operation (and the next copy into it) waits
//!   until that delivery is done: bytes are never lost, duplicated or reordered by a drop.
//! - No user memory is involved (splice(2) between descriptors, an 8-byte eventfd write
//!   from the stack), and the run owns references to every descriptor it uses, so nothing
//!   the kernel touches can be freed or reused under it.
//!
//! The bytes a copy reports were delivered into the file. After an error writing the file,
//! the bytes of the failed delivery (at most 1 MiB) were taken from the pipe and are lost.
//!
//! # Other directions
//!
//! A [`SpliceOp`] moves bytes between two descriptors, one of them a pipe, through the
//! driver's [`Op`](crate::driver::op::Op): `IORING_OP_SPLICE` on io_uring (the kernel runs it
//! on its io-wq workers, since a file may block), splice(2) on the blocking pool on epoll (a
//! regular file is always "ready", so readiness cannot make it asynchronous). Files take
//! part with their file position (offset `-1` / `NULL`), which the kernel advances.
//! Splicing a file *into* a pipe moves page references under the pipe's mutex, so it does
//! not need the pump.
//!
//! Pipes are non-blocking (`SPLICE_F_NONBLOCK`, and `O_NONBLOCK` on registered pipes), so an
//! operation never waits for a pipe: it moves what is there (or what fits) and reports
//! `WouldBlock` when that is nothing; the caller then waits for the pipe's readiness on its
//! registration and tries again.

use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::sync::{Arc, Mutex};

use crate::blocking;
use crate::driver::op::OpCode;

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
const OP_LINGER_MS: libc::c_int = 1;

/// How long a [`Pump`] run waits for an empty source before it hands the wait back to the
/// task (milliseconds): long enough to ride out a producer that was descheduled for a few
/// time slices, short enough that an idle copy soon stops holding a pool thread.
const LINGER_MS: libc::c_int = 10;

/// One end of a splice, kept open by the operation for as long as the kernel may use it.
pub(crate) enum SpliceFd {
    /// A registered pipe end.
    Pipe(Arc<IoSource>),
    /// A file, at its file position (the reference also counts as in flight on the file).
    File(FileRef),
    /// An end of an intermediate pipe.
    Mid(Arc<MidPipe>, MidEnd),
}

/// Which end of a [`MidPipe`].
#[derive(Clone, Copy, Debug)]
pub(crate) enum MidEnd {
    Read,
    Write,
}

impl SpliceFd {
    pub(crate) fn fd(&self) -> BorrowedFd<'_> {
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
pub(crate) struct SpliceOp {
    pub(crate) src: SpliceFd,
    pub(crate) dst: SpliceFd,
    pub(crate) len: usize,
}

impl OpCode for SpliceOp {
    type Output = usize;

    /// On the blocking pool: splices (at most [`CHUNK`] at a time) until the input ends,
    /// `len` bytes moved, or a registered pipe stays empty (source) or full (destination)
    /// for [`OP_LINGER_MS`] after some bytes moved. Lingering lets one trip to the pool move a
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
                    Some((fd, events)) if sys::poll_one(fd, events, OP_LINGER_MS).unwrap_or(false) => {}
                    _ => break,
                },
                Err(_) if moved > 0 => break,
                Err(e) => return Err(e),
            }
        }
        Ok(moved)
    }
}

/// An intermediate pipe for copies between two descriptors neither of which is a pipe:
/// non-blocking, close-on-exec, grown to 1 MiB where `/proc/sys/fs/pipe-max-size` allows.
#[derive(Debug)]
pub(crate) struct MidPipe {
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

    /// Reads the `len` bytes waiting in the pipe (without waiting: they are there), for the
    /// buffered path of a copy whose destination refused splice(2).
    ///
    /// # Errors
    /// The read(2) error, or `Other` if fewer than `len` bytes are there.
    pub(super) fn drain(&self, len: usize) -> io::Result<Vec<u8>> {
        let mut carry = Vec::with_capacity(len);
        while carry.len() < len {
            if sys::read_into_spare(self.read.as_fd(), &mut carry)? == 0 {
                return Err(io::Error::other("the intermediate pipe lost bytes"));
            }
        }
        Ok(carry)
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

/// Moves a registered pipe into a file through an intermediate pipe, in runs on the blocking
/// pool (see the [module docs](self) for the protocol). Dropping it stops the transfer.
pub(super) struct Pump {
    shared: Arc<Shared>,
    mid: Arc<MidPipe>,
    /// A run may be in progress (started, and not seen to end).
    running: bool,
}

/// What a pump and its runs share.
struct Shared {
    source: Arc<IoSource>,
    /// `cancelled`; held by a run for each take from the source.
    take: Mutex<bool>,
    /// Notified once, by the drop: wakes a run waiting for the source.
    wake: sys::Notifier,
}

/// How a run ended.
pub(super) enum End {
    /// End of input: the source has no writer left and is empty.
    Eof,
    /// The source was empty before the run moved anything.
    Empty,
    /// The source stayed empty for [`LINGER_MS`] after the run moved bytes.
    Idle,
    /// Taking from the source failed (nothing is pending).
    TakeFailed(io::Error),
    /// Delivering into the file failed; `pending` bytes taken from the source are still in the
    /// intermediate pipe.
    DeliverFailed { error: io::Error, pending: usize },
    /// The pump was dropped (only seen by the run itself).
    Cancelled,
}

/// What one run did: the bytes it delivered into the file, and how it ended.
pub(super) struct Run {
    pub(super) delivered: u64,
    pub(super) end: End,
}

impl Pump {
    /// A pump from `source` (a registered pipe), with an intermediate pipe from the cache.
    ///
    /// # Errors
    /// pipe2(2), fcntl(2), eventfd(2) or pipe(2) errors (`EMFILE`...).
    pub(super) fn new(source: Arc<IoSource>) -> io::Result<Pump> {
        let wake = sys::Notifier::new()?;
        let mid = Arc::new(MidPipe::take()?);
        let shared = Arc::new(Shared { source, take: Mutex::new(false), wake });
        Ok(Pump { shared, mid, running: false })
    }

    /// Runs the pump on the blocking pool into `file` (at its position) until the source
    /// ends, stays empty, or something fails.
    ///
    /// # Errors
    /// The pool cannot start a thread (`Run` errors are in its [`End`]).
    ///
    /// # Panics
    /// Resumes the panic of a run that panicked (a bug).
    pub(super) async fn run(&mut self, file: FileRef) -> io::Result<Run> {
        let shared = self.shared.clone();
        let state = (shared.clone(), self.mid.clone(), file);
        // The run waits for the source with poll(2) itself: while it runs, the producer's
        // writes should not also wake the driver (epoll) for an event no task waits for.
        let source = &shared.source;
        let _suspended = source.registration().suspend(source.as_fd().as_raw_fd());
        let handle =
            blocking::spawn_with(state, |(shared, mid, file): (Arc<Shared>, Arc<MidPipe>, FileRef)| {
                run(&shared, &mid, file.file().as_fd())
            })
            .map_err(|(_, e)| e)?;
        self.running = true;
        let res = handle.await;
        self.running = false;
        match res {
            Ok(run) => Ok(run),
            Err(e) => match e.try_into_panic() {
                Ok(payload) => std::panic::resume_unwind(payload),
                Err(e) => panic!("the blocking pool dropped an accepted pump run: {e}"),
            },
        }
    }

    /// Its intermediate pipe.
    pub(super) fn mid(&self) -> &MidPipe {
        &self.mid
    }

    /// Ends the pump after its last run: the intermediate pipe goes back to the cache if it
    /// is empty.
    pub(super) fn finish(self, mid_empty: bool) {
        let mid = self.mid.clone();
        drop(self);
        if mid_empty {
            MidPipe::give_back(mid);
        }
    }
}

impl Drop for Pump {
    fn drop(&mut self) {
        if !self.running {
            return;
        }
        // Waits out a take in progress (a non-blocking pipe-to-pipe splice); no later take
        // starts. Then wakes the run if it waits for the source.
        *lock(&self.shared.take) = true;
        self.shared.wake.notify();
    }
}

/// One run of the pump, on a pool thread: take, deliver, repeat (see the module docs).
fn run(shared: &Shared, mid: &MidPipe, file: BorrowedFd<'_>) -> Run {
    let source = shared.source.as_fd();
    let mut delivered = 0u64;
    let end = loop {
        let took = {
            let cancelled = lock(&shared.take);
            if *cancelled {
                break End::Cancelled;
            }
            sys::splice(source, mid.write.as_fd(), mid.capacity)
        };
        match took {
            Ok(0) => break End::Eof,
            Ok(n) => match deliver(mid, file, n) {
                Ok(()) => delivered += n as u64,
                Err((error, pending)) => break End::DeliverFailed { error, pending },
            },
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                if delivered == 0 {
                    break End::Empty;
                }
                match sys::poll_with_wake(source, libc::POLLIN, shared.wake.fd(), LINGER_MS) {
                    Ok((false, false)) => break End::Idle,
                    // Data, a hang-up, or the drop's wake-up (seen under the lock above).
                    Ok(_) => {}
                    Err(e) => break End::TakeFailed(e),
                }
            }
            Err(e) => break End::TakeFailed(e),
        }
    };
    Run { delivered, end }
}

/// Splices the `n` bytes waiting in the intermediate pipe into `file`; on failure, the error
/// and the bytes still waiting.
fn deliver(mid: &MidPipe, file: BorrowedFd<'_>, n: usize) -> Result<(), (io::Error, usize)> {
    let mut left = n;
    while left > 0 {
        match sys::splice(mid.read.as_fd(), file, left) {
            Ok(0) => {
                let e = io::Error::new(io::ErrorKind::WriteZero, "the file accepted no more bytes");
                return Err((e, left));
            }
            Ok(m) => left -= m,
            Err(e) => return Err((e, left)),
        }
    }
    Ok(())
}
