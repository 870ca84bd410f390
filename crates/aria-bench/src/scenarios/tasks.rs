//! `tasks`: spawn N empty tasks from the main future, then join them all. Reports ns per task
//! (wall time of spawn + join / N) and the bytes and allocations per task.
//!
//! Two passes on the same runtime: the first with the counting allocator switched on (it
//! includes the growth of the runtime's queues and task lists to N entries), the second,
//! timed, with counting off so that the counters' atomics cost nothing. The handle vector is
//! allocated before either pass.

use std::future::Future;
use std::io;
use std::time::{Duration, Instant};

use super::{secs, Metrics, Params};
use crate::measure::{alloc_snapshot, set_alloc_counting};
use crate::runtimes::{self, aria_rt, echo_only, script_only, unsupported, Runtime, EXECUTOR};

/// What the two passes measured.
struct Outcome {
    wall: Duration,
    allocs: u64,
    bytes: u64,
}

/// Runs the scenario.
///
/// # Errors
/// A runtime that cannot be created or a task that failed.
pub fn run(rt: Runtime, p: &Params) -> io::Result<Metrics> {
    let n = p.size as usize;
    let o = match rt {
        aria_rt!() => runtimes::aria(rt, both(n, || aria_io::spawn(async {})))?,
        Runtime::Tokio | Runtime::TokioCt => {
            runtimes::tokio(runtimes::tokio_flavor(rt), both(n, || tokio::spawn(async {})))?
        }
        Runtime::AsyncProcess => runtimes::smol(both(n, || EXECUTOR.spawn(async {}))),
        Runtime::Std | Runtime::Bash | echo_only!() | script_only!() => return Err(unsupported("tasks", rt)),
    };
    let n = n as f64;
    Ok(vec![
        ("ns_per_task", secs(o.wall) * 1e9 / n),
        ("bytes_per_task", o.bytes as f64 / n),
        ("allocs_per_task", o.allocs as f64 / n),
    ])
}

async fn both<H: Future, S: FnMut() -> H>(n: usize, mut spawn: S) -> Outcome {
    let mut handles = Vec::with_capacity(n);
    set_alloc_counting(true);
    let before = alloc_snapshot();
    spawn_join(n, &mut spawn, &mut handles).await;
    let after = alloc_snapshot();
    set_alloc_counting(false);
    let wall = spawn_join(n, &mut spawn, &mut handles).await;
    Outcome { wall, allocs: after.allocs - before.allocs, bytes: after.bytes - before.bytes }
}

async fn spawn_join<H: Future, S: FnMut() -> H>(n: usize, spawn: &mut S, handles: &mut Vec<H>) -> Duration {
    let t0 = Instant::now();
    for _ in 0..n {
        handles.push(spawn());
    }
    for h in handles.drain(..) {
        h.await;
    }
    t0.elapsed()
}
