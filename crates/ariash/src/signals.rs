//! Termination on `SIGINT`, `SIGTERM`, `SIGHUP` and `SIGQUIT`: no child outlives ariash.
//!
//! Every pipeline runs in its own process group, so a signal the kernel or a terminal sends
//! to ariash's group (Ctrl-C, Ctrl-\\, a hang-up when the terminal closes or the ssh session
//! drops) reaches ariash alone; each of the four is handled the same way, as below, and ariash
//! exits with `128 + signal` (130, 143, 129, 131). `SIGQUIT` does not dump core: the choice
//! was between its default action, which would leave every child running in its own group,
//! and the same orderly stop as the others, where the children receive the `SIGQUIT` itself.
//!
//! The protocol, shared between the interpreter and a watcher task running on the same
//! runtime:
//!
//! - The interpreter [`register`](Groups::register)s the process group of every pipeline it
//!   spawns (foreground or background) and [`deregister`](Groups::deregister)s it only after
//!   the pipeline has been reaped, so a registered pgid always names a live (or zombie,
//!   unreaped) group and cannot have been reused.
//! - On the first signal, the watcher marks the registry as terminating and forwards the
//!   signal to every registered group, under the registry's lock. A group registered after
//!   that point is signalled at registration, so a spawn racing with the signal is covered.
//! - The interpreter checks [`terminating`](Groups::terminating) before each statement, after
//!   each wait, and on each loop iteration; once set, it starts nothing new, reaps every job,
//!   and exits with `128 + signal`.
//! - After the grace period the watcher sends `SIGKILL` to the groups still registered (and
//!   so does a second signal, at once). Groups registered later are killed at registration.
//! - As a last resort, if the interpreter has still not exited one more grace period after
//!   the `SIGKILL` (for example, blocked reading the output of a grandchild that escaped
//!   into its own process group), the watcher exits the process with `128 + signal`.
//!
//! # In the REPL
//!
//! The interactive shell does not terminate on `SIGINT`: [`watch`] is not started, and a
//! `SIGINT` (Ctrl-C while a line runs in ariash itself, such as `sleep(10s)` or `wait;`)
//! [`interrupt`](Groups::interrupt)s the running line instead. The same checks then stop
//! the line (not the shell) with status 130, and no job is signalled: Ctrl-C during a
//! foreground job reaches that job's process group alone, through the terminal. A hang-up
//! [`hang_up`](Groups::hang_up)s every registered group.

use std::collections::BTreeSet;
use std::io;
use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use aria_io::signal::{signal, SignalKind};

/// The process groups of the pipelines and jobs ariash is running, and whether it is
/// shutting down.
#[derive(Debug, Default)]
pub struct Groups {
    inner: Mutex<Inner>,
    /// The signal that started termination (0: none). Read without the lock by the
    /// interpreter's per-statement check; written only under `inner`'s lock.
    terminating: AtomicI32,
    /// The signal that interrupted the REPL's running line (0: none). Cleared before each
    /// line; written and read without the lock (it names no group).
    interrupted: AtomicI32,
    /// Woken when termination begins or a line is interrupted, for waits that no child's
    /// exit ends (`sleep`, `wait`).
    terminated: aria_io::sync::Notify,
}

#[derive(Debug, Default)]
struct Inner {
    pgids: BTreeSet<i32>,
    /// Set once the survivors have been sent `SIGKILL`.
    killed: bool,
}

/// Signals a registered group. `pgid` is a group we spawned and have not reaped yet (see the
/// module docs), so it cannot name someone else's group; `ESRCH` (every member already
/// exited) is expected and ignored.
fn killpg(pgid: i32, signo: i32) {
    let _ = aria_io::process::signal_process_group(pgid, signo);
}

impl Groups {
    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic while holding this lock cannot leave the set inconsistent; keep going.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Records a freshly spawned process group. If termination has begun, the group is
    /// signalled at once.
    pub fn register(&self, pgid: i32) {
        let mut inner = self.lock();
        inner.pgids.insert(pgid);
        if let Some(signo) = self.terminating() {
            killpg(pgid, if inner.killed { libc::SIGKILL } else { signo });
        }
    }

    /// Forgets a group after all its processes have been reaped.
    pub fn deregister(&self, pgid: i32) {
        self.lock().pgids.remove(&pgid);
    }

    /// The signal ariash is terminating on, if any.
    pub fn terminating(&self) -> Option<i32> {
        match self.terminating.load(Ordering::Acquire) {
            0 => None,
            signo => Some(signo),
        }
    }

    /// The signal that stops what the interpreter is doing: termination's, else the REPL
    /// line's interrupt.
    pub fn pending(&self) -> Option<i32> {
        self.terminating().or_else(|| match self.interrupted.load(Ordering::Acquire) {
            0 => None,
            signo => Some(signo),
        })
    }

    /// Completes once termination has begun or the line was interrupted (at once if either
    /// has happened).
    pub async fn terminated(&self) {
        // Created before the check: a `notify_waiters` after it completes it.
        let notified = self.terminated.notified();
        if self.pending().is_none() {
            notified.await;
        }
    }

    /// Completes once the REPL's line was interrupted (at once if it was). Termination does
    /// not complete it: a script's waits end when the watcher's signals end the jobs.
    pub async fn interrupted(&self) {
        loop {
            let notified = self.terminated.notified();
            if self.interrupted.load(Ordering::Acquire) != 0 {
                return;
            }
            notified.await;
        }
    }

    /// Interrupts the REPL's running line with `signo` (see the module docs).
    pub fn interrupt(&self, signo: i32) {
        self.interrupted.store(signo, Ordering::Release);
        self.terminated.notify_waiters();
    }

    /// Forgets an interrupt, before the next line runs.
    pub fn clear_interrupt(&self) {
        self.interrupted.store(0, Ordering::Release);
    }

    /// Sends `SIGHUP`, then `SIGCONT` (a stopped job must run to see the hang-up), to every
    /// registered group: the shell is going away (the terminal closed, or the user left).
    pub fn hang_up(&self) {
        let inner = self.lock();
        for &pgid in &inner.pgids {
            killpg(pgid, libc::SIGHUP);
            killpg(pgid, libc::SIGCONT);
        }
    }

    /// Begins termination on `signo`, forwarding it to every group. Returns false if
    /// termination had already begun.
    fn begin(&self, signo: i32) -> bool {
        let inner = self.lock();
        if self.terminating().is_some() {
            return false;
        }
        self.terminating.store(signo, Ordering::Release);
        self.terminated.notify_waiters();
        for &pgid in &inner.pgids {
            killpg(pgid, signo);
        }
        true
    }

    /// Sends `SIGKILL` to every group still registered.
    fn kill_all(&self) {
        let mut inner = self.lock();
        inner.killed = true;
        for &pgid in &inner.pgids {
            killpg(pgid, libc::SIGKILL);
        }
    }
}

/// The signals that stop ariash and its children.
pub const TERMINATING: [SignalKind; 4] =
    [SignalKind::interrupt(), SignalKind::terminate(), SignalKind::hangup(), SignalKind::quit()];

/// Starts the watcher tasks for the [`TERMINATING`] signals on the current runtime.
///
/// Must be called inside the runtime, before any pipeline is spawned.
///
/// # Errors
/// The error of [`aria_io::signal::signal`].
pub fn watch(groups: Arc<Groups>, grace: Duration) -> io::Result<()> {
    for kind in TERMINATING {
        let mut sig = signal(kind)?;
        let groups = Arc::clone(&groups);
        let signo = kind.as_raw();
        drop(aria_io::spawn(async move {
            while sig.recv().await.is_some() {
                if groups.begin(signo) {
                    let groups = Arc::clone(&groups);
                    drop(aria_io::spawn(escalate(groups, signo, grace)));
                } else {
                    // A second signal: do not wait out the grace period.
                    groups.kill_all();
                }
            }
        }));
    }
    Ok(())
}

async fn escalate(groups: Arc<Groups>, signo: i32, grace: Duration) {
    aria_io::time::sleep(grace).await;
    groups.kill_all();
    aria_io::time::sleep(grace.max(Duration::from_millis(500))).await;
    groups.kill_all();
    std::process::exit(128 + signo);
}

/// The grace period between forwarding a signal and `SIGKILL`: `ARIASH_KILL_GRACE_MS`
/// milliseconds if set, else 2 seconds.
pub fn grace_from_env() -> Duration {
    std::env::var("ARIASH_KILL_GRACE_MS")
        .ok()
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map_or(Duration::from_secs(2), Duration::from_millis)
}
