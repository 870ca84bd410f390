//! `par-map`: a CPU-bound map over N `u64`s ([`work`]: [`ROUNDS`] rounds of integer mixing,
//! a few hundred ns per item), results collected in order. Reports the wall time and the
//! process's CPU time (every thread) in ms, and ns per item.
//!
//! - aria-io (`aria-mt`, or any aria runtime): `aria_io::rayon::par_map` awaited in the
//!   runtime's main task (Rayon's global pool, one thread per core);
//! - tokio: the items split into one chunk per available core, each mapped in
//!   `spawn_blocking`, the chunks' results concatenated in order;
//! - `std`: a plain sequential loop on the calling thread.
//!
//! Rayon's pool is started by a trivial job before timing, and tokio's blocking pool by one
//! job per core that waits for all the others (so one thread per core exists).
//! Every runtime checks the first 1000 results and the last one.

use std::io;
use std::time::{Duration, Instant};

use super::{Metrics, Params};
use crate::measure::cpu_time;
use crate::runtimes::{self, aria_rt, echo_only, script_only, unsupported, Runtime};

/// Rounds of mixing per item.
pub const ROUNDS: u32 = 64;

/// The per-item work: [`ROUNDS`] rounds of a splitmix64-style finalizer.
pub fn work(x: u64) -> u64 {
    let mut h = x;
    for r in 0..ROUNDS {
        h = h.wrapping_add(0x9e37_79b9_7f4a_7c15 ^ u64::from(r));
        h = (h ^ (h >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        h = (h ^ (h >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        h ^= h >> 31;
    }
    h
}

/// Runs the scenario.
///
/// # Errors
/// A runtime that cannot be created or supports no such scenario, or wrong results.
pub fn run(rt: Runtime, p: &Params) -> io::Result<Metrics> {
    let n = p.size;
    let items: Vec<u64> = (0..n).collect();
    let (wall, cpu, out) = match rt {
        aria_rt!() => runtimes::aria(rt, async move {
            aria_io::rayon::par_map(vec![0u64; 64], std::hint::black_box).await;
            let (t0, c0) = (Instant::now(), cpu_time());
            let out = aria_io::rayon::par_map(items, work).await;
            (t0.elapsed(), cpu_time() - c0, out)
        })?,
        Runtime::Tokio | Runtime::TokioCt => runtimes::tokio(runtimes::tokio_flavor(rt), async move {
            let cores = std::thread::available_parallelism().map_or(1, |c| c.get());
            // Each warm-up job waits for all the others, so `cores` blocking threads exist
            // (a trivial job would let one thread run them all).
            let barrier = std::sync::Arc::new(std::sync::Barrier::new(cores));
            let warm: Vec<_> = (0..cores)
                .map(|_| {
                    let barrier = barrier.clone();
                    tokio::task::spawn_blocking(move || {
                        barrier.wait();
                    })
                })
                .collect();
            for h in warm {
                h.await?;
            }
            let (t0, c0) = (Instant::now(), cpu_time());
            let out = chunked(items, cores).await?;
            Ok::<_, io::Error>((t0.elapsed(), cpu_time() - c0, out))
        })??,
        Runtime::Std => {
            let (t0, c0) = (Instant::now(), cpu_time());
            let out: Vec<u64> = items.into_iter().map(work).collect();
            (t0.elapsed(), cpu_time() - c0, out)
        }
        Runtime::AsyncProcess | Runtime::Bash | echo_only!() | script_only!() => {
            return Err(unsupported("par-map", rt))
        }
    };
    let want: Vec<u64> = (0..n.min(1000)).map(work).collect();
    if out.len() as u64 != n
        || out[..want.len()] != want[..]
        || out.last().copied() != n.checked_sub(1).map(work)
    {
        return Err(io::Error::other("par-map: wrong results"));
    }
    Ok(metrics(n, wall, cpu))
}

/// One `spawn_blocking` per chunk of `items`, `chunks` chunks, results in order.
async fn chunked(mut items: Vec<u64>, chunks: usize) -> io::Result<Vec<u64>> {
    let n = items.len();
    let per = n.div_ceil(chunks.max(1)).max(1);
    let mut parts = Vec::with_capacity(chunks);
    while !items.is_empty() {
        let rest = items.split_off(per.min(items.len()));
        let chunk = std::mem::replace(&mut items, rest);
        parts.push(tokio::task::spawn_blocking(move || chunk.into_iter().map(work).collect::<Vec<u64>>()));
    }
    let mut out = Vec::with_capacity(n);
    for h in parts {
        out.extend(h.await?);
    }
    Ok(out)
}

fn metrics(n: u64, wall: Duration, cpu: Duration) -> Metrics {
    vec![
        ("wall_ms", wall.as_secs_f64() * 1e3),
        ("cpu_ms", cpu.as_secs_f64() * 1e3),
        ("ns_per_item", wall.as_secs_f64() * 1e9 / n.max(1) as f64),
    ]
}
