//! The thread-per-core scheduler: one scheduler and driver per core, tasks that stay on their
//! core, `spawn_local` for futures that are not `Send`, `spawn_on` to reach a core, shutdown
//! on each core's own thread. (Every other runtime test also runs on it with
//! `ARIA_IO_TEST_FLAVOR=thread_per_core`.)

mod support;

use std::cell::Cell;
use std::collections::HashSet;
use std::rc::Rc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Barrier, Mutex};
use std::time::Duration;

use aria_io::{Builder, Handle, RuntimeFlavor};

fn thread_per_core(cores: usize) -> aria_io::Runtime {
    Builder::new_thread_per_core().worker_threads(cores).build().unwrap()
}

#[test]
fn two_cores_run_two_tasks_at_the_same_time_on_threads_of_their_own() {
    let rt = thread_per_core(2);
    assert_eq!(rt.flavor(), RuntimeFlavor::ThreadPerCore);
    assert_eq!(rt.handle().cores(), Some(2));
    // Spawns from outside go to the cores in turn; each task blocks its core until the other
    // arrives, so this finishes only if both cores run at once.
    let barrier = Arc::new(Barrier::new(2));
    let handles: Vec<_> = (0..2)
        .map(|_| {
            let barrier = barrier.clone();
            rt.spawn(async move {
                barrier.wait();
                (std::thread::current().name().map(str::to_owned), Handle::current().core())
            })
        })
        .collect();
    let seen: HashSet<_> = rt.block_on(async {
        let mut seen = HashSet::new();
        for h in handles {
            seen.insert(h.await.unwrap());
        }
        seen
    });
    let expected: HashSet<_> =
        [(Some("aria-io-worker-0".to_owned()), Some(0)), (Some("aria-io-worker-1".to_owned()), Some(1))]
            .into();
    assert_eq!(seen, expected);
}

#[test]
fn a_task_and_everything_it_spawns_stay_on_its_core() {
    let rt = thread_per_core(2);
    let threads = Arc::new(Mutex::new(HashSet::new()));
    let t = threads.clone();
    let core = rt.block_on(async move {
        let h = Handle::current().spawn_on(1, move || async move {
            let tasks: Vec<_> = (0..200)
                .map(|_| {
                    let t = t.clone();
                    aria_io::spawn(async move {
                        aria_io::yield_now().await;
                        aria_io::time::sleep(Duration::from_millis(1)).await;
                        t.lock().unwrap().insert((std::thread::current().id(), Handle::current().core()));
                    })
                })
                .collect();
            for task in tasks {
                task.await.unwrap();
            }
            Handle::current().core()
        });
        h.await.unwrap()
    });
    assert_eq!(core, Some(1));
    let threads = threads.lock().unwrap();
    assert_eq!(threads.len(), 1, "every task ran on one thread: {threads:?}");
    assert_eq!(threads.iter().next().unwrap().1, Some(1));
}

#[test]
fn spawn_local_runs_futures_that_are_not_send_on_the_current_core() {
    let rt = thread_per_core(2);
    let total = rt.block_on(async {
        Handle::current()
            .spawn_on(0, || async {
                // Rc and Cell: neither Send nor Sync.
                let counter = Rc::new(Cell::new(0u32));
                let tasks: Vec<_> = (0..100)
                    .map(|i| {
                        let counter = counter.clone();
                        aria_io::task::spawn_local(async move {
                            aria_io::yield_now().await;
                            counter.set(counter.get() + i);
                            Handle::current().core()
                        })
                    })
                    .collect();
                for t in tasks {
                    assert_eq!(t.await.unwrap(), Some(0));
                }
                counter.get()
            })
            .await
            .unwrap()
    });
    assert_eq!(total, (0..100).sum::<u32>());
}

#[test]
#[should_panic(expected = "spawn_local called outside a core")]
fn spawn_local_outside_a_core_panics_with_an_explanation() {
    let rt = thread_per_core(1);
    rt.block_on(async {
        drop(aria_io::task::spawn_local(async {}));
    });
}

#[test]
#[should_panic(expected = "no core 2 (this runtime has 2)")]
fn spawn_on_a_core_that_does_not_exist_panics_naming_it() {
    let rt = thread_per_core(2);
    drop(rt.handle().spawn_on(2, || async {}));
}

#[test]
fn io_objects_work_on_every_core_and_from_block_on() {
    let rt = thread_per_core(2);
    rt.block_on(async {
        for core in 0..2 {
            let out = Handle::current()
                .spawn_on(core, move || async move {
                    let (mut r, mut w) = aria_io::io::pipe().unwrap();
                    let writer = aria_io::task::spawn_local(async move {
                        w.write_all(format!("core {core}").as_bytes()).await.unwrap();
                    });
                    let mut buf = Vec::new();
                    r.read_to_end(&mut buf).await.unwrap();
                    writer.await.unwrap();
                    String::from_utf8(buf).unwrap()
                })
                .await
                .unwrap();
            assert_eq!(out, format!("core {core}"));
        }
        // The block_on thread is no core; its I/O goes through core 0's driver.
        let out = support::helper(&["emit", "1", "100000"]).output().await.unwrap();
        assert_eq!(out.stdout, support::emitted(100_000));
    });
}

/// Counts the drops of its value, and checks they happen on the thread it was made on.
struct OwnedByThread {
    thread: std::thread::ThreadId,
    drops: Arc<AtomicUsize>,
    _not_send: Rc<()>,
}

impl Drop for OwnedByThread {
    fn drop(&mut self) {
        assert_eq!(std::thread::current().id(), self.thread, "a local future was dropped on another thread");
        self.drops.fetch_add(1, Ordering::SeqCst);
    }
}

#[test]
fn dropping_the_runtime_drops_local_futures_on_their_own_core() {
    let drops = Arc::new(AtomicUsize::new(0));
    let rt = thread_per_core(2);
    let started = Arc::new(Barrier::new(3));
    for core in 0..2 {
        let (drops, started) = (drops.clone(), started.clone());
        drop(rt.handle().spawn_on(core, move || async move {
            for _ in 0..10 {
                let owned = OwnedByThread {
                    thread: std::thread::current().id(),
                    drops: drops.clone(),
                    _not_send: Rc::new(()),
                };
                drop(aria_io::task::spawn_local(async move {
                    let _owned = owned;
                    std::future::pending::<()>().await;
                }));
            }
            aria_io::yield_now().await;
            started.wait();
            std::future::pending::<()>().await;
        }));
    }
    started.wait();
    drop(rt);
    assert_eq!(drops.load(Ordering::SeqCst), 20);
}

#[test]
fn an_aborted_local_task_is_dropped_on_its_core() {
    let drops = Arc::new(AtomicUsize::new(0));
    let rt = thread_per_core(2);
    let d = drops.clone();
    rt.block_on(async move {
        let (tx, rx) = aria_io::sync::oneshot::channel();
        drop(Handle::current().spawn_on(1, move || async move {
            let owned =
                OwnedByThread { thread: std::thread::current().id(), drops: d, _not_send: Rc::new(()) };
            let h = aria_io::task::spawn_local(async move {
                let _owned = owned;
                std::future::pending::<()>().await;
            });
            let _ = tx.send(h);
        }));
        let h = rx.await.unwrap();
        // Aborted from the block_on thread: the core drops the future at its next turn.
        h.abort();
        let err = (&mut { h }).await.unwrap_err();
        assert!(err.is_cancelled());
    });
    assert_eq!(drops.load(Ordering::SeqCst), 1);
    drop(rt);
}

#[aria_io::test(flavor = "thread_per_core", worker_threads = 2)]
async fn the_test_attribute_builds_the_flavour_it_names() {
    let handle = Handle::current();
    assert_eq!(handle.runtime_flavor(), RuntimeFlavor::ThreadPerCore);
    assert_eq!(handle.cores(), Some(2));
    assert_eq!(handle.core(), None, "block_on runs outside the cores");
    aria_io::time::sleep(Duration::from_millis(1)).await;
}

#[aria_io::test(flavor = "multi_thread", worker_threads = 1)]
async fn the_test_attribute_builds_a_multi_thread_runtime_too() {
    assert_eq!(Handle::current().runtime_flavor(), RuntimeFlavor::MultiThread);
    assert_eq!(aria_io::spawn(async { 5 }).await.unwrap(), 5);
}

#[test]
fn pinned_cores_run_on_the_cpus_they_were_pinned_to() {
    let rt = Builder::new_thread_per_core().worker_threads(2).pin_cores(true).build().unwrap();
    let allowed = allowed_cpus();
    let cpus: Vec<Vec<usize>> = rt.block_on(async {
        let mut cpus = Vec::new();
        for core in 0..2 {
            cpus.push(Handle::current().spawn_on(core, || async { allowed_cpus() }).await.unwrap());
        }
        cpus
    });
    for (core, set) in cpus.iter().enumerate() {
        assert_eq!(set, &vec![allowed[core % allowed.len()]], "core {core}");
    }
}

/// This thread's CPUs, from /proc (`Cpus_allowed_list: 0-1` or `0,2,4-5`).
fn allowed_cpus() -> Vec<usize> {
    let status = std::fs::read_to_string("/proc/thread-self/status").unwrap();
    let line = status.lines().find_map(|l| l.strip_prefix("Cpus_allowed_list:")).unwrap().trim().to_owned();
    let mut cpus = Vec::new();
    for part in line.split(',') {
        match part.split_once('-') {
            Some((a, b)) => cpus.extend(a.parse::<usize>().unwrap()..=b.parse::<usize>().unwrap()),
            None => cpus.push(part.parse().unwrap()),
        }
    }
    cpus
}
