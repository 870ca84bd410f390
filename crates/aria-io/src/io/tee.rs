//! Tee: one pipe's stream relayed to another pipe and, the same bytes, to a file, with tee(2)
//! and splice(2), never through user space. A pipeline's `tee` stage runs on it.

use std::io;
use std::os::fd::AsFd;

use super::copy::{pipe_step, Side};
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
pub(crate) async fn tee_into_file(src: &PipeReader, dst: &PipeWriter, file: &mut File) -> io::Result<u64> {
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
            Ok(0) => return Ok(total),
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::BrokenPipe => return Ok(total),
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
