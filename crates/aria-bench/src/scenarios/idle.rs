//! `idle`: N children sleeping, a wait in place on each (a task per child, a thread per child
//! for `std`). Over a window (5 s by default) the parent should use no CPU: reports the
//! parent's CPU milliseconds in the window and its thread count at the end of the window
//! (the runtime's threads count: `aria-mt`'s workers, `aria-tpc`'s cores, tokio's workers).
//! The children are then killed and reaped.

use std::io;
use std::time::{Duration, Instant, SystemTime};

use super::{secs, Metrics, Params};
use crate::measure::{cpu_time, raise_nofile, thread_count};
use crate::runtimes::{self, aria_rt, echo_only, script_only, unsupported, Runtime, EXECUTOR};

const SLEEP: &str = "sleep";
/// Long enough to outlast the window; the children are killed after it.
const SLEEP_SECS: &str = "600";
/// Time for the children to start and the waits to park before the window opens.
const SETTLE: Duration = Duration::from_millis(300);

/// What the window saw.
struct Window {
    cpu: Duration,
    wall: Duration,
    threads: u64,
    /// When the window opened and closed (between the two CPU readings), for the strace
    /// probe, which counts the calls started inside it.
    start: SystemTime,
    end: SystemTime,
}

/// Runs the scenario.
///
/// # Errors
/// A spawn, wait or kill error.
pub fn run(rt: Runtime, p: &Params) -> io::Result<Metrics> {
    raise_nofile()?;
    let (n, window) = (p.size, p.window);
    let w = match rt {
        aria_rt!() => runtimes::aria(rt, aria(n, window))??,
        Runtime::Tokio | Runtime::TokioCt => runtimes::tokio(runtimes::tokio_flavor(rt), tokio(n, window))??,
        Runtime::AsyncProcess => runtimes::smol(smol(n, window))?,
        Runtime::Std => std(n, window)?,
        Runtime::Bash | echo_only!() | script_only!() => return Err(unsupported("idle", rt)),
    };
    Ok(vec![
        ("cpu_ms", secs(w.cpu) * 1e3),
        ("threads", w.threads as f64),
        ("window_s", secs(w.wall)),
        ("window_start_unix", unix(w.start)),
        ("window_end_unix", unix(w.end)),
    ])
}

fn unix(t: SystemTime) -> f64 {
    t.duration_since(SystemTime::UNIX_EPOCH).map_or(0.0, |d| d.as_secs_f64())
}

/// Kills the children by pid: none of them has been reaped (every wait is still pending),
/// so the pids cannot have been reused.
fn kill_all(pids: &[u32]) -> io::Result<()> {
    for &pid in pids {
        // SAFETY: kill takes plain integers.
        if unsafe { libc::kill(pid as libc::pid_t, libc::SIGKILL) } != 0 {
            return Err(io::Error::last_os_error());
        }
    }
    Ok(())
}

/// Marks the window's opening: (monotonic, CPU, wall clock).
fn open() -> (Instant, Duration, SystemTime) {
    let cpu = cpu_time();
    (Instant::now(), cpu, SystemTime::now())
}

fn measure(start: (Instant, Duration, SystemTime)) -> io::Result<Window> {
    let end = SystemTime::now();
    let (cpu, wall) = (cpu_time() - start.1, start.0.elapsed());
    Ok(Window { cpu, wall, threads: thread_count()?, start: start.2, end })
}

async fn aria(n: u64, window: Duration) -> io::Result<Window> {
    let mut pids = Vec::new();
    let mut waits = Vec::new();
    for _ in 0..n {
        let mut child = aria_io::process::Command::new(SLEEP).arg(SLEEP_SECS).spawn()?;
        pids.push(child.id().expect("not reaped yet"));
        waits.push(aria_io::spawn(async move { child.wait().await }));
    }
    aria_io::time::sleep(SETTLE).await;
    let start = open();
    aria_io::time::sleep(window).await;
    let w = measure(start)?;
    kill_all(&pids)?;
    for h in waits {
        h.await??;
    }
    Ok(w)
}

async fn tokio(n: u64, window: Duration) -> io::Result<Window> {
    let mut pids = Vec::new();
    let mut waits = Vec::new();
    for _ in 0..n {
        let mut child = tokio::process::Command::new(SLEEP).arg(SLEEP_SECS).spawn()?;
        pids.push(child.id().unwrap_or(0));
        waits.push(tokio::spawn(async move { child.wait().await }));
    }
    tokio::time::sleep(SETTLE).await;
    let start = open();
    tokio::time::sleep(window).await;
    let w = measure(start)?;
    kill_all(&pids)?;
    for h in waits {
        h.await??;
    }
    Ok(w)
}

async fn smol(n: u64, window: Duration) -> io::Result<Window> {
    let mut pids = Vec::new();
    let mut waits = Vec::new();
    for _ in 0..n {
        let mut child = async_process::Command::new(SLEEP).arg(SLEEP_SECS).spawn()?;
        pids.push(child.id());
        waits.push(EXECUTOR.spawn(async move { child.status().await }));
    }
    async_io::Timer::after(SETTLE).await;
    let start = open();
    async_io::Timer::after(window).await;
    let w = measure(start)?;
    kill_all(&pids)?;
    for h in waits {
        h.await?;
    }
    Ok(w)
}

fn std(n: u64, window: Duration) -> io::Result<Window> {
    let mut pids = Vec::new();
    let mut waits = Vec::new();
    for _ in 0..n {
        let mut child = std::process::Command::new(SLEEP).arg(SLEEP_SECS).spawn()?;
        pids.push(child.id());
        waits.push(std::thread::Builder::new().stack_size(64 * 1024).spawn(move || child.wait())?);
    }
    std::thread::sleep(SETTLE);
    let start = open();
    std::thread::sleep(window);
    let w = measure(start)?;
    kill_all(&pids)?;
    for h in waits {
        h.join().map_err(|_| io::Error::other("a wait thread panicked"))??;
    }
    Ok(w)
}
