//! Dropped accept, connect and owned-buffer read futures leave no descriptor behind. Alone
//! in its test binary: it counts the entries of /proc/self/fd, which other tests running in
//! parallel in the same process would change.

mod support;

use std::future::{poll_fn, Future};
use std::pin::Pin;
use std::task::Poll;
use std::time::Duration;

use aria_io::net::{TcpListener, TcpStream};
use support::run;

fn open_fds() -> usize {
    // The directory's own descriptor is counted each time, so counts compare.
    std::fs::read_dir("/proc/self/fd").unwrap().count()
}

/// Polls `f` once from the current task, whatever it returns.
async fn poll_once<F: Future>(f: &mut Pin<Box<F>>) -> Poll<F::Output> {
    poll_fn(|cx| Poll::Ready(f.as_mut().poll(cx))).await
}

#[test]
fn dropped_accept_connect_and_read_futures_leak_no_descriptor() {
    run(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        // A full cycle first, so that whatever the runtime opens on first use is open.
        {
            let (c, s) = futures_util::future::join(TcpStream::connect(addr), listener.accept()).await;
            let (mut c, (mut s, _)) = (c.unwrap(), s.unwrap());
            // Completed, not dropped: a cancelled operation would hold its descriptor past
            // the count below.
            s.write_all_owned(b"warm".to_vec()).await.0.unwrap();
            let (n, _) = c.read_owned(Vec::with_capacity(64)).await;
            assert!(n.unwrap() > 0);
        }
        // Nobody connects to this one.
        let idle = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let before = open_fds();

        for _ in 0..200 {
            // Nobody connects: the accept is waiting when it is dropped.
            let mut accept = Box::pin(idle.accept());
            assert!(poll_once(&mut accept).await.is_pending());
            drop(accept);

            // A connect dropped after its first poll (its socket exists by then).
            let mut connect = Box::pin(TcpStream::connect(addr));
            drop(poll_once(&mut connect).await);
            drop(connect);

            // And one dropped after a few polls, whatever it reached.
            let mut connect = Box::pin(TcpStream::connect(addr));
            for _ in 0..3 {
                if poll_once(&mut connect).await.is_ready() {
                    break;
                }
                aria_io::yield_now().await;
            }
            drop(connect);
        }

        // Owned-buffer reads dropped in flight (on io_uring: cancelled in the kernel, the
        // descriptor held until the cancellation completes).
        // (`listener`'s queue holds the dropped connects' connections, closed by now: pair
        // on the idle listener instead.)
        let idle_addr = idle.local_addr().unwrap();
        let (c, s) = futures_util::future::join(TcpStream::connect(idle_addr), idle.accept()).await;
        let (mut c, (mut s, _)) = (c.unwrap(), s.unwrap());
        for _ in 0..200 {
            let mut read = Box::pin(s.read_owned(Vec::with_capacity(4096)));
            assert!(poll_once(&mut read).await.is_pending());
            drop(read);
            let mut read = Box::pin(c.read_owned(Vec::with_capacity(4096)));
            assert!(poll_once(&mut read).await.is_pending());
            drop(read);
        }
        drop((c, s));
        // The connections the dropped connects completed wait in `listener`'s queue: in the
        // kernel's backlog on epoll, but on io_uring its multishot accept has already
        // accepted them (up to its bound) as descriptors of this process. Dropping the
        // listener closes them either way; its own descriptor goes too, so the count ends
        // below `before`.
        drop(listener);

        // Cancellations complete at the driver's next turns: wait for the count to settle
        // (the hang guard turns a leak into a failure).
        let settled = aria_io::time::timeout(Duration::from_secs(60), async {
            while open_fds() > before {
                aria_io::time::sleep(Duration::from_millis(1)).await;
            }
        })
        .await;
        let after = open_fds();
        assert!(settled.is_ok() && after <= before, "{before} descriptors before, {after} after");
    });
}
