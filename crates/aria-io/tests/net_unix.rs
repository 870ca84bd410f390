//! `aria_io::net::unix` streams, listeners, datagrams and descriptor passing, under the
//! flavour and backend of the run (`ARIA_IO_TEST_FLAVOR`, `ARIA_IO_BACKEND`).

mod support;

use std::fs::File;
use std::io::{Read, Seek, SeekFrom, Write};
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::os::unix::fs::MetadataExt;
use std::sync::atomic::{AtomicUsize, Ordering};

use aria_io::net::unix::{SocketAddr, UnixDatagram, UnixListener, UnixStream};
use futures_util::future::join;
use futures_util::io::{AsyncReadExt, AsyncWriteExt};
use futures_util::StreamExt;
use support::run;

/// An abstract name no other test (or concurrent run) uses.
fn unique_abstract_name(what: &str) -> SocketAddr {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    SocketAddr::from_abstract_name(format!("aria-io-test-{what}-{}-{n}", std::process::id())).unwrap()
}

/// Whether `fd` is close-on-exec, from `/proc/self/fdinfo` (octal `flags`, `O_CLOEXEC`).
fn is_cloexec(fd: &OwnedFd) -> bool {
    let info = std::fs::read_to_string(format!("/proc/self/fdinfo/{}", fd.as_raw_fd())).unwrap();
    let flags = info.lines().find_map(|l| l.strip_prefix("flags:")).expect("a flags line");
    let flags = u32::from_str_radix(flags.trim(), 8).unwrap();
    flags & libc::O_CLOEXEC as u32 != 0
}

#[test]
fn a_stream_goes_round_trip_over_a_path_in_a_tempdir() {
    run(async {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.sock");
        let listener = UnixListener::bind(&path).unwrap();
        assert_eq!(listener.local_addr().unwrap().as_pathname(), Some(path.as_path()));

        let (accepted, client) = join(listener.accept(), UnixStream::connect(&path)).await;
        let (mut server, client_addr) = accepted.unwrap();
        let mut client = client.unwrap();
        assert!(client_addr.is_unnamed());
        assert_eq!(client.peer_addr().unwrap().as_pathname(), Some(path.as_path()));
        assert!(client.local_addr().unwrap().is_unnamed());

        client.write_all(b"request").await.unwrap();
        let mut buf = [0; 7];
        server.read_exact(&mut buf).await.unwrap();
        assert_eq!(&buf, b"request");
        server.write_all(b"reply").await.unwrap();
        server.close().await.unwrap(); // shutdown(SHUT_WR): the client reads end of file
        let mut out = Vec::new();
        client.read_to_end(&mut out).await.unwrap();
        assert_eq!(out, b"reply");
    });
}

#[test]
fn a_pair_exchanges_bytes_with_the_futures_read_and_write_unqualified() {
    run(async {
        let (mut a, mut b) = UnixStream::pair().unwrap();
        // `read` and `write` are futures' extension methods: nothing inherent shadows them.
        let n = a.write(b"abc").await.unwrap();
        assert_eq!(n, 3);
        let mut buf = [0; 8];
        let n = b.read(&mut buf).await.unwrap();
        assert_eq!(&buf[..n], b"abc");
    });
}

#[test]
fn owned_buffer_reads_and_writes_give_the_buffer_back() {
    run(async {
        let (a, b) = UnixStream::pair().unwrap();
        let (res, buf) = a.write_all_owned(b"owned bytes".to_vec()).await;
        res.unwrap();
        assert_eq!(buf, b"owned bytes");
        let (res, buf) = a.write_owned(b"!".to_vec()).await;
        assert_eq!(res.unwrap(), 1);
        assert_eq!(buf, b"!");
        drop(a);

        let mut buf = Vec::with_capacity(64);
        loop {
            let (n, b2) = b.read_owned(buf).await;
            buf = b2;
            if n.unwrap() == 0 {
                break;
            }
        }
        assert_eq!(buf, b"owned bytes!");
    });
}

#[test]
fn the_peer_closing_gives_end_of_file() {
    run(async {
        let (a, mut b) = UnixStream::pair().unwrap();
        drop(a);
        let mut buf = [0; 8];
        assert_eq!(b.read(&mut buf).await.unwrap(), 0);
    });
}

#[test]
fn peer_cred_is_this_process() {
    run(async {
        let (a, _b) = UnixStream::pair().unwrap();
        let cred = a.peer_cred().unwrap();
        let me = std::fs::metadata("/proc/self").unwrap(); // owned by our effective ids
        assert_eq!(cred.pid(), Some(std::process::id() as i32));
        assert_eq!(cred.uid(), me.uid());
        assert_eq!(cred.gid(), me.gid());
    });
}

#[test]
fn an_abstract_name_is_bound_and_connected_to() {
    run(async {
        let addr = unique_abstract_name("stream");
        let listener = UnixListener::bind_addr(&addr).unwrap();
        assert_eq!(listener.local_addr().unwrap().as_abstract_name(), addr.as_abstract_name());
        assert!(listener.local_addr().unwrap().as_pathname().is_none());

        let (accepted, client) = join(listener.accept(), UnixStream::connect_addr(&addr)).await;
        let (mut server, _) = accepted.unwrap();
        let mut client = client.unwrap();
        assert_eq!(client.peer_addr().unwrap().as_abstract_name(), addr.as_abstract_name());
        client.write_all(b"abstract").await.unwrap();
        let mut buf = [0; 8];
        server.read_exact(&mut buf).await.unwrap();
        assert_eq!(&buf, b"abstract");

        // Datagrams too.
        let daddr = unique_abstract_name("dgram");
        let receiver = UnixDatagram::bind_addr(&daddr).unwrap();
        let sender = UnixDatagram::unbound().unwrap();
        sender.send_to_addr(b"dg", &daddr).await.unwrap();
        let (n, from) = receiver.recv_from(&mut buf).await.unwrap();
        assert_eq!(&buf[..n], b"dg");
        assert!(from.is_unnamed());
    });
}

#[test]
fn incoming_yields_each_connection() {
    run(async {
        let addr = unique_abstract_name("incoming");
        let listener = UnixListener::bind_addr(&addr).unwrap();
        let clients = async {
            let mut v = Vec::new();
            for _ in 0..3 {
                v.push(UnixStream::connect_addr(&addr).await.unwrap());
            }
            v
        };
        let (accepted, _clients) = join(listener.incoming().take(3).collect::<Vec<_>>(), clients).await;
        assert_eq!(accepted.len(), 3);
        for stream in accepted {
            stream.unwrap();
        }
    });
}

#[test]
fn into_split_halves_work_from_two_tasks_and_dropping_the_writer_gives_eof() {
    run(async {
        let (a, mut b) = UnixStream::pair().unwrap();
        let (mut read_half, mut write_half) = a.into_split();
        let writer = aria_io::spawn(async move {
            write_half.write_all(b"from the write half").await.unwrap();
            // dropped: shutdown(SHUT_WR)
        });
        let mut out = Vec::new();
        b.read_to_end(&mut out).await.unwrap();
        assert_eq!(out, b"from the write half");
        writer.await.unwrap();

        b.write_all(b"to the read half").await.unwrap();
        let mut buf = [0; 16];
        read_half.read_exact(&mut buf).await.unwrap();
        assert_eq!(&buf, b"to the read half");
        assert!(read_half.as_ref().peer_cred().is_ok());
    });
}

#[test]
fn split_halves_read_and_write_at_once() {
    run(async {
        let (mut a, mut b) = UnixStream::pair().unwrap();
        // Path syntax: with `AsyncReadExt` in scope, `a.split()` is futures' `split(self)`.
        let (mut ar, mut aw) = UnixStream::split(&mut a);
        let (mut br, mut bw) = UnixStream::split(&mut b);
        let ping = async {
            aw.write_all(b"ping").await.unwrap();
            let mut buf = [0; 4];
            ar.read_exact(&mut buf).await.unwrap();
            buf
        };
        let pong = async {
            let mut buf = [0; 4];
            br.read_exact(&mut buf).await.unwrap();
            bw.write_all(b"pong").await.unwrap();
            buf
        };
        let (got_a, got_b) = join(ping, pong).await;
        assert_eq!((&got_a, &got_b), (b"pong", b"ping"));
    });
}

#[test]
fn std_streams_convert_both_ways() {
    run(async {
        let (x, y) = std::os::unix::net::UnixStream::pair().unwrap();
        let mut a = UnixStream::try_from(x).unwrap();
        let mut b = UnixStream::from_std(y).unwrap();
        a.write_all(b"std").await.unwrap();
        let mut buf = [0; 3];
        b.read_exact(&mut buf).await.unwrap();
        let b = b.into_std().unwrap();
        assert!(b.as_fd().as_raw_fd() >= 0);
    });
}

#[test]
fn a_datagram_pair_sends_and_receives() {
    run(async {
        let (a, b) = UnixDatagram::pair().unwrap();
        a.send(b"one").await.unwrap();
        a.send(b"two").await.unwrap();
        let mut buf = [0; 2];
        assert_eq!(b.recv(&mut buf).await.unwrap(), 2); // truncated: "on"
        assert_eq!(&buf, b"on");
        let mut buf = [0; 8];
        let n = b.recv(&mut buf).await.unwrap();
        assert_eq!(&buf[..n], b"two");
    });
}

#[test]
fn datagrams_go_by_path_with_send_to_and_recv_from() {
    run(async {
        let dir = tempfile::tempdir().unwrap();
        let (pa, pb) = (dir.path().join("a.sock"), dir.path().join("b.sock"));
        let a = UnixDatagram::bind(&pa).unwrap();
        let b = UnixDatagram::bind(&pb).unwrap();
        a.send_to(b"hi b", &pb).await.unwrap();
        let mut buf = [0; 8];
        let (n, from) = b.recv_from(&mut buf).await.unwrap();
        assert_eq!(&buf[..n], b"hi b");
        assert_eq!(from.as_pathname(), Some(pa.as_path()));

        b.connect(&pa).unwrap();
        assert_eq!(b.peer_addr().unwrap().as_pathname(), Some(pa.as_path()));
        b.send(b"hi a").await.unwrap();
        let (n, from) = a.recv_from(&mut buf).await.unwrap();
        assert_eq!((&buf[..n], from.as_pathname()), (&b"hi a"[..], Some(pb.as_path())));
    });
}

/// Three descriptors of different kinds in one message: each arrives close-on-exec, and
/// refers to the same open file as the one sent.
#[test]
fn three_descriptors_pass_in_one_message_and_arrive_close_on_exec() {
    run(async {
        let (a, b) = UnixStream::pair().unwrap();
        let (mut pipe_reader, pipe_writer) = aria_io::io::pipe().unwrap();
        let mut tmp = tempfile::tempfile().unwrap();
        let null = File::options().write(true).open("/dev/null").unwrap();

        let sent = [pipe_writer.as_fd(), tmp.as_fd(), null.as_fd()];
        assert_eq!(a.send_with_fds(b"three", &sent).await.unwrap(), 5);
        drop(pipe_writer);

        let mut buf = [0; 16];
        let (n, fds) = b.recv_with_fds(&mut buf, 8).await.unwrap();
        assert_eq!(&buf[..n], b"three");
        assert_eq!(fds.len(), 3);
        for fd in &fds {
            assert!(is_cloexec(fd), "received fd {} is not close-on-exec", fd.as_raw_fd());
        }
        let mut fds = fds.into_iter().map(File::from);
        let (mut p, mut t, mut nul) = (fds.next().unwrap(), fds.next().unwrap(), fds.next().unwrap());

        p.write_all(b"via pipe").unwrap();
        drop(p);
        let mut out = Vec::new();
        pipe_reader.read_to_end(&mut out).await.unwrap();
        assert_eq!(out, b"via pipe");

        t.write_all(b"via tempfile").unwrap(); // the same open file: shared offset
        tmp.seek(SeekFrom::Start(0)).unwrap();
        let mut s = String::new();
        tmp.read_to_string(&mut s).unwrap();
        assert_eq!(s, "via tempfile");

        assert_eq!(nul.write(b"gone").unwrap(), 4);
        let (m1, m2) = (nul.metadata().unwrap(), null.metadata().unwrap());
        assert_eq!((m1.dev(), m1.ino(), m1.rdev()), (m2.dev(), m2.ino(), m2.rdev()));
    });
}

/// Three descriptors in one datagram (on io_uring an `IORING_OP_SENDMSG` and an
/// `IORING_OP_RECVMSG`): all arrive, close-on-exec, in the order sent.
#[test]
fn three_descriptors_pass_in_one_datagram_and_arrive_close_on_exec() {
    run(async {
        let (a, b) = UnixDatagram::pair().unwrap();
        let files: Vec<File> = (0..3).map(|_| tempfile::tempfile().unwrap()).collect();
        let sent: Vec<_> = files.iter().map(|f| f.as_fd()).collect();
        assert_eq!(a.send_with_fds(b"three", &sent).await.unwrap(), 5);

        let mut buf = [0; 16];
        let (n, fds) = b.recv_with_fds(&mut buf, 3).await.unwrap();
        assert_eq!(&buf[..n], b"three");
        assert_eq!(fds.len(), 3);
        for (fd, original) in fds.into_iter().zip(&files) {
            assert!(is_cloexec(&fd), "received fd {} is not close-on-exec", fd.as_raw_fd());
            let (m1, m2) = (File::from(fd).metadata().unwrap(), original.metadata().unwrap());
            assert_eq!((m1.dev(), m1.ino()), (m2.dev(), m2.ino()), "descriptors out of order");
        }
    });
}

#[test]
fn a_datagram_carries_descriptors_too() {
    run(async {
        let (a, b) = UnixDatagram::pair().unwrap();
        let tmp = tempfile::tempfile().unwrap();
        a.send_with_fds(b"", &[tmp.as_fd()]).await.unwrap(); // an empty datagram is fine
        a.send_with_fds(b"no fds", &[]).await.unwrap();

        let mut buf = [0; 8];
        let (n, fds) = b.recv_with_fds(&mut buf, 1).await.unwrap();
        assert_eq!((n, fds.len()), (0, 1));
        assert!(is_cloexec(&fds[0]));
        let (m1, m2) =
            (File::from(fds.into_iter().next().unwrap()).metadata().unwrap(), tmp.metadata().unwrap());
        assert_eq!((m1.dev(), m1.ino()), (m2.dev(), m2.ino()));

        let (n, fds) = b.recv_with_fds(&mut buf, 1).await.unwrap();
        assert_eq!((&buf[..n], fds.len()), (&b"no fds"[..], 0));
    });
}

#[test]
fn send_with_fds_on_a_stream_refuses_empty_data() {
    run(async {
        let (a, _b) = UnixStream::pair().unwrap();
        let tmp = tempfile::tempfile().unwrap();
        let err = a.send_with_fds(b"", &[tmp.as_fd()]).await.unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
    });
}

#[test]
fn socket_addresses_are_checked_and_described() {
    assert!(SocketAddr::from_pathname("").is_err());
    assert!(SocketAddr::from_pathname("a\0b").is_err());
    assert!(SocketAddr::from_pathname("x".repeat(200)).is_err());
    assert!(SocketAddr::from_abstract_name([b'x'; 200]).is_err());
    let name = SocketAddr::from_abstract_name(b"n\0ul").unwrap();
    assert_eq!(name.as_abstract_name(), Some(&b"n\0ul"[..]));
    assert_eq!(format!("{name:?}"), "\"n\\x00ul\" (abstract)");
    let path = SocketAddr::from_pathname("/run/x.sock").unwrap();
    assert_eq!(format!("{path:?}"), "\"/run/x.sock\" (pathname)");
}

/// Polls `f` once, from inside a task.
async fn poll_once<F: std::future::Future + Unpin>(f: &mut F) -> std::task::Poll<F::Output> {
    std::future::poll_fn(|cx| std::task::Poll::Ready(std::pin::Pin::new(&mut *f).poll(cx))).await
}

#[test]
fn connect_waits_while_the_listeners_backlog_is_full() {
    run(async {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("full.sock");
        // A backlog of 0: one pending connection fills it.
        let socket = socket2::Socket::new(socket2::Domain::UNIX, socket2::Type::STREAM, None).unwrap();
        socket.bind(&socket2::SockAddr::unix(&path).unwrap()).unwrap();
        socket.listen(0).unwrap();
        let listener = UnixListener::from_std(OwnedFd::from(socket).into()).unwrap();

        let first = UnixStream::connect(&path).await.unwrap();
        let mut second = Box::pin(UnixStream::connect(&path));
        assert!(poll_once(&mut second).await.is_pending(), "the backlog is full: connect must wait");
        let (mut accepted, _) = listener.accept().await.unwrap(); // room for the second
        let second = second.await.unwrap();
        let (mut accepted2, _) = listener.accept().await.unwrap();

        let (mut first, mut second) = (first, second);
        first.write_all(b"1").await.unwrap();
        second.write_all(b"2").await.unwrap();
        let mut buf = [0; 1];
        accepted.read_exact(&mut buf).await.unwrap();
        assert_eq!(&buf, b"1");
        accepted2.read_exact(&mut buf).await.unwrap();
        assert_eq!(&buf, b"2");
    });
}

#[test]
fn a_dropped_recv_takes_nothing() {
    run(async {
        let (a, b) = UnixDatagram::pair().unwrap();
        let mut buf = [0; 8];
        {
            let mut recv = Box::pin(b.recv(&mut buf));
            assert!(poll_once(&mut recv).await.is_pending());
        } // cancelled
        a.send(b"kept").await.unwrap();
        let n = b.recv(&mut buf).await.unwrap();
        assert_eq!(&buf[..n], b"kept");

        let (mut s, mut t) = UnixStream::pair().unwrap();
        {
            let mut read = Box::pin(t.recv_with_fds(&mut buf, 1));
            assert!(poll_once(&mut read).await.is_pending());
        }
        s.write_all(b"bytes").await.unwrap();
        let n = t.read(&mut buf).await.unwrap();
        assert_eq!(&buf[..n], b"bytes");
    });
}

#[test]
fn write_all_owned_moves_megabytes_across_partial_writes() {
    run(async {
        let (a, b) = UnixStream::pair().unwrap();
        let data: Vec<u8> = (0..4 << 20).map(|i: u32| (i % 251) as u8).collect();
        let expected = data.clone();
        let write = async {
            let (res, buf) = a.write_all_owned(data).await;
            res.unwrap();
            assert_eq!(buf.len(), 4 << 20);
            drop(a); // end of file for the reader
        };
        let read = async {
            let mut got = Vec::new();
            loop {
                let (res, chunk) = b.read_owned(Vec::with_capacity(64 * 1024)).await;
                if res.unwrap() == 0 {
                    break got;
                }
                got.extend_from_slice(&chunk);
            }
        };
        let ((), got) = join(write, read).await;
        assert!(got == expected, "{} bytes arrived, {} sent, or they differ", got.len(), expected.len());
    });
}

#[test]
fn into_std_after_a_dropped_read_owned_still_gives_the_socket_back() {
    run(async {
        let (a, b) = UnixStream::pair().unwrap();
        {
            let mut read = Box::pin(a.read_owned(Vec::with_capacity(16)));
            assert!(poll_once(&mut read).await.is_pending());
        } // cancelled (on io_uring the receive may still be in the kernel)
        let a = a.into_std().unwrap();
        assert!(a.peer_addr().unwrap().is_unnamed());
        drop(b);
    });
}
