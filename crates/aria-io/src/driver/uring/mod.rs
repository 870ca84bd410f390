//! The io_uring backend (Linux 5.19+ for the features used).
//!
//! # How it implements the driver contract
//!
//! - **Completion operations** (read, write, recv, connect...) are submission queue entries
//!   whose `user_data` is `OP_TAG | key`, `key` indexing the `ops` slab. The slab slot holds
//!   the waiting task's waker, then the result. The operation's memory (buffers, a socket
//!   address) is owned by the `Op` future while it is polled.
//! - **Multishot requests** (`IORING_ACCEPT_MULTISHOT`) are `OP_TAG | key` too; their slot
//!   holds a [`Multishot`] receiver, handed every completion as it arrives, until the final
//!   one (no `IORING_CQE_F_MORE`) frees the key. Ending one early is an async-cancel whose
//!   effect is that final completion.
//! - **Cancellation.** When an `Op` is dropped before its completion arrived, its operation
//!   value (every buffer, and the reference that keeps its descriptor open) is moved into the
//!   slot as `Cancelled(Box<dyn Abandoned>)` and an `IORING_OP_ASYNC_CANCEL` is queued
//!   (unless the operation is *detached*: then it is left to finish). When the completion of
//!   the original request arrives (success, error or `-ECANCELED`) the driver hands its result
//!   to [`Abandoned::complete`], which runs the operation's cancel hook (closing a descriptor
//!   an `OPENAT` produced despite the cancellation, for example) and then frees it, so the
//!   kernel never writes into freed memory and never sees a descriptor number reused under
//!   it. Hooks run after the ring's lock is released (they may queue entries). When the
//!   driver is dropped it cancels everything in flight and waits for those completions before
//!   unmapping the rings; if it cannot (dropped on a thread that may not enter the ring), it
//!   leaks the in-flight operations rather than free them.
//! - **Probing.** The opcodes the kernel supports are probed once, at setup
//!   (`IORING_REGISTER_PROBE`), and answered by [`Ring::supports`]: an operation whose opcode
//!   is missing takes its fallback path (readiness, or the blocking pool).
//! - **Readiness** (for `AsyncRead`/`AsyncWrite` on borrowed buffers, and the driver's own
//!   descriptors) uses `IORING_OP_POLL_ADD`: one-shot polls armed on demand for registered
//!   I/O objects (`POLL_TAG | direction | key`), multishot polls for the wake-up eventfd, the
//!   signalfd and the signal fallback eventfd, one-shot polls for orphaned children's pidfds.
//!   A deregistered descriptor's armed polls are removed (`IORING_OP_POLL_REMOVE`) before its
//!   next turn, so the kernel's reference to the file is dropped and a pipe's other end sees
//!   end of file.
//! - **Batching.** Entries are pushed to the submission ring from any thread (under a mutex,
//!   a memory write, no system call) and submitted by the driver thread with one
//!   `io_uring_enter` per scheduler tick, which also waits for completions with the next
//!   timer deadline as its timeout.
//! - **Setup.** Which threads enter the ring decides the flags ([`Issuer`]). Completions that
//!   need the kernel's task work (most of them) are finished in the context of the thread
//!   that *submitted* the request, which matters when threads share a ring:
//!   - A ring that one thread owns for its whole life (a thread-per-core core) gets
//!     `IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN` (6.1+): created disabled and
//!     enabled by the first thread that turns it, which then is the only thread that enters
//!     it, and task work runs only when that thread asks for completions.
//!   - A ring that one thread at a time drives, and that is the only place that thread sleeps
//!     (a current-thread `Runtime`, which is `Send` and may `block_on` from one thread, then
//!     another), gets `IORING_SETUP_COOP_TASKRUN | TASKRUN_FLAG` (5.19+): task work waits
//!     for the submitter's next entry into the kernel instead of interrupting it.
//!   - A ring shared by the multi-thread runtime's workers gets no task-run flags: a worker
//!     that submitted a request may be asleep on a condition variable while another waits in
//!     the ring, and only the default notification (which interrupts the submitter's sleep to
//!     run the task work) lets that completion reach the waiting worker. With
//!     `COOP_TASKRUN` it would never arrive.
//!
//!   Each falls back to the next weaker setup, then to no flags.
//!
//! # References
//! io_uring_setup(2), io_uring_enter(2), io_uring_register(2), liburing's `io_uring_prep_*`
//! man pages.

use std::collections::VecDeque;
use std::io;
use std::os::fd::{AsRawFd, RawFd};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, OnceLock};
use std::task::Waker;
use std::thread::ThreadId;
use std::time::Duration;

pub(crate) mod multishot;
pub(crate) mod ops;

use io_uring::{cqueue, opcode, squeue, types, IoUring};
use slab::Slab;

use super::{lock, poll_token, Issuer, KEY_MASK};

/// Completions of operations: the low bits are the `ops` slab key.
pub(crate) const OP_TAG: u64 = 1 << 61;
/// Completions of cancel/remove requests themselves: ignored.
const CANCEL_TAG: u64 = 1 << 58;

const ENTRIES: u32 = 256;
/// Completion queue size. At most this many requests (minus a margin) are in flight at once,
/// so the completion queue never overflows; more wait in the backlog until completions make
/// room. Cancel and poll-remove requests, which finish at once and free room, bypass the
/// limit (they use the margin), so a full budget of long-lived reads can always be cancelled.
const CQ_ENTRIES: u32 = 16384;
const MAX_IN_FLIGHT: usize = CQ_ENTRIES as usize - 1024;

/// An operation whose future was dropped while the kernel may still use its memory. The
/// ring keeps it until the completion of the original request arrives.
pub(crate) trait Abandoned: Send {
    /// The completion arrived with `res` (`-ECANCELED` if the cancellation won): release
    /// whatever the operation produced (its cancel hook), then free it. Called without the
    /// ring's lock held: on the thread that turns the driver, or on the thread that dropped
    /// the `Op` if the completion had already arrived (and at the driver's shutdown).
    fn complete(self: Box<Self>, res: i32);
}

/// The receiver of a multishot request's completions (`IORING_ACCEPT_MULTISHOT`...): one
/// request, many completions, each handed over as it arrives. The ring holds the receiver
/// from [`Ring::push_multishot`] until the request's final completion (the one without
/// `IORING_CQE_F_MORE`), so whatever the receiver owns (the descriptor the request targets)
/// outlives the request.
pub(crate) trait Multishot: Send + Sync + 'static {
    /// One completion: `res` is the result (a descriptor, a count, or `-errno`); `more` is
    /// false on the final one, after which the request is over and its key is free.
    /// Called without the ring's lock held: on the thread that turns the driver, or at the
    /// driver's shutdown.
    fn complete(&self, res: i32, more: bool);
}

/// A completion handed over after the ring's lock is released: an abandoned operation's
/// (its cancel hook runs, then it is freed) or one of a multishot request's (its receiver
/// gets it; `more` as in [`Multishot::complete`]).
enum Finished {
    Abandoned(Box<dyn Abandoned>),
    Shot(std::sync::Arc<dyn Multishot>, bool),
}

impl Finished {
    fn complete(self, res: i32) {
        match self {
            Finished::Abandoned(op) => op.complete(res),
            Finished::Shot(sink, more) => sink.complete(res, more),
        }
    }
}

enum OpSlot {
    Waiting(Option<Waker>),
    Done(i32),
    /// The `Op` was dropped; its memory lives here until the completion arrives.
    Cancelled(Box<dyn Abandoned>),
    /// A multishot request, until its final completion.
    Multishot(std::sync::Arc<dyn Multishot>),
}

struct Inner {
    ring: IoUring,
    ops: Slab<OpSlot>,
    /// Entries that did not fit in the submission ring or the in-flight limit.
    backlog: VecDeque<squeue::Entry>,
    /// Cancel/remove requests that did not fit in the submission ring (not limited).
    urgent: VecDeque<squeue::Entry>,
    /// Completions for the driver to dispatch, collected under the lock and handled after it
    /// is released (dispatching may queue new entries). Kept to reuse its allocation.
    events: Vec<Event>,
    /// An `R_DISABLED` ring was enabled by its issuer.
    enabled: bool,
    /// Requests pushed to the submission ring whose final completion has not been seen.
    in_flight: usize,
    /// Shutdown gave up on requests the kernel may still use: their slots were forgotten
    /// together with their memory, and their `Op`s must never get it back.
    leaked: bool,
}

/// An io_uring instance and the state of the operations in flight on it.
pub(crate) struct Ring {
    inner: Mutex<Inner>,
    /// The thread that enabled the ring, or first entered it.
    issuer: OnceLock<ThreadId>,
    /// Only `issuer` may enter the ring (`IORING_SETUP_SINGLE_ISSUER`).
    single_issuer: bool,
    /// The driver shut down: no new operation is accepted.
    closed: AtomicBool,
    /// The opcodes the kernel supports, one bit per opcode number (from the setup probe).
    supported: [u64; 4],
}

impl std::fmt::Debug for Ring {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ring").field("supported", &self.supported).finish_non_exhaustive()
    }
}

/// A completion the driver dispatches itself (not an operation).
pub(crate) struct Event {
    pub(crate) user_data: u64,
    pub(crate) result: i32,
    /// For multishot polls: false when the kernel ended the poll and it must be re-armed.
    pub(crate) more: bool,
}

impl Ring {
    /// Sets up a ring, trying the best flags first, and probes the opcodes the driver needs.
    ///
    /// # Errors
    /// `Unsupported` (naming the reason) when io_uring is unavailable: disabled by
    /// `/proc/sys/kernel/io_uring_disabled`, blocked by seccomp, or too old a kernel.
    pub(crate) fn new(issuer: Issuer) -> io::Result<Ring> {
        // Best first: single issuer with deferred task run (6.1) where one thread owns the
        // ring, cooperative task run (5.19), then no flags.
        let single: fn(&mut io_uring::Builder) = |b| {
            b.setup_single_issuer().setup_defer_taskrun().setup_r_disabled();
        };
        let coop: fn(&mut io_uring::Builder) = |b| {
            b.setup_coop_taskrun().setup_taskrun_flag();
        };
        let plain: fn(&mut io_uring::Builder) = |_| {};
        // Each attempt: how to configure the builder, and whether it makes a single issuer.
        type Attempt = (fn(&mut io_uring::Builder), bool);
        let attempts: &[Attempt] = match issuer {
            Issuer::OneThread => &[(single, true), (coop, false), (plain, false)],
            Issuer::OneAtATime => &[(coop, false), (plain, false)],
            Issuer::AnyThread => &[(plain, false)],
        };
        let mut last = None;
        for &(configure, single_issuer) in attempts {
            let mut builder = IoUring::builder();
            builder.setup_cqsize(CQ_ENTRIES);
            configure(&mut builder);
            match builder.build(ENTRIES) {
                Ok(ring) => return Ring::probe(ring, single_issuer),
                Err(e) => last = Some(e),
            }
        }
        let e = last.unwrap_or_else(|| io::Error::other("no attempt made"));
        Err(unavailable(e))
    }

    fn probe(ring: IoUring, single_issuer: bool) -> io::Result<Ring> {
        let mut probe = io_uring::Probe::new();
        ring.submitter().register_probe(&mut probe).map_err(unavailable)?;
        // The waits pass their timeout with IORING_ENTER_EXT_ARG (5.11), and the wake-up
        // eventfd and the signalfd are watched by multishot polls (5.13): below the documented
        // minimum (5.19, the kernel of IORING_OP_SOCKET), the runtime falls back to epoll.
        if !ring.params().is_feature_ext_arg() {
            return Err(io::Error::new(
                io::ErrorKind::Unsupported,
                "io_uring lacks IORING_FEAT_EXT_ARG on this kernel (Linux 5.11)",
            ));
        }
        let required = [
            ("POLL_ADD", opcode::PollAdd::CODE),
            ("POLL_REMOVE", opcode::PollRemove::CODE),
            ("ASYNC_CANCEL", opcode::AsyncCancel::CODE),
            ("READ", opcode::Read::CODE),
            ("WRITE", opcode::Write::CODE),
            ("SOCKET", opcode::Socket::CODE),
        ];
        for (name, code) in required {
            if !probe.is_supported(code) {
                return Err(io::Error::new(
                    io::ErrorKind::Unsupported,
                    format!("io_uring is missing IORING_OP_{name} on this kernel"),
                ));
            }
        }
        let mut supported = [0u64; 4];
        for code in 0..=u8::MAX {
            if probe.is_supported(code) {
                supported[usize::from(code / 64)] |= 1 << (code % 64);
            }
        }
        Ok(Ring {
            inner: Mutex::new(Inner {
                ring,
                ops: Slab::new(),
                backlog: VecDeque::new(),
                urgent: VecDeque::new(),
                events: Vec::new(),
                enabled: !single_issuer,
                in_flight: 0,
                leaked: false,
            }),
            issuer: OnceLock::new(),
            single_issuer,
            closed: AtomicBool::new(false),
            supported,
        })
    }

    /// Whether the kernel supports the opcode (`opcode::Read::CODE`...), as probed when the
    /// ring was set up: `IORING_OP_FTRUNCATE` needs 6.9, for example.
    ///
    /// # References
    /// io_uring_register(2) `IORING_REGISTER_PROBE`, io_uring_get_probe(3)
    pub(crate) fn supports(&self, opcode: u8) -> bool {
        self.supported[usize::from(opcode / 64)] & (1 << (opcode % 64)) != 0
    }

    /// Queues an entry; it is submitted at the driver's next turn.
    pub(crate) fn push(&self, entry: squeue::Entry) {
        push_locked(&mut lock(&self.inner), entry);
    }

    /// Queues an operation and returns its key; `None` once the driver has shut down.
    pub(crate) fn push_op(&self, entry: squeue::Entry, waker: &Waker) -> Option<usize> {
        let mut inner = lock(&self.inner);
        if self.closed.load(Ordering::Acquire) {
            return None;
        }
        let key = inner.ops.insert(OpSlot::Waiting(Some(waker.clone())));
        push_locked(&mut inner, entry.user_data(OP_TAG | key as u64));
        Some(key)
    }

    /// The result of operation `key` if it completed (the slot is freed); otherwise
    /// remembers `waker`. After the driver's shutdown, an operation gets the result shutdown
    /// collected for it (`-ECANCELED` if the kernel never saw it); one whose request
    /// shutdown had to give up on stays pending, since the kernel may still use its memory.
    pub(crate) fn poll_op(&self, key: usize, waker: &Waker) -> Option<i32> {
        let mut inner = lock(&self.inner);
        let leaked = inner.leaked;
        match inner.ops.get_mut(key) {
            Some(OpSlot::Done(res)) => {
                let res = *res;
                inner.ops.remove(key);
                Some(res)
            }
            Some(OpSlot::Waiting(w)) => {
                match w {
                    Some(w) if w.will_wake(waker) => {}
                    _ => *w = Some(waker.clone()),
                }
                None
            }
            Some(OpSlot::Cancelled(_) | OpSlot::Multishot(_)) => None,
            // Never handed back: the kernel may still write into the `Op`'s buffers.
            None if leaked => None,
            None if self.closed.load(Ordering::Acquire) => Some(-libc::ECANCELED),
            None => None,
        }
    }

    /// The `Op` owning `key` was dropped, handing over its operation value:
    ///
    /// - completed already: the value's [`complete`](Abandoned::complete) runs now, with the
    ///   result nobody will read;
    /// - still in the backlog (the kernel never saw it): withdrawn, and the value dropped;
    /// - in flight: the value is kept in the slot until the completion arrives, and, if
    ///   `cancel`, an `IORING_OP_ASYNC_CANCEL` is queued (otherwise the request runs to its
    ///   end, as a write whose bytes were already reported written must).
    pub(crate) fn cancel_op(&self, key: usize, op: Box<dyn Abandoned>, cancel: bool) {
        let mut inner = lock(&self.inner);
        let completed = match inner.ops.get(key) {
            Some(OpSlot::Waiting(_)) => {
                // Still in the backlog: the kernel never saw it, so it is withdrawn rather
                // than cancelled (a cancel, which bypasses the backlog, would reach the kernel
                // first, find nothing, and leave the request to run later).
                // A request that must run to its end (a detached write) stays queued.
                if cancel && withdraw(&mut inner, OP_TAG | key as u64) {
                    inner.ops.remove(key);
                    None
                } else {
                    inner.ops[key] = OpSlot::Cancelled(op);
                    if cancel {
                        let cancel =
                            opcode::AsyncCancel::new(OP_TAG | key as u64).build().user_data(CANCEL_TAG);
                        push_urgent(&mut inner, cancel);
                    }
                    return;
                }
            }
            Some(OpSlot::Done(res)) => {
                let res = *res;
                inner.ops.remove(key);
                Some(res)
            }
            Some(OpSlot::Cancelled(_) | OpSlot::Multishot(_)) | None => None,
        };
        let leaked = inner.leaked;
        drop(inner);
        match completed {
            Some(res) => op.complete(res),
            // Its request may still be in the kernel's hands (see `Inner::leaked`).
            None if leaked => std::mem::forget(op),
            None => drop(op),
        }
    }

    /// Queues a multishot request whose completions go to `sink`, and returns its key;
    /// `None` once the driver has shut down.
    pub(crate) fn push_multishot(
        &self,
        entry: squeue::Entry,
        sink: std::sync::Arc<dyn Multishot>,
    ) -> Option<usize> {
        let mut inner = lock(&self.inner);
        if self.closed.load(Ordering::Acquire) {
            return None;
        }
        let key = inner.ops.insert(OpSlot::Multishot(sink));
        push_locked(&mut inner, entry.user_data(OP_TAG | key as u64));
        Some(key)
    }

    /// Ends the multishot request `key` if it is still `sink`'s (a key is reused once its
    /// request is over): withdrawn if the kernel never saw it (then `sink` gets a final
    /// `-ECANCELED` here), otherwise cancelled with `IORING_OP_ASYNC_CANCEL`, whose effect
    /// is the request's final completion.
    pub(crate) fn cancel_multishot(&self, key: usize, sink: &std::sync::Arc<dyn Multishot>) {
        let mut inner = lock(&self.inner);
        match inner.ops.get(key) {
            Some(OpSlot::Multishot(s)) if std::sync::Arc::ptr_eq(s, sink) => {}
            _ => return,
        }
        if withdraw(&mut inner, OP_TAG | key as u64) {
            inner.ops.remove(key);
            drop(inner);
            sink.complete(-libc::ECANCELED, false);
            return;
        }
        let cancel = opcode::AsyncCancel::new(OP_TAG | key as u64).build().user_data(CANCEL_TAG);
        push_urgent(&mut inner, cancel);
    }

    /// Arms a multishot (or one-shot) poll for `POLLIN` on `fd` with `user_data`.
    pub(crate) fn poll_in(&self, fd: RawFd, user_data: u64, multishot: bool) {
        let entry = opcode::PollAdd::new(types::Fd(fd), libc::POLLIN as u32)
            .multi(multishot)
            .build()
            .user_data(user_data);
        self.push(entry);
    }

    /// Arms a one-shot readiness poll for a registration.
    pub(crate) fn arm(&self, fd: RawFd, key: usize, write: bool) {
        let events = if write { libc::POLLOUT as u32 } else { (libc::POLLIN | libc::POLLRDHUP) as u32 };
        let entry = opcode::PollAdd::new(types::Fd(fd), events).build().user_data(poll_token(key, write));
        self.push(entry);
    }

    /// Removes an armed poll (by the `user_data` it was armed with).
    pub(crate) fn remove_poll(&self, user_data: u64) {
        let mut inner = lock(&self.inner);
        if !withdraw(&mut inner, user_data) {
            push_urgent(&mut inner, opcode::PollRemove::new(user_data).build().user_data(CANCEL_TAG));
        }
    }

    /// Whether the calling thread may enter the ring (any thread may, unless the ring has a
    /// single issuer: then only the first thread that entered it).
    fn may_enter(&self) -> io::Result<()> {
        let me = std::thread::current().id();
        let issuer = *self.issuer.get_or_init(|| me);
        if self.single_issuer && issuer != me {
            return Err(io::Error::other(
                "an io_uring runtime must be driven from one thread: call block_on on the thread of the first block_on",
            ));
        }
        Ok(())
    }

    /// Submits everything queued and waits for at least one completion for at most
    /// `timeout` (`None`: no limit, `Some(ZERO)`: do not wait), then hands every completion
    /// that is not an operation's to `dispatch`, and wakes the tasks whose operations
    /// completed.
    pub(crate) fn turn(&self, timeout: Option<Duration>, mut dispatch: impl FnMut(Event)) -> io::Result<()> {
        self.may_enter()?;
        let mut wakers = Vec::new();
        let mut abandoned: Vec<(Finished, i32)> = Vec::new();
        let mut events;
        let (fd, to_submit) = {
            let mut inner = lock(&self.inner);
            if !inner.enabled {
                inner.ring.submitter().register_enable_rings()?;
                inner.enabled = true;
            }
            flush_backlog(&mut inner);
            let to_submit = inner.ring.submission().len() as u32;
            (inner.ring.as_raw_fd(), to_submit)
        };
        // Enter without the lock, so other threads (workers, wakers) can queue entries while
        // this one waits. Always with GETEVENTS (a zero timeout when the scheduler has work):
        // with DEFER_TASKRUN the kernel posts completions only then. A zero timeout waits for
        // nothing (`min_complete` 0) rather than arming a timer that sleeps for the slack.
        let res = match timeout {
            Some(Duration::ZERO) => crate::sys::io_uring_enter(fd, to_submit, 0, None),
            t => crate::sys::io_uring_enter(fd, to_submit, 1, t),
        };
        match res {
            Ok(_) => {}
            Err(e) if matches!(e.raw_os_error(), Some(libc::ETIME | libc::EINTR | libc::EBUSY)) => {}
            Err(e) => return Err(e),
        }
        {
            let mut inner = lock(&self.inner);
            events = std::mem::take(&mut inner.events);
            let Inner { ring, ops, in_flight, .. } = &mut *inner;
            for cqe in ring.completion() {
                let user_data = cqe.user_data();
                let result = cqe.result();
                let more = cqueue::more(cqe.flags());
                if !more {
                    *in_flight = in_flight.saturating_sub(1);
                }
                if user_data & CANCEL_TAG != 0 {
                    continue;
                }
                if user_data & OP_TAG != 0 {
                    let key = (user_data & KEY_MASK) as usize;
                    match ops.get_mut(key) {
                        Some(OpSlot::Waiting(w)) => {
                            if let Some(w) = w.take() {
                                wakers.push(w);
                            }
                            ops[key] = OpSlot::Done(result);
                        }
                        Some(OpSlot::Cancelled(_)) => {
                            if let OpSlot::Cancelled(op) = ops.remove(key) {
                                abandoned.push((Finished::Abandoned(op), result));
                            }
                        }
                        Some(OpSlot::Multishot(sink)) => {
                            abandoned.push((Finished::Shot(sink.clone(), more), result));
                            if !more {
                                ops.remove(key);
                            }
                        }
                        _ => {}
                    }
                    continue;
                }
                events.push(Event { user_data, result, more });
            }
            // Completions freed room for backlogged entries: queue them for the next enter.
            flush_backlog(&mut inner);
        }
        for (op, res) in abandoned {
            op.complete(res);
        }
        for w in wakers {
            w.wake();
        }
        for ev in events.drain(..) {
            dispatch(ev);
        }
        lock(&self.inner).events = events;
        Ok(())
    }
}

impl Ring {
    /// The driver is being dropped: cancel every operation in flight and wait for the
    /// completions, so their buffers can be freed. Operations submitted later are refused.
    /// If the ring cannot be entered from this thread, or a completion never arrives, the
    /// buffers are leaked rather than freed.
    pub(crate) fn shutdown(&self) {
        let mut abandoned: Vec<(Finished, i32)> = Vec::new();
        let mut wakers: Vec<Waker> = Vec::new();
        self.shutdown_locked(&mut abandoned, &mut wakers);
        // Outside the lock: dropping an operation may deregister its descriptor, which
        // queues a poll removal on this ring; a woken task may poll at once.
        for (op, res) in abandoned {
            op.complete(res);
        }
        for w in wakers {
            w.wake();
        }
    }

    /// Ends every request in flight: an abandoned one is handed to `abandoned` with its
    /// result; a waited-for one gets its result in its slot (`-ECANCELED` if the kernel
    /// never saw it) and its waker is handed to `wakers`.
    fn shutdown_locked(&self, abandoned: &mut Vec<(Finished, i32)>, wakers: &mut Vec<Waker>) {
        let mut inner = lock(&self.inner);
        self.closed.store(true, Ordering::Release);
        let in_flight: Vec<usize> =
            inner.ops.iter().filter(|(_, s)| !matches!(s, OpSlot::Done(_))).map(|(k, _)| k).collect();
        if in_flight.is_empty() {
            return;
        }
        if self.issuer.get().is_none() {
            // The ring was never entered: the kernel never saw these entries, so their memory
            // can be freed. Abandoned operations are released now (they may own descriptors
            // registered with this driver, which would otherwise keep it alive).
            for key in in_flight {
                end(&mut inner.ops, key, -libc::ECANCELED, false, abandoned, wakers);
            }
            return;
        }
        if self.single_issuer && self.issuer.get() != Some(&std::thread::current().id()) {
            std::mem::forget(std::mem::take(&mut inner.ops));
            inner.leaked = true;
            return;
        }
        for key in &in_flight {
            let cancel = opcode::AsyncCancel::new(OP_TAG | *key as u64).build().user_data(CANCEL_TAG);
            push_urgent(&mut inner, cancel);
        }
        let mut pending = in_flight.len();
        for _ in 0..1000 {
            flush_backlog(&mut inner);
            let ts = types::Timespec::from(Duration::from_millis(10));
            let args = types::SubmitArgs::new().timespec(&ts);
            let _ = inner.ring.submitter().submit_with_args(1, &args);
            let Inner { ring, ops, in_flight: count, .. } = &mut *inner;
            for cqe in ring.completion() {
                if !cqueue::more(cqe.flags()) {
                    *count = count.saturating_sub(1);
                }
                let ud = cqe.user_data();
                if ud & OP_TAG != 0 && ud & CANCEL_TAG == 0 {
                    let key = (ud & KEY_MASK) as usize;
                    let more = cqueue::more(cqe.flags());
                    if in_flight.contains(&key) && end(ops, key, cqe.result(), more, abandoned, wakers) {
                        pending -= 1;
                    }
                }
            }
            if pending == 0 {
                return;
            }
        }
        // An operation refused to complete: never free what the kernel may still use.
        std::mem::forget(std::mem::take(&mut inner.ops));
        inner.leaked = true;
    }
}

/// Shutdown's end of request `key` with `res`: an abandoned operation leaves its slot for
/// `abandoned`; a waited-for one keeps its result in the slot for its next poll and hands its
/// waker to `wakers`; a multishot request's completion goes to `abandoned` for its receiver,
/// and ends it unless `more`. Returns whether the request ended here.
fn end(
    ops: &mut Slab<OpSlot>,
    key: usize,
    res: i32,
    more: bool,
    abandoned: &mut Vec<(Finished, i32)>,
    wakers: &mut Vec<Waker>,
) -> bool {
    if let Some(OpSlot::Multishot(sink)) = ops.get(key) {
        abandoned.push((Finished::Shot(sink.clone(), more), res));
        if !more {
            ops.remove(key);
        }
        return !more;
    }
    match ops.get_mut(key) {
        Some(OpSlot::Waiting(w)) => {
            wakers.extend(w.take());
            ops[key] = OpSlot::Done(res);
            true
        }
        Some(OpSlot::Cancelled(_)) => {
            if let OpSlot::Cancelled(op) = ops.remove(key) {
                abandoned.push((Finished::Abandoned(op), res));
            }
            true
        }
        Some(OpSlot::Done(_) | OpSlot::Multishot(_)) | None => false,
    }
}

/// Removes the backlogged entry with `user_data`, if there is one (it was never submitted).
fn withdraw(inner: &mut Inner, user_data: u64) -> bool {
    match inner.backlog.iter().position(|e| e.get_user_data() == user_data) {
        Some(i) => {
            inner.backlog.remove(i);
            true
        }
        None => false,
    }
}

/// Queues a cancel/remove request ahead of the in-flight limit (see `CQ_ENTRIES`).
fn push_urgent(inner: &mut Inner, entry: squeue::Entry) {
    // SAFETY: cancel and remove requests point to no memory.
    match unsafe { inner.ring.submission().push(&entry) } {
        Ok(()) => inner.in_flight += 1,
        Err(_) => inner.urgent.push_back(entry),
    }
}

fn push_locked(inner: &mut Inner, entry: squeue::Entry) {
    if !inner.backlog.is_empty() || inner.in_flight >= MAX_IN_FLIGHT {
        inner.backlog.push_back(entry);
        return;
    }
    // SAFETY: every entry the driver builds points only to memory that outlives the
    // operation: buffers owned by the `Op` future and, once it is dropped, by the slab slot
    // until the completion arrives (see the module docs); polls and cancels point to nothing.
    match unsafe { inner.ring.submission().push(&entry) } {
        Ok(()) => inner.in_flight += 1,
        Err(_) => inner.backlog.push_back(entry),
    }
}

/// Moves backlogged entries into the submission ring while there is room in it and the
/// in-flight limit allows; submits a full ring to make room (completions are reaped by the
/// caller's next look at the completion queue).
fn flush_backlog(inner: &mut Inner) {
    while let Some(entry) = inner.urgent.pop_front() {
        // SAFETY: as in `push_urgent`.
        if unsafe { inner.ring.submission().push(&entry) }.is_ok() {
            inner.in_flight += 1;
            continue;
        }
        inner.urgent.push_front(entry);
        if inner.ring.submit().is_err() {
            return;
        }
    }
    while inner.in_flight < MAX_IN_FLIGHT {
        let Some(entry) = inner.backlog.pop_front() else { return };
        // SAFETY: as in `push_locked`.
        if unsafe { inner.ring.submission().push(&entry) }.is_ok() {
            inner.in_flight += 1;
            continue;
        }
        inner.backlog.push_front(entry);
        if inner.ring.submit().is_err() {
            return;
        }
    }
}

fn unavailable(e: io::Error) -> io::Error {
    let why = match e.raw_os_error() {
        Some(libc::ENOSYS) => "the kernel has no io_uring (ENOSYS)".to_string(),
        Some(libc::EPERM) => {
            "io_uring is not permitted (EPERM: /proc/sys/kernel/io_uring_disabled or seccomp)".to_string()
        }
        _ => format!("io_uring setup failed: {e}"),
    };
    io::Error::new(io::ErrorKind::Unsupported, why)
}
