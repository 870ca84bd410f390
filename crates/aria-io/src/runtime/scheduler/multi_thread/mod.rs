//! The multi-thread, work-stealing scheduler.
//!
//! # Shape
//!
//! N worker threads (default: the available parallelism), each owning a [`Core`]: a bounded
//! local run queue (256 tasks, see [`queue`]) and a LIFO slot. A task woken by a task running
//! on a worker goes to that worker's LIFO slot, so a message passed to a waiting task is
//! handled next, while its data is still in cache; the task it displaces goes to the back of
//! the local queue, where other workers can steal it. At most 3 LIFO polls run in a row
//! before the queue gets its turn. Tasks woken or spawned from outside a worker go to the
//! shared injection queue. Every 31 polls a worker checks the injection queue first, and
//! every `event_interval` (61) polls it turns the driver without waiting, so neither remote
//! work nor I/O starves behind a busy local queue.
//!
//! A worker with nothing to do steals half of another worker's queue (starting at a random
//! victim), then tries the injection queue, then parks. See [`idle`] for the rules that keep
//! the number of searching workers small and make sure no wake-up is lost.
//!
//! # One driver, shared
//!
//! The workers share one driver (one epoll instance or one io_uring). A parking worker takes
//! it if no other worker holds it and waits in it (for I/O, timers, signals, child exits, or an
//! unpark through its eventfd); the others park on a condition variable. A wake-up for a
//! worker parked in the driver writes the eventfd. Why one and not one per worker: a process
//! exit, a signal or a timer belongs to no worker in particular, and with one ring per worker
//! an I/O object would be bound to the ring it was registered on, so a task stolen by another
//! worker would submit to a ring whose owner may be asleep. One shared driver keeps I/O
//! objects free to move with their tasks, and with two cores the driver's lock is not
//! contended: it is taken only by a worker about to sleep. An io_uring ring here is set up
//! without `SINGLE_ISSUER` or `COOP_TASKRUN` (see the [io_uring backend](crate::driver)):
//! any worker may submit, and a worker asleep on its condition variable must still be
//! interrupted to finish the requests it submitted. Thread-per-core is the flavour with one
//! ring per thread.

mod idle;
mod park;
pub(crate) mod queue;
mod worker;

use std::future::Future;
use std::io;
use std::sync::atomic::{fence, AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use self::idle::Idle;
use self::park::Parker;
use self::queue::{Local, Overflow, Steal};
use super::inject::Inject;
use super::owned::OwnedTasks;
use crate::driver::{self, lock, Driver};
use crate::runtime::context::{self, CONTEXT};
use crate::runtime::scheduler;
use crate::task::raw::Schedule;
use crate::task::{JoinHandle, RawTask};

/// Consecutive polls from the LIFO slot before the local queue gets a turn.
const MAX_LIFO_POLLS: u32 = 3;
/// Polls between two looks at the injection queue first.
const GLOBAL_QUEUE_INTERVAL: u32 = 31;

/// A worker's own state. Lives in the worker thread's context while the worker runs.
pub(crate) struct Core {
    lifo: Option<RawTask>,
    lifo_polls: u32,
    queue: Local<RawTask>,
    tick: u32,
    searching: bool,
    /// The worker is in `park`: a task this worker's own driver turn wakes is seen when the
    /// turn returns, so queuing it needs no wake-up of this worker (see `schedule_local`).
    parking: bool,
    /// xorshift state for picking the first steal victim.
    rand: u32,
}

/// What other threads can reach of a worker.
struct Remote {
    steal: Steal<RawTask>,
    parker: Parker,
}

/// State shared by the workers, wakers and handles.
pub(crate) struct Shared {
    pub(crate) driver_handle: Arc<driver::Handle>,
    /// The driver, taken by a parking worker. `None` after shutdown.
    driver: Mutex<Option<Driver>>,
    inject: Inject<RawTask>,
    remotes: Box<[Remote]>,
    idle: Idle,
    owned: OwnedTasks,
    shutdown: AtomicBool,
    event_interval: u32,
    /// Cores waiting for their worker thread to start.
    cores: Mutex<Vec<Option<Box<Core>>>>,
    threads: Mutex<Vec<std::thread::JoinHandle<()>>>,
}

impl Overflow<RawTask> for Shared {
    fn push_batch(&self, tasks: impl Iterator<Item = RawTask>) {
        self.inject.push_batch(tasks);
    }
}

/// The runtime-owned half: starts the workers, shuts them down.
pub(crate) struct MultiThread {
    pub(crate) shared: Arc<Shared>,
}

impl MultiThread {
    /// Starts `workers` threads named `name-<index>`.
    ///
    /// # Errors
    /// The error of spawning a thread (`EAGAIN` at the process or user thread limit).
    pub(crate) fn new(
        driver: Driver,
        workers: usize,
        event_interval: u32,
        name: &str,
    ) -> io::Result<MultiThread> {
        let workers = workers.max(1);
        let mut cores = Vec::with_capacity(workers);
        let mut remotes = Vec::with_capacity(workers);
        for index in 0..workers {
            let (local, steal) = queue::local();
            cores.push(Some(Box::new(Core {
                lifo: None,
                lifo_polls: 0,
                queue: local,
                tick: 0,
                searching: false,
                parking: false,
                rand: 0x9E37_79B9 ^ (index as u32 + 1).wrapping_mul(0x85EB_CA6B),
            })));
            remotes.push(Remote { steal, parker: Parker::new() });
        }
        let shared = Arc::new(Shared {
            driver_handle: driver.handle().clone(),
            driver: Mutex::new(Some(driver)),
            inject: Inject::new(),
            remotes: remotes.into_boxed_slice(),
            idle: Idle::new(workers),
            owned: OwnedTasks::new(),
            shutdown: AtomicBool::new(false),
            event_interval: event_interval.max(1),
            cores: Mutex::new(cores),
            threads: Mutex::new(Vec::new()),
        });
        let rt = MultiThread { shared: shared.clone() };
        for index in 0..workers {
            let shared = shared.clone();
            let thread = std::thread::Builder::new()
                .name(format!("{name}-{index}"))
                .spawn(move || worker::run(shared, index))?;
            lock(&rt.shared.threads).push(thread);
        }
        Ok(rt)
    }

    /// Runs `future` on the calling thread (which is not a worker), parking the thread while
    /// the future waits; spawned tasks run on the workers meanwhile.
    pub(crate) fn block_on<F: Future>(&self, future: F) -> F::Output {
        scheduler::block_on_parked(scheduler::Handle::MultiThread(self.shared.clone()), future)
    }

    /// Stops the workers, then cancels every task on the calling thread.
    fn shutdown(&self) {
        let shared = &self.shared;
        shared.shutdown.store(true, Ordering::SeqCst);
        for remote in shared.remotes.iter() {
            remote.parker.unpark(&*shared.driver_handle);
        }
        scheduler::join_threads(&shared.threads);
        let guard = context::enter(scheduler::Handle::MultiThread(shared.clone()));
        shared.owned.close_and_shutdown();
        drop(shared.inject.close());
        drop(guard);
        // The driver goes last: cancelled tasks may deregister I/O objects.
        let driver = lock(&shared.driver).take();
        drop(driver);
    }
}

/// The runtime's shutdown, and the clean-up of a `new` that failed half-way (the workers
/// already started hold the shared state and its driver).
impl Drop for MultiThread {
    fn drop(&mut self) {
        self.shutdown();
    }
}

impl Shared {
    /// Spawns `future`: onto the current worker's queue when called from a worker, else onto
    /// the injection queue, waking a parked worker if none is searching.
    pub(crate) fn spawn<F>(self: &Arc<Self>, future: F) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let scheduler: Arc<dyn Schedule> = self.clone();
        let (queued, owned, join) = RawTask::new(future, scheduler);
        if self.owned.bind(&owned) {
            self.schedule_task(queued, true);
        }
        JoinHandle::new(join)
    }

    /// Queues a notified task. `to_back`: behind the local queue (spawns and yields) rather
    /// than in the LIFO slot (wake-ups).
    fn schedule_task(&self, task: RawTask, to_back: bool) {
        // Only the local fast path needs this thread's context; when it is gone (a waker fired
        // from a thread-local destructor) the task still goes to the injection queue.
        let mut task = Some(task);
        let _ = CONTEXT.try_with(|c| task = task.take().and_then(|t| self.schedule_local(c, t, to_back)));
        let Some(task) = task else { return };
        if self.inject.push(task).is_ok() {
            self.notify_parked();
        }
    }

    /// On one of this runtime's workers (not inside another borrow of its core): queues the
    /// task locally. Otherwise gives it back.
    fn schedule_local(&self, c: &context::Context, task: RawTask, to_back: bool) -> Option<RawTask> {
        if !context::runs(c, (self as *const Self).cast()) {
            return Some(task);
        }
        let Ok(mut slot) = c.core.try_borrow_mut() else { return Some(task) };
        let Some(core) = slot.as_mut() else { return Some(task) };
        let stealable = if to_back {
            core.queue.push_back(task, self);
            true
        } else {
            match core.lifo.replace(task) {
                Some(prev) => {
                    core.queue.push_back(prev, self);
                    true
                }
                None => false,
            }
        };
        // In its own park (a task woken by this worker's driver turn), this worker counts as
        // parked, so a notification would pick it and interrupt its own driver: an eventfd
        // write now and a read after the turn, for a queue it looks at as soon as the turn
        // returns, when it also wakes another worker to help (`Worker::park`).
        let parking = core.parking;
        drop(slot);
        if stealable && !parking {
            self.notify_parked();
        }
        None
    }

    /// Wakes one parked worker if work is waiting and nobody is searching for it.
    fn notify_parked(&self) {
        // Pairs with the fence a parking worker issues before its last look at the queues.
        fence(Ordering::SeqCst);
        if let Some(worker) = self.idle.worker_to_notify() {
            self.remotes[worker].parker.unpark(&*self.driver_handle);
        }
    }

    /// After the last searcher parked: wakes a worker if any queue still has work.
    fn notify_if_work_pending(&self) {
        fence(Ordering::SeqCst);
        let pending = self.remotes.iter().any(|r| !r.steal.is_empty()) || !self.inject.is_empty();
        if pending {
            self.notify_parked();
        }
    }
}

impl Schedule for Shared {
    fn schedule(&self, task: RawTask) {
        if self.owned.is_closed() {
            return;
        }
        self.schedule_task(task, false);
    }

    fn yield_now(&self, task: RawTask) {
        if self.owned.is_closed() {
            return;
        }
        self.schedule_task(task, true);
    }

    fn release(&self, task: &RawTask) {
        self.owned.remove(task);
    }
}
