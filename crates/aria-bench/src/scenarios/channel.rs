//! `channel`: one producer task sends N `u64`s through a bounded channel (capacity 1024) to
//! one consumer task, which sums them. Reports ns per message.
//!
//! Variants separate the runtime's cost from the channel's:
//! - `aria`: `aria_io::sync::mpsc` (runtime-agnostic, so it also runs on tokio and smol);
//! - `portable`: `async-channel`, the same code on every runtime;
//! - `native`: `tokio::sync::mpsc` (tokio only).

use std::io;
use std::time::Duration;

use super::{secs, spawn_pair, variant, Metrics, Params, Placement, Task};
use crate::runtimes::Runtime;

/// The channel's capacity.
pub const CAPACITY: usize = 1024;

fn portable(n: u64) -> (Task<()>, Task<u64>) {
    let (tx, rx) = async_channel::bounded::<u64>(CAPACITY);
    let producer = Box::pin(async move {
        for i in 0..n {
            if tx.send(i).await.is_err() {
                break;
            }
        }
    });
    let consumer = Box::pin(async move {
        let mut sum = 0u64;
        while let Ok(v) = rx.recv().await {
            sum = sum.wrapping_add(v);
        }
        sum
    });
    (producer, consumer)
}

/// The producer and consumer over an mpsc channel made by `$channel` (aria-io's and tokio's
/// have the same `send` / `recv` shape, so one body serves both).
macro_rules! mpsc_pair {
    ($n:expr, $channel:expr) => {{
        let n: u64 = $n;
        let (tx, mut rx) = $channel;
        let producer: Task<()> = Box::pin(async move {
            for i in 0..n {
                if tx.send(i).await.is_err() {
                    break;
                }
            }
        });
        let consumer: Task<u64> = Box::pin(async move {
            let mut sum = 0u64;
            while let Some(v) = rx.recv().await {
                sum = sum.wrapping_add(v);
            }
            sum
        });
        (producer, consumer)
    }};
}

/// Runs the scenario.
///
/// # Errors
/// An unknown variant, a runtime without it, or a wrong sum.
pub fn run(rt: Runtime, p: &Params) -> io::Result<Metrics> {
    let n = p.size;
    let (producer, consumer) = match variant(p, "portable") {
        "portable" => portable(n),
        "aria" => mpsc_pair!(n, aria_io::sync::mpsc::channel::<u64>(CAPACITY)),
        "native" if matches!(rt, Runtime::Tokio | Runtime::TokioCt) => {
            mpsc_pair!(n, tokio::sync::mpsc::channel::<u64>(CAPACITY))
        }
        v => {
            return Err(io::Error::new(io::ErrorKind::InvalidInput, format!("channel variant `{v}` on {rt}")))
        }
    };
    let (wall, sum) = spawn_pair(rt, "channel", producer, consumer, Placement::SameCore)?;
    let want = (0..n).fold(0u64, |s, v| s.wrapping_add(v));
    if sum != want {
        return Err(io::Error::other(format!("consumer summed {sum}, expected {want}")));
    }
    Ok(rate(n, wall))
}

fn rate(n: u64, wall: Duration) -> Metrics {
    vec![("ns_per_msg", secs(wall) * 1e9 / n as f64), ("msgs_per_s", n as f64 / secs(wall))]
}
