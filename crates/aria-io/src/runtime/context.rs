//! The thread-local runtime context: which scheduler (if any) runs on this thread, and that
//! scheduler's local run queue.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::io;
use std::sync::Arc;

use super::scheduler::Shared;
use crate::driver;
use crate::task::RawTask;

pub(crate) struct Context {
    pub(crate) scheduler: RefCell<Option<Arc<Shared>>>,
    pub(crate) local: RefCell<VecDeque<RawTask>>,
}

thread_local! {
    pub(crate) static CONTEXT: Context = const {
        Context { scheduler: RefCell::new(None), local: RefCell::new(VecDeque::new()) }
    };
}

/// The scheduler running on this thread, if any.
pub(crate) fn current() -> Option<Arc<Shared>> {
    CONTEXT.try_with(|c| c.scheduler.borrow().clone()).ok().flatten()
}

/// Whether the runtime running on this thread uses `driver` (without cloning any `Arc`: this
/// is asked on every io_uring submission).
pub(crate) fn drives(driver: &driver::Handle) -> bool {
    CONTEXT
        .try_with(|c| c.scheduler.borrow().as_ref().is_some_and(|s| std::ptr::eq(&*s.driver, driver)))
        .unwrap_or(false)
}

/// The driver of the runtime running on this thread.
///
/// # Errors
/// `Other` ("no aria-io runtime is running on this thread") outside a runtime.
pub(crate) fn driver_handle() -> io::Result<Arc<driver::Handle>> {
    current().map(|s| s.driver.clone()).ok_or_else(no_runtime)
}

pub(crate) fn no_runtime() -> io::Error {
    io::Error::other("no aria-io runtime is running on this thread (call this from inside Runtime::block_on)")
}

/// Marks this thread as running `shared` until the guard drops.
pub(crate) struct EnterGuard {
    prev: Option<Arc<Shared>>,
}

/// Enters the runtime context. Returns `None` if a runtime is already running on this thread.
pub(crate) fn enter(shared: Arc<Shared>) -> Option<EnterGuard> {
    CONTEXT.with(|c| {
        let mut cur = c.scheduler.borrow_mut();
        if cur.is_some() {
            return None;
        }
        *cur = Some(shared);
        Some(EnterGuard { prev: None })
    })
}

impl Drop for EnterGuard {
    fn drop(&mut self) {
        let _ = CONTEXT.try_with(|c| {
            let shared = std::mem::replace(&mut *c.scheduler.borrow_mut(), self.prev.take());
            // Tasks still queued locally go to the shared queue, so the next block_on (maybe
            // on another thread) runs them.
            let rest: Vec<RawTask> = c.local.borrow_mut().drain(..).collect();
            if let Some(shared) = shared {
                for t in rest {
                    shared.push_remote(t);
                }
            }
        });
    }
}
