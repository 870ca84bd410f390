//! Job control: terminal helpers, foreground groups, stop and continue notifications.

mod support;

use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

use aria_io::os::unix::{ChildExt, CommandExt, PipelineChildExt};
use aria_io::process::{terminal, Stdio};
use support::{helper, run};

/// A fresh pseudo-terminal: (master, slave, path of the slave).
fn openpty() -> (OwnedFd, OwnedFd, String) {
    let (mut master, mut slave) = (-1, -1);
    // SAFETY: the out-pointers are valid; name, termios and winsize may be null.
    let rc = unsafe {
        libc::openpty(
            &mut master,
            &mut slave,
            std::ptr::null_mut(),
            std::ptr::null_mut(),
            std::ptr::null_mut(),
        )
    };
    assert_eq!(rc, 0, "openpty: {}", std::io::Error::last_os_error());
    // SAFETY: openpty returned two fresh descriptors that nothing else owns.
    let (master, slave) = unsafe { (OwnedFd::from_raw_fd(master), OwnedFd::from_raw_fd(slave)) };
    let path = std::fs::read_link(format!("/proc/self/fd/{}", slave.as_raw_fd())).unwrap();
    (master, slave, path.to_string_lossy().into_owned())
}

#[test]
fn a_session_leader_takes_its_new_terminal_and_is_its_foreground_group() {
    let (_master, _slave, path) = openpty();
    run(async {
        let out =
            helper(&["tty-terminal", &path]).new_session(true).stdout(Stdio::piped()).output().await.unwrap();
        assert!(out.status.success(), "{:?} {}", out.status, String::from_utf8_lossy(&out.stderr));
        let text = String::from_utf8(out.stdout).unwrap();
        let mut lines = text.lines();
        let first = lines.next().unwrap();
        let (fg, pgrp) = first.split_once(' ').unwrap();
        assert_eq!(fg.trim_start_matches("fg="), pgrp.trim_start_matches("pgrp="));
        assert_eq!(lines.next(), Some("ok"));
    });
}

#[test]
fn terminal_modes_round_trip_on_a_pseudo_terminal() {
    let (_master, slave, _path) = openpty();
    let modes = terminal::Modes::save(&slave).unwrap();
    modes.clone().restore(&slave).unwrap();
}

#[test]
fn a_terminal_that_is_not_ours_has_no_foreground_group_for_us() {
    let (_master, slave, _path) = openpty();
    assert!(terminal::foreground_group(&slave).is_err());
}

#[test]
fn continuing_group_zero_is_refused() {
    let err = terminal::continue_group(0).unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
}

#[test]
fn a_stopped_child_is_reported_stopped_then_continued_then_exited_with_its_status() {
    use aria_io::process::Change;
    run(async {
        let mut child = helper(&["wait-stdin"]).stdin(Stdio::piped()).spawn().unwrap();
        child.signal(libc::SIGSTOP).unwrap();
        assert_eq!(child.wait_change().await.unwrap(), Change::Stopped(libc::SIGSTOP));
        child.signal(libc::SIGCONT).unwrap();
        assert_eq!(child.wait_change().await.unwrap(), Change::Continued);
        child.stdin = None;
        match child.wait_change().await.unwrap() {
            Change::Exited(status) => assert_eq!(status.code(), Some(0)),
            other => panic!("expected an exit, got {other:?}"),
        }
    });
}

#[test]
fn two_children_stopped_together_are_each_reported() {
    use aria_io::process::Change;
    run(async {
        let mut a = helper(&["wait-stdin"]).stdin(Stdio::piped()).spawn().unwrap();
        let mut b = helper(&["wait-stdin"]).stdin(Stdio::piped()).spawn().unwrap();
        a.signal(libc::SIGSTOP).unwrap();
        b.signal(libc::SIGSTOP).unwrap();
        assert_eq!(b.wait_change().await.unwrap(), Change::Stopped(libc::SIGSTOP));
        assert_eq!(a.wait_change().await.unwrap(), Change::Stopped(libc::SIGSTOP));
        a.kill().await.unwrap();
        b.kill().await.unwrap();
    });
}

#[test]
fn a_pipeline_stage_stopping_reports_the_job_stopped_then_continued_then_exited() {
    use aria_io::process::{JobChange, Pipeline};
    run(async {
        let mut first = helper(&["wait-stdin"]);
        first.stdin(Stdio::piped());
        let mut job = Pipeline::new(first).pipe(helper(&["cat"])).spawn().unwrap();
        job.children()[1].signal(libc::SIGSTOP).unwrap();
        assert_eq!(job.wait_change().await.unwrap(), JobChange::Stopped(libc::SIGSTOP));
        terminal::continue_group(job.pgid()).unwrap();
        assert_eq!(job.wait_change().await.unwrap(), JobChange::Continued);
        drop(job.take_stdin());
        match job.wait_change().await.unwrap() {
            JobChange::Exited(status) => assert!(status.success(), "{status:?}"),
            other => panic!("expected an exit, got {other:?}"),
        }
    });
}

/// Runs `tty-foreground` in a new session on a fresh pseudo-terminal, on the spawn path
/// `path` (`None`: the default), and returns its output lines.
fn foreground_report(path: Option<&str>) -> Vec<String> {
    foreground_report_of("tty-foreground", path)
}

/// As [`foreground_report`] for the helper mode `mode`.
fn foreground_report_of(mode: &str, path: Option<&str>) -> Vec<String> {
    let (_master, _slave, tty) = openpty();
    run(async {
        let mut cmd = helper(&[mode, &tty]);
        cmd.new_session(true).stdout(Stdio::piped());
        if let Some(p) = path {
            cmd.env("ARIA_IO_SPAWN", p);
        }
        let out = cmd.output().await.unwrap();
        assert!(out.status.success(), "{:?} {}", out.status, String::from_utf8_lossy(&out.stderr));
        let mut text = String::from_utf8(out.stdout).unwrap();
        text.push_str(&String::from_utf8(out.stderr).unwrap());
        text.lines().map(str::to_owned).collect()
    })
}

#[test]
fn a_foreground_child_starts_as_the_terminals_foreground_group() {
    let lines = foreground_report(None);
    let child = lines.iter().find(|l| l.starts_with("child ")).unwrap();
    let (fg, pgrp) = child.trim_start_matches("child ").split_once(' ').unwrap();
    assert_eq!(fg.trim_start_matches("fg="), pgrp.trim_start_matches("pgrp="), "{lines:?}");
    let job = lines.iter().find(|l| l.starts_with("job=")).unwrap();
    assert!(job.ends_with("ok=true"), "{lines:?}");
    assert_eq!(pgrp.trim_start_matches("pgrp="), job.split(' ').next().unwrap().trim_start_matches("job="));
}

#[test]
fn a_foreground_child_on_the_posix_spawn_path_gets_the_terminal() {
    let lines = foreground_report(Some("posix_spawn"));
    let job = lines.iter().find(|l| l.starts_with("job=")).unwrap();
    let mut parts = job.split(' ');
    let pgid = parts.next().unwrap().trim_start_matches("job=");
    let fg = parts.next().unwrap().trim_start_matches("fg=");
    assert_eq!(pgid, fg, "{lines:?}");
    assert!(job.ends_with("ok=true"), "{lines:?}");
}

#[test]
fn a_foreground_pipeline_stage_starts_in_the_terminals_foreground_group() {
    let lines = foreground_report_of("tty-foreground-pipeline", None);
    let job = lines.iter().find(|l| l.starts_with("job=")).unwrap();
    let pgid = job.split(' ').next().unwrap().trim_start_matches("job=");
    let children: Vec<_> = lines.iter().filter(|l| l.starts_with("child ")).collect();
    // Both stages' reports: the last stage's, then the first one's, relayed through the pipe.
    assert_eq!(children.len(), 2, "{lines:?}");
    for c in children {
        assert_eq!(c, &format!("child fg={pgid} pgrp={pgid}"), "{lines:?}");
    }
    assert!(job.ends_with(&format!("fg={pgid} ok=true")), "{lines:?}");
}

/// Whether signal `sig` is set in a `SigIgn` mask of /proc/<pid>/status (hexadecimal).
fn ignores(mask: &str, sig: i32) -> bool {
    u64::from_str_radix(mask, 16).unwrap() & (1 << (sig - 1)) != 0
}

fn job_signals_report(path: Option<&str>) -> Vec<(String, String)> {
    run(async {
        let mut cmd = helper(&["job-signals"]);
        cmd.stdout(Stdio::piped());
        if let Some(p) = path {
            cmd.env("ARIA_IO_SPAWN", p);
        }
        let out = cmd.output().await.unwrap();
        assert!(out.status.success(), "{:?} {}", out.status, String::from_utf8_lossy(&out.stderr));
        let text = String::from_utf8(out.stdout).unwrap();
        text.lines().map(|l| l.split_once(' ').unwrap()).map(|(a, b)| (a.to_owned(), b.to_owned())).collect()
    })
}

fn assert_children_get_job_signals_back(path: Option<&str>) {
    let report = job_signals_report(path);
    let mask = |who: &str| report.iter().find(|(w, _)| w == who).map(|(_, m)| m.clone()).unwrap();
    for sig in [libc::SIGTSTP, libc::SIGTTIN, libc::SIGTTOU] {
        assert!(ignores(&mask("shell"), sig), "the shell ignores {sig}: {report:?}");
        assert!(!ignores(&mask("child"), sig), "a job gets {sig} back at SIG_DFL: {report:?}");
        assert!(!ignores(&mask("after"), sig), "{report:?}");
    }
}

#[test]
fn children_of_a_shell_ignoring_job_control_signals_get_them_back_at_their_defaults() {
    assert_children_get_job_signals_back(None);
}

#[test]
fn children_on_the_posix_spawn_path_get_the_job_control_signals_back_too() {
    assert_children_get_job_signals_back(Some("posix_spawn"));
}
