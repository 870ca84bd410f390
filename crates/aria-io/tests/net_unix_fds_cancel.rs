//! A receive with descriptors dropped while in flight (on io_uring an `IORING_OP_RECVMSG`
//! that the cancellation may reach too late) leaks no descriptor: the ones its completion
//! carried are closed. On a stream its bytes are not lost either: the next read returns them.
//! Alone in its test binary: it counts this process's open descriptors, which tests running
//! on other threads would change.

mod support;

use std::fs::File;
use std::future::{poll_fn, Future};
use std::os::fd::AsFd;
use std::pin::Pin;
use std::task::Poll;
use std::time::Duration;

use aria_io::net::unix::{UnixDatagram, UnixStream};
use futures_util::io::AsyncReadExt;
use support::run;

fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd").unwrap().count()
}

/// Polls `f` once from the current task, whatever it returns.
async fn poll_once<F: Future>(f: &mut Pin<Box<F>>) -> Poll<F::Output> {
    poll_fn(|cx| Poll::Ready(f.as_mut().poll(cx))).await
}

/// Waits (bounded by the hang guard) until the count of open descriptors is back to `before`:
/// cancelled receives complete at the driver's next turns.
async fn settles_to(before: usize) {
    let settled = aria_io::time::timeout(Duration::from_secs(60), async {
        while open_fds() > before {
            aria_io::time::sleep(Duration::from_millis(1)).await;
        }
    })
    .await;
    let after = open_fds();
    assert!(settled.is_ok() && after <= before, "{before} descriptors before, {after} after: a leak");
}

#[test]
fn a_dropped_receive_with_descriptors_in_flight_closes_them_and_keeps_stream_bytes() {
    run(async {
        let files: Vec<File> = (0..3).map(|_| tempfile::tempfile().unwrap()).collect();
        let fds: Vec<_> = files.iter().map(|f| f.as_fd()).collect();
        let (a, mut b) = UnixStream::pair().unwrap();
        let (da, db) = UnixDatagram::pair().unwrap();
        // A full cycle first, so that whatever the runtime opens on first use is open.
        a.send_with_fds(b"warm", &fds).await.unwrap();
        let mut buf = [0u8; 16];
        drop(b.recv_with_fds(&mut buf, 3).await.unwrap());
        let before = open_fds();

        for round in 0..100u8 {
            // Stream: a receive in flight, dropped before or after three descriptors and
            // three bytes arrive for it.
            {
                let mut recv_buf = [0u8; 16];
                let mut recv = Box::pin(b.recv_with_fds(&mut recv_buf, 3));
                assert!(poll_once(&mut recv).await.is_pending(), "nothing was sent yet");
                aria_io::yield_now().await; // the receive reaches the kernel
                if round % 2 == 0 {
                    drop(recv);
                    a.send_with_fds(&[round; 3], &fds).await.unwrap();
                } else {
                    a.send_with_fds(&[round; 3], &fds).await.unwrap();
                    for _ in 0..3 {
                        aria_io::yield_now().await; // its completion may arrive first
                    }
                    drop(recv);
                }
            }
            // The bytes are not lost: the next read returns them (with or without the
            // descriptors, depending on whether the cancellation won).
            let mut three = [0u8; 3];
            b.read_exact(&mut three).await.unwrap();
            assert_eq!(three, [round; 3], "round {round}: stream bytes lost or reordered");

            // Datagram: the same; then a marker datagram, and everything up to it is received
            // (a datagram the dropped receive did not take arrives here, its descriptors
            // dropped at once).
            {
                let mut recv_buf = [0u8; 16];
                let mut recv = Box::pin(db.recv_with_fds(&mut recv_buf, 3));
                assert!(poll_once(&mut recv).await.is_pending(), "nothing was sent yet");
                aria_io::yield_now().await;
                if round % 2 == 0 {
                    drop(recv);
                    da.send_with_fds(b"fds", &fds).await.unwrap();
                } else {
                    da.send_with_fds(b"fds", &fds).await.unwrap();
                    for _ in 0..3 {
                        aria_io::yield_now().await;
                    }
                    drop(recv);
                }
            }
            da.send_with_fds(b"end", &[]).await.unwrap();
            loop {
                let (n, got) = db.recv_with_fds(&mut buf, 3).await.unwrap();
                drop(got);
                if &buf[..n] == b"end" {
                    break;
                }
                assert_eq!(&buf[..n], b"fds");
            }
        }
        settles_to(before).await;
    });
}
