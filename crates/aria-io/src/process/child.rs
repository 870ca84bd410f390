use std::fmt;
use std::future::poll_fn;
use std::io;
use std::os::fd::AsFd;

use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use super::{Change, ExitStatus};
use crate::driver::{Interest, IoSource};
use crate::io::{PipeReader, PipeWriter};
use crate::sys;

/// The parent's ends of a child's piped streams.
#[derive(Default, Debug)]
pub(crate) struct ChildStreams {
    pub(crate) stdin: Option<PipeWriter>,
    pub(crate) stdout: Option<PipeReader>,
    pub(crate) stderr: Option<PipeReader>,
    pub(crate) stddbg: Option<PipeReader>,
    pub(crate) stddati: Option<PipeWriter>,
    pub(crate) stddato: Option<PipeReader>,
}

impl ChildStreams {
    pub(crate) fn set_writer(&mut self, fd: usize, w: PipeWriter) {
        match fd {
            0 => self.stdin = Some(w),
            _ => self.stddati = Some(w),
        }
    }
    pub(crate) fn set_reader(&mut self, fd: usize, r: PipeReader) {
        match fd {
            1 => self.stdout = Some(r),
            2 => self.stderr = Some(r),
            3 => self.stddbg = Some(r),
            _ => self.stddato = Some(r),
        }
    }
}

/// A running (or exited, not yet reaped) child process.
///
/// ```
/// use aria_io::process::{Command, Stdio};
///
/// aria_io::Runtime::new()?.block_on(async {
///     let mut child = Command::new("cat").stdin(Stdio::piped()).stdout(Stdio::piped()).spawn()?;
///     let mut stdin = child.stdin.take().unwrap();
///     stdin.write_all(b"through cat\n").await?;
///     drop(stdin); // end of file for cat
///     let out = child.wait_with_output().await?;
///     assert!(out.status.success());
///     assert_eq!(out.stdout, b"through cat\n");
///
///     // A child that does not end on its own: kill it (and reap it).
///     let mut sleeper = Command::new("sleep").arg("600").spawn()?;
///     sleeper.kill().await?;
///     assert_eq!(sleeper.id(), None); // reaped: its pid may belong to another process now
///     Ok::<_, std::io::Error>(())
/// })?;
/// # Ok::<_, std::io::Error>(())
/// ```
///
/// The child is tracked by a process descriptor obtained with the spawn (a pidfd on Linux; a
/// kqueue watching it on macOS and FreeBSD, whose pid only this crate reaps), so waiting and
/// signalling can never hit a recycled pid. Dropping a `Child` that was not reaped sends it `SIGKILL` if
/// [`kill_on_drop`](super::Command::kill_on_drop) was set, and in every case hands it to a
/// background reaper, so no zombie is left behind.
pub struct Child {
    pub(crate) pid: libc::pid_t,
    pub(crate) pgid: Option<libc::pid_t>,
    /// `None` only during `drop`.
    pidfd: Option<IoSource>,
    pub(crate) status: Option<ExitStatus>,
    /// Started without waiting for its execve: how it reports a failed start.
    pending: Option<PendingExec>,
    kill_on_drop: bool,
    /// `SIGCHLD` deliveries, once a [`wait_change`](Child::wait_change) started listening.
    sigchld: Option<crate::signal::Signal>,
    pub(crate) wait_delay: Option<Duration>,
    /// The writing end of the child's stdin, if it was piped.
    pub stdin: Option<PipeWriter>,
    /// The reading end of the child's stdout, if it was piped.
    pub stdout: Option<PipeReader>,
    /// The reading end of the child's stderr, if it was piped.
    pub stderr: Option<PipeReader>,
    /// The reading end of the child's stddbg (fd 3), if it was piped.
    pub stddbg: Option<PipeReader>,
    /// The writing end of the child's stddati (fd 4), if it was piped.
    pub stddati: Option<PipeWriter>,
    /// The reading end of the child's stddato (fd 5), if it was piped.
    pub stddato: Option<PipeReader>,
}

/// A child started without waiting for its `execve` ([`Command::status`](super::Command::status),
/// [`Command::output`](super::Command::output)): where it reports a failed start, read once
/// it has been reaped.
#[derive(Debug)]
pub(crate) struct PendingExec {
    pub(crate) report: Arc<sys::spawn::Report>,
    pub(crate) program: std::ffi::OsString,
}

impl PendingExec {
    /// The spawn error, if the child failed before or in its `execve`.
    fn error(&self) -> Option<io::Error> {
        let (step, err) = self.report.failure()?;
        Some(super::command::spawn_error(&self.program, sys::spawn::step_error(step, err)))
    }
}

impl Child {
    pub(crate) fn new(
        pid: libc::pid_t,
        pidfd: std::os::fd::OwnedFd,
        pgid: Option<libc::pid_t>,
        kill_on_drop: bool,
        wait_delay: Option<Duration>,
        pending: Option<PendingExec>,
        streams: ChildStreams,
    ) -> io::Result<Child> {
        let pidfd = match IoSource::new_pollable(pidfd) {
            Ok(fd) => Some(fd),
            Err(e) => {
                // Without a registered pidfd we cannot track the child: kill and reap it now.
                sys::kill_and_reap(pid);
                return Err(e);
            }
        };
        let ChildStreams { stdin, stdout, stderr, stddbg, stddati, stddato } = streams;
        Ok(Child {
            pid,
            pgid,
            pidfd,
            status: None,
            pending,
            kill_on_drop,
            sigchld: None,
            wait_delay,
            stdin,
            stdout,
            stderr,
            stddbg,
            stddati,
            stddato,
        })
    }

    /// The child's process id, or `None` once it has been reaped (by a wait that returned),
    /// after which the number may belong to another process. Signal the child with
    /// [`signal`](crate::os::unix::ChildExt::signal), which goes through the process descriptor and cannot reach a recycled
    /// pid.
    pub fn id(&self) -> Option<u32> {
        self.status.is_none().then_some(self.pid as u32)
    }

    /// The pid, whether or not the child was reaped (for process groups).
    pub(crate) fn raw_pid(&self) -> libc::pid_t {
        self.pid
    }

    pub(crate) fn source(&self) -> &IoSource {
        self.pidfd.as_ref().expect("the process descriptor is present until the Child is dropped")
    }

    /// Waits for the child to exit and reaps it. Closes the parent's ends of stdin and
    /// stddati first, so a child reading them sees end of file instead of waiting for ever.
    /// Cancel-safe: dropping the future and calling `wait` again is fine.
    ///
    /// # Errors
    /// The waitid(2) error, which does not happen for a child of this process.
    ///
    /// # References
    /// waitid(2) with `P_PIDFD` (Linux 5.4); waitpid(2) on macOS and FreeBSD
    pub async fn wait(&mut self) -> io::Result<ExitStatus> {
        self.stdin = None;
        self.stddati = None;
        poll_fn(|cx| self.poll_wait(cx)).await
    }

    /// Polls for the child's exit (see [`wait`](Child::wait), without closing stdin).
    ///
    /// # Errors
    /// As [`wait`](Child::wait).
    pub fn poll_wait(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<ExitStatus>> {
        if let Some(status) = self.status {
            return Poll::Ready(self.started(status));
        }
        // The pidfd becoming readable (epoll, or `IORING_OP_POLL_ADD` on io_uring), then
        // waitid(P_PIDFD, WNOHANG). io_uring's `IORING_OP_WAITID` (Linux 6.7) is not used:
        // every pending one waits on the parent's single `wait_chldexit` queue, which the
        // kernel walks whole at each child exit (`__wake_up_parent`): O(waiting children) per
        // exit. With 2,000 children blocked on stdin whose stdins are closed at once
        // (`aria-bench exit-latency --runtime aria-uring --size 2000`), closing took 156-179 ms
        // with it against 122-137 ms through pidfd polls (333 against 227 ms at 4,000); a
        // pidfd is woken through its own process's queue (`pidfd_poll`).
        let source = self.source();
        let (procfd, pid) = (source.as_fd(), self.pid);
        let waited = source.registration().poll_io(cx, Interest::Readable, || {
            sys::try_reap(procfd, pid)?.ok_or_else(|| io::ErrorKind::WouldBlock.into())
        });
        let status = ExitStatus::from_wait(std::task::ready!(waited)?);
        self.status = Some(status);
        Poll::Ready(self.started(status))
    }

    /// Waits for the child's next change of state: stopped by a signal, continued, or exited
    /// (then reaped, as by [`wait`](Child::wait), which stays the way to wait for the exit
    /// alone). Each stop and each continue is reported once. Unlike `wait`, stdin is not
    /// closed. Cancel-safe.
    ///
    /// Driven by `SIGCHLD` through [`signal`](crate::signal::signal): the first call
    /// listens for `SIGCHLD` on the current runtime (its default action is to be ignored
    /// anyway; never set it to `SIG_IGN`, which would reap children behind the pidfds).
    ///
    /// # Errors
    /// As [`signal`](crate::signal::signal) (`Other` outside a runtime) and as
    /// [`wait`](Child::wait).
    ///
    /// # Platform
    /// Every Unix: waitid(2) on the pidfd on Linux 5.4 or later, on the pid (`P_PID`) on
    /// macOS and FreeBSD.
    ///
    /// # References
    /// waitid(2) with `P_PIDFD` or `P_PID`, `WSTOPPED`, `WCONTINUED`; signal(7) (`SIGCHLD`)
    pub async fn wait_change(&mut self) -> io::Result<Change> {
        poll_fn(|cx| self.poll_wait_change(cx)).await
    }

    /// Polls for the child's next change of state (see [`wait_change`](Child::wait_change)).
    ///
    /// # Errors
    /// As [`wait_change`](Child::wait_change).
    pub fn poll_wait_change(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<Change>> {
        if self.status.is_none() && self.sigchld.is_none() {
            // Listen before checking, so a change between the check and the first poll of
            // the stream still wakes us.
            self.sigchld = Some(crate::signal::signal(crate::signal::SignalKind::child())?);
        }
        loop {
            if let Poll::Ready(r) = self.poll_wait(cx) {
                return Poll::Ready(r.map(Change::Exited));
            }
            if let Some(info) = sys::try_wait_change(self.source().as_fd(), self.pid)? {
                return Poll::Ready(Ok(match info.code {
                    libc::CLD_CONTINUED => Change::Continued,
                    _ => Change::Stopped(info.status),
                }));
            }
            let Some(sigchld) = self.sigchld.as_mut() else {
                return Poll::Pending;
            };
            if sigchld.poll_recv(cx).is_pending() {
                return Poll::Pending;
            }
        }
    }

    /// The status of a reaped child, or the spawn error if it never started its program.
    fn started(&self, status: ExitStatus) -> io::Result<ExitStatus> {
        match self.pending.as_ref().and_then(PendingExec::error) {
            Some(e) => Err(e),
            None => Ok(status),
        }
    }

    /// Reaps the child if it has exited, without waiting.
    ///
    /// # Errors
    /// The waitid(2) error; as [`wait`](Child::wait) for a child that never started.
    pub fn try_wait(&mut self) -> io::Result<Option<ExitStatus>> {
        if let Some(status) = self.status {
            return self.started(status).map(Some);
        }
        let status = sys::try_reap(self.source().as_fd(), self.pid)?.map(ExitStatus::from_wait);
        self.status = status;
        status.map(|s| self.started(s)).transpose()
    }

    /// Sends `SIGKILL` without waiting for the child to exit (tokio's `start_kill`).
    /// Succeeds if the child has exited but was not reaped yet.
    ///
    /// # Errors
    /// `InvalidInput` if the child was already reaped; otherwise the pidfd_send_signal(2)
    /// (Linux) or kill(2) (macOS, FreeBSD)
    /// error.
    pub fn start_kill(&mut self) -> io::Result<()> {
        if self.status.is_some() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "cannot kill a child that was already reaped",
            ));
        }
        match sys::signal_process(self.source().as_fd(), self.pid, libc::SIGKILL) {
            Err(e) if e.raw_os_error() == Some(libc::ESRCH) => Ok(()),
            other => other,
        }
    }

    /// Sends `SIGKILL` and waits for the child to exit, reaping it (tokio's `kill`).
    /// Cancel-safe: the signal is sent once, and a dropped future leaves the child to be
    /// reaped by a later wait or by the background reaper.
    ///
    /// # Errors
    /// As [`start_kill`](Child::start_kill) and [`wait`](Child::wait); a child whose
    /// program failed to start (possible for one started without waiting for its `execve`)
    /// is gone as the caller asked, and `kill` returns `Ok`.
    pub async fn kill(&mut self) -> io::Result<()> {
        self.start_kill()?;
        self.stdin = None;
        self.stddati = None;
        poll_fn(|cx| self.poll_wait(cx)).await.map(drop).or_else(|e| {
            // The child was killed before its exec: the kill is what the caller asked for.
            if super::SpawnError::from_io(&e).is_some() {
                Ok(())
            } else {
                Err(e)
            }
        })
    }

    /// Waits for the child while draining every piped output stream (stdout, stderr,
    /// stddbg, stddato) concurrently; see [`Command::output`](super::Command::output).
    ///
    /// # Errors
    /// Read errors on the pipes, or the wait error.
    pub async fn wait_with_output(self) -> io::Result<super::Output> {
        super::output::collect(self).await
    }
}

impl Drop for Child {
    fn drop(&mut self) {
        if self.status.is_some() {
            return;
        }
        if self.kill_on_drop {
            let _ = sys::signal_process(self.source().as_fd(), self.pid, libc::SIGKILL);
        }
        let Some(pidfd) = self.pidfd.take() else { return };
        let handle = pidfd.registration().driver().clone();
        handle.orphans().push(&handle, sys::ProcFd::from_parts(pidfd.into_fd(), self.pid));
    }
}

impl fmt::Debug for Child {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Child").field("pid", &self.pid).field("status", &self.status).finish_non_exhaustive()
    }
}
