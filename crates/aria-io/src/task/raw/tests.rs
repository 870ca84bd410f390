//! Unit tests of the task cell without a runtime: a [`TestScheduler`] queue stands in for the
//! scheduler, so they make no system calls and run under Miri
//! (`cargo +nightly miri test -p aria-io --lib task::raw`), which checks the cell's pointer
//! casts, reference counts and stage accesses.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};

use super::test_support::{waker_of, Gate, Probe, TestScheduler};
use super::*;
use crate::task::JoinHandle;

/// A waker that counts its wake-ups.
#[derive(Default)]
struct CountingWaker(AtomicUsize);

impl Wake for CountingWaker {
    fn wake(self: Arc<Self>) {
        self.0.fetch_add(1, SeqCst);
    }
}

fn counting_waker() -> (Arc<CountingWaker>, Waker) {
    let count = Arc::new(CountingWaker::default());
    (count.clone(), Waker::from(count))
}

/// Polls a join handle once with `waker`.
fn poll_join<T>(join: &mut JoinHandle<T>, waker: &Waker) -> Poll<Result<T, JoinError>> {
    Pin::new(join).poll(&mut Context::from_waker(waker))
}

fn cell_size<F: Future>(_: &F) -> usize {
    std::mem::size_of::<Cell<F>>()
}

#[test]
fn an_empty_task_fits_in_96_bytes_with_its_reference_counts() {
    // The Arc allocation holds the strong and weak counts (16 bytes) and the cell.
    let size = 16 + cell_size(&async {});
    assert!(size <= 96, "an empty task takes {size} bytes");
}

#[test]
fn a_spawned_task_runs_once_and_its_join_handle_gets_the_output() {
    let scheduler = TestScheduler::new();
    let probe = Probe::new();
    let (owned, mut join) = scheduler.spawn(Gate::ready(&probe));
    assert_eq!(scheduler.run_all(), 1);
    assert!(owned.is_complete());
    assert_eq!(scheduler.released(), 1);
    assert_eq!(probe.futures_dropped(), 1, "the future is dropped as soon as it completes");
    let (wakes, waker) = counting_waker();
    let Poll::Ready(Ok(out)) = poll_join(&mut join, &waker) else { panic!("no output") };
    assert_eq!(wakes.0.load(SeqCst), 0);
    drop(out);
    assert_eq!(probe.outputs_dropped(), 1);
    drop((owned, join));
}

#[test]
fn wakes_during_a_poll_requeue_the_task_once() {
    let scheduler = TestScheduler::new();
    let probe = Probe::new();
    // The gate wakes itself on every pending poll; `TestScheduler` panics on a second entry.
    let (owned, join) = scheduler.spawn(Gate::waking_itself(&probe));
    scheduler.pop().expect("spawned").run();
    assert_eq!(scheduler.queued(), 1, "the self-wake re-queued the task");
    let waker = waker_of(&owned);
    waker.wake_by_ref();
    waker.wake_by_ref();
    assert_eq!(scheduler.queued(), 1, "a notified task is not queued again");
    probe.open();
    assert_eq!(scheduler.run_all(), 1);
    assert!(owned.is_complete());
    waker.wake();
    assert_eq!(scheduler.queued(), 0, "waking a complete task does nothing");
    assert_eq!(probe.polls(), 2);
    drop((owned, join));
    assert_eq!((probe.futures_dropped(), probe.outputs_dropped()), (1, 1));
}

#[test]
fn a_wake_of_an_idle_task_queues_it_and_the_next_poll_sees_what_the_waker_wrote() {
    let scheduler = TestScheduler::new();
    let probe = Probe::new();
    let (owned, mut join) = scheduler.spawn(Gate::new(&probe));
    assert_eq!(scheduler.run_all(), 1);
    assert_eq!(scheduler.queued(), 0, "a pending task without a wake-up is not queued");
    let waker = waker_of(&owned);
    probe.open();
    waker.wake_by_ref();
    drop(waker);
    let (wakes, join_waker) = counting_waker();
    assert!(poll_join(&mut join, &join_waker).is_pending());
    assert_eq!(scheduler.run_all(), 1);
    assert_eq!(wakes.0.load(SeqCst), 1, "completion wakes the join handle once");
    assert!(matches!(poll_join(&mut join, &join_waker), Poll::Ready(Ok(_))));
    drop((owned, join));
    assert_eq!((probe.futures_dropped(), probe.outputs_made(), probe.outputs_dropped()), (1, 1, 1));
}

#[test]
fn abort_of_an_idle_task_queues_it_and_the_next_poll_drops_the_future() {
    let scheduler = TestScheduler::new();
    let probe = Probe::new();
    let (owned, mut join) = scheduler.spawn(Gate::new(&probe));
    assert_eq!(scheduler.run_all(), 1);
    join.abort();
    join.abort();
    assert_eq!(scheduler.queued(), 1);
    assert_eq!(probe.futures_dropped(), 0, "abort only marks the task");
    assert_eq!(scheduler.run_all(), 1);
    assert_eq!(probe.polls(), 1, "a cancelled task is not polled again");
    assert_eq!(probe.futures_dropped(), 1);
    let (_, waker) = counting_waker();
    let Poll::Ready(Err(e)) = poll_join(&mut join, &waker) else { panic!("not cancelled") };
    assert!(e.is_cancelled());
    assert_eq!(scheduler.released(), 1);
    drop((owned, join));
}

#[test]
fn abort_after_completion_keeps_the_output() {
    let scheduler = TestScheduler::new();
    let probe = Probe::new();
    let (owned, mut join) = scheduler.spawn(Gate::ready(&probe));
    scheduler.run_all();
    join.abort();
    assert_eq!(scheduler.queued(), 0);
    let (_, waker) = counting_waker();
    assert!(matches!(poll_join(&mut join, &waker), Poll::Ready(Ok(_))));
    drop((owned, join));
    assert_eq!((probe.futures_dropped(), probe.outputs_dropped()), (1, 1));
}

#[test]
fn a_panicking_future_completes_the_task_with_its_panic() {
    let scheduler = TestScheduler::new();
    let (owned, mut join) = scheduler.spawn(std::future::poll_fn(|_| -> Poll<()> { panic!("boom") }));
    scheduler.run_all();
    assert!(owned.is_complete());
    let (_, waker) = counting_waker();
    let Poll::Ready(Err(e)) = poll_join(&mut join, &waker) else { panic!("no error") };
    assert!(e.is_panic());
    drop((owned, join));
}

#[test]
fn shutdown_cancels_a_queued_task_and_its_stale_queue_entry_does_nothing() {
    let scheduler = TestScheduler::new();
    let probe = Probe::new();
    let (owned, mut join) = scheduler.spawn(Gate::new(&probe));
    let (wakes, waker) = counting_waker();
    assert!(poll_join(&mut join, &waker).is_pending());
    owned.shutdown();
    owned.shutdown();
    assert_eq!(probe.futures_dropped(), 1);
    assert_eq!(wakes.0.load(SeqCst), 1);
    assert_eq!(scheduler.run_all(), 1, "the queue entry from the spawn is still there");
    assert_eq!(probe.polls(), 0);
    let Poll::Ready(Err(e)) = poll_join(&mut join, &waker) else { panic!("not cancelled") };
    assert!(e.is_cancelled());
    drop((owned, join));
}

#[test]
fn the_last_reference_drops_a_future_that_never_ran() {
    let scheduler = TestScheduler::new();
    let probe = Probe::new();
    let (owned, join) = scheduler.spawn(Gate::new(&probe));
    let waker = waker_of(&owned);
    drop((owned, join));
    assert_eq!(probe.futures_dropped(), 0, "the queue and the waker still hold references");
    drop(scheduler.pop());
    drop(waker);
    assert_eq!(probe.futures_dropped(), 1);
}

#[test]
fn an_output_nobody_reads_is_dropped_with_the_task() {
    let scheduler = TestScheduler::new();
    let probe = Probe::new();
    let (owned, join) = scheduler.spawn(Gate::ready(&probe));
    drop(join);
    scheduler.run_all();
    assert_eq!(probe.outputs_dropped(), 0, "the owned reference keeps the task");
    drop(owned);
    assert_eq!((probe.futures_dropped(), probe.outputs_made(), probe.outputs_dropped()), (1, 1, 1));
}

#[test]
fn wakes_from_other_threads_during_polls_are_never_lost() {
    // Small enough for Miri, which checks these threads for data races.
    for _ in 0..4 {
        let scheduler = TestScheduler::new();
        let probe = Probe::new();
        let (owned, join) = scheduler.spawn(Gate::new(&probe));
        let waker = waker_of(&owned);
        let other = {
            let probe = probe.clone();
            std::thread::spawn(move || {
                probe.open();
                waker.wake();
            })
        };
        scheduler.run_all();
        other.join().unwrap();
        scheduler.run_all();
        assert!(owned.is_complete());
        drop((owned, join));
        assert_eq!((probe.futures_dropped(), probe.outputs_dropped()), (1, 1));
    }
}
