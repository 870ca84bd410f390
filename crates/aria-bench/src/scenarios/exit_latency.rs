//! `exit-latency`: N `cat`s blocked reading their stdin (a pipe). Once every child runs and
//! every wait is in place, all the stdins are closed at T0; each child's latency is the time
//! from T0 until its wait returned. Reports p50, p99 and max in milliseconds.
//!
//! The waits are a task per child (a thread per child for `std`). The soft RLIMIT_NOFILE is
//! raised to the hard limit first. `close_ms` is how long the closing itself took (every
//! runtime closes the stdins in one loop on the thread that runs the main future).
//!
//! On the current-thread runtimes (`aria-epoll`, `aria-uring`, `tokio-ct`, async-process's
//! executor) no wait returns before the closing loop ends; on `aria-mt` and `aria-tpc`, as on
//! `tokio`, the waits run on other threads meanwhile. On `aria-tpc` the children are spawned
//! from the main task (block_on's thread), so their pidfds register with core 0's driver,
//! while the waiting tasks go to the cores in turn.

use std::io;
use std::time::{Duration, Instant};

use super::{secs, Metrics, Params};
use crate::measure::{quantile, raise_nofile};
use crate::runtimes::{self, aria_rt, echo_only, script_only, unsupported, Runtime, EXECUTOR};

const CAT: &str = "cat";

/// How long to let the children reach their `read` and the waits park before T0.
fn settle(n: u64) -> Duration {
    Duration::from_millis(300) + Duration::from_micros(250 * n)
}

/// Runs the scenario.
///
/// # Errors
/// A spawn or wait error.
pub fn run(rt: Runtime, p: &Params) -> io::Result<Metrics> {
    raise_nofile()?;
    let n = p.size;
    let (spawn, t0, closed, done) = match rt {
        aria_rt!() => runtimes::aria(rt, aria(n))??,
        Runtime::Tokio | Runtime::TokioCt => runtimes::tokio(runtimes::tokio_flavor(rt), tokio(n))??,
        Runtime::AsyncProcess => runtimes::smol(smol(n))?,
        Runtime::Std => std(n)?,
        Runtime::Bash | echo_only!() | script_only!() => return Err(unsupported("exit-latency", rt)),
    };
    let mut lat: Vec<f64> = done.iter().map(|t| secs(t.saturating_duration_since(t0)) * 1e3).collect();
    lat.sort_by(f64::total_cmp);
    Ok(vec![
        ("p50_ms", quantile(&lat, 0.5)),
        ("p99_ms", quantile(&lat, 0.99)),
        ("max_ms", quantile(&lat, 1.0)),
        ("close_ms", secs(closed.saturating_duration_since(t0)) * 1e3),
        ("spawn_s", secs(spawn)),
    ])
}

/// (spawning time, T0, when the last stdin was closed, when each wait returned).
type Outcome = (Duration, Instant, Instant, Vec<Instant>);

async fn aria(n: u64) -> io::Result<Outcome> {
    use aria_io::process::{Command, Stdio};
    let start = Instant::now();
    let mut stdins = Vec::new();
    let mut waits = Vec::new();
    for _ in 0..n {
        let mut child = Command::new(CAT).stdin(Stdio::piped()).stdout(Stdio::null()).spawn()?;
        stdins.push(child.stdin.take());
        waits.push(aria_io::spawn(async move {
            child.wait().await?;
            Ok::<_, io::Error>(Instant::now())
        }));
    }
    let spawn = start.elapsed();
    aria_io::time::sleep(settle(n)).await;
    let t0 = Instant::now();
    drop(stdins);
    let closed = Instant::now();
    let mut done = Vec::with_capacity(waits.len());
    for w in waits {
        done.push(w.await??);
    }
    Ok((spawn, t0, closed, done))
}

async fn tokio(n: u64) -> io::Result<Outcome> {
    use std::process::Stdio;
    let start = Instant::now();
    let mut stdins = Vec::new();
    let mut waits = Vec::new();
    for _ in 0..n {
        let mut child =
            tokio::process::Command::new(CAT).stdin(Stdio::piped()).stdout(Stdio::null()).spawn()?;
        stdins.push(child.stdin.take());
        waits.push(tokio::spawn(async move {
            child.wait().await?;
            Ok::<_, io::Error>(Instant::now())
        }));
    }
    let spawn = start.elapsed();
    tokio::time::sleep(settle(n)).await;
    let t0 = Instant::now();
    drop(stdins);
    let closed = Instant::now();
    let mut done = Vec::with_capacity(waits.len());
    for w in waits {
        done.push(w.await??);
    }
    Ok((spawn, t0, closed, done))
}

async fn smol(n: u64) -> io::Result<Outcome> {
    use async_process::Stdio;
    let start = Instant::now();
    let mut stdins = Vec::new();
    let mut waits = Vec::new();
    for _ in 0..n {
        let mut child =
            async_process::Command::new(CAT).stdin(Stdio::piped()).stdout(Stdio::null()).spawn()?;
        stdins.push(child.stdin.take());
        waits.push(EXECUTOR.spawn(async move {
            child.status().await?;
            Ok::<_, io::Error>(Instant::now())
        }));
    }
    let spawn = start.elapsed();
    async_io::Timer::after(settle(n)).await;
    let t0 = Instant::now();
    drop(stdins);
    let closed = Instant::now();
    let mut done = Vec::with_capacity(waits.len());
    for w in waits {
        done.push(w.await?);
    }
    Ok((spawn, t0, closed, done))
}

fn std(n: u64) -> io::Result<Outcome> {
    use std::process::Stdio;
    let start = Instant::now();
    let mut stdins = Vec::new();
    let mut waits = Vec::new();
    for _ in 0..n {
        let mut child =
            std::process::Command::new(CAT).stdin(Stdio::piped()).stdout(Stdio::null()).spawn()?;
        stdins.push(child.stdin.take());
        waits.push(std::thread::Builder::new().stack_size(64 * 1024).spawn(move || {
            child.wait()?;
            Ok::<_, io::Error>(Instant::now())
        })?);
    }
    let spawn = start.elapsed();
    std::thread::sleep(settle(n));
    let t0 = Instant::now();
    drop(stdins);
    let closed = Instant::now();
    let mut done = Vec::with_capacity(waits.len());
    for w in waits {
        done.push(w.join().map_err(|_| io::Error::other("a wait thread panicked"))??);
    }
    Ok((spawn, t0, closed, done))
}
