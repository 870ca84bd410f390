//! Reaping children whose [`Child`](super::Child) was dropped before they were reaped.
//!
//! # While a runtime runs
//!
//! The pidfd of such a child is registered with the driver under an internal token; when it
//! becomes readable the driver reaps it with `waitid(P_PIDFD)` and closes it. That alone
//! would tie the reaping to the driver turning: a loop that spawns and drops children
//! without ever yielding would pile up pidfds (and hit `EMFILE`). So every spawn also checks
//! a few queued orphans, oldest first, and reaps those that have exited ([`OrphanQueue::
//! reap_some`], bounded work per spawn, as tokio's orphan queue does on each spawn): the
//! descriptors held stay proportional to the children still alive.
//!
//! # Without a runtime
//!
//! A runtime that shuts down hands its remaining orphans to a process-wide list, and
//! children dropped outside any runtime go there too. A thread (`aria-io-reaper`), started
//! when the list gets its first entry and gone when it is empty again, waits for them with
//! poll(2) and reaps them. So dropping a runtime, or a child after its runtime, never leaves
//! a zombie, whether or not another runtime ever turns.

use std::collections::VecDeque;
use std::os::fd::{AsFd, AsRawFd};
use std::sync::Mutex;

use slab::Slab;

use crate::driver::{self, lock};
use crate::sys::{self, ProcFd};

/// Queued orphans checked by each spawn.
const CHECKS_PER_SPAWN: usize = 4;

/// Tries to reap the child; `true` if it is gone (reaped now, or waiting failed for good).
fn try_reap(child: &ProcFd) -> bool {
    !matches!(child.try_reap(), Ok(None))
}

/// The orphans no runtime looks after, and whether the reaper thread runs.
struct Global {
    pidfds: Vec<ProcFd>,
    /// Written to wake the reaper thread when the list grows; `None` until first needed.
    wake: Option<sys::Notifier>,
    reaper_running: bool,
}

static GLOBAL: Mutex<Global> = Mutex::new(Global { pidfds: Vec::new(), wake: None, reaper_running: false });

/// Hands an unreaped child to the process-wide reaper.
pub(crate) fn push_global(pidfd: ProcFd) {
    if try_reap(&pidfd) {
        return;
    }
    let mut g = lock(&GLOBAL);
    g.pidfds.push(pidfd);
    if g.wake.is_none() {
        // Without a notifier the reaper still polls the list every second (see `reaper`).
        g.wake = sys::Notifier::new().ok();
    }
    if g.reaper_running {
        if let Some(wake) = &g.wake {
            wake.notify();
        }
        return;
    }
    let started = std::thread::Builder::new().name("aria-io-reaper".into()).spawn(reaper);
    // If no thread can be started now, the next push tries again.
    g.reaper_running = started.is_ok();
}

/// The reaper thread: waits for the process-wide orphans and reaps them; ends when none is
/// left (a later orphan starts a new one).
fn reaper() {
    loop {
        let mut fds: Vec<libc::pollfd> = {
            let mut g = lock(&GLOBAL);
            g.pidfds.retain(|fd| !try_reap(fd));
            if g.pidfds.is_empty() {
                g.reaper_running = false;
                return;
            }
            let wake = g.wake.as_ref().map(|w| w.fd().as_raw_fd());
            g.pidfds
                .iter()
                .map(|child| child.as_fd().as_raw_fd())
                .chain(wake)
                .map(|fd| libc::pollfd { fd, events: libc::POLLIN, revents: 0 })
                .collect()
        };
        // The descriptors stay open while this thread polls them: only this thread removes
        // entries from the list (under the lock, after the poll).
        let _ = sys::poll_many(&mut fds, 1000);
        let g = lock(&GLOBAL);
        if let Some(wake) = &g.wake {
            wake.drain();
        }
    }
}

/// One driver's orphans, keyed by the low bits of their token.
pub(crate) struct OrphanQueue {
    list: Mutex<Orphans>,
}

struct Orphans {
    /// The pidfd and the number of the push that queued it.
    pidfds: Slab<(ProcFd, u64)>,
    /// (key, push number) in the order they were queued, for [`OrphanQueue::reap_some`];
    /// entries whose orphan was reaped meanwhile (its key free, or reused by a later push)
    /// are skipped when met.
    order: VecDeque<(usize, u64)>,
    pushes: u64,
    /// The driver stopped turning: new orphans go to the process-wide list.
    closed: bool,
}

impl OrphanQueue {
    pub(crate) fn new() -> OrphanQueue {
        OrphanQueue {
            list: Mutex::new(Orphans {
                pidfds: Slab::new(),
                order: VecDeque::new(),
                pushes: 0,
                closed: false,
            }),
        }
    }

    /// Takes responsibility for reaping the child behind `pidfd`.
    pub(crate) fn push(&self, handle: &driver::Handle, pidfd: ProcFd) {
        if try_reap(&pidfd) {
            return;
        }
        let mut list = lock(&self.list);
        if list.closed {
            drop(list);
            push_global(pidfd);
            return;
        }
        let key = list.pidfds.vacant_key();
        if handle.register_internal(pidfd.as_fd(), driver::ORPHAN_TOKEN | key as u64).is_err() {
            drop(list);
            push_global(pidfd);
            return;
        }
        let n = list.pushes;
        list.pushes += 1;
        list.pidfds.insert((pidfd, n));
        list.order.push_back((key, n));
    }

    /// The pidfd registered under `key` became readable.
    pub(crate) fn reap(&self, handle: &driver::Handle, key: usize) {
        let mut list = lock(&self.list);
        let done = list.pidfds.get(key).is_some_and(|(fd, _)| try_reap(fd));
        if done {
            let (fd, _) = list.pidfds.remove(key);
            handle.deregister_internal(fd.as_fd(), driver::ORPHAN_TOKEN | key as u64);
        }
    }

    /// Checks up to a few queued orphans, oldest first, and reaps those that have exited,
    /// whether or not the driver has turned since. Called on every spawn, so a program that
    /// spawns and drops children without yielding holds pidfds only for children still
    /// alive (plus a few not yet checked).
    pub(crate) fn reap_some(&self, handle: &driver::Handle) {
        let mut list = lock(&self.list);
        let mut checked = 0;
        while checked < CHECKS_PER_SPAWN {
            let Some((key, n)) = list.order.pop_front() else { break };
            let Some((fd, _)) = list.pidfds.get(key).filter(|(_, pushed)| *pushed == n) else { continue };
            checked += 1;
            if try_reap(fd) {
                let (fd, _) = list.pidfds.remove(key);
                handle.deregister_internal(fd.as_fd(), driver::ORPHAN_TOKEN | key as u64);
            } else {
                list.order.push_back((key, n));
            }
        }
        // Entries of orphans reaped by `reap` linger in `order`: drop them before it grows
        // past twice the queue (each entry is then met once, so this stays O(1) amortised).
        if list.order.len() > 2 * list.pidfds.len() + CHECKS_PER_SPAWN {
            let Orphans { pidfds, order, .. } = &mut *list;
            order.retain(|(k, n)| pidfds.get(*k).is_some_and(|(_, pushed)| pushed == n));
        }
    }

    /// The driver stops turning (runtime shutdown): what is still running, and whatever is
    /// orphaned later through this driver, goes to the process-wide reaper.
    pub(crate) fn close(&self) {
        let rest: Vec<ProcFd> = {
            let mut list = lock(&self.list);
            list.closed = true;
            list.order.clear();
            list.pidfds.drain().map(|(fd, _)| fd).collect()
        };
        for fd in rest {
            push_global(fd);
        }
    }
}
