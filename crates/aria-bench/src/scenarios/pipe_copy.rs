//! `pipe-copy`: a child (`bench-writer emit 1 N`) writes N bytes to its stdout pipe; the
//! parent copies them into a file with the runtime's copy function. Reports MiB/s.
//!
//! - aria: `aria_io::io::copy` from the child's stdout into the file. aria-io has no file
//!   type yet, so the file is wrapped in [`BlockingFile`], a `futures-io` writer that writes
//!   inline (a write to a regular file never waits for readiness).
//! - tokio: `tokio::io::copy` into a `tokio::fs::File` (writes go to the blocking pool).
//! - async-process: `futures_lite::io::copy` into an `async_fs::File` (smol's blocking pool).
//! - std: `std::io::copy` from `ChildStdout` into `std::fs::File` (which uses splice(2)).
//!
//! The file goes in `--dir` (default `/dev/shm` when it exists, so the disk is not measured)
//! and is removed afterwards.

use std::fs::File;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::process::Stdio;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use super::{check_status, mib, secs, Metrics, Params};
use crate::runtimes::{self, unsupported, writer_path, Runtime};

/// Runs the scenario.
///
/// # Errors
/// A spawn, read or write error, a failed child, or a short copy.
pub fn run(rt: Runtime, p: &Params) -> io::Result<Metrics> {
    let writer = writer_path()?;
    let path = p.dir.join(format!("aria-bench-pipe-copy-{}", std::process::id()));
    let _cleanup = RemoveOnDrop(path.clone());
    let args = ["emit".to_string(), "1".to_string(), p.size.to_string()];
    let (wall, copied) = match rt {
        Runtime::AriaEpoll | Runtime::AriaUring => runtimes::aria(rt, aria(&writer, &args, &path))??,
        Runtime::Tokio | Runtime::TokioCt => {
            runtimes::tokio(runtimes::tokio_flavor(rt), tokio(&writer, &args, &path))??
        }
        Runtime::AsyncProcess => runtimes::smol(smol(&writer, &args, &path))?,
        Runtime::Std => std(&writer, &args, &path)?,
        Runtime::Bash => return Err(unsupported("pipe-copy", rt)),
    };
    let on_disk = std::fs::metadata(&path)?.len();
    if copied != p.size || on_disk != p.size {
        return Err(io::Error::other(format!(
            "copied {copied} bytes, file has {on_disk}, expected {}",
            p.size
        )));
    }
    Ok(vec![("mib_per_s", mib(p.size) / secs(wall)), ("wall_s", secs(wall))])
}

struct RemoveOnDrop(PathBuf);

impl Drop for RemoveOnDrop {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// A regular file as a `futures-io` writer whose writes happen inline on the calling thread.
#[derive(Debug)]
pub struct BlockingFile(pub File);

impl futures_io::AsyncWrite for BlockingFile {
    fn poll_write(self: Pin<&mut Self>, _cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        Poll::Ready(self.get_mut().0.write(buf))
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(self.get_mut().0.flush())
    }

    fn poll_close(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

async fn aria(writer: &Path, args: &[String], path: &Path) -> io::Result<(Duration, u64)> {
    use aria_io::process::{Command, Stdio};
    let t0 = Instant::now();
    let mut file = BlockingFile(File::create(path)?);
    let mut child = Command::new(writer).args(args).stdout(Stdio::piped()).spawn()?;
    let mut out = child.stdout.take().ok_or_else(|| io::Error::other("no stdout"))?;
    let n = aria_io::io::copy(&mut out, &mut file).await?;
    let st = child.wait().await?;
    check_status(st.success(), "bench-writer", &st)?;
    Ok((t0.elapsed(), n))
}

async fn tokio(writer: &Path, args: &[String], path: &Path) -> io::Result<(Duration, u64)> {
    let t0 = Instant::now();
    let mut file = tokio::fs::File::create(path).await?;
    let mut child = tokio::process::Command::new(writer).args(args).stdout(Stdio::piped()).spawn()?;
    let mut out = child.stdout.take().ok_or_else(|| io::Error::other("no stdout"))?;
    let n = tokio::io::copy(&mut out, &mut file).await?;
    let st = child.wait().await?;
    check_status(st.success(), "bench-writer", &st)?;
    Ok((t0.elapsed(), n))
}

async fn smol(writer: &Path, args: &[String], path: &Path) -> io::Result<(Duration, u64)> {
    use futures_lite::AsyncWriteExt;
    let t0 = Instant::now();
    let mut file = async_fs::File::create(path).await?;
    let mut child = async_process::Command::new(writer).args(args).stdout(Stdio::piped()).spawn()?;
    let out = child.stdout.take().ok_or_else(|| io::Error::other("no stdout"))?;
    let n = futures_lite::io::copy(out, &mut file).await?;
    file.flush().await?;
    let st = child.status().await?;
    check_status(st.success(), "bench-writer", &st)?;
    Ok((t0.elapsed(), n))
}

fn std(writer: &Path, args: &[String], path: &Path) -> io::Result<(Duration, u64)> {
    let t0 = Instant::now();
    let mut file = File::create(path)?;
    let mut child = std::process::Command::new(writer).args(args).stdout(Stdio::piped()).spawn()?;
    let mut out = child.stdout.take().ok_or_else(|| io::Error::other("no stdout"))?;
    let n = io::copy(&mut out, &mut file)?;
    let st = child.wait()?;
    check_status(st.success(), "bench-writer", &st)?;
    Ok((t0.elapsed(), n))
}
