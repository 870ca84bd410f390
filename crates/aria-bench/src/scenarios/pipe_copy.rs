//! `pipe-copy`: a child (`bench-writer emit 1 N`) writes N bytes to its stdout pipe; the
//! parent copies them with the runtime's copy function, into a file (variant `file`, the
//! default) or into the stdin of a second child (`bench-writer sink 0`, variant `pipe`).
//! Reports GiB/s (and MiB/s).
//!
//! - aria: `aria_io::io::copy` from the child's stdout into an `aria_io::fs::File` (splice
//!   as a driver operation) or into the sink's stdin (splice between the two pipes).
//! - tokio: `tokio::io::copy` into a `tokio::fs::File` (writes go to the blocking pool) or
//!   into the sink's `ChildStdin`.
//! - async-process: `futures_lite::io::copy` into an `async_fs::File` (smol's blocking pool)
//!   or into the sink's stdin.
//! - std: `std::io::copy` from `ChildStdout` into a `std::fs::File` or a `ChildStdin`, which
//!   uses splice(2) with the pipes' default 64 KiB buffers.
//! - the practical limit (runtime `std`, variants `file-limit` and `pipe-limit`): a plain
//!   blocking splice(2) loop of 1 MiB chunks, the pipes grown to 1 MiB with `F_SETPIPE_SZ`.
//!
//! The file goes in `--dir` (default `/dev/shm` when it exists, so the disk is not measured)
//! and is removed afterwards.

use std::fs::File;
use std::io;
use std::os::fd::{AsRawFd, RawFd};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use super::{check_status, mib, secs, variant, Metrics, Params};
use crate::runtimes::{self, aria_rt, echo_only, script_only, unsupported, writer_path, Runtime};

/// Where the bytes go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Into {
    File,
    Pipe,
}

/// Runs the scenario.
///
/// # Errors
/// A spawn, read or write error, a failed child, a short copy, or an unknown variant.
pub fn run(rt: Runtime, p: &Params) -> io::Result<Metrics> {
    let (into, limit) = match variant(p, "file") {
        "file" => (Into::File, false),
        "pipe" => (Into::Pipe, false),
        "file-limit" => (Into::File, true),
        "pipe-limit" => (Into::Pipe, true),
        v => return Err(io::Error::new(io::ErrorKind::InvalidInput, format!("pipe-copy variant `{v}`"))),
    };
    let writer = writer_path()?;
    let path = p.dir.join(format!("aria-bench-pipe-copy-{}", std::process::id()));
    let _cleanup = RemoveOnDrop(path.clone());
    let job = Job { writer: &writer, size: p.size, into, path: &path };
    let (wall, copied, delivered) = match rt {
        Runtime::Std if limit => splice_loop(&job)?,
        _ if limit => return Err(unsupported("pipe-copy (limit)", rt)),
        aria_rt!() => runtimes::aria(rt, aria(&job))??,
        Runtime::Tokio | Runtime::TokioCt => runtimes::tokio(runtimes::tokio_flavor(rt), tokio(&job))??,
        Runtime::AsyncProcess => runtimes::smol(smol(&job))?,
        Runtime::Std => std(&job)?,
        Runtime::Bash | echo_only!() | script_only!() => return Err(unsupported("pipe-copy", rt)),
    };
    let delivered = match into {
        Into::File => std::fs::metadata(&path)?.len(),
        Into::Pipe => delivered,
    };
    if copied != p.size || delivered != p.size {
        return Err(io::Error::other(format!(
            "copied {copied} bytes, {delivered} arrived, expected {}",
            p.size
        )));
    }
    Ok(vec![
        ("gib_per_s", mib(p.size) / 1024.0 / secs(wall)),
        ("mib_per_s", mib(p.size) / secs(wall)),
        ("wall_s", secs(wall)),
    ])
}

/// One measurement's parameters.
struct Job<'a> {
    writer: &'a Path,
    size: u64,
    into: Into,
    path: &'a Path,
}

impl Job<'_> {
    fn emit_args(&self) -> [String; 3] {
        ["emit".into(), "1".into(), self.size.to_string()]
    }
}

const SINK: [&str; 2] = ["sink", "0"];

/// The count `bench-writer sink` printed.
fn sink_count(out: &[u8]) -> io::Result<u64> {
    let s = String::from_utf8_lossy(out);
    s.trim().parse().map_err(|_| io::Error::other(format!("sink printed `{}`", s.trim())))
}

struct RemoveOnDrop(PathBuf);

impl Drop for RemoveOnDrop {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// Returns (wall time, bytes the copy reported, bytes the sink counted).
async fn aria(job: &Job<'_>) -> io::Result<(Duration, u64, u64)> {
    use aria_io::process::{Command, Stdio};
    let t0 = Instant::now();
    let mut child = Command::new(job.writer).args(job.emit_args()).stdout(Stdio::piped()).spawn()?;
    let mut out = child.stdout.take().ok_or_else(|| io::Error::other("no stdout"))?;
    let (n, delivered) = match job.into {
        Into::File => {
            let mut file = aria_io::fs::File::create(job.path).await?;
            (aria_io::io::copy(&mut out, &mut file).await?, 0)
        }
        Into::Pipe => {
            let mut sink =
                Command::new(job.writer).args(SINK).stdin(Stdio::piped()).stdout(Stdio::piped()).spawn()?;
            let mut stdin = sink.stdin.take().ok_or_else(|| io::Error::other("no stdin"))?;
            let n = aria_io::io::copy(&mut out, &mut stdin).await?;
            drop(stdin);
            let res = sink.wait_with_output().await?;
            check_status(res.status.success(), "bench-writer sink", &res.status)?;
            (n, sink_count(&res.stdout)?)
        }
    };
    let st = child.wait().await?;
    check_status(st.success(), "bench-writer", &st)?;
    Ok((t0.elapsed(), n, delivered))
}

async fn tokio(job: &Job<'_>) -> io::Result<(Duration, u64, u64)> {
    use tokio::io::AsyncWriteExt;
    let t0 = Instant::now();
    let mut child =
        tokio::process::Command::new(job.writer).args(job.emit_args()).stdout(Stdio::piped()).spawn()?;
    let mut out = child.stdout.take().ok_or_else(|| io::Error::other("no stdout"))?;
    let (n, delivered) = match job.into {
        Into::File => {
            let mut file = tokio::fs::File::create(job.path).await?;
            let n = tokio::io::copy(&mut out, &mut file).await?;
            file.flush().await?;
            (n, 0)
        }
        Into::Pipe => {
            let mut sink = tokio::process::Command::new(job.writer)
                .args(SINK)
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .spawn()?;
            let mut stdin = sink.stdin.take().ok_or_else(|| io::Error::other("no stdin"))?;
            let n = tokio::io::copy(&mut out, &mut stdin).await?;
            drop(stdin);
            let res = sink.wait_with_output().await?;
            check_status(res.status.success(), "bench-writer sink", &res.status)?;
            (n, sink_count(&res.stdout)?)
        }
    };
    let st = child.wait().await?;
    check_status(st.success(), "bench-writer", &st)?;
    Ok((t0.elapsed(), n, delivered))
}

async fn smol(job: &Job<'_>) -> io::Result<(Duration, u64, u64)> {
    use futures_lite::AsyncWriteExt;
    let t0 = Instant::now();
    let mut child =
        async_process::Command::new(job.writer).args(job.emit_args()).stdout(Stdio::piped()).spawn()?;
    let out = child.stdout.take().ok_or_else(|| io::Error::other("no stdout"))?;
    let (n, delivered) = match job.into {
        Into::File => {
            let mut file = async_fs::File::create(job.path).await?;
            let n = futures_lite::io::copy(out, &mut file).await?;
            file.flush().await?;
            (n, 0)
        }
        Into::Pipe => {
            let mut sink = async_process::Command::new(job.writer)
                .args(SINK)
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .spawn()?;
            let stdin = sink.stdin.take().ok_or_else(|| io::Error::other("no stdin"))?;
            let n = futures_lite::io::copy(out, stdin).await?;
            let res = sink.output().await?;
            check_status(res.status.success(), "bench-writer sink", &res.status)?;
            (n, sink_count(&res.stdout)?)
        }
    };
    let st = child.status().await?;
    check_status(st.success(), "bench-writer", &st)?;
    Ok((t0.elapsed(), n, delivered))
}

/// The writer child (std), and its stdout.
fn std_writer(job: &Job<'_>) -> io::Result<(std::process::Child, std::process::ChildStdout)> {
    let mut child =
        std::process::Command::new(job.writer).args(job.emit_args()).stdout(Stdio::piped()).spawn()?;
    let out = child.stdout.take().ok_or_else(|| io::Error::other("no stdout"))?;
    Ok((child, out))
}

/// The sink child (std), and its stdin.
fn std_sink(job: &Job<'_>) -> io::Result<(std::process::Child, std::process::ChildStdin)> {
    let mut sink = std::process::Command::new(job.writer)
        .args(SINK)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()?;
    let stdin = sink.stdin.take().ok_or_else(|| io::Error::other("no stdin"))?;
    Ok((sink, stdin))
}

/// Closes the sink's stdin and returns the count it printed.
fn finish_std_sink(sink: std::process::Child, stdin: std::process::ChildStdin) -> io::Result<u64> {
    drop(stdin);
    let res = sink.wait_with_output()?;
    check_status(res.status.success(), "bench-writer sink", &res.status)?;
    sink_count(&res.stdout)
}

/// Waits for the writer child and checks that it succeeded.
fn finish_std_writer(mut child: std::process::Child) -> io::Result<()> {
    let st = child.wait()?;
    check_status(st.success(), "bench-writer", &st)
}

fn std(job: &Job<'_>) -> io::Result<(Duration, u64, u64)> {
    let t0 = Instant::now();
    let (child, mut out) = std_writer(job)?;
    let (n, delivered) = match job.into {
        Into::File => (io::copy(&mut out, &mut File::create(job.path)?)?, 0),
        Into::Pipe => {
            let (sink, mut stdin) = std_sink(job)?;
            let n = io::copy(&mut out, &mut stdin)?;
            (n, finish_std_sink(sink, stdin)?)
        }
    };
    finish_std_writer(child)?;
    Ok((t0.elapsed(), n, delivered))
}

/// The practical limit: blocking splice(2) of 1 MiB chunks between 1 MiB pipes, nothing else.
fn splice_loop(job: &Job<'_>) -> io::Result<(Duration, u64, u64)> {
    const CHUNK: usize = 1 << 20;
    let t0 = Instant::now();
    let (child, out) = std_writer(job)?;
    set_pipe_size(out.as_raw_fd(), CHUNK)?;
    let mut sink = None;
    let file;
    let dst = match job.into {
        Into::File => {
            file = File::create(job.path)?;
            file.as_raw_fd()
        }
        Into::Pipe => {
            let (s, stdin) = std_sink(job)?;
            set_pipe_size(stdin.as_raw_fd(), CHUNK)?;
            let fd = stdin.as_raw_fd();
            sink = Some((s, stdin));
            fd
        }
    };
    let mut n = 0u64;
    loop {
        // SAFETY: plain descriptors; NULL offsets use (and advance) the file position.
        let got = unsafe {
            libc::splice(
                out.as_raw_fd(),
                std::ptr::null_mut(),
                dst,
                std::ptr::null_mut(),
                CHUNK,
                libc::SPLICE_F_MOVE,
            )
        };
        match got {
            0 => break,
            n_ if n_ > 0 => n += n_ as u64,
            _ => {
                let e = io::Error::last_os_error();
                if e.kind() != io::ErrorKind::Interrupted {
                    return Err(e);
                }
            }
        }
    }
    let delivered = match sink {
        Some((s, stdin)) => finish_std_sink(s, stdin)?,
        None => 0,
    };
    finish_std_writer(child)?;
    Ok((t0.elapsed(), n, delivered))
}

fn set_pipe_size(fd: RawFd, bytes: usize) -> io::Result<()> {
    // SAFETY: F_SETPIPE_SZ takes an int; `fd` is an open pipe.
    if unsafe { libc::fcntl(fd, libc::F_SETPIPE_SZ, bytes as libc::c_int) } < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}
