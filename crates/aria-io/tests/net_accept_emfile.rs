//! tokio#3529: an accept that fails with `EMFILE` returns the error instead of retrying it
//! in a loop, and accepts again once descriptors are free. Alone in its test binary: it
//! lowers the process's `RLIMIT_NOFILE`.

mod support;

use std::io;
use std::os::fd::AsRawFd;

use aria_io::net::TcpListener;
use support::run;

fn nofile() -> libc::rlimit {
    let mut lim = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: `lim` is a valid rlimit for getrlimit to fill in.
    assert_eq!(unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) }, 0);
    lim
}

fn set_nofile(lim: libc::rlimit) {
    // SAFETY: `lim` is a valid rlimit; lowering or restoring the soft limit is allowed.
    assert_eq!(unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &lim) }, 0, "{}", io::Error::last_os_error());
}

fn is_emfile(e: &io::Error) -> bool {
    e.raw_os_error() == Some(libc::EMFILE)
}

#[test]
fn accept_returns_emfile_instead_of_retrying_and_accepts_again_once_the_limit_is_raised() {
    run(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let original = nofile();
        // The lowest free descriptor: every one below it is in use.
        let lowest = std::fs::File::open("/dev/null").unwrap().as_raw_fd() as libc::rlim_t;
        set_nofile(libc::rlimit { rlim_cur: lowest + 8, ..original });

        // Make connections (each takes two descriptors: the client's and the accepted one)
        // until an accept fails. The clients are std's: their blocking connect completes
        // into the listener's queue without an accept.
        let mut clients = Vec::new();
        let mut accepted = Vec::new();
        let err = loop {
            match std::net::TcpStream::connect(addr) {
                Ok(c) => clients.push(c),
                // No descriptor left for a client: free one so that the client takes the
                // last one and the accept finds none.
                Err(e) if is_emfile(&e) => {
                    accepted.pop().expect("the limit leaves room for a connection");
                    continue;
                }
                Err(e) => panic!("connect: {e}"),
            }
            match listener.accept().await {
                Ok((s, _)) => accepted.push(s),
                Err(e) => break e,
            }
        };
        set_nofile(original);
        assert!(is_emfile(&err), "expected EMFILE, got {err}");

        // The connection stayed queued: now there is room for it.
        let (stream, peer) = listener.accept().await.unwrap();
        assert_eq!(peer, clients.last().unwrap().local_addr().unwrap());
        assert_eq!(stream.peer_addr().unwrap(), peer);
    });
}
