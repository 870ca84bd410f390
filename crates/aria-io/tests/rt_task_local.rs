//! Task-local storage: scopes, nesting, interleaving tasks, panics, drops.

mod support;

use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::{pin, Pin};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};

use aria_io::task::JoinSet;
use support::{panic_message, run};

aria_io::task_local! {
    /// A number, for most tests.
    static NUMBER: u32;
    pub static NAME: String;
}

aria_io::task_local!(static COUNTED: Arc<()>);

fn poll_once<F: Future>(f: Pin<&mut F>) -> Poll<F::Output> {
    f.poll(&mut Context::from_waker(Waker::noop()))
}

#[test]
fn a_scope_sets_the_value_inside_and_not_outside() {
    run(async {
        assert!(NUMBER.try_with(|_| ()).is_err());
        let seen = NUMBER
            .scope(7, async {
                aria_io::yield_now().await;
                NUMBER.get()
            })
            .await;
        assert_eq!(seen, 7);
        assert!(NUMBER.try_with(|_| ()).is_err());
    });
}

#[test]
fn nested_scopes_see_the_innermost_value_and_restore_the_outer_one() {
    run(NUMBER.scope(1, async {
        assert_eq!(NUMBER.get(), 1);
        NUMBER
            .scope(2, async {
                assert_eq!(NUMBER.get(), 2);
                aria_io::yield_now().await;
                NUMBER.scope(3, async { assert_eq!(NUMBER.get(), 3) }).await;
                assert_eq!(NUMBER.get(), 2);
                NUMBER.sync_scope(4, || assert_eq!(NUMBER.get(), 4));
                assert_eq!(NUMBER.get(), 2);
            })
            .await;
        aria_io::yield_now().await;
        assert_eq!(NUMBER.get(), 1);
        NAME.scope("inner".into(), async { NAME.with(|n| assert_eq!(n, "inner")) }).await;
        assert_eq!(NUMBER.get(), 1, "another key's scope leaves this one alone");
    }));
}

#[test]
fn tasks_interleaving_on_one_thread_each_see_their_own_value() {
    run(async {
        let mut set = JoinSet::new();
        for i in 0..100u32 {
            set.spawn(NUMBER.scope(i, async move {
                for _ in 0..20 {
                    assert_eq!(NUMBER.get(), i);
                    aria_io::yield_now().await;
                }
                NUMBER.get()
            }));
        }
        let mut seen = Vec::new();
        while let Some(res) = set.join_next().await {
            seen.push(res.unwrap());
        }
        seen.sort();
        assert_eq!(seen, (0..100).collect::<Vec<_>>());
        assert!(NUMBER.try_with(|_| ()).is_err(), "no value leaked onto the runtime thread");
    });
}

#[test]
fn two_scopes_polled_alternately_by_one_future_each_see_their_own_value() {
    run(async {
        let trace = Mutex::new(Vec::new());
        let side = |v: u32| {
            let trace = &trace;
            NUMBER.scope(v, async move {
                for _ in 0..5 {
                    trace.lock().unwrap().push((v, NUMBER.get()));
                    aria_io::yield_now().await;
                }
            })
        };
        futures_util::future::join(side(1), side(2)).await;
        let trace = trace.into_inner().unwrap();
        assert_eq!(trace.len(), 10);
        assert!(trace.iter().all(|(want, got)| want == got), "{trace:?}");
        // They really were interleaved.
        assert_eq!(trace[0].0, 1);
        assert_eq!(trace[1].0, 2);
    });
}

#[test]
fn spawned_tasks_do_not_inherit_the_value() {
    run(NUMBER.scope(5, async {
        let inherited = aria_io::spawn(async { NUMBER.try_with(|v| *v).ok() }).await.unwrap();
        assert_eq!(inherited, None);
        let given = aria_io::spawn(NUMBER.scope(6, async { NUMBER.get() })).await.unwrap();
        assert_eq!(given, 6);
        assert_eq!(NUMBER.get(), 5);
    }));
}

#[test]
fn with_outside_a_scope_panics_with_a_clear_message() {
    let payload = catch_unwind(|| NUMBER.with(|v| *v)).unwrap_err();
    let msg = panic_message(&*payload);
    assert!(msg.contains("task-local value of type `u32` is not set"), "{msg}");
    assert!(msg.contains("LocalKey::scope"), "{msg}");
    let payload = catch_unwind(|| NUMBER.get()).unwrap_err();
    assert!(panic_message(&*payload).contains("is not set"));
}

#[test]
fn try_with_outside_a_scope_is_an_access_error() {
    let err = NUMBER.try_with(|v| *v).unwrap_err();
    assert_eq!(err.to_string(), "task-local value not set");
    let _: &dyn std::error::Error = &err;
    assert_eq!(NUMBER.sync_scope(9, || NUMBER.try_with(|v| *v)), Ok(9));
}

#[test]
fn get_copies_and_with_borrows() {
    NUMBER.sync_scope(11, || {
        let a = NUMBER.get();
        let b = NUMBER.get();
        assert_eq!(a + b, 22);
    });
    NAME.sync_scope("ada".to_string(), || {
        assert_eq!(NAME.with(|n| n.len()), 3);
        assert_eq!(NAME.get(), "ada"); // Clone types too
    });
}

#[test]
fn sync_scope_restores_the_outer_value_when_the_closure_panics() {
    NUMBER.sync_scope(1, || {
        let res = catch_unwind(|| NUMBER.sync_scope(2, || panic!("inside")));
        assert!(res.is_err());
        assert_eq!(NUMBER.get(), 1);
    });
    assert!(NUMBER.try_with(|_| ()).is_err());
}

#[test]
fn a_panic_in_the_inner_future_restores_the_outer_value() {
    NUMBER.sync_scope(1, || {
        let mut fut = pin!(NUMBER.scope(2, async {
            assert_eq!(NUMBER.get(), 2);
            panic!("inner future failed");
        }));
        let res = catch_unwind(AssertUnwindSafe(|| poll_once(fut.as_mut())));
        assert_eq!(panic_message(&*res.unwrap_err()), "inner future failed");
        assert_eq!(NUMBER.get(), 1);
    });
    assert!(NUMBER.try_with(|_| ()).is_err());
}

#[test]
fn a_task_whose_scoped_future_panics_does_not_leak_its_value_to_the_next_task() {
    run(async {
        let err = aria_io::spawn(NUMBER.scope(1, async { panic!("boom") })).await.unwrap_err();
        assert!(err.is_panic());
        let seen = aria_io::spawn(async { NUMBER.try_with(|v| *v).ok() }).await.unwrap();
        assert_eq!(seen, None);
    });
}

#[test]
fn dropping_a_pending_scoped_future_drops_the_inner_future_inside_the_scope() {
    struct ReadOnDrop(Arc<Mutex<Option<u32>>>);
    impl Drop for ReadOnDrop {
        fn drop(&mut self) {
            *self.0.lock().unwrap() = NUMBER.try_with(|v| *v).ok();
        }
    }
    let seen = Arc::new(Mutex::new(None));
    NUMBER.sync_scope(1, || {
        let guard = ReadOnDrop(seen.clone());
        let mut fut = Box::pin(NUMBER.scope(2, async move {
            let _guard = guard;
            std::future::pending::<()>().await;
        }));
        assert!(poll_once(fut.as_mut()).is_pending());
        drop(fut);
        assert_eq!(*seen.lock().unwrap(), Some(2), "the inner future was dropped outside its scope");
        assert_eq!(NUMBER.get(), 1);
    });
}

#[test]
fn aborting_a_task_drops_its_future_inside_its_scope() {
    struct ReadOnDrop(Arc<Mutex<Option<u32>>>);
    impl Drop for ReadOnDrop {
        fn drop(&mut self) {
            *self.0.lock().unwrap() = NUMBER.try_with(|v| *v).ok();
        }
    }
    run(async {
        let seen = Arc::new(Mutex::new(None));
        let guard = ReadOnDrop(seen.clone());
        let h = aria_io::spawn(NUMBER.scope(8, async move {
            let _guard = guard;
            std::future::pending::<()>().await;
        }));
        aria_io::yield_now().await;
        h.abort();
        assert!(h.await.unwrap_err().is_cancelled());
        assert_eq!(*seen.lock().unwrap(), Some(8));
    });
}

#[test]
fn a_scoped_future_carries_its_value_to_another_thread() {
    let mut fut = Box::pin(NUMBER.scope(3, async {
        let first = NUMBER.get();
        let mut yielded = false;
        std::future::poll_fn(|_| {
            if yielded {
                Poll::Ready(())
            } else {
                yielded = true;
                Poll::Pending
            }
        })
        .await;
        (first, NUMBER.get(), std::thread::current().id())
    }));
    assert!(poll_once(fut.as_mut()).is_pending());
    let here = std::thread::current().id();
    let (first, second, there) = std::thread::spawn(move || match poll_once(fut.as_mut()) {
        Poll::Ready(v) => v,
        Poll::Pending => panic!("still pending"),
    })
    .join()
    .unwrap();
    assert_eq!((first, second), (3, 3));
    assert_ne!(here, there);
}

#[test]
fn entering_a_scope_inside_with_panics() {
    NUMBER.sync_scope(1, || {
        let res = catch_unwind(|| NUMBER.with(|_| NUMBER.sync_scope(2, || ())));
        let msg = panic_message(&*res.unwrap_err());
        assert!(msg.contains("borrowed"), "{msg}");
        // The outer scope is intact.
        assert_eq!(NUMBER.get(), 1);
    });
}

#[test]
fn a_panic_inside_with_leaves_the_value_readable() {
    NUMBER.sync_scope(4, || {
        let res = catch_unwind(|| NUMBER.with(|_| panic!("reader failed")));
        assert!(res.is_err());
        assert_eq!(NUMBER.get(), 4);
    });
}

#[test]
fn take_value_gives_the_value_back_after_completion() {
    let mut fut = pin!(NAME.scope("kept".to_string(), async { NAME.with(|n| n.len()) }));
    assert_eq!(poll_once(fut.as_mut()), Poll::Ready(4));
    assert_eq!(fut.as_mut().take_value().as_deref(), Some("kept"));
    assert_eq!(fut.as_mut().take_value(), None);
}

#[test]
fn the_value_is_dropped_with_the_scope_future() {
    let value = Arc::new(());
    let fut = COUNTED.scope(value.clone(), async { COUNTED.with(Arc::strong_count) });
    assert_eq!(Arc::strong_count(&value), 2);
    drop(fut);
    assert_eq!(Arc::strong_count(&value), 1);

    let done = run(COUNTED.scope(value.clone(), async { COUNTED.with(Arc::strong_count) }));
    assert_eq!(done, 2);
    assert_eq!(Arc::strong_count(&value), 1);
}

#[test]
fn polling_a_completed_scope_future_panics() {
    let mut fut = pin!(NUMBER.scope(1, async {}));
    assert!(poll_once(fut.as_mut()).is_ready());
    let res = catch_unwind(AssertUnwindSafe(|| poll_once(fut.as_mut())));
    assert!(panic_message(&*res.unwrap_err()).contains("after it completed"));
}

#[test]
fn scopes_on_many_tasks_and_threads_never_mix() {
    // Values cross the runtime through spawn_on from other threads too.
    let rt = support::runtime();
    let handle = rt.handle();
    let checked = Arc::new(AtomicUsize::new(0));
    let threads: Vec<_> = (0..4u32)
        .map(|t| {
            let handle = handle.clone();
            let checked = checked.clone();
            std::thread::spawn(move || {
                (0..25u32)
                    .map(|i| {
                        let v = t * 1000 + i;
                        let checked = checked.clone();
                        handle.spawn(NUMBER.scope(v, async move {
                            for _ in 0..10 {
                                assert_eq!(NUMBER.get(), v);
                                aria_io::yield_now().await;
                            }
                            checked.fetch_add(1, Ordering::SeqCst);
                        }))
                    })
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    let handles: Vec<_> = threads.into_iter().flat_map(|t| t.join().unwrap()).collect();
    rt.block_on(async {
        for h in handles {
            h.await.unwrap();
        }
    });
    assert_eq!(checked.load(Ordering::SeqCst), 100);
}
