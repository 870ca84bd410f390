//! The tasks a scheduler owns: every spawned task that has not completed, so shutdown can
//! cancel them all (dropping their futures on the runtime's terms, not on whichever thread
//! drops the last waker).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

use slab::Slab;

use crate::driver::lock;
use crate::task::RawTask;

pub(crate) struct OwnedTasks {
    list: Mutex<Slab<RawTask>>,
    closed: AtomicBool,
}

impl OwnedTasks {
    pub(crate) fn new() -> OwnedTasks {
        OwnedTasks { list: Mutex::new(Slab::new()), closed: AtomicBool::new(false) }
    }

    /// Adds a new task. Once closed, refuses it: the task is cancelled before it ever runs and
    /// `false` is returned.
    pub(crate) fn bind(&self, task: &RawTask) -> bool {
        let mut list = lock(&self.list);
        if self.closed.load(Ordering::Acquire) {
            drop(list);
            task.shutdown();
            return false;
        }
        let id = list.insert(task.clone());
        task.header().owned_id.store(id as u32, Ordering::Relaxed);
        true
    }

    /// Removes a completed task.
    pub(crate) fn remove(&self, task: &RawTask) {
        let id = task.header().owned_id.load(Ordering::Relaxed) as usize;
        let removed = lock(&self.list).try_remove(id);
        drop(removed);
    }

    pub(crate) fn is_closed(&self) -> bool {
        self.closed.load(Ordering::Acquire)
    }

    /// Refuses new tasks and cancels every owned one on the calling thread.
    pub(crate) fn close_and_shutdown(&self) {
        self.closed.store(true, Ordering::Release);
        loop {
            let tasks: Vec<RawTask> = lock(&self.list).drain().collect();
            if tasks.is_empty() {
                break;
            }
            for t in &tasks {
                t.shutdown();
            }
        }
    }
}
