//! Unix signals as async streams: [`signal`] and [`ctrl_c`].
//!
//! Signals are received through one `signalfd` per runtime, registered with its driver, so a
//! signal is an ordinary event handled on the runtime's thread. The first [`signal`] call for
//! a kind blocks it in the calling thread (for a current-thread runtime, the runtime's
//! thread; threads created afterwards inherit the mask) and adds it to the signalfd.
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
//! no longer happens, for the rest of the process's life.
//!
//! Children spawned by [`crate::process`] start with an empty signal mask and default
//! dispositions, so they are not affected.
//!
//! Deliveries of one signal that arrive before the listener is polled again are coalesced
//! into one, as the kernel coalesces pending standard signals.
//!
//! # References
//! signalfd(2), signal(7), pthread_sigmask(3)

pub(crate) mod registry;

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

/// Starts listening for `kind` on the current runtime.
///
/// # Errors
/// `InvalidInput` for `SIGKILL`, `SIGSTOP` and the synchronous fault signals (`SIGSEGV`,
/// `SIGBUS`, `SIGILL`, `SIGFPE`), which cannot be received this way, or for a number that is
/// not a signal; `Other` outside a runtime.
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

/// Completes at the next `SIGINT` (Ctrl-C) delivered to this process after the call.
///
/// # Errors
/// As [`signal`].
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
