//! Tee: one pipe's stream relayed to another pipe and, the same bytes, to a file, with tee(2)
//! and splice(2), never through user space. A pipeline's `tee` stage runs on it.

use std::io;
use std::os::fd::AsFd;

use super::copy::{pipe_step, unsupported, Side};
use super::splice::{SpliceFd, SpliceOp, CHUNK};
use super::{PipeReader, PipeWriter};
use crate::driver::op::Op;
use crate::fs::{with_path, File};
use crate::sys;

/// Relays everything `src` produces to `dst` and to `file` (at its position) until end of
/// input; returns the number of bytes relayed. Each round duplicates what both pipes allow
/// into `dst` with tee(2), then moves exactly those bytes from `src` into `file` with
/// splice(2) (an operation of the driver, as in [`copy`](super::copy)), so both receive the
/// same stream and `src` drains at the pace of the slower of the two.
///
/// When the reader of `dst` has gone (`EPIPE`), the relay ends successfully with what it
/// relayed: `src` is then dropped by the caller, and its writer meets `EPIPE` too, as it
/// would writing into `dst` directly.
///
/// # Errors
/// A read error on `src`, or an error writing `file`, naming its path.
pub(crate) async fn tee_into_file(
    src: &mut PipeReader,
    dst: &mut PipeWriter,
    file: &mut File,
) -> io::Result<u64> {
    match tee_spliced(src, dst, file).await? {
        Some(total) => Ok(total),
        // tee(2) refused before anything moved (not Linux: see `sys::tee`): through a buffer.
        None => tee_buffered(src, dst, file).await,
    }
}

/// The portable path of [`tee_into_file`]: read into a buffer, write it to `dst`, then to
/// `file`. `dst`'s reader going away ends the relay as on the tee(2) path.
async fn tee_buffered(src: &mut PipeReader, dst: &mut PipeWriter, file: &mut File) -> io::Result<u64> {
    let mut total = 0u64;
    let mut buf = Vec::with_capacity(64 * 1024);
    loop {
        buf.clear();
        let (res, back) = src.read_owned(buf).await;
        buf = back;
        match res {
            Ok(0) => return Ok(total),
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
        match dst.write_all(&buf).await {
            Err(e) if e.kind() == io::ErrorKind::BrokenPipe => return Ok(total),
            res => res?,
        }
        let (res, back) = file.write_all_owned(buf).await;
        buf = back;
        res.map_err(|e| with_path(e, "tee into", file.path()))?;
        total += buf.len() as u64;
    }
}

/// The tee(2) path of [`tee_into_file`]; `Ok(None)` if the kernel refuses tee(2) before
/// anything moved (not Linux).
async fn tee_spliced(src: &PipeReader, dst: &PipeWriter, file: &mut File) -> io::Result<Option<u64>> {
    let src = src.io_source();
    let Some(dst) = dst.io_source() else {
        return Err(io::Error::new(io::ErrorKind::NotConnected, "the tee's pipe writer is closed"));
    };
    let _ = sys::set_pipe_size(src.as_fd(), CHUNK);
    let _ = sys::set_pipe_size(dst.as_fd(), CHUNK);
    let mut total = 0u64;
    let mut waiting = Side::Src;
    loop {
        let n = match pipe_step(src, dst, &mut waiting, sys::tee).await {
            Ok(0) => return Ok(Some(total)),
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::BrokenPipe => return Ok(Some(total)),
            Err(e) if total == 0 && unsupported(&e) => return Ok(None),
            Err(e) => return Err(e),
        };
        // The `n` bytes are in `src`: this never waits for the pipe.
        let mut left = n;
        while left > 0 {
            let to = SpliceFd::File(file.settled_ref().await?);
            let op = SpliceOp { src: SpliceFd::Pipe(src.clone()), dst: to, len: left };
            match Op::new(op).await.0 {
                Ok(0) => {
                    let e = io::Error::new(io::ErrorKind::WriteZero, "the file accepted no more bytes");
                    return Err(with_path(e, "tee into", file.path()));
                }
                Ok(m) => left -= m,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(with_path(e, "tee into", file.path())),
            }
        }
        total += n as u64;
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    /// The buffered path (what systems without tee(2) take) relays the whole stream to both.
    #[test]
    fn the_buffered_tee_relays_everything_to_the_pipe_and_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("tee.out");
        let data: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8).collect();
        let rt = crate::Runtime::new().unwrap();
        let (relayed, to_pipe) = rt.block_on(async {
            let (mut src, mut feed) = crate::io::pipe().unwrap();
            let (mut out, mut dst) = crate::io::pipe().unwrap();
            let mut file = File::create(&path).await.unwrap();
            let input = data.clone();
            let writer = crate::spawn(async move { feed.write_all(&input).await });
            let reader = crate::spawn(async move {
                let mut got = Vec::new();
                out.read_to_end(&mut got).await.map(|_| got)
            });
            let relayed = tee_buffered(&mut src, &mut dst, &mut file).await.unwrap();
            drop(dst);
            writer.await.unwrap().unwrap();
            (relayed, reader.await.unwrap().unwrap())
        });
        assert_eq!(relayed, data.len() as u64);
        assert!(to_pipe == data, "the pipe got {} bytes, not the stream", to_pipe.len());
        assert!(std::fs::read(&path).unwrap() == data, "the file differs from the stream");
    }
}
