//! `output`: a child (`bench-writer interleave`) alternately writes 64 KiB chunks to stdout
//! and stderr, N bytes to each; the parent collects both with the runtime's `output()`.
//! Reports MiB/s over both streams and the parent's peak RSS (VmHWM), also as a multiple of
//! the bytes collected.

use std::io;
use std::time::{Duration, Instant};

use super::{check_status, mib, secs, Metrics, Params};
use crate::measure::peak_rss;
use crate::runtimes::{self, aria_rt, echo_only, script_only, unsupported, writer_path, Runtime};

/// Bytes per write, alternating between the two streams.
pub const CHUNK: u64 = 64 * 1024;

/// Runs the scenario.
///
/// # Errors
/// A spawn or read error, a failed child, or fewer bytes than written.
pub fn run(rt: Runtime, p: &Params) -> io::Result<Metrics> {
    let writer = writer_path()?;
    let args = ["interleave".to_string(), p.size.to_string(), CHUNK.to_string()];
    let (wall, out, err) = match rt {
        aria_rt!() => runtimes::aria(rt, async {
            let t0 = Instant::now();
            let o = aria_io::process::Command::new(&writer).args(&args).output().await?;
            check_status(o.status.success(), "bench-writer", &o.status)?;
            Ok::<_, io::Error>((t0.elapsed(), o.stdout.len(), o.stderr.len()))
        })??,
        Runtime::Tokio | Runtime::TokioCt => runtimes::tokio(runtimes::tokio_flavor(rt), async {
            let t0 = Instant::now();
            let o = tokio::process::Command::new(&writer).args(&args).output().await?;
            check_status(o.status.success(), "bench-writer", &o.status)?;
            Ok::<_, io::Error>((t0.elapsed(), o.stdout.len(), o.stderr.len()))
        })??,
        Runtime::AsyncProcess => runtimes::smol(async {
            let t0 = Instant::now();
            let o = async_process::Command::new(&writer).args(&args).output().await?;
            check_status(o.status.success(), "bench-writer", &o.status)?;
            Ok::<_, io::Error>((t0.elapsed(), o.stdout.len(), o.stderr.len()))
        })?,
        Runtime::Std => {
            let t0 = Instant::now();
            let o = std::process::Command::new(&writer).args(&args).output()?;
            check_status(o.status.success(), "bench-writer", &o.status)?;
            (t0.elapsed(), o.stdout.len(), o.stderr.len())
        }
        Runtime::Bash | echo_only!() | script_only!() => return Err(unsupported("output", rt)),
    };
    verify(p.size, out as u64, err as u64)?;
    metrics(p.size * 2, wall)
}

fn verify(want: u64, out: u64, err: u64) -> io::Result<()> {
    if out != want || err != want {
        return Err(io::Error::other(format!("collected {out} + {err} bytes, expected {want} each")));
    }
    Ok(())
}

fn metrics(total: u64, wall: Duration) -> io::Result<Metrics> {
    let rss = peak_rss()?;
    Ok(vec![
        ("mib_per_s", mib(total) / secs(wall)),
        ("peak_rss_mib", mib(rss)),
        ("rss_per_byte", rss as f64 / total as f64),
        ("wall_s", secs(wall)),
    ])
}
