//! The thread-per-core scheduler: one current-thread scheduler per core, each on a thread of
//! its own with a driver of its own.
//!
//! # Shape
//!
//! N cores (default: the available parallelism), each a thread named `<name>-<index>`,
//! optionally pinned to one CPU, that runs a [`current_thread`] scheduler and turns its own
//! driver: an io_uring set up with `IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN`
//! (the core's thread is the only one that ever enters it, so the kernel runs completion
//! work only when that thread asks for completions), or an epoll instance.
//!
//! A task stays on the core it was spawned on for its whole life: there is no stealing and no
//! shared run queue, so a core's hot path contends for no lock (its owned-task list and
//! injection queue are shared only with threads that spawn or wake across cores) and touches
//! no other core's memory, and the I/O objects a task creates register with its core's
//! driver. The price is balance:
//! work is spread when it is spawned, never afterwards.
//!
//! - [`spawn`](crate::spawn) on a core spawns onto that core; from any other thread (the
//!   thread inside `block_on`, a [`Handle`](crate::Handle) elsewhere) it picks the cores in
//!   turn.
//! - [`spawn_local`](crate::task::spawn_local) spawns a future that is not `Send` onto the
//!   current core.
//! - [`Handle::spawn_on`](crate::Handle::spawn_on) sends a closure to a given core; the future
//!   it returns is created and runs there, so it need not be `Send` either.
//!
//! `block_on` polls its future on the calling thread, which is not a core and sleeps in
//! between (as on the multi-thread runtime). I/O objects it creates register with core 0's
//! driver: entries pushed from another thread are queued, and core 0's thread is woken to
//! submit them, so the single-issuer rule holds.
//!
//! # Shutdown
//!
//! Each core cancels its own tasks on its own thread, so a future that is not `Send` is
//! dropped where it lived, then drops its driver. A core's thread does so even when its
//! scheduler panics (a failed driver), through a drop guard.

use std::future::Future;
use std::io;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use super::current_thread::{self, CurrentThread};
use crate::driver::{self, lock, Driver};
use crate::runtime::scheduler;
use crate::sync::Notify;
use crate::sys;
use crate::task::JoinHandle;

/// State shared by the cores and every handle.
pub(crate) struct Shared {
    cores: Box<[Arc<current_thread::Shared>]>,
    /// The next core a spawn from outside the cores goes to.
    next: AtomicUsize,
}

/// A thread-per-core runtime as seen from one thread: the core the thread runs (`None` on
/// other threads).
#[derive(Clone)]
pub(crate) struct Handle {
    shared: Arc<Shared>,
    core: Option<usize>,
}

impl Handle {
    /// The core this thread runs, if any.
    pub(crate) fn core(&self) -> Option<usize> {
        self.core
    }

    /// The number of cores.
    pub(crate) fn cores(&self) -> usize {
        self.shared.cores.len()
    }

    /// Whether this handle names the core whose current-thread state is at `shared`.
    pub(crate) fn runs(&self, shared: *const ()) -> bool {
        self.core.is_some_and(|i| Arc::as_ptr(&self.shared.cores[i]).cast() == shared)
    }

    /// The current-thread state of the core this thread runs.
    pub(crate) fn current(&self) -> Option<&Arc<current_thread::Shared>> {
        self.core.map(|i| &self.shared.cores[i])
    }

    /// The driver of this thread's core, or core 0's outside the cores.
    pub(crate) fn driver(&self) -> &Arc<driver::Handle> {
        &self.shared.cores[self.core.unwrap_or(0)].driver
    }

    /// Spawns onto this thread's core, or onto the cores in turn from outside them.
    pub(crate) fn spawn<F>(&self, future: F) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let core =
            self.core.unwrap_or_else(|| self.shared.next.fetch_add(1, Ordering::Relaxed) % self.cores());
        self.shared.cores[core].spawn(future)
    }

    /// Spawns a future that is not `Send` onto this thread's core; `None` outside the cores.
    pub(crate) fn spawn_local<F>(&self, future: F) -> Option<JoinHandle<F::Output>>
    where
        F: Future + 'static,
        F::Output: Send + 'static,
    {
        let core = self.current()?;
        // SAFETY: this thread is the core's thread, which runs it for its whole life and
        // shuts it down (`run` below): the future is polled and dropped here only.
        Some(unsafe { core.spawn_local(future) })
    }

    /// Runs `make` on core `core` and spawns the future it returns there.
    ///
    /// # Panics
    /// If `core` is not below the number of cores.
    pub(crate) fn spawn_on<C, F>(&self, core: usize, make: C) -> JoinHandle<F::Output>
    where
        C: FnOnce() -> F + Send + 'static,
        F: Future + 'static,
        F::Output: Send + 'static,
    {
        let cores = self.cores();
        let Some(target) = self.shared.cores.get(core) else {
            panic!("spawn_on: no core {core} (this runtime has {cores})");
        };
        // Until its first poll this future holds only `make`, which is `Send`: if the core is
        // closed, it is dropped here in that state. Afterwards it lives on the core.
        let future = async move { make().await };
        // SAFETY: the core's thread runs it for its whole life and shuts it down; the only
        // drop that can happen elsewhere is the one above, before the first poll, which drops
        // nothing but `make`.
        unsafe { target.spawn_local(future) }
    }
}

/// The runtime-owned half: the cores' threads and how to stop them.
pub(crate) struct ThreadPerCore {
    pub(crate) handle: Handle,
    stops: Vec<Arc<Notify>>,
    threads: Mutex<Vec<std::thread::JoinHandle<()>>>,
}

/// How to set the cores up.
pub(crate) struct Config<'a> {
    pub(crate) cores: usize,
    pub(crate) event_interval: u32,
    pub(crate) name: &'a str,
    pub(crate) pin: bool,
    pub(crate) backend: Option<driver::BackendKind>,
}

impl ThreadPerCore {
    /// Creates the cores' drivers on this thread (an io_uring is created disabled and enabled
    /// by its core's thread, the only one that enters it), then starts their threads.
    ///
    /// # Errors
    /// The error of creating a driver or spawning a thread; the cores already started are
    /// stopped again.
    pub(crate) fn new(config: Config<'_>) -> io::Result<ThreadPerCore> {
        let n = config.cores.max(1);
        let mut schedulers = Vec::with_capacity(n);
        for _ in 0..n {
            let driver = Driver::new(config.backend, driver::Issuer::OneThread)?;
            schedulers.push(CurrentThread::new(driver, config.event_interval));
        }
        let shared = Arc::new(Shared {
            cores: schedulers.iter().map(|s| s.shared.clone()).collect(),
            next: AtomicUsize::new(0),
        });
        let cpus = if config.pin { sys::allowed_cpus() } else { Vec::new() };
        // Every core cancels its tasks before any core drops its driver: a task on one core
        // may wait for an operation on another core's driver, and a driver that shuts down
        // first would complete it (with ECANCELED) instead of letting it be cancelled.
        let cancelled = Arc::new(CancelGate::default());
        let rt = ThreadPerCore {
            handle: Handle { shared: shared.clone(), core: None },
            stops: (0..n).map(|_| Arc::new(Notify::new())).collect(),
            threads: Mutex::new(Vec::with_capacity(n)),
        };
        for (index, scheduler) in schedulers.into_iter().enumerate() {
            let handle = Handle { shared: shared.clone(), core: Some(index) };
            let stop = rt.stops[index].clone();
            let gate = cancelled.clone();
            let cpu = (!cpus.is_empty()).then(|| cpus[index % cpus.len()]);
            *lock(&cancelled.running) += 1;
            let thread = std::thread::Builder::new()
                .name(format!("{}-{index}", config.name))
                .spawn(move || run(scheduler, handle, &stop, &gate, cpu))
                .inspect_err(|_| *lock(&cancelled.running) -= 1)?;
            lock(&rt.threads).push(thread);
        }
        Ok(rt)
    }

    /// Runs `future` on the calling thread (which is not a core), parking the thread while the
    /// future waits.
    pub(crate) fn block_on<F: Future>(&self, future: F) -> F::Output {
        scheduler::block_on_parked(scheduler::Handle::ThreadPerCore(self.handle.clone()), future)
    }
}

/// Stops every core, each cancelling its tasks on its own thread, and waits for them (the
/// runtime's shutdown, and the clean-up of a `new` that failed half-way).
impl Drop for ThreadPerCore {
    fn drop(&mut self) {
        for stop in &self.stops {
            stop.notify_one();
        }
        scheduler::join_threads(&self.threads);
    }
}

/// Counts the cores whose tasks are not cancelled yet (the cores that were started).
#[derive(Default)]
struct CancelGate {
    running: Mutex<usize>,
    all_cancelled: std::sync::Condvar,
}

impl CancelGate {
    /// This core has cancelled its tasks: wait until every started core has.
    fn cancelled_and_wait(&self) {
        let mut running = lock(&self.running);
        *running -= 1;
        if *running == 0 {
            self.all_cancelled.notify_all();
        }
        while *running > 0 {
            running = self.all_cancelled.wait(running).unwrap_or_else(|p| p.into_inner());
        }
    }
}

/// A core's thread: runs the scheduler until told to stop, then shuts it down here, waits
/// until every core has cancelled its tasks, and drops its driver.
fn run(scheduler: CurrentThread, handle: Handle, stop: &Notify, cancelled: &CancelGate, cpu: Option<usize>) {
    if let Some(cpu) = cpu {
        // Pinning is a placement hint: a CPU taken away meanwhile leaves the thread unpinned.
        let _ = sys::pin_to_cpu(cpu);
    }
    /// Shuts the scheduler down on this thread, also while unwinding, then waits for the
    /// other cores to have done the same.
    struct ShutDown<'a>(&'a CurrentThread, &'a Handle, &'a CancelGate);
    impl Drop for ShutDown<'_> {
        fn drop(&mut self) {
            self.0.shutdown_as(scheduler::Handle::ThreadPerCore(self.1.clone()));
            self.2.cancelled_and_wait();
        }
    }
    let guard = ShutDown(&scheduler, &handle, cancelled);
    scheduler.block_on_as(scheduler::Handle::ThreadPerCore(handle.clone()), stop.notified());
    drop(guard);
}
