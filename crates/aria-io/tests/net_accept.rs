//! What `accept` promises on every backend: connections that arrive while nobody accepts
//! are each handed over once (io_uring's multishot accept queues them, and pauses past its
//! bound), a dropped `accept` takes none, and a dropped listener or runtime closes what it
//! had accepted for nobody.

mod support;

use std::collections::BTreeSet;
use std::future::{poll_fn, Future};
use std::io::{Read, Write};
use std::net::SocketAddr;
use std::pin::pin;
use std::task::Poll;
use std::time::Duration;

use aria_io::net::unix::{UnixListener, UnixStream};
use aria_io::net::{TcpListener, TcpStream};
use futures_util::AsyncReadExt;
use support::run;

/// More than the multishot accept's queue bound (128), so it is paused and armed again.
const CLIENTS: u32 = 200;

/// A listener that has accepted one connection (kept open, both ends returned), so that an
/// io_uring listener's multishot accept is armed while the test's other connections arrive.
async fn armed_listener() -> (TcpListener, SocketAddr, std::net::TcpStream, TcpStream) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let first = std::net::TcpStream::connect(addr).unwrap();
    let (accepted, peer) = listener.accept().await.unwrap();
    assert_eq!(peer, first.local_addr().unwrap());
    (listener, addr, first, accepted)
}

/// Lets the driver turn a few times, so that an armed multishot request delivers what it
/// accepted meanwhile.
async fn let_the_driver_turn() {
    for _ in 0..10 {
        aria_io::time::sleep(Duration::from_millis(1)).await;
    }
}

#[test]
fn connections_made_while_nobody_accepts_are_each_accepted_once() {
    run(async {
        let (listener, addr, _first, _s) = armed_listener().await;

        // std's blocking connects complete in the kernel, with no accept running.
        let clients: Vec<std::net::TcpStream> = (0..CLIENTS)
            .map(|i| {
                let mut c = std::net::TcpStream::connect(addr).unwrap();
                c.write_all(&i.to_le_bytes()).unwrap();
                c
            })
            .collect();
        let_the_driver_turn().await;

        let mut seen = BTreeSet::new();
        for _ in 0..CLIENTS {
            let (mut s, peer) = listener.accept().await.unwrap();
            assert!(peer.ip().is_loopback());
            let mut index = [0; 4];
            s.read_exact(&mut index).await.unwrap();
            assert!(seen.insert(u32::from_le_bytes(index)), "a connection was accepted twice");
        }
        assert_eq!(seen, (0..CLIENTS).collect::<BTreeSet<_>>());
        drop(clients);
    });
}

#[test]
fn a_dropped_accept_takes_no_connection() {
    run(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        for _ in 0..20 {
            {
                let mut accept = pin!(listener.accept());
                assert!(poll_fn(|cx| Poll::Ready(accept.as_mut().poll(cx))).await.is_pending());
            }
            let client = std::net::TcpStream::connect(addr).unwrap();
            aria_io::yield_now().await;
            {
                // Polled once more and dropped: whether or not the connection had reached
                // this process, it stays queued.
                let mut accept = pin!(listener.accept());
                if let Poll::Ready(res) = poll_fn(|cx| Poll::Ready(accept.as_mut().poll(cx))).await {
                    let (_s, peer) = res.unwrap();
                    assert_eq!(peer, client.local_addr().unwrap());
                    continue;
                }
            }
            let (_s, peer) = listener.accept().await.unwrap();
            assert_eq!(peer, client.local_addr().unwrap());
        }
    });
}

#[test]
fn a_dropped_listener_closes_the_connections_nobody_took() {
    run(async {
        let (listener, addr, first, _s) = armed_listener().await;
        let clients: Vec<std::net::TcpStream> =
            (0..3).map(|_| std::net::TcpStream::connect(addr).unwrap()).collect();
        let_the_driver_turn().await;
        drop(listener);
        // Each client sees its connection end (end of file, or a reset from the backlog):
        // none is held open by a descriptor the listener's drop forgot.
        let ends = aria_io::blocking::spawn_blocking(move || {
            clients
                .into_iter()
                .map(|mut c| {
                    let mut buf = [0; 1];
                    match c.read(&mut buf) {
                        Ok(n) => Ok(n),
                        Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => Ok(0),
                        Err(e) => Err(e),
                    }
                })
                .collect::<Vec<_>>()
        })
        .await
        .unwrap();
        for end in ends {
            assert_eq!(end.unwrap(), 0);
        }
        drop(first);
    });
}

#[test]
fn a_runtime_dropped_while_a_listener_accepts_closes_the_listener() {
    let rt = support::runtime();
    let addr = rt.block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        aria_io::spawn(async move {
            loop {
                let _ = listener.accept().await;
            }
        });
        // Let the task arm its accept.
        for _ in 0..3 {
            aria_io::yield_now().await;
        }
        addr
    });
    drop(rt);
    // The port is free again only if the listening socket was closed (another listener on
    // a port in LISTEN fails with AddrInUse even with SO_REUSEADDR).
    std::net::TcpListener::bind(addr).expect("the dropped runtime's listener is closed");
}

#[test]
fn a_unix_listener_accepts_connections_made_while_nobody_accepts() {
    run(async {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sock");
        let listener = UnixListener::bind(&path).unwrap();
        let first = UnixStream::connect(&path).await.unwrap();
        let (_s, _) = listener.accept().await.unwrap();
        let clients: Vec<std::os::unix::net::UnixStream> = (0..20)
            .map(|i| {
                let mut c = std::os::unix::net::UnixStream::connect(&path).unwrap();
                c.write_all(&[i]).unwrap();
                c
            })
            .collect();
        let mut seen = BTreeSet::new();
        for _ in 0..20 {
            let (mut s, addr) = listener.accept().await.unwrap();
            assert!(addr.is_unnamed());
            let mut b = [0; 1];
            s.read_exact(&mut b).await.unwrap();
            assert!(seen.insert(b[0]));
        }
        assert_eq!(seen, (0..20).collect::<BTreeSet<u8>>());
        drop((clients, first));
    });
}
