//! Unix-only extensions of the portable API, as `std::os::unix`: process groups, sessions,
//! terminals, credentials and signals. Import the traits to call their methods:
//!
//! ```
//! use aria_io::os::unix::{ChildExt, CommandExt};
//! use aria_io::process::Command;
//!
//! aria_io::Runtime::new()?.block_on(async {
//!     // A child leading its own process group, signalled as a whole.
//!     let mut child = Command::new("sleep").arg("10").process_group(0).spawn()?;
//!     assert_eq!(child.pgid(), child.id().map(|pid| pid as i32));
//!     child.signal_group(libc::SIGTERM)?;
//!     let status = child.wait().await?;
//!     assert_eq!(status.signal(), Some(libc::SIGTERM));
//!     Ok::<_, std::io::Error>(())
//! })?;
//! # Ok::<_, std::io::Error>(())
//! ```
//!
//! Signals themselves are [`signal()`] and
//! [`SignalKind`], re-exported here from [`crate::signal`].
//!
//! # Platform
//! Every Unix (Linux, macOS, FreeBSD). What differs between them is said per method.

use std::ffi::OsStr;
use std::io;
use std::os::fd::AsFd;

use crate::process::{Child, Command, Pipeline, PipelineChild};
use crate::sys;

pub use crate::signal::{signal, Signal, SignalKind};

mod sealed {
    pub trait Sealed {}
    impl Sealed for crate::process::Command {}
    impl Sealed for crate::process::Child {}
    impl Sealed for crate::process::Pipeline {}
    impl Sealed for crate::process::PipelineChild {}
}

/// Unix-only settings of a [`Command`]: process group, session, terminal, `argv[0]`,
/// credentials. Sealed: implemented for [`Command`] only.
pub trait CommandExt: sealed::Sealed {
    /// Puts the child in process group `pgid`, or in a new group that it leads when `pgid`
    /// is 0 (`setpgid(0, pgid)` in the child, see setpgid(2)). Needed for
    /// [`Child::signal_group`](crate::os::unix::ChildExt::signal_group).
    fn process_group(&mut self, pgid: i32) -> &mut Command;

    /// Starts the child in a new session (setsid(2)), detached from the controlling terminal;
    /// it leads a new process group as well.
    fn new_session(&mut self, on: bool) -> &mut Command;

    /// Makes the child's process group the foreground process group of the terminal `tty`
    /// (the caller's controlling terminal) before the child runs its program, as a job-control
    /// shell does for a foreground job. Implies [`process_group`](crate::os::unix::CommandExt::process_group)`(0)`
    /// unless a group was set. Keep `tty` open until the spawn returned.
    ///
    /// On the clone3 path the child calls `tcsetpgrp(tty, its group)` right after `setpgid`,
    /// with every signal (`SIGTTOU` included) still blocked; a failure is a [`SpawnError`](crate::process::SpawnError) of
    /// that step. On the posix_spawn path the parent calls it right after the spawn (with
    /// `SIGTTOU` blocked), so the program may already have started. A command spawned through
    /// `std::process::Command` (holding a `std::process::Stdio`) ignores this setting.
    ///
    /// # Errors
    /// At the spawn: the tcsetpgrp error (`ENOTTY` when `tty` is not the caller's controlling
    /// terminal, `EPERM`).
    ///
    /// # Platform
    /// Linux.
    ///
    /// # References
    /// tcsetpgrp(3), setpgid(2); glibc manual, "Launching Jobs"
    fn foreground(&mut self, tty: std::os::fd::RawFd) -> &mut Command;

    /// Sets `argv[0]`, the name the program sees itself called by (login shells are started
    /// as `-sh`, multi-call binaries such as busybox dispatch on it). The program run is
    /// still the one given to [`Command::new`].
    fn arg0(&mut self, arg0: impl AsRef<OsStr>) -> &mut Command;

    /// Runs the child as user `uid` (setuid(2) in the child, after the groups and the gid).
    /// Needs the privilege to do so (`CAP_SETUID`), else the spawn fails with
    /// `PermissionDenied` naming `setuid`.
    ///
    /// # Platform
    /// Needs the clone3 spawn path (see the [module docs](super#spawning)); where the system
    /// refuses clone3, the spawn fails with `Unsupported`.
    fn uid(&mut self, uid: u32) -> &mut Command;

    /// Runs the child with group id `gid` (setgid(2) in the child). As [`uid`](crate::os::unix::CommandExt::uid).
    fn gid(&mut self, gid: u32) -> &mut Command;

    /// Sets the child's supplementary groups (setgroups(2) in the child, before the gid and
    /// uid change). As [`uid`](crate::os::unix::CommandExt::uid); an empty slice drops every supplementary group.
    fn groups(&mut self, groups: &[u32]) -> &mut Command;
}

impl CommandExt for Command {
    fn process_group(&mut self, pgid: i32) -> &mut Command {
        self.process_group = Some(pgid);
        self
    }

    fn new_session(&mut self, on: bool) -> &mut Command {
        self.new_session = on;
        self
    }

    fn foreground(&mut self, tty: std::os::fd::RawFd) -> &mut Command {
        self.foreground = Some(tty);
        if self.process_group.is_none() {
            self.process_group = Some(0);
        }
        self
    }

    fn arg0(&mut self, arg0: impl AsRef<OsStr>) -> &mut Command {
        self.arg0 = Some(arg0.as_ref().to_owned());
        self
    }

    fn uid(&mut self, uid: u32) -> &mut Command {
        self.uid = Some(uid);
        self
    }

    fn gid(&mut self, gid: u32) -> &mut Command {
        self.gid = Some(gid);
        self
    }

    fn groups(&mut self, groups: &[u32]) -> &mut Command {
        self.groups = Some(groups.to_vec());
        self
    }
}

/// Unix-only operations on a [`Child`]: its process group and signals. Sealed.
pub trait ChildExt: sealed::Sealed {
    /// The process group the child was put in, if [`process_group`](crate::os::unix::CommandExt::process_group)
    /// or [`new_session`](crate::os::unix::CommandExt::new_session) was used.
    fn pgid(&self) -> Option<i32>;

    /// Sends `signo` to the child, never to a recycled pid: through its pidfd on Linux; with
    /// kill(2) on its pid on macOS and FreeBSD, where the pid stays the child's until this
    /// crate reaps it.
    ///
    /// # Errors
    /// `InvalidInput` if the child was already reaped; otherwise the pidfd_send_signal(2) or
    /// kill(2) error (`ESRCH` if it exited but was not reaped yet, `EINVAL` for a bad signal).
    ///
    /// # References
    /// pidfd_send_signal(2), kill(2)
    fn signal(&self, signo: i32) -> io::Result<()>;

    /// Sends `signo` to the child's whole process group (killpg(3)).
    ///
    /// # Errors
    /// `InvalidInput` if the child was not started in a process group of its own (signalling
    /// this process's group would hit the caller); otherwise the killpg error (`ESRCH` once
    /// every member has exited and been reaped).
    fn signal_group(&self, signo: i32) -> io::Result<()>;
}

impl ChildExt for Child {
    fn pgid(&self) -> Option<i32> {
        self.pgid
    }

    fn signal(&self, signo: i32) -> io::Result<()> {
        if self.status.is_some() {
            return Err(io::Error::new(io::ErrorKind::InvalidInput, "the child has already been reaped"));
        }
        sys::signal_process(self.source().as_fd(), self.pid, signo)
    }

    fn signal_group(&self, signo: i32) -> io::Result<()> {
        let pgid = self.pgid.ok_or_else(|| {
            io::Error::new(io::ErrorKind::InvalidInput, "the child was not started in its own process group")
        })?;
        sys::killpg(pgid, signo)
    }
}

/// Unix-only settings of a [`Pipeline`]. Sealed.
pub trait PipelineExt: sealed::Sealed {
    /// Makes the pipeline's process group (led by the first stage) the foreground process
    /// group of the terminal `tty` before the first stage runs its program, as
    /// [`Command::foreground`](crate::os::unix::CommandExt::foreground) does; the later stages join that group.
    ///
    /// # Errors
    /// At the spawn, as [`Command::foreground`](crate::os::unix::CommandExt::foreground).
    ///
    /// # Platform
    /// Linux.
    ///
    /// # References
    /// tcsetpgrp(3); glibc manual, "Launching Jobs"
    fn foreground(self, tty: std::os::fd::RawFd) -> Pipeline;
}

impl PipelineExt for Pipeline {
    fn foreground(mut self, tty: std::os::fd::RawFd) -> Pipeline {
        self.foreground = Some(tty);
        self
    }
}

/// Unix-only operations on a running [`PipelineChild`]: its process group. Sealed.
pub trait PipelineChildExt: sealed::Sealed {
    /// The process group shared by every stage (the first stage's pid).
    fn pgid(&self) -> i32;

    /// Sends `signo` to every stage (and whatever they started in the group).
    ///
    /// # Errors
    /// The killpg(3) error; `ESRCH` once every member has exited and been reaped.
    fn signal_group(&self, signo: i32) -> io::Result<()>;
}

impl PipelineChildExt for PipelineChild {
    fn pgid(&self) -> i32 {
        self.pgid
    }

    fn signal_group(&self, signo: i32) -> io::Result<()> {
        sys::killpg(self.pgid, signo)
    }
}

/// The same traits, where `std::os::unix::process` keeps its own.
pub mod process {
    pub use super::{ChildExt, CommandExt, PipelineChildExt, PipelineExt};
}
