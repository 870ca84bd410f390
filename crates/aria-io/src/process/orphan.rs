//! Reaping children whose [`Child`](super::Child) was dropped before they exited.
//!
//! The pidfd of such a child is registered with the driver under an internal token; when it
//! becomes readable the driver reaps it with `waitid(P_PIDFD)` and closes it. A runtime that
//! shuts down hands its remaining orphans to a process-wide list, which the next driver turn
//! of any runtime adopts. Children dropped outside any runtime go to that list as well. So
//! a dropped child never stays a zombie for longer than it takes a runtime to turn.

use std::os::fd::{AsFd, OwnedFd};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use slab::Slab;

use crate::driver::{self, lock};
use crate::sys;

static GLOBAL: Mutex<Vec<OwnedFd>> = Mutex::new(Vec::new());
static GLOBAL_LEN: AtomicUsize = AtomicUsize::new(0);

/// Tries to reap the child; `true` if it is gone (reaped now, or waiting failed for good).
fn try_reap(pidfd: &OwnedFd) -> bool {
    !matches!(sys::waitid_pidfd(pidfd.as_fd()), Ok(None))
}

/// Hands an unreaped child to the process-wide list.
pub(crate) fn push_global(pidfd: OwnedFd) {
    if try_reap(&pidfd) {
        return;
    }
    lock(&GLOBAL).push(pidfd);
    GLOBAL_LEN.fetch_add(1, Ordering::Release);
}

/// One driver's orphans, keyed by the low bits of their epoll token.
pub(crate) struct OrphanQueue {
    list: Mutex<Orphans>,
}

struct Orphans {
    pidfds: Slab<OwnedFd>,
    /// The driver stopped turning: new orphans go to the process-wide list.
    closed: bool,
}

impl OrphanQueue {
    pub(crate) fn new() -> OrphanQueue {
        OrphanQueue { list: Mutex::new(Orphans { pidfds: Slab::new(), closed: false }) }
    }

    /// Takes responsibility for reaping the child behind `pidfd`.
    pub(crate) fn push(&self, handle: &driver::Handle, pidfd: OwnedFd) {
        if try_reap(&pidfd) {
            return;
        }
        let mut list = lock(&self.list);
        if list.closed {
            drop(list);
            push_global(pidfd);
            return;
        }
        let entry = list.pidfds.vacant_entry();
        let token = driver::ORPHAN_TOKEN | entry.key() as u64;
        if handle.register_internal(pidfd.as_fd(), token).is_err() {
            drop(list);
            push_global(pidfd);
            return;
        }
        entry.insert(pidfd);
    }

    /// The pidfd registered under `key` became readable.
    pub(crate) fn reap(&self, handle: &driver::Handle, key: usize) {
        let mut list = lock(&self.list);
        let done = list.pidfds.get(key).is_some_and(try_reap);
        if done {
            let fd = list.pidfds.remove(key);
            handle.deregister_internal(fd.as_fd(), driver::ORPHAN_TOKEN | key as u64);
        }
    }

    /// Adopts the process-wide orphans (cheap when there are none).
    pub(crate) fn adopt_global(&self, handle: &driver::Handle) {
        if GLOBAL_LEN.load(Ordering::Acquire) == 0 {
            return;
        }
        let taken: Vec<OwnedFd> = std::mem::take(&mut *lock(&GLOBAL));
        GLOBAL_LEN.fetch_sub(taken.len(), Ordering::AcqRel);
        for fd in taken {
            self.push(handle, fd);
        }
    }

    /// The driver stops turning (runtime shutdown): what is still running, and whatever is
    /// orphaned later through this driver, goes to the process-wide list.
    pub(crate) fn close(&self) {
        let rest: Vec<OwnedFd> = {
            let mut list = lock(&self.list);
            list.closed = true;
            list.pidfds.drain().collect()
        };
        for fd in rest {
            push_global(fd);
        }
    }
}
