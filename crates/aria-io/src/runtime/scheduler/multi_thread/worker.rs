//! A worker thread's loop: run local work, steal, park.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use super::park::DriverSlot;
use super::queue::CAPACITY;
use super::{Core, Parker, Shared, GLOBAL_QUEUE_INTERVAL, MAX_LIFO_POLLS};
use crate::driver::lock;
use crate::runtime::context::{self, CONTEXT};
use crate::runtime::scheduler;
use crate::task::RawTask;

/// Borrows this worker's core for the length of `f` (never while a task runs).
fn with_core<R>(f: impl FnOnce(&mut Core) -> R) -> R {
    CONTEXT.with(|c| {
        let mut slot = c.core.borrow_mut();
        f(slot.as_mut().expect("a worker thread always has its core"))
    })
}

/// The body of worker thread `index`.
pub(super) fn run(shared: Arc<Shared>, index: usize) {
    let Some(core) = lock(&shared.cores).get_mut(index).and_then(Option::take) else { return };
    let Some(guard) = context::enter(scheduler::Handle::MultiThread(shared.clone())) else { return };
    CONTEXT.with(|c| *c.core.borrow_mut() = Some(core));
    let worker = Worker { shared: &shared, index };
    worker.run_loop();
    // Drop the queued references; the tasks themselves are cancelled by the runtime's
    // shutdown, on the thread that drops it.
    let core = CONTEXT.with(|c| c.core.borrow_mut().take());
    if let Some(mut core) = core {
        drop(core.lifo.take());
        while core.queue.pop().is_some() {}
    }
    drop(guard);
}

struct Worker<'a> {
    shared: &'a Shared,
    index: usize,
}

impl Worker<'_> {
    fn run_loop(&self) {
        let shared = self.shared;
        while !shared.shutdown.load(Ordering::Acquire) {
            let maintenance = with_core(|core| {
                core.tick = core.tick.wrapping_add(1);
                core.tick % shared.event_interval == 0
            });
            // Before taking the next task: what the turn wakes (I/O, timers) is queued here,
            // in this worker's LIFO slot when it wakes a task of this worker, so it is seen
            // below rather than left behind while the worker parks.
            if maintenance {
                self.maintenance();
            }
            if let Some(task) = with_core(|core| self.next_task(core)) {
                self.run_task(task);
                continue;
            }
            if let Some(task) = self.steal_work() {
                self.run_task(task);
                continue;
            }
            self.park();
        }
    }

    /// The next task from this worker's own sources.
    fn next_task(&self, core: &mut Core) -> Option<RawTask> {
        let shared = self.shared;
        if core.tick % GLOBAL_QUEUE_INTERVAL == 0 {
            if let Some(task) = shared.inject.pop() {
                return Some(task);
            }
        }
        if let Some(task) = core.lifo.take() {
            if core.lifo_polls < MAX_LIFO_POLLS {
                core.lifo_polls += 1;
                return Some(task);
            }
            core.queue.push_back(task, shared);
        }
        core.lifo_polls = 0;
        if let Some(task) = core.queue.pop() {
            return Some(task);
        }
        // Refill from the injection queue: a fair share, at most half a local queue.
        let share = shared.inject.len() / shared.remotes.len() + 1;
        let n = share.min(core.queue.remaining()).min(CAPACITY / 2);
        // `n` fits, so `push_back` never overflows into the injection queue, whose lock
        // `pop_batch` holds while it calls back.
        debug_assert!(n <= core.queue.remaining());
        shared.inject.pop_batch(n, |t| core.queue.push_back(t, shared))
    }

    fn run_task(&self, task: RawTask) {
        // (`next_task` counts LIFO polls and resets the count when it takes from a queue.)
        let was_last_searcher = with_core(|core| {
            if core.searching {
                core.searching = false;
                self.shared.idle.transition_from_searching()
            } else {
                false
            }
        });
        if was_last_searcher {
            // There may be more work than this worker can take: wake another one to look.
            self.shared.notify_parked();
        }
        task.run();
    }

    /// Steals from another worker, then the injection queue.
    fn steal_work(&self) -> Option<RawTask> {
        let shared = self.shared;
        with_core(|core| {
            if !core.searching {
                if !shared.idle.transition_to_searching() {
                    return None;
                }
                core.searching = true;
            }
            let n = shared.remotes.len();
            core.rand ^= core.rand << 13;
            core.rand ^= core.rand >> 17;
            core.rand ^= core.rand << 5;
            let start = core.rand as usize % n;
            for i in 0..n {
                let victim = (start + i) % n;
                if victim == self.index {
                    continue;
                }
                if let Some(task) = shared.remotes[victim].steal.steal_into(&mut core.queue) {
                    return Some(task);
                }
            }
            shared.inject.pop()
        })
    }

    /// Every `event_interval` polls: turn the driver without waiting, unless another worker
    /// holds it.
    fn maintenance(&self) {
        let turned = self.shared.driver.try_with(|d| d.turn(Some(std::time::Duration::ZERO)));
        if let Some(Err(e)) = turned {
            panic!("aria-io driver failed: {e}");
        }
    }

    /// Sleeps until there is work (or shutdown).
    fn park(&self) {
        let shared = self.shared;
        let searching = with_core(|core| std::mem::replace(&mut core.searching, false));
        if shared.idle.transition_to_parked(self.index, searching) {
            // The last searcher: a task queued just before this saw a searcher and woke
            // nobody, so look once more.
            shared.notify_if_work_pending();
        }
        let parker: &Parker = &shared.remotes[self.index].parker;
        with_core(|core| core.parking = true);
        let _parking = ParkingFlag;
        let mut first = true;
        loop {
            // Work may already be here before the first sleep: a task woken on this worker
            // (into its LIFO slot, which wakes nobody) by the driver turn or a timer since
            // the worker last looked. Sleeping on it would strand it until the next event.
            if !std::mem::take(&mut first) {
                if let Err(e) = parker.park(&shared.driver) {
                    panic!("aria-io driver failed: {e}");
                }
            }
            if shared.shutdown.load(Ordering::Acquire) {
                return;
            }
            let has_work = with_core(|core| core.lifo.is_some() || !core.queue.is_empty());
            if has_work || !shared.inject.is_empty() {
                // Woken by the driver (a timer, I/O) with work: unpark, not searching; if a
                // notifier got here first, it counted this worker as searching.
                let notified = !shared.idle.unpark_by_id(self.index);
                with_core(|core| core.searching = notified);
                if has_work && !notified {
                    // Others may be able to help with what the driver woke.
                    shared.notify_parked();
                }
                return;
            }
            if !shared.idle.is_parked(self.index) {
                // Unparked by a notifier: it counted this worker as searching.
                with_core(|core| core.searching = true);
                return;
            }
        }
    }
}

/// Clears [`Core::parking`](super::Core) when `park` returns (or unwinds).
struct ParkingFlag;

impl Drop for ParkingFlag {
    fn drop(&mut self) {
        // Never panics, not even while unwinding from a panic in `park`.
        let _ = CONTEXT.try_with(|c| {
            if let Ok(mut slot) = c.core.try_borrow_mut() {
                if let Some(core) = slot.as_mut() {
                    core.parking = false;
                }
            }
        });
    }
}
