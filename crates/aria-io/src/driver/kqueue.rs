//! The kqueue backend (macOS, FreeBSD): readiness, shaped like the epoll backend.
//!
//! - A registration is two filters on its descriptor, `EVFILT_READ` and `EVFILT_WRITE`, both
//!   `EV_CLEAR` (edge-triggered: reported again only after the state changes), whose `udata`
//!   is the registration's token. `EV_EOF` on the read filter is the peer's hang-up (what
//!   epoll calls `EPOLLRDHUP`), on the write filter the end of writing; `EV_ERROR` an error.
//!   Suspending a registration is `EV_DISABLE` of both filters, resuming `EV_ENABLE` (which
//!   reports an event at once if the descriptor is ready by then).
//! - Other threads wake the driver with an `EVFILT_USER` event (`NOTE_TRIGGER`, `EV_CLEAR`),
//!   no descriptor needed. The driver's own descriptors (the signal notifier) are
//!   level-triggered `EVFILT_READ` filters; orphaned children's process descriptors (each a kqueue
//!   watching its child: see `sys::bsd`) are `EV_ONESHOT`.
//! - Child exits and signals reach the driver through those descriptors, not through
//!   `EVFILT_PROC` and `EVFILT_SIGNAL` on this queue: a child's own kqueue works with the
//!   poll(2) backend as well, and signals go through the process-wide handler, which every
//!   driver of the process hears (see `sys::sighandler`), so the process and signal layers
//!   are the same for every backend of every Unix.
//!
//! Closing a descriptor removes its filters from every kqueue (kqueue(2)), so, as with epoll,
//! a registration is deleted before its descriptor closes and nothing dangles after.
//!
//! # References
//! kqueue(2) and kevent(2) of FreeBSD and macOS (`EV_ADD`, `EV_CLEAR`, `EV_DISABLE`,
//! `EV_ENABLE`, `EV_DELETE`, `EV_ONESHOT`, `EV_EOF`, `EV_ERROR`, `EVFILT_USER`, `NOTE_TRIGGER`).

use std::io;
use std::os::fd::{AsFd, AsRawFd, OwnedFd, RawFd};
use std::sync::Mutex;
use std::time::Duration;

use super::registration::Ready;
use crate::sys;

/// The ident of the driver's `EVFILT_USER` wake-up event (user events have their own ident
/// space, so 0 collides with no descriptor).
const WAKE_IDENT: RawFd = 0;

/// Events collected per kevent(2) wait.
const EVENTS: usize = 1024;

/// A kqueue instance and the buffer its waits fill.
#[derive(Debug)]
pub(crate) struct Selector {
    kq: OwnedFd,
    /// The buffer of [`Selector::select`], kept between waits (only the driver's thread
    /// selects, so this lock is never contended).
    events: Mutex<Events>,
}

/// Event buffer. `kevent` holds a raw `udata` pointer, which makes it neither `Send` nor
/// `Sync`; here `udata` only ever carries a token (an integer), never dereferenced.
struct Events(Vec<libc::kevent>);

// SAFETY: the only pointer in a kevent is `udata`, which this backend uses as an integer
// token and never dereferences.
unsafe impl Send for Events {}

impl std::fmt::Debug for Events {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Events").field("capacity", &self.0.len()).finish()
    }
}

/// One change to a kqueue's filters.
fn change(fd: RawFd, filter: i16, flags: u16, token: u64) -> libc::kevent {
    // SAFETY: kevent is plain old data (integers and a pointer); all-zero is valid.
    let mut ev: libc::kevent = unsafe { std::mem::zeroed() };
    ev.ident = fd as libc::uintptr_t;
    ev.filter = filter;
    ev.flags = flags;
    ev.udata = token as usize as *mut libc::c_void;
    ev
}

impl Selector {
    /// A new, close-on-exec kqueue.
    ///
    /// # Errors
    /// The kqueue(2) error (`EMFILE`, `ENOMEM`).
    pub(crate) fn new() -> io::Result<Selector> {
        // SAFETY: kevent is plain old data; all-zero is valid.
        let zero: libc::kevent = unsafe { std::mem::zeroed() };
        Ok(Selector { kq: sys::kqueue()?, events: Mutex::new(Events(vec![zero; EVENTS])) })
    }

    fn apply(&self, changes: &[libc::kevent]) -> io::Result<()> {
        sys::kevent_apply(self.kq.as_fd(), changes)
    }

    /// Registers `fd` for both directions, edge-triggered, under `token`.
    ///
    /// # Errors
    /// kevent(2)'s (`EBADF`; `EINVAL` for a descriptor kqueue cannot watch).
    /// A descriptor with no write filter (a kqueue, such as a child's process descriptor)
    /// gets the read filter alone.
    pub(crate) fn register(&self, fd: RawFd, token: u64) -> io::Result<()> {
        let flags = libc::EV_ADD | libc::EV_CLEAR;
        self.apply(&[change(fd, libc::EVFILT_READ, flags, token)])?;
        match self.apply(&[change(fd, libc::EVFILT_WRITE, flags, token)]) {
            Err(e) if e.raw_os_error() == Some(libc::EINVAL) => Ok(()),
            res => res,
        }
    }

    /// Stops (`suspend`) or restarts the events of a registration.
    /// Failures are ignored, as with epoll's `EPOLL_CTL_MOD`: at worst extra wake-ups.
    pub(crate) fn set_suspended(&self, fd: RawFd, token: u64, suspend: bool) {
        let flags = if suspend { libc::EV_DISABLE } else { libc::EV_ENABLE | libc::EV_CLEAR };
        for filter in [libc::EVFILT_READ, libc::EVFILT_WRITE] {
            let _ = self.apply(&[change(fd, filter, flags, token)]);
        }
    }

    /// Removes both filters of `fd` (before it is closed).
    pub(crate) fn deregister(&self, fd: RawFd) {
        // Applied one at a time: a failure of the first (`ENOENT`) must not skip the second.
        for filter in [libc::EVFILT_READ, libc::EVFILT_WRITE] {
            let _ = self.apply(&[change(fd, filter, libc::EV_DELETE, 0)]);
        }
    }

    /// Adds one of the driver's own descriptors: level-triggered readability, reported once
    /// and removed if `oneshot`.
    pub(crate) fn add_internal(&self, fd: RawFd, token: u64, oneshot: bool) -> io::Result<()> {
        let flags = if oneshot { libc::EV_ADD | libc::EV_ONESHOT } else { libc::EV_ADD };
        self.apply(&[change(fd, libc::EVFILT_READ, flags, token)])
    }

    /// Adds the driver's wake-up event: `EVFILT_USER` ident 0, `EV_CLEAR`, reported under
    /// `token` when [`wake`](Selector::wake) triggers it.
    pub(crate) fn add_wake(&self, token: u64) -> io::Result<()> {
        self.apply(&[change(WAKE_IDENT, libc::EVFILT_USER, libc::EV_ADD | libc::EV_CLEAR, token)])
    }

    /// Triggers the wake-up event (`NOTE_TRIGGER`), from any thread. A trigger while one is
    /// pending is absorbed by it.
    pub(crate) fn wake(&self) {
        let mut ev = change(WAKE_IDENT, libc::EVFILT_USER, 0, 0);
        ev.fflags = libc::NOTE_TRIGGER;
        let _ = self.apply(&[ev]);
    }

    /// Removes one of the driver's own descriptors.
    pub(crate) fn remove_internal(&self, fd: RawFd) {
        let _ = self.apply(&[change(fd, libc::EVFILT_READ, libc::EV_DELETE, 0)]);
    }

    /// Waits for at most `timeout` (`None`: no limit) and calls `dispatch(token, ready)` for
    /// every event. The timeout is rounded *up* to whole milliseconds, like epoll's, so a
    /// timer is never early. `EINTR` counts as no event.
    pub(crate) fn select(
        &self,
        timeout: Option<Duration>,
        mut dispatch: impl FnMut(u64, Ready),
    ) -> io::Result<()> {
        let ts = timeout.map(|t| {
            let ms = super::timeout_ms(Some(t)) as u64;
            libc::timespec { tv_sec: (ms / 1000) as libc::time_t, tv_nsec: ((ms % 1000) * 1_000_000) as _ }
        });
        let mut events = super::lock(&self.events);
        let events = &mut events.0;
        // SAFETY: the event buffer is valid for `EVENTS` entries and the timespec (or NULL)
        // for the call; no change list is passed.
        let n = unsafe {
            libc::kevent(
                self.kq.as_raw_fd(),
                std::ptr::null(),
                0,
                events.as_mut_ptr(),
                EVENTS as libc::c_int,
                ts.as_ref().map_or(std::ptr::null(), |t| t as *const libc::timespec),
            )
        };
        let n = match sys::cvt(n) {
            Ok(n) => n as usize,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => 0,
            Err(e) => return Err(e),
        };
        for ev in &events[..n] {
            dispatch(ev.udata as usize as u64, ready(ev));
        }
        Ok(())
    }
}

/// What a kevent reports, as the driver's readiness bits.
fn ready(ev: &libc::kevent) -> Ready {
    let eof = ev.flags & libc::EV_EOF != 0;
    let mut r = match ev.filter {
        libc::EVFILT_WRITE if eof => Ready::WRITABLE.or(Ready::WRITE_CLOSED),
        libc::EVFILT_WRITE => Ready::WRITABLE,
        _ if eof => Ready::READABLE.or(Ready::READ_CLOSED),
        _ => Ready::READABLE,
    };
    if ev.flags & libc::EV_ERROR != 0 || (eof && ev.fflags != 0) {
        // EV_ERROR carries an errno in `data`; EV_EOF with `fflags` set is a socket error.
        r = r.or(Ready::ERROR);
    }
    r
}
