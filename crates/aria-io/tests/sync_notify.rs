//! Notify and Barrier: stored permits, FIFO wake-ups, notify_waiters, cancellation, threads.

mod support;

use std::pin::pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex as StdMutex};
use std::time::Duration;

use aria_io::sync::{Barrier, Notify};
use aria_io::time::timeout;
use support::{run, run_current_thread};

#[test]
fn a_notification_sent_before_anyone_waits_is_kept_as_one_permit() {
    run(async {
        let notify = Notify::new();
        notify.notify_one();
        notify.notify_one();
        notify.notified().await;
        assert!(timeout(Duration::from_millis(5), notify.notified()).await.is_err(), "permits do not add up");
    });
}

#[test]
fn notify_one_wakes_waiters_in_the_order_they_started_waiting() {
    run_current_thread(async {
        let notify = Arc::new(Notify::new());
        let order = Arc::new(StdMutex::new(Vec::new()));
        let mut tasks = Vec::new();
        for id in 0..5 {
            let (notify, order) = (notify.clone(), order.clone());
            tasks.push(aria_io::spawn(async move {
                notify.notified().await;
                order.lock().unwrap().push(id);
            }));
            aria_io::yield_now().await;
        }
        for _ in 0..5 {
            notify.notify_one();
            aria_io::yield_now().await;
        }
        for t in tasks {
            t.await.unwrap();
        }
        assert_eq!(*order.lock().unwrap(), [0, 1, 2, 3, 4]);
    });
}

#[test]
fn a_waiter_dropped_after_being_chosen_passes_the_notification_on() {
    run(async {
        let notify = Arc::new(Notify::new());
        let mut chosen = Box::pin(notify.notified());
        chosen.as_mut().enable(); // first in line
        let next = {
            let notify = notify.clone();
            aria_io::spawn(async move { notify.notified().await })
        };
        aria_io::yield_now().await;
        notify.notify_one(); // picks `chosen`...
        drop(chosen); // ...which goes away without completing
        assert!(timeout(Duration::from_secs(5), next).await.is_ok(), "the notification was lost");
    });
}

#[test]
fn notified_futures_cancelled_by_timeouts_lose_no_notification() {
    run(async {
        let notify = Arc::new(Notify::new());
        let received = Arc::new(AtomicUsize::new(0));
        let waiter = {
            let (notify, received) = (notify.clone(), received.clone());
            aria_io::spawn(async move {
                while received.load(Ordering::SeqCst) < 200 {
                    if timeout(Duration::from_micros(30), notify.notified()).await.is_ok() {
                        received.fetch_add(1, Ordering::SeqCst);
                    }
                }
            })
        };
        let mut sent = 0;
        while sent < 200 {
            // One notification in flight at a time, so the count is exact.
            if received.load(Ordering::SeqCst) == sent {
                notify.notify_one();
                sent += 1;
            }
            aria_io::yield_now().await;
        }
        assert!(timeout(Duration::from_secs(10), waiter).await.is_ok());
        assert_eq!(received.load(Ordering::SeqCst), 200);
    });
}

#[test]
fn notify_waiters_wakes_everyone_waiting_and_keeps_no_permit() {
    run_current_thread(async {
        let notify = Arc::new(Notify::new());
        let tasks: Vec<_> = (0..4)
            .map(|_| {
                let notify = notify.clone();
                aria_io::spawn(async move { notify.notified().await })
            })
            .collect();
        for _ in 0..4 {
            aria_io::yield_now().await;
        }
        notify.notify_waiters();
        for t in tasks {
            t.await.unwrap();
        }
        assert!(timeout(Duration::from_millis(5), notify.notified()).await.is_err());
    });
}

#[test]
fn enable_then_check_misses_no_notification() {
    run(async {
        let notify = Arc::new(Notify::new());
        let flag = Arc::new(AtomicUsize::new(0));
        let setter = {
            let (notify, flag) = (notify.clone(), flag.clone());
            std::thread::spawn(move || {
                std::thread::sleep(Duration::from_millis(5));
                flag.store(1, Ordering::SeqCst);
                notify.notify_waiters();
            })
        };
        loop {
            let mut notified = pin!(notify.notified());
            notified.as_mut().enable();
            if flag.load(Ordering::SeqCst) == 1 {
                break;
            }
            notified.await;
        }
        setter.join().unwrap();
    });
}

#[test]
fn a_notification_from_a_std_thread_wakes_a_task() {
    run(async {
        let notify = Arc::new(Notify::new());
        let n = notify.clone();
        let t = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(5));
            n.notify_one();
        });
        notify.notified().await;
        t.join().unwrap();
    });
}

#[test]
fn a_barrier_releases_every_round_together_with_one_leader() {
    run(async {
        let barrier = Arc::new(Barrier::new(4));
        let leaders = Arc::new(AtomicUsize::new(0));
        let tasks: Vec<_> = (0..4)
            .map(|_| {
                let (barrier, leaders) = (barrier.clone(), leaders.clone());
                aria_io::spawn(async move {
                    for _ in 0..10 {
                        if barrier.wait().await.is_leader() {
                            leaders.fetch_add(1, Ordering::SeqCst);
                        }
                    }
                })
            })
            .collect();
        for t in tasks {
            t.await.unwrap();
        }
        assert_eq!(leaders.load(Ordering::SeqCst), 10, "one leader per round");
    });
}

#[test]
fn a_cancelled_barrier_wait_does_not_count_as_an_arrival() {
    run_current_thread(async {
        let barrier = Arc::new(Barrier::new(2));
        assert!(timeout(Duration::ZERO, barrier.wait()).await.is_err());
        let first = {
            let barrier = barrier.clone();
            aria_io::spawn(async move { barrier.wait().await })
        };
        aria_io::yield_now().await;
        assert!(!first.is_finished(), "the cancelled wait must not have completed the round");
        let second = barrier.wait().await;
        assert!(second.is_leader());
        assert!(!first.await.unwrap().is_leader());
    });
}

#[test]
fn barrier_waiters_on_std_threads_and_the_runtime_meet() {
    let barrier = Arc::new(Barrier::new(3));
    let threads: Vec<_> = (0..2)
        .map(|_| {
            let barrier = barrier.clone();
            std::thread::spawn(move || aria_io::Runtime::new().unwrap().block_on(barrier.wait()).is_leader())
        })
        .collect();
    let here = run(barrier.wait()).is_leader();
    let leaders = threads.into_iter().map(|t| t.join().unwrap()).filter(|l| *l).count() + here as usize;
    assert_eq!(leaders, 1);
}
