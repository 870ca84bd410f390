//! The current-thread scheduler: tasks run on the thread that calls `block_on`, taken from a
//! thread-local queue (wake-ups on that thread) and a shared injection queue (wake-ups and
//! spawns from other threads, which also interrupt the driver through its eventfd).
//!
//! Between batches of at most `event_interval` polls the driver is turned: with a zero
//! timeout when more work is queued (so I/O and timers are never starved), otherwise until the
//! next event or timer deadline, which is how an idle runtime uses no CPU.

use std::future::Future;
use std::pin::pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Wake, Waker};
use std::time::Duration;

use super::inject::Inject;
use super::owned::OwnedTasks;
use crate::driver::{self, lock, Driver};
use crate::runtime::context::{self, CONTEXT};
use crate::runtime::scheduler;
use crate::task::raw::Schedule;
use crate::task::{JoinHandle, RawTask};

/// State shared by the scheduler thread, wakers and handles on other threads.
pub(crate) struct Shared {
    pub(crate) driver: Arc<driver::Handle>,
    inject: Inject<RawTask>,
    owned: OwnedTasks,
}

impl Shared {
    pub(crate) fn new(driver: Arc<driver::Handle>) -> Shared {
        Shared { driver, inject: Inject::new(), owned: OwnedTasks::new() }
    }

    fn is_current(&self) -> bool {
        CONTEXT.try_with(|c| context::runs(c, (self as *const Self).cast())).unwrap_or(false)
    }

    pub(crate) fn push_remote(&self, task: RawTask) {
        if self.inject.push(task).is_ok() {
            self.driver.unpark();
        }
    }

    /// Spawns `future` onto this scheduler.
    pub(crate) fn spawn<F>(self: &Arc<Self>, future: F) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let scheduler: Arc<dyn Schedule> = self.clone();
        self.bind(RawTask::new(future, scheduler))
    }

    /// Spawns a future that is not `Send` onto this scheduler.
    ///
    /// # Safety
    /// This scheduler runs on one thread for its whole life, which also shuts it down (a
    /// thread-per-core core), and `future` may be polled and dropped on that thread only: the
    /// caller is that thread, or `future` is safe to drop on the caller's thread before its
    /// first poll (if the scheduler is closed, the task is dropped at once, here).
    pub(crate) unsafe fn spawn_local<F>(self: &Arc<Self>, future: F) -> JoinHandle<F::Output>
    where
        F: Future + 'static,
        F::Output: Send + 'static,
    {
        let scheduler: Arc<dyn Schedule> = self.clone();
        // SAFETY: forwarded contract: the task runs and is shut down only on this
        // scheduler's thread.
        self.bind(unsafe { RawTask::new_local(future, scheduler) })
    }

    fn bind<T>(&self, (queued, owned, join): (RawTask, RawTask, RawTask)) -> JoinHandle<T> {
        if self.owned.bind(&owned) {
            self.schedule(queued);
        }
        JoinHandle::new(join)
    }

    /// Cancels every task and drops every queued reference (runtime shutdown).
    fn shutdown(&self) {
        self.owned.close_and_shutdown();
        let _ = CONTEXT.try_with(|c| c.local.borrow_mut().clear());
        drop(self.inject.close());
    }
}

impl Schedule for Shared {
    fn schedule(&self, task: RawTask) {
        if self.owned.is_closed() {
            return; // dropping the reference; the task was or will be cancelled
        }
        // Only the local queue needs this thread's context; when it is gone (a waker fired from
        // a thread-local destructor) the task still goes to the injection queue.
        let mut task = Some(task);
        let _ = CONTEXT.try_with(|c| {
            if context::runs(c, (self as *const Self).cast()) {
                if let Some(t) = task.take() {
                    c.local.borrow_mut().push_back(t);
                }
            }
        });
        if let Some(task) = task {
            self.push_remote(task);
        }
    }

    fn release(&self, task: &RawTask) {
        self.owned.remove(task);
    }
}

/// Wakes the `block_on` future.
struct MainWaker {
    woken: AtomicBool,
    shared: Arc<Shared>,
}

impl Wake for MainWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.woken.store(true, Ordering::SeqCst);
        if !self.shared.is_current() {
            self.shared.driver.unpark();
        }
    }
}

/// The scheduler's thread-owned half.
pub(crate) struct CurrentThread {
    pub(crate) shared: Arc<Shared>,
    driver: Mutex<Driver>,
    event_interval: u32,
}

impl CurrentThread {
    pub(crate) fn new(driver: Driver, event_interval: u32) -> CurrentThread {
        let shared = Arc::new(Shared::new(driver.handle().clone()));
        CurrentThread { shared, driver: Mutex::new(driver), event_interval: event_interval.max(1) }
    }

    pub(crate) fn block_on<F: Future>(&self, future: F) -> F::Output {
        self.block_on_as(scheduler::Handle::CurrentThread(self.shared.clone()), future)
    }

    /// Runs `future` with `handle` (this scheduler, or a thread-per-core core built on it) as
    /// the thread's scheduler.
    pub(crate) fn block_on_as<F: Future>(&self, handle: scheduler::Handle, future: F) -> F::Output {
        let Some(_guard) = context::enter(handle) else {
            panic!("Runtime::block_on called from inside a runtime: a blocking wait there would stall every task; use .await instead");
        };
        let mut driver = lock(&self.driver);
        let main = Arc::new(MainWaker { woken: AtomicBool::new(true), shared: self.shared.clone() });
        let waker = Waker::from(main.clone());
        let mut cx = Context::from_waker(&waker);
        let mut future = pin!(future);
        // Polls (of tasks and of the main future) left before the driver must be turned.
        let mut budget = self.event_interval;
        let mut polls = 0u32;
        loop {
            if main.woken.swap(false, Ordering::AcqRel) {
                budget = budget.saturating_sub(1);
                if let Poll::Ready(out) = future.as_mut().poll(&mut cx) {
                    return out;
                }
            }
            while budget > 0 {
                // Check the shared queue first every 31 polls, so remote work is not starved by
                // tasks that keep re-waking each other locally.
                polls = polls.wrapping_add(1);
                let task = if polls % 31 == 0 {
                    self.shared.inject.pop().or_else(pop_local)
                } else {
                    pop_local().or_else(|| self.shared.inject.pop())
                };
                let Some(task) = task else { break };
                task.run();
                budget -= 1;
            }
            // The main future was woken (by a task, or by its own yield, which is why the
            // queued tasks ran first): poll it again without a system call while the budget
            // lasts; a join loop would otherwise turn the driver once per task.
            if budget > 0 && main.woken.load(Ordering::Relaxed) {
                continue;
            }
            budget = self.event_interval;
            let busy = main.woken.load(Ordering::SeqCst)
                || !self.shared.inject.is_empty()
                || CONTEXT.with(|c| !c.local.borrow().is_empty());
            let wait = if busy { Some(Duration::ZERO) } else { None };
            if let Err(e) = driver.turn(wait) {
                panic!("aria-io driver failed: {e}");
            }
        }
    }

    pub(crate) fn shutdown(&self) {
        self.shutdown_as(scheduler::Handle::CurrentThread(self.shared.clone()));
    }

    /// Cancels every task on this thread, with `handle` as the thread's scheduler meanwhile.
    pub(crate) fn shutdown_as(&self, handle: scheduler::Handle) {
        let guard = context::enter(handle);
        self.shared.shutdown();
        drop(guard);
    }
}

fn pop_local() -> Option<RawTask> {
    CONTEXT.with(|c| c.local.borrow_mut().pop_front())
}
