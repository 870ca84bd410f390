//! The I/O driver: one object per runtime that owns the kernel's event queue, the timer wheel,
//! the signal descriptor and the list of orphaned children, and that the scheduler *turns*
//! whenever it has no task to run.
//!
//! # The backend contract
//!
//! The driver is shaped for **completion**: an operation (read, write, wait for a process,
//! wait for a signal...) is described by a value implementing `OpCode`, *submitted* by
//! awaiting an [`Op`](op::Op), owns its buffers for as long as it is in flight, and
//! *completes* with a result and the buffers handed back. Two kinds of backend implement
//! that contract:
//!
//! - **Readiness** backends (`epoll.rs`, `kqueue.rs`, `poll.rs`) try the non-blocking system
//!   call at once. On `EAGAIN` they wait until the descriptor is reported ready, then retry.
//!   The kernel only ever touches a buffer *during* a system call made by the polling thread,
//!   so an operation is never in flight between two polls.
//! - **Completion** backends (`uring.rs`; IOCP later) hand the operation to the kernel,
//!   which reads or writes its buffers asynchronously until it posts a completion. An
//!   operation with no completion form (or a kernel without it), and a process wait (see
//!   `process::child` for why `IORING_OP_WAITID` is not used), takes the readiness path,
//!   with readiness itself delivered as a completion
//!   (`IORING_OP_POLL_ADD`).
//!
//! The public API is the same for both, which is why every operation takes its buffers by
//! value (`Vec<u8>` in, `(io::Result<usize>, Vec<u8>)` out) and why operation state is
//! `'static`: the caller cannot borrow memory into an operation whose lifetime the kernel,
//! not the future, decides.
//!
//! ## Cancellation: the kernel never writes into freed memory
//!
//! Dropping a future with an operation in flight is always allowed. The rule that makes it
//! sound is: **an operation's memory is freed only when the kernel can no longer use it.**
//!
//! - Readiness backend: between polls no system call is running, so dropping the `Op` drops
//!   its buffers immediately; the readiness registration (a waker slot) is cleared by the
//!   drop, and a later readiness event for that descriptor finds no waker, or a stale one,
//!   which is harmless (spurious wake-ups are allowed everywhere in this crate).
//! - Completion backends: dropping the `Op` submits an async-cancel for it and moves the
//!   operation (buffers and the reference that keeps its descriptor open) into the driver,
//!   which, when the completion for the original operation (successful, failed or
//!   `ECANCELED`) arrives, calls the operation's cancel hook with the result (so what it
//!   produced, such as an opened descriptor, is released) and frees it. Dropping the whole
//!   runtime waits for those completions before unmapping the rings.
//! - Operations on descriptors that are not registered (regular files, which are always
//!   "ready"; operations on paths) are completions on io_uring and run on the blocking pool
//!   on readiness backends; the pool job owns the operation until its system call returns.
//!   See [`op`] for the table of paths.
//!
//! Registered descriptors follow the same rule: the registration is removed from the event
//! queue (`EPOLL_CTL_DEL`) before the descriptor is closed, and events are dispatched by slab
//! key, never by pointer, so an event that was already dequeued for a descriptor that has
//! since been closed can only mark an unrelated registration spuriously ready.
//!
//! ## Required types and methods
//!
//! [`Backend`] (one place, this module) picks the backend and routes to it:
//!
//! - `epoll::Selector`: `register(fd, token, events)`, `deregister(fd)`,
//!   `select(&mut events, timeout)`: an edge-triggered kernel interest list.
//! - `kqueue::Selector`: `register(fd, token)`, `set_suspended(fd, token, suspend)`,
//!   `deregister(fd)`, `add_internal(fd, token, oneshot)`, `select(timeout, dispatch)`: the
//!   same edge-triggered interest list on macOS and FreeBSD (`EV_CLEAR`).
//! - `poll::Selector`: `arm(fd, token, events, oneshot)`, `disarm(token)`,
//!   `select(timeout, dispatch)`: a table of armed polls passed whole to poll(2) at every
//!   wait (O(registered) per wait), registrations armed on demand one direction at a time
//!   as io_uring's readiness polls are (see `poll.rs`). Never chosen automatically; it is
//!   the fallback for systems with neither of the others; CI runs the runtime's and the shell's
//!   test suites on it.
//! - `uring::Ring`: `supports(opcode)` (probed at setup), `push_op(entry, waker) -> key`,
//!   `poll_op(key, waker)`, `cancel_op(key, abandoned, cancel)`, `push_multishot(entry,
//!   receiver)` / `cancel_multishot(key, receiver)` for requests with many completions (a
//!   listener's accepts: see `multishot`), `arm(fd, key, direction)` /
//!   `remove_poll(user_data)` for readiness, `poll_in(fd, token, multishot)` for the driver's
//!   own descriptors, `turn(timeout, dispatch)` and `shutdown()`.
//!
//! All are woken from other threads through the driver's notifier (`sys::Notifier`: an
//! eventfd on Linux, a pipe elsewhere), registered like any other descriptor, and both dispatch the same tokens (wake-up, signals, orphaned children,
//! registrations) through [`Handle`]'s `dispatch`.
//!
//! ## What each platform provides
//!
//! | platform | backends (the default first) | process exits | signals | wake-ups |
//! |---|---|---|---|---|
//! | Linux | io_uring, epoll, poll | a pidfd per child | a signalfd per driver, plus the process-wide handler for threads that do not block the signal | eventfd |
//! | macOS, FreeBSD | kqueue, poll | a kqueue per child (`EVFILT_PROC`, `NOTE_EXIT`), polled as a descriptor | the process-wide handler (`sys::sighandler`) alone | pipe |
//!
//! Completion (io_uring) is Linux-only: elsewhere every operation takes the readiness or
//! blocking-pool path, and the io_uring forms of operations (`uring::ops`) are not compiled.
//! Every platform difference is below `crate::sys`, whose rooms provide the same names.
//!
//! ## Turning the driver
//!
//! [`Driver::turn`] waits for events with a timeout equal to the next timer deadline (or
//! zero when the scheduler still has work), dispatches up to 1024 events per wait, fires
//! expired timers, and returns. All wake-ups go through [`std::task::Waker`]s, so the
//! driver knows nothing about tasks.

#[cfg(target_os = "linux")]
pub(crate) mod epoll;
#[cfg(any(target_os = "macos", target_os = "freebsd"))]
pub(crate) mod kqueue;
pub(crate) mod op;
pub(crate) mod poll;
pub(crate) mod registration;
#[cfg(target_os = "linux")]
pub(crate) mod uring;

use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd, RawFd};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use slab::Slab;

use crate::signal::registry::SignalRegistry;
use crate::sys;
use crate::time::wheel::Wheel;
use registration::ScheduledIo;

pub(crate) use registration::{Interest, Registration};
#[cfg(target_os = "linux")]
pub(crate) use uring::multishot::MultiAccept;

/// Events dispatched per `epoll_wait`.
#[cfg(target_os = "linux")]
const EVENTS_PER_TURN: usize = 1024;

/// Tokens with this bit set are the driver's own descriptors, not registrations.
const INTERNAL: u64 = 1 << 63;
const TOKEN_WAKE: u64 = INTERNAL;
const TOKEN_SIGNAL: u64 = INTERNAL | 1;
const TOKEN_SIGNAL_FALLBACK: u64 = INTERNAL | 2;
/// Orphaned children's pidfds: this bit plus their key in the orphan list.
pub(crate) const ORPHAN_TOKEN: u64 = INTERNAL | (1 << 62);
/// Readiness polls armed on demand for a registration (io_uring's `IORING_OP_POLL_ADD`, the
/// poll(2) backend's table): this bit, the direction bit and the registration's key.
pub(crate) const POLL_TAG: u64 = 1 << 60;
/// Set for a write-readiness poll.
pub(crate) const POLL_WRITE: u64 = 1 << 59;
/// The registration key bits of an armed poll's token (bits 61 and up tag io_uring's own
/// requests, see `uring`).
pub(crate) const KEY_MASK: u64 = (1 << 58) - 1;

/// The token of registration `key`'s readiness poll for one direction (an io_uring
/// `user_data`, a poll(2) table key).
pub(crate) fn poll_token(key: usize, write: bool) -> u64 {
    let dir = if write { POLL_WRITE } else { 0 };
    POLL_TAG | dir | key as u64
}

/// A registration's key is its slot in the driver's slab (the low 32 bits) and a generation
/// (the 26 bits above, below every tag bit of the tokens): a slot is reused as soon as a
/// registration is removed, while an event of the old one may still be on its way (an epoll
/// event collected before the removal, an io_uring poll completing before its POLL_REMOVE).
/// Events are matched on both, so such an event is dropped instead of reaching the new
/// registration (where a stale hang-up would stay set for ever and make its reads spin).
const SLOT_BITS: u32 = 32;
const SLOT_MASK: u64 = (1 << SLOT_BITS) - 1;
const GENERATION_MASK: u64 = (1 << 26) - 1;

/// The slab slot and the generation of a registration key.
fn split_key(key: u64) -> (usize, u64) {
    ((key & SLOT_MASK) as usize, (key >> SLOT_BITS) & GENERATION_MASK)
}

/// Which threads turn a driver: decides an io_uring ring's setup flags (see `uring`); the
/// other backends take no notice.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Issuer {
    /// One thread for the ring's whole life (a thread-per-core core).
    OneThread,
    /// One thread at a time, which waits in the ring whenever it sleeps (a current-thread
    /// runtime, whose `block_on` may move from thread to thread).
    OneAtATime,
    /// Several threads, which may sleep elsewhere while another waits in the ring (the
    /// multi-thread runtime's workers).
    AnyThread,
}

/// The kernel interface a runtime's driver is built on.
///
/// Selected by [`Builder::backend`](crate::Builder::backend); when that is left unset, by the
/// environment variable `ARIA_IO_BACKEND` (`epoll`, `uring`, `io_uring`, `kqueue` or
/// `poll`); otherwise automatically. On Linux: for the current-thread and thread-per-core
/// runtimes, io_uring where `io_uring_setup` works and the kernel has the opcodes the driver
/// needs (it can be disabled by `/proc/sys/kernel/io_uring_disabled`, seccomp or an old
/// kernel), else epoll; for the multi-thread runtime, epoll (its ring, shared by the workers,
/// cannot use the task-run flags that make io_uring pay: 0.77x epoll's requests/s on the echo
/// benchmark). On macOS and FreeBSD: kqueue. A backend of another platform is an
/// `Unsupported` error.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum BackendKind {
    /// epoll(7): readiness. Every operation is a non-blocking system call, retried after
    /// the descriptor is reported ready.
    Epoll,
    /// io_uring(7): completion. Operations are submitted to the kernel in batches and
    /// complete asynchronously; readiness is emulated with `IORING_OP_POLL_ADD`.
    IoUring,
    /// poll(2): readiness, the portable fallback. Never chosen automatically. Each wait
    /// passes every armed descriptor to the kernel (O(registered) per wait); descriptors are
    /// armed on demand, one direction at a time, like io_uring's readiness polls.
    Poll,
    /// kqueue(2) (macOS, FreeBSD): readiness, edge-triggered (`EV_CLEAR`) like epoll; the
    /// default there.
    Kqueue,
}

impl std::fmt::Display for BackendKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            BackendKind::Epoll => "epoll",
            BackendKind::IoUring => "io_uring",
            BackendKind::Poll => "poll",
            BackendKind::Kqueue => "kqueue",
        })
    }
}

// One per runtime, inside an `Arc`, never moved after creation: the size difference between
// the variants does not matter.
#[allow(clippy::large_enum_variant)]
pub(crate) enum Backend {
    #[cfg(target_os = "linux")]
    Epoll(epoll::Selector),
    #[cfg(target_os = "linux")]
    Uring(uring::Ring),
    #[cfg(any(target_os = "macos", target_os = "freebsd"))]
    Kqueue(kqueue::Selector),
    Poll(poll::Selector),
}

impl Backend {
    /// Picks the backend: an explicit choice, else `ARIA_IO_BACKEND`, else automatic:
    /// io_uring when `io_uring_setup` works and the kernel has the opcodes the driver needs,
    /// otherwise epoll. A forced backend that is unavailable is an error, never a fallback.
    fn select(choice: Option<BackendKind>, issuer: Issuer) -> io::Result<Backend> {
        let choice = match choice {
            Some(c) => Some(c),
            None => match std::env::var("ARIA_IO_BACKEND").as_deref() {
                Err(_) | Ok("") | Ok("auto") => None,
                Ok("epoll") => Some(BackendKind::Epoll),
                Ok("uring") | Ok("io_uring") => Some(BackendKind::IoUring),
                Ok("poll") => Some(BackendKind::Poll),
                Ok("kqueue") => Some(BackendKind::Kqueue),
                Ok(other) => {
                    return Err(io::Error::new(
                        io::ErrorKind::InvalidInput,
                        format!("ARIA_IO_BACKEND={other}: expected epoll, uring, kqueue or poll"),
                    ))
                }
            },
        };
        let _ = issuer;
        match choice {
            Some(BackendKind::Poll) => Ok(Backend::Poll(poll::Selector::new())),
            #[cfg(target_os = "linux")]
            Some(BackendKind::IoUring) => Ok(Backend::Uring(uring::Ring::new(issuer)?)),
            #[cfg(target_os = "linux")]
            Some(BackendKind::Epoll) => Ok(Backend::Epoll(epoll::Selector::new()?)),
            // The multi-thread runtime's shared ring gets no task-run flags (see `uring`), and
            // the kernel's default task-work notification costs more than epoll saves:
            // measured on `aria-bench echo --runtime aria-mt --variant 100x64`, 117k requests/s
            // on io_uring against 152k on epoll (server CPU 8.4 against 6.4 us per request).
            #[cfg(target_os = "linux")]
            None if issuer == Issuer::AnyThread => Ok(Backend::Epoll(epoll::Selector::new()?)),
            #[cfg(target_os = "linux")]
            None => match uring::Ring::new(issuer) {
                Ok(ring) => Ok(Backend::Uring(ring)),
                Err(e) if e.kind() == io::ErrorKind::Unsupported => {
                    Ok(Backend::Epoll(epoll::Selector::new()?))
                }
                Err(e) => Err(e),
            },
            #[cfg(any(target_os = "macos", target_os = "freebsd"))]
            Some(BackendKind::Kqueue) | None => Ok(Backend::Kqueue(kqueue::Selector::new()?)),
            Some(other) => Err(io::Error::new(
                io::ErrorKind::Unsupported,
                format!("the {other} backend is not available on this platform"),
            )),
        }
    }

    fn kind(&self) -> BackendKind {
        match self {
            #[cfg(target_os = "linux")]
            Backend::Epoll(_) => BackendKind::Epoll,
            #[cfg(target_os = "linux")]
            Backend::Uring(_) => BackendKind::IoUring,
            #[cfg(any(target_os = "macos", target_os = "freebsd"))]
            Backend::Kqueue(_) => BackendKind::Kqueue,
            Backend::Poll(_) => BackendKind::Poll,
        }
    }

    /// Whether the backend has a wake-up of its own (kqueue's `EVFILT_USER`), so the driver
    /// needs no notifier descriptor.
    fn wakes_itself(&self) -> bool {
        match self {
            #[cfg(any(target_os = "macos", target_os = "freebsd"))]
            Backend::Kqueue(_) => true,
            #[allow(unreachable_patterns)]
            _ => false,
        }
    }

    /// Adds the backend's own wake-up (see [`wakes_itself`](Backend::wakes_itself)) under
    /// `TOKEN_WAKE`.
    fn add_wake(&self) -> io::Result<()> {
        match self {
            #[cfg(any(target_os = "macos", target_os = "freebsd"))]
            Backend::Kqueue(sel) => sel.add_wake(TOKEN_WAKE),
            #[allow(unreachable_patterns)]
            _ => unreachable!("only a backend that wakes itself adds its own wake-up"),
        }
    }

    /// Triggers the backend's own wake-up, from any thread.
    fn wake(&self) {
        match self {
            #[cfg(any(target_os = "macos", target_os = "freebsd"))]
            Backend::Kqueue(sel) => sel.wake(),
            #[allow(unreachable_patterns)]
            _ => unreachable!("only a backend that wakes itself is woken directly"),
        }
    }

    /// Whether registrations are polled only while a task waits, one direction at a time
    /// (io_uring's one-shot polls, poll(2)'s armed table), rather than kept in a kernel
    /// interest list (epoll).
    pub(crate) fn arms_on_demand(&self) -> bool {
        match self {
            #[cfg(target_os = "linux")]
            Backend::Epoll(_) => false,
            #[cfg(any(target_os = "macos", target_os = "freebsd"))]
            Backend::Kqueue(_) => false,
            _ => true,
        }
    }
}

/// A pending timer: the waker of the `Sleep` waiting on it.
pub(crate) struct TimerEntry {
    pub(crate) waker: Option<std::task::Waker>,
}

/// The part of the driver that other threads and I/O objects hold on to.
pub(crate) struct Handle {
    pub(crate) backend: Backend,
    /// Notified by `unpark` from any thread (an eventfd on Linux, a pipe elsewhere); `None`
    /// for a backend that wakes itself (kqueue's `EVFILT_USER`).
    waker: Option<sys::Notifier>,
    /// Registered descriptors, indexed by their token.
    io: Mutex<Slab<Arc<ScheduledIo>>>,
    /// The generation the next registration gets (see [`split_key`]).
    generation: AtomicU64,
    /// While the driver waits: the timer tick it waits until (`u64::MAX`: no timer, 0: not
    /// waiting). Written under the `time` lock.
    waiting_until: AtomicU64,
    /// Set by `unpark`, cleared by the driver once it has consumed the wake-up.
    wake_pending: AtomicBool,
    /// The driver was dropped: nothing will ever report readiness or completions again.
    shut_down: AtomicBool,
    pub(crate) time: Mutex<Wheel<TimerEntry>>,
    start: Instant,
    pub(crate) signals: SignalRegistry,
    orphans: crate::process::orphan::OrphanQueue,
}

impl std::fmt::Debug for Handle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("driver::Handle").field("backend", &self.backend.kind()).finish_non_exhaustive()
    }
}

/// The driver proper, owned by the thread that turns it.
pub(crate) struct Driver {
    handle: Arc<Handle>,
    /// epoll_wait(2)'s buffer, kept between turns.
    #[cfg(target_os = "linux")]
    events: Vec<libc::epoll_event>,
}

impl Driver {
    /// Creates the backend, the wake-up eventfd and the (empty) signalfd, all close-on-exec.
    pub(crate) fn new(choice: Option<BackendKind>, issuer: Issuer) -> io::Result<Driver> {
        let backend = Backend::select(choice, issuer)?;
        let waker = if backend.wakes_itself() { None } else { Some(sys::Notifier::new()?) };
        let signals = SignalRegistry::new()?;
        let orphans = crate::process::orphan::OrphanQueue::new();
        let handle = Arc::new(Handle {
            backend,
            waker,
            io: Mutex::new(Slab::new()),
            generation: AtomicU64::new(0),
            waiting_until: AtomicU64::new(0),
            wake_pending: AtomicBool::new(false),
            shut_down: AtomicBool::new(false),
            time: Mutex::new(Wheel::new()),
            start: Instant::now(),
            signals,
            orphans,
        });
        match &handle.waker {
            Some(waker) => handle.add_internal(waker.fd().as_raw_fd(), TOKEN_WAKE)?,
            None => handle.backend.add_wake()?,
        }
        if let Some(fd) = handle.signals.fd() {
            handle.add_internal(fd, TOKEN_SIGNAL)?;
        }
        Ok(Driver {
            handle,
            #[cfg(target_os = "linux")]
            events: Vec::with_capacity(EVENTS_PER_TURN),
        })
    }

    pub(crate) fn handle(&self) -> &Arc<Handle> {
        &self.handle
    }

    /// Waits for events for at most `max_wait` (`None`: until the next timer or forever),
    /// dispatches them, and fires expired timers.
    pub(crate) fn turn(&mut self, max_wait: Option<Duration>) -> io::Result<()> {
        let handle = &*self.handle;
        let timeout = {
            let wheel = lock(&handle.time);
            let next = wheel.next_expiration();
            let timer = next.map(|tick| {
                let due = handle.start + Duration::from_millis(tick);
                due.saturating_duration_since(Instant::now())
            });
            let timeout = match (timer, max_wait) {
                (Some(t), Some(m)) => Some(t.min(m)),
                (t, m) => t.or(m),
            };
            // Published under the wheel's lock: a timer inserted from another thread either
            // is seen above or sees this and wakes the driver (`timer_added`).
            let until = match timeout {
                Some(Duration::ZERO) => 0,
                // The wait ends at the wheel's next tick...
                Some(t) if timer == Some(t) => next.unwrap_or(0),
                // ...or earlier, at the caller's limit.
                Some(t) => handle.now_tick() + t.as_millis() as u64,
                None => u64::MAX,
            };
            handle.waiting_until.store(until, Ordering::SeqCst);
            timeout
        };
        match &handle.backend {
            #[cfg(target_os = "linux")]
            Backend::Epoll(selector) => {
                self.events.clear();
                selector.select(&mut self.events, timeout)?;
                for ev in &self.events {
                    handle.dispatch(ev.u64, registration::Ready::from_epoll(ev.events));
                }
            }
            #[cfg(target_os = "linux")]
            Backend::Uring(ring) => ring.turn(timeout, |ev| handle.dispatch_uring(ring, ev))?,
            #[cfg(any(target_os = "macos", target_os = "freebsd"))]
            Backend::Kqueue(selector) => {
                selector.select(timeout, |token, ready| handle.dispatch(token, ready))?
            }
            Backend::Poll(selector) => selector.select(timeout, |token, revents| {
                handle.dispatch_polled(token, registration::Ready::from_poll(revents))
            })?,
        }
        handle.waiting_until.store(0, Ordering::SeqCst);
        handle.fire_timers();
        Ok(())
    }
}

impl Handle {
    /// Whether the driver has been dropped (its runtime shut down).
    pub(crate) fn is_shut_down(&self) -> bool {
        self.shut_down.load(Ordering::Acquire)
    }

    /// Which backend this driver uses.
    pub(crate) fn kind(&self) -> BackendKind {
        self.backend.kind()
    }

    /// Wakes the thread turning the driver (from any thread). Coalesced: at most one eventfd
    /// write is outstanding.
    pub(crate) fn unpark(&self) {
        if !self.wake_pending.swap(true, Ordering::SeqCst) {
            match &self.waker {
                // A full notifier (EAGAIN) means a wake-up is pending anyway.
                Some(waker) => waker.notify(),
                None => self.backend.wake(),
            }
        }
    }

    /// A timer due at `tick` was inserted or moved; the caller holds the `time` lock. Wakes
    /// the driver if it waits past that tick (it waits on another thread: the driver's own
    /// thread is not waiting while it runs tasks).
    pub(crate) fn timer_added(&self, tick: u64) {
        if tick < self.waiting_until.load(Ordering::SeqCst) {
            self.unpark();
        }
    }

    /// After queuing work for the driver (an io_uring entry, a poll(2) arming): wakes the
    /// thread waiting in it, if one is and it is not the caller's own thread (which turns the
    /// driver, and so submits what is queued, before it blocks anyway). When no thread waits,
    /// the next turn takes the work: a multi-thread worker queuing entries while it runs
    /// tasks does not write the eventfd for its own next turn.
    ///
    /// Ordering: the caller queued the work under the backend's lock, then reads
    /// `waiting_until`; a turn stores `waiting_until` before taking that lock to collect what
    /// is queued. If this read sees 0, the turn's store comes later, so its collection, after
    /// it, sees the work (or the turn already ended, and the next one takes it).
    pub(crate) fn unpark_if_remote(&self) {
        if self.waiting_until.load(Ordering::SeqCst) != 0 && !crate::runtime::context::drives(self) {
            self.unpark();
        }
    }

    /// The registration `key` names, unless its slot now holds a later one (see
    /// [`split_key`]).
    fn registration(&self, key: u64) -> Option<Arc<ScheduledIo>> {
        let (slot, generation) = split_key(key);
        lock(&self.io).get(slot).filter(|io| io.generation == generation).cloned()
    }

    fn dispatch(&self, token: u64, ready: registration::Ready) {
        match token {
            TOKEN_WAKE => {
                // kqueue's EVFILT_USER event clears itself (EV_CLEAR): nothing to drain.
                if let Some(waker) = &self.waker {
                    waker.drain();
                }
                self.wake_pending.store(false, Ordering::SeqCst);
            }
            TOKEN_SIGNAL | TOKEN_SIGNAL_FALLBACK => self.signals.dispatch(),
            t if t & ORPHAN_TOKEN == ORPHAN_TOKEN => {
                self.orphans.reap(self, (t & !ORPHAN_TOKEN) as usize);
            }
            key => {
                if let Some(io) = self.registration(key) {
                    io.set_readiness(ready);
                }
            }
        }
    }

    /// An event of the poll(2) backend: a registration's armed poll (now removed from the
    /// table), or one of the driver's own descriptors.
    fn dispatch_polled(&self, token: u64, ready: registration::Ready) {
        if token & INTERNAL == 0 && token & POLL_TAG != 0 {
            if let Some(io) = self.registration(token & KEY_MASK) {
                io.disarm(token & POLL_WRITE != 0);
                io.set_readiness(ready);
            }
            return;
        }
        self.dispatch(token, ready);
    }

    #[cfg(target_os = "linux")]
    fn dispatch_uring(&self, ring: &uring::Ring, ev: uring::Event) {
        let ud = ev.user_data;
        if ud & INTERNAL == 0 && ud & POLL_TAG != 0 {
            let write = ud & POLL_WRITE != 0;
            if let Some(io) = self.registration(ud & KEY_MASK) {
                io.disarm(write);
                if ev.result >= 0 {
                    io.set_readiness(registration::Ready::from_epoll(ev.result as u32));
                } else if ev.result != -libc::ECANCELED {
                    // The poll itself failed: let the waiter retry its system call, which
                    // reports the real error (or EAGAIN and re-arms).
                    io.set_readiness(registration::Ready::READABLE.or(registration::Ready::WRITABLE));
                }
            }
            return;
        }
        if ev.result >= 0 {
            self.dispatch(ud, registration::Ready::from_epoll(ev.result as u32));
        }
        // Multishot polls end on error or overflow: re-arm them.
        if !ev.more {
            let fd = match ud {
                TOKEN_WAKE => self.waker.as_ref().map(|w| w.fd().as_raw_fd()),
                TOKEN_SIGNAL => self.signals.fd(),
                TOKEN_SIGNAL_FALLBACK => self.signals.fallback_fd(),
                _ => None,
            };
            if let Some(fd) = fd {
                ring.poll_in(fd, ud, true);
            }
        }
    }

    /// Adds one of the driver's own descriptors (level-triggered readiness; a multishot poll
    /// on io_uring, one-shot for orphaned children's pidfds).
    fn add_internal(&self, fd: RawFd, token: u64) -> io::Result<()> {
        match &self.backend {
            #[cfg(target_os = "linux")]
            Backend::Epoll(sel) => sel.register(fd, token, libc::EPOLLIN as u32),
            #[cfg(any(target_os = "macos", target_os = "freebsd"))]
            Backend::Kqueue(sel) => sel.add_internal(fd, token, token & ORPHAN_TOKEN == ORPHAN_TOKEN),
            #[cfg(target_os = "linux")]
            Backend::Uring(ring) => {
                ring.poll_in(fd, token, token & ORPHAN_TOKEN != ORPHAN_TOKEN);
                self.unpark_if_remote();
                Ok(())
            }
            Backend::Poll(sel) => {
                sel.arm(fd, token, libc::POLLIN, token & ORPHAN_TOKEN == ORPHAN_TOKEN);
                self.unpark_if_remote();
                Ok(())
            }
        }
    }

    fn remove_internal(&self, fd: RawFd, token: u64) {
        match &self.backend {
            #[cfg(target_os = "linux")]
            Backend::Epoll(sel) => {
                let _ = sel.deregister(fd);
            }
            #[cfg(any(target_os = "macos", target_os = "freebsd"))]
            Backend::Kqueue(sel) => sel.remove_internal(fd),
            #[cfg(target_os = "linux")]
            Backend::Uring(ring) => ring.remove_poll(token),
            Backend::Poll(sel) => {
                sel.disarm(token);
                self.unpark_if_remote();
            }
        }
    }

    /// Registers `fd` for readiness (in, out, read-hangup): edge-triggered with epoll;
    /// polls armed on demand with io_uring. Returns `None`, registering nothing, for a
    /// descriptor the kernel cannot poll (a regular file, `/dev/null`: see
    /// [`registration`](registration#always-ready-descriptors)), which is always ready.
    ///
    /// Which descriptors those are is decided the same way on both backends: by what
    /// epoll_ctl(2) says (`EPERM` for a file without a `poll` method). With epoll that is the
    /// registration itself; with io_uring, pipes and sockets are known pollable from fstat(2)
    /// and anything else is asked of a scratch epoll instance.
    ///
    /// # Errors
    /// Named after the descriptor and the backend (`cannot register fd 7 with the epoll
    /// driver: ...`), with the kind of the cause: `IsADirectory` for a directory, `EBADF`
    /// for a descriptor that is not open or was opened with `O_PATH`, `ENOMEM`/`ENOSPC` from
    /// epoll_ctl(2).
    ///
    /// `pollable` says the caller knows the descriptor is pollable (a pipe, a pidfd, an
    /// eventfd it created itself): then nothing is checked and io_uring makes no system call.
    pub(crate) fn register(
        &self,
        fd: BorrowedFd<'_>,
        pollable: bool,
    ) -> io::Result<Option<(usize, Arc<ScheduledIo>)>> {
        self.try_register(fd, pollable).map_err(|e| {
            sys::context(e, format!("cannot register fd {} with the {} driver", fd.as_raw_fd(), self.kind()))
        })
    }

    fn try_register(
        &self,
        fd: BorrowedFd<'_>,
        pollable: bool,
    ) -> io::Result<Option<(usize, Arc<ScheduledIo>)>> {
        // Refused by epoll like a regular file, but no stream: an error, not "always ready".
        let not_a_stream = || io::Error::new(io::ErrorKind::IsADirectory, "it is a directory, not a stream");
        let generation = self.generation.fetch_add(1, Ordering::Relaxed) & GENERATION_MASK;
        let io = Arc::new(ScheduledIo::new(generation));
        let insert = |io: &Arc<ScheduledIo>| {
            let slot = lock(&self.io).insert(io.clone());
            (slot, slot | (generation << SLOT_BITS) as usize)
        };
        // Whether the kernel can report readiness for a descriptor the caller knows nothing
        // about (the backends without their own answer: see `sys::can_poll`).
        let check = || -> io::Result<bool> {
            Ok(match sys::file_type(fd)? {
                libc::S_IFIFO | libc::S_IFSOCK => true,
                libc::S_IFDIR => return Err(not_a_stream()),
                _ => sys::can_poll(fd)?,
            })
        };
        match &self.backend {
            #[cfg(target_os = "linux")]
            Backend::Epoll(sel) => {
                let (slot, key) = insert(&io);
                match sel.register(fd.as_raw_fd(), key as u64, EPOLL_INTEREST) {
                    Ok(()) => Ok(Some((key, io))),
                    Err(e) => {
                        lock(&self.io).remove(slot);
                        if e.raw_os_error() != Some(libc::EPERM) {
                            return Err(e);
                        }
                        if sys::file_type(fd)? == libc::S_IFDIR {
                            return Err(not_a_stream());
                        }
                        Ok(None)
                    }
                }
            }
            #[cfg(any(target_os = "macos", target_os = "freebsd"))]
            Backend::Kqueue(sel) => {
                if !pollable && !check()? {
                    return Ok(None);
                }
                let (slot, key) = insert(&io);
                match sel.register(fd.as_raw_fd(), key as u64) {
                    Ok(()) => Ok(Some((key, io))),
                    Err(e) => {
                        lock(&self.io).remove(slot);
                        Err(e)
                    }
                }
            }
            _ if pollable || check()? => Ok(Some((insert(&io).1, io))),
            _ => Ok(None),
        }
    }

    /// epoll: stops (`suspend`) or restarts the readiness events of a registration (see
    /// [`Registration::suspend`]). Nothing to do on io_uring, whose polls are one-shot and
    /// armed only by a waiting task.
    pub(crate) fn set_suspended(&self, key: usize, fd: RawFd, suspend: bool) {
        #[cfg(any(target_os = "macos", target_os = "freebsd"))]
        if let Backend::Kqueue(sel) = &self.backend {
            sel.set_suspended(fd, key as u64, suspend);
        }
        #[cfg(target_os = "linux")]
        if let Backend::Epoll(sel) = &self.backend {
            // Edge-triggered with no event asked for: only EPOLLERR and EPOLLHUP, which are
            // final, can still wake the driver. Restoring queues an event if the descriptor
            // is ready by then. EPOLL_CTL_MOD of a registered, open descriptor does not fail
            // for a reason that matters; if it did, the cost is only extra wake-ups (suspend)
            // or a readiness seen at the next event (resume, where the caller retries first).
            let events = if suspend { libc::EPOLLET as u32 } else { EPOLL_INTEREST };
            let _ = sel.modify(fd, key as u64, events);
        }
    }

    /// Removes a registration; must be called before the descriptor is closed.
    pub(crate) fn deregister(&self, key: usize, fd: RawFd, io: &ScheduledIo) {
        match &self.backend {
            // The descriptor is still open here, so EPOLL_CTL_DEL cannot fail for a reason that
            // matters; if it did, closing the descriptor removes it from the interest list.
            #[cfg(target_os = "linux")]
            Backend::Epoll(sel) => {
                let _ = sel.deregister(fd);
            }
            #[cfg(any(target_os = "macos", target_os = "freebsd"))]
            Backend::Kqueue(sel) => sel.deregister(fd),
            // An armed poll (an io_uring POLL_ADD, or a poll(2) wait in progress) holds a
            // reference to the file: remove it and wake the driver, so that its next submission
            // or wait drops the file and, for a pipe, the other end sees the close.
            _ => {
                for write in [false, true] {
                    if io.is_armed(write) {
                        self.remove_armed(poll_token(key, write));
                    }
                }
            }
        }
        let (slot, generation) = split_key(key as u64);
        let mut slab = lock(&self.io);
        if slab.get(slot).is_some_and(|io| io.generation == generation) {
            slab.remove(slot);
        }
    }

    /// Removes a registration's armed poll `token` (io_uring, poll(2)) and wakes the driver.
    fn remove_armed(&self, token: u64) {
        match &self.backend {
            #[cfg(target_os = "linux")]
            Backend::Uring(ring) => ring.remove_poll(token),
            Backend::Poll(sel) => sel.disarm(token),
            #[allow(unreachable_patterns)]
            _ => return,
        }
        self.unpark_if_remote();
    }

    /// Arms a readiness poll (io_uring and poll(2); epoll registrations are always armed).
    pub(crate) fn arm(&self, fd: RawFd, key: usize, write: bool) {
        match &self.backend {
            #[cfg(target_os = "linux")]
            Backend::Uring(ring) => ring.arm(fd, key, write),
            Backend::Poll(sel) => {
                let events = if write { poll::WRITE_EVENTS } else { poll::READ_EVENTS };
                sel.arm(fd, poll_token(key, write), events, true);
            }
            #[allow(unreachable_patterns)]
            _ => return,
        }
        self.unpark_if_remote();
    }

    /// Whether `kind` is a native completion on this driver (see [`op::native`]): io_uring
    /// with the opcode probed at setup.
    pub(crate) fn completes(&self, kind: op::Native) -> bool {
        match &self.backend {
            #[cfg(target_os = "linux")]
            Backend::Uring(ring) => ring.supports(uring::ops::opcode_of(kind)),
            #[allow(unreachable_patterns)]
            _ => {
                let _ = kind;
                false
            }
        }
    }

    /// Milliseconds since the driver started, rounded down: the wheel's notion of "now".
    pub(crate) fn now_tick(&self) -> u64 {
        self.start.elapsed().as_millis() as u64
    }

    /// The wheel tick at or after `deadline` (rounded up, so a timer never fires early).
    pub(crate) fn deadline_tick(&self, deadline: Instant) -> u64 {
        let d = deadline.saturating_duration_since(self.start);
        let ms = d.as_millis() as u64;
        if d > Duration::from_millis(ms) {
            ms + 1
        } else {
            ms
        }
    }

    fn fire_timers(&self) {
        let now = self.now_tick();
        let mut wakers = Vec::new();
        lock(&self.time).advance(now, |_, entry| {
            if let Some(w) = entry.waker.take() {
                wakers.push(w);
            }
        });
        for w in wakers {
            w.wake();
        }
    }

    pub(crate) fn register_internal(&self, fd: BorrowedFd<'_>, token: u64) -> io::Result<()> {
        self.add_internal(fd.as_raw_fd(), token)
    }

    pub(crate) fn deregister_internal(&self, fd: BorrowedFd<'_>, token: u64) {
        self.remove_internal(fd.as_raw_fd(), token);
    }

    /// Adds the signal fallback eventfd (see `sys::sighandler`).
    pub(crate) fn register_signal_fallback(&self, fd: RawFd) -> io::Result<()> {
        self.add_internal(fd, TOKEN_SIGNAL_FALLBACK)
    }

    pub(crate) fn orphans(&self) -> &crate::process::orphan::OrphanQueue {
        &self.orphans
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        // Handles can outlive the driver (I/O objects and children hold them), but nothing
        // turns it any more: hand the orphans on to the process-wide reaper, and make
        // sure the kernel is done with every buffer of an operation still in flight.
        self.handle.shut_down.store(true, Ordering::Release);
        self.handle.orphans.close();
        #[cfg(target_os = "linux")]
        if let Backend::Uring(ring) = &self.handle.backend {
            ring.shutdown();
        }
    }
}

/// The events every epoll registration asks for: both directions, the peer's hang-up,
/// edge-triggered.
#[cfg(target_os = "linux")]
const EPOLL_INTEREST: u32 = (libc::EPOLLIN | libc::EPOLLOUT | libc::EPOLLRDHUP | libc::EPOLLET) as u32;

/// A wait's timeout for epoll_wait(2) and poll(2): `-1` for none, else whole milliseconds
/// rounded *up* (so a timer is never early) and capped at `c_int::MAX`.
pub(crate) fn timeout_ms(timeout: Option<Duration>) -> libc::c_int {
    match timeout {
        None => -1,
        Some(d) => {
            let ms = d.as_millis();
            let ms = if Duration::from_millis(ms as u64) < d { ms + 1 } else { ms };
            ms.min(libc::c_int::MAX as u128) as libc::c_int
        }
    }
}

/// Locks a mutex, ignoring poisoning: every critical section in the driver leaves its data
/// consistent before anything that could panic.
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// Owned descriptor with its registration, removed from epoll before the close.
#[derive(Debug)]
pub(crate) struct IoSource {
    registration: Registration,
    fd: OwnedFd,
}

impl IoSource {
    /// Registers `fd` with the current runtime's driver: for readiness, or as always ready
    /// when the kernel cannot poll it (see [`Registration::new`]).
    pub(crate) fn new(fd: OwnedFd) -> io::Result<IoSource> {
        let registration = Registration::new(fd.as_fd(), false)?;
        Ok(IoSource { registration, fd })
    }

    /// Registers `fd`, which the caller knows to be pollable (a pipe or pidfd it created),
    /// for readiness without checking what it is.
    pub(crate) fn new_pollable(fd: OwnedFd) -> io::Result<IoSource> {
        let registration = Registration::new(fd.as_fd(), true)?;
        Ok(IoSource { registration, fd })
    }

    pub(crate) fn registration(&self) -> &Registration {
        &self.registration
    }

    /// Deregisters and gives the descriptor back (for example to hand it to a child).
    pub(crate) fn into_fd(self) -> OwnedFd {
        let this = std::mem::ManuallyDrop::new(self);
        this.registration.deregister(this.fd.as_raw_fd());
        // SAFETY: `this` is never used or dropped again, so each field is read out exactly
        // once; the registration is dropped here and the descriptor returned.
        unsafe {
            drop(std::ptr::read(&this.registration));
            std::ptr::read(&this.fd)
        }
    }
}

impl AsFd for IoSource {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

impl Drop for IoSource {
    fn drop(&mut self) {
        self.registration.deregister(self.fd.as_raw_fd());
    }
}

/// A multishot accept kept armed on a listener: io_uring's (`uring::multishot`) on Linux;
/// no backend here has one, so this type has no values and [`MultiAccept::new`] always says
/// no.
#[cfg(not(target_os = "linux"))]
#[derive(Debug)]
pub(crate) enum MultiAccept {}

#[cfg(not(target_os = "linux"))]
impl MultiAccept {
    /// Never: accepts take the readiness path.
    pub(crate) fn new(_source: &Arc<IoSource>) -> Option<Arc<MultiAccept>> {
        None
    }

    pub(crate) fn poll_accept(
        &self,
        _cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<io::Result<OwnedFd>> {
        match *self {}
    }

    pub(crate) fn close(&self) {
        match *self {}
    }
}
