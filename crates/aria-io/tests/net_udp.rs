//! `aria_io::net::UdpSocket` on loopback, under the flavour and backend of the run
//! (`ARIA_IO_TEST_FLAVOR`, `ARIA_IO_BACKEND`).

mod support;

use std::io;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};

use aria_io::net::UdpSocket;
use support::run;

fn localhost_v4() -> SocketAddr {
    (Ipv4Addr::LOCALHOST, 0).into()
}

#[test]
fn a_datagram_goes_round_trip_on_127_0_0_1() {
    run(async {
        let a = UdpSocket::bind(localhost_v4()).await.unwrap();
        let b = UdpSocket::bind(localhost_v4()).await.unwrap();
        assert_ne!(a.local_addr().unwrap().port(), 0);

        assert_eq!(a.send_to(b"ping", b.local_addr().unwrap()).await.unwrap(), 4);
        let mut buf = [0; 64];
        let (n, from) = b.recv_from(&mut buf).await.unwrap();
        assert_eq!((&buf[..n], from), (&b"ping"[..], a.local_addr().unwrap()));

        b.send_to(b"pong", from).await.unwrap();
        let (n, from) = a.recv_from(&mut buf).await.unwrap();
        assert_eq!((&buf[..n], from), (&b"pong"[..], b.local_addr().unwrap()));
    });
}

#[test]
fn a_datagram_goes_round_trip_on_ipv6_loopback_when_there_is_one() {
    run(async {
        let any: SocketAddr = (Ipv6Addr::LOCALHOST, 0).into();
        let a = match UdpSocket::bind(any).await {
            Ok(a) => a,
            Err(e) => {
                eprintln!("skipped: no IPv6 loopback in this environment ({e})");
                return;
            }
        };
        let b = UdpSocket::bind(any).await.unwrap();
        a.send_to(b"six", b.local_addr().unwrap()).await.unwrap();
        let mut buf = [0; 8];
        let (n, from) = b.recv_from(&mut buf).await.unwrap();
        assert_eq!((&buf[..n], from), (&b"six"[..], a.local_addr().unwrap()));
    });
}

#[test]
fn connected_sockets_send_and_recv() {
    run(async {
        let a = UdpSocket::bind(localhost_v4()).await.unwrap();
        let b = UdpSocket::bind(localhost_v4()).await.unwrap();
        assert_eq!(a.peer_addr().unwrap_err().kind(), io::ErrorKind::NotConnected);
        a.connect(b.local_addr().unwrap()).await.unwrap();
        b.connect(a.local_addr().unwrap()).await.unwrap();
        assert_eq!(a.peer_addr().unwrap(), b.local_addr().unwrap());

        a.send(b"hello").await.unwrap();
        let mut buf = [0; 16];
        let n = b.recv(&mut buf).await.unwrap();
        assert_eq!(&buf[..n], b"hello");
        b.send(b"back").await.unwrap();
        let n = a.recv(&mut buf).await.unwrap();
        assert_eq!(&buf[..n], b"back");
    });
}

#[test]
fn a_datagram_larger_than_the_buffer_is_truncated_and_the_rest_discarded() {
    run(async {
        let a = UdpSocket::bind(localhost_v4()).await.unwrap();
        let b = UdpSocket::bind(localhost_v4()).await.unwrap();
        let big: Vec<u8> = (0..100u8).collect();
        a.send_to(&big, b.local_addr().unwrap()).await.unwrap();
        a.send_to(b"next", b.local_addr().unwrap()).await.unwrap();

        let mut small = [0; 10];
        let (n, _) = b.recv_from(&mut small).await.unwrap();
        assert_eq!((n, &small[..]), (10, &big[..10]));
        // The rest of the first datagram is gone: the next receive is the next datagram.
        let mut buf = [0; 128];
        let (n, _) = b.recv_from(&mut buf).await.unwrap();
        assert_eq!(&buf[..n], b"next");
    });
}

#[test]
fn peek_from_leaves_the_datagram_queued() {
    run(async {
        let a = UdpSocket::bind(localhost_v4()).await.unwrap();
        let b = UdpSocket::bind(localhost_v4()).await.unwrap();
        a.send_to(b"peeked", b.local_addr().unwrap()).await.unwrap();

        let mut buf = [0; 16];
        let (n, from) = b.peek_from(&mut buf).await.unwrap();
        assert_eq!((&buf[..n], from), (&b"peeked"[..], a.local_addr().unwrap()));
        let mut again = [0; 16];
        let (n, from) = b.recv_from(&mut again).await.unwrap();
        assert_eq!((&again[..n], from), (&b"peeked"[..], a.local_addr().unwrap()));
        assert_eq!(b.try_recv_from(&mut again).unwrap_err().kind(), io::ErrorKind::WouldBlock);
    });
}

#[test]
fn try_recv_from_after_readable_receives_what_try_missed() {
    run(async {
        let a = UdpSocket::bind(localhost_v4()).await.unwrap();
        let b = UdpSocket::bind(localhost_v4()).await.unwrap();
        let mut buf = [0; 16];
        assert_eq!(b.try_recv_from(&mut buf).unwrap_err().kind(), io::ErrorKind::WouldBlock);

        a.writable().await.unwrap();
        a.try_send_to(b"later", b.local_addr().unwrap()).unwrap();
        let n = loop {
            b.readable().await.unwrap();
            match b.try_recv_from(&mut buf) {
                Ok((n, _)) => break n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
                Err(e) => panic!("try_recv_from: {e}"),
            }
        };
        assert_eq!(&buf[..n], b"later");
    });
}

#[test]
fn socket_options_broadcast_ttl_and_multicast_loop_are_set_and_read_back() {
    run(async {
        let s = UdpSocket::bind(localhost_v4()).await.unwrap();
        assert!(!s.broadcast().unwrap());
        s.set_broadcast(true).unwrap();
        assert!(s.broadcast().unwrap());
        s.set_broadcast(false).unwrap();
        assert!(!s.broadcast().unwrap());

        s.set_ttl(7).unwrap();
        assert_eq!(s.ttl().unwrap(), 7);

        s.set_multicast_loop_v4(false).unwrap();
        assert!(!s.multicast_loop_v4().unwrap());
        s.set_multicast_loop_v4(true).unwrap();
        assert!(s.multicast_loop_v4().unwrap());
    });
}

#[test]
fn multicast_groups_are_joined_and_left_on_loopback() {
    run(async {
        let s = UdpSocket::bind((Ipv4Addr::UNSPECIFIED, 0)).await.unwrap();
        let group = Ipv4Addr::new(239, 255, 42, 99);
        match s.join_multicast_v4(group, Ipv4Addr::LOCALHOST) {
            Ok(()) => {
                s.leave_multicast_v4(group, Ipv4Addr::LOCALHOST).unwrap();
                // Left: leaving again is refused.
                assert!(s.leave_multicast_v4(group, Ipv4Addr::LOCALHOST).is_err());
            }
            Err(e) if matches!(e.raw_os_error(), Some(libc::ENODEV | libc::EADDRNOTAVAIL)) => {
                eprintln!("skipped IPv4: the kernel refuses multicast on loopback here ({e})");
            }
            Err(e) => panic!("join_multicast_v4: {e}"),
        }

        let Ok(s6) = UdpSocket::bind((Ipv6Addr::UNSPECIFIED, 0)).await else {
            eprintln!("skipped IPv6: no IPv6 in this environment");
            return;
        };
        let group6: Ipv6Addr = "ff02::1:2345".parse().unwrap();
        // Interface 1 is the loopback device on Linux.
        match s6.join_multicast_v6(&group6, 1) {
            Ok(()) => s6.leave_multicast_v6(&group6, 1).unwrap(),
            Err(e) if matches!(e.raw_os_error(), Some(libc::ENODEV | libc::EADDRNOTAVAIL)) => {
                eprintln!("skipped IPv6: the kernel refuses multicast on loopback here ({e})");
            }
            Err(e) => panic!("join_multicast_v6: {e}"),
        }
    });
}

#[test]
fn std_sockets_convert_both_ways() {
    run(async {
        let std_socket = std::net::UdpSocket::bind(localhost_v4()).unwrap();
        let addr = std_socket.local_addr().unwrap();
        let s = UdpSocket::try_from(std_socket).unwrap();
        assert_eq!(s.local_addr().unwrap(), addr);
        let back = s.into_std().unwrap();
        assert_eq!(back.local_addr().unwrap(), addr);
        let again = UdpSocket::from_std(back).unwrap();

        let other = UdpSocket::bind(localhost_v4()).await.unwrap();
        other.send_to(b"x", addr).await.unwrap();
        let mut buf = [0; 4];
        assert_eq!(again.recv_from(&mut buf).await.unwrap().0, 1);
    });
}

#[test]
fn one_socket_is_shared_between_tasks() {
    run(async {
        let server = std::sync::Arc::new(UdpSocket::bind(localhost_v4()).await.unwrap());
        let addr = server.local_addr().unwrap();
        let echo = {
            let server = server.clone();
            aria_io::spawn(async move {
                let mut buf = [0; 32];
                for _ in 0..3 {
                    let (n, from) = server.recv_from(&mut buf).await.unwrap();
                    server.send_to(&buf[..n], from).await.unwrap();
                }
            })
        };
        let client = UdpSocket::bind(localhost_v4()).await.unwrap();
        client.connect(addr).await.unwrap();
        let mut buf = [0; 32];
        for msg in [&b"one"[..], b"two", b"three"] {
            client.send(msg).await.unwrap();
            let n = client.recv(&mut buf).await.unwrap();
            assert_eq!(&buf[..n], msg);
        }
        echo.await.unwrap();
    });
}

#[test]
fn several_tasks_receiving_on_one_shared_socket_are_all_woken() {
    run(async {
        let rx = std::sync::Arc::new(UdpSocket::bind(localhost_v4()).await.unwrap());
        let tx = UdpSocket::bind(localhost_v4()).await.unwrap();
        let to = rx.local_addr().unwrap();
        let tasks: Vec<_> = (0..3)
            .map(|_| {
                let rx = rx.clone();
                aria_io::spawn(async move {
                    let mut buf = [0u8; 16];
                    let (n, _) = rx.recv_from(&mut buf).await?;
                    Ok::<_, io::Error>(buf[..n].to_vec())
                })
            })
            .collect();
        // On the current-thread flavour this lets every task reach its wait first, which is
        // the case that hung when a descriptor kept one waker per direction; on the others
        // the tasks may also still be starting, which must work too.
        for _ in 0..10 {
            aria_io::yield_now().await;
        }
        for i in 0..3u8 {
            tx.send_to(&[i], to).await.unwrap();
        }
        let mut got: Vec<u8> = Vec::new();
        for t in tasks {
            got.extend(t.await.unwrap().unwrap());
        }
        got.sort();
        assert_eq!(got, [0, 1, 2]);
    });
}

#[test]
fn bind_connect_and_send_to_take_strings_and_tuples_like_tcp() {
    run(async {
        let a = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let b = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0)).await.unwrap();
        let (a_port, b_port) = (a.local_addr().unwrap().port(), b.local_addr().unwrap().port());
        a.send_to(b"by string", format!("127.0.0.1:{b_port}").as_str()).await.unwrap();
        let mut buf = [0; 16];
        let (n, from) = b.recv_from(&mut buf).await.unwrap();
        assert_eq!((&buf[..n], from), (&b"by string"[..], a.local_addr().unwrap()));

        b.connect(("127.0.0.1", a_port)).await.unwrap();
        b.send(b"connected").await.unwrap();
        let (n, _) = a.recv_from(&mut buf).await.unwrap();
        assert_eq!(&buf[..n], b"connected");
    });
}
