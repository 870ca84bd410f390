//! Descriptor passing leaks nothing when the receiver accepts fewer descriptors than were
//! sent. Alone in its test binary: it counts this process's open descriptors, which tests
//! running on other threads would change.

mod support;

use std::fs::File;
use std::io::ErrorKind;
use std::os::fd::AsFd;

use aria_io::net::unix::{UnixDatagram, UnixStream};
use support::run;

fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd").unwrap().count()
}

#[test]
fn a_truncated_control_message_errors_and_closes_what_arrived() {
    run(async {
        let (a, b) = UnixStream::pair().unwrap();
        let (da, db) = UnixDatagram::pair().unwrap();
        let files: Vec<File> = (0..3).map(|_| tempfile::tempfile().unwrap()).collect();
        let fds: Vec<_> = files.iter().map(|f| f.as_fd()).collect();
        let mut buf = [0; 16];
        let before = open_fds();

        // Stream: three sent, one accepted.
        a.send_with_fds(b"abc", &fds).await.unwrap();
        let err = b.recv_with_fds(&mut buf, 1).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidData);
        assert!(err.to_string().contains("MSG_CTRUNC"), "{err}");
        assert_eq!(open_fds(), before, "a received descriptor leaked");

        // None accepted at all.
        a.send_with_fds(b"d", &fds).await.unwrap();
        let err = b.recv_with_fds(&mut buf, 0).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidData);
        assert_eq!(open_fds(), before, "a received descriptor leaked");

        // Datagram: three sent, two accepted.
        da.send_with_fds(b"dgram", &fds).await.unwrap();
        let err = db.recv_with_fds(&mut buf, 2).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidData);
        assert_eq!(open_fds(), before, "a received descriptor leaked");

        // And the sockets still work afterwards; received descriptors are counted.
        a.send_with_fds(b"ok", &fds).await.unwrap();
        let (n, got) = b.recv_with_fds(&mut buf, 3).await.unwrap();
        assert_eq!((&buf[..n], got.len()), (&b"ok"[..], 3));
        assert_eq!(open_fds(), before + 3);
        drop(got);
        assert_eq!(open_fds(), before);
    });
}
