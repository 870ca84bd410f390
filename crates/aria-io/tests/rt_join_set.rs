//! JoinSet: completion order, panics, abort, drop, cancel safety, shutdown, detach.

mod support;

use std::future::Future;
use std::pin::pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use aria_io::sync::oneshot;
use aria_io::task::JoinSet;
use support::{run, run_current_thread};

/// Counts its drops: proves a task's future was dropped (aborted or finished).
struct DropGuard(Arc<AtomicUsize>);

impl Drop for DropGuard {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

async fn yield_times(n: usize) {
    for _ in 0..n {
        aria_io::yield_now().await;
    }
}

/// Yields until `cond` holds (the hang guard bounds it).
async fn until(cond: impl Fn() -> bool) {
    while !cond() {
        aria_io::yield_now().await;
    }
}

#[test]
fn ten_thousand_tasks_finishing_out_of_order_come_back_in_completion_order() {
    const N: usize = 10_000;
    run_current_thread(async {
        let finished = Arc::new(AtomicUsize::new(0));
        let mut set = JoinSet::new();
        for i in 0..N {
            let finished = finished.clone();
            // Spawn order is not completion order: task i finishes after (i * 7919) % 100 turns.
            let turns = (i * 7919) % 100;
            set.spawn(async move {
                yield_times(turns).await;
                (i, turns, finished.fetch_add(1, Ordering::SeqCst))
            });
        }
        assert_eq!(set.len(), N);
        let mut seen = vec![false; N];
        let mut last_seq = None;
        let mut last_turns = 0;
        let mut out_of_spawn_order = 0;
        let mut prev_i = 0;
        while let Some(res) = set.join_next().await {
            let (i, turns, seq) = res.expect("no task fails");
            assert!(!seen[i], "task {i} joined twice");
            seen[i] = true;
            // Completion order: the order in which the tasks finished.
            assert!(last_seq.is_none_or(|last| seq > last), "joined out of completion order");
            assert!(turns >= last_turns, "a task that ran {turns} turns came after one of {last_turns}");
            last_seq = Some(seq);
            last_turns = turns;
            if i < prev_i {
                out_of_spawn_order += 1;
            }
            prev_i = i;
        }
        assert!(seen.iter().all(|s| *s));
        assert!(out_of_spawn_order > 0);
        assert!(set.is_empty());
        assert!(set.join_next().await.is_none());
    });
}

#[test]
fn join_next_on_an_empty_set_is_none_at_once() {
    run(async {
        let mut set = JoinSet::<()>::new();
        assert!(set.is_empty());
        assert!(set.join_next().await.is_none());
        assert!(set.try_join_next().is_none());
    });
}

#[test]
fn a_panicking_task_comes_back_as_a_panic_join_error_and_the_others_still_finish() {
    run(async {
        let mut set = JoinSet::new();
        for i in 0..10u32 {
            set.spawn(async move {
                aria_io::yield_now().await;
                if i == 3 {
                    panic!("task three failed");
                }
                i
            });
        }
        let (mut ok, mut panics) = (Vec::new(), Vec::new());
        while let Some(res) = set.join_next().await {
            match res {
                Ok(i) => ok.push(i),
                Err(e) => panics.push(e),
            }
        }
        ok.sort();
        assert_eq!(ok, [0, 1, 2, 4, 5, 6, 7, 8, 9]);
        assert_eq!(panics.len(), 1);
        let e = panics.pop().unwrap();
        assert!(e.is_panic() && !e.is_cancelled());
        assert!(e.to_string().contains("task three failed"), "{e}");
        let payload = e.try_into_panic().unwrap();
        assert_eq!(payload.downcast_ref::<&str>(), Some(&"task three failed"));
    });
}

#[test]
fn abort_all_cancels_pending_tasks_and_keeps_outputs_of_finished_ones() {
    run_current_thread(async {
        let dropped = Arc::new(AtomicUsize::new(0));
        let mut set = JoinSet::new();
        for i in 0..5u32 {
            set.spawn(async move { i });
        }
        for _ in 0..5 {
            let guard = DropGuard(dropped.clone());
            set.spawn(async move {
                let _guard = guard;
                aria_io::time::sleep(Duration::from_secs(3600)).await;
                99
            });
        }
        // Let the first five finish and the others start sleeping.
        yield_times(3).await;
        set.abort_all();
        assert_eq!(set.len(), 10, "aborted tasks stay in the set until joined");
        let (mut ok, mut cancelled) = (Vec::new(), 0);
        while let Some(res) = set.join_next().await {
            match res {
                Ok(v) => ok.push(v),
                Err(e) => {
                    assert!(e.is_cancelled(), "{e}");
                    cancelled += 1;
                }
            }
        }
        ok.sort();
        assert_eq!(ok, [0, 1, 2, 3, 4]);
        assert_eq!(cancelled, 5);
        assert_eq!(dropped.load(Ordering::SeqCst), 5);
    });
}

#[test]
fn abort_all_before_the_tasks_ever_ran_cancels_them_all() {
    // One thread: no task can run between its spawn and `abort_all`.
    run_current_thread(async {
        let mut set = JoinSet::new();
        for _ in 0..100 {
            set.spawn(async { 1 });
        }
        set.abort_all();
        let mut cancelled = 0;
        while let Some(res) = set.join_next().await {
            assert!(res.unwrap_err().is_cancelled());
            cancelled += 1;
        }
        assert_eq!(cancelled, 100);
    });
}

#[test]
fn dropping_the_set_aborts_every_task_and_drops_its_future() {
    run(async {
        let dropped = Arc::new(AtomicUsize::new(0));
        let polled = Arc::new(AtomicUsize::new(0));
        let mut set = JoinSet::new();
        for _ in 0..100 {
            let guard = DropGuard(dropped.clone());
            let polled = polled.clone();
            set.spawn(async move {
                let _guard = guard;
                polled.fetch_add(1, Ordering::SeqCst);
                std::future::pending::<()>().await;
            });
        }
        until(|| polled.load(Ordering::SeqCst) == 100).await;
        assert_eq!(dropped.load(Ordering::SeqCst), 0);
        drop(set);
        until(|| dropped.load(Ordering::SeqCst) == 100).await;
    });
}

#[test]
fn dropping_the_set_aborts_tasks_that_never_started() {
    run(async {
        let dropped = Arc::new(AtomicUsize::new(0));
        let ran = Arc::new(AtomicUsize::new(0));
        let mut set = JoinSet::new();
        for _ in 0..10 {
            let guard = DropGuard(dropped.clone());
            let ran = ran.clone();
            set.spawn(async move {
                let _guard = guard;
                ran.fetch_add(1, Ordering::SeqCst);
            });
        }
        drop(set);
        until(|| dropped.load(Ordering::SeqCst) == 10).await;
        assert_eq!(ran.load(Ordering::SeqCst), 0, "an aborted task was polled");
    });
}

#[test]
fn join_next_is_cancel_safe_under_a_timeout() {
    run(async {
        let mut set = JoinSet::new();
        for i in 0..20u64 {
            set.spawn(async move {
                aria_io::time::sleep(Duration::from_millis(2 * i)).await;
                i
            });
        }
        let mut got = Vec::new();
        let mut timeouts = 0;
        while !set.is_empty() {
            // Much shorter than the gaps between completions: most calls are dropped while
            // pending, and no output may be lost because of that.
            match aria_io::time::timeout(Duration::from_micros(300), set.join_next()).await {
                Ok(Some(res)) => got.push(res.unwrap()),
                Ok(None) => unreachable!("the set is not empty"),
                Err(_) => timeouts += 1,
            }
        }
        got.sort();
        assert_eq!(got, (0..20).collect::<Vec<_>>());
        assert!(timeouts > 0, "the timeout never fired: the test proves nothing");
    });
}

#[test]
fn a_join_next_dropped_while_pending_loses_nothing() {
    run(async {
        let mut set = JoinSet::new();
        let (tx, rx) = oneshot::channel::<u32>();
        set.spawn(async move { rx.await.unwrap() + 1 });
        {
            let mut fut = pin!(set.join_next());
            let mut cx = Context::from_waker(Waker::noop());
            assert!(fut.as_mut().poll(&mut cx).is_pending());
            // Dropped here, pending.
        }
        tx.send(41).unwrap();
        assert_eq!(set.join_next().await.unwrap().unwrap(), 42);
        assert!(set.join_next().await.is_none());
    });
}

#[test]
fn try_join_next_returns_only_finished_tasks() {
    run_current_thread(async {
        let mut set = JoinSet::new();
        let (tx, rx) = oneshot::channel::<u32>();
        set.spawn(async move { rx.await.unwrap() });
        set.spawn(async { 5 });
        assert!(set.try_join_next().is_none(), "nothing has run yet");
        yield_times(2).await;
        assert_eq!(set.try_join_next().unwrap().unwrap(), 5);
        assert!(set.try_join_next().is_none(), "the other task is still waiting");
        assert_eq!(set.len(), 1);
        tx.send(6).unwrap();
        yield_times(2).await;
        assert_eq!(set.try_join_next().unwrap().unwrap(), 6);
        assert!(set.is_empty());
        assert!(set.try_join_next().is_none());
    });
}

#[test]
fn shutdown_aborts_and_waits_for_every_task() {
    run(async {
        let dropped = Arc::new(AtomicUsize::new(0));
        let mut set = JoinSet::new();
        for _ in 0..50 {
            let guard = DropGuard(dropped.clone());
            set.spawn(async move {
                let _guard = guard;
                std::future::pending::<()>().await;
            });
        }
        yield_times(2).await;
        set.shutdown().await;
        assert!(set.is_empty());
        assert_eq!(dropped.load(Ordering::SeqCst), 50);
        // The set is reusable afterwards.
        set.spawn(async {});
        assert!(set.join_next().await.unwrap().is_ok());
    });
}

#[test]
fn detach_all_lets_the_tasks_run_on() {
    run(async {
        let mut set = JoinSet::new();
        let done = Arc::new(AtomicUsize::new(0));
        let (tx, rx) = oneshot::channel::<()>();
        let rx = Arc::new(aria_io::sync::Mutex::new(Some(rx)));
        for _ in 0..10 {
            let done = done.clone();
            let rx = rx.clone();
            set.spawn(async move {
                if let Some(rx) = rx.lock().await.take() {
                    rx.await.unwrap();
                }
                done.fetch_add(1, Ordering::SeqCst);
            });
        }
        yield_times(2).await;
        set.detach_all();
        assert!(set.is_empty());
        assert!(set.join_next().await.is_none());
        drop(set); // must not abort the detached tasks
        tx.send(()).unwrap();
        until(|| done.load(Ordering::SeqCst) == 10).await;
    });
}

#[test]
fn a_reused_set_ignores_wakes_of_detached_tasks() {
    run(async {
        let mut set = JoinSet::new();
        let (tx, rx) = oneshot::channel::<u32>();
        set.spawn(async move { rx.await.unwrap() });
        yield_times(2).await;
        set.detach_all();
        // The new task takes the detached one's slot; the detached one's completion must not
        // be taken for it.
        let (tx2, rx2) = oneshot::channel::<u32>();
        set.spawn(async move { rx2.await.unwrap() * 10 });
        tx.send(1).unwrap();
        yield_times(3).await;
        assert!(set.try_join_next().is_none());
        tx2.send(2).unwrap();
        assert_eq!(set.join_next().await.unwrap().unwrap(), 20);
    });
}

#[test]
fn join_next_wakes_when_a_task_is_woken_from_another_thread() {
    run(async {
        let mut set = JoinSet::new();
        let mut senders = Vec::new();
        for i in 0..8u32 {
            let (tx, rx) = oneshot::channel::<u32>();
            senders.push(tx);
            set.spawn(async move { rx.await.unwrap() + i });
        }
        let t = std::thread::spawn(move || {
            for (i, tx) in senders.into_iter().enumerate().rev() {
                std::thread::sleep(Duration::from_millis(2));
                tx.send(i as u32 * 100).unwrap();
            }
        });
        let mut got = Vec::new();
        while let Some(res) = set.join_next().await {
            got.push(res.unwrap());
        }
        t.join().unwrap();
        // Sent in reverse, with gaps: joined in that order.
        assert_eq!(got, (0..8u32).rev().map(|i| i * 101).collect::<Vec<_>>());
    });
}

#[test]
fn spawn_on_a_handle_from_a_thread_outside_the_runtime() {
    let rt = support::runtime();
    let handle = rt.handle();
    let mut set = std::thread::spawn(move || {
        let mut set = JoinSet::new();
        for i in 0..100u64 {
            set.spawn_on(async move { i }, &handle);
        }
        set
    })
    .join()
    .unwrap();
    let sum = rt.block_on(async {
        let mut sum = 0;
        while let Some(res) = set.join_next().await {
            sum += res.unwrap();
        }
        sum
    });
    assert_eq!(sum, 4950);
}

#[test]
fn tasks_cancelled_by_runtime_shutdown_come_back_cancelled() {
    let mut set = JoinSet::new();
    {
        let rt = support::runtime();
        for _ in 0..10 {
            set.spawn_on(std::future::pending::<()>(), &rt.handle());
        }
        rt.block_on(aria_io::yield_now());
    }
    let other = support::runtime();
    other.block_on(async {
        let mut cancelled = 0;
        while let Some(res) = set.join_next().await {
            assert!(res.unwrap_err().is_cancelled());
            cancelled += 1;
        }
        assert_eq!(cancelled, 10);
    });
}

#[test]
fn insert_takes_over_an_already_finished_handle() {
    run(async {
        let h = aria_io::spawn(async { 3 });
        until(|| h.is_finished()).await;
        let mut set = JoinSet::new();
        set.insert(h);
        assert_eq!(set.len(), 1);
        assert_eq!(set.try_join_next().unwrap().unwrap(), 3);
        assert!(set.is_empty());
    });
}

#[test]
fn a_set_collected_from_futures_joins_all_of_them() {
    run(async {
        let set: JoinSet<u32> = (0..10u32).map(|i| async move { i }).collect();
        let mut out = set.join_all().await;
        out.sort();
        assert_eq!(out, (0..10).collect::<Vec<_>>());
    });
}

#[test]
fn join_all_resumes_a_task_panic() {
    let res = std::panic::catch_unwind(|| {
        run(async {
            let mut set = JoinSet::new();
            set.spawn(async { panic!("inner boom") });
            set.spawn(async {});
            set.join_all().await;
        })
    });
    let payload = res.unwrap_err();
    assert_eq!(payload.downcast_ref::<&str>(), Some(&"inner boom"));
}

#[test]
fn a_join_next_future_in_a_select_loop_keeps_its_place() {
    // poll_join_next under a manual select with another always-pending branch.
    run(async {
        let mut set = JoinSet::new();
        for i in 0..100u32 {
            set.spawn(async move {
                yield_times((i % 7) as usize).await;
                i
            });
        }
        let mut sum = 0;
        std::future::poll_fn(|cx| loop {
            match set.poll_join_next(cx) {
                Poll::Ready(Some(res)) => sum += res.unwrap(),
                Poll::Ready(None) => return Poll::Ready(()),
                Poll::Pending => return Poll::Pending,
            }
        })
        .await;
        assert_eq!(sum, 4950);
    });
}

#[test]
fn a_set_awaited_on_another_thread_than_its_runtime_gets_every_output() {
    // The runtime turns on one thread while another spawns onto it and joins: join wakers
    // fire across threads, and tasks finish while they are being inserted.
    const N: u64 = 10_000;
    let rt = support::runtime();
    let handle = rt.handle();
    let (stop_tx, stop_rx) = oneshot::channel::<()>();
    let joiner = std::thread::spawn(move || {
        let mut set = JoinSet::new();
        for i in 0..N {
            set.spawn_on(
                async move {
                    yield_times((i % 3) as usize).await;
                    i
                },
                &handle,
            );
        }
        let sum = support::plain_block_on(async {
            let mut sum = 0;
            while let Some(res) = set.join_next().await {
                sum += res.unwrap();
            }
            sum
        });
        stop_tx.send(()).unwrap();
        sum
    });
    rt.block_on(async { stop_rx.await.unwrap() });
    assert_eq!(joiner.join().unwrap(), N * (N - 1) / 2);
}
