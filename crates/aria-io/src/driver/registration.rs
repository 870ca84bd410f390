//! Readiness state of one registered descriptor and the waker slots of the tasks waiting on it.
//!
//! # Protocol
//!
//! `readiness` packs the ready bits (low 16 bits) and a tick (high bits) that the driver
//! increments on every event. A waiter that found the descriptor not ready (`EAGAIN`) calls
//! [`Registration::clear_readiness`] with the tick it observed: bits are cleared only if no
//! newer event arrived in between, so an edge reported while the waiter was busy is never
//! lost. The driver sets bits *before* taking the waiter lock to wake; a waiter stores its
//! waker under the lock and re-checks the bits afterwards, so a wake-up cannot fall between
//! the check and the store.
//!
//! # Always-ready descriptors
//!
//! Some descriptors have no readiness to wait for: the kernel cannot poll a regular file or
//! a device such as `/dev/null` (their file has no `poll` method: epoll_ctl(2) refuses them
//! with `EPERM`, and poll(2) reports them always readable and writable). A read or write of
//! one never reports `EAGAIN`: it transfers bytes, reports end of file or an error, or
//! blocks the calling thread for as long as the device or the disk takes, as any read(2) of
//! a regular file does.
//!
//! Such a descriptor is *always ready*: its registration has no readiness state, nothing is
//! added to epoll and no `IORING_OP_POLL_ADD` is ever armed for it, on either backend.
//! [`Registration::poll_ready`] reports it ready at once, so [`Registration::poll_io`] simply
//! performs the system call. Should that call report `WouldBlock` anyway (nothing the kernel
//! can notify about), the task yields and retries at its next poll rather than spinning
//! inside one. Completion operations on it (`IORING_OP_READ`...) are submitted to io_uring as
//! for any registered descriptor; the readiness backends perform them inline.
//!
//! Which descriptors are always ready is decided once, at registration, by
//! [`Handle::register`] (the same rule on every backend).
//!
//! # Reads abandoned in flight: the stash
//!
//! On io_uring a read of a stream (`IORING_OP_RECV`, `IORING_OP_READ`, the stream form of
//! `IORING_OP_RECVMSG`) takes bytes off the descriptor inside the kernel. When its future is
//! dropped in flight, the cancellation can come too late: the completion then brings bytes
//! nobody waits for. They are not dropped. The protocol, per registration:
//!
//! 1. When the `Op` is dropped in flight, the read's `OpCode::abandoned` hook takes an
//!    [`AbandonedRead`] on the registration (on the dropping thread, before the drop
//!    returns): the registration counts it as *in flight*.
//! 2. When its completion arrives, the read's cancel hook hands the bytes it received to
//!    [`AbandonedRead::keep`], which appends them to the registration's *stash*; dropping the
//!    `AbandonedRead` (with the operation) ends it and wakes the readers waiting for it.
//! 3. Every read of the stream (owned-buffer reads, `AsyncRead`, `try_read`, `peek`, reads
//!    with descriptors, `read_to_end`) first asks [`Registration::poll_stash`]: while an
//!    abandoned read is in flight it waits (a read started now could overtake the abandoned
//!    one in the kernel and return later bytes first); then stashed bytes are returned before
//!    the descriptor is read again.
//!
//! So every byte is returned exactly once and in order, whether the cancellation won (the
//! read completes with `-ECANCELED` and leaves the bytes in the socket) or lost. A flag read
//! with one atomic load keeps this off the path of a stream that never had a read abandoned.
//! On epoll nothing is in flight between polls and nothing is ever stashed.

use std::collections::VecDeque;
use std::io;
use std::os::fd::{AsRawFd, BorrowedFd, RawFd};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};

use super::{lock, Handle, IoSource};

/// Readiness bits, as reported by epoll, normalised.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Ready(usize);

impl Ready {
    pub(crate) const READABLE: Ready = Ready(1);
    pub(crate) const WRITABLE: Ready = Ready(2);
    pub(crate) const READ_CLOSED: Ready = Ready(4);
    pub(crate) const WRITE_CLOSED: Ready = Ready(8);
    pub(crate) const ERROR: Ready = Ready(16);

    /// What poll(2) reported (`revents`).
    pub(crate) fn from_poll(revents: u32) -> Ready {
        let bits = revents as libc::c_short;
        let mut r = 0;
        if bits & (libc::POLLIN | libc::POLLPRI) != 0 {
            r |= Self::READABLE.0;
        }
        if bits & libc::POLLOUT != 0 {
            r |= Self::WRITABLE.0;
        }
        if bits & (libc::POLLHUP | crate::sys::POLL_RDHUP) != 0 {
            r |= Self::READ_CLOSED.0;
        }
        if bits & (libc::POLLHUP | libc::POLLERR) != 0 {
            r |= Self::WRITE_CLOSED.0;
        }
        if bits & libc::POLLERR != 0 {
            r |= Self::ERROR.0;
        }
        Ready(r)
    }

    /// What epoll reported (`events`).
    #[cfg(target_os = "linux")]
    pub(crate) fn from_epoll(bits: u32) -> Ready {
        let bits = bits as libc::c_int;
        let mut r = 0;
        if bits & (libc::EPOLLIN | libc::EPOLLPRI) != 0 {
            r |= Self::READABLE.0;
        }
        if bits & libc::EPOLLOUT != 0 {
            r |= Self::WRITABLE.0;
        }
        if bits & (libc::EPOLLHUP | libc::EPOLLRDHUP) != 0 {
            r |= Self::READ_CLOSED.0;
        }
        if bits & libc::EPOLLHUP != 0 || bits & libc::EPOLLERR != 0 {
            r |= Self::WRITE_CLOSED.0;
        }
        if bits & libc::EPOLLERR != 0 {
            r |= Self::ERROR.0;
        }
        Ready(r)
    }

    /// Both sets of bits.
    pub(crate) const fn or(self, other: Ready) -> Ready {
        Ready(self.0 | other.0)
    }

    fn intersects(self, other: Ready) -> bool {
        self.0 & other.0 != 0
    }
}

/// What an operation waits for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Interest {
    Readable,
    Writable,
}

impl Interest {
    /// The bits that satisfy this interest: a closed or failed descriptor is "ready" too,
    /// so that the retried system call reports EOF or the error.
    fn mask(self) -> Ready {
        match self {
            Interest::Readable => Ready(Ready::READABLE.0 | Ready::READ_CLOSED.0 | Ready::ERROR.0),
            Interest::Writable => Ready(Ready::WRITABLE.0 | Ready::WRITE_CLOSED.0 | Ready::ERROR.0),
        }
    }
}

const TICK_SHIFT: u32 = 16;
const READY_MASK: usize = (1 << TICK_SHIFT) - 1;

#[derive(Default)]
struct Waiters {
    reader: WakerSet,
    writer: WakerSet,
}

/// The tasks waiting for one direction of a descriptor. Usually one (a stream read by one
/// task), so the first waker has its own slot; a socket shared by reference (a `UdpSocket`
/// in an `Arc`, `recv` from several tasks) can have any number, and each must be woken:
/// replacing a waker would leave its task asleep for ever. A waker whose future was dropped
/// stays until the next event for the direction and costs that task one spurious wake-up;
/// the set holds at most one waker per task that waited since the last event.
#[derive(Default)]
struct WakerSet {
    first: Option<Waker>,
    more: Vec<Waker>,
}

impl WakerSet {
    /// Adds `waker` unless a waker that wakes the same task is already there.
    fn register(&mut self, waker: &Waker) {
        match &self.first {
            None => self.first = Some(waker.clone()),
            Some(w) if w.will_wake(waker) => {}
            Some(_) => {
                if !self.more.iter().any(|w| w.will_wake(waker)) {
                    self.more.push(waker.clone());
                }
            }
        }
    }

    /// Takes every waker, to be woken outside the lock.
    fn take(&mut self) -> (Option<Waker>, Vec<Waker>) {
        (self.first.take(), std::mem::take(&mut self.more))
    }
}

/// Wakes every waker of a [`WakerSet::take`].
fn wake_all((first, more): (Option<Waker>, Vec<Waker>)) {
    if let Some(w) = first {
        w.wake();
    }
    for w in more {
        w.wake();
    }
}

/// Shared between the driver (which sets readiness) and the I/O object (which waits).
#[derive(Default)]
pub(crate) struct ScheduledIo {
    readiness: AtomicUsize,
    waiters: Mutex<Waiters>,
    /// io_uring: a one-shot poll is in flight for reading / writing.
    armed: [AtomicBool; 2],
    /// The generation in this registration's key (see `driver::split_key`): an event
    /// whose token carries another generation belongs to an earlier registration that had
    /// the same slab slot.
    pub(crate) generation: u64,
}

impl ScheduledIo {
    /// A registration of `generation`.
    pub(crate) fn new(generation: u64) -> ScheduledIo {
        ScheduledIo { generation, ..ScheduledIo::default() }
    }

    /// io_uring: the poll for this direction completed.
    pub(crate) fn disarm(&self, write: bool) {
        self.armed[write as usize].store(false, Ordering::Release);
    }

    /// io_uring: whether a poll for this direction is in flight.
    pub(crate) fn is_armed(&self, write: bool) -> bool {
        self.armed[write as usize].load(Ordering::Acquire)
    }

    /// Called by the driver for every event on this descriptor.
    pub(crate) fn set_readiness(&self, ready: Ready) {
        let _ = self.readiness.fetch_update(Ordering::AcqRel, Ordering::Acquire, |cur| {
            let tick = (cur >> TICK_SHIFT).wrapping_add(1);
            Some((tick << TICK_SHIFT) | ((cur | ready.0) & READY_MASK))
        });
        let (r, w) = {
            let mut waiters = lock(&self.waiters);
            let r = ready.intersects(Interest::Readable.mask()).then(|| waiters.reader.take());
            let w = ready.intersects(Interest::Writable.mask()).then(|| waiters.writer.take());
            (r, w)
        };
        r.into_iter().chain(w).for_each(wake_all);
    }
}

/// The readiness observed by a poll, with the tick needed to clear it.
#[derive(Clone, Copy, Debug)]
pub(crate) struct ReadyEvent {
    tick: usize,
    interest: Interest,
}

/// A descriptor registered with the current runtime's driver.
pub(crate) struct Registration {
    handle: Arc<Handle>,
    fd: RawFd,
    /// The registration key (slab slot and generation, see `driver::split_key`) and
    /// readiness state; `None` for an always-ready descriptor (see the
    /// [module docs](self#always-ready-descriptors)).
    polled: Option<(usize, Arc<ScheduledIo>)>,
    registered: AtomicBool,
    /// Set while [`stash`](Registration::stash) holds bytes or an abandoned read is in
    /// flight (see the [module docs](self#reads-abandoned-in-flight-the-stash)): the one atomic
    /// load every read makes.
    stash_active: AtomicBool,
    stash: Mutex<Stash>,
}

/// What reads abandoned in flight left behind (see the
/// [module docs](self#reads-abandoned-in-flight-the-stash)).
#[derive(Default)]
struct Stash {
    /// Bytes they received, oldest first, not handed out yet.
    bytes: VecDeque<u8>,
    /// Abandoned reads whose completion has not arrived.
    in_flight: usize,
    /// Readers waiting for those completions.
    waiters: WakerSet,
}

/// A read of a stream dropped while in the kernel (io_uring), counted as in flight on its
/// registration until this is dropped; what it received goes to [`keep`](AbandonedRead::keep).
pub(crate) struct AbandonedRead {
    source: Arc<IoSource>,
}

// Used by completion backends only (io_uring: `driver::uring::ops`).
#[cfg_attr(not(target_os = "linux"), allow(dead_code))]
impl AbandonedRead {
    /// Counts a read on `source` as abandoned in flight: later reads wait for its end.
    pub(crate) fn new(source: &Arc<IoSource>) -> AbandonedRead {
        let reg = source.registration();
        lock(&reg.stash).in_flight += 1;
        reg.stash_active.store(true, Ordering::Release);
        AbandonedRead { source: source.clone() }
    }

    /// The read's completion brought `bytes`: the next reads of the stream return them
    /// first, after any bytes stashed before.
    pub(crate) fn keep(&self, bytes: &[u8]) {
        lock(&self.source.registration().stash).bytes.extend(bytes);
    }
}

impl Drop for AbandonedRead {
    fn drop(&mut self) {
        let reg = self.source.registration();
        let waiters = {
            let mut stash = lock(&reg.stash);
            stash.in_flight -= 1;
            stash.waiters.take()
        };
        wake_all(waiters);
    }
}

impl std::fmt::Debug for AbandonedRead {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AbandonedRead").finish_non_exhaustive()
    }
}

impl std::fmt::Debug for Registration {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let key = self.polled.as_ref().map(|(key, _)| *key);
        f.debug_struct("Registration").field("key", &key).finish_non_exhaustive()
    }
}

impl Registration {
    /// Registers `fd` with the driver of the runtime running on this thread: for readiness
    /// (then `fd` must be made non-blocking), or as always ready when the kernel cannot poll
    /// it (see the [module docs](self#always-ready-descriptors)).
    ///
    /// `pollable`: the caller knows `fd` is pollable, so nothing is checked (see
    /// [`Handle::register`]).
    ///
    /// # Errors
    /// `Other` if no runtime is running on this thread; otherwise the error of
    /// [`Handle::register`], naming the descriptor.
    pub(crate) fn new(fd: BorrowedFd<'_>, pollable: bool) -> io::Result<Registration> {
        let handle = crate::runtime::context::driver_handle()?;
        let polled = handle.register(fd, pollable)?;
        Ok(Registration {
            handle,
            fd: fd.as_raw_fd(),
            polled,
            registered: AtomicBool::new(true),
            stash_active: AtomicBool::new(false),
            stash: Mutex::default(),
        })
    }

    /// Before a read of the stream: `Ready(Ok(None))` when nothing was stashed (read the
    /// descriptor); `Ready(Ok(Some(n)))` when `take` took `n` bytes from the stash (return
    /// them instead of reading; `take` removes what it hands out, or copies them for a peek);
    /// `Pending` while a read abandoned in flight has not completed (see the
    /// [module docs](self#reads-abandoned-in-flight-the-stash)).
    ///
    /// # Errors
    /// `Other` if the driver shut down with the abandoned read still in flight.
    pub(crate) fn poll_stash(
        &self,
        cx: &mut Context<'_>,
        take: impl FnOnce(&mut VecDeque<u8>) -> usize,
    ) -> Poll<io::Result<Option<usize>>> {
        if !self.stash_active.load(Ordering::Acquire) {
            return Poll::Ready(Ok(None));
        }
        let mut stash = lock(&self.stash);
        if stash.in_flight > 0 {
            if self.handle.is_shut_down() {
                return Poll::Ready(Err(io::Error::other(
                    "the runtime this I/O object is registered with has shut down with a read in flight",
                )));
            }
            stash.waiters.register(cx.waker());
            return Poll::Pending;
        }
        if stash.bytes.is_empty() {
            self.stash_active.store(false, Ordering::Release);
            return Poll::Ready(Ok(None));
        }
        Poll::Ready(Ok(Some(take(&mut stash.bytes))))
    }

    /// Waits for reads abandoned in flight, then moves stashed bytes into the spare
    /// capacity of `buf` (for the owned-buffer reads): `Some(n)` if there were any.
    ///
    /// # Errors
    /// As [`poll_stash`](Registration::poll_stash).
    pub(crate) async fn take_stashed_spare(&self, buf: &mut Vec<u8>) -> io::Result<Option<usize>> {
        std::future::poll_fn(|cx| self.poll_stash(cx, |stash| take_into_spare(stash, buf))).await
    }

    /// Whether reads abandoned in flight left bytes in the stash, or are still in flight:
    /// the next bytes of the stream may then not be in the descriptor.
    pub(crate) fn has_stash(&self) -> bool {
        self.stash_active.load(Ordering::Acquire)
    }

    /// [`poll_stash`](Registration::poll_stash) without waiting, for the `try_read` methods:
    /// `WouldBlock` while an abandoned read is in flight.
    pub(crate) fn try_stash(
        &self,
        take: impl FnOnce(&mut VecDeque<u8>) -> usize,
    ) -> io::Result<Option<usize>> {
        let mut cx = Context::from_waker(Waker::noop());
        match self.poll_stash(&mut cx, take) {
            Poll::Ready(res) => res,
            Poll::Pending => Err(io::ErrorKind::WouldBlock.into()),
        }
    }

    /// Whether the driver reports readiness for this descriptor (false: always ready).
    pub(crate) fn is_polled(&self) -> bool {
        self.polled.is_some()
    }

    /// Removes the registration (idempotent). Must run before the descriptor is closed.
    pub(crate) fn deregister(&self, fd: RawFd) {
        if self.registered.swap(false, Ordering::AcqRel) {
            if let Some((key, io)) = &self.polled {
                self.handle.deregister(*key, fd, io);
            }
        }
    }

    /// Stops readiness events for this descriptor until the returned guard is dropped: for a
    /// descriptor that a blocking-pool thread drives by itself for a while (the pipe-to-file
    /// [pump](crate::io)), so that each write into the pipe does not also wake the driver's
    /// thread for an event nobody waits for. epoll only (`EPOLL_CTL_MOD`); io_uring polls are
    /// armed only while a task waits, so they need nothing. Readiness observed before is
    /// kept; after the guard, an event arrives at once if the descriptor is ready.
    pub(crate) fn suspend(&self, fd: RawFd) -> Suspended<'_> {
        if let Some((key, _)) = &self.polled {
            self.handle.set_suspended(*key, fd, true);
        }
        Suspended { registration: self, fd }
    }

    /// The driver this descriptor is registered with.
    pub(crate) fn driver(&self) -> &Arc<Handle> {
        &self.handle
    }

    /// Polls for readiness; stores the waker if not ready. An always-ready descriptor is
    /// ready at once.
    pub(crate) fn poll_ready(&self, cx: &mut Context<'_>, interest: Interest) -> Poll<ReadyEvent> {
        let Some((key, io)) = &self.polled else {
            return Poll::Ready(ReadyEvent { tick: 0, interest });
        };
        let cur = io.readiness.load(Ordering::Acquire);
        if Ready(cur & READY_MASK).intersects(interest.mask()) {
            return Poll::Ready(ReadyEvent { tick: cur >> TICK_SHIFT, interest });
        }
        {
            let mut waiters = lock(&io.waiters);
            match interest {
                Interest::Readable => waiters.reader.register(cx.waker()),
                Interest::Writable => waiters.writer.register(cx.waker()),
            }
        }
        // io_uring and poll(2): make sure a poll is armed for this direction.
        let write = interest == Interest::Writable;
        if self.handle.backend.arms_on_demand() && !io.armed[write as usize].swap(true, Ordering::AcqRel) {
            self.handle.arm(self.fd, *key, write);
        }
        let cur = io.readiness.load(Ordering::Acquire);
        if Ready(cur & READY_MASK).intersects(interest.mask()) {
            return Poll::Ready(ReadyEvent { tick: cur >> TICK_SHIFT, interest });
        }
        Poll::Pending
    }

    /// Clears the readiness observed in `event` (the system call returned `EAGAIN`), unless
    /// a newer event arrived since. Closed/error bits are sticky and never cleared. Nothing
    /// to clear for an always-ready descriptor.
    pub(crate) fn clear_readiness(&self, event: ReadyEvent) {
        let Some((_, io)) = &self.polled else { return };
        let clear = match event.interest {
            Interest::Readable => Ready::READABLE.0,
            Interest::Writable => Ready::WRITABLE.0,
        };
        let _ = io.readiness.fetch_update(Ordering::AcqRel, Ordering::Acquire, |cur| {
            if cur >> TICK_SHIFT != event.tick {
                return None;
            }
            Some(cur & !clear)
        });
    }

    /// Like [`poll_ready`](Registration::poll_ready), but an error instead of waiting for
    /// ever when the driver has shut down.
    pub(crate) fn poll_ready_or_shut_down(
        &self,
        cx: &mut Context<'_>,
        interest: Interest,
    ) -> Poll<io::Result<ReadyEvent>> {
        match self.poll_ready(cx, interest) {
            Poll::Ready(ev) => Poll::Ready(Ok(ev)),
            // Waiting on a driver that is gone would never end.
            Poll::Pending if self.handle.is_shut_down() => Poll::Ready(Err(io::Error::other(
                "the runtime this I/O object is registered with has shut down",
            ))),
            Poll::Pending => Poll::Pending,
        }
    }

    /// Runs the non-blocking `f` once, without waiting: for the `try_*` methods of the I/O
    /// types. On `WouldBlock` the readiness observed *before* the call is cleared (unless a
    /// newer event arrived since), so that a later wait for `interest` really waits.
    pub(crate) fn try_io<R>(&self, interest: Interest, f: impl FnOnce() -> io::Result<R>) -> io::Result<R> {
        let Some((_, io)) = &self.polled else { return f() };
        let tick = io.readiness.load(Ordering::Acquire) >> TICK_SHIFT;
        let res = f();
        if matches!(&res, Err(e) if e.kind() == io::ErrorKind::WouldBlock) {
            self.clear_readiness(ReadyEvent { tick, interest });
        }
        res
    }

    /// Runs the non-blocking `f` until it succeeds or fails with something other than
    /// `WouldBlock`, waiting for `interest` in between: the readiness half of the backend
    /// contract. On an always-ready descriptor `f` runs at once.
    pub(crate) fn poll_io<R>(
        &self,
        cx: &mut Context<'_>,
        interest: Interest,
        mut f: impl FnMut() -> io::Result<R>,
    ) -> Poll<io::Result<R>> {
        self.poll_io_drained(cx, interest, || f().map(|r| (r, false)))
    }

    /// Reads from a stream (a socket or a pipe) into `buf` with `f`, as
    /// [`poll_io`](Registration::poll_io) does, and clears the readiness used when the read
    /// came up short ([`short_read`]). Bytes [stashed](Registration::poll_stash) by reads
    /// abandoned in flight are returned first.
    pub(crate) fn poll_read(
        &self,
        cx: &mut Context<'_>,
        buf: &mut [u8],
        mut f: impl FnMut(&mut [u8]) -> io::Result<usize>,
    ) -> Poll<io::Result<usize>> {
        if let Some(n) = std::task::ready!(self.poll_stash(cx, |stash| take_into(stash, buf)))? {
            return Poll::Ready(Ok(n));
        }
        let len = buf.len();
        self.poll_io_drained(cx, Interest::Readable, || f(buf).map(|n| (n, short_read(n, len))))
    }

    /// [`poll_read`](Registration::poll_read) into memory that may be uninitialised (hyper's
    /// read buffer): `f` only writes it, with a read(2)/recv(2) into its raw pointer, and
    /// returns how many bytes it wrote; stashed bytes are copied in the same way.
    pub(crate) fn poll_read_uninit(
        &self,
        cx: &mut Context<'_>,
        buf: &mut [std::mem::MaybeUninit<u8>],
        mut f: impl FnMut(&mut [std::mem::MaybeUninit<u8>]) -> io::Result<usize>,
    ) -> Poll<io::Result<usize>> {
        if let Some(n) = std::task::ready!(self.poll_stash(cx, |stash| take_into_uninit(stash, buf)))? {
            return Poll::Ready(Ok(n));
        }
        let len = buf.len();
        self.poll_io_drained(cx, Interest::Readable, || f(buf).map(|n| (n, short_read(n, len))))
    }

    /// [`poll_io`](Registration::poll_io) for a read from a stream (a socket or a pipe):
    /// `f` also says whether its read emptied the descriptor (see [`short_read`]); then the
    /// readiness it used is cleared, so that the next read waits for an event instead of
    /// first trying a read(2) that would fail with `EAGAIN` (as tokio does).
    /// An event that arrived since is kept (the tick), so nothing is missed: with epoll's
    /// edge triggering, data arriving after the read raises a new event.
    pub(crate) fn poll_io_drained<R>(
        &self,
        cx: &mut Context<'_>,
        interest: Interest,
        mut f: impl FnMut() -> io::Result<(R, bool)>,
    ) -> Poll<io::Result<R>> {
        loop {
            let ev = std::task::ready!(self.poll_ready_or_shut_down(cx, interest))?;
            match f() {
                // Always ready: nothing will report readiness, so retry at the next poll.
                Err(e) if e.kind() == io::ErrorKind::WouldBlock && self.polled.is_none() => {
                    cx.waker().wake_by_ref();
                    return Poll::Pending;
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => self.clear_readiness(ev),
                Ok((r, drained)) => {
                    if drained {
                        self.clear_readiness(ev);
                    }
                    return Poll::Ready(Ok(r));
                }
                Err(e) => return Poll::Ready(Err(e)),
            }
        }
    }
}

/// Moves the first bytes of `stash` into `buf` (as many as fit); returns the count.
pub(crate) fn take_into(stash: &mut VecDeque<u8>, buf: &mut [u8]) -> usize {
    std::io::Read::read(stash, buf).unwrap_or(0)
}

/// Moves the first bytes of `stash` into `buf`, which may be uninitialised (as many as fit);
/// returns the count, all of which are initialised now.
pub(crate) fn take_into_uninit(stash: &mut VecDeque<u8>, buf: &mut [std::mem::MaybeUninit<u8>]) -> usize {
    let n = stash.len().min(buf.len());
    for (dst, src) in buf.iter_mut().zip(stash.drain(..n)) {
        dst.write(src);
    }
    n
}

/// Copies the first bytes of `stash` into `buf` without removing them (a peek); returns the
/// count.
pub(crate) fn copy_into(stash: &VecDeque<u8>, buf: &mut [u8]) -> usize {
    let n = stash.len().min(buf.len());
    for (dst, src) in buf.iter_mut().zip(stash.iter()) {
        *dst = *src;
    }
    n
}

/// Moves the first bytes of `stash` into the spare capacity of `buf` (as many as fit,
/// appending them); returns the count.
pub(crate) fn take_into_spare(stash: &mut VecDeque<u8>, buf: &mut Vec<u8>) -> usize {
    let n = stash.len().min(buf.capacity() - buf.len());
    buf.extend(stash.drain(..n));
    n
}

/// Whether a read that returned `n` bytes into `len` bytes of space emptied a stream: it
/// returned data but less than asked for (end of file, `n == 0`, is not "drained": the
/// closed bit reports it).
pub(crate) fn short_read(n: usize, len: usize) -> bool {
    n > 0 && n < len
}

/// Readiness events suspended on a registration (see [`Registration::suspend`]); dropping
/// it restores them.
pub(crate) struct Suspended<'a> {
    registration: &'a Registration,
    fd: RawFd,
}

impl Drop for Suspended<'_> {
    fn drop(&mut self) {
        let reg = self.registration;
        if let Some((key, _)) = &reg.polled {
            if reg.registered.load(Ordering::Acquire) {
                reg.handle.set_suspended(*key, self.fd, false);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::os::fd::{AsFd, AsRawFd};
    use std::task::{Context, Poll, Waker};

    use super::{lock, Interest, Registration};
    use crate::BackendKind;

    /// Runs `f` inside a current-thread runtime on each backend of `kinds` (io_uring is
    /// skipped with a note where the kernel refuses it).
    fn on_each_backend(kinds: &[BackendKind], f: impl Fn(BackendKind)) {
        for &kind in kinds {
            let rt = match crate::Builder::new_current_thread().backend(kind).build() {
                Ok(rt) => rt,
                Err(e) if kind == BackendKind::IoUring => {
                    eprintln!("io_uring unavailable, not checked: {e}");
                    continue;
                }
                Err(e) => panic!("{kind} runtime: {e}"),
            };
            rt.block_on(async { f(kind) });
        }
    }

    #[test]
    fn a_descriptor_epoll_refuses_is_always_ready_and_never_polled_on_either_backend() {
        on_each_backend(&[BackendKind::Epoll, BackendKind::IoUring], |kind| {
            let null = std::fs::File::open("/dev/null").unwrap();
            let file = tempfile::tempfile().unwrap();
            for fd in [null.as_fd(), file.as_fd()] {
                let reg = Registration::new(fd, false).unwrap();
                assert!(!reg.is_polled(), "{kind}: fd {} has a readiness registration", fd.as_raw_fd());
                assert!(lock(&reg.handle.io).is_empty(), "{kind}: a registration was added");
                let mut cx = Context::from_waker(Waker::noop());
                for interest in [Interest::Readable, Interest::Writable] {
                    assert!(matches!(reg.poll_ready(&mut cx, interest), Poll::Ready(_)));
                }
                reg.deregister(fd.as_raw_fd());
            }
            let (r, _w) = crate::sys::pipe().unwrap();
            let reg = Registration::new(r.as_fd(), false).unwrap();
            assert!(reg.is_polled(), "{kind}: a pipe must be polled");
            reg.deregister(r.as_raw_fd());
        });
    }

    #[test]
    fn an_event_of_a_removed_registration_never_reaches_the_next_one_in_its_slot() {
        on_each_backend(&[BackendKind::Epoll, BackendKind::IoUring, BackendKind::Poll], |kind| {
            let (r1, _w1) = crate::sys::pipe().unwrap();
            let old = Registration::new(r1.as_fd(), true).unwrap();
            let old_key = old.polled.as_ref().unwrap().0;
            old.deregister(r1.as_raw_fd());
            let (r2, _w2) = crate::sys::pipe().unwrap();
            let new = Registration::new(r2.as_fd(), true).unwrap();
            let new_key = new.polled.as_ref().unwrap().0;
            assert_eq!(super::super::split_key(old_key as u64).0, super::super::split_key(new_key as u64).0);
            assert_ne!(old_key, new_key, "{kind}: the slot is reused with a new generation");
            // A hang-up of the old registration arriving late, as an epoll event and as an
            // io_uring or poll(2) readiness poll: the new one must not see it (a stale
            // hang-up is sticky and would make every read of the new pipe spin).
            old.handle.dispatch(old_key as u64, super::Ready::READ_CLOSED);
            old.handle.dispatch_polled(super::super::poll_token(old_key, false), super::Ready::READ_CLOSED);
            let mut cx = Context::from_waker(Waker::noop());
            assert!(
                new.poll_ready(&mut cx, Interest::Readable).is_pending(),
                "{kind}: a stale event got through"
            );
            // The new registration's own events still arrive.
            new.handle.dispatch(new_key as u64, super::Ready::READABLE);
            assert!(new.poll_ready(&mut cx, Interest::Readable).is_ready(), "{kind}");
            new.deregister(r2.as_raw_fd());
        });
    }

    /// A waker that counts its wake-ups.
    struct Count(std::sync::atomic::AtomicUsize);

    impl std::task::Wake for Count {
        fn wake(self: std::sync::Arc<Self>) {
            self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        }
    }

    #[test]
    fn every_task_waiting_in_one_direction_is_woken_once_per_event() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        use std::sync::Arc;

        let io = super::ScheduledIo::default();
        let counts: Vec<Arc<Count>> = (0..3).map(|_| Arc::new(Count(AtomicUsize::new(0)))).collect();
        let wakers: Vec<Waker> = counts.iter().map(|c| Waker::from(c.clone())).collect();
        {
            let mut waiters = lock(&io.waiters);
            for w in &wakers {
                waiters.reader.register(w);
                // The same task registering again adds nothing.
                waiters.reader.register(&w.clone());
            }
            waiters.writer.register(&wakers[0]);
        }
        io.set_readiness(super::Ready::READABLE);
        let got: Vec<usize> = counts.iter().map(|c| c.0.load(Ordering::SeqCst)).collect();
        assert_eq!(got, [1, 1, 1], "each reader woken exactly once");
        // The writer was not woken by a read event, and the readers are gone from the set.
        io.set_readiness(super::Ready::WRITABLE);
        let got: Vec<usize> = counts.iter().map(|c| c.0.load(Ordering::SeqCst)).collect();
        assert_eq!(got, [2, 1, 1]);
    }
}
