//! Waiting for a child by its pid, with POSIX calls only: what the BSD room builds its
//! process descriptors' waits on (macOS and FreeBSD have no pidfd). Never `waitpid(-1)`,
//! which would reap other libraries' children: only the pid asked about. Compiled on Linux
//! too, for its tests.
//!
//! # References
//! waitpid(2), waitid(2) (`P_PID`, `WSTOPPED`, `WCONTINUED`), wait(2) status macros

use std::io;

use super::{cvt_retry, no_change_on_echild, waitid_nohang, WaitInfo};

/// How a waitpid(2) status reads as waitid(2)'s `si_code`/`si_status`.
pub(crate) fn wait_info(status: libc::c_int) -> WaitInfo {
    if libc::WIFEXITED(status) {
        WaitInfo { code: libc::CLD_EXITED, status: libc::WEXITSTATUS(status) }
    } else if libc::WIFSIGNALED(status) {
        let code = if libc::WCOREDUMP(status) { libc::CLD_DUMPED } else { libc::CLD_KILLED };
        WaitInfo { code, status: libc::WTERMSIG(status) }
    } else if libc::WIFSTOPPED(status) {
        WaitInfo { code: libc::CLD_STOPPED, status: libc::WSTOPSIG(status) }
    } else {
        WaitInfo { code: libc::CLD_CONTINUED, status: libc::SIGCONT }
    }
}

/// `waitpid(pid, WNOHANG)`: reaps child `pid` if it has exited (`Ok(None)` while it runs).
pub(crate) fn reap_nohang(pid: libc::pid_t) -> io::Result<Option<WaitInfo>> {
    let mut status = 0;
    // SAFETY: `status` is a valid int to write; `pid` is this process's unreaped child.
    let got = cvt_retry(|| unsafe { libc::waitpid(pid, &mut status, libc::WNOHANG) })?;
    Ok((got != 0).then(|| wait_info(status)))
}

/// `waitid(P_PID, pid, WSTOPPED | WCONTINUED | WNOHANG)`: the child's next stop or continue,
/// consumed once; never reaps (no `WEXITED`). `Ok(None)` when there is none.
pub(crate) fn change_nohang(pid: libc::pid_t) -> io::Result<Option<WaitInfo>> {
    no_change_on_echild(waitid_nohang(libc::P_PID, pid as libc::id_t, libc::WSTOPPED | libc::WCONTINUED))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::process::Command;

    /// A child the test reaps itself, by pid (std's handle is dropped unreaped on purpose).
    #[allow(clippy::zombie_processes)]
    fn spawn(script: &str) -> libc::pid_t {
        let child = Command::new("sh").args(["-c", script]).spawn().unwrap();
        child.id() as libc::pid_t
    }

    /// Polls `f` until it reports something (the child changes state on its own time).
    fn until<T>(mut f: impl FnMut() -> io::Result<Option<T>>) -> T {
        loop {
            if let Some(v) = f().unwrap() {
                return v;
            }
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
    }

    #[test]
    fn an_exit_code_and_a_killing_signal_read_as_waitid_reports_them() {
        let pid = spawn("exit 3");
        let info = until(|| reap_nohang(pid));
        assert_eq!((info.code, info.status), (libc::CLD_EXITED, 3));
        // Reaped: the pid is no child of ours any more.
        assert_eq!(reap_nohang(pid).unwrap_err().raw_os_error(), Some(libc::ECHILD));

        let pid = spawn("kill -9 $$");
        let info = until(|| reap_nohang(pid));
        assert_eq!((info.code, info.status), (libc::CLD_KILLED, libc::SIGKILL));
    }

    #[test]
    fn a_running_child_is_not_reaped_and_stops_and_continues_are_reported_once() {
        let pid = spawn("sleep 30");
        assert!(reap_nohang(pid).unwrap().is_none(), "still running");
        assert!(change_nohang(pid).unwrap().is_none(), "no change yet");
        // SAFETY: kill on our own unreaped child.
        unsafe { libc::kill(pid, libc::SIGSTOP) };
        let info = until(|| change_nohang(pid));
        assert_eq!((info.code, info.status), (libc::CLD_STOPPED, libc::SIGSTOP));
        assert!(change_nohang(pid).unwrap().is_none(), "a stop is reported once");
        // SAFETY: as above.
        unsafe { libc::kill(pid, libc::SIGCONT) };
        let info = until(|| change_nohang(pid));
        assert_eq!(info.code, libc::CLD_CONTINUED);
        // SAFETY: as above.
        unsafe { libc::kill(pid, libc::SIGKILL) };
        // The change wait never reaps: the exit is still there for reap_nohang.
        let info = until(|| reap_nohang(pid));
        assert_eq!((info.code, info.status), (libc::CLD_KILLED, libc::SIGKILL));
    }
}
