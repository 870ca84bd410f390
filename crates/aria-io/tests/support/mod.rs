//! Shared helpers for the integration tests.
#![allow(dead_code)]

use std::future::Future;
use std::time::Duration;

/// The path of the test helper program (see `src/bin/aria-test-helper.rs`).
pub const HELPER: &str = env!("CARGO_BIN_EXE_aria-test-helper");

/// A generous guard against hangs; never an assertion about speed.
pub const HANG_GUARD: Duration = Duration::from_secs(120);

/// A builder for the scheduler flavour under test: `ARIA_IO_TEST_FLAVOR` =
/// `current_thread` (default), `multi_thread` (2 workers) or `thread_per_core` (2 cores).
/// CI runs the suite once per flavour and backend.
pub fn builder() -> aria_io::Builder {
    match std::env::var("ARIA_IO_TEST_FLAVOR").as_deref() {
        Err(_) | Ok("") | Ok("current_thread") => aria_io::Builder::new_current_thread(),
        Ok("multi_thread") => {
            let mut b = aria_io::Builder::new_multi_thread();
            b.worker_threads(2);
            b
        }
        Ok("thread_per_core") => {
            let mut b = aria_io::Builder::new_thread_per_core();
            b.worker_threads(2);
            b
        }
        Ok(other) => {
            panic!("ARIA_IO_TEST_FLAVOR={other}: expected current_thread, multi_thread or thread_per_core")
        }
    }
}

/// A fresh runtime of the flavour under test.
pub fn runtime() -> aria_io::Runtime {
    builder().build().expect("runtime")
}

/// Runs `f` on a fresh runtime of the flavour under test, failing (instead of hanging) if it
/// does not finish.
pub fn run<F: Future>(f: F) -> F::Output {
    block_on_guarded(&runtime(), f)
}

/// Runs `f` on a current-thread runtime whatever the flavour under test: for tests whose
/// assertions depend on the deterministic interleaving of one thread (tasks that start
/// waiting in spawn order after a `yield_now`, for example).
pub fn run_current_thread<F: Future>(f: F) -> F::Output {
    block_on_guarded(&aria_io::Runtime::new().expect("runtime"), f)
}

fn block_on_guarded<F: Future>(rt: &aria_io::Runtime, f: F) -> F::Output {
    rt.block_on(async {
        match aria_io::time::timeout(HANG_GUARD, f).await {
            Ok(v) => v,
            Err(_) => panic!("test did not finish within the hang guard"),
        }
    })
}

pub fn helper(args: &[&str]) -> aria_io::process::Command {
    let mut c = aria_io::process::Command::new(HELPER);
    c.args(args);
    c
}

/// What `helper(&["emit", FD, N])` writes: a 64 KiB block of the pattern, over and over.
pub fn emitted(n: usize) -> Vec<u8> {
    (0..n).map(|i| ((i % (64 * 1024)) % 251) as u8).collect()
}

/// Whether a process with this pid still exists (as a zombie or running).
pub fn exists(pid: u32) -> bool {
    std::path::Path::new(&format!("/proc/{pid}")).exists()
}

/// Polls until the process is gone (reaped); the hang guard bounds it.
pub async fn until_reaped(pid: u32) {
    while exists(pid) {
        aria_io::time::sleep(Duration::from_millis(5)).await;
    }
}

/// A minimal executor with no runtime at all: polls `f` on this thread, parking it until
/// woken; fails instead of hanging past [`HANG_GUARD`].
pub fn plain_block_on<F: Future>(f: F) -> F::Output {
    struct Unpark(std::thread::Thread);
    impl std::task::Wake for Unpark {
        fn wake(self: std::sync::Arc<Self>) {
            self.0.unpark();
        }
    }
    let waker = std::task::Waker::from(std::sync::Arc::new(Unpark(std::thread::current())));
    let mut cx = std::task::Context::from_waker(&waker);
    let mut f = std::pin::pin!(f);
    let deadline = std::time::Instant::now() + HANG_GUARD;
    loop {
        if let std::task::Poll::Ready(v) = f.as_mut().poll(&mut cx) {
            return v;
        }
        assert!(std::time::Instant::now() < deadline, "did not finish within the hang guard");
        std::thread::park_timeout(Duration::from_millis(100));
    }
}

/// The message of a panic payload (`String` or `&str`), empty for other payloads.
pub fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_default()
}
