//! Semaphore: concurrency limits, FIFO service of multi-permit requests, cancellation, close,
//! owned permits, permits added from other threads.

mod support;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex as StdMutex};
use std::time::Duration;

use aria_io::sync::{Semaphore, TryAcquireError};
use aria_io::time::{sleep, timeout};
use support::{run, run_current_thread};

#[test]
fn permits_bound_how_many_tasks_run_at_once() {
    run(async {
        let sem = Arc::new(Semaphore::new(3));
        let (now, peak) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
        let tasks: Vec<_> = (0..12)
            .map(|_| {
                let (sem, now, peak) = (sem.clone(), now.clone(), peak.clone());
                aria_io::spawn(async move {
                    let _permit = sem.acquire().await.unwrap();
                    let n = now.fetch_add(1, Ordering::SeqCst) + 1;
                    peak.fetch_max(n, Ordering::SeqCst);
                    sleep(Duration::from_millis(2)).await;
                    now.fetch_sub(1, Ordering::SeqCst);
                })
            })
            .collect();
        for t in tasks {
            t.await.unwrap();
        }
        assert_eq!(peak.load(Ordering::SeqCst), 3);
        assert_eq!(sem.available_permits(), 3);
    });
}

#[test]
fn waiters_are_served_in_order_even_when_a_big_request_is_first() {
    run_current_thread(async {
        let sem = Arc::new(Semaphore::new(4));
        let all = sem.acquire_many(4).await.unwrap();
        let order = Arc::new(StdMutex::new(Vec::new()));
        let mut tasks = Vec::new();
        for (id, n) in [(0, 3u32), (1, 1), (2, 2), (3, 1)] {
            let (sem, order) = (sem.clone(), order.clone());
            tasks.push(aria_io::spawn(async move {
                let permit = sem.acquire_many(n).await.unwrap();
                order.lock().unwrap().push(id);
                sleep(Duration::from_millis(1)).await;
                drop(permit);
            }));
            aria_io::yield_now().await;
        }
        drop(all);
        for t in tasks {
            t.await.unwrap();
        }
        let order = order.lock().unwrap().clone();
        assert_eq!(order, [0, 1, 2, 3]);
    });
}

#[test]
fn try_acquire_does_not_jump_the_queue() {
    run_current_thread(async {
        let sem = Arc::new(Semaphore::new(1));
        let held = sem.try_acquire().unwrap();
        let waiter = {
            let sem = sem.clone();
            aria_io::spawn(async move { sem.acquire_many(2).await.map(|p| p.num_permits()) })
        };
        aria_io::yield_now().await;
        sem.add_permits(1);
        assert_eq!(sem.try_acquire().unwrap_err(), TryAcquireError::NoPermits);
        drop(held);
        assert_eq!(waiter.await.unwrap(), Ok(2));
    });
}

#[test]
fn acquires_cancelled_by_timeouts_lose_no_permit() {
    run(async {
        let sem = Arc::new(Semaphore::new(2));
        let tasks: Vec<_> = (0..10u64)
            .map(|i| {
                let sem = sem.clone();
                aria_io::spawn(async move {
                    for round in 0..40u64 {
                        let n = 1 + ((i + round) % 2) as u32;
                        let wait = Duration::from_micros((i * 11 + round * 5) % 30);
                        if let Ok(permit) = timeout(wait, sem.acquire_many(n)).await {
                            let _permit = permit.unwrap();
                            aria_io::yield_now().await;
                        }
                    }
                })
            })
            .collect();
        for t in tasks {
            t.await.unwrap();
        }
        assert_eq!(sem.available_permits(), 2);
        assert!(timeout(Duration::ZERO, sem.acquire_many(5)).await.is_err());
        assert_eq!(sem.available_permits(), 2, "a partially served, cancelled request gave its share back");
    });
}

#[test]
fn close_fails_waiting_and_later_acquires() {
    run(async {
        let sem = Arc::new(Semaphore::new(0));
        let waiter = {
            let sem = sem.clone();
            aria_io::spawn(async move { sem.acquire().await.is_err() })
        };
        aria_io::yield_now().await;
        sem.close();
        assert!(waiter.await.unwrap());
        assert!(sem.is_closed());
        assert!(sem.acquire().await.is_err());
        assert_eq!(sem.try_acquire().unwrap_err(), TryAcquireError::Closed);
    });
}

#[test]
fn owned_permits_travel_into_spawned_tasks() {
    run(async {
        let sem = Arc::new(Semaphore::new(2));
        let mut tasks = Vec::new();
        for _ in 0..6 {
            let permit = sem.clone().acquire_owned().await.unwrap();
            tasks.push(aria_io::spawn(async move {
                sleep(Duration::from_millis(1)).await;
                drop(permit);
            }));
        }
        for t in tasks {
            t.await.unwrap();
        }
        let p = sem.clone().try_acquire_many_owned(2).unwrap();
        assert!(Arc::ptr_eq(p.semaphore(), &sem));
        p.forget();
        assert_eq!(sem.available_permits(), 0);
    });
}

#[test]
fn permits_added_on_a_std_thread_wake_waiters_on_the_runtime() {
    run(async {
        let sem = Arc::new(Semaphore::new(0));
        let adder = {
            let sem = sem.clone();
            std::thread::spawn(move || {
                for _ in 0..100 {
                    std::thread::sleep(Duration::from_micros(100));
                    sem.add_permits(1);
                }
            })
        };
        for _ in 0..100 {
            sem.acquire().await.unwrap().forget();
        }
        adder.join().unwrap();
        assert_eq!(sem.available_permits(), 0);
    });
}
