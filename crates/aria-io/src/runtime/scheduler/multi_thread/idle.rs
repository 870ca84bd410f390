//! Which workers are parked, and how many are searching for work.
//!
//! `state` packs two counters: workers that are not parked (`unparked`, high bits) and, of
//! those, workers looking for work to steal (`searching`, low 16 bits). The rules, as in Go's
//! scheduler and tokio:
//!
//! - A new task wakes a parked worker only if nobody is searching (a searcher will find it)
//!   and somebody is parked. The woken worker starts out searching.
//! - About half the workers at most search at once, so stealing does not turn into contention
//!   (a heuristic: the check and the increment are two steps, so a race can let one more in).
//! - A searcher that finds work stops searching; if it was the last searcher, it wakes another
//!   parked worker, because there may be more work than one worker can take.
//! - A worker that parks while searching, as the last searcher, checks every queue once more
//!   afterwards: a task pushed just before it parked saw a searcher and woke nobody.
//!
//! The `sleepers` list is the source of truth for "parked": a worker is parked while its
//! index is in it. All counter updates that matter for wake-ups are `SeqCst`, pairing with
//! the `SeqCst` fence a scheduler issues between pushing a task and reading the counters.

use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::Mutex;

use crate::driver::lock;

const SEARCHING_BITS: usize = 16;
const SEARCHING_MASK: usize = (1 << SEARCHING_BITS) - 1;
const ONE_UNPARKED: usize = 1 << SEARCHING_BITS;

pub(crate) struct Idle {
    state: AtomicUsize,
    sleepers: Mutex<Vec<usize>>,
    workers: usize,
}

fn searching(state: usize) -> usize {
    state & SEARCHING_MASK
}

fn unparked(state: usize) -> usize {
    state >> SEARCHING_BITS
}

impl Idle {
    pub(crate) fn new(workers: usize) -> Idle {
        assert!(workers < SEARCHING_MASK, "too many workers");
        Idle { state: AtomicUsize::new(workers * ONE_UNPARKED), sleepers: Mutex::new(Vec::new()), workers }
    }

    fn should_wake_one(&self) -> bool {
        let state = self.state.load(SeqCst);
        searching(state) == 0 && unparked(state) < self.workers
    }

    /// The worker to wake for new work, if one should be: it is removed from the sleepers and
    /// counted as unparked and searching.
    pub(crate) fn worker_to_notify(&self) -> Option<usize> {
        if !self.should_wake_one() {
            return None;
        }
        let mut sleepers = lock(&self.sleepers);
        if !self.should_wake_one() {
            return None;
        }
        let worker = sleepers.pop()?;
        self.state.fetch_add(ONE_UNPARKED | 1, SeqCst);
        Some(worker)
    }

    /// Starts searching, unless half the workers already are.
    pub(crate) fn transition_to_searching(&self) -> bool {
        let state = self.state.load(SeqCst);
        if 2 * searching(state) >= self.workers {
            return false;
        }
        self.state.fetch_add(1, SeqCst);
        true
    }

    /// Stops searching; returns whether this was the last searcher.
    pub(crate) fn transition_from_searching(&self) -> bool {
        let prev = self.state.fetch_sub(1, SeqCst);
        debug_assert!(searching(prev) > 0);
        searching(prev) == 1
    }

    /// Parks `worker` (adds it to the sleepers); returns whether it was the last searcher.
    pub(crate) fn transition_to_parked(&self, worker: usize, is_searching: bool) -> bool {
        let mut sleepers = lock(&self.sleepers);
        let dec = ONE_UNPARKED + usize::from(is_searching);
        let prev = self.state.fetch_sub(dec, SeqCst);
        sleepers.push(worker);
        is_searching && searching(prev) == 1
    }

    /// A parked worker woke up by itself (driver event, timer) with work: unparks it, not
    /// searching. Returns `false` if someone else already unparked it.
    pub(crate) fn unpark_by_id(&self, worker: usize) -> bool {
        let mut sleepers = lock(&self.sleepers);
        let Some(i) = sleepers.iter().position(|&w| w == worker) else { return false };
        sleepers.swap_remove(i);
        self.state.fetch_add(ONE_UNPARKED, SeqCst);
        true
    }

    pub(crate) fn is_parked(&self, worker: usize) -> bool {
        lock(&self.sleepers).contains(&worker)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_task_wakes_one_parked_worker_only_when_nobody_searches() {
        let idle = Idle::new(3);
        assert_eq!(idle.worker_to_notify(), None, "nobody is parked");
        assert!(!idle.transition_to_parked(0, false));
        assert!(!idle.transition_to_parked(1, false));
        assert_eq!(idle.worker_to_notify(), Some(1));
        // Worker 1 now searches: a second task does not wake worker 0.
        assert_eq!(idle.worker_to_notify(), None);
        assert!(idle.transition_from_searching());
        assert_eq!(idle.worker_to_notify(), Some(0));
    }

    #[test]
    fn at_most_half_the_workers_search() {
        let idle = Idle::new(4);
        assert!(idle.transition_to_searching());
        assert!(idle.transition_to_searching());
        assert!(!idle.transition_to_searching());
        assert!(!idle.transition_from_searching());
        assert!(idle.transition_to_parked(3, true), "the last searcher parks");
        assert!(idle.is_parked(3));
        assert!(idle.unpark_by_id(3));
        assert!(!idle.unpark_by_id(3));
    }
}
