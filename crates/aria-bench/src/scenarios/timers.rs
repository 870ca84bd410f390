//! `timers`: N tasks, each sleeping for a pseudo-random duration in 0-1000 ms (the same
//! sequence on every runtime), all awaited. Reports the parent's CPU per timer (the target:
//! the wall time is bound by the longest sleep), the wall time, and how late the sleeps fired
//! (p50, p99).
//!
//! The sleep's lateness is measured from the task's first poll plus its duration.

use std::future::Future;
use std::io;
use std::time::{Duration, Instant};

use super::{secs, Metrics, Params};
use crate::measure::{cpu_time, quantile, Rng};
use crate::runtimes::{self, aria_rt, echo_only, script_only, unsupported, Runtime, EXECUTOR};

/// Longest sleep, in milliseconds.
pub const MAX_MS: u64 = 1000;

/// Runs the scenario.
///
/// # Errors
/// A runtime that cannot be created or a task that failed.
pub fn run(rt: Runtime, p: &Params) -> io::Result<Metrics> {
    let mut rng = Rng::new(0x5eed);
    let durations: Vec<Duration> =
        (0..p.size).map(|_| Duration::from_micros(rng.below(MAX_MS * 1000 + 1))).collect();
    let (wall, cpu, mut late) = match rt {
        aria_rt!() => runtimes::aria(
            rt,
            all(durations, |d| {
                aria_io::spawn(async move {
                    let due = Instant::now() + d;
                    aria_io::time::sleep(d).await;
                    Instant::now() - due
                })
            }),
        )?,
        Runtime::Tokio | Runtime::TokioCt => runtimes::tokio(
            runtimes::tokio_flavor(rt),
            all(durations, |d| {
                tokio::spawn(async move {
                    let due = Instant::now() + d;
                    tokio::time::sleep(d).await;
                    Instant::now() - due
                })
            }),
        )?,
        Runtime::AsyncProcess => runtimes::smol(all(durations, |d| {
            EXECUTOR.spawn(async move {
                let due = Instant::now() + d;
                async_io::Timer::after(d).await;
                Ok::<_, io::Error>(Instant::now() - due)
            })
        })),
        Runtime::Std | Runtime::Bash | echo_only!() | script_only!() => {
            return Err(unsupported("timers", rt))
        }
    }?;
    late.sort_by(f64::total_cmp);
    let n = p.size as f64;
    Ok(vec![
        ("cpu_ns_per_timer", secs(cpu) * 1e9 / n),
        ("wall_s", secs(wall)),
        ("late_p50_ms", quantile(&late, 0.5)),
        ("late_p99_ms", quantile(&late, 0.99)),
    ])
}

async fn all<H, E, S>(durations: Vec<Duration>, mut spawn: S) -> io::Result<(Duration, Duration, Vec<f64>)>
where
    H: Future<Output = Result<Duration, E>>,
    io::Error: From<E>,
    S: FnMut(Duration) -> H,
{
    let mut handles = Vec::with_capacity(durations.len());
    let mut late = Vec::with_capacity(durations.len());
    let (t0, c0) = (Instant::now(), cpu_time());
    for d in durations {
        handles.push(spawn(d));
    }
    for h in handles {
        late.push(secs(h.await?) * 1e3);
    }
    Ok((t0.elapsed(), cpu_time() - c0, late))
}
