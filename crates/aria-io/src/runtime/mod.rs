//! The runtime: a scheduler and the driver it turns.
//!
//! [`Runtime::block_on`] runs a future to completion on the calling thread; tasks
//! [`spawn`]ed onto the runtime run concurrently with it. Three flavours:
//!
//! - **current-thread** ([`Builder::new_current_thread`], [`Runtime::new`]): tasks run on the
//!   thread inside `block_on`, and that thread turns the driver (I/O, timers, signals,
//!   process exits) when no task is runnable. No locks on the hot path, no threads.
//! - **multi-thread** ([`Builder::new_multi_thread`]): worker threads with work-stealing run
//!   queues share one driver; see the scheduler's design notes in the source
//!   (`runtime/scheduler/multi_thread`). `block_on` polls its future on the calling thread,
//!   which sleeps in between.
//! - **thread-per-core** ([`Builder::new_thread_per_core`]): one current-thread scheduler per
//!   core, each on its own thread with its own driver; a task stays on the core it was
//!   spawned on, futures that are not `Send` run through [`spawn_local`](crate::task::spawn_local),
//!   and [`Handle::spawn_on`] sends work to a given core. See the design notes in the source
//!   (`runtime/scheduler/thread_per_core.rs`).
//!
//! All three run the same tasks: a task is one allocation (header, future, output; at most 96
//! bytes for an empty `async {}` with its reference counts, checked by a unit test in
//! `task/raw/tests.rs`; tokio's takes 128) whose state machine (`task/mod.rs`) makes a
//! wake-up never lost and never doubled whichever thread sends it.
//!
//! # No `block_in_place`
//!
//! tokio's `block_in_place` hands the calling worker's run queue to a new thread and blocks
//! in place. It only works on a multi-thread runtime, panics on a current-thread one, and
//! blocks everything else the calling task is doing (its `select!` branches, its other
//! futures). aria-io leaves it out: [`blocking::spawn_blocking`](crate::blocking) moves the
//! blocking work to the blocking pool and works on every flavour, and CPU-bound work goes to
//! Rayon through `aria_io::rayon` (feature `rayon`).

pub(crate) mod context;
pub(crate) mod scheduler;

use std::fmt;
use std::future::Future;
use std::io;

use crate::driver::Issuer;
use crate::driver::{BackendKind, Driver};
use crate::task::JoinHandle;
use scheduler::current_thread::CurrentThread;
use scheduler::multi_thread::MultiThread;
use scheduler::thread_per_core::{Config, ThreadPerCore};

/// How a runtime runs its tasks (chosen with the [`Builder`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum RuntimeFlavor {
    /// Every task on the thread inside [`Runtime::block_on`].
    CurrentThread,
    /// Worker threads with work-stealing run queues and one shared driver.
    MultiThread,
    /// One current-thread scheduler and driver per core, each on its own thread.
    ThreadPerCore,
}

/// Configures and builds a [`Runtime`].
#[derive(Debug, Clone)]
pub struct Builder {
    flavor: RuntimeFlavor,
    event_interval: u32,
    backend: Option<BackendKind>,
    workers: Option<usize>,
    thread_name: String,
    pin_cores: bool,
}

impl Builder {
    fn new(flavor: RuntimeFlavor) -> Builder {
        Builder {
            flavor,
            event_interval: 61,
            backend: None,
            workers: None,
            thread_name: "aria-io-worker".into(),
            pin_cores: false,
        }
    }

    /// A builder for a current-thread runtime: every task runs on the thread that calls
    /// [`Runtime::block_on`].
    pub fn new_current_thread() -> Builder {
        Builder::new(RuntimeFlavor::CurrentThread)
    }

    /// A builder for a multi-thread runtime: [`worker_threads`](Builder::worker_threads)
    /// threads (default: [`std::thread::available_parallelism`]) run the tasks, stealing
    /// work from each other; `block_on` runs its future on the calling thread.
    pub fn new_multi_thread() -> Builder {
        Builder::new(RuntimeFlavor::MultiThread)
    }

    /// A builder for a thread-per-core runtime: [`worker_threads`](Builder::worker_threads)
    /// cores (default: [`std::thread::available_parallelism`]), each a thread running its own
    /// current-thread scheduler and driver (on io_uring, a ring set up with
    /// `IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN`). Tasks stay on the core
    /// they were spawned on; `block_on` runs its future on the calling thread.
    pub fn new_thread_per_core() -> Builder {
        Builder::new(RuntimeFlavor::ThreadPerCore)
    }

    /// Pins each core of a thread-per-core runtime to one CPU, in the order of the calling
    /// thread's affinity mask (core `i` on the `i`-th allowed CPU, wrapping around when there
    /// are more cores than CPUs). Default off. A CPU that cannot be pinned to leaves its
    /// core unpinned. Ignored by the other flavours.
    ///
    /// # References
    /// sched_setaffinity(2)
    pub fn pin_cores(&mut self, pin: bool) -> &mut Builder {
        self.pin_cores = pin;
        self
    }

    /// The number of worker threads of a multi-thread runtime, or of cores of a
    /// thread-per-core one (at least 1). Ignored by a current-thread runtime.
    pub fn worker_threads(&mut self, n: usize) -> &mut Builder {
        self.workers = Some(n.max(1));
        self
    }

    /// The name prefix of worker threads (default `aria-io-worker`; each gets `-<index>`).
    pub fn thread_name(&mut self, name: impl Into<String>) -> &mut Builder {
        self.thread_name = name.into();
        self
    }

    /// How many task polls run between two turns of the driver when tasks keep being
    /// runnable (default 61). Lower favours I/O latency, higher favours throughput.
    pub fn event_interval(&mut self, polls: u32) -> &mut Builder {
        self.event_interval = polls;
        self
    }

    /// Forces the driver's backend. Without this, the environment variable
    /// `ARIA_IO_BACKEND` (`epoll`, `uring`, `kqueue`, `poll`) decides, and without that, the
    /// runtime picks (see [`BackendKind`](crate::BackendKind) for how).
    pub fn backend(&mut self, kind: BackendKind) -> &mut Builder {
        self.backend = Some(kind);
        self
    }

    /// Creates the runtime: the driver (an io_uring or epoll instance, its wake-up eventfd
    /// and a signalfd, all close-on-exec; one per core on thread-per-core) and, for the
    /// multi-thread and thread-per-core flavours, the threads. Also sets `SIGPIPE` to ignored
    /// for the process, so writing to a closed pipe returns `EPIPE` instead of killing it;
    /// children get the default disposition back.
    ///
    /// # Errors
    /// `Unsupported` when the requested backend is not available (io_uring disabled by
    /// `/proc/sys/kernel/io_uring_disabled`, seccomp or an old kernel; the poll backend, not
    /// written yet), `InvalidInput` for an unknown `ARIA_IO_BACKEND`, the error of
    /// `epoll_create1`, `io_uring_setup`, `eventfd` or `signalfd` (for example `EMFILE`),
    /// and the error of spawning a worker thread.
    pub fn build(&self) -> io::Result<Runtime> {
        crate::sys::ignore_sigpipe();
        let scheduler = match self.flavor {
            RuntimeFlavor::CurrentThread => {
                let driver = Driver::new(self.backend, Issuer::OneAtATime)?;
                Scheduler::CurrentThread(CurrentThread::new(driver, self.event_interval))
            }
            RuntimeFlavor::MultiThread => {
                let driver = Driver::new(self.backend, Issuer::AnyThread)?;
                Scheduler::MultiThread(MultiThread::new(
                    driver,
                    self.threads(),
                    self.event_interval,
                    &self.thread_name,
                )?)
            }
            RuntimeFlavor::ThreadPerCore => Scheduler::ThreadPerCore(ThreadPerCore::new(Config {
                cores: self.threads(),
                event_interval: self.event_interval,
                name: &self.thread_name,
                pin: self.pin_cores,
                backend: self.backend,
            })?),
        };
        Ok(Runtime { scheduler })
    }

    fn threads(&self) -> usize {
        self.workers.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
    }
}

enum Scheduler {
    CurrentThread(CurrentThread),
    MultiThread(MultiThread),
    ThreadPerCore(ThreadPerCore),
}

/// An async runtime: a scheduler, an I/O driver, timers and signal handling.
///
/// Dropping the runtime cancels every task that has not finished: their futures are dropped
/// on the dropping thread (after a multi-thread runtime's workers have stopped; a
/// thread-per-core runtime's cores each drop their own, on their own threads) and their
/// [`JoinHandle`]s resolve to a cancelled [`JoinError`](crate::JoinError). Children whose
/// [`Child`](crate::process::Child) was dropped without being waited for are handed on to be
/// reaped by the next runtime, so no zombie is left behind for long.
pub struct Runtime {
    scheduler: Scheduler,
}

impl Runtime {
    /// A current-thread runtime with default settings.
    ///
    /// # Errors
    /// As [`Builder::build`].
    pub fn new() -> io::Result<Runtime> {
        Builder::new_current_thread().build()
    }

    /// Runs `future` to completion on this thread. A current-thread runtime runs its spawned
    /// tasks and turns the driver on this thread while it waits; a multi-thread runtime's
    /// workers (a thread-per-core runtime's cores) run them, and this thread sleeps until the
    /// future is woken.
    ///
    /// # Panics
    /// If called from inside a runtime (a nested `block_on` would stall every task of the
    /// outer one), or if the driver's wait fails, which only happens on a broken epoll or
    /// io_uring descriptor.
    pub fn block_on<F: Future>(&self, future: F) -> F::Output {
        match &self.scheduler {
            Scheduler::CurrentThread(s) => s.block_on(future),
            Scheduler::MultiThread(s) => s.block_on(future),
            Scheduler::ThreadPerCore(s) => s.block_on(future),
        }
    }

    /// Spawns a task onto this runtime. On a current-thread runtime it starts running at the
    /// next `block_on`; on the other flavours, at once (on thread-per-core, on the cores in
    /// turn).
    pub fn spawn<F>(&self, future: F) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.handle().spawn(future)
    }

    /// The backend the driver uses (every core's, on thread-per-core).
    pub fn backend(&self) -> BackendKind {
        self.handle().inner.driver().kind()
    }

    /// How this runtime runs its tasks.
    pub fn flavor(&self) -> RuntimeFlavor {
        self.handle().runtime_flavor()
    }

    /// A handle that can spawn onto this runtime from any thread.
    pub fn handle(&self) -> Handle {
        let inner = match &self.scheduler {
            Scheduler::CurrentThread(s) => scheduler::Handle::CurrentThread(s.shared.clone()),
            Scheduler::MultiThread(s) => scheduler::Handle::MultiThread(s.shared.clone()),
            Scheduler::ThreadPerCore(s) => scheduler::Handle::ThreadPerCore(s.handle.clone()),
        };
        Handle { inner }
    }
}

impl Drop for Runtime {
    fn drop(&mut self) {
        match &self.scheduler {
            Scheduler::CurrentThread(s) => s.shutdown(),
            // Their own `Drop`s stop the threads (also when `build` fails half-way).
            Scheduler::MultiThread(_) | Scheduler::ThreadPerCore(_) => {}
        }
    }
}

impl fmt::Debug for Runtime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Runtime").field("flavor", &self.flavor()).finish_non_exhaustive()
    }
}

/// A cloneable, `Send` reference to a runtime, for spawning from any thread.
#[derive(Clone)]
pub struct Handle {
    inner: scheduler::Handle,
}

impl Handle {
    /// The handle of the runtime running on this thread.
    ///
    /// # Panics
    /// Outside a runtime. [`Handle::try_current`] does not panic.
    pub fn current() -> Handle {
        match Handle::try_current() {
            Ok(h) => h,
            Err(e) => panic!("{e}"),
        }
    }

    /// The handle of the runtime running on this thread.
    ///
    /// # Errors
    /// Outside a runtime.
    pub fn try_current() -> io::Result<Handle> {
        context::current().map(|inner| Handle { inner }).ok_or_else(context::no_runtime)
    }

    /// Spawns a task onto the runtime (from any thread). On a thread-per-core runtime: onto
    /// the handle's core if it was taken on one, else onto the cores in turn.
    pub fn spawn<F>(&self, future: F) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.inner.spawn(future)
    }

    /// How the runtime runs its tasks.
    pub fn runtime_flavor(&self) -> RuntimeFlavor {
        match &self.inner {
            scheduler::Handle::CurrentThread(_) => RuntimeFlavor::CurrentThread,
            scheduler::Handle::MultiThread(_) => RuntimeFlavor::MultiThread,
            scheduler::Handle::ThreadPerCore(_) => RuntimeFlavor::ThreadPerCore,
        }
    }

    /// The number of cores of a thread-per-core runtime; `None` for the other flavours.
    pub fn cores(&self) -> Option<usize> {
        match &self.inner {
            scheduler::Handle::ThreadPerCore(h) => Some(h.cores()),
            _ => None,
        }
    }

    /// The core of a thread-per-core runtime that this handle was taken on
    /// ([`Handle::current`] on a core's thread); `None` on any other thread and for the other
    /// flavours.
    pub fn core(&self) -> Option<usize> {
        match &self.inner {
            scheduler::Handle::ThreadPerCore(h) => h.core(),
            _ => None,
        }
    }

    /// Sends work to core `core` of a thread-per-core runtime: `make` runs on that core's
    /// thread and the future it returns is spawned there, so the future need not be `Send`
    /// (it may hold `Rc`s and I/O objects of that core). Only `make` and the output cross
    /// threads.
    ///
    /// # Panics
    /// If the runtime is not thread-per-core, or has no core `core` (see [`Handle::cores`]).
    pub fn spawn_on<C, F>(&self, core: usize, make: C) -> JoinHandle<F::Output>
    where
        C: FnOnce() -> F + Send + 'static,
        F: Future + 'static,
        F::Output: Send + 'static,
    {
        match &self.inner {
            scheduler::Handle::ThreadPerCore(h) => h.spawn_on(core, make),
            _ => panic!("Handle::spawn_on needs a thread-per-core runtime (Builder::new_thread_per_core)"),
        }
    }
}

impl fmt::Debug for Handle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Handle").finish_non_exhaustive()
    }
}

/// Spawns a task onto the runtime running on this thread and returns a handle to await its
/// output. The task runs concurrently with the caller; dropping the handle detaches it.
///
/// # Panics
/// Outside a runtime.
pub fn spawn<F>(future: F) -> JoinHandle<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    Handle::current().spawn(future)
}

/// Spawns a future that is not `Send` onto the core of a thread-per-core runtime that this
/// thread runs, and returns a handle to await its output. The task is polled and dropped on
/// this thread only; its output crosses threads (through the [`JoinHandle`]), so it must be
/// `Send`.
///
/// # Panics
/// Outside a core of a thread-per-core runtime (a current-thread runtime's `block_on` may
/// move from thread to thread, so it cannot run such a future), for example on the thread
/// inside `Runtime::block_on`: use [`Handle::spawn_on`] from there.
pub fn spawn_local<F>(future: F) -> JoinHandle<F::Output>
where
    F: Future + 'static,
    F::Output: Send + 'static,
{
    let local = match context::current() {
        Some(scheduler::Handle::ThreadPerCore(h)) => h.spawn_local(future),
        _ => None,
    };
    match local {
        Some(join) => join,
        None => panic!("spawn_local called outside a core of a thread-per-core runtime (use Handle::spawn_on to reach one)"),
    }
}

/// Yields to the scheduler once: the current task is re-queued behind every task that is
/// already runnable.
pub async fn yield_now() {
    let mut yielded = false;
    std::future::poll_fn(|cx| {
        if yielded {
            return std::task::Poll::Ready(());
        }
        yielded = true;
        cx.waker().wake_by_ref();
        std::task::Poll::Pending
    })
    .await
}
