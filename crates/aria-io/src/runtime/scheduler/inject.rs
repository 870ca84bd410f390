//! The injection queue: tasks scheduled from outside a worker (other threads, timers fired by
//! a thread that is not a worker, spawns from `Handle`s) and the overflow of full local
//! queues. A mutex-protected FIFO with an atomic length, so the common "is there anything?"
//! check takes no lock.

use std::collections::VecDeque;

use crate::driver::lock;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Mutex;

pub(crate) struct Inject<T> {
    queue: Mutex<VecDeque<T>>,
    len: AtomicUsize,
    closed: AtomicBool,
}

impl<T> Inject<T> {
    pub(crate) fn new() -> Inject<T> {
        Inject {
            queue: Mutex::new(VecDeque::new()),
            len: AtomicUsize::new(0),
            closed: AtomicBool::new(false),
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.len.load(Ordering::Acquire)
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Pushes `task`; once closed, gives it back (the caller drops the reference).
    pub(crate) fn push(&self, task: T) -> Result<(), T> {
        let mut q = lock(&self.queue);
        if self.closed.load(Ordering::Acquire) {
            return Err(task);
        }
        q.push_back(task);
        self.len.store(q.len(), Ordering::Release);
        Ok(())
    }

    /// Pushes every task of `tasks` (dropped once closed).
    pub(crate) fn push_batch(&self, tasks: impl Iterator<Item = T>) {
        let mut q = lock(&self.queue);
        if self.closed.load(Ordering::Acquire) {
            drop(q);
            tasks.for_each(drop);
            return;
        }
        q.extend(tasks);
        self.len.store(q.len(), Ordering::Release);
    }

    pub(crate) fn pop(&self) -> Option<T> {
        if self.is_empty() {
            return None;
        }
        let mut q = lock(&self.queue);
        let t = q.pop_front();
        self.len.store(q.len(), Ordering::Release);
        t
    }

    /// Pops up to `max` tasks with one lock (the first is returned separately, to run).
    pub(crate) fn pop_batch(&self, max: usize, mut into: impl FnMut(T)) -> Option<T> {
        if self.is_empty() {
            return None;
        }
        let mut q = lock(&self.queue);
        let first = q.pop_front();
        if first.is_some() {
            let n = max.saturating_sub(1).min(q.len());
            q.drain(..n).for_each(&mut into);
        }
        self.len.store(q.len(), Ordering::Release);
        first
    }

    /// Refuses further pushes and returns what was queued.
    pub(crate) fn close(&self) -> Vec<T> {
        let mut q = lock(&self.queue);
        self.closed.store(true, Ordering::Release);
        self.len.store(0, Ordering::Release);
        q.drain(..).collect()
    }
}
