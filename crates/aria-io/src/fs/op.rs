//! How a file operation runs: natively on io_uring, otherwise on the blocking pool (see the
//! [module docs](super) for the rules this file implements).
//!
//! A [`FileOp`] owns its operation value (descriptor reference, path, buffers) from the
//! first poll until it completes, and hands it back with the result. It mirrors the
//! driver's `Op` for descriptors that are not registered with the driver: regular files
//! are always "ready", so they have no readiness registration, only completions.

use std::future::Future;
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::task::{Context, Poll, Waker};

use io_uring::{opcode, squeue, IoUring, Probe};

use crate::blocking::{self, BlockingJoinHandle};
use crate::driver::{self, Backend};
use crate::runtime::context;

/// One kind of file operation.
pub(crate) trait FileOpCode: Unpin + Send + Sized + 'static {
    /// What a successful completion yields.
    type Output: Send + 'static;
    /// io_uring: the submission entry, or `None` when the kernel lacks the opcode (the
    /// operation then runs on the blocking pool). Every pointer in the entry must point into
    /// heap memory owned by `self`, so it stays valid when `self` moves.
    fn uring_entry(&mut self, caps: Caps) -> Option<squeue::Entry>;
    /// io_uring: turns the completion's result (`-errno` or a count/descriptor) into the output.
    fn uring_complete(&mut self, res: i32) -> io::Result<Self::Output>;
    /// The blocking system call, run on a pool thread.
    fn blocking(&mut self) -> io::Result<Self::Output>;
}

/// The file opcodes this kernel's io_uring supports (probed once per process).
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Caps {
    pub(crate) openat: bool,
    pub(crate) read: bool,
    pub(crate) write: bool,
    pub(crate) fsync: bool,
    pub(crate) statx: bool,
    /// Linux 6.9+.
    pub(crate) ftruncate: bool,
    pub(crate) unlinkat: bool,
    pub(crate) renameat: bool,
}

/// Probes the opcodes with a small ring of our own, once: the runtime's ring does not expose
/// its probe. Any failure means "nothing supported" (every operation takes the pool).
fn caps() -> Caps {
    static CAPS: OnceLock<Caps> = OnceLock::new();
    *CAPS.get_or_init(|| {
        let Ok(ring) = IoUring::new(2) else { return Caps::default() };
        let mut probe = Probe::new();
        if ring.submitter().register_probe(&mut probe).is_err() {
            return Caps::default();
        }
        Caps {
            openat: probe.is_supported(opcode::OpenAt::CODE),
            read: probe.is_supported(opcode::Read::CODE),
            write: probe.is_supported(opcode::Write::CODE),
            fsync: probe.is_supported(opcode::Fsync::CODE),
            statx: probe.is_supported(opcode::Statx::CODE),
            ftruncate: probe.is_supported(opcode::Ftruncate::CODE),
            unlinkat: probe.is_supported(opcode::UnlinkAt::CODE),
            renameat: probe.is_supported(opcode::RenameAt::CODE),
        }
    })
}

/// A file operation in progress. Completes with the result and the operation value.
pub(crate) struct FileOp<T: FileOpCode> {
    state: State<T>,
    /// If dropped while in flight on io_uring, let it finish on a task instead of cancelling
    /// it (for operations whose output owns a resource, such as an opened descriptor, or
    /// whose effect was already promised, such as a buffered write).
    detach: bool,
}

enum State<T: FileOpCode> {
    Start(T),
    Uring { op: T, key: usize, driver: Arc<driver::Handle> },
    Blocking(BlockingJoinHandle<(io::Result<T::Output>, T)>),
    Done,
}

impl<T: FileOpCode> FileOp<T> {
    pub(crate) fn new(op: T) -> FileOp<T> {
        FileOp { state: State::Start(op), detach: false }
    }

    /// An operation that, if dropped in flight, finishes on a task of the runtime it was
    /// submitted to (its output then dropped) rather than being cancelled.
    pub(crate) fn detached(op: T) -> FileOp<T> {
        FileOp { state: State::Start(op), detach: true }
    }
}

impl<T: FileOpCode> Future for FileOp<T> {
    type Output = (io::Result<T::Output>, T);

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        loop {
            match std::mem::replace(&mut this.state, State::Done) {
                State::Start(mut op) => {
                    if let Ok(driver) = context::driver_handle() {
                        if let Backend::Uring(ring) = &driver.backend {
                            if let Some(entry) = op.uring_entry(caps()) {
                                let Some(key) = ring.push_op(entry, cx.waker()) else {
                                    return Poll::Ready((Err(shut_down()), op));
                                };
                                driver.unpark_if_remote();
                                this.state = State::Uring { op, key, driver };
                                return Poll::Pending;
                            }
                        }
                    }
                    match blocking::spawn_with(op, |mut op: T| (op.blocking(), op)) {
                        Ok(handle) => this.state = State::Blocking(handle),
                        Err((op, e)) => return Poll::Ready((Err(e), op)),
                    }
                }
                State::Uring { mut op, key, driver } => {
                    let res = match &driver.backend {
                        Backend::Uring(ring) => ring.poll_op(key, cx.waker()),
                        Backend::Epoll(_) => Some(-libc::EINVAL), // never: the key came from a ring
                    };
                    let Some(res) = res else {
                        this.state = State::Uring { op, key, driver };
                        return Poll::Pending;
                    };
                    let out = op.uring_complete(res);
                    return Poll::Ready((out, op));
                }
                State::Blocking(mut handle) => match Pin::new(&mut handle).poll(cx) {
                    Poll::Pending => {
                        this.state = State::Blocking(handle);
                        return Poll::Pending;
                    }
                    Poll::Ready(Ok(out)) => return Poll::Ready(out),
                    // A system call wrapper panicked: a bug, surfaced in the caller's task.
                    Poll::Ready(Err(e)) => match e.try_into_panic() {
                        Ok(payload) => std::panic::resume_unwind(payload),
                        Err(e) => panic!("the blocking pool dropped an accepted file operation: {e}"),
                    },
                },
                State::Done => panic!("FileOp polled after completion"),
            }
        }
    }
}

impl<T: FileOpCode> Drop for FileOp<T> {
    fn drop(&mut self) {
        // Blocking: dropping the handle leaves the job to finish; it owns the operation (and
        // its buffers) until the system call returns, then drops it on the pool thread.
        let State::Uring { op, key, driver } = std::mem::replace(&mut self.state, State::Done) else {
            return;
        };
        if self.detach {
            let shared = context::current().filter(|s| Arc::ptr_eq(&s.driver, &driver));
            if let Some(shared) = shared {
                let rest = FileOp { state: State::Uring { op, key, driver }, detach: false };
                // If the runtime is shutting down the task is dropped at once, and `rest`
                // falls back to cancelling below.
                drop(shared.spawn(async move {
                    let _ = rest.await;
                }));
                return;
            }
        }
        if let Backend::Uring(ring) = &driver.backend {
            // The kernel may still use `op`'s memory: the ring keeps it until the completion
            // arrives (or gives it back now if it already has).
            drop(ring.cancel_op(key, Box::new(op)));
        }
    }
}

fn shut_down() -> io::Error {
    io::Error::other("the runtime this file operation was submitted to has shut down")
}

/// What a [`File`](super::File) shares with its operations: the descriptor (closed when the
/// file and every operation still in flight are gone) and the count of those operations.
#[derive(Debug)]
pub(crate) struct FileShared {
    file: std::fs::File,
    path: PathBuf,
    in_flight: Mutex<InFlight>,
}

#[derive(Debug, Default)]
struct InFlight {
    count: usize,
    waker: Option<Waker>,
}

impl FileShared {
    pub(crate) fn new(file: std::fs::File, path: PathBuf) -> Arc<FileShared> {
        Arc::new(FileShared { file, path, in_flight: Mutex::default() })
    }

    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    pub(crate) fn file(&self) -> &std::fs::File {
        &self.file
    }

    fn lock(&self) -> MutexGuard<'_, InFlight> {
        self.in_flight.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Ready once no operation on this file is in flight (in the kernel or on the pool).
    pub(crate) fn poll_idle(&self, cx: &mut Context<'_>) -> Poll<()> {
        let mut st = self.lock();
        if st.count == 0 {
            return Poll::Ready(());
        }
        match &st.waker {
            Some(w) if w.will_wake(cx.waker()) => {}
            _ => st.waker = Some(cx.waker().clone()),
        }
        Poll::Pending
    }
}

impl AsFd for FileShared {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.file.as_fd()
    }
}

/// An operation's reference to its file: keeps the descriptor open (so its number cannot be
/// reused while the kernel may still use it) and counts as "in flight" until dropped.
#[derive(Debug)]
pub(crate) struct FileRef(Arc<FileShared>);

impl FileRef {
    pub(crate) fn new(shared: &Arc<FileShared>) -> FileRef {
        shared.lock().count += 1;
        FileRef(shared.clone())
    }

    pub(crate) fn raw(&self) -> RawFd {
        self.0.file.as_raw_fd()
    }

    pub(crate) fn file(&self) -> &std::fs::File {
        &self.0.file
    }
}

impl Drop for FileRef {
    fn drop(&mut self) {
        let waker = {
            let mut st = self.0.lock();
            st.count -= 1;
            if st.count == 0 {
                st.waker.take()
            } else {
                None
            }
        };
        if let Some(w) = waker {
            w.wake();
        }
    }
}
