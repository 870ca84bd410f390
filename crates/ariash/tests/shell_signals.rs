//! SIGTERM, SIGINT, SIGHUP and SIGQUIT: ariash forwards the signal to its pipelines and
//! background jobs, kills what remains after the grace period, reaps everything and exits with
//! 128 + signal. No child outlives it.
//!
//! The tests learn that a child is running from a pid file it writes itself, so they never
//! depend on timing; the only timeouts are hang guards.

mod common;

use std::path::Path;
use std::time::{Duration, Instant};

use common::{ariash, finish, tempdir, HANG_GUARD};

/// Waits (with the hang guard) until `name` in `dir` holds a pid, and returns it.
fn wait_for_pid(dir: &Path, name: &str) -> i32 {
    let start = Instant::now();
    loop {
        if let Ok(text) = std::fs::read_to_string(dir.join(name)) {
            if let Ok(pid) = text.trim().parse() {
                return pid;
            }
        }
        assert!(start.elapsed() < HANG_GUARD, "{name} never appeared");
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// The live (not zombie) processes in process group `pgid`, from /proc.
fn live_members(pgid: i32) -> Vec<i32> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return out;
    };
    for entry in entries.flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<i32>() else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
            continue;
        };
        // After the command name in parentheses: state, ppid, pgrp, ...
        let Some(rest) = stat.rsplit_once(')').map(|(_, r)| r) else {
            continue;
        };
        let fields: Vec<&str> = rest.split_whitespace().collect();
        let (state, pgrp) = (fields.first(), fields.get(2).and_then(|f| f.parse::<i32>().ok()));
        if pgrp == Some(pgid) && !matches!(state, Some(&"Z") | Some(&"X")) {
            out.push(pid);
        }
    }
    out
}

/// True if a process in group `pgid` is still alive. A process that was sent SIGKILL may
/// take a moment to be torn down by the kernel, so this waits (under the hang guard) for the
/// group to empty rather than asserting an instant.
fn group_alive(pgid: i32) -> bool {
    let start = Instant::now();
    while start.elapsed() < HANG_GUARD {
        if live_members(pgid).is_empty() {
            return false;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    true
}

/// Starts `script` with `ariash -c`, waits for the pid files, sends `signo` to ariash, and
/// returns ariash's status and the pids (which lead their process groups).
fn signal_while_running(script: &str, pid_files: &[&str], signo: i32) -> (i32, Vec<i32>) {
    let dir = tempdir();
    let child = ariash(dir.path()).arg("-c").arg(script).spawn().expect("spawn ariash");
    let ariash_pid = child.id() as i32;
    let pids: Vec<i32> = pid_files.iter().map(|f| wait_for_pid(dir.path(), f)).collect();
    // SAFETY: signalling our own unreaped child.
    assert_eq!(unsafe { libc::kill(ariash_pid, signo) }, 0);
    let run = finish(child);
    (run.status, pids)
}

#[test]
fn sigterm_during_a_foreground_sleep_exits_143_and_kills_the_sleep() {
    let (status, pids) = signal_while_running(
        r#"run("sh", ["-c", "echo $$ > fg.pid; exec sleep 1000"]); run("touch", ["after"]);"#,
        &["fg.pid"],
        libc::SIGTERM,
    );
    assert_eq!(status, 143);
    assert!(!group_alive(pids[0]), "the sleep outlived ariash");
}

#[test]
fn sigterm_kills_background_jobs_as_well_as_the_foreground() {
    let (status, pids) = signal_while_running(
        r#"run("sh", ["-c", "echo $$ > bg.pid; exec sleep 1000"]) &;
           run("sh", ["-c", "echo $$ > fg.pid; exec sleep 1000"]);"#,
        &["bg.pid", "fg.pid"],
        libc::SIGTERM,
    );
    assert_eq!(status, 143);
    for pid in pids {
        assert!(!group_alive(pid), "a sleep outlived ariash");
    }
}

#[test]
fn sigterm_while_only_background_jobs_run_exits_143() {
    let (status, pids) = signal_while_running(
        r#"run("sh", ["-c", "echo $$ > bg.pid; exec sleep 1000"]) &; wait;"#,
        &["bg.pid"],
        libc::SIGTERM,
    );
    assert_eq!(status, 143);
    assert!(!group_alive(pids[0]));
}

#[test]
fn a_child_that_ignores_sigterm_is_killed_after_the_grace_period() {
    // The sh ignores TERM, and so does its sleep (ignored signals survive exec).
    let (status, pids) = signal_while_running(
        r#"run("sh", ["-c", "trap '' TERM; echo $$ > fg.pid; sleep 1000; echo survived"]);"#,
        &["fg.pid"],
        libc::SIGTERM,
    );
    assert_eq!(status, 143);
    assert!(!group_alive(pids[0]), "the group outlived ariash");
}

#[test]
fn sigint_exits_130_and_kills_the_pipeline() {
    let (status, pids) = signal_while_running(
        r#"run("sh", ["-c", "echo $$ > fg.pid; exec sleep 1000"]) | run("cat");"#,
        &["fg.pid"],
        libc::SIGINT,
    );
    assert_eq!(status, 130);
    assert!(!group_alive(pids[0]));
}

#[test]
fn sighup_exits_129_and_kills_the_foreground_and_background_jobs() {
    // A closed terminal or a dropped ssh session: the children, in their own process groups,
    // get no SIGHUP from the kernel; ariash must pass it on.
    let (status, pids) = signal_while_running(
        r#"run("sh", ["-c", "echo $$ > bg.pid; exec sleep 1000"]) &;
           run("sh", ["-c", "echo $$ > fg.pid; exec sleep 1000"]);"#,
        &["bg.pid", "fg.pid"],
        libc::SIGHUP,
    );
    assert_eq!(status, 129);
    for pid in pids {
        assert!(!group_alive(pid), "a sleep outlived ariash");
    }
}

#[test]
fn sighup_kills_a_child_that_ignores_it_after_the_grace_period() {
    let (status, pids) = signal_while_running(
        r#"run("sh", ["-c", "trap '' HUP; echo $$ > fg.pid; sleep 1000; echo survived"]);"#,
        &["fg.pid"],
        libc::SIGHUP,
    );
    assert_eq!(status, 129);
    assert!(!group_alive(pids[0]), "the group outlived ariash");
}

#[test]
fn sigquit_exits_131_and_kills_the_foreground_and_background_jobs() {
    let (status, pids) = signal_while_running(
        r#"run("sh", ["-c", "echo $$ > bg.pid; exec sleep 1000"]) &;
           run("sh", ["-c", "echo $$ > fg.pid; exec sleep 1000"]);"#,
        &["bg.pid", "fg.pid"],
        libc::SIGQUIT,
    );
    assert_eq!(status, 131);
    for pid in pids {
        assert!(!group_alive(pid), "a sleep outlived ariash");
    }
}

#[test]
fn sigterm_stops_a_loop_that_runs_no_program() {
    let (status, _) = signal_while_running(
        r#"run("sh", ["-c", "echo $$ > started.pid"]); while (true) { }"#,
        &["started.pid"],
        libc::SIGTERM,
    );
    assert_eq!(status, 143);
}

#[test]
fn sigterm_ends_the_sleep_builtin() {
    // An hour's sleep: the test finishes only if the signal ends it.
    let (status, _) = signal_while_running(
        r#"run("sh", ["-c", "echo $$ > started.pid"]); sleep(1h); print("not reached");"#,
        &["started.pid"],
        libc::SIGTERM,
    );
    assert_eq!(status, 143);
}

/// Runs `script` to completion and returns its status and the pid in `bg.pid`.
fn run_to_end(script: &str) -> (i32, i32) {
    let dir = tempdir();
    let run = finish(ariash(dir.path()).arg("-c").arg(script).spawn().expect("spawn ariash"));
    (run.status, wait_for_pid(dir.path(), "bg.pid"))
}

/// Waits in the foreground until the background job has written its pid file.
const SYNC: &str = r#"run("sh", ["-c", "while [ ! -s bg.pid ]; do sleep 0.01; done"]);"#;

#[test]
fn a_failed_question_mark_terminates_background_jobs() {
    let (status, pid) = run_to_end(&format!(
        r#"run("sh", ["-c", "echo $$ > bg.pid; exec sleep 1000"]) &; {SYNC}
           run("sh", ["-c", "exit 4"])?;"#
    ));
    assert_eq!(status, 4);
    assert!(!group_alive(pid), "the background job outlived ariash");
}

#[test]
fn exit_terminates_background_jobs_even_if_they_ignore_sigterm() {
    let (status, pid) = run_to_end(&format!(
        r#"run("sh", ["-c", "trap '' TERM; echo $$ > bg.pid; sleep 1000"]) &; {SYNC}
           exit(0);"#
    ));
    assert_eq!(status, 0);
    assert!(!group_alive(pid), "the background job outlived ariash");
}

#[test]
fn a_runtime_error_terminates_background_jobs() {
    let (status, pid) = run_to_end(&format!(
        r#"run("sh", ["-c", "echo $$ > bg.pid; exec sleep 1000"]) &; {SYNC}
           int:zero = 0; print(1 / zero);"#
    ));
    assert_eq!(status, 1);
    assert!(!group_alive(pid), "the background job outlived ariash");
}
