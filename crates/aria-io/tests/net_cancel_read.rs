//! A read dropped while in flight loses no byte (issue #11): on io_uring the kernel may have
//! received data for it before the cancellation arrived; the next reads of the stream must
//! return those bytes first, each exactly once, in order. Sockets (TCP, Unix) and pipes, with
//! every kind of read after the drop (owned-buffer, `AsyncRead`, `try_read`, `peek`).
//!
//! Deterministic: the peer writes after (or just before) each drop with a plain blocking
//! write(2) that does not go through the runtime, and the stream is read to end of file; a
//! lost byte shows as a short or reordered result, never as a timing failure.

mod support;

use std::future::{poll_fn, Future};
use std::io::{self, Write};
use std::pin::Pin;
use std::task::Poll;

use aria_io::io::PipeReader;
use aria_io::net::unix::UnixStream;
use aria_io::net::{TcpListener, TcpStream};
use futures_util::io::{AsyncRead, AsyncReadExt};
use support::run;

/// Polls `f` once from the current task, whatever it returns.
async fn poll_once<F: Future>(f: &mut Pin<Box<F>>) -> Poll<F::Output> {
    poll_fn(|cx| Poll::Ready(f.as_mut().poll(cx))).await
}

/// The stream types under test: an owned-buffer read, `AsyncRead`, and a non-waiting read.
trait Stream: AsyncRead + Unpin {
    fn read_owned(&mut self, buf: Vec<u8>) -> impl Future<Output = (io::Result<usize>, Vec<u8>)> + '_;
    fn try_read(&mut self, buf: &mut [u8]) -> io::Result<usize>;
}

impl Stream for TcpStream {
    fn read_owned(&mut self, buf: Vec<u8>) -> impl Future<Output = (io::Result<usize>, Vec<u8>)> + '_ {
        TcpStream::read_owned(self, buf)
    }
    fn try_read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        TcpStream::try_read(self, buf)
    }
}

impl Stream for UnixStream {
    fn read_owned(&mut self, buf: Vec<u8>) -> impl Future<Output = (io::Result<usize>, Vec<u8>)> + '_ {
        UnixStream::read_owned(self, buf)
    }
    fn try_read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        UnixStream::try_read(self, buf)
    }
}

impl Stream for PipeReader {
    fn read_owned(&mut self, buf: Vec<u8>) -> impl Future<Output = (io::Result<usize>, Vec<u8>)> + '_ {
        PipeReader::read_owned(self, buf)
    }
    fn try_read(&mut self, _buf: &mut [u8]) -> io::Result<usize> {
        Err(io::ErrorKind::WouldBlock.into()) // a pipe reader has no try_read
    }
}

const ROUNDS: usize = 200;

/// `ROUNDS` times: a read is submitted and dropped (unless bytes left unread by earlier
/// rounds complete it at once), the peer writes a chunk (after the drop, or before it with
/// the driver given a few turns to complete the read), and one small read of some kind
/// follows. Then the peer closes and the rest is read to end of file: every byte
/// written must come back exactly once, in order.
async fn dropped_reads_lose_nothing<S: Stream>(reader: &mut S, mut peer: impl Write) {
    let mut sent = Vec::new();
    let mut got = Vec::new();
    let mut next = 0u8;
    for round in 0..ROUNDS {
        let chunk: Vec<u8> = (0..1 + round % 97)
            .map(|_| {
                next = next.wrapping_add(1);
                next
            })
            .collect();
        {
            // Earlier rounds may have left bytes unread: then this read completes at once.
            let mut read = Box::pin(reader.read_owned(Vec::with_capacity(3 + round % 64)));
            if let Poll::Ready((n, buf)) = poll_once(&mut read).await {
                assert!(n.unwrap() > 0);
                got.extend_from_slice(&buf);
                drop(read);
                peer.write_all(&chunk).unwrap();
            } else {
                // Let the driver hand the read to the kernel.
                aria_io::yield_now().await;
                if round % 2 == 0 {
                    drop(read);
                    peer.write_all(&chunk).unwrap();
                } else {
                    peer.write_all(&chunk).unwrap();
                    // A few turns, so that the read's completion may arrive before the drop.
                    for _ in 0..3 {
                        aria_io::yield_now().await;
                    }
                    drop(read);
                }
            }
        }
        sent.extend_from_slice(&chunk);
        // One read of some kind: the first bytes it returns must be the oldest unread ones.
        let mut small = [0u8; 5];
        match round % 3 {
            0 => {
                let (n, buf) = reader.read_owned(Vec::with_capacity(5)).await;
                assert!(n.unwrap() > 0);
                got.extend_from_slice(&buf);
            }
            1 => {
                let n = reader.read(&mut small).await.unwrap();
                assert!(n > 0);
                got.extend_from_slice(&small[..n]);
            }
            _ => match reader.try_read(&mut small) {
                Ok(n) => got.extend_from_slice(&small[..n]),
                Err(e) => assert_eq!(e.kind(), io::ErrorKind::WouldBlock),
            },
        }
        assert_eq!(got, sent[..got.len()], "round {round}: bytes lost or reordered");
    }
    drop(peer);
    loop {
        let (n, buf) = reader.read_owned(Vec::with_capacity(4096)).await;
        if n.unwrap() == 0 {
            break;
        }
        got.extend_from_slice(&buf);
    }
    assert_eq!(got.len(), sent.len(), "bytes lost");
    assert_eq!(got, sent, "bytes reordered");
}

#[test]
fn a_dropped_tcp_read_loses_no_bytes() {
    run(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let peer = std::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        peer.set_nodelay(true).unwrap();
        let (mut stream, _) = listener.accept().await.unwrap();
        dropped_reads_lose_nothing(&mut stream, peer).await;
    });
}

#[test]
fn a_dropped_unix_stream_read_loses_no_bytes() {
    run(async {
        let (ours, peer) = std::os::unix::net::UnixStream::pair().unwrap();
        let mut stream = UnixStream::from_std(ours).unwrap();
        dropped_reads_lose_nothing(&mut stream, peer).await;
    });
}

#[test]
fn a_dropped_pipe_read_loses_no_bytes() {
    run(async {
        let (mut reader, writer) = aria_io::io::pipe().unwrap();
        let peer = std::fs::File::from(writer.into_owned_fd().unwrap());
        dropped_reads_lose_nothing(&mut reader, peer).await;
    });
}

/// `peek` and `read_to_end` see the bytes a dropped read received too.
#[test]
fn peek_and_read_to_end_return_what_a_dropped_read_received() {
    run(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let mut peer = std::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let (mut stream, _) = listener.accept().await.unwrap();
        for round in 0..50u8 {
            let mut read = Box::pin(stream.read_owned(Vec::with_capacity(64)));
            assert!(poll_once(&mut read).await.is_pending());
            aria_io::yield_now().await;
            peer.write_all(&[round, round]).unwrap();
            for _ in 0..3 {
                aria_io::yield_now().await;
            }
            drop(read);
            let mut buf = [0u8; 1];
            assert_eq!(stream.peek(&mut buf).await.unwrap(), 1);
            assert_eq!(buf[0], round, "peek must show the oldest unread byte");
            let mut two = [0u8; 2];
            stream.read_exact(&mut two).await.unwrap();
            assert_eq!(two, [round, round]);
        }

        let (mut reader, writer) = aria_io::io::pipe().unwrap();
        let mut peer = std::fs::File::from(writer.into_owned_fd().unwrap());
        let mut read = Box::pin(reader.read_owned(Vec::with_capacity(64)));
        assert!(poll_once(&mut read).await.is_pending());
        aria_io::yield_now().await;
        peer.write_all(b"first ").unwrap();
        for _ in 0..3 {
            aria_io::yield_now().await;
        }
        drop(read);
        peer.write_all(b"second").unwrap();
        drop(peer);
        let mut all = Vec::new();
        reader.read_to_end(&mut all).await.unwrap();
        assert_eq!(all, b"first second");
    });
}
