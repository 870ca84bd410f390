//! What the task unit tests and loom models share: a run queue that refuses a second entry
//! for a task, a future whose readiness another thread controls, and counters of polls and
//! drops. Built from [`crate::loom`] types, so the same code serves both.

use std::collections::VecDeque;
use std::future::Future;
use std::mem::ManuallyDrop;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

use super::{raw_waker, RawTask, Schedule};
use crate::loom::lock;
use crate::loom::sync::atomic::{AtomicBool, AtomicUsize, Ordering::Relaxed, Ordering::SeqCst};
use crate::loom::sync::{Arc, Mutex};
use crate::task::JoinHandle;

/// A scheduler with one FIFO run queue and no threads: the test decides who runs what.
#[derive(Default)]
pub(super) struct TestScheduler {
    queue: Mutex<VecDeque<RawTask>>,
    released: AtomicUsize,
}

impl Schedule for TestScheduler {
    /// Queues the task, asserting it is not queued already: at most one entry per task.
    fn schedule(&self, task: RawTask) {
        let mut queue = lock(&self.queue);
        assert!(queue.iter().all(|t| t.ptr != task.ptr), "a task was queued twice");
        queue.push_back(task);
    }

    fn release(&self, _task: &RawTask) {
        self.released.fetch_add(1, SeqCst);
    }
}

impl TestScheduler {
    pub(super) fn new() -> std::sync::Arc<TestScheduler> {
        std::sync::Arc::new(TestScheduler::default())
    }

    /// Allocates a task for `future` and queues it, as a spawn does. Returns the owned-list
    /// reference and the `JoinHandle`.
    pub(super) fn spawn<F>(self: &std::sync::Arc<Self>, future: F) -> (RawTask, JoinHandle<F::Output>)
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let (queued, owned, join) = RawTask::new(future, self.clone());
        self.schedule(queued);
        (owned, JoinHandle::new(join))
    }

    pub(super) fn pop(&self) -> Option<RawTask> {
        lock(&self.queue).pop_front()
    }

    /// Runs queued tasks until the queue is empty; returns how many polls that took.
    pub(super) fn run_all(&self) -> usize {
        let mut runs = 0;
        while let Some(task) = self.pop() {
            task.run();
            runs += 1;
        }
        runs
    }

    pub(super) fn queued(&self) -> usize {
        lock(&self.queue).len()
    }

    /// How many tasks left the owned list (completed, cancelled or shut down).
    pub(super) fn released(&self) -> usize {
        self.released.load(SeqCst)
    }
}

/// A waker for `task` that owns a reference of its own, like a waker cloned by a future.
pub(super) fn waker_of(task: &RawTask) -> Waker {
    let task = ManuallyDrop::new(task.clone());
    // SAFETY: the waker takes over the reference cloned above (the ManuallyDrop keeps it from
    // being released here); `raw_waker` is the task waker vtable.
    unsafe { Waker::from_raw(raw_waker(task.ptr)) }
}

/// Shared between a test and its [`Gate`] future and [`Output`]s.
#[derive(Default)]
pub(super) struct Probe {
    open: AtomicBool,
    polls: AtomicUsize,
    futures_dropped: AtomicUsize,
    outputs_made: AtomicUsize,
    outputs_dropped: AtomicUsize,
}

impl Probe {
    pub(super) fn new() -> Arc<Probe> {
        Arc::new(Probe::default())
    }

    /// Lets the gate's next poll complete. Call before waking the task.
    ///
    /// `Relaxed` on purpose, here and in the gate's load: a poll that follows a wake-up must
    /// see this store through the task's own state protocol (the waker's release, the
    /// poller's acquire), not through ordering borrowed from the flag.
    pub(super) fn open(&self) {
        self.open.store(true, Relaxed);
    }

    pub(super) fn polls(&self) -> usize {
        self.polls.load(SeqCst)
    }

    pub(super) fn futures_dropped(&self) -> usize {
        self.futures_dropped.load(SeqCst)
    }

    pub(super) fn outputs_made(&self) -> usize {
        self.outputs_made.load(SeqCst)
    }

    pub(super) fn outputs_dropped(&self) -> usize {
        self.outputs_dropped.load(SeqCst)
    }
}

/// A future that is `Pending` until its probe is opened, then `Ready` with an [`Output`].
/// Counts its polls and its drop. With `wake_self`, a `Pending` poll first wakes its own
/// task, as `yield_now` does.
pub(super) struct Gate {
    probe: Arc<Probe>,
    wake_self: bool,
}

impl Gate {
    pub(super) fn new(probe: &Arc<Probe>) -> Gate {
        Gate { probe: probe.clone(), wake_self: false }
    }

    /// Already open: ready at the first poll.
    pub(super) fn ready(probe: &Arc<Probe>) -> Gate {
        probe.open();
        Gate::new(probe)
    }

    pub(super) fn waking_itself(probe: &Arc<Probe>) -> Gate {
        Gate { probe: probe.clone(), wake_self: true }
    }
}

impl Future for Gate {
    type Output = Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Output> {
        self.probe.polls.fetch_add(1, SeqCst);
        if self.probe.open.load(Relaxed) {
            self.probe.outputs_made.fetch_add(1, SeqCst);
            return Poll::Ready(Output(self.probe.clone()));
        }
        if self.wake_self {
            cx.waker().wake_by_ref();
        }
        Poll::Pending
    }
}

impl Drop for Gate {
    fn drop(&mut self) {
        self.probe.futures_dropped.fetch_add(1, SeqCst);
    }
}

/// A task's output that counts its drop.
pub(super) struct Output(Arc<Probe>);

impl Drop for Output {
    fn drop(&mut self) {
        self.0.outputs_dropped.fetch_add(1, SeqCst);
    }
}

impl std::fmt::Debug for Output {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Output")
    }
}
