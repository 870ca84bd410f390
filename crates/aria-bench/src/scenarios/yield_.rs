//! `yield`: two tasks ping-pong N round trips through a pair of notifications. Reports ns
//! per round trip.
//!
//! Variants separate the runtime's cost from the notification's:
//! - `aria`: `aria_io::sync::Notify` (runtime-agnostic, so it also runs on tokio and smol);
//! - `portable`: a flag + `event_listener::Event` ([`Flag`]), the same code on every runtime;
//! - `native`: `tokio::sync::Notify` (tokio only).

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use event_listener::Event;

use super::{secs, variant, Metrics, Params};
use crate::runtimes::{self, unsupported, Runtime, EXECUTOR};

/// A one-permit notification: `notify` sets the permit and wakes one waiter; `wait` takes
/// the permit, waiting for it if needed.
#[derive(Debug, Default)]
pub struct Flag {
    set: AtomicBool,
    event: Event,
}

impl Flag {
    /// Stores the permit and wakes a waiter.
    pub fn notify(&self) {
        self.set.store(true, Ordering::Release);
        self.event.notify(1);
    }

    /// Takes the permit.
    pub async fn wait(&self) {
        loop {
            if self.set.swap(false, Ordering::AcqRel) {
                return;
            }
            let listener = self.event.listen();
            if self.set.swap(false, Ordering::AcqRel) {
                return;
            }
            listener.await;
        }
    }
}

type Task = Pin<Box<dyn Future<Output = ()> + Send>>;

fn portable(n: u64) -> (Task, Task) {
    let (ping, pong) = (Arc::new(Flag::default()), Arc::new(Flag::default()));
    let (ping2, pong2) = (ping.clone(), pong.clone());
    let a = Box::pin(async move {
        for _ in 0..n {
            ping.notify();
            pong.wait().await;
        }
    });
    let b = Box::pin(async move {
        for _ in 0..n {
            ping2.wait().await;
            pong2.notify();
        }
    });
    (a, b)
}

fn aria(n: u64) -> (Task, Task) {
    use aria_io::sync::Notify;
    let (ping, pong) = (Arc::new(Notify::new()), Arc::new(Notify::new()));
    let (ping2, pong2) = (ping.clone(), pong.clone());
    let a = Box::pin(async move {
        for _ in 0..n {
            ping.notify_one();
            pong.notified().await;
        }
    });
    let b = Box::pin(async move {
        for _ in 0..n {
            ping2.notified().await;
            pong2.notify_one();
        }
    });
    (a, b)
}

fn native(n: u64) -> (Task, Task) {
    use tokio::sync::Notify;
    let (ping, pong) = (Arc::new(Notify::new()), Arc::new(Notify::new()));
    let (ping2, pong2) = (ping.clone(), pong.clone());
    let a = Box::pin(async move {
        for _ in 0..n {
            ping.notify_one();
            pong.notified().await;
        }
    });
    let b = Box::pin(async move {
        for _ in 0..n {
            ping2.notified().await;
            pong2.notify_one();
        }
    });
    (a, b)
}

/// Runs the scenario.
///
/// # Errors
/// An unknown variant or a runtime without it.
pub fn run(rt: Runtime, p: &Params) -> io::Result<Metrics> {
    let n = p.size;
    let (a, b) = match variant(p, "portable") {
        "portable" => portable(n),
        "aria" => aria(n),
        "native" if matches!(rt, Runtime::Tokio | Runtime::TokioCt) => native(n),
        v => return Err(io::Error::new(io::ErrorKind::InvalidInput, format!("yield variant `{v}` on {rt}"))),
    };
    let wall = match rt {
        Runtime::AriaEpoll | Runtime::AriaUring | Runtime::AriaMt | Runtime::AriaMt1 => {
            runtimes::aria(rt, async {
                let t0 = Instant::now();
                let (a, b) = (aria_io::spawn(a), aria_io::spawn(b));
                a.await?;
                b.await?;
                Ok::<_, io::Error>(t0.elapsed())
            })??
        }
        Runtime::Tokio | Runtime::TokioCt => runtimes::tokio(runtimes::tokio_flavor(rt), async {
            let t0 = Instant::now();
            let (a, b) = (tokio::spawn(a), tokio::spawn(b));
            a.await?;
            b.await?;
            Ok::<_, io::Error>(t0.elapsed())
        })??,
        Runtime::AsyncProcess => runtimes::smol(async {
            let t0 = Instant::now();
            let (a, b) = (EXECUTOR.spawn(a), EXECUTOR.spawn(b));
            a.await;
            b.await;
            t0.elapsed()
        }),
        Runtime::Std | Runtime::Bash => return Err(unsupported("yield", rt)),
    };
    Ok(rate(n, wall))
}

fn rate(n: u64, wall: Duration) -> Metrics {
    vec![("ns_per_round_trip", secs(wall) * 1e9 / n as f64), ("round_trips_per_s", n as f64 / secs(wall))]
}
