//! The blocking pool: results, panics, concurrency, thread names, bounds and keep-alive.

mod support;

use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use aria_io::blocking::spawn_blocking;
use support::run;

#[test]
fn spawn_blocking_returns_the_closure_value() {
    run(async {
        let v = spawn_blocking(|| (1..=10u64).product::<u64>()).await.unwrap();
        assert_eq!(v, 3_628_800);
        let owned = spawn_blocking(|| String::from("moved out")).await.unwrap();
        assert_eq!(owned, "moved out");
    });
}

#[test]
fn a_panicking_job_yields_a_panic_error_with_its_payload() {
    run(async {
        let err = spawn_blocking(|| -> u32 { panic!("job failed on purpose") }).await.unwrap_err();
        assert!(err.is_panic() && !err.is_cancelled());
        let payload = err.try_into_panic().unwrap();
        assert_eq!(payload.downcast_ref::<&str>(), Some(&"job failed on purpose"));
        // The pool survives the panic.
        assert_eq!(spawn_blocking(|| 5).await.unwrap(), 5);
    });
}

#[test]
fn jobs_run_on_threads_named_after_the_pool() {
    run(async {
        let name = spawn_blocking(|| std::thread::current().name().map(str::to_owned)).await.unwrap();
        let name = name.expect("pool threads are named");
        assert!(name.starts_with("aria-io-blocking-"), "{name}");
        assert!(name["aria-io-blocking-".len()..].parse::<usize>().is_ok(), "{name}");
    });
}

/// A rendezvous with a timeout: true if `parties` jobs were all waiting at once.
fn rendezvous(state: &(Mutex<usize>, Condvar), parties: usize) -> bool {
    let (count, cv) = state;
    let mut n = count.lock().unwrap();
    *n += 1;
    cv.notify_all();
    let (n, res) = cv.wait_timeout_while(n, Duration::from_secs(30), |n| *n < parties).unwrap();
    drop(n);
    !res.timed_out()
}

#[test]
fn many_jobs_run_concurrently() {
    const JOBS: usize = 32;
    run(async {
        let state = Arc::new((Mutex::new(0), Condvar::new()));
        let handles: Vec<_> = (0..JOBS)
            .map(|_| {
                let state = state.clone();
                spawn_blocking(move || rendezvous(&state, JOBS))
            })
            .collect();
        for h in handles {
            assert!(h.await.unwrap(), "the jobs did not all run at the same time");
        }
    });
}

#[test]
fn blocking_jobs_do_not_stall_the_runtime() {
    run(async {
        let slow = spawn_blocking(|| std::thread::sleep(Duration::from_millis(300)));
        let start = Instant::now();
        aria_io::time::sleep(Duration::from_millis(10)).await;
        assert!(start.elapsed() < Duration::from_millis(250), "the timer waited for the job");
        slow.await.unwrap();
    });
}

#[test]
fn spawn_blocking_works_without_a_runtime() {
    let (tx, rx) = std::sync::mpsc::channel();
    let handle = spawn_blocking(move || tx.send(std::thread::current().name().map(str::to_owned)).unwrap());
    drop(handle); // detached: the job still runs
    let name = rx.recv_timeout(Duration::from_secs(30)).unwrap().unwrap();
    assert!(name.starts_with("aria-io-blocking-"));
}

#[test]
fn dropping_a_runtime_does_not_wait_for_blocking_jobs() {
    let rt = support::runtime();
    let (tx, rx) = std::sync::mpsc::channel();
    let task = rt.spawn(async move {
        spawn_blocking(move || {
            std::thread::sleep(Duration::from_millis(500));
            let _ = tx.send(());
        })
        .await
    });
    rt.block_on(aria_io::time::sleep(Duration::from_millis(20)));
    let start = Instant::now();
    drop(rt);
    assert!(start.elapsed() < Duration::from_millis(400), "shutdown waited for the pool");
    let rt2 = support::runtime();
    assert!(rt2.block_on(task).unwrap_err().is_cancelled());
    // The detached job still ran to the end.
    rx.recv_timeout(Duration::from_secs(30)).unwrap();
}

/// Pool threads alive, by their kernel name (`aria-io-blocking-N` truncated to 15 bytes).
fn pool_threads() -> usize {
    std::fs::read_dir("/proc/self/task")
        .unwrap()
        .filter_map(|t| std::fs::read_to_string(t.ok()?.path().join("comm")).ok())
        .filter(|comm| comm.trim_end() == "aria-io-blockin")
        .count()
}

const CHILD_TEST: &str = "the_pool_is_bounded_and_idle_threads_exit_after_the_keep_alive";

/// The pool reads its limits once per process, so this test runs itself again in a child
/// process (this test binary, filtered to this test) with small limits in the environment.
#[test]
fn the_pool_is_bounded_and_idle_threads_exit_after_the_keep_alive() {
    if std::env::var_os("ARIA_IO_BLOCKING_KEEP_ALIVE_MS").is_none() {
        let out = std::process::Command::new(std::env::current_exe().unwrap())
            .args(["--exact", CHILD_TEST, "--nocapture", "--test-threads=1"])
            .env("ARIA_IO_BLOCKING_KEEP_ALIVE_MS", "500")
            .env("ARIA_IO_BLOCKING_MAX_THREADS", "2")
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success() && stdout.contains("1 passed"),
            "child failed:\n{stdout}\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        return;
    }
    // In the child: at most 2 threads, gone 500 ms after the last job.
    run(async {
        let names = Arc::new(Mutex::new(std::collections::HashSet::new()));
        let handles: Vec<_> = (0..8)
            .map(|_| {
                let names = names.clone();
                spawn_blocking(move || {
                    std::thread::sleep(Duration::from_millis(20));
                    let name = std::thread::current().name().unwrap().to_owned();
                    names.lock().unwrap().insert(name);
                    pool_threads()
                })
            })
            .collect();
        for h in handles {
            assert!(h.await.unwrap() <= 2, "more threads than the bound");
        }
        assert_eq!(names.lock().unwrap().len(), 2, "8 jobs queued on 2 threads: both used");
        assert_eq!(pool_threads(), 2, "idle threads stay during the keep-alive");
        let start = Instant::now();
        while pool_threads() > 0 {
            assert!(start.elapsed() < Duration::from_secs(20), "idle threads never exited");
            aria_io::time::sleep(Duration::from_millis(20)).await;
        }
        assert!(start.elapsed() >= Duration::from_millis(100), "threads exited before the keep-alive");
        // The pool starts threads again on demand, with fresh numbers.
        let name = spawn_blocking(|| std::thread::current().name().unwrap().to_owned()).await.unwrap();
        assert!(name == "aria-io-blocking-2", "{name}");
    });
}
