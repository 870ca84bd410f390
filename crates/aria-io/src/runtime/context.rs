//! The thread-local runtime context: which scheduler (if any) runs on this thread, and the
//! per-thread half of that scheduler (a current-thread scheduler's run queue, or a
//! multi-thread worker's core).

use std::cell::RefCell;
use std::collections::VecDeque;
use std::io;
use std::sync::Arc;

use super::scheduler::{self, multi_thread};
use crate::driver;
use crate::task::RawTask;

pub(crate) struct Context {
    pub(crate) scheduler: RefCell<Option<scheduler::Handle>>,
    /// The current-thread scheduler's local run queue.
    pub(crate) local: RefCell<VecDeque<RawTask>>,
    /// A multi-thread worker's core (its run queue and LIFO slot), borrowed only briefly,
    /// never while a task runs.
    pub(crate) core: RefCell<Option<Box<multi_thread::Core>>>,
}

thread_local! {
    pub(crate) static CONTEXT: Context = const {
        Context { scheduler: RefCell::new(None), local: RefCell::new(VecDeque::new()), core: RefCell::new(None) }
    };
}

/// The scheduler running on this thread, if any.
pub(crate) fn current() -> Option<scheduler::Handle> {
    CONTEXT.try_with(|c| c.scheduler.borrow().clone()).ok().flatten()
}

/// Whether `c` (this thread's context) runs the scheduler whose shared state is at `shared`
/// (an `Arc::as_ptr` of a current-thread or multi-thread `Shared`).
pub(crate) fn runs(c: &Context, shared: *const ()) -> bool {
    match &*c.scheduler.borrow() {
        Some(scheduler::Handle::CurrentThread(s)) => Arc::as_ptr(s).cast() == shared,
        Some(scheduler::Handle::MultiThread(s)) => Arc::as_ptr(s).cast() == shared,
        Some(scheduler::Handle::ThreadPerCore(h)) => h.runs(shared),
        None => false,
    }
}

/// Whether this thread turns `driver` before it blocks: it runs the current-thread scheduler
/// (or thread-per-core core) that owns it (asked on every io_uring submission, so no `Arc`
/// is cloned). A multi-thread worker may park on a condition variable while another worker
/// waits in the driver, so there the answer is no.
pub(crate) fn drives(driver: &driver::Handle) -> bool {
    CONTEXT
        .try_with(|c| match &*c.scheduler.borrow() {
            Some(scheduler::Handle::CurrentThread(s)) => std::ptr::eq(&*s.driver, driver),
            Some(scheduler::Handle::ThreadPerCore(h)) => {
                h.current().is_some_and(|s| std::ptr::eq(&*s.driver, driver))
            }
            _ => false,
        })
        .unwrap_or(false)
}

/// The driver of the runtime running on this thread.
///
/// # Errors
/// `Other` ("no aria-io runtime is running on this thread") outside a runtime.
pub(crate) fn driver_handle() -> io::Result<Arc<driver::Handle>> {
    current().map(|s| s.driver().clone()).ok_or_else(no_runtime)
}

pub(crate) fn no_runtime() -> io::Error {
    io::Error::other("no aria-io runtime is running on this thread (call this from inside Runtime::block_on)")
}

/// Marks this thread as running a scheduler until the guard drops.
pub(crate) struct EnterGuard {
    _private: (),
}

/// Enters the runtime context. Returns `None` if a runtime is already running on this thread.
pub(crate) fn enter(handle: scheduler::Handle) -> Option<EnterGuard> {
    CONTEXT.with(|c| {
        let mut cur = c.scheduler.borrow_mut();
        if cur.is_some() {
            return None;
        }
        *cur = Some(handle);
        Some(EnterGuard { _private: () })
    })
}

impl Drop for EnterGuard {
    fn drop(&mut self) {
        let _ = CONTEXT.try_with(|c| {
            let handle = c.scheduler.borrow_mut().take();
            // Tasks still queued locally go to the shared queue, so the next block_on (maybe
            // on another thread) runs them.
            let rest: Vec<RawTask> = c.local.borrow_mut().drain(..).collect();
            let shared = match &handle {
                Some(scheduler::Handle::CurrentThread(shared)) => Some(shared),
                Some(scheduler::Handle::ThreadPerCore(h)) => h.current(),
                _ => None,
            };
            if let Some(shared) = shared {
                for t in rest {
                    shared.push_remote(t);
                }
            }
        });
    }
}
