//! The Rayon bridge: results, order, panics, threads, executors, dropped futures.
//! (Built only with the `rayon` feature: see `required-features` in Cargo.toml.)

mod support;

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Barrier};
use std::thread;
use std::time::{Duration, Instant};

use aria_io::rayon::{compute, compute_in, par_map, par_map_slice};
use support::{panic_message, plain_block_on, run, HANG_GUARD};

#[test]
fn compute_resolves_with_the_closure_result_inside_block_on() {
    let v = run(async { compute(|| (1..=100_000u64).sum::<u64>()).await });
    assert_eq!(v, 5_000_050_000);
}

#[test]
fn compute_runs_on_a_rayon_thread_not_the_calling_one() {
    let caller = thread::current().id();
    let (id, index) =
        run(async { compute(|| (thread::current().id(), rayon::current_thread_index())).await });
    assert_ne!(id, caller);
    assert!(index.is_some(), "not on a Rayon pool thread");
}

#[test]
fn the_runtime_keeps_running_tasks_while_a_computation_is_in_flight() {
    run(async {
        let release = Arc::new(AtomicBool::new(false));
        let r = release.clone();
        let computation = compute(move || {
            while !r.load(Ordering::SeqCst) {
                thread::yield_now();
            }
            7
        });
        // This task runs on the runtime thread while the Rayon thread spins.
        let ticks = aria_io::spawn(async move {
            for _ in 0..10 {
                aria_io::time::sleep(Duration::from_millis(1)).await;
            }
            release.store(true, Ordering::SeqCst);
            10
        });
        assert_eq!(computation.await, 7);
        assert_eq!(ticks.await.unwrap(), 10);
    });
}

#[test]
fn compute_works_under_a_plain_executor_without_a_runtime() {
    assert_eq!(plain_block_on(compute(|| 6 * 7)), 42);
    let out = plain_block_on(par_map((0..1000u32).collect(), |x| x + 1));
    assert_eq!(out, (1..=1000).collect::<Vec<_>>());
}

#[test]
fn compute_works_inside_a_spawned_task() {
    run(async {
        let h = aria_io::spawn(async { compute(|| "from rayon".to_string()).await });
        assert_eq!(h.await.unwrap(), "from rayon");
    });
}

#[test]
fn par_map_keeps_input_order_for_100k_items() {
    const N: u64 = 100_000;
    let out = run(par_map((0..N).collect(), |x| x * x + 1));
    assert_eq!(out.len(), N as usize);
    assert!(out.iter().enumerate().all(|(i, &v)| v == (i as u64) * (i as u64) + 1));
}

#[test]
fn par_map_slice_keeps_input_order_for_borrowed_and_shared_items() {
    let words: Vec<String> = (0..100_000).map(|i| format!("w{i}")).collect();
    // A borrowed slice (cloned once into the job).
    let lens = run(par_map_slice(&words[..], |w| w.len()));
    assert_eq!(lens, words.iter().map(String::len).collect::<Vec<_>>());
    // A shared Arc<[T]>, not copied.
    let shared: Arc<[String]> = words.into();
    let firsts = run(par_map_slice(shared.clone(), |w| w.as_bytes()[1]));
    assert_eq!(firsts.len(), shared.len());
    assert!(firsts.iter().zip(shared.iter()).all(|(b, w)| *b == w.as_bytes()[1]));
}

#[test]
fn par_map_uses_more_than_one_rayon_thread_when_there_are_several() {
    if rayon::current_num_threads() < 2 {
        return; // nothing to show on a one-thread pool
    }
    // Each item waits until two distinct threads have arrived, which only parallel
    // execution can satisfy.
    let barrier = Arc::new(Barrier::new(2));
    let threads = run(par_map(vec![(); 2], move |()| {
        barrier.wait();
        thread::current().id()
    }));
    assert_ne!(threads[0], threads[1]);
}

#[test]
fn a_panic_in_compute_is_resumed_at_the_await_with_its_payload() {
    let res = catch_unwind(|| run(async { compute(|| -> u32 { panic!("rayon job failed") }).await }));
    assert_eq!(panic_message(&*res.unwrap_err()), "rayon job failed");
    // The pool survives it.
    assert_eq!(run(compute(|| 1)), 1);
}

#[test]
fn a_panic_in_compute_inside_a_task_becomes_its_join_error() {
    run(async {
        let err =
            aria_io::spawn(async { compute(|| -> () { panic!("job in task") }).await }).await.unwrap_err();
        assert!(err.is_panic());
        assert!(err.to_string().contains("job in task"), "{err}");
    });
}

#[test]
fn a_panic_in_par_map_is_resumed_at_the_await() {
    let res = catch_unwind(AssertUnwindSafe(|| {
        plain_block_on(par_map((0..10_000u32).collect(), |x| {
            if x == 5_000 {
                panic!("item 5000");
            }
            x
        }))
    }));
    assert_eq!(panic_message(&*res.unwrap_err()), "item 5000");
}

#[test]
fn a_panic_payload_that_is_not_a_string_survives() {
    let res = catch_unwind(|| plain_block_on(compute(|| std::panic::panic_any(17u8))));
    assert_eq!(res.unwrap_err().downcast_ref::<u8>(), Some(&17));
}

#[test]
fn dropping_the_future_lets_the_closure_finish_and_discards_its_result() {
    struct Counted(Arc<AtomicUsize>);
    impl Drop for Counted {
        fn drop(&mut self) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }
    let ran = Arc::new(AtomicUsize::new(0));
    let dropped = Arc::new(AtomicUsize::new(0));
    let gate = Arc::new(AtomicBool::new(false));
    let fut = {
        let (ran, dropped, gate) = (ran.clone(), dropped.clone(), gate.clone());
        compute(move || {
            while !gate.load(Ordering::SeqCst) {
                thread::yield_now();
            }
            ran.fetch_add(1, Ordering::SeqCst);
            Counted(dropped)
        })
    };
    drop(fut);
    gate.store(true, Ordering::SeqCst);
    let deadline = Instant::now() + HANG_GUARD;
    while dropped.load(Ordering::SeqCst) == 0 {
        assert!(Instant::now() < deadline, "the result was never dropped");
        thread::sleep(Duration::from_millis(1));
    }
    assert_eq!(ran.load(Ordering::SeqCst), 1, "the closure was not run");
}

#[test]
fn a_computation_can_time_out_and_is_not_cancelled_by_it() {
    run(async {
        let finished = Arc::new(AtomicBool::new(false));
        let f = finished.clone();
        let slow = compute(move || {
            thread::sleep(Duration::from_millis(50));
            f.store(true, Ordering::SeqCst);
        });
        assert!(aria_io::time::timeout(Duration::from_millis(1), slow).await.is_err());
        while !finished.load(Ordering::SeqCst) {
            aria_io::time::sleep(Duration::from_millis(5)).await;
        }
    });
}

#[test]
fn compute_in_runs_on_the_given_pool() {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .thread_name(|i| format!("bridge-test-{i}"))
        .build()
        .unwrap();
    let name = run(compute_in(&pool, || thread::current().name().map(str::to_string)));
    assert_eq!(name.as_deref(), Some("bridge-test-0"));
}

#[test]
fn many_concurrent_computations_from_one_runtime_all_resolve() {
    run(async {
        let mut set = aria_io::task::JoinSet::new();
        for i in 0..1000u64 {
            set.spawn(async move { compute(move || i * 3).await });
        }
        let mut sum = 0;
        while let Some(res) = set.join_next().await {
            sum += res.unwrap();
        }
        assert_eq!(sum, 3 * 999 * 1000 / 2);
    });
}

#[test]
fn nested_parallelism_inside_compute_works() {
    let v = run(compute(|| {
        use rayon::prelude::*;
        (0..10_000u64).into_par_iter().map(|x| x % 7).sum::<u64>()
    }));
    assert_eq!(v, (0..10_000u64).map(|x| x % 7).sum::<u64>());
}
