//! Signals through signalfd. Each test runs the listeners in a helper process whose threads
//! all block the signal: the test harness has other threads in which it is not blocked (see
//! the `signal` module docs), so the kernel could deliver it there.

mod support;

use aria_io::os::unix::ChildExt;
use aria_io::process::Stdio;
use aria_io::signal::{signal, SignalKind};
use futures_util::io::{AsyncBufReadExt, BufReader};
use futures_util::StreamExt;
use support::{helper, run};

/// Runs `aria-test-helper MODE SIGNO COUNT`, waits for `ready`, then sends SIGNO COUNT times,
/// each time expecting `got N` (every listener of the helper saw delivery N) before the next.
async fn deliver_and_expect_every_listener(mode: &str, signo: i32, count: u32) {
    let mut c = helper(&[mode, &signo.to_string(), &count.to_string()]);
    c.stdout(Stdio::piped());
    let mut child = c.spawn().unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    assert_eq!(lines.next().await.unwrap().unwrap(), "ready");
    for n in 1..=count {
        child.signal(signo).unwrap();
        assert_eq!(lines.next().await.unwrap().unwrap(), format!("got {n}"));
    }
    assert!(child.wait().await.unwrap().success());
}

#[test]
fn signals_sent_to_a_runtime_reach_every_listener_once_per_delivery() {
    run(deliver_and_expect_every_listener("signals", libc::SIGUSR1, 3));
}

#[test]
fn every_core_of_a_thread_per_core_runtime_hears_every_delivery() {
    // Each core has its own signalfd; whichever reads a delivery passes it on to the others.
    run(deliver_and_expect_every_listener("signals-cores", libc::SIGUSR1, 3));
}

#[test]
fn sigterm_is_received_instead_of_killing_the_runtime() {
    run(deliver_and_expect_every_listener("signals", libc::SIGTERM, 1));
}

#[test]
fn uncatchable_signals_are_refused_with_a_clear_error() {
    run(async {
        let err = signal(SignalKind::from_raw(9)).unwrap_err();
        assert!(err.to_string().contains("SIGKILL"), "{err}");
    });
}

#[test]
fn a_signal_landing_on_a_thread_that_does_not_block_it_is_still_received() {
    // The test harness's other threads do not block SIGUSR1, so the kernel may deliver it
    // there: the fallback handler must forward it instead of the process dying.
    run(async {
        let mut s = signal(SignalKind::user_defined1()).unwrap();
        let me = std::process::id().to_string();
        for _ in 0..3 {
            let st = aria_io::process::Command::new("kill").args(["-USR1", &me]).status().await.unwrap();
            assert!(st.success());
            assert_eq!(s.recv().await, Some(()));
        }
    });
}
