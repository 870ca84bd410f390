//! Dropping a runtime leaves no zombie, even when no other runtime ever runs: its waited-on
//! and dropped children are handed to the process-wide reaper thread. A test binary of its
//! own: it checks that this process has no child left at all.

mod support;

use std::time::{Duration, Instant};

use aria_io::process::Stdio;
use support::{helper, HANG_GUARD};

/// This process's children (zombies included), from /proc.
fn children() -> Vec<u32> {
    let mut pids = Vec::new();
    for task in std::fs::read_dir("/proc/self/task").unwrap() {
        let path = task.unwrap().path().join("children");
        let list = std::fs::read_to_string(path).unwrap_or_default();
        pids.extend(list.split_whitespace().map(|p| p.parse::<u32>().unwrap()));
    }
    pids
}

#[test]
fn dropping_a_runtime_with_waited_on_children_leaves_no_zombie() {
    let rt = support::runtime();
    rt.block_on(async {
        for _ in 0..20 {
            let mut c = helper(&["wait-stdin"]);
            c.stdin(Stdio::piped());
            let mut child = c.spawn().unwrap();
            let stdin = child.stdin.take();
            // A task waits for the child; it is dropped with the runtime, which closes the
            // child's stdin (the task owns it) so the child exits on its own.
            aria_io::spawn(async move {
                let _stdin = stdin;
                child.wait().await
            });
        }
        aria_io::yield_now().await; // the waits are in flight
    });
    drop(rt);
    // No runtime runs from here on. Poll until every child is reaped; only a hang (a zombie
    // nobody reaps) fails this, after the hang guard.
    let start = Instant::now();
    loop {
        let left = children();
        if left.is_empty() {
            break;
        }
        assert!(start.elapsed() < HANG_GUARD, "children never reaped: {left:?}");
        std::thread::sleep(Duration::from_millis(10));
    }
}
