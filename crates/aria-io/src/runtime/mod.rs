//! The runtime: a scheduler and the driver it turns.
//!
//! [`Runtime::block_on`] runs a future to completion on the calling thread, together with
//! every task [`spawn`](crate::spawn)ed onto the runtime. Today there is one flavour,
//! *current-thread*: tasks run on the thread inside `block_on`, and the driver (epoll,
//! timers, signals, process exits) is turned by that same thread when no task is runnable.

pub(crate) mod context;
pub(crate) mod scheduler;

use std::fmt;
use std::future::Future;
use std::io;
use std::sync::Arc;

use crate::driver::uring::Issuer;
use crate::driver::{BackendKind, Driver};
use crate::task::JoinHandle;
use scheduler::{CurrentThread, Shared};

/// Configures and builds a [`Runtime`].
#[derive(Debug, Clone)]
pub struct Builder {
    event_interval: u32,
    backend: Option<BackendKind>,
}

impl Builder {
    /// A builder for a current-thread runtime: every task runs on the thread that calls
    /// [`Runtime::block_on`].
    pub fn new_current_thread() -> Builder {
        Builder { event_interval: 61, backend: None }
    }

    /// How many task polls run between two turns of the driver when tasks keep being
    /// runnable (default 61). Lower favours I/O latency, higher favours throughput.
    pub fn event_interval(&mut self, polls: u32) -> &mut Builder {
        self.event_interval = polls;
        self
    }

    /// Forces the driver's backend. Without this, the environment variable
    /// `ARIA_IO_BACKEND` (`epoll`, `uring`) decides, and without that, the runtime picks.
    pub fn backend(&mut self, kind: BackendKind) -> &mut Builder {
        self.backend = Some(kind);
        self
    }

    /// Creates the runtime: an epoll instance, its wake-up eventfd and a signalfd (all
    /// close-on-exec). Also sets `SIGPIPE` to ignored for the process, so writing to a closed
    /// pipe returns `EPIPE` instead of killing it; children get the default disposition back.
    ///
    /// # Errors
    /// `Unsupported` when the requested backend is not available (io_uring disabled by
    /// `/proc/sys/kernel/io_uring_disabled`, seccomp or an old kernel; the poll backend, not
    /// written yet), `InvalidInput` for an unknown `ARIA_IO_BACKEND`, and the error of
    /// `epoll_create1`, `io_uring_setup`, `eventfd` or `signalfd` (for example `EMFILE`).
    pub fn build(&self) -> io::Result<Runtime> {
        crate::sys::ignore_sigpipe();
        let driver = Driver::new(self.backend, Issuer::AnyThread)?;
        Ok(Runtime { scheduler: CurrentThread::new(driver, self.event_interval) })
    }
}

/// An async runtime: a scheduler, an I/O driver, timers and signal handling.
///
/// Dropping the runtime cancels every task that has not finished: their futures are dropped
/// on the dropping thread and their [`JoinHandle`]s resolve to a cancelled
/// [`JoinError`](crate::JoinError). Children whose [`Child`](crate::process::Child) was
/// dropped without being waited for are handed on to be reaped by the next runtime, so no
/// zombie is left behind for long.
pub struct Runtime {
    scheduler: CurrentThread,
}

impl Runtime {
    /// A current-thread runtime with default settings.
    ///
    /// # Errors
    /// As [`Builder::build`].
    pub fn new() -> io::Result<Runtime> {
        Builder::new_current_thread().build()
    }

    /// Runs `future` to completion on this thread, running spawned tasks and turning the
    /// driver while it waits.
    ///
    /// # Panics
    /// If called from inside a runtime (a nested `block_on` would stall every task of the
    /// outer one), or if the driver's `epoll_wait` fails, which only happens on a broken
    /// epoll descriptor.
    pub fn block_on<F: Future>(&self, future: F) -> F::Output {
        self.scheduler.block_on(future)
    }

    /// Spawns a task onto this runtime; it starts running at the next `block_on`.
    pub fn spawn<F>(&self, future: F) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.scheduler.shared.spawn(future)
    }

    /// The backend the driver uses.
    pub fn backend(&self) -> BackendKind {
        self.scheduler.shared.driver.kind()
    }

    /// A handle that can spawn onto this runtime from any thread.
    pub fn handle(&self) -> Handle {
        Handle { shared: self.scheduler.shared.clone() }
    }
}

impl Drop for Runtime {
    fn drop(&mut self) {
        self.scheduler.shutdown();
    }
}

impl fmt::Debug for Runtime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Runtime").field("flavor", &"current_thread").finish_non_exhaustive()
    }
}

/// A cloneable, `Send` reference to a runtime, for spawning from any thread.
#[derive(Clone)]
pub struct Handle {
    shared: Arc<Shared>,
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
        context::current().map(|shared| Handle { shared }).ok_or_else(context::no_runtime)
    }

    /// Spawns a task onto the runtime (from any thread).
    pub fn spawn<F>(&self, future: F) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.shared.spawn(future)
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
