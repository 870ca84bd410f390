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
//! - **Readiness** backends (epoll now; kqueue and poll later) try the non-blocking system
//!   call at once. On `EAGAIN` they wait until the descriptor is reported ready, then retry.
//!   The kernel only ever touches a buffer *during* a system call made by the polling thread,
//!   so an operation is never in flight between two polls.
//! - **Completion** backends (io_uring next, IOCP later) hand the operation to the kernel,
//!   which reads or writes its buffers asynchronously until it posts a completion.
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
//!   operation (buffers included) into the driver, which frees it when the completion for
//!   the original operation (successful, failed or `ECANCELED`) arrives. Dropping the whole
//!   runtime waits for those completions before unmapping the rings.
//!
//! Registered descriptors follow the same rule: the registration is removed from the event
//! queue (`EPOLL_CTL_DEL`) before the descriptor is closed, and events are dispatched by slab
//! key, never by pointer, so an event that was already dequeued for a descriptor that has
//! since been closed can only mark an unrelated registration spuriously ready.
//!
//! ## Required types and methods
//!
//! A backend module (`epoll.rs`, later `uring.rs`...) provides a `Selector` with
//! `new()`, `register(fd, token)`, `deregister(fd)`, `select(&mut events, timeout)` and a
//! thread-safe `wake()` that interrupts a `select` in progress from any thread.
//!
//! ## Turning the driver
//!
//! [`Driver::turn`] waits for events with a timeout equal to the next timer deadline (or
//! zero when the scheduler still has work), dispatches up to 1024 events per wait, fires
//! expired timers, and returns. All wake-ups go through [`std::task::Waker`]s, so the
//! driver knows nothing about tasks.

pub(crate) mod epoll;
pub(crate) mod op;
pub(crate) mod registration;

use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd, RawFd};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use slab::Slab;

use crate::signal::registry::SignalRegistry;
use crate::time::wheel::Wheel;
use registration::ScheduledIo;

pub(crate) use registration::{Interest, Registration};

/// Events dispatched per `epoll_wait`.
const EVENTS_PER_TURN: usize = 1024;

/// Tokens with this bit set are the driver's own descriptors, not registrations.
const INTERNAL: u64 = 1 << 63;
const TOKEN_WAKE: u64 = INTERNAL;
const TOKEN_SIGNAL: u64 = INTERNAL | 1;
/// Orphaned children's pidfds: this bit plus their key in the orphan list.
pub(crate) const ORPHAN_TOKEN: u64 = INTERNAL | (1 << 62);

/// A pending timer: the waker of the `Sleep` waiting on it.
pub(crate) struct TimerEntry {
    pub(crate) waker: Option<std::task::Waker>,
}

/// The part of the driver that other threads and I/O objects hold on to.
pub(crate) struct Handle {
    selector: epoll::Selector,
    /// Registered descriptors, indexed by their epoll token.
    io: Mutex<Slab<Arc<ScheduledIo>>>,
    /// Set by `unpark`, cleared by the driver once it has consumed the wake-up.
    wake_pending: AtomicBool,
    pub(crate) time: Mutex<Wheel<TimerEntry>>,
    start: Instant,
    pub(crate) signals: SignalRegistry,
    orphans: crate::process::orphan::OrphanQueue,
}

impl std::fmt::Debug for Handle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("driver::Handle").field("epoll", &self.selector).finish_non_exhaustive()
    }
}

/// The driver proper, owned by the thread that turns it.
pub(crate) struct Driver {
    handle: Arc<Handle>,
    events: Vec<libc::epoll_event>,
}

impl Driver {
    /// Creates the epoll instance, its wake-up eventfd and the (empty) signalfd.
    pub(crate) fn new() -> io::Result<Driver> {
        let selector = epoll::Selector::new()?;
        selector.register(selector.waker_fd(), TOKEN_WAKE, libc::EPOLLIN as u32)?;
        let signals = SignalRegistry::new()?;
        selector.register(signals.fd(), TOKEN_SIGNAL, libc::EPOLLIN as u32)?;
        let orphans = crate::process::orphan::OrphanQueue::new();
        let handle = Arc::new(Handle {
            selector,
            io: Mutex::new(Slab::new()),
            wake_pending: AtomicBool::new(false),
            time: Mutex::new(Wheel::new()),
            start: Instant::now(),
            signals,
            orphans,
        });
        Ok(Driver { handle, events: Vec::with_capacity(EVENTS_PER_TURN) })
    }

    pub(crate) fn handle(&self) -> &Arc<Handle> {
        &self.handle
    }

    /// Waits for events for at most `max_wait` (`None`: until the next timer or forever),
    /// dispatches them, and fires expired timers.
    pub(crate) fn turn(&mut self, max_wait: Option<Duration>) -> io::Result<()> {
        let handle = &*self.handle;
        handle.orphans.adopt_global(handle);
        let timeout = {
            let wheel = lock(&handle.time);
            let timer = wheel.next_expiration().map(|tick| {
                let due = handle.start + Duration::from_millis(tick);
                due.saturating_duration_since(Instant::now())
            });
            match (timer, max_wait) {
                (Some(t), Some(m)) => Some(t.min(m)),
                (t, m) => t.or(m),
            }
        };
        self.events.clear();
        handle.selector.select(&mut self.events, timeout)?;
        for ev in &self.events {
            let token = ev.u64;
            let bits = ev.events;
            match token {
                TOKEN_WAKE => {
                    handle.selector.drain_waker();
                    handle.wake_pending.store(false, Ordering::SeqCst);
                }
                TOKEN_SIGNAL => handle.signals.dispatch(),
                t if t & ORPHAN_TOKEN == ORPHAN_TOKEN => {
                    handle.orphans.reap(handle, (t & !ORPHAN_TOKEN) as usize);
                }
                _ => {
                    let io = lock(&handle.io).get(token as usize).cloned();
                    if let Some(io) = io {
                        io.set_readiness(registration::Ready::from_epoll(bits));
                    }
                }
            }
        }
        handle.fire_timers();
        Ok(())
    }
}

impl Handle {
    /// Wakes the thread turning the driver (from any thread). Coalesced: at most one eventfd
    /// write is outstanding.
    pub(crate) fn unpark(&self) {
        if !self.wake_pending.swap(true, Ordering::SeqCst) {
            self.selector.wake();
        }
    }

    /// Registers `fd` for edge-triggered readiness (in, out, read-hangup).
    pub(crate) fn register(&self, fd: RawFd) -> io::Result<(usize, Arc<ScheduledIo>)> {
        let io = Arc::new(ScheduledIo::default());
        let key = lock(&self.io).insert(io.clone());
        let interest = (libc::EPOLLIN | libc::EPOLLOUT | libc::EPOLLRDHUP | libc::EPOLLET) as u32;
        if let Err(e) = self.selector.register(fd, key as u64, interest) {
            lock(&self.io).remove(key);
            return Err(e);
        }
        Ok((key, io))
    }

    /// Removes a registration; must be called before the descriptor is closed.
    pub(crate) fn deregister(&self, key: usize, fd: RawFd) {
        // The descriptor is still open here, so EPOLL_CTL_DEL cannot fail for a reason that
        // matters; if it did, closing the descriptor removes it from the interest list anyway.
        let _ = self.selector.deregister(fd);
        lock(&self.io).try_remove(key);
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
        self.selector.register(fd.as_raw_fd(), token, libc::EPOLLIN as u32)
    }

    pub(crate) fn deregister_internal(&self, fd: BorrowedFd<'_>) {
        let _ = self.selector.deregister(fd.as_raw_fd());
    }

    /// Adds the signal fallback eventfd to the interest list (see `sys::sighandler`).
    pub(crate) fn register_signal_fallback(&self, fd: RawFd) -> io::Result<()> {
        self.selector.register(fd, TOKEN_SIGNAL, libc::EPOLLIN as u32)
    }

    pub(crate) fn orphans(&self) -> &crate::process::orphan::OrphanQueue {
        &self.orphans
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        // Handles can outlive the driver (I/O objects and children hold them), but nothing
        // turns it any more: hand the orphans on to whichever runtime turns next.
        self.handle.orphans.close();
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
    /// Registers `fd` with the current runtime's driver.
    pub(crate) fn new(fd: OwnedFd) -> io::Result<IoSource> {
        let registration = Registration::new(fd.as_raw_fd())?;
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
