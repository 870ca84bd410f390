//! Tasks, join handles, abort, wake-ups from other threads, shutdown.

mod support;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use support::run;

#[test]
fn spawned_tasks_run_and_their_output_is_joined() {
    run(async {
        let handles: Vec<_> = (0..1000u64).map(|i| aria_io::spawn(async move { i * 2 })).collect();
        let mut sum = 0;
        for h in handles {
            sum += h.await.unwrap();
        }
        assert_eq!(sum, 999 * 1000);
    });
}

#[test]
fn a_panicking_task_yields_a_panic_join_error() {
    run(async {
        let err = aria_io::spawn(async { panic!("boom") }).await.unwrap_err();
        assert!(err.is_panic());
        assert!(err.to_string().contains("boom"));
        // The runtime keeps working.
        assert_eq!(aria_io::spawn(async { 1 }).await.unwrap(), 1);
    });
}

#[test]
fn abort_cancels_a_pending_task_and_drops_its_future() {
    struct Flag(Arc<AtomicUsize>);
    impl Drop for Flag {
        fn drop(&mut self) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }
    run(async {
        let dropped = Arc::new(AtomicUsize::new(0));
        let flag = Flag(dropped.clone());
        let h = aria_io::spawn(async move {
            let _flag = flag;
            aria_io::time::sleep(Duration::from_secs(3600)).await;
        });
        aria_io::yield_now().await;
        h.abort();
        let err = h.await.unwrap_err();
        assert!(err.is_cancelled());
        assert_eq!(dropped.load(Ordering::SeqCst), 1);
    });
}

#[test]
fn abort_after_completion_keeps_the_output() {
    run(async {
        let h = aria_io::spawn(async { 7 });
        while !h.is_finished() {
            aria_io::yield_now().await;
        }
        h.abort();
        assert_eq!(h.await.unwrap(), 7);
    });
}

#[test]
fn a_wake_from_another_thread_reaches_a_parked_runtime() {
    run(async {
        let (tx, rx) = std::sync::mpsc::channel::<std::task::Waker>();
        let flag = Arc::new(AtomicUsize::new(0));
        let f2 = flag.clone();
        let t = std::thread::spawn(move || {
            let w = rx.recv().unwrap();
            std::thread::sleep(Duration::from_millis(20));
            f2.store(1, Ordering::SeqCst);
            w.wake();
        });
        let mut sent = false;
        std::future::poll_fn(|cx| {
            if flag.load(Ordering::SeqCst) == 1 {
                return std::task::Poll::Ready(());
            }
            if !sent {
                tx.send(cx.waker().clone()).unwrap();
                sent = true;
            }
            std::task::Poll::Pending
        })
        .await;
        t.join().unwrap();
    });
}

#[test]
fn a_handle_spawns_from_another_thread() {
    let rt = support::runtime();
    let handle = rt.handle();
    let t = std::thread::spawn(move || handle.spawn(async { 41 + 1 }));
    let jh = t.join().unwrap();
    assert_eq!(rt.block_on(jh).unwrap(), 42);
}

#[test]
fn dropping_the_runtime_cancels_pending_tasks_and_resolves_their_handles() {
    let rt = support::runtime();
    let h = rt.spawn(async {
        aria_io::time::sleep(Duration::from_secs(3600)).await;
        1
    });
    rt.block_on(aria_io::yield_now());
    drop(rt);
    let rt2 = support::runtime();
    let err = rt2.block_on(h).unwrap_err();
    assert!(err.is_cancelled());
}

#[test]
fn many_tasks_ping_pong_through_wakers_without_losing_a_wake_up() {
    run(async {
        let counter = Arc::new(AtomicUsize::new(0));
        let mut handles = Vec::new();
        for _ in 0..100 {
            let c = counter.clone();
            handles.push(aria_io::spawn(async move {
                for _ in 0..100 {
                    aria_io::yield_now().await;
                    c.fetch_add(1, Ordering::Relaxed);
                }
            }));
        }
        for h in handles {
            h.await.unwrap();
        }
        assert_eq!(counter.load(Ordering::Relaxed), 10_000);
    });
}

#[aria_io::test]
async fn the_test_attribute_runs_an_async_test() {
    aria_io::time::sleep(Duration::from_millis(1)).await;
    assert_eq!(aria_io::spawn(async { 3 }).await.unwrap(), 3);
}

#[test]
#[should_panic(expected = "inside a runtime")]
fn a_nested_block_on_panics_with_an_explanation() {
    let rt = support::runtime();
    let rt2 = support::runtime();
    rt.block_on(async { rt2.block_on(async {}) });
}

#[test]
fn completions_arrive_while_another_task_keeps_the_scheduler_busy() {
    // The driver is then turned without blocking after every batch of polls; it must still
    // deliver process exits and pipe data (with io_uring's deferred task run, only an enter
    // that asks for completions posts them).
    run(async {
        let stop = Arc::new(AtomicUsize::new(0));
        let spinner = aria_io::spawn({
            let stop = stop.clone();
            async move {
                while stop.load(Ordering::Relaxed) == 0 {
                    aria_io::yield_now().await;
                }
            }
        });
        let st = support::helper(&["exit", "4"]).status().await.unwrap();
        assert_eq!(st.code(), Some(4));
        let out = support::helper(&["emit", "1", "100000"]).output().await.unwrap();
        assert_eq!(out.stdout.len(), 100_000);
        aria_io::time::sleep(Duration::from_millis(5)).await;
        stop.store(1, Ordering::Relaxed);
        spinner.await.unwrap();
    });
}

#[test]
fn a_wake_up_sent_from_a_thread_local_destructor_is_not_lost() {
    /// Sends its value when dropped, as thread-local state may when its thread exits.
    struct SendOnDrop(Option<aria_io::sync::oneshot::Sender<u32>>);
    impl Drop for SendOnDrop {
        fn drop(&mut self) {
            if let Some(tx) = self.0.take() {
                let _ = tx.send(7);
            }
        }
    }
    thread_local! {
        static PENDING: std::cell::RefCell<Option<SendOnDrop>> = const { std::cell::RefCell::new(None) };
    }
    run(async {
        let (tx, rx) = aria_io::sync::oneshot::channel();
        let waiter = aria_io::spawn(async move { rx.await.unwrap() });
        aria_io::yield_now().await; // the waiter is waiting
        let handle = aria_io::Handle::current();
        std::thread::spawn(move || {
            PENDING.with(|p| *p.borrow_mut() = Some(SendOnDrop(Some(tx))));
            // The runtime's thread-local context is created after PENDING, so it is destroyed
            // first: the wake-up comes from a thread with no context left.
            drop(handle.spawn(async {}));
        })
        .join()
        .unwrap();
        let got = aria_io::time::timeout(Duration::from_secs(10), waiter).await;
        assert_eq!(got.expect("the wake-up was lost").unwrap(), 7);
    });
}
