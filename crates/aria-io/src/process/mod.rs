//! Asynchronous process management: spawn without `fork`, race-free exit through pidfds, six
//! standard streams per child, and pipelines.
//!
//! # The six streams
//!
//! | fd | name    | direction | meaning                      |
//! |----|---------|-----------|------------------------------|
//! | 0  | stdin   | in        | text input                   |
//! | 1  | stdout  | out       | human-readable output        |
//! | 2  | stderr  | out       | errors                       |
//! | 3  | stddbg  | out       | structured telemetry (JSON)  |
//! | 4  | stddati | in        | binary data in               |
//! | 5  | stddato | out       | binary data out              |
//!
//! Every child starts with exactly these six descriptors open: each comes from its
//! [`Stdio`] (by default inherited from the parent when the parent has it open, else
//! `/dev/null`), and every other descriptor is closed (`closefrom(6)` in the spawn, and every
//! descriptor this crate creates is close-on-exec anyway).
//!
//! # Spawning
//!
//! [`Command::spawn`] uses `posix_spawn` (glibc implements it with `clone(CLONE_VM |
//! CLONE_VFORK)`, so no page tables are copied, whatever the parent's size). In the child the
//! signal mask is emptied and every signal is reset to its default disposition, `SIGPIPE`
//! included (the runtime ignores `SIGPIPE` in the parent). Right after the spawn the parent
//! opens a pidfd for the child; waiting ([`Child::wait`]) waits for the pidfd to become
//! readable and reaps with `waitid(P_PIDFD)`; signals go through `pidfd_send_signal`. The pid
//! cannot be recycled between the spawn and `pidfd_open` because only this crate reaps its
//! children (do not call `waitpid(-1)` or set `SIGCHLD` to `SIG_IGN` alongside it).
//!
//! # Platform
//! Linux 5.4 or later with glibc 2.34 or later. Other platforms come with their backends.

mod child;
mod command;
pub(crate) mod orphan;
mod output;
mod pipeline;
mod status;
mod std_spawn;
mod stdio;

pub use child::Child;
pub(crate) use child::ChildStreams;
pub use command::{Command, SpawnError};
pub use output::{Output, WaitDelayExpired};
pub use pipeline::{PipeKind, Pipeline, PipelineChild, PipelineStatus, Redirect};
pub use status::{signal_name, ExitStatus};
pub use stdio::Stdio;

/// The parent's end of a child's stdin.
pub type ChildStdin = crate::io::PipeWriter;
/// The parent's end of a child's stdout.
pub type ChildStdout = crate::io::PipeReader;
/// The parent's end of a child's stderr.
pub type ChildStderr = crate::io::PipeReader;

/// Sends `signo` to every process in process group `pgid` (killpg(3)).
///
/// Only signal groups you created and whose leader you have not reaped yet (for example
/// [`PipelineChild::pgid`] before its `wait` returned): a group id whose members have all
/// been reaped can be reused by unrelated processes.
///
/// # Errors
/// `InvalidInput` for a `pgid` of 0 or less (which would mean this process's own group or
/// every process); otherwise the killpg error (`ESRCH` when no member is left, `EPERM`).
///
/// # References
/// killpg(3), kill(2)
pub fn signal_process_group(pgid: i32, signo: i32) -> std::io::Result<()> {
    if pgid <= 0 {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            format!("refusing to signal process group {pgid}"),
        ));
    }
    crate::sys::killpg(pgid, signo)
}
