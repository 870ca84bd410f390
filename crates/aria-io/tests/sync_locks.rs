//! Mutex and RwLock: exclusion across awaits, FIFO fairness, writer preference, cancellation,
//! and use from plain threads with their own executor.

mod support;

use std::future::Future;
use std::pin::pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};
use std::time::Duration;

use aria_io::sync::{Mutex, RwLock};
use aria_io::time::timeout;
use support::{run, run_current_thread};

/// A plain executor: polls `f` on this thread, parking between polls.
fn block_on<F: Future>(f: F) -> F::Output {
    struct Unpark(std::thread::Thread);
    impl Wake for Unpark {
        fn wake(self: Arc<Self>) {
            self.0.unpark();
        }
    }
    let waker = Waker::from(Arc::new(Unpark(std::thread::current())));
    let mut f = pin!(f);
    loop {
        if let Poll::Ready(v) = f.as_mut().poll(&mut Context::from_waker(&waker)) {
            return v;
        }
        std::thread::park();
    }
}

#[test]
fn mutex_guards_held_across_awaits_never_overlap() {
    run(async {
        let lock = Arc::new(Mutex::new(0u32));
        let inside = Arc::new(AtomicBool::new(false));
        let tasks: Vec<_> = (0..20)
            .map(|_| {
                let (lock, inside) = (lock.clone(), inside.clone());
                aria_io::spawn(async move {
                    for _ in 0..10 {
                        let mut n = lock.lock().await;
                        assert!(!inside.swap(true, Ordering::SeqCst), "two guards at once");
                        aria_io::yield_now().await;
                        *n += 1;
                        inside.store(false, Ordering::SeqCst);
                    }
                })
            })
            .collect();
        for t in tasks {
            t.await.unwrap();
        }
        assert_eq!(*lock.lock().await, 200);
    });
}

#[test]
fn mutex_waiters_get_the_lock_in_the_order_they_asked() {
    // One thread, so each task is waiting before the next one is spawned.
    run_current_thread(async {
        let lock = Arc::new(Mutex::new(Vec::new()));
        let guard = lock.lock().await;
        let mut tasks = Vec::new();
        for id in 0..8 {
            let lock = lock.clone();
            tasks.push(aria_io::spawn(async move { lock.lock().await.push(id) }));
            aria_io::yield_now().await; // it queues before the next one is spawned
        }
        assert!(lock.try_lock().is_err(), "try_lock does not jump the queue");
        drop(guard);
        for t in tasks {
            t.await.unwrap();
        }
        assert_eq!(*lock.lock().await, (0..8).collect::<Vec<_>>());
    });
}

#[test]
fn lock_attempts_cancelled_by_timeouts_never_lose_the_lock() {
    run(async {
        let lock = Arc::new(Mutex::new(0u64));
        let tasks: Vec<_> = (0..16u64)
            .map(|i| {
                let lock = lock.clone();
                aria_io::spawn(async move {
                    for round in 0..50u64 {
                        let wait = Duration::from_micros((i * 7 + round * 13) % 40);
                        if let Ok(mut n) = timeout(wait, lock.lock()).await {
                            aria_io::yield_now().await;
                            *n += 1;
                        }
                    }
                })
            })
            .collect();
        for t in tasks {
            t.await.unwrap();
        }
        let n = lock.try_lock().expect("the lock is free once everyone is done");
        assert!(*n > 0);
    });
}

#[test]
fn an_aborted_task_waiting_for_the_lock_passes_it_on() {
    run(async {
        let lock = Arc::new(Mutex::new(()));
        let guard = lock.clone().lock_owned().await;
        let first = {
            let lock = lock.clone();
            aria_io::spawn(async move { drop(lock.lock().await) })
        };
        aria_io::yield_now().await;
        let second = {
            let lock = lock.clone();
            aria_io::spawn(async move { drop(lock.lock().await) })
        };
        aria_io::yield_now().await;
        drop(guard); // hands the lock to `first`...
        first.abort(); // ...which is cancelled before it runs
        assert!(timeout(Duration::from_secs(5), second).await.is_ok(), "the lock was lost");
    });
}

#[test]
fn a_mutex_shared_by_std_threads_on_plain_executors() {
    let lock = Arc::new(Mutex::new(0u32));
    let threads: Vec<_> = (0..4)
        .map(|_| {
            let lock = lock.clone();
            std::thread::spawn(move || {
                for _ in 0..500 {
                    block_on(async { *lock.lock().await += 1 });
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    assert_eq!(*lock.try_lock().unwrap(), 2000);
}

#[test]
fn readers_share_the_lock_and_a_writer_excludes_them() {
    run(async {
        let lock = Arc::new(RwLock::new(0));
        let r1 = lock.read().await;
        let r2 = lock.read().await;
        assert!(lock.try_write().is_err());
        let writer = {
            let lock = lock.clone();
            aria_io::spawn(async move { *lock.write().await += 1 })
        };
        aria_io::yield_now().await;
        assert!(!writer.is_finished());
        drop((r1, r2));
        writer.await.unwrap();
        assert_eq!(*lock.read().await, 1);
    });
}

#[test]
fn a_waiting_writer_goes_before_readers_that_came_after_it() {
    // One thread, so the writer waits before the late reader is spawned.
    run_current_thread(async {
        let lock = Arc::new(RwLock::new(Vec::new()));
        let reader = lock.read().await;
        let writer = {
            let lock = lock.clone();
            aria_io::spawn(async move { lock.write().await.push("writer") })
        };
        aria_io::yield_now().await;
        let late_reader = {
            let lock = lock.clone();
            aria_io::spawn(async move { lock.read().await.len() })
        };
        aria_io::yield_now().await;
        assert!(!late_reader.is_finished(), "a reader may not join while a writer waits");
        drop(reader);
        writer.await.unwrap();
        assert_eq!(late_reader.await.unwrap(), 1, "the late reader saw the write");
    });
}

#[test]
fn a_cancelled_write_lets_the_readers_queued_behind_it_in() {
    run(async {
        let lock = Arc::new(RwLock::new(()));
        let reader = lock.read().await;
        let counter = Arc::new(AtomicUsize::new(0));
        let write = {
            let lock = lock.clone();
            aria_io::spawn(async move { drop(lock.write().await) })
        };
        aria_io::yield_now().await;
        let late_reader = {
            let (lock, counter) = (lock.clone(), counter.clone());
            aria_io::spawn(async move {
                let _r = lock.read().await;
                counter.fetch_add(1, Ordering::SeqCst);
            })
        };
        aria_io::yield_now().await;
        assert_eq!(counter.load(Ordering::SeqCst), 0);
        write.abort();
        assert!(timeout(Duration::from_secs(5), late_reader).await.is_ok());
        assert_eq!(counter.load(Ordering::SeqCst), 1);
        drop(reader);
        assert!(lock.try_write().is_ok());
    });
}
