//! The load generator of the echo scenario: the same program for every server, so only the
//! server differs.
//!
//! ```text
//! bench-echo-client --addr IP:PORT --conns N --size S --duration-ms D
//!                   [--warmup-ms W] [--rate R] [--cpu C]
//! ```
//!
//! Pins itself to CPU `C` with sched_setaffinity(2) (through core_affinity, before its runtime
//! starts; no `taskset` needed), opens N connections (TCP_NODELAY), and on a tokio
//! current-thread runtime (neutral to the servers under test) runs each in closed loop: send
//! a message of S bytes, read S bytes back, repeat. With `--rate R` each connection instead
//! sends on a schedule, R/N requests per second (the connections' phases spread evenly), and
//! still waits for each reply before the next send; a connection that falls behind sends at
//! once. tokio's timer has a 1 ms granularity, so paced sends leave in bursts of a
//! millisecond's worth.
//!
//! A connection still waiting for a reply 3 s after the window fails the run (exit status 2,
//! with the counts on stderr), so a server that stops answering cannot hang the suite.
//!
//! The window starts after the warm-up (default 10 % of the duration, at most 1 s) and lasts
//! the duration; only requests sent and answered inside it count. At its start the client
//! prints `start`, at its end `stop` (so the server can read its own CPU time over the
//! window), then one JSON line: `requests`, `seconds`, `requests_per_s`, `p50_us`,
//! `p99_us`, `max_us`, `client_cpu_pct` (its own CPU over the window, % of one core: near 100
//! means the client, not the server, limits the rate). Latency is per request, from the send to the last byte of the reply,
//! kept in a log-linear histogram (64 sub-buckets per power of two: under 1.6 % error,
//! 32 KiB whatever the run's length).
// The suite runs on Linux only (see Cargo.toml): elsewhere this binary is empty.
#![cfg_attr(not(target_os = "linux"), no_main)]
#![cfg(target_os = "linux")]

use std::cell::RefCell;
use std::io::{self, Write};
use std::net::SocketAddr;
use std::process::ExitCode;
use std::rc::Rc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::time::Instant;

/// How long after the window every connection must have had its last reply.
const GRACE: Duration = Duration::from_secs(3);

/// 64 sub-buckets for each power of two of nanoseconds.
const SUB_BITS: u32 = 6;

/// A log-linear histogram of durations in nanoseconds.
struct Histogram {
    counts: Vec<u64>,
    max: u64,
}

impl Histogram {
    fn new() -> Histogram {
        Histogram { counts: vec![0; (64 << SUB_BITS) as usize], max: 0 }
    }

    fn index(ns: u64) -> usize {
        let ns = ns.max(1);
        let msb = 63 - ns.leading_zeros();
        if msb < SUB_BITS {
            return ns as usize;
        }
        let sub = (ns >> (msb - SUB_BITS)) & ((1 << SUB_BITS) - 1);
        (((msb - SUB_BITS + 1) << SUB_BITS) as u64 + sub) as usize
    }

    /// The smallest value of bucket `i` (its upper bound is under 1/64 above it).
    fn value(i: usize) -> u64 {
        let (block, sub) = ((i >> SUB_BITS) as u32, (i & ((1 << SUB_BITS) - 1)) as u64);
        if block == 0 {
            return sub;
        }
        let msb = block + SUB_BITS - 1;
        (1u64 << msb) | (sub << (msb - SUB_BITS))
    }

    fn record(&mut self, ns: u64) {
        self.counts[Self::index(ns)] += 1;
        self.max = self.max.max(ns);
    }

    fn total(&self) -> u64 {
        self.counts.iter().sum()
    }

    /// The `q` quantile (nearest rank), in nanoseconds: the middle of its bucket.
    fn quantile(&self, q: f64) -> u64 {
        let total = self.total();
        if total == 0 {
            return 0;
        }
        let rank = ((q * total as f64).ceil() as u64).clamp(1, total);
        let mut seen = 0;
        for (i, &c) in self.counts.iter().enumerate() {
            seen += c;
            if seen >= rank {
                let (lo, hi) = (Self::value(i), Self::value(i + 1));
                return (lo + hi.saturating_sub(1)) / 2;
            }
        }
        self.max
    }
}

struct Args {
    addr: SocketAddr,
    conns: usize,
    size: usize,
    duration: Duration,
    warmup: Duration,
    rate: Option<f64>,
    cpu: Option<usize>,
}

fn bad(msg: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, msg)
}

fn parse_args(args: &[String]) -> io::Result<Args> {
    let get = |flag: &str| args.iter().position(|a| a == flag).and_then(|i| args.get(i + 1));
    let num = |flag: &str| -> io::Result<Option<f64>> {
        get(flag).map(|v| v.parse::<f64>().map_err(|_| bad(format!("{flag}: not a number: {v}")))).transpose()
    };
    let addr = get("--addr")
        .ok_or_else(|| bad("--addr is required".into()))?
        .parse()
        .map_err(|_| bad("--addr: not an address".into()))?;
    let duration = Duration::from_millis(num("--duration-ms")?.unwrap_or(1000.0) as u64);
    let warmup = match num("--warmup-ms")? {
        Some(ms) => Duration::from_millis(ms as u64),
        None => (duration / 10).min(Duration::from_secs(1)),
    };
    Ok(Args {
        addr,
        conns: num("--conns")?.unwrap_or(1.0).max(1.0) as usize,
        size: num("--size")?.unwrap_or(100.0).max(1.0) as usize,
        duration,
        warmup,
        rate: num("--rate")?.filter(|r| *r > 0.0),
        cpu: num("--cpu")?.map(|c| c as usize),
    })
}

/// Pins the calling thread (before any other starts, so the whole process) to `cpu`
/// (sched_setaffinity(2), through core_affinity).
fn pin(cpu: usize) -> io::Result<()> {
    if !core_affinity::set_for_current(core_affinity::CoreId { id: cpu }) {
        return Err(io::Error::other(format!(
            "cannot pin the load generator to CPU {cpu} (sched_setaffinity)"
        )));
    }
    Ok(())
}

/// What the connections share (one thread: `Rc<RefCell>`).
struct Shared {
    hist: Histogram,
    requests: u64,
    /// Requests sent, warm-up included.
    sent: u64,
    /// The client's CPU time over the window.
    cpu: Duration,
}

/// User plus system CPU time of this process (getrusage(RUSAGE_SELF)).
fn cpu_time() -> Duration {
    // SAFETY: rusage is plain old data; getrusage fills it.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: `ru` is valid for writes.
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut ru) };
    let tv = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
    tv(ru.ru_utime) + tv(ru.ru_stime)
}

async fn connection(
    a: Rc<Args>,
    shared: Rc<RefCell<Shared>>,
    index: usize,
    t0: Instant,
    t1: Instant,
) -> io::Result<()> {
    let mut s = tokio::net::TcpStream::connect(a.addr).await?;
    s.set_nodelay(true)?;
    let msg = vec![b'e'; a.size];
    let mut back = vec![0u8; a.size];
    // Paced sends: every `period`, this connection's phase offset from the window's start.
    let period = a.rate.map(|r| Duration::from_secs_f64(a.conns as f64 / r));
    let mut next = period.map(|p| t0 - a.warmup + p.mul_f64(index as f64 / a.conns as f64));
    loop {
        if let (Some(at), Some(p)) = (next.as_mut(), period) {
            if *at > Instant::now() {
                tokio::time::sleep_until(*at).await;
            }
            *at += p;
        }
        let sent = Instant::now();
        if sent >= t1 {
            break;
        }
        shared.borrow_mut().sent += 1;
        s.write_all(&msg).await?;
        s.read_exact(&mut back).await?;
        let done = Instant::now();
        if sent >= t0 && done <= t1 {
            let mut sh = shared.borrow_mut();
            sh.requests += 1;
            sh.hist.record((done - sent).as_nanos() as u64);
        }
    }
    Ok(())
}

fn run(args: &[String]) -> io::Result<()> {
    let a = parse_args(args)?;
    if let Some(cpu) = a.cpu {
        pin(cpu)?;
    }
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let local = tokio::task::LocalSet::new();
    let a = Rc::new(a);
    let shared =
        Rc::new(RefCell::new(Shared { hist: Histogram::new(), requests: 0, sent: 0, cpu: Duration::ZERO }));
    local.block_on(&rt, async {
        let t0 = Instant::now() + a.warmup;
        let t1 = t0 + a.duration;
        let tasks: Vec<_> = (0..a.conns)
            .map(|i| tokio::task::spawn_local(connection(a.clone(), shared.clone(), i, t0, t1)))
            .collect();
        tokio::time::sleep_until(t0).await;
        println!("start");
        io::stdout().flush()?;
        let cpu0 = cpu_time();
        tokio::time::sleep_until(t1).await;
        let cpu = cpu_time() - cpu0;
        println!("stop");
        io::stdout().flush()?;
        shared.borrow_mut().cpu = cpu;
        // A server that stops answering fails the run instead of hanging it.
        let deadline = t1 + GRACE;
        for (i, t) in tasks.into_iter().enumerate() {
            match tokio::time::timeout_at(deadline, t).await {
                Ok(res) => res.map_err(io::Error::other)??,
                Err(_) => {
                    let sh = shared.borrow();
                    return Err(io::Error::new(
                        io::ErrorKind::TimedOut,
                        format!(
                            "connection {i} got no reply within {} s after the window ({} requests \
                             answered in the window, {} sent in all)",
                            GRACE.as_secs(),
                            sh.requests,
                            sh.sent
                        ),
                    ));
                }
            }
        }
        Ok::<_, io::Error>(())
    })?;
    let sh = shared.borrow();
    let secs = a.duration.as_secs_f64();
    let us = |ns: u64| ns as f64 / 1e3;
    let line = serde_json::json!({
        "requests": sh.requests,
        "seconds": secs,
        "requests_per_s": sh.requests as f64 / secs,
        "p50_us": us(sh.hist.quantile(0.5)),
        "p99_us": us(sh.hist.quantile(0.99)),
        "max_us": us(sh.hist.max),
        "client_cpu_pct": sh.cpu.as_secs_f64() / secs * 100.0,
    });
    println!("{line}");
    Ok(())
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("bench-echo-client: {e}");
            ExitCode::from(2)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Histogram;

    #[test]
    fn histogram_buckets_are_within_two_percent() {
        for v in [1u64, 63, 64, 65, 1000, 12_345, 999_999, 123_456_789] {
            let i = Histogram::index(v);
            let (lo, hi) = (Histogram::value(i), Histogram::value(i + 1));
            assert!(lo <= v && v < hi, "{v}: [{lo}, {hi})");
            assert!((hi - lo) as f64 <= (v as f64 / 64.0).max(1.0), "{v}: [{lo}, {hi})");
        }
        let mut h = Histogram::new();
        (1..=100).for_each(|us| h.record(us * 1000));
        let p50 = h.quantile(0.5) as f64;
        assert!((p50 - 50_000.0).abs() < 50_000.0 / 50.0, "{p50}");
    }
}
