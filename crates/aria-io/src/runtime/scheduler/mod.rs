//! The schedulers, and the handle that names whichever one a thread runs.
//!
//! - [`current_thread`]: every task on the thread inside `block_on`, which also turns the
//!   driver. Also the building block of thread-per-core (one per core, on its own thread).
//! - [`multi_thread`]: N workers with work-stealing local queues sharing one driver.
//! - [`thread_per_core`]: N current-thread schedulers, each on its own thread with its own
//!   driver.

pub(crate) mod current_thread;
pub(crate) mod inject;
pub(crate) mod multi_thread;
pub(crate) mod owned;
pub(crate) mod thread_per_core;

use std::future::Future;
use std::sync::{Arc, Mutex};

use crate::driver::{self, lock};
use crate::runtime::context;
use crate::task::JoinHandle;

/// A reference to a running scheduler: what the thread-local context holds and what
/// [`Handle`](crate::runtime::Handle) wraps.
#[derive(Clone)]
pub(crate) enum Handle {
    CurrentThread(Arc<current_thread::Shared>),
    MultiThread(Arc<multi_thread::Shared>),
    ThreadPerCore(thread_per_core::Handle),
}

impl Handle {
    /// The driver I/O objects and timers created on this scheduler register with.
    pub(crate) fn driver(&self) -> &Arc<driver::Handle> {
        match self {
            Handle::CurrentThread(s) => &s.driver,
            Handle::MultiThread(s) => &s.driver_handle,
            Handle::ThreadPerCore(h) => h.driver(),
        }
    }

    pub(crate) fn spawn<F>(&self, future: F) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        match self {
            Handle::CurrentThread(s) => s.spawn(future),
            Handle::MultiThread(s) => s.spawn(future),
            Handle::ThreadPerCore(h) => h.spawn(future),
        }
    }
}

/// `block_on` of the flavours whose tasks run on threads of their own (multi-thread,
/// thread-per-core): polls `future` on the calling thread with `handle` as its scheduler, and
/// parks the thread while the future waits.
///
/// # Panics
/// Inside a runtime: a blocking wait there would stall every task of the outer one.
pub(crate) fn block_on_parked<F: Future>(handle: Handle, future: F) -> F::Output {
    let Some(_guard) = context::enter(handle) else {
        panic!("Runtime::block_on called from inside a runtime: a blocking wait there would stall every task; use .await instead");
    };
    crate::sync::block_on::park_until_ready(future)
}

/// Waits for a scheduler's threads to exit, except the calling thread's own (a runtime dropped
/// from one of its own tasks cannot wait for itself).
pub(crate) fn join_threads(threads: &Mutex<Vec<std::thread::JoinHandle<()>>>) {
    let me = std::thread::current().id();
    let threads: Vec<_> = lock(threads).drain(..).collect();
    for t in threads {
        if t.thread().id() != me {
            let _ = t.join();
        }
    }
}
