//! Waiting, killing, reaping, and output collection.

mod support;

use std::time::Duration;

use aria_io::os::unix::{ChildExt, CommandExt};
use aria_io::process::{Command, Stdio};
use support::{exists, helper, run, until_reaped};

#[test]
fn output_collects_64_mib_on_each_of_stdout_and_stderr_interleaved() {
    run(async {
        let size = 64 << 20;
        let out = helper(&["interleave", &size.to_string(), "65536"]).output().await.unwrap();
        assert!(out.status.success());
        assert_eq!(out.stdout.len(), size);
        assert_eq!(out.stderr.len(), size);
        let expect: Vec<u8> = (0..65536).map(|i| (i % 251) as u8).collect();
        assert!(out.stdout.chunks(65536).all(|c| c == &expect[..]));
        assert!(out.stderr.chunks(65536).all(|c| c == &expect[..]));
    });
}

#[test]
fn a_grandchild_holding_stdout_open_does_not_hang_output() {
    run(async {
        let mut c = helper(&["grandchild", "600000"]);
        c.wait_delay(Some(Duration::from_millis(200)));
        let err = c.output().await.unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::TimedOut);
        let out = aria_io::process::WaitDelayExpired::into_output(err).unwrap();
        assert!(out.status.success());
        let gc: u32 = String::from_utf8(out.stdout).unwrap().trim().parse().unwrap();
        // Clean up the grandchild (it was reparented, not ours to reap).
        let _ = Command::new("kill").arg(gc.to_string()).status().await;
    });
}

#[test]
fn dropping_a_child_without_kill_on_drop_leaves_no_zombie() {
    run(async {
        let mut c = helper(&["wait-stdin"]);
        c.stdin(Stdio::piped());
        let child = c.spawn().unwrap();
        let pid = child.id().unwrap();
        drop(child); // closes stdin: the child exits on its own
        until_reaped(pid).await;
    });
}

#[test]
fn dropping_a_child_whose_wait_is_in_flight_still_reaps_it() {
    run(async {
        let mut c = helper(&["sleep", "600000"]);
        c.kill_on_drop(true);
        let mut child = c.spawn().unwrap();
        let pid = child.id().unwrap();
        // The wait has armed a readiness poll on the pidfd (on io_uring a POLL_ADD, which
        // dropping the child must remove) when this future is dropped.
        assert!(aria_io::time::timeout(Duration::from_millis(20), child.wait()).await.is_err());
        drop(child);
        until_reaped(pid).await;
    });
}

#[test]
fn dropping_a_child_with_kill_on_drop_kills_and_reaps_it() {
    run(async {
        let mut c = helper(&["sleep", "600000"]);
        c.kill_on_drop(true);
        let child = c.spawn().unwrap();
        let pid = child.id().unwrap();
        drop(child);
        until_reaped(pid).await;
    });
}

#[test]
fn a_child_orphaned_by_a_dropped_runtime_is_reaped_by_the_next_runtime() {
    let pid = {
        let rt = support::runtime();
        rt.block_on(async {
            let mut c = helper(&["wait-stdin"]);
            c.stdin(Stdio::piped());
            let child = c.spawn().unwrap();
            child.id().unwrap()
        })
    };
    run(until_reaped(pid));
}

#[test]
fn two_hundred_concurrent_sleeping_children_are_all_reaped() {
    run(async {
        let mut handles = Vec::new();
        let mut pids = Vec::new();
        for _ in 0..200 {
            let mut child = helper(&["sleep", "300"]).spawn().unwrap();
            pids.push(child.id().unwrap());
            handles.push(aria_io::spawn(async move { child.wait().await }));
        }
        for h in handles {
            assert!(h.await.unwrap().unwrap().success());
        }
        for pid in pids {
            assert!(!exists(pid), "pid {pid} still exists after wait");
        }
    });
}

#[test]
fn a_wait_racing_a_kill_reports_the_kill() {
    run(async {
        let mut child = helper(&["sleep", "600000"]).spawn().unwrap();
        let pidfd_child_id = child.id().unwrap();
        // Another task kills while this one is already waiting.
        let killer = aria_io::spawn(async move {
            aria_io::yield_now().await;
            Command::new("kill").args(["-9", &pidfd_child_id.to_string()]).status().await.unwrap()
        });
        let st = child.wait().await.unwrap();
        assert_eq!(st.signal(), Some(9));
        assert!(killer.await.unwrap().success());
    });
}

#[test]
fn kill_and_wait_in_either_order_never_fail() {
    run(async {
        for i in 0..50 {
            let mut child = helper(&["exit", "0"]).spawn().unwrap();
            if i % 2 == 0 {
                aria_io::yield_now().await;
            }
            child.start_kill().unwrap();
            let st = child.wait().await.unwrap();
            assert!(st.success() || st.signal() == Some(9), "{st}");
            assert!(child.start_kill().is_err()); // after reaping, as tokio: refused
            assert!(child.signal(15).is_err()); // and so is any other signal
            assert_eq!(child.id(), None);
        }
    });
}

#[test]
fn try_wait_returns_none_while_running_then_the_status() {
    run(async {
        let mut c = helper(&["wait-stdin"]);
        c.stdin(Stdio::piped());
        let mut child = c.spawn().unwrap();
        assert_eq!(child.try_wait().unwrap(), None);
        let st = child.wait().await.unwrap(); // closes stdin first
        assert!(st.success());
        assert_eq!(child.try_wait().unwrap(), Some(st));
    });
}

#[test]
fn signal_group_reaches_every_member_of_the_childs_group() {
    run(async {
        let mut c = Command::new("sh");
        // The shell starts a sleeper in the background and waits: both are in the group.
        c.args(["-c", "sleep 600 & wait"]).process_group(0);
        let mut child = c.spawn().unwrap();
        assert_eq!(child.pgid(), Some(child.id().unwrap() as i32));
        aria_io::time::sleep(Duration::from_millis(50)).await;
        child.signal_group(9).unwrap();
        assert_eq!(child.wait().await.unwrap().signal(), Some(9));
        // Without a group of its own, signal_group is refused rather than hitting our group.
        let mut other = helper(&["exit", "0"]).spawn().unwrap();
        assert!(other.signal_group(0).is_err());
        other.wait().await.unwrap();
    });
}

#[test]
fn a_child_dropped_after_its_runtime_is_gone_is_reaped_by_the_next_runtime() {
    let rt = support::runtime();
    let child = rt.block_on(async {
        let mut c = helper(&["wait-stdin"]);
        c.stdin(Stdio::piped());
        c.spawn().unwrap()
    });
    drop(rt);
    let pid = child.id().unwrap();
    drop(child); // closes stdin; the child exits; no runtime is running now
    run(until_reaped(pid));
}
