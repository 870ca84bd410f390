//! `spawn`: N spawns of `/bin/true`, at most 64 alive, each waited for. Reports spawns per
//! second, the parent's CPU time (getrusage self, every thread) and CPU per spawn, and the
//! children's CPU per spawn (getrusage children: their side of the spawn, exec and exit),
//! which shares the two cores with the parent.
//!
//! Every runtime runs 64 workers (tasks, or threads for `std`) that each spawn and wait in a
//! loop until N spawns have been claimed; each spawn builds a fresh command. The workers are
//! spawned from the main task: on `aria-mt` they run on the worker threads, on `aria-tpc` they
//! go to the cores in turn, each core spawning and waiting for its own children.

use std::io;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::{check_status, secs, Metrics, Params};
use crate::measure::{children_cpu_time, cpu_time};
use crate::runtimes::{self, aria_rt, echo_only, script_only, unsupported, Runtime, EXECUTOR};

/// The trivial program.
pub const TRUE: &str = "/bin/true";
/// Children alive at once.
pub const CONCURRENCY: usize = 64;

/// Runs the scenario.
///
/// # Errors
/// A spawn or wait error, or a child that failed.
pub fn run(rt: Runtime, p: &Params) -> io::Result<Metrics> {
    let n = p.size;
    let children0 = children_cpu_time();
    let (wall, cpu) = match rt {
        aria_rt!() => runtimes::aria(rt, aria(n))??,
        Runtime::Tokio | Runtime::TokioCt => runtimes::tokio(runtimes::tokio_flavor(rt), tokio(n))??,
        Runtime::AsyncProcess => runtimes::smol(smol(n))?,
        Runtime::Std => std(n)?,
        Runtime::Bash | echo_only!() | script_only!() => return Err(unsupported("spawn", rt)),
    };
    let children = children_cpu_time() - children0;
    Ok(vec![
        ("spawns_per_s", n as f64 / secs(wall)),
        ("cpu_s", secs(cpu)),
        ("cpu_per_spawn_us", secs(cpu) * 1e6 / n as f64),
        ("child_cpu_per_spawn_us", secs(children) * 1e6 / n as f64),
        ("wall_s", secs(wall)),
    ])
}

/// Claims the next spawn; false once `n` have been claimed.
fn claim(next: &AtomicU64, n: u64) -> bool {
    next.fetch_add(1, Ordering::Relaxed) < n
}

async fn aria(n: u64) -> io::Result<(Duration, Duration)> {
    let next = Arc::new(AtomicU64::new(0));
    let (t0, c0) = (Instant::now(), cpu_time());
    let workers: Vec<_> = (0..CONCURRENCY)
        .map(|_| {
            let next = next.clone();
            aria_io::spawn(async move {
                while claim(&next, n) {
                    let st = aria_io::process::Command::new(TRUE).status().await?;
                    check_status(st.success(), TRUE, &st)?;
                }
                Ok::<_, io::Error>(())
            })
        })
        .collect();
    for w in workers {
        w.await??;
    }
    Ok((t0.elapsed(), cpu_time() - c0))
}

async fn tokio(n: u64) -> io::Result<(Duration, Duration)> {
    let next = Arc::new(AtomicU64::new(0));
    let (t0, c0) = (Instant::now(), cpu_time());
    let workers: Vec<_> = (0..CONCURRENCY)
        .map(|_| {
            let next = next.clone();
            tokio::spawn(async move {
                while claim(&next, n) {
                    let st = tokio::process::Command::new(TRUE).status().await?;
                    check_status(st.success(), TRUE, &st)?;
                }
                Ok::<_, io::Error>(())
            })
        })
        .collect();
    for w in workers {
        w.await??;
    }
    Ok((t0.elapsed(), cpu_time() - c0))
}

async fn smol(n: u64) -> io::Result<(Duration, Duration)> {
    let next = Arc::new(AtomicU64::new(0));
    let (t0, c0) = (Instant::now(), cpu_time());
    let workers: Vec<_> = (0..CONCURRENCY)
        .map(|_| {
            let next = next.clone();
            EXECUTOR.spawn(async move {
                while claim(&next, n) {
                    let st = async_process::Command::new(TRUE).status().await?;
                    check_status(st.success(), TRUE, &st)?;
                }
                Ok::<_, io::Error>(())
            })
        })
        .collect();
    for w in workers {
        w.await?;
    }
    Ok((t0.elapsed(), cpu_time() - c0))
}

fn std(n: u64) -> io::Result<(Duration, Duration)> {
    let next = Arc::new(AtomicU64::new(0));
    let (t0, c0) = (Instant::now(), cpu_time());
    let workers: Vec<_> = (0..CONCURRENCY)
        .map(|_| {
            let next = next.clone();
            std::thread::Builder::new().stack_size(64 * 1024).spawn(move || {
                while claim(&next, n) {
                    let st = std::process::Command::new(TRUE).status()?;
                    check_status(st.success(), TRUE, &st)?;
                }
                Ok::<_, io::Error>(())
            })
        })
        .collect::<io::Result<_>>()?;
    for w in workers {
        w.join().map_err(|_| io::Error::other("a spawn thread panicked"))??;
    }
    Ok((t0.elapsed(), cpu_time() - c0))
}
