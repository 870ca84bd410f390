//! The fallback path for signals delivered to a thread that does not block them, and the
//! process-wide record of deliveries that every driver listening for signals reads.
//!
//! The kernel delivers a process-directed signal to any thread that does not block it, so a
//! signalfd only sees it when *every* thread blocks it. Threads the runtime does not own (a
//! test harness, a logger, a thread pool started earlier) usually do not. For those, a
//! process-wide `sigaction` handler records the delivery in a per-signal generation counter
//! and writes to the eventfd of every driver that listens for signals. Both operations are
//! async-signal-safe (an atomic add and write(2)). The eventfds come from a pool and are never
//! closed, so the handler can never write into a descriptor number that was reused.
//!
//! # References
//! sigaction(2), signal-safety(7)

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::sync::atomic::{AtomicBool, AtomicI32, AtomicU64, Ordering};
use std::sync::Mutex;

use super::cvt;

const MAX_SIGNAL: usize = 65;
const MAX_DRIVERS: usize = 64;

static GENERATIONS: [AtomicU64; MAX_SIGNAL] = [const { AtomicU64::new(0) }; MAX_SIGNAL];
static INSTALLED: [AtomicBool; MAX_SIGNAL] = [const { AtomicBool::new(false) }; MAX_SIGNAL];
/// Raw eventfds the handler writes to; -1 marks a free slot.
static WAKE_FDS: [AtomicI32; MAX_DRIVERS] = [const { AtomicI32::new(-1) }; MAX_DRIVERS];
/// Every eventfd ever handed out (kept open for ever, reused).
static POOL: Mutex<Vec<(usize, OwnedFd)>> = Mutex::new(Vec::new());
static INSTALL_LOCK: Mutex<()> = Mutex::new(());

extern "C" fn handler(signo: libc::c_int) {
    broadcast(signo);
}

/// Records a delivery of `signo` and wakes every driver listening for signals: what the
/// handler does, and what a driver does with a delivery its signalfd read, so the listeners
/// of every other driver (another thread-per-core core, another runtime) hear it too. Only
/// async-signal-safe operations (an atomic add, write(2)).
pub(crate) fn broadcast(signo: libc::c_int) {
    if let Some(gen) = GENERATIONS.get(signo as usize) {
        gen.fetch_add(1, Ordering::SeqCst);
    }
    let one: u64 = 1;
    for slot in &WAKE_FDS {
        let fd = slot.load(Ordering::SeqCst);
        if fd >= 0 {
            // SAFETY: write(2) is async-signal-safe; `fd` is a pool eventfd that is never
            // closed, and `one` is a valid 8-byte buffer.
            unsafe { libc::write(fd, (&one as *const u64).cast(), 8) };
        }
    }
}

/// Installs the handler for `signo` (once per process).
///
/// # Errors
/// `EINVAL` from sigaction(2) for a signal that cannot be caught.
pub(crate) fn install(signo: libc::c_int) -> io::Result<()> {
    let idx = usize::try_from(signo).ok().filter(|i| *i < MAX_SIGNAL).ok_or_else(|| {
        io::Error::new(io::ErrorKind::InvalidInput, format!("{signo} is not a signal number"))
    })?;
    let _guard = INSTALL_LOCK.lock().unwrap_or_else(|p| p.into_inner());
    if INSTALLED[idx].load(Ordering::Acquire) {
        return Ok(());
    }
    // SAFETY: sigaction is plain old data; all-zero is a valid starting value.
    let mut sa: libc::sigaction = unsafe { std::mem::zeroed() };
    sa.sa_sigaction = handler as *const () as libc::sighandler_t;
    sa.sa_flags = libc::SA_RESTART;
    // SAFETY: `sa.sa_mask` is a valid sigset_t to initialise.
    unsafe { libc::sigemptyset(&mut sa.sa_mask) };
    // SAFETY: `sa` is fully initialised; the old action is not requested.
    cvt(unsafe { libc::sigaction(signo, &sa, std::ptr::null_mut()) })?;
    INSTALLED[idx].store(true, Ordering::Release);
    Ok(())
}

/// How many times the handler has seen `signo` in this process.
pub(crate) fn generation(signo: libc::c_int) -> u64 {
    GENERATIONS.get(signo as usize).map_or(0, |g| g.load(Ordering::SeqCst))
}

/// A driver's slot in the handler's wake list, with its eventfd (non-blocking, close-on-exec).
#[derive(Debug)]
pub(crate) struct WakeSlot {
    slot: usize,
    fd: RawFd,
}

impl WakeSlot {
    /// Takes a free slot and an eventfd from the pool (creating one if needed).
    ///
    /// # Errors
    /// `Other` when 64 drivers already listen for signals; the eventfd(2) error.
    pub(crate) fn acquire() -> io::Result<WakeSlot> {
        let mut pool = POOL.lock().unwrap_or_else(|p| p.into_inner());
        let slot = (0..MAX_DRIVERS)
            .find(|s| WAKE_FDS[*s].load(Ordering::SeqCst) < 0)
            .ok_or_else(|| io::Error::other("too many runtimes listening for signals (64)"))?;
        let fd = match pool.iter().find(|(s, _)| *s == slot) {
            Some((_, fd)) => fd.as_raw_fd(),
            None => {
                // SAFETY: eventfd takes an initial value and flags.
                let raw = cvt(unsafe { libc::eventfd(0, libc::EFD_CLOEXEC | libc::EFD_NONBLOCK) })?;
                // SAFETY: fresh descriptor, owned by the pool from now on.
                pool.push((slot, unsafe { OwnedFd::from_raw_fd(raw) }));
                raw
            }
        };
        let mut drain = 0u64;
        // SAFETY: reads the 8-byte counter (clears a stale wake-up; EAGAIN when none).
        unsafe { libc::read(fd, (&mut drain as *mut u64).cast(), 8) };
        WAKE_FDS[slot].store(fd, Ordering::SeqCst);
        Ok(WakeSlot { slot, fd })
    }

    pub(crate) fn fd(&self) -> RawFd {
        self.fd
    }

    /// Clears the eventfd after a wake-up.
    pub(crate) fn drain(&self) {
        let mut buf = 0u64;
        // SAFETY: reads the 8-byte counter; EAGAIN when already clear.
        unsafe { libc::read(self.fd, (&mut buf as *mut u64).cast(), 8) };
    }
}

impl Drop for WakeSlot {
    fn drop(&mut self) {
        WAKE_FDS[self.slot].store(-1, Ordering::SeqCst);
    }
}
