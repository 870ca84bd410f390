//! `channel`: one producer task sends N `u64`s through a bounded channel (capacity 1024) to
//! one consumer task, which sums them. Reports ns per message.
//!
//! Variants separate the runtime's cost from the channel's:
//! - `aria`: `aria_io::sync::mpsc` (runtime-agnostic, so it also runs on tokio and smol);
//! - `portable`: `async-channel`, the same code on every runtime;
//! - `native`: `tokio::sync::mpsc` (tokio only).

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::time::{Duration, Instant};

use super::{secs, variant, Metrics, Params};
use crate::runtimes::{self, unsupported, Runtime, EXECUTOR};

/// The channel's capacity.
pub const CAPACITY: usize = 1024;

type Task<T> = Pin<Box<dyn Future<Output = T> + Send>>;

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

fn aria(n: u64) -> (Task<()>, Task<u64>) {
    let (tx, mut rx) = aria_io::sync::mpsc::channel::<u64>(CAPACITY);
    let producer = Box::pin(async move {
        for i in 0..n {
            if tx.send(i).await.is_err() {
                break;
            }
        }
    });
    let consumer = Box::pin(async move {
        let mut sum = 0u64;
        while let Some(v) = rx.recv().await {
            sum = sum.wrapping_add(v);
        }
        sum
    });
    (producer, consumer)
}

fn native(n: u64) -> (Task<()>, Task<u64>) {
    let (tx, mut rx) = tokio::sync::mpsc::channel::<u64>(CAPACITY);
    let producer = Box::pin(async move {
        for i in 0..n {
            if tx.send(i).await.is_err() {
                break;
            }
        }
    });
    let consumer = Box::pin(async move {
        let mut sum = 0u64;
        while let Some(v) = rx.recv().await {
            sum = sum.wrapping_add(v);
        }
        sum
    });
    (producer, consumer)
}

/// Runs the scenario.
///
/// # Errors
/// An unknown variant, a runtime without it, or a wrong sum.
pub fn run(rt: Runtime, p: &Params) -> io::Result<Metrics> {
    let n = p.size;
    let (producer, consumer) = match variant(p, "portable") {
        "portable" => portable(n),
        "aria" => aria(n),
        "native" if matches!(rt, Runtime::Tokio | Runtime::TokioCt) => native(n),
        v => {
            return Err(io::Error::new(io::ErrorKind::InvalidInput, format!("channel variant `{v}` on {rt}")))
        }
    };
    let (wall, sum) = match rt {
        Runtime::AriaEpoll | Runtime::AriaUring | Runtime::AriaMt | Runtime::AriaMt1 => {
            runtimes::aria(rt, async {
                let t0 = Instant::now();
                let (p, c) = (aria_io::spawn(producer), aria_io::spawn(consumer));
                p.await?;
                let sum = c.await?;
                Ok::<_, io::Error>((t0.elapsed(), sum))
            })??
        }
        Runtime::Tokio | Runtime::TokioCt => runtimes::tokio(runtimes::tokio_flavor(rt), async {
            let t0 = Instant::now();
            let (p, c) = (tokio::spawn(producer), tokio::spawn(consumer));
            p.await?;
            let sum = c.await?;
            Ok::<_, io::Error>((t0.elapsed(), sum))
        })??,
        Runtime::AsyncProcess => runtimes::smol(async {
            let t0 = Instant::now();
            let (p, c) = (EXECUTOR.spawn(producer), EXECUTOR.spawn(consumer));
            p.await;
            let sum = c.await;
            (t0.elapsed(), sum)
        }),
        Runtime::Std | Runtime::Bash => return Err(unsupported("channel", rt)),
    };
    let want = (0..n).fold(0u64, |s, v| s.wrapping_add(v));
    if sum != want {
        return Err(io::Error::other(format!("consumer summed {sum}, expected {want}")));
    }
    Ok(rate(n, wall))
}

fn rate(n: u64, wall: Duration) -> Metrics {
    vec![("ns_per_msg", secs(wall) * 1e9 / n as f64), ("msgs_per_s", n as f64 / secs(wall))]
}
