//! `fanout`: the main task spawns N tasks; each sleeps 1 ms and then sends its index on an
//! mpsc channel (capacity [`CAPACITY`]); the main task receives the N messages. Reports the
//! wall time and the process's CPU time (every thread) from the first spawn to the last
//! message, in ms.
//!
//! Each runtime uses its own channel: `aria_io::sync::mpsc` on aria-io, `tokio::sync::mpsc`
//! on tokio. With `aria-mt` against `aria-mt1`, it shows how the multi-thread runtime scales
//! from one worker to several on timer wake-ups plus channel sends.
//!
//! Variant `cpu`: each task also does [`SPIN`] rounds of [`work`](super::par_map::work)
//! (tens of microseconds of CPU) between the sleep and the send, so the run is CPU-bound and
//! `aria-mt` / `aria-mt1` measures the scheduler's scaling across workers.

use std::future::Future;
use std::io;
use std::time::{Duration, Instant};

use super::{Metrics, Params};
use crate::measure::cpu_time;
use crate::runtimes::{self, aria_rt, echo_only, script_only, unsupported, Runtime};

/// The channel's capacity.
pub const CAPACITY: usize = 1024;

/// How long each task sleeps before sending.
pub const SLEEP: Duration = Duration::from_millis(1);

/// Calls of [`work`](super::par_map::work) per task in the `cpu` variant.
pub const SPIN: u32 = 256;

/// The `cpu` variant's work for task `i` (none in the default variant).
fn spin(i: u64, rounds: u32) -> u64 {
    (0..rounds).fold(i, |h, _| super::par_map::work(h))
}

/// Runs the scenario.
///
/// # Errors
/// A runtime that cannot be created or supports no such scenario, or a lost message.
pub fn run(rt: Runtime, p: &Params) -> io::Result<Metrics> {
    let n = p.size;
    let rounds = match super::variant(p, "sleep") {
        "sleep" => 0,
        "cpu" => SPIN,
        v => return Err(io::Error::new(io::ErrorKind::InvalidInput, format!("fanout variant `{v}`"))),
    };
    let (wall, cpu, sum) = match rt {
        aria_rt!() => runtimes::aria(rt, async move {
            let (tx, mut rx) = aria_io::sync::mpsc::channel::<u64>(CAPACITY);
            timed(
                n,
                |i| {
                    let tx = tx.clone();
                    drop(aria_io::spawn(async move {
                        aria_io::time::sleep(SLEEP).await;
                        std::hint::black_box(spin(i, rounds));
                        let _ = tx.send(i).await;
                    }));
                },
                &mut rx,
            )
            .await
        })?,
        Runtime::Tokio | Runtime::TokioCt => runtimes::tokio(runtimes::tokio_flavor(rt), async move {
            let (tx, mut rx) = tokio::sync::mpsc::channel::<u64>(CAPACITY);
            timed(
                n,
                |i| {
                    let tx = tx.clone();
                    drop(tokio::spawn(async move {
                        tokio::time::sleep(SLEEP).await;
                        std::hint::black_box(spin(i, rounds));
                        let _ = tx.send(i).await;
                    }));
                },
                &mut rx,
            )
            .await
        })?,
        Runtime::AsyncProcess | Runtime::Std | Runtime::Bash | echo_only!() | script_only!() => {
            return Err(unsupported("fanout", rt))
        }
    };
    let want = n * n.saturating_sub(1) / 2;
    if sum != want {
        return Err(io::Error::other(format!("received a sum of {sum}, expected {want}")));
    }
    Ok(vec![("wall_ms", wall.as_secs_f64() * 1e3), ("cpu_ms", cpu.as_secs_f64() * 1e3)])
}

/// The receiving half of either runtime's channel.
trait Recv {
    fn recv_one(&mut self) -> impl Future<Output = Option<u64>> + '_;
}

impl Recv for aria_io::sync::mpsc::Receiver<u64> {
    fn recv_one(&mut self) -> impl Future<Output = Option<u64>> + '_ {
        self.recv()
    }
}

impl Recv for tokio::sync::mpsc::Receiver<u64> {
    fn recv_one(&mut self) -> impl Future<Output = Option<u64>> + '_ {
        self.recv()
    }
}

/// Spawns `n` senders with `spawn(i)`, then receives `n` messages from `rx`; returns the
/// wall and CPU time of the whole and the sum of the messages.
async fn timed<S: FnMut(u64), R: Recv>(n: u64, mut spawn: S, rx: &mut R) -> (Duration, Duration, u64) {
    let (t0, c0) = (Instant::now(), cpu_time());
    for i in 0..n {
        spawn(i);
    }
    let mut sum = 0u64;
    for _ in 0..n {
        match rx.recv_one().await {
            Some(v) => sum += v,
            None => break,
        }
    }
    (t0.elapsed(), cpu_time() - c0, sum)
}
