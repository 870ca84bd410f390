use std::future::poll_fn;
use std::io;
use std::pin::Pin;

use futures_io::{AsyncRead, AsyncWrite};

/// Size of the buffer [`copy`] moves data through.
const BUF: usize = 64 * 1024;

/// Copies everything `reader` produces into `writer` until end of file, then flushes
/// `writer`; returns the number of bytes copied.
///
/// This is the portable path: a 64 KiB buffer, read then write. Pipes on Linux will move data
/// with splice(2) instead, without crossing into user space.
///
/// # Errors
/// The first read or write error (`BrokenPipe` when the reader of a pipe `writer` has gone),
/// or `WriteZero` if `writer` accepts no bytes. Bytes copied before the error are lost to the
/// count but were delivered.
pub async fn copy<R, W>(reader: &mut R, writer: &mut W) -> io::Result<u64>
where
    R: AsyncRead + Unpin + ?Sized,
    W: AsyncWrite + Unpin + ?Sized,
{
    let mut buf = vec![0u8; BUF];
    let mut total = 0u64;
    loop {
        let n = poll_fn(|cx| Pin::new(&mut *reader).poll_read(cx, &mut buf)).await?;
        if n == 0 {
            break;
        }
        let mut done = 0;
        while done < n {
            let w = poll_fn(|cx| Pin::new(&mut *writer).poll_write(cx, &buf[done..n])).await?;
            if w == 0 {
                return Err(io::ErrorKind::WriteZero.into());
            }
            done += w;
        }
        total += n as u64;
    }
    poll_fn(|cx| Pin::new(&mut *writer).poll_flush(cx)).await?;
    Ok(total)
}
