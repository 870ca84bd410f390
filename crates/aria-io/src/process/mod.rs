//! Asynchronous process management: spawn without `fork`, race-free exit through pidfds, six
//! standard streams per child, and pipelines.
//!
//! ```
//! use aria_io::process::{Command, Stdio};
//! use futures_util::io::{AsyncBufReadExt, BufReader};
//! use futures_util::StreamExt;
//!
//! aria_io::Runtime::new()?.block_on(async {
//!     // Collect everything (no deadlock whatever the sizes):
//!     let out = Command::new("sh").args(["-c", "echo out; echo err >&2"]).output().await?;
//!     assert_eq!((&out.stdout[..], &out.stderr[..]), (&b"out\n"[..], &b"err\n"[..]));
//!
//!     // Or stream a child's output line by line as it arrives:
//!     let mut child = Command::new("seq").arg("3").stdout(Stdio::piped()).spawn()?;
//!     let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
//!     let mut seen = Vec::new();
//!     while let Some(line) = lines.next().await {
//!         seen.push(line?);
//!     }
//!     assert_eq!(seen, ["1", "2", "3"]);
//!     assert!(child.wait().await?.success());
//!     Ok::<_, std::io::Error>(())
//! })?;
//! # Ok::<_, std::io::Error>(())
//! ```
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
//! `/dev/null`), and every other descriptor is closed (`close_range(6, ~0)` in the child, and
//! every descriptor this crate creates is close-on-exec anyway).
//!
//! # Spawning
//!
//! No `fork` of this process, whatever its size: the child shares the parent's memory
//! (`CLONE_VM`) until it calls `execve`, so no page table is copied.
//!
//! - **clone3** (Linux 5.9+, x86_64 and aarch64): `clone3(CLONE_VM | CLONE_PIDFD |
//!   CLONE_CLEAR_SIGHAND)`. The pidfd comes back with the pid, atomically; every signal
//!   handler is reset in the kernel, so no handler of the parent can ever run in the child on
//!   the parent's memory; the child runs raw system calls only (no allocation, no lock, no
//!   `errno`), on a stack of its own, with every signal blocked until just before `execve`.
//!   Three system calls in the parent. [`Command::spawn`] adds `CLONE_VFORK` (the thread
//!   waits for the `execve`, so every error is reported by `spawn`, as std's and tokio's are);
//!   [`Command::status`] and [`Command::output`] do not: the thread goes back to its other
//!   tasks at once, the child's stack is reclaimed once the kernel reports that it released
//!   the parent's memory (`CLONE_CHILD_CLEARTID`), and a failed `execve` is reported by the
//!   future, as the same [`SpawnError`]. [`Command::uid`](crate::os::unix::CommandExt::uid), [`gid`](crate::os::unix::CommandExt::gid) and
//!   [`groups`](crate::os::unix::CommandExt::groups) are applied in the child.
//! - **posix_spawn(3)** + pidfd_open(2) where clone3 is refused (`ENOSYS`, `EPERM` or
//!   `EINVAL`: an older kernel, or a seccomp filter as in many containers; detected at the
//!   first spawn, so the program works in both), on other architectures, or when
//!   `ARIA_IO_SPAWN=posix_spawn` is set. It always waits for the `execve` and cannot change
//!   credentials (`Unsupported`). The pid cannot be recycled before `pidfd_open` because only
//!   this crate reaps its children.
//! - A command holding a `std::process::Stdio` is spawned by `std::process::Command` (see
//!   [`Stdio`]'s `From` impls).
//!
//! In the child the signal mask is emptied, every handled signal is at its default
//! disposition and so is `SIGPIPE` (the runtime ignores it in the parent); other ignored
//! signals stay ignored, as execve(2) and `std::process::Command` leave them.
//!
//! Waiting ([`Child::wait`]) is the pidfd becoming readable (on io_uring too: its
//! `IORING_OP_WAITID` costs O(waiting children) per exit) and `waitid(P_PIDFD)`; signals go through `pidfd_send_signal`. Do not
//! call `waitpid(-1)` or set `SIGCHLD` to `SIG_IGN` alongside this crate: either would reap
//! its children behind its back.
//!
//! A dropped [`Child`] that was not reaped (with [`Command::kill_on_drop`], after a
//! `SIGKILL`) is reaped in the background: by its driver when its pidfd becomes readable, by
//! the next spawns (each checks a few, so a loop that spawns and drops without yielding holds
//! descriptors only for children still alive), and, once its runtime is gone, by a reaper
//! thread that exists only while there are such children. No zombie is left behind.
//!
//! `pre_exec` is not offered: a closure run between `fork` and `execve` needs a real `fork`
//! (the child of a `CLONE_VM` spawn shares the parent's memory and may not allocate, lock or
//! unwind), which costs page-table copies proportional to the parent's memory and makes
//! every lock held by another thread a possible deadlock. What it is commonly used for is
//! built in: process groups ([`Command::process_group`](crate::os::unix::CommandExt::process_group)), sessions
//! ([`Command::new_session`](crate::os::unix::CommandExt::new_session)), credentials ([`Command::uid`](crate::os::unix::CommandExt::uid)), the working directory, the six
//! streams, and signal dispositions.
//!
//! # Guarantees per platform
//!
//! | guarantee | Linux | macOS, FreeBSD | Windows |
//! |---|---|---|---|
//! | race-free exit and signals (a recycled pid is never hit) | the pidfd from the spawn (`CLONE_PIDFD`, or pidfd_open(2) right after posix_spawn); waitid(`P_PIDFD`) and pidfd_send_signal(2) | a kqueue per child watching it (`EVFILT_PROC`, `NOTE_EXIT`), then waitpid(2) on its pid: only this crate reaps its children, so until it does the pid is theirs; never `waitpid(-1)` | planned |
//! | exactly fds 0-5 in the child | `close_range(6, ~0)` in the child (clone3), `posix_spawn_file_actions_addclosefrom_np` (posix_spawn) | `POSIX_SPAWN_CLOEXEC_DEFAULT` plus an inherit action per inherited stream (macOS), `posix_spawn_file_actions_addclosefrom_np` (FreeBSD 13.1) | planned |
//! | group kill ([`ChildExt::signal_group`](crate::os::unix::ChildExt::signal_group), [`PipelineChildExt::signal_group`](crate::os::unix::PipelineChildExt::signal_group)) | killpg(3) | killpg(3) | planned (Job Objects) |
//! | credentials (`uid`, `gid`, `groups`), spawning without waiting for `execve` | clone3 path only | no: `Unsupported` | no |
//! | new session at spawn (`new_session`) | yes | macOS: `POSIX_SPAWN_SETSID`; FreeBSD: `Unsupported` | no |
//!
//! Process groups, sessions, terminals, credentials and signals are Unix-only API, in the
//! extension traits of [`os::unix`](crate::os::unix); a child's pidfd is in
//! [`os::linux`](crate::os::linux).
//!
//! # Coming from tokio::process
//!
//! Most programs port by changing the imports. The mapping:
//!
//! | tokio::process | aria_io::process |
//! |---|---|
//! | `Command::new/arg/args/env/envs/env_remove/env_clear/current_dir` | the same |
//! | `stdin/stdout/stderr(Stdio::piped())` | the same; also `stddbg`/`stddati`/`stddato`, or `stdio(fd, ..)` for fds 0-5 |
//! | `std::process::Stdio` values | accepted (`From`), spawned through std; prefer [`Stdio`] |
//! | `kill_on_drop`, `process_group`, `uid`, `gid`, `arg0` | the same; plus `groups`, `new_session` |
//! | `spawn`, `status`, `output` | the same; `status`/`output` do not block the thread on `execve` |
//! | `Command::from(std::process::Command)` | the same (program, args, env changes, directory) |
//! | `Child::id() -> Option<u32>`, `wait`, `try_wait`, `start_kill`, `kill` (kills and reaps), `wait_with_output` | the same |
//! | `ChildStdin`/`ChildStdout`/`ChildStderr`: `AsyncWrite`/`AsyncRead` (tokio's traits) | [`PipeWriter`](crate::io::PipeWriter)/[`PipeReader`](crate::io::PipeReader) with the `futures-io` traits, plus `AsFd`, `AsRawFd`, `into_owned_fd`, `TryInto<std::process::Stdio>`, and `shutdown()` (an alias of `close()`) on the writer |
//! | `tokio::time::{timeout, error::Elapsed}`, `tokio::signal::{ctrl_c, unix::{signal, SignalKind}}` | the same paths under `aria_io` |
//! | `Child::kill` sends `SIGKILL`; other signals via `nix`/`libc` on the pid | [`Child::signal`](crate::os::unix::ChildExt::signal) through the pidfd, [`Child::signal_group`](crate::os::unix::ChildExt::signal_group) |
//! | `Output { status, stdout, stderr }` | the same fields, plus `stddbg` and `stddato` |
//! | — | [`Pipeline`]: `\|` and `\|*` pipes between children, redirections, pipefail |
//! | `pre_exec` | not offered (see above) |
//!
//! Differences to know: [`Command::output`] reads until end of file even after the child
//! exited (a background grandchild holding a pipe is waited for; set
//! [`Command::wait_delay`] to bound that, and an expired delay is an error carrying the
//! output, [`WaitDelayExpired`]); I/O objects implement `futures-io`'s traits, so use
//! `futures::io::AsyncReadExt` where tokio code used `tokio::io::AsyncReadExt`.
//!
//! # Platform
//! Linux 5.4 or later with glibc 2.34 or later (clone3 spawn: 5.9); macOS 10.15 and FreeBSD
//! 13.1 or later (compiled and linted in CI, not run). Windows is planned.

mod child;
mod command;
pub(crate) mod orphan;
mod output;
mod pipeline;
mod status;
mod std_spawn;
mod stdio;
pub mod terminal;

pub use child::Child;
pub(crate) use child::ChildStreams;
pub use command::{Command, SpawnError};
pub use output::{Output, WaitDelayExpired};
pub use pipeline::{JobChange, PipeKind, Pipeline, PipelineChild, PipelineStatus, Redirect};
pub use status::{signal_name, Change, ExitStatus};
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
/// [`PipelineChild::pgid`](crate::os::unix::PipelineChildExt::pgid) before its `wait` returned): a group id whose members have all
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
