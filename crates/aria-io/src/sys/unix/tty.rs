//! Terminal and job-control system calls for an interactive shell: terminal modes, the
//! terminal's foreground process group, the caller's own group and its job-control signal
//! dispositions.

use std::io;
use std::os::fd::{AsRawFd, BorrowedFd};
use std::sync::atomic::{AtomicU64, Ordering};

use super::{cvt, cvt_retry};

/// `tcgetattr(fd)`.
pub(crate) fn tcgetattr(fd: BorrowedFd<'_>) -> io::Result<libc::termios> {
    // SAFETY: termios is plain old data; all-zero is a valid value.
    let mut t: libc::termios = unsafe { std::mem::zeroed() };
    // SAFETY: `t` is a valid, writable termios for the call.
    cvt(unsafe { libc::tcgetattr(fd.as_raw_fd(), &mut t) })?;
    Ok(t)
}

/// `tcsetattr(fd, TCSADRAIN, t)` with `SIGTTOU` blocked (a background caller is not stopped).
pub(crate) fn tcsetattr(fd: BorrowedFd<'_>, t: &libc::termios) -> io::Result<()> {
    with_sigttou_blocked(|| {
        cvt_retry(|| {
            // SAFETY: `t` points to an initialised termios.
            unsafe { libc::tcsetattr(fd.as_raw_fd(), libc::TCSADRAIN, t) }
        })
        .map(drop)
    })
}

/// `tcgetpgrp(fd)`.
pub(crate) fn tcgetpgrp(fd: BorrowedFd<'_>) -> io::Result<libc::pid_t> {
    // SAFETY: tcgetpgrp takes a plain descriptor.
    cvt(unsafe { libc::tcgetpgrp(fd.as_raw_fd()) })
}

/// `tcsetpgrp(fd, pgid)` with `SIGTTOU` blocked in the calling thread around it.
pub(crate) fn tcsetpgrp(fd: BorrowedFd<'_>, pgid: libc::pid_t) -> io::Result<()> {
    with_sigttou_blocked(|| {
        // SAFETY: tcsetpgrp takes plain integers.
        cvt(unsafe { libc::tcsetpgrp(fd.as_raw_fd(), pgid) }).map(drop)
    })
}

/// Runs `f` with `SIGTTOU` blocked in the calling thread, then restores the previous mask.
fn with_sigttou_blocked<T>(f: impl FnOnce() -> io::Result<T>) -> io::Result<T> {
    let mut set = super::empty_sigset();
    super::sigaddset(&mut set, libc::SIGTTOU)?;
    let mut old = super::empty_sigset();
    // SAFETY: `set` is initialised and `old` is a valid, writable sigset_t.
    let rc = unsafe { libc::pthread_sigmask(libc::SIG_BLOCK, &set, &mut old) };
    if rc != 0 {
        return Err(io::Error::from_raw_os_error(rc));
    }
    let out = f();
    // SAFETY: `old` was filled in by the call above.
    unsafe { libc::pthread_sigmask(libc::SIG_SETMASK, &old, std::ptr::null_mut()) };
    out
}

/// `setpgid(pid, pgid)`.
pub(crate) fn setpgid(pid: libc::pid_t, pgid: libc::pid_t) -> io::Result<()> {
    // SAFETY: setpgid takes plain integers.
    cvt(unsafe { libc::setpgid(pid, pgid) })?;
    Ok(())
}

/// `getpgrp()`.
pub(crate) fn getpgrp() -> libc::pid_t {
    // SAFETY: getpgrp has no arguments and cannot fail.
    unsafe { libc::getpgrp() }
}

/// `kill(0, sig)`: signals every process of the caller's own group.
pub(crate) fn signal_own_group(sig: libc::c_int) -> io::Result<()> {
    // SAFETY: kill takes plain integers; 0 means the caller's own group.
    cvt(unsafe { libc::kill(0, sig) })?;
    Ok(())
}

/// The signals this process set to `SIG_IGN` for job control (bit `n - 1` is signal `n`):
/// every spawn resets them to `SIG_DFL` in the child, which would otherwise inherit the
/// ignored disposition across `execve` (a job could then not be stopped with Ctrl-Z, and a
/// background job reading the terminal would get `EIO` instead of stopping). They are reset
/// even when the shell's own parent had ignored them (terminal multiplexers do), as bash
/// and fish reset them for their jobs.
static RESET_IN_CHILDREN: AtomicU64 = AtomicU64::new(0);

/// The signals to reset to `SIG_DFL` in every child (see [`RESET_IN_CHILDREN`]).
pub(crate) fn reset_in_children() -> u64 {
    RESET_IN_CHILDREN.load(Ordering::Relaxed)
}

/// Ignores `sig` for job control: like [`ignore_signal`], and records it in
/// [`RESET_IN_CHILDREN`].
pub(crate) fn ignore_for_job_control(sig: libc::c_int) -> io::Result<libc::sigaction> {
    let old = ignore_signal(sig)?;
    RESET_IN_CHILDREN.fetch_or(1 << (sig - 1), Ordering::Relaxed);
    Ok(old)
}

/// Puts back `action` for a signal [`ignore_for_job_control`] ignored, and stops resetting it
/// in children.
pub(crate) fn restore_job_control(sig: libc::c_int, action: &libc::sigaction) -> io::Result<()> {
    set_action(sig, action)?;
    RESET_IN_CHILDREN.fetch_and(!(1 << (sig - 1)), Ordering::Relaxed);
    Ok(())
}

/// Sets `sig`'s disposition to `SIG_IGN` and returns the previous action (`sigaction`).
pub(crate) fn ignore_signal(sig: libc::c_int) -> io::Result<libc::sigaction> {
    // SAFETY: sigaction is plain old data; all-zero is a valid value (empty mask, no flags).
    let mut new: libc::sigaction = unsafe { std::mem::zeroed() };
    new.sa_sigaction = libc::SIG_IGN;
    set_action(sig, &new)
}

/// Installs `action` for `sig` and returns the previous action (`sigaction`).
pub(crate) fn set_action(sig: libc::c_int, action: &libc::sigaction) -> io::Result<libc::sigaction> {
    // SAFETY: sigaction is plain old data; all-zero is a valid value.
    let mut old: libc::sigaction = unsafe { std::mem::zeroed() };
    // SAFETY: `action` is initialised and `old` is writable.
    cvt(unsafe { libc::sigaction(sig, action, &mut old) })?;
    Ok(old)
}
