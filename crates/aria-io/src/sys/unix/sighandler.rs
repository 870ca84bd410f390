//! The fallback path for signals delivered to a thread that does not block them, and the
//! process-wide record of deliveries that every driver listening for signals reads.
//!
//! The kernel delivers a process-directed signal to any thread that does not block it, so a
//! signalfd only sees it when *every* thread blocks it. Threads the runtime does not own (a
//! test harness, a logger, a thread pool started earlier) usually do not. For those, a
//! process-wide `sigaction` handler records the delivery in a per-signal generation counter
//! and writes to the notifier of every driver that listens for signals (an eventfd on Linux,
//! a pipe on the BSDs, where this handler is the only path: there is no signalfd). Both
//! operations are async-signal-safe (an atomic add and write(2)). The notifiers come from a
//! pool and are never closed, so the handler can never write into a descriptor number that
//! was reused.
//!
//! # References
//! sigaction(2), signal-safety(7)

use std::io;
use std::os::fd::{AsRawFd, RawFd};
use std::sync::atomic::{AtomicBool, AtomicI32, AtomicU64, Ordering};
use std::sync::Mutex;

use super::{cvt, Notifier};

const MAX_SIGNAL: usize = 65;
const MAX_DRIVERS: usize = 64;

static GENERATIONS: [AtomicU64; MAX_SIGNAL] = [const { AtomicU64::new(0) }; MAX_SIGNAL];
static INSTALLED: [AtomicBool; MAX_SIGNAL] = [const { AtomicBool::new(false) }; MAX_SIGNAL];
/// The notifiers' write descriptors the handler writes to; -1 marks a free slot.
static WAKE_FDS: [AtomicI32; MAX_DRIVERS] = [const { AtomicI32::new(-1) }; MAX_DRIVERS];
/// Every notifier ever handed out (kept open for ever, reused).
static POOL: Mutex<Vec<(usize, &'static Notifier)>> = Mutex::new(Vec::new());
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
    for slot in &WAKE_FDS {
        let fd = slot.load(Ordering::SeqCst);
        if fd >= 0 {
            // `fd` is the write end of a pool notifier, which is never closed.
            super::notify_raw(fd);
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

/// A driver's slot in the handler's wake list, with its notifier (`sys::Notifier`: an
/// eventfd on Linux, a pipe elsewhere).
#[derive(Debug)]
pub(crate) struct WakeSlot {
    slot: usize,
    notifier: &'static Notifier,
}

impl WakeSlot {
    /// Takes a free slot and a notifier from the pool (creating one if needed).
    ///
    /// # Errors
    /// `Other` when 64 drivers already listen for signals; the eventfd(2) or pipe(2) error.
    pub(crate) fn acquire() -> io::Result<WakeSlot> {
        let mut pool = POOL.lock().unwrap_or_else(|p| p.into_inner());
        let slot = (0..MAX_DRIVERS)
            .find(|s| WAKE_FDS[*s].load(Ordering::SeqCst) < 0)
            .ok_or_else(|| io::Error::other("too many runtimes listening for signals (64)"))?;
        let notifier = match pool.iter().find(|(s, _)| *s == slot) {
            Some((_, n)) => *n,
            None => {
                // Leaked on purpose: the handler may write to it at any time, for ever.
                let n: &'static Notifier = Box::leak(Box::new(Notifier::new()?));
                pool.push((slot, n));
                n
            }
        };
        // Clears a stale wake-up.
        notifier.drain();
        WAKE_FDS[slot].store(notifier.write_fd(), Ordering::SeqCst);
        Ok(WakeSlot { slot, notifier })
    }

    /// The descriptor the driver polls.
    pub(crate) fn fd(&self) -> RawFd {
        self.notifier.fd().as_raw_fd()
    }

    /// Clears the notifier after a wake-up.
    pub(crate) fn drain(&self) {
        self.notifier.drain();
    }
}

impl Drop for WakeSlot {
    fn drop(&mut self) {
        WAKE_FDS[self.slot].store(-1, Ordering::SeqCst);
    }
}
