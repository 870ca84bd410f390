//! loom models of the task state protocol (see the [task module docs](crate::task)): each
//! races one transition on another thread against polling, completion or the `JoinHandle`,
//! and checks the outcome under every interleaving. [`TestScheduler`] panics if a task is
//! ever queued twice, and loom itself reports a task cell that is freed twice or leaked
//! (`Arc` misuse) and a `JoinHandle` whose waker is never woken (a deadlock of `block_on`).
//!
//! `RUSTFLAGS="--cfg loom" cargo test -p aria-io --lib --release task::raw`

use loom::future::block_on;
use loom::thread;

use super::test_support::{waker_of, Gate, Probe, TestScheduler};

/// A wake-up from another thread, racing the task's first poll, is neither lost nor doubled:
/// the task is never queued twice, and once the waker's thread is done, running the queue
/// completes the task, whose last poll sees what the waker wrote before waking (the
/// executor's side of the `Waker` contract: a wake happens-before the poll it causes, even
/// when it is coalesced with a pending notification).
#[test]
fn a_wake_from_another_thread_during_a_poll_is_neither_lost_nor_doubled() {
    loom::model(|| {
        let scheduler = TestScheduler::new();
        let probe = Probe::new();
        let (owned, join) = scheduler.spawn(Gate::new(&probe));
        let waker = waker_of(&owned);
        let other = {
            let probe = probe.clone();
            thread::spawn(move || {
                probe.open();
                waker.wake();
            })
        };
        scheduler.run_all();
        other.join().unwrap();
        scheduler.run_all();
        assert!(owned.is_complete(), "the wake-up was lost");
        assert!(probe.polls() <= 2, "polled {} times for one wake-up", probe.polls());
        drop((owned, join));
        assert_eq!((probe.futures_dropped(), probe.outputs_dropped()), (1, 1));
    });
}

/// A wake-up from another thread racing a poll in which the task also wakes itself (as
/// `yield_now` does): two notifications meet during one poll, and the task is still queued
/// exactly once (by the poller, not by the waker) and completes once the waker is done.
#[test]
fn a_wake_from_another_thread_racing_a_self_wake_queues_the_task_once() {
    loom::model(|| {
        let scheduler = TestScheduler::new();
        let probe = Probe::new();
        let (owned, join) = scheduler.spawn(Gate::waking_itself(&probe));
        let waker = waker_of(&owned);
        let other = {
            let probe = probe.clone();
            thread::spawn(move || {
                probe.open();
                waker.wake();
            })
        };
        // One poll only: the gate keeps waking itself until it is open.
        scheduler.pop().expect("spawned").run();
        other.join().unwrap();
        assert!(scheduler.queued() <= 1);
        scheduler.run_all();
        assert!(owned.is_complete(), "the wake-up was lost");
        assert!(probe.polls() <= 2, "polled {} times", probe.polls());
        drop((owned, join));
        assert_eq!((probe.futures_dropped(), probe.outputs_dropped()), (1, 1));
    });
}

/// `abort` on another thread racing a poll that completes: the `JoinHandle` gets exactly
/// one outcome (the output if the poll won, a cancelled error if it never ran), the future
/// is dropped exactly once, and the task leaves the owned list once.
#[test]
fn abort_racing_a_completing_poll_has_exactly_one_outcome() {
    loom::model(|| {
        let scheduler = TestScheduler::new();
        let probe = Probe::new();
        let (owned, join) = scheduler.spawn(Gate::ready(&probe));
        let aborter = thread::spawn(move || {
            join.abort();
            join
        });
        scheduler.run_all();
        let join = aborter.join().unwrap();
        scheduler.run_all();
        match block_on(join) {
            Ok(out) => {
                assert_eq!(probe.polls(), 1);
                drop(out);
            }
            Err(e) => {
                assert!(e.is_cancelled());
                assert_eq!(probe.polls(), 0, "a cancelled task was polled");
            }
        }
        assert_eq!(scheduler.released(), 1);
        assert_eq!(probe.futures_dropped(), 1);
        assert_eq!(probe.outputs_dropped(), probe.outputs_made());
        drop(owned);
    });
}

/// `abort` on another thread racing a poll that returns `Pending`: whether it lands before,
/// during or after the poll, the task ends up queued exactly once more, the next poll drops
/// the future instead of polling it, and the `JoinHandle` gets a cancelled error.
#[test]
fn abort_racing_a_pending_poll_cancels_the_task_once() {
    loom::model(|| {
        let scheduler = TestScheduler::new();
        let probe = Probe::new();
        let (owned, join) = scheduler.spawn(Gate::new(&probe));
        let aborter = thread::spawn(move || {
            join.abort();
            join
        });
        scheduler.run_all();
        let join = aborter.join().unwrap();
        scheduler.run_all();
        assert!(owned.is_complete(), "the abort was lost");
        assert!(block_on(join).unwrap_err().is_cancelled());
        assert!(probe.polls() <= 1);
        assert_eq!(probe.futures_dropped(), 1);
        assert_eq!(scheduler.released(), 1);
        drop(owned);
    });
}

/// The `JoinHandle` waiting (with a waker) while another thread completes the task always
/// gets the output: the completing thread takes the join waker after publishing COMPLETE,
/// and the handle re-checks COMPLETE after storing it, so the wake-up cannot fall between.
/// A missed wake-up would leave `block_on` asleep forever, which loom reports.
#[test]
fn the_join_handle_racing_completion_always_gets_the_output() {
    loom::model(|| {
        let scheduler = TestScheduler::new();
        let probe = Probe::new();
        let (owned, join) = scheduler.spawn(Gate::ready(&probe));
        let runner = {
            let scheduler = scheduler.clone();
            thread::spawn(move || {
                scheduler.run_all();
                drop(owned);
            })
        };
        let out = block_on(join).expect("the task completed");
        drop(out);
        runner.join().unwrap();
        assert_eq!((probe.polls(), probe.futures_dropped(), probe.outputs_dropped()), (1, 1, 1));
    });
}

/// The last references (the `JoinHandle` and a waker) dropped on another thread while the
/// task completes: the task is freed exactly once, by whichever thread is last (loom reports
/// a double free or a leak of the cell), and its unread output and its future are each
/// dropped exactly once.
#[test]
fn the_last_reference_dropped_on_another_thread_frees_the_task_once() {
    loom::model(|| {
        let scheduler = TestScheduler::new();
        let probe = Probe::new();
        let (owned, join) = scheduler.spawn(Gate::ready(&probe));
        let waker = waker_of(&owned);
        let dropper = thread::spawn(move || {
            drop(join);
            waker.wake();
        });
        scheduler.run_all();
        drop(owned);
        dropper.join().unwrap();
        assert_eq!(scheduler.run_all(), 0, "a wake of a notified or complete task queued it");
        assert_eq!(probe.polls(), 1);
        assert_eq!((probe.futures_dropped(), probe.outputs_made(), probe.outputs_dropped()), (1, 1, 1));
    });
}

/// Runtime shutdown cancelling an idle task while another thread wakes it: the future is
/// dropped exactly once, by the shutdown, the stale queue entry a wake-up may leave does
/// nothing, and the `JoinHandle` gets a cancelled error.
#[test]
fn shutdown_racing_a_wake_cancels_the_task_once() {
    loom::model(|| {
        let scheduler = TestScheduler::new();
        let probe = Probe::new();
        let (owned, join) = scheduler.spawn(Gate::new(&probe));
        scheduler.run_all();
        let waker = waker_of(&owned);
        let other = thread::spawn(move || waker.wake());
        owned.shutdown();
        assert_eq!(probe.futures_dropped(), 1);
        other.join().unwrap();
        scheduler.run_all();
        assert_eq!(probe.polls(), 1, "a shut-down task was polled");
        assert!(block_on(join).unwrap_err().is_cancelled());
        assert_eq!(scheduler.released(), 1);
        drop(owned);
    });
}
