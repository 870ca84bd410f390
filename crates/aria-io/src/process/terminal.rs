//! Terminal helpers for a job-control shell: save and restore terminal modes, give the
//! terminal to a process group, and manage the shell's own group and its job-control signals.
//!
//! The sequence of the glibc manual's "Implementing a Job Control Shell": at start-up call
//! [`wait_until_foreground`], [`ignore_job_control_signals`], [`become_group_leader`],
//! [`set_foreground_group`] (with [`getpgrp`]) and save the shell's [`Modes`]; to run a job in
//! the foreground give its group the terminal, wait for it, then take the terminal back and
//! restore the shell's modes; to continue a stopped job use [`continue_group`].
//!
//! ```
//! use std::io::IsTerminal;
//! use aria_io::process::terminal;
//!
//! let tty = std::io::stdin();
//! if tty.is_terminal() {
//!     // Who has the terminal, and this process's modes saved and put back (a shell does
//!     // that around every foreground job).
//!     let modes = terminal::Modes::save(&tty)?;
//!     let fg = terminal::foreground_group(&tty)?;
//!     println!("foreground group {fg}, ours {}", terminal::getpgrp());
//!     modes.restore(&tty)?;
//! }
//! # Ok::<_, std::io::Error>(())
//! ```
//!
//! # Platform
//! Linux.
//!
//! # References
//! termios(3), tcgetpgrp(3), tcsetpgrp(3), setpgid(2), sigaction(2), credentials(7);
//! glibc manual, "Job Control".

use std::fmt;
use std::io;
use std::os::fd::AsFd;

use crate::sys::tty;

/// A terminal's modes as `tcgetattr` reports them, to restore later with [`Modes::restore`].
#[derive(Clone)]
pub struct Modes(libc::termios);

impl fmt::Debug for Modes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Modes").finish_non_exhaustive()
    }
}

impl Modes {
    /// Reads the modes of the terminal `fd`.
    ///
    /// # Errors
    /// The tcgetattr error (`ENOTTY` when `fd` is not a terminal, `EBADF`).
    ///
    /// # Platform
    /// Linux.
    ///
    /// # References
    /// tcgetattr(3)
    pub fn save(fd: impl AsFd) -> io::Result<Self> {
        tty::tcgetattr(fd.as_fd()).map(Modes)
    }

    /// Applies these modes to the terminal `fd` once its pending output is written
    /// (`TCSADRAIN`), with `SIGTTOU` blocked so a background caller is not stopped.
    ///
    /// # Errors
    /// The tcsetattr error (`ENOTTY`, `EBADF`, `EINVAL`).
    ///
    /// # Platform
    /// Linux.
    ///
    /// # References
    /// tcsetattr(3)
    pub fn restore(&self, fd: impl AsFd) -> io::Result<()> {
        tty::tcsetattr(fd.as_fd(), &self.0)
    }
}

/// The foreground process group of the terminal `fd`.
///
/// # Errors
/// The tcgetpgrp error (`ENOTTY` when `fd` is not the caller's controlling terminal).
///
/// # Platform
/// Linux.
///
/// # References
/// tcgetpgrp(3)
pub fn foreground_group(fd: impl AsFd) -> io::Result<i32> {
    tty::tcgetpgrp(fd.as_fd())
}

/// Makes `pgid` the foreground process group of the terminal `fd`, with `SIGTTOU` blocked in
/// the calling thread meanwhile (a caller in a background group is not stopped).
///
/// # Errors
/// The tcsetpgrp error (`ENOTTY`, `EPERM` for a group of another session, `EINVAL`).
///
/// # Platform
/// Linux.
///
/// # References
/// tcsetpgrp(3)
pub fn set_foreground_group(fd: impl AsFd, pgid: i32) -> io::Result<()> {
    tty::tcsetpgrp(fd.as_fd(), pgid)
}

/// The calling process's process group id.
///
/// # Platform
/// Linux.
///
/// # References
/// getpgrp(2)
pub fn getpgrp() -> i32 {
    tty::getpgrp()
}

/// Puts the calling process in a new process group of its own (`setpgid(0, 0)`); nothing
/// changes when it already leads its group.
///
/// # Errors
/// The setpgid error (`EPERM` for a session leader, which already leads its own group:
/// check [`getpgrp`] first).
///
/// # Platform
/// Linux.
///
/// # References
/// setpgid(2)
pub fn become_group_leader() -> io::Result<()> {
    if tty::getpgrp() == std::process::id() as i32 {
        return Ok(());
    }
    tty::setpgid(0, 0)
}

/// Waits until the calling process's group is the foreground group of the terminal `fd`: while
/// it is not, sends `SIGTTIN` to its own group, which stops it until the controlling shell
/// continues it in the foreground (so a shell started in the background stops instead of
/// spinning). Call it before [`ignore_job_control_signals`].
///
/// # Errors
/// The tcgetpgrp or kill error.
///
/// # Platform
/// Linux.
///
/// # References
/// tcgetpgrp(3), kill(2); glibc manual, "Initializing the Shell".
pub fn wait_until_foreground(fd: impl AsFd) -> io::Result<()> {
    let fd = fd.as_fd();
    while tty::tcgetpgrp(fd)? != tty::getpgrp() {
        tty::signal_own_group(libc::SIGTTIN)?;
    }
    Ok(())
}

/// The dispositions of `SIGTSTP`, `SIGTTIN` and `SIGTTOU` before
/// [`ignore_job_control_signals`], to put back with [`JobSignals::restore`].
#[derive(Clone)]
pub struct JobSignals([libc::sigaction; 3]);

impl fmt::Debug for JobSignals {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JobSignals").finish_non_exhaustive()
    }
}

const JOB_SIGNALS: [i32; 3] = [libc::SIGTSTP, libc::SIGTTIN, libc::SIGTTOU];

/// Ignores `SIGTSTP`, `SIGTTIN` and `SIGTTOU` in the calling process (an interactive shell
/// must not be stopped by its terminal) and returns the previous dispositions.
///
/// An ignored disposition survives `execve`, so from then on every child spawned by this
/// crate ([`Command`](super::Command), [`Pipeline`](super::Pipeline)) gets these signals
/// reset to `SIG_DFL`, as a shell's jobs must (Ctrl-Z has to stop them), until
/// [`JobSignals::restore`] (except a command given a `std::process::Stdio`, which std's own
/// spawn starts), even when the caller's parent had ignored them already, as bash and fish
/// do for their jobs.
///
/// # Errors
/// The sigaction error.
///
/// # Platform
/// Linux.
///
/// # References
/// sigaction(2); glibc manual, "Initializing the Shell".
pub fn ignore_job_control_signals() -> io::Result<JobSignals> {
    let [tstp, ttin, ttou] = JOB_SIGNALS;
    Ok(JobSignals([
        tty::ignore_for_job_control(tstp)?,
        tty::ignore_for_job_control(ttin)?,
        tty::ignore_for_job_control(ttou)?,
    ]))
}

impl JobSignals {
    /// Puts back the dispositions saved by [`ignore_job_control_signals`].
    ///
    /// # Errors
    /// The sigaction error.
    ///
    /// # Platform
    /// Linux.
    ///
    /// # References
    /// sigaction(2)
    pub fn restore(&self) -> io::Result<()> {
        for (sig, action) in JOB_SIGNALS.iter().zip(self.0.iter()) {
            tty::restore_job_control(*sig, action)?;
        }
        Ok(())
    }
}

/// Sends `SIGCONT` to every process of group `pgid` (continues a stopped job).
///
/// # Errors
/// As [`signal_process_group`](super::signal_process_group): `InvalidInput` for `pgid <= 0`,
/// `ESRCH` when no member is left, `EPERM`.
///
/// # Platform
/// Linux.
///
/// # References
/// killpg(3)
pub fn continue_group(pgid: i32) -> io::Result<()> {
    super::signal_process_group(pgid, libc::SIGCONT)
}
