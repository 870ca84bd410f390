//! Unix signals as async streams: [`signal`] and [`ctrl_c`].
//!
//! A graceful shutdown on `SIGTERM` (here sent by `kill`, as a service manager would):
//!
//! ```
//! use std::time::Duration;
//! use aria_io::process::Command;
//! use aria_io::signal::{signal, SignalKind};
//! use aria_io::time::timeout;
//!
//! let rt = aria_io::Runtime::new()?;
//! rt.block_on(async {
//!     // From here on, SIGTERM is received here instead of terminating the process.
//!     let mut term = signal(SignalKind::terminate())?;
//!
//!     let me = std::process::id().to_string();
//!     assert!(Command::new("kill").args(["-TERM", &me]).status().await?.success());
//!
//!     // A delivery that arrives before `recv` is polled waits for it. The timeout is only
//!     // there so that this example can never hang.
//!     timeout(Duration::from_secs(10), term.recv()).await?;
//!     println!("SIGTERM: shutting down");
//!     Ok::<_, std::io::Error>(())
//! })?;
//! # Ok::<_, std::io::Error>(())
//! ```
//!
//! Signals are received through one `signalfd` per driver (one per runtime; one per core of a
//! thread-per-core runtime), registered with it, so a signal is an ordinary event handled on
//! the runtime's thread. The first [`signal`] call for a kind on a driver blocks it in the
//! calling thread (for a current-thread runtime, the runtime's thread; threads created
//! afterwards inherit the mask) and adds it to the signalfd.
//!
//! The kernel only queues a process-directed signal for the signalfd when every thread
//! blocks it; otherwise it delivers it to a thread that does not. So the first call also
//! installs a process-wide `sigaction` handler, which catches deliveries on such threads (a
//! test harness, a thread pool created earlier). And the kernel hands each delivery to one
//! signalfd reader only, while a process may have several drivers (several runtimes, or the
//! cores of a thread-per-core runtime). So both paths record the delivery in one process-wide
//! counter per signal and wake every driver that listens for signals through an eventfd:
//! every delivery reaches every listener in the process once, whichever thread or signalfd
//! received it. As with tokio,
//! once a signal is listened for, its default action (for `SIGINT`, terminating the process)
//! no longer happens, for the rest of the process's life, even after every [`Signal`] for it
//! is dropped.
//!
//! Children spawned by [`crate::process`] start with an empty signal mask and default
//! dispositions, so they are not affected.
//!
//! Deliveries of one signal that arrive before the listener is polled again are coalesced
//! into one, as the kernel coalesces pending standard signals.
//!
//! # Platform
//! Linux: signalfd(2), with a sigaction(2) handler (`SA_RESTART`) as the fallback and an
//! eventfd(2) per driver to wake it; the same on every backend (on io_uring the signalfd is
//! watched by a poll request). macOS and FreeBSD: the sigaction(2) handler alone (the
//! signal stays unblocked, so the handler sees every delivery), waking each listening
//! driver through a pipe. Windows: planned (`ctrl_c` through `SetConsoleCtrlHandler`).
//!
//! # References
//! signalfd(2), signal(7), sigaction(2), pthread_sigmask(3), eventfd(2)

pub(crate) mod registry;

/// The Unix signal API under the path `tokio::signal::unix` gives it (`signal`, `Signal`,
/// `SignalKind`), so that a ported program changes only its import.
pub mod unix {
    pub use super::{signal, Signal, SignalKind};
}

use std::fmt;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use crate::driver;

/// A kind of signal to listen for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SignalKind(libc::c_int);

impl SignalKind {
    /// `SIGINT`: interrupt from the terminal (Ctrl-C).
    pub const fn interrupt() -> SignalKind {
        SignalKind(libc::SIGINT)
    }
    /// `SIGTERM`: polite termination request.
    pub const fn terminate() -> SignalKind {
        SignalKind(libc::SIGTERM)
    }
    /// `SIGHUP`: the controlling terminal hung up.
    pub const fn hangup() -> SignalKind {
        SignalKind(libc::SIGHUP)
    }
    /// `SIGQUIT`: quit from the terminal (Ctrl-\).
    pub const fn quit() -> SignalKind {
        SignalKind(libc::SIGQUIT)
    }
    /// `SIGCHLD`: a child stopped or exited (process exits are better observed with
    /// [`Child::wait`](crate::process::Child::wait), which uses a pidfd).
    pub const fn child() -> SignalKind {
        SignalKind(libc::SIGCHLD)
    }
    /// `SIGWINCH`: the terminal was resized.
    pub const fn window_change() -> SignalKind {
        SignalKind(libc::SIGWINCH)
    }
    /// `SIGUSR1`.
    pub const fn user_defined1() -> SignalKind {
        SignalKind(libc::SIGUSR1)
    }
    /// `SIGUSR2`.
    pub const fn user_defined2() -> SignalKind {
        SignalKind(libc::SIGUSR2)
    }
    /// Any signal by number.
    pub const fn from_raw(signo: i32) -> SignalKind {
        SignalKind(signo)
    }
    /// The signal number.
    pub const fn as_raw(self) -> i32 {
        self.0
    }
}

/// A stream of deliveries of one signal. Created by [`signal`].
pub struct Signal {
    driver: Arc<driver::Handle>,
    signo: libc::c_int,
    seen: u64,
    key: Option<usize>,
}

/// Starts listening for `kind` on the current runtime. Every delivery of the signal to this
/// process after the call (not after the first poll) is received by the returned [`Signal`];
/// deliveries that arrive before it is polled are coalesced into one.
///
/// The first call for a kind on a driver (a runtime's, or a thread-per-core core's) blocks
/// the signal in the calling thread, adds it to that driver's signalfd and installs the
/// process-wide fallback handler (see the [module docs](self)): from then on the signal's
/// default action no longer happens in this process.
///
/// ```
/// use std::time::Duration;
/// use aria_io::signal::{signal, SignalKind};
/// use aria_io::time::timeout;
///
/// let rt = aria_io::Runtime::new()?;
/// rt.block_on(async {
///     let mut usr1 = signal(SignalKind::user_defined1())?;
///
///     for _ in 0..2 {
///         // Sends SIGUSR1 to this process (libc is a dependency of this example).
///         // SAFETY: kill(2) has no memory-safety preconditions.
///         let rc = unsafe { libc::kill(std::process::id() as libc::pid_t, libc::SIGUSR1) };
///         assert_eq!(rc, 0);
///         // The timeout only makes sure that this example cannot hang.
///         assert_eq!(timeout(Duration::from_secs(10), usr1.recv()).await?, Some(()));
///     }
///     Ok::<_, std::io::Error>(())
/// })?;
/// # Ok::<_, std::io::Error>(())
/// ```
///
/// # Errors
/// - `InvalidInput` for `SIGKILL`, `SIGSTOP` and the synchronous fault signals (`SIGSEGV`,
///   `SIGBUS`, `SIGILL`, `SIGFPE`), which cannot be received this way (the message names the
///   signal), and for a number that is not a signal or that glibc reserves for itself (32
///   and 33: `EINVAL` from sigaddset(3)).
/// - `Other` outside a runtime, or when 64 drivers in the process already listen for
///   signals.
/// - The eventfd(2) error creating the driver's fallback wake-up (`EMFILE`), and the
///   pthread_sigmask(3), signalfd(2) or sigaction(2) error.
///
/// # References
/// signalfd(2), sigaction(2), pthread_sigmask(3), signal(7)
pub fn signal(kind: SignalKind) -> io::Result<Signal> {
    let signo = kind.0;
    if [libc::SIGKILL, libc::SIGSTOP, libc::SIGSEGV, libc::SIGBUS, libc::SIGILL, libc::SIGFPE]
        .contains(&signo)
    {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("signal {signo} ({}) cannot be listened for", crate::process::signal_name(signo)),
        ));
    }
    let driver = crate::runtime::context::driver_handle()?;
    let seen = driver.signals.listen(signo, |fd| driver.register_signal_fallback(fd))?;
    Ok(Signal { driver, signo, seen, key: None })
}

/// Completes at the next `SIGINT` (Ctrl-C) delivered to this process after the future was
/// first polled.
///
/// The listener is created at the first poll, not at the call: a `SIGINT` that arrives
/// before that is not seen by this future (and, unless something else in the process
/// listens for `SIGINT`, terminates the process as usual). Once polled, the default action
/// is gone for good, as with [`signal`]. To handle several Ctrl-Cs, keep one
/// [`signal`]`(`[`SignalKind::interrupt`]`())` and call [`Signal::recv`] in a loop.
///
/// ```
/// use std::time::Duration;
/// use aria_io::time::timeout;
///
/// let rt = aria_io::Runtime::new()?;
/// rt.block_on(async {
///     // Stands in for the user pressing Ctrl-C. On a current-thread runtime this task runs
///     // once the main future waits, that is after `ctrl_c` below started listening.
///     aria_io::spawn(async {
///         // SAFETY: kill(2) has no memory-safety preconditions.
///         unsafe { libc::kill(std::process::id() as libc::pid_t, libc::SIGINT) };
///     });
///
///     // The timeout only makes sure that this example cannot hang.
///     timeout(Duration::from_secs(10), aria_io::signal::ctrl_c()).await??;
///     println!("interrupted: cleaning up");
///     Ok::<_, std::io::Error>(())
/// })?;
/// # Ok::<_, std::io::Error>(())
/// ```
///
/// # Errors
/// As [`signal`] (`Other` outside a runtime).
///
/// # References
/// signal(7) (`SIGINT`), termios(3) (`VINTR`: the terminal sends `SIGINT` to the foreground
/// process group)
pub async fn ctrl_c() -> io::Result<()> {
    let mut s = signal(SignalKind::interrupt())?;
    s.recv().await;
    Ok(())
}

impl Signal {
    /// Waits for the next delivery. Never returns `None` today; the `Option` matches
    /// stream conventions (tokio's `Signal::recv`).
    pub async fn recv(&mut self) -> Option<()> {
        std::future::poll_fn(|cx| self.poll_recv(cx)).await
    }

    /// Polls for the next delivery.
    pub fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Option<()>> {
        if self.driver.signals.poll(self.signo, &mut self.seen, &mut self.key, cx.waker()) {
            Poll::Ready(Some(()))
        } else {
            Poll::Pending
        }
    }
}

impl futures_core::Stream for Signal {
    type Item = ();
    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<()>> {
        self.get_mut().poll_recv(cx)
    }
}

impl Drop for Signal {
    fn drop(&mut self) {
        if let Some(k) = self.key.take() {
            self.driver.signals.forget(self.signo, k);
        }
    }
}

impl fmt::Debug for Signal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Signal").field("signo", &self.signo).finish()
    }
}
