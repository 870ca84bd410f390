//! [`copy_bidirectional`]: relaying two streams at once, and [`Duplex`], a reader and a writer
//! seen as one object.

use std::any::Any;
use std::future::{poll_fn, Future};
use std::io;
use std::pin::{pin, Pin};
use std::task::{Context, Poll};

use futures_io::{AsyncRead, AsyncWrite};

use super::{copy, PipeReader, PipeWriter};

/// Size of each direction's buffer on the buffered path.
const BUF: usize = 64 * 1024;

/// A reader and a writer as one object that is both [`AsyncRead`] and [`AsyncWrite`]: reads
/// go to the reader, writes to the writer, and closing closes the writer only. The usual
/// case is a process's two ends, its stdout and its stdin, for
/// [`copy_bidirectional`].
///
/// ```no_run
/// # async fn demo() -> std::io::Result<()> {
/// use aria_io::io::{copy_bidirectional, Duplex};
/// use aria_io::process::{Command, Stdio};
/// let mut a = Command::new("server").stdin(Stdio::piped()).stdout(Stdio::piped()).spawn()?;
/// let mut b = Command::new("client").stdin(Stdio::piped()).stdout(Stdio::piped()).spawn()?;
/// let mut a_ends = Duplex::new(a.stdout.take().unwrap(), a.stdin.take().unwrap());
/// let mut b_ends = Duplex::new(b.stdout.take().unwrap(), b.stdin.take().unwrap());
/// let (a_to_b, b_to_a) = copy_bidirectional(&mut a_ends, &mut b_ends).await?;
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct Duplex<R, W> {
    reader: R,
    writer: W,
}

impl<R, W> Duplex<R, W> {
    /// Pairs `reader` and `writer`.
    pub fn new(reader: R, writer: W) -> Duplex<R, W> {
        Duplex { reader, writer }
    }

    /// The reader.
    pub fn reader(&mut self) -> &mut R {
        &mut self.reader
    }

    /// The writer.
    pub fn writer(&mut self) -> &mut W {
        &mut self.writer
    }

    /// The reader and the writer.
    pub fn into_parts(self) -> (R, W) {
        (self.reader, self.writer)
    }
}

impl<R: AsyncRead + Unpin, W: Unpin> AsyncRead for Duplex<R, W> {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().reader).poll_read(cx, buf)
    }
}

impl<R: Unpin, W: AsyncWrite + Unpin> AsyncWrite for Duplex<R, W> {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().writer).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().writer).poll_flush(cx)
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().writer).poll_close(cx)
    }
}

/// Copies `a` to `b` and `b` to `a` at the same time, until both directions reached end of
/// file; returns the bytes copied `(a to b, b to a)`. When one direction reaches end of file,
/// its writer is flushed and closed ([`poll_close`](AsyncWrite::poll_close): a
/// [`PipeWriter`] closes its descriptor, so the process reading it sees end of file) while
/// the other direction goes on.
///
/// Two `Duplex<PipeReader, PipeWriter>` are relayed with splice(2), each direction as
/// [`copy`] does it; any other pair through one 64 KiB buffer per direction.
///
/// # Errors
/// The first read, write or close error in either direction, which ends both (`BrokenPipe`
/// when a reader has gone, `WriteZero` when a writer accepts nothing).
///
/// # Cancel safety
/// Dropping the future stops both directions; bytes read into a buffer and not yet written
/// are lost.
///
/// # Platform
/// splice(2) is Linux-only; elsewhere both directions would take the buffered path.
///
/// # References
/// splice(2); tokio's `copy_bidirectional`, whose contract this follows.
pub async fn copy_bidirectional<A, B>(a: &mut A, b: &mut B) -> io::Result<(u64, u64)>
where
    A: AsyncRead + AsyncWrite + Unpin + Any,
    B: AsyncRead + AsyncWrite + Unpin + Any,
{
    {
        let (any_a, any_b): (&mut dyn Any, &mut dyn Any) = (&mut *a, &mut *b);
        if let (Some(a), Some(b)) = (
            any_a.downcast_mut::<Duplex<PipeReader, PipeWriter>>(),
            any_b.downcast_mut::<Duplex<PipeReader, PipeWriter>>(),
        ) {
            let one = direction(&mut a.reader, &mut b.writer);
            let two = direction(&mut b.reader, &mut a.writer);
            return join(one, two).await;
        }
    }
    let (mut a_to_b, mut b_to_a) = (Transfer::new(), Transfer::new());
    poll_fn(|cx| {
        let one = a_to_b.poll(cx, &mut *a, &mut *b)?;
        let two = b_to_a.poll(cx, &mut *b, &mut *a)?;
        match (one, two) {
            (Poll::Ready(x), Poll::Ready(y)) => Poll::Ready(Ok((x, y))),
            _ => Poll::Pending,
        }
    })
    .await
}

/// One direction of the splice path: [`copy`], then close the writer.
async fn direction<R, W>(reader: &mut R, writer: &mut W) -> io::Result<u64>
where
    R: AsyncRead + Unpin + Any,
    W: AsyncWrite + Unpin + Any,
{
    let n = copy(reader, writer).await?;
    poll_fn(|cx| Pin::new(&mut *writer).poll_close(cx)).await?;
    Ok(n)
}

/// Runs both futures to completion, or until one fails.
async fn join(
    one: impl Future<Output = io::Result<u64>>,
    two: impl Future<Output = io::Result<u64>>,
) -> io::Result<(u64, u64)> {
    let (mut one, mut two) = (pin!(one), pin!(two));
    let (mut x, mut y) = (None, None);
    poll_fn(|cx| {
        if x.is_none() {
            if let Poll::Ready(n) = one.as_mut().poll(cx) {
                x = Some(n?);
            }
        }
        if y.is_none() {
            if let Poll::Ready(n) = two.as_mut().poll(cx) {
                y = Some(n?);
            }
        }
        match (x, y) {
            (Some(x), Some(y)) => Poll::Ready(Ok((x, y))),
            _ => Poll::Pending,
        }
    })
    .await
}

/// One direction of the buffered path: a buffer holding `buf[pos..end]` not yet written.
struct Transfer {
    buf: Box<[u8]>,
    pos: usize,
    end: usize,
    total: u64,
    read_done: bool,
    /// Bytes were written since the last flush.
    need_flush: bool,
    closed: bool,
}

impl Transfer {
    fn new() -> Transfer {
        Transfer {
            buf: vec![0; BUF].into_boxed_slice(),
            pos: 0,
            end: 0,
            total: 0,
            read_done: false,
            need_flush: false,
            closed: false,
        }
    }

    /// Moves what it can; `Ready(total)` once the reader reached end of file and the writer
    /// was flushed and closed.
    fn poll<R, W>(&mut self, cx: &mut Context<'_>, reader: &mut R, writer: &mut W) -> Poll<io::Result<u64>>
    where
        R: AsyncRead + Unpin + ?Sized,
        W: AsyncWrite + Unpin + ?Sized,
    {
        if self.closed {
            return Poll::Ready(Ok(self.total));
        }
        loop {
            if self.pos == self.end && !self.read_done {
                match Pin::new(&mut *reader).poll_read(cx, &mut self.buf) {
                    Poll::Ready(Ok(0)) => self.read_done = true,
                    Poll::Ready(Ok(n)) => (self.pos, self.end) = (0, n),
                    Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                    Poll::Pending => {
                        // Nothing to write until the reader has more: push out what a
                        // buffering writer holds, so the other side is not kept waiting.
                        if self.need_flush {
                            std::task::ready!(Pin::new(&mut *writer).poll_flush(cx))?;
                            self.need_flush = false;
                        }
                        return Poll::Pending;
                    }
                }
            }
            while self.pos < self.end {
                let n =
                    std::task::ready!(Pin::new(&mut *writer).poll_write(cx, &self.buf[self.pos..self.end]))?;
                if n == 0 {
                    return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
                }
                self.pos += n;
                self.total += n as u64;
                self.need_flush = true;
            }
            if self.read_done {
                std::task::ready!(Pin::new(&mut *writer).poll_flush(cx))?;
                std::task::ready!(Pin::new(&mut *writer).poll_close(cx))?;
                self.closed = true;
                return Poll::Ready(Ok(self.total));
            }
        }
    }
}
