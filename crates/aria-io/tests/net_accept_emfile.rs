//! tokio#3529: an accept that fails with `EMFILE` returns the error instead of retrying it
//! in a loop, and accepts again once descriptors are free; a server that backs off as the
//! docs say uses almost no CPU under that pressure. Alone in their test binary, one at a
//! time: they lower the process's `RLIMIT_NOFILE`.

mod support;

use std::io;
use std::os::fd::AsRawFd;
use std::sync::Mutex;
use std::time::{Duration, Instant};

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

/// The tests change a limit of the whole process: one at a time.
static SERIAL: Mutex<()> = Mutex::new(());

/// User plus system CPU time of the whole process (every thread of the runtime).
fn process_cpu() -> Duration {
    // SAFETY: an all-zero rusage is a valid value of this plain C struct.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: `ru` is a valid rusage for getrusage to fill in.
    assert_eq!(unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut ru) }, 0);
    let tv =
        |t: libc::timeval| Duration::from_secs(t.tv_sec as u64) + Duration::from_micros(t.tv_usec as u64);
    tv(ru.ru_utime) + tv(ru.ru_stime)
}

/// Lowers the soft descriptor limit so that `room` more descriptors can be opened (every
/// one below the lowest free descriptor is in use), and returns the limit to restore.
fn leave_room_for(room: libc::rlim_t) -> libc::rlimit {
    let original = nofile();
    let lowest = std::fs::File::open("/dev/null").unwrap().as_raw_fd() as libc::rlim_t;
    set_nofile(libc::rlimit { rlim_cur: lowest + room, ..original });
    original
}

fn is_emfile(e: &io::Error) -> bool {
    e.raw_os_error() == Some(libc::EMFILE)
}

#[test]
fn accept_returns_emfile_instead_of_retrying_and_accepts_again_once_the_limit_is_raised() {
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    run(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let original = leave_room_for(8);

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

/// The measure of tokio#3529: over a second of `EMFILE` pressure (a connection
/// queued that no descriptor is left to accept), a server looping on `accept` with the
/// documented back-off (100 ms) makes one attempt per back-off and its process uses under
/// 5 % of a CPU. A runtime retrying inside `accept` would use 100 %.
#[test]
fn a_server_backing_off_as_documented_uses_almost_no_cpu_under_emfile() {
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    run(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        // Room for exactly one more descriptor: the client's. None is left to accept with.
        let original = leave_room_for(1);
        let client = std::net::TcpStream::connect(addr);

        let start = Instant::now();
        let cpu_before = process_cpu();
        let (mut attempts, mut emfiles) = (0u32, 0u32);
        let mut unexpected = None;
        while start.elapsed() < Duration::from_secs(1) {
            attempts += 1;
            match listener.accept().await {
                Err(e) if is_emfile(&e) => {
                    emfiles += 1;
                    aria_io::time::sleep(Duration::from_millis(100)).await;
                }
                other => {
                    unexpected = Some(other.map(drop));
                    break;
                }
            }
        }
        let cpu = process_cpu() - cpu_before;
        let wall = start.elapsed();
        set_nofile(original);
        eprintln!("EMFILE pressure: {attempts} accepts, {cpu:?} of CPU over {wall:?}");

        let client = client.expect("the limit leaves one descriptor for the client");
        assert!(unexpected.is_none(), "expected only EMFILE, got {unexpected:?}");
        // Each attempt failed at once and was followed by a 100 ms sleep (which never ends
        // early): no attempt happened that the loop did not make.
        assert_eq!(attempts, emfiles);
        assert!(u128::from(attempts) <= wall.as_millis() / 100 + 1, "{attempts} attempts in {wall:?}");
        assert!(cpu * 20 < wall, "{cpu:?} of CPU over {wall:?} of EMFILE pressure (5 % is {:?})", wall / 20);

        // And the queued connection is accepted once a descriptor is free.
        let (_stream, peer) = listener.accept().await.unwrap();
        assert_eq!(peer, client.local_addr().unwrap());
    });
}
