//! `yield`: two tasks ping-pong N round trips through a pair of notifications. Reports ns
//! per round trip.
//!
//! Variants separate the runtime's cost from the notification's:
//! - `aria`: `aria_io::sync::Notify` (runtime-agnostic, so it also runs on tokio and smol);
//! - `portable`: a flag + `event_listener::Event` ([`Flag`]), the same code on every runtime;
//! - `native`: `tokio::sync::Notify` (tokio only);
//! - `aria-cross`: as `aria`, with aria-tpc's two tasks on cores 0 and 1, so every
//!   notification wakes the other core's thread (elsewhere, the same as `aria`);
//! - on `std`: two OS threads ping-pong through two `std::sync::mpsc` channels, the machine's
//!   cost of waking a sleeping thread, which bounds every cross-thread row.

use std::io;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use event_listener::Event;

use super::{secs, spawn_pair, variant, Metrics, Params, Placement, Task};
use crate::runtimes::Runtime;

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

/// Two tasks that ping-pong `$n` round trips through two notifications made by `$new`:
/// the first task `$notify`s ping and `$wait`s for pong, the second the other way round.
/// The same body for every notification type; only the type and its method names differ.
macro_rules! ping_pong {
    ($n:expr, $new:expr, $notify:ident, $wait:ident) => {{
        let n: u64 = $n;
        let (ping, pong) = (Arc::new($new), Arc::new($new));
        let (ping2, pong2) = (ping.clone(), pong.clone());
        let a: Task<()> = Box::pin(async move {
            for _ in 0..n {
                ping.$notify();
                pong.$wait().await;
            }
        });
        let b: Task<()> = Box::pin(async move {
            for _ in 0..n {
                ping2.$wait().await;
                pong2.$notify();
            }
        });
        (a, b)
    }};
}

/// Runs the scenario.
///
/// # Errors
/// An unknown variant or a runtime without it.
pub fn run(rt: Runtime, p: &Params) -> io::Result<Metrics> {
    let n = p.size;
    if rt == Runtime::Std {
        return Ok(rate(n, threads(n)?));
    }
    let variant = variant(p, "portable");
    let (a, b) = match variant {
        "portable" => ping_pong!(n, Flag::default(), notify, wait),
        "aria" | "aria-cross" => ping_pong!(n, aria_io::sync::Notify::new(), notify_one, notified),
        "native" if matches!(rt, Runtime::Tokio | Runtime::TokioCt) => {
            ping_pong!(n, tokio::sync::Notify::new(), notify_one, notified)
        }
        v => return Err(io::Error::new(io::ErrorKind::InvalidInput, format!("yield variant `{v}` on {rt}"))),
    };
    let placement = if variant == "aria-cross" { Placement::CrossCore } else { Placement::SameCore };
    let (wall, ()) = spawn_pair(rt, "yield", a, b, placement)?;
    Ok(rate(n, wall))
}

fn rate(n: u64, wall: Duration) -> Metrics {
    vec![("ns_per_round_trip", secs(wall) * 1e9 / n as f64), ("round_trips_per_s", n as f64 / secs(wall))]
}

/// Two threads, `n` round trips through two channels.
fn threads(n: u64) -> io::Result<Duration> {
    let (ping, ping_rx) = std::sync::mpsc::channel::<u64>();
    let (pong, pong_rx) = std::sync::mpsc::channel::<u64>();
    let echo = std::thread::spawn(move || {
        while let Ok(v) = ping_rx.recv() {
            if pong.send(v).is_err() {
                break;
            }
        }
    });
    let t0 = std::time::Instant::now();
    for i in 0..n {
        ping.send(i).map_err(|_| io::Error::other("the echo thread stopped"))?;
        pong_rx.recv().map_err(|_| io::Error::other("the echo thread stopped"))?;
    }
    let wall = t0.elapsed();
    drop(ping);
    echo.join().map_err(|_| io::Error::other("the echo thread panicked"))?;
    Ok(wall)
}
