use std::fmt;

use crate::sys::WaitInfo;

/// How a process ended: an exit code, or the signal that killed it.
///
/// `Display` reads like std's: `exit status: 3`, `signal: 9 (SIGKILL)`,
/// `signal: 11 (SIGSEGV) (core dumped)`.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct ExitStatus(Repr);

#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
enum Repr {
    Exited(i32),
    Signaled { signal: i32, core_dumped: bool },
}

impl ExitStatus {
    pub(crate) fn from_wait(info: WaitInfo) -> ExitStatus {
        match info.code {
            libc::CLD_KILLED => ExitStatus(Repr::Signaled { signal: info.status, core_dumped: false }),
            libc::CLD_DUMPED => ExitStatus(Repr::Signaled { signal: info.status, core_dumped: true }),
            _ => ExitStatus(Repr::Exited(info.status)),
        }
    }

    /// A status as if the process had exited with `code`.
    pub fn from_code(code: i32) -> ExitStatus {
        ExitStatus(Repr::Exited(code))
    }

    /// A status as if the process had been killed by `signal`.
    pub fn from_signal(signal: i32) -> ExitStatus {
        ExitStatus(Repr::Signaled { signal, core_dumped: false })
    }

    /// Exited with code 0.
    pub fn success(&self) -> bool {
        self.0 == Repr::Exited(0)
    }

    /// The exit code (0-255), if the process exited rather than being killed.
    pub fn code(&self) -> Option<i32> {
        match self.0 {
            Repr::Exited(c) => Some(c),
            Repr::Signaled { .. } => None,
        }
    }

    /// The signal that killed the process, if any.
    pub fn signal(&self) -> Option<i32> {
        match self.0 {
            Repr::Signaled { signal, .. } => Some(signal),
            Repr::Exited(_) => None,
        }
    }

    /// Whether the kernel wrote a core dump when the signal killed it.
    pub fn core_dumped(&self) -> bool {
        matches!(self.0, Repr::Signaled { core_dumped: true, .. })
    }

    /// The number a POSIX shell reports in `$?`: the exit code, or 128 + the signal.
    pub fn shell_code(&self) -> i32 {
        match self.0 {
            Repr::Exited(c) => c,
            Repr::Signaled { signal, .. } => 128 + signal,
        }
    }

    /// Killed by `SIGPIPE`, or exited with 141 (128 + `SIGPIPE`), which is how a shell
    /// wrapper reports a child it lost to `SIGPIPE`: the stage stopped because its reader
    /// went away.
    pub fn is_broken_pipe(&self) -> bool {
        self.signal() == Some(libc::SIGPIPE) || self.code() == Some(128 + libc::SIGPIPE)
    }
}

impl fmt::Display for ExitStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Repr::Exited(c) => write!(f, "exit status: {c}"),
            Repr::Signaled { signal, core_dumped } => {
                write!(f, "signal: {signal} ({})", signal_name(signal))?;
                if core_dumped {
                    f.write_str(" (core dumped)")?;
                }
                Ok(())
            }
        }
    }
}

impl fmt::Debug for ExitStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ExitStatus({self})")
    }
}

/// The conventional name of a signal number on this platform (`"SIGKILL"` for 9), or
/// `"unknown"`.
pub fn signal_name(signo: i32) -> &'static str {
    match signo {
        libc::SIGHUP => "SIGHUP",
        libc::SIGINT => "SIGINT",
        libc::SIGQUIT => "SIGQUIT",
        libc::SIGILL => "SIGILL",
        libc::SIGTRAP => "SIGTRAP",
        libc::SIGABRT => "SIGABRT",
        libc::SIGBUS => "SIGBUS",
        libc::SIGFPE => "SIGFPE",
        libc::SIGKILL => "SIGKILL",
        libc::SIGUSR1 => "SIGUSR1",
        libc::SIGSEGV => "SIGSEGV",
        libc::SIGUSR2 => "SIGUSR2",
        libc::SIGPIPE => "SIGPIPE",
        libc::SIGALRM => "SIGALRM",
        libc::SIGTERM => "SIGTERM",
        libc::SIGCHLD => "SIGCHLD",
        libc::SIGCONT => "SIGCONT",
        libc::SIGSTOP => "SIGSTOP",
        libc::SIGTSTP => "SIGTSTP",
        libc::SIGTTIN => "SIGTTIN",
        libc::SIGTTOU => "SIGTTOU",
        libc::SIGURG => "SIGURG",
        libc::SIGXCPU => "SIGXCPU",
        libc::SIGXFSZ => "SIGXFSZ",
        libc::SIGVTALRM => "SIGVTALRM",
        libc::SIGPROF => "SIGPROF",
        libc::SIGWINCH => "SIGWINCH",
        libc::SIGIO => "SIGIO",
        libc::SIGSYS => "SIGSYS",
        other => crate::sys::os_signal_name(other).unwrap_or("unknown"),
    }
}

/// A change in a child's state, as [`Child::wait_change`](super::Child::wait_change) reports
/// it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Change {
    /// The child exited and was reaped.
    Exited(ExitStatus),
    /// The child was stopped by this signal number (`SIGSTOP`, `SIGTSTP`, `SIGTTIN`,
    /// `SIGTTOU`).
    Stopped(i32),
    /// The stopped child was continued (`SIGCONT`).
    Continued,
}
