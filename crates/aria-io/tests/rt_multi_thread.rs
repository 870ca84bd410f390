//! The multi-thread scheduler: parallelism, work stealing, no lost wake-ups, shutdown.
//! (Every other runtime test also runs on it with `ARIA_IO_TEST_FLAVOR=multi_thread`.)

mod support;

use std::collections::HashSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Barrier, Mutex};
use std::time::Duration;

use aria_io::{Builder, RuntimeFlavor};

fn multi_thread(workers: usize) -> aria_io::Runtime {
    Builder::new_multi_thread().worker_threads(workers).build().unwrap()
}

#[test]
fn two_workers_run_two_tasks_at_the_same_time() {
    let rt = multi_thread(2);
    assert_eq!(rt.flavor(), RuntimeFlavor::MultiThread);
    // Each task blocks its worker until the other arrives: this finishes only if both run
    // in parallel.
    let barrier = Arc::new(Barrier::new(2));
    let handles: Vec<_> = (0..2)
        .map(|_| {
            let barrier = barrier.clone();
            rt.spawn(async move {
                barrier.wait();
                std::thread::current().name().map(str::to_owned)
            })
        })
        .collect();
    let names: HashSet<_> = rt.block_on(async {
        let mut names = HashSet::new();
        for h in handles {
            names.insert(h.await.unwrap().unwrap());
        }
        names
    });
    assert_eq!(names.len(), 2, "both workers ran a task: {names:?}");
    assert!(names.iter().all(|n| n.starts_with("aria-io-worker-")), "{names:?}");
}

#[test]
fn tasks_spawned_from_one_worker_are_stolen_by_the_other() {
    let rt = multi_thread(2);
    let threads = Arc::new(Mutex::new(HashSet::new()));
    let t = threads.clone();
    rt.block_on(async move {
        aria_io::spawn(async move {
            // Spawned from a worker: they land in its local queue; the idle worker steals.
            let tasks: Vec<_> = (0..2_000)
                .map(|_| {
                    let t = t.clone();
                    aria_io::spawn(async move {
                        // Enough work per task that one worker cannot drain them all at once.
                        std::thread::sleep(Duration::from_micros(50));
                        t.lock().unwrap().insert(std::thread::current().id());
                    })
                })
                .collect();
            for task in tasks {
                task.await.unwrap();
            }
        })
        .await
        .unwrap();
    });
    assert_eq!(threads.lock().unwrap().len(), 2, "tasks ran on both workers");
}

#[test]
fn ping_pong_across_workers_loses_no_wake_up() {
    let rt = multi_thread(2);
    let rounds = 50_000u32;
    let got = rt.block_on(async move {
        let (to_b, mut b_rx) = aria_io::sync::mpsc::channel::<u32>(1);
        let (to_a, mut a_rx) = aria_io::sync::mpsc::channel::<u32>(1);
        let b = aria_io::spawn(async move {
            while let Some(v) = b_rx.recv().await {
                if to_a.send(v + 1).await.is_err() {
                    break;
                }
            }
        });
        let a = aria_io::spawn(async move {
            let mut v = 0;
            for _ in 0..rounds {
                to_b.send(v).await.unwrap();
                v = a_rx.recv().await.unwrap();
            }
            v
        });
        let v = a.await.unwrap();
        b.await.unwrap();
        v
    });
    assert_eq!(got, rounds);
}

#[test]
fn wake_ups_from_outside_threads_reach_parked_workers() {
    let rt = multi_thread(2);
    let handle = rt.handle();
    let done = Arc::new(AtomicUsize::new(0));
    // Spawns and wake-ups from plain threads, while the workers park between them.
    let threads: Vec<_> = (0..4)
        .map(|_| {
            let handle = handle.clone();
            let done = done.clone();
            std::thread::spawn(move || {
                for _ in 0..200 {
                    let (tx, rx) = aria_io::sync::oneshot::channel::<()>();
                    let done = done.clone();
                    let task = handle.spawn(async move {
                        rx.await.unwrap();
                        done.fetch_add(1, Ordering::SeqCst);
                    });
                    std::thread::sleep(Duration::from_micros(100));
                    tx.send(()).unwrap();
                    while !task.is_finished() {
                        std::thread::yield_now();
                    }
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    assert_eq!(done.load(Ordering::SeqCst), 800);
}

#[test]
fn a_timer_set_by_a_busy_worker_fires_on_time_while_the_other_waits_in_the_driver() {
    let rt = multi_thread(2);
    rt.block_on(async {
        // A long timer keeps the parked worker in the driver with a far deadline...
        let far = aria_io::spawn(aria_io::time::sleep(Duration::from_secs(30)));
        aria_io::time::sleep(Duration::from_millis(20)).await;
        // ...and a short one registered from elsewhere must wake it (`timer_added`).
        let start = std::time::Instant::now();
        aria_io::spawn(aria_io::time::sleep(Duration::from_millis(10))).await.unwrap();
        let took = start.elapsed();
        assert!(took < Duration::from_secs(5), "a 10 ms timer took {took:?}");
        far.abort();
    });
}

#[test]
fn dropping_the_runtime_stops_the_workers_and_cancels_every_task() {
    struct Guard(Arc<AtomicUsize>);
    impl Drop for Guard {
        fn drop(&mut self) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }
    let dropped = Arc::new(AtomicUsize::new(0));
    let rt = multi_thread(2);
    let handles: Vec<_> = (0..100)
        .map(|_| {
            let guard = Guard(dropped.clone());
            rt.spawn(async move {
                let _guard = guard;
                std::future::pending::<()>().await;
            })
        })
        .collect();
    rt.block_on(aria_io::time::sleep(Duration::from_millis(10)));
    drop(rt);
    assert_eq!(dropped.load(Ordering::SeqCst), 100, "every future was dropped");
    support::run_current_thread(async move {
        for h in handles {
            assert!(h.await.unwrap_err().is_cancelled());
        }
    });
}

#[test]
fn a_panicking_task_does_not_take_its_worker_down() {
    let rt = multi_thread(1);
    rt.block_on(async {
        let bad = aria_io::spawn(async { panic!("boom") });
        assert!(bad.await.unwrap_err().is_panic());
        // The single worker still runs tasks.
        assert_eq!(aria_io::spawn(async { 7 }).await.unwrap(), 7);
    });
}

#[test]
fn yield_now_lets_other_tasks_run_on_a_single_worker() {
    let rt = multi_thread(1);
    rt.block_on(async {
        let flag = Arc::new(AtomicUsize::new(0));
        let f = flag.clone();
        let spinner = aria_io::spawn(async move {
            // Without fair yielding (a yielded task put back in the LIFO slot), the setter
            // below would never run on the one worker.
            while f.load(Ordering::SeqCst) == 0 {
                aria_io::yield_now().await;
            }
        });
        let f = flag.clone();
        aria_io::spawn(async move { f.store(1, Ordering::SeqCst) }).await.unwrap();
        spinner.await.unwrap();
    });
}

#[test]
fn processes_and_pipes_work_from_any_worker() {
    let rt = multi_thread(2);
    let outs = rt.block_on(async {
        let tasks: Vec<_> = (0..20)
            .map(|i| {
                aria_io::spawn(async move {
                    aria_io::process::Command::new("echo").arg(i.to_string()).output().await.unwrap().stdout
                })
            })
            .collect();
        let mut outs = Vec::new();
        for t in tasks {
            outs.push(String::from_utf8(t.await.unwrap()).unwrap());
        }
        outs
    });
    assert_eq!(outs, (0..20).map(|i| format!("{i}\n")).collect::<Vec<_>>());
}

#[test]
fn tasks_waking_each_other_through_the_lifo_slot_do_not_starve_the_local_queue() {
    let rt = multi_thread(1);
    let done = rt.block_on(async {
        let starved = "the queued task never ran: the LIFO pair starved the local queue";
        aria_io::time::timeout(support::HANG_GUARD, lifo_pair_then_queued_task()).await.expect(starved)
    });
    assert_eq!(done, 1);
}

async fn lifo_pair_then_queued_task() -> usize {
    {
        let stop = Arc::new(AtomicUsize::new(0));
        let s = stop.clone();
        // Spawned from the worker, so everything below lands in its local queue.
        aria_io::spawn(async move {
            let (to_b, mut b_rx) = aria_io::sync::mpsc::channel::<u32>(1);
            let (to_a, mut a_rx) = aria_io::sync::mpsc::channel::<u32>(1);
            // A ping-pong pair that never yields: each wakes the other into the LIFO slot.
            let stop_a = s.clone();
            aria_io::spawn(async move {
                while stop_a.load(Ordering::SeqCst) == 0 {
                    if to_b.send(0).await.is_err() || a_rx.recv().await.is_none() {
                        break;
                    }
                }
            });
            aria_io::spawn(async move {
                while let Some(v) = b_rx.recv().await {
                    if to_a.send(v).await.is_err() {
                        break;
                    }
                }
            });
            // Queued behind the pair: runs only if the LIFO slot gives the queue its turn.
            aria_io::spawn(async move { s.store(1, Ordering::SeqCst) }).await.unwrap();
        })
        .await
        .unwrap();
        stop.load(Ordering::SeqCst)
    }
}
