//! Port of a tokio::process program (issue #10): on Ctrl-C, forward SIGTERM to the child,
//! give it a grace period, then kill it. A test binary of its own: once SIGINT is listened
//! for, it no longer terminates the process, and the one SIGINT this test sends reaches
//! every listener in the process.

mod support;

use std::future::{poll_fn, Future};
use std::io;
use std::pin::pin;
use std::task::Poll;
use std::time::Duration;

// tokio: `use tokio::process::{Child, Command}; use std::process::Stdio;`
use aria_io::process::{Child, Command, ExitStatus, Stdio};
use futures_util::future::{select, Either};
use futures_util::io::{AsyncBufReadExt, AsyncReadExt, BufReader};
use futures_util::TryStreamExt;
use support::run;

// 6. Ctrl-C with a grace period.
//
// tokio:
//     async fn supervise(child: &mut Child, grace: Duration) -> io::Result<ExitStatus> {
//         tokio::select! {
//             status = child.wait() => status,
//             _ = tokio::signal::ctrl_c() => {
//                 unsafe { libc::kill(child.id().unwrap() as i32, libc::SIGTERM) };
//                 match tokio::time::timeout(grace, child.wait()).await {
//                     Ok(status) => status,
//                     Err(_elapsed) => { child.kill().await?; child.wait().await }
//                 }
//             }
//         }
//     }
async fn supervise(child: &mut Child, grace: Duration) -> io::Result<ExitStatus> {
    // PORT: aria-io has no `select!` (nor futures-util's, whose `async-await-macro` feature
    // is off here): `future::select` instead, in a block so its borrow of `child` ends.
    {
        let wait = pin!(child.wait());
        let ctrl_c = pin!(aria_io::signal::ctrl_c());
        match select(wait, ctrl_c).await {
            Either::Left((status, _)) => return status,
            Either::Right((interrupted, _)) => interrupted?,
        }
    }
    // SAFETY: kill(2) with the pid of our unreaped child (it cannot have been recycled) and
    // a valid signal number; it touches no memory.
    let rc = unsafe { libc::kill(child.id().unwrap() as i32, libc::SIGTERM) };
    if rc != 0 {
        return Err(io::Error::last_os_error());
    }
    match aria_io::time::timeout(grace, child.wait()).await {
        Ok(status) => status,
        Err(_elapsed) => {
            child.kill().await?;
            child.wait().await
        }
    }
}

/// A child that exits 0 on SIGTERM, saying so. The shell runs the trap once its foreground
/// `sleep` (at most 50 ms) ends. (A background `sleep 600 & ... wait`, killed from the
/// trap, loses a race: a SIGTERM that reaches the forked child before it execs `sleep` is
/// caught by the copy of the trap handler and dropped by exec, and the surviving sleep then
/// holds the stdout pipe open, so the test never sees end of file: 3 hangs in 60 runs.)
const POLITE: &str = "trap 'echo got TERM; exit 0' TERM; echo ready; while :; do sleep 0.05; done";
/// A child that ignores SIGTERM (and so does the `sleep` it becomes).
const STUBBORN: &str = "trap '' TERM; echo ready; exec sleep 600";

#[test]
fn ctrl_c_forwards_sigterm_then_kills_a_child_that_outlives_the_grace_period() {
    run(async {
        let mut polite = Command::new("sh").arg("-c").arg(POLITE).stdout(Stdio::piped()).spawn().unwrap();
        let mut stubborn = Command::new("sh").arg("-c").arg(STUBBORN).stdout(Stdio::piped()).spawn().unwrap();
        // Both have set up their signal handling before the Ctrl-C.
        let mut polite_out = BufReader::new(polite.stdout.take().unwrap()).lines();
        let mut stubborn_out = BufReader::new(stubborn.stdout.take().unwrap());
        assert_eq!(polite_out.try_next().await.unwrap().as_deref(), Some("ready"));
        let mut line = String::new();
        stubborn_out.read_line(&mut line).await.unwrap();
        assert_eq!(line, "ready\n");

        // The grace periods are bounds, not waits: the polite child exits as soon as it is
        // told to; the stubborn one ignores SIGTERM and sleeps 600 s, so its grace always
        // expires.
        let mut both = pin!(futures_util::future::join(
            supervise(&mut polite, Duration::from_secs(60)),
            supervise(&mut stubborn, Duration::from_millis(300)),
        ));
        // Run both supervisors up to their `select`, so their Ctrl-C listeners are in place
        // (as they would be long before a user pressed Ctrl-C), then press it.
        poll_fn(|cx| {
            assert!(both.as_mut().poll(cx).is_pending(), "both children are still running");
            Poll::Ready(())
        })
        .await;
        // SAFETY: kill(2) of this process with a signal it now listens for; no memory is
        // touched.
        assert_eq!(unsafe { libc::kill(libc::getpid(), libc::SIGINT) }, 0);
        let (polite_status, stubborn_status) = both.await;

        let polite_status = polite_status.unwrap();
        assert!(polite_status.success(), "the polite child exits 0 on SIGTERM: {polite_status}");
        assert_eq!(polite_out.try_collect::<Vec<_>>().await.unwrap(), ["got TERM"]);
        let stubborn_status = stubborn_status.unwrap();
        assert_eq!(stubborn_status.signal(), Some(libc::SIGKILL), "{stubborn_status}");
        let mut rest = String::new();
        stubborn_out.read_to_string(&mut rest).await.unwrap();
        assert_eq!(rest, "");
    });
}
