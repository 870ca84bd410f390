//! A worker's local run queue: a bounded ring buffer with one producer (the owning worker)
//! and many consumers (the owner popping, other workers stealing half).
//!
//! # Protocol
//!
//! `tail` is written only by the owner. `head` packs two 32-bit indices:
//!
//! - `real`: the next slot to pop. The owner pops by moving it forward; a stealer claims a
//!   batch by moving it forward by the batch length.
//! - `steal`: equal to `real` except while a stealer copies its claimed batch out: then it
//!   still points at the batch's first slot, so the owner does not overwrite slots that are
//!   being read. The stealer sets `steal = real` when its copy is done.
//!
//! The slots in `[steal, tail)` are occupied, those in `[real, tail)` are available. The owner
//! writes only at `tail` and only when `tail - steal < CAPACITY`; at most one stealer runs at
//! once (a second one sees `steal != real` and gives up), and while one does, the owner pops
//! only by moving `real`. Indices wrap (`u32` arithmetic); a slot is `index % CAPACITY`.
//!
//! When the queue is full, the owner moves half of it, plus the new task, to the shared
//! injection queue in one batch (claiming the half with the same compare-and-swap a stealer
//! uses), so a worker that spawns in a loop never blocks and other workers can pick up work.
//!
//! The design follows the bounded queue of Go's scheduler and tokio's multi-thread runtime;
//! its interleavings are checked by the loom models at the bottom of this file
//! (`RUSTFLAGS="--cfg loom" cargo test -p aria-io --lib --release multi_thread::queue`).

use std::mem::MaybeUninit;

use crate::loom::cell::UnsafeCell;
use crate::loom::sync::atomic::{AtomicU32, AtomicU64, Ordering::*};
use crate::loom::sync::Arc;

/// Slots per queue (a power of two). 256 tasks of 8 bytes: 2 KiB per worker.
#[cfg(not(loom))]
pub(crate) const CAPACITY: usize = 256;
/// Small under loom, so the models reach the full-queue paths.
#[cfg(loom)]
pub(crate) const CAPACITY: usize = 4;
const MASK: usize = CAPACITY - 1;

struct Inner<T> {
    /// `steal << 32 | real`.
    head: AtomicU64,
    tail: AtomicU32,
    buffer: Box<[UnsafeCell<MaybeUninit<T>>]>,
}

// SAFETY: the slots are handed between threads only through the head/tail protocol above,
// which gives each slot one owner at a time; `T: Send` makes moving the values across fine.
unsafe impl<T: Send> Send for Inner<T> {}
// SAFETY: as above.
unsafe impl<T: Send> Sync for Inner<T> {}

/// The owner's end: push and pop.
pub(crate) struct Local<T> {
    inner: Arc<Inner<T>>,
}

/// Other workers' end: steal half.
pub(crate) struct Steal<T> {
    inner: Arc<Inner<T>>,
}

impl<T> Clone for Steal<T> {
    fn clone(&self) -> Steal<T> {
        Steal { inner: self.inner.clone() }
    }
}

/// Where the owner sends tasks that do not fit (the runtime's injection queue).
pub(crate) trait Overflow<T> {
    /// Takes a batch (half the queue plus one task).
    fn push_batch(&self, tasks: impl Iterator<Item = T>);
}

fn unpack(head: u64) -> (u32, u32) {
    ((head >> 32) as u32, head as u32)
}

fn pack(steal: u32, real: u32) -> u64 {
    (u64::from(steal) << 32) | u64::from(real)
}

/// A new queue's two ends.
pub(crate) fn local<T>() -> (Local<T>, Steal<T>) {
    let buffer = (0..CAPACITY).map(|_| UnsafeCell::new(MaybeUninit::uninit())).collect();
    let inner = Arc::new(Inner { head: AtomicU64::new(0), tail: AtomicU32::new(0), buffer });
    (Local { inner: inner.clone() }, Steal { inner })
}

impl<T> Inner<T> {
    /// Moves the value out of slot `index`.
    ///
    /// # Safety
    /// The caller has claimed the slot (it is in `[real, tail)` and the caller's
    /// compare-and-swap moved `real` past it) and it holds an initialised value.
    unsafe fn take(&self, index: u32) -> T {
        // SAFETY: the caller owns the slot and it is initialised.
        self.buffer[index as usize & MASK].with(|p| unsafe { (*p).assume_init_read() })
    }

    /// Writes `value` into slot `index`.
    ///
    /// # Safety
    /// The slot is free (outside `[steal, tail)`) and only the caller can write it.
    unsafe fn put(&self, index: u32, value: T) {
        // SAFETY: the caller owns the free slot.
        self.buffer[index as usize & MASK].with_mut(|p| unsafe { (*p).write(value) });
    }

    /// Claims the first half of a full queue and sends it, with `task`, to `overflow`.
    fn push_overflow(&self, task: T, head: u32, tail: u32, overflow: &impl Overflow<T>) -> Result<(), T> {
        const HALF: u32 = (CAPACITY / 2) as u32;
        let inner = self;
        debug_assert_eq!(tail.wrapping_sub(head) as usize, CAPACITY);
        let claimed = pack(head.wrapping_add(HALF), head.wrapping_add(HALF));
        if inner.head.compare_exchange(pack(head, head), claimed, Release, Relaxed).is_err() {
            return Err(task);
        }
        // SAFETY: the compare-and-swap moved `steal` and `real` past these slots, so no one
        // else can read them and the owner will not overwrite them before reading them here.
        let batch = (0..HALF).map(|i| unsafe { inner.take(head.wrapping_add(i)) });
        overflow.push_batch(batch.chain(std::iter::once(task)));
        Ok(())
    }

    fn len(&self) -> usize {
        let (_, real) = unpack(self.head.load(Acquire));
        let tail = self.tail.load(Acquire);
        tail.wrapping_sub(real) as usize
    }
}

impl<T> Local<T> {
    /// Tasks available to pop (a snapshot).
    pub(crate) fn len(&self) -> usize {
        self.inner.len()
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Free slots (a lower bound: stealers only ever make more room).
    pub(crate) fn remaining(&self) -> usize {
        let (steal, _) = unpack(self.inner.head.load(Acquire));
        let tail = self.inner.tail.load(Relaxed);
        CAPACITY - tail.wrapping_sub(steal) as usize
    }

    /// Pushes at the back; when full, moves half the queue and `task` to `overflow`.
    pub(crate) fn push_back(&mut self, mut task: T, overflow: &impl Overflow<T>) {
        let inner = &*self.inner;
        // Only this thread writes `tail`.
        let tail = inner.tail.load(Relaxed);
        loop {
            let head = inner.head.load(Acquire);
            let (steal, real) = unpack(head);
            if (tail.wrapping_sub(steal) as usize) < CAPACITY {
                // SAFETY: `tail` is outside `[steal, tail)`, and only the owner writes slots.
                unsafe { inner.put(tail, task) };
                // Publishes the slot's contents to stealers (they load `tail` with Acquire).
                inner.tail.store(tail.wrapping_add(1), Release);
                return;
            }
            if steal != real {
                // A stealer is making room right now; do not wait for it.
                overflow.push_batch(std::iter::once(task));
                return;
            }
            match inner.push_overflow(task, real, tail, overflow) {
                Ok(()) => return,
                // A stealer took some tasks meanwhile: there is room now.
                Err(t) => task = t,
            }
        }
    }

    /// Pops from the front (the oldest task).
    pub(crate) fn pop(&mut self) -> Option<T> {
        let inner = &*self.inner;
        let mut head = inner.head.load(Acquire);
        let index = loop {
            let (steal, real) = unpack(head);
            let tail = inner.tail.load(Relaxed);
            if real == tail {
                return None;
            }
            let next_real = real.wrapping_add(1);
            // While a stealer copies (`steal != real`), only `real` moves.
            let next = if steal == real { pack(next_real, next_real) } else { pack(steal, next_real) };
            match inner.head.compare_exchange(head, next, AcqRel, Acquire) {
                Ok(_) => break real,
                Err(actual) => head = actual,
            }
        };
        // SAFETY: the compare-and-swap claimed slot `index`, written before `tail` moved past it.
        Some(unsafe { inner.take(index) })
    }
}

impl<T> Steal<T> {
    pub(crate) fn is_empty(&self) -> bool {
        self.inner.len() == 0
    }

    /// Steals half of this queue's tasks (rounded up) into `dst`, returning one of them to run
    /// at once. `None` when there was nothing to take, another worker is stealing from this
    /// queue, or `dst` is more than half full.
    pub(crate) fn steal_into(&self, dst: &mut Local<T>) -> Option<T> {
        let dst_inner = &*dst.inner;
        let dst_tail = dst_inner.tail.load(Relaxed);
        let (dst_steal, _) = unpack(dst_inner.head.load(Acquire));
        if dst_tail.wrapping_sub(dst_steal) as usize > CAPACITY / 2 {
            return None;
        }
        let n = self.steal_into_inner(dst_inner, dst_tail);
        if n == 0 {
            return None;
        }
        // The last stolen task is returned instead of being made available in `dst`.
        let n = n - 1;
        // SAFETY: `dst_tail + n` was written by `steal_into_inner` and is not published yet.
        let task = unsafe { dst_inner.take(dst_tail.wrapping_add(n)) };
        if n > 0 {
            dst_inner.tail.store(dst_tail.wrapping_add(n), Release);
        }
        Some(task)
    }

    /// Moves half of the tasks to `dst`'s slots from `dst_tail` on (not published); returns
    /// how many.
    fn steal_into_inner(&self, dst: &Inner<T>, dst_tail: u32) -> u32 {
        let src = &*self.inner;
        let mut prev = src.head.load(Acquire);
        let (first, n, mut claimed) = loop {
            let (steal, real) = unpack(prev);
            if steal != real {
                return 0; // another worker is stealing from this queue
            }
            let tail = src.tail.load(Acquire);
            let available = tail.wrapping_sub(real);
            let n = available - available / 2;
            if n == 0 {
                return 0;
            }
            // Claim `[real, real + n)`: `real` moves, `steal` stays until the copy is done.
            let next = pack(steal, real.wrapping_add(n));
            match src.head.compare_exchange(prev, next, AcqRel, Acquire) {
                Ok(_) => break (real, n, next),
                Err(actual) => prev = actual,
            }
        };
        for i in 0..n {
            // SAFETY: the claimed slots are ours to read (the owner does not write them until
            // `steal` moves past them); `dst`'s slots from `dst_tail` are free (the caller
            // checked there is room for half a queue) and only written by `dst`'s owner,
            // which is the caller.
            unsafe {
                let task = src.take(first.wrapping_add(i));
                dst.put(dst_tail.wrapping_add(i), task);
            }
        }
        // Release the slots: `steal = real` (the owner may have popped meanwhile).
        loop {
            let (_, real) = unpack(claimed);
            match src.head.compare_exchange(claimed, pack(real, real), AcqRel, Acquire) {
                Ok(_) => return n,
                Err(actual) => {
                    debug_assert_ne!(unpack(actual).0, unpack(actual).1);
                    claimed = actual;
                }
            }
        }
    }
}

impl<T> Drop for Inner<T> {
    fn drop(&mut self) {
        // The last end is gone: nobody else can touch the slots.
        let (_, mut real) = unpack(self.head.load(Acquire));
        let tail = self.tail.load(Acquire);
        while real != tail {
            // SAFETY: `[real, tail)` holds initialised values that nobody claimed.
            drop(unsafe { self.take(real) });
            real = real.wrapping_add(1);
        }
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use std::sync::Mutex;

    #[derive(Default)]
    struct Spill(Mutex<Vec<usize>>);

    impl Overflow<usize> for Spill {
        fn push_batch(&self, tasks: impl Iterator<Item = usize>) {
            self.0.lock().unwrap().extend(tasks);
        }
    }

    #[test]
    fn pops_in_push_order_and_spills_half_when_full() {
        let (mut q, _s) = local();
        let spill = Spill::default();
        for i in 0..CAPACITY + 1 {
            q.push_back(i, &spill);
        }
        // The oldest half and the newest task went to the overflow, in order.
        let spilled = spill.0.lock().unwrap().clone();
        let mut expected: Vec<usize> = (0..CAPACITY / 2).collect();
        expected.push(CAPACITY);
        assert_eq!(spilled, expected);
        let popped: Vec<usize> = std::iter::from_fn(|| q.pop()).collect();
        assert_eq!(popped, (CAPACITY / 2..CAPACITY).collect::<Vec<_>>());
    }

    #[test]
    fn a_steal_takes_half_rounded_up_and_returns_one() {
        let (mut a, steal_a) = local();
        let (mut b, _) = local::<usize>();
        let spill = Spill::default();
        for i in 0..7 {
            a.push_back(i, &spill);
        }
        let first = steal_a.steal_into(&mut b).unwrap();
        // 4 stolen: 0,1,2 are queued in b and 3 is returned to run.
        assert_eq!(first, 3);
        assert_eq!(b.len(), 3);
        assert_eq!(a.len(), 3);
        assert_eq!(std::iter::from_fn(|| b.pop()).collect::<Vec<_>>(), vec![0, 1, 2]);
        assert_eq!(std::iter::from_fn(|| a.pop()).collect::<Vec<_>>(), vec![4, 5, 6]);
    }

    #[test]
    fn indices_wrap_around_u32() {
        let (mut q, s) = local();
        let (mut d, _) = local::<u64>();
        // Start near the wrap point.
        let start = u32::MAX - 3;
        q.inner.head.store(pack(start, start), Relaxed);
        q.inner.tail.store(start, Relaxed);
        let spill = Spill2::default();
        for i in 0..10u64 {
            q.push_back(i, &spill);
        }
        assert_eq!(s.steal_into(&mut d), Some(4));
        let mut rest: Vec<u64> = std::iter::from_fn(|| d.pop()).collect();
        rest.extend(std::iter::from_fn(|| q.pop()));
        assert_eq!(rest, vec![0, 1, 2, 3, 5, 6, 7, 8, 9]);
    }

    #[derive(Default)]
    struct Spill2(Mutex<Vec<u64>>);

    impl Overflow<u64> for Spill2 {
        fn push_batch(&self, tasks: impl Iterator<Item = u64>) {
            self.0.lock().unwrap().extend(tasks);
        }
    }

    #[test]
    fn every_task_is_taken_exactly_once_under_concurrent_stealing() {
        // Miri interprets every step: a smaller run keeps it to seconds.
        const N: usize = if cfg!(miri) { 2_000 } else { 200_000 };
        let (mut q, steal) = local::<usize>();
        let spill = Arc::new(Spill::default());
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let thieves: Vec<_> = (0..2)
            .map(|_| {
                let steal = steal.clone();
                let stop = stop.clone();
                std::thread::spawn(move || {
                    let (mut mine, _) = local::<usize>();
                    let mut got = Vec::new();
                    while !stop.load(std::sync::atomic::Ordering::Acquire) || !steal.is_empty() {
                        if let Some(t) = steal.steal_into(&mut mine) {
                            got.push(t);
                        }
                        got.extend(std::iter::from_fn(|| mine.pop()));
                    }
                    got
                })
            })
            .collect();
        let mut got = Vec::new();
        for i in 0..N {
            q.push_back(i, &*spill);
            if i % 3 == 0 {
                got.extend(q.pop());
            }
        }
        got.extend(std::iter::from_fn(|| q.pop()));
        stop.store(true, std::sync::atomic::Ordering::Release);
        for t in thieves {
            got.extend(t.join().unwrap());
        }
        got.extend(spill.0.lock().unwrap().drain(..));
        got.sort_unstable();
        assert_eq!(got, (0..N).collect::<Vec<_>>());
    }
}

#[cfg(all(test, loom))]
mod loom_models {
    use super::*;
    use loom::sync::Mutex;
    use loom::thread;

    #[derive(Default)]
    struct Spill(Mutex<Vec<usize>>);

    impl Overflow<usize> for Spill {
        fn push_batch(&self, tasks: impl Iterator<Item = usize>) {
            self.0.lock().unwrap().extend(tasks);
        }
    }

    /// The owner pushes past capacity and pops while a thief steals: every task is taken
    /// exactly once (by a pop, a steal or the overflow), none twice, none lost.
    #[test]
    fn owner_push_pop_races_a_stealer() {
        // Unbounded, this model runs for more than ten minutes; three preemptions cover the
        // overflow racing a steal and a pop racing the release of stolen slots.
        let mut model = loom::model::Builder::new();
        model.preemption_bound = Some(3);
        model.check(|| {
            let (mut q, steal) = local::<usize>();
            let spill = Spill::default();
            let thief = thread::spawn(move || {
                let (mut mine, _) = local::<usize>();
                let mut got = Vec::new();
                for _ in 0..2 {
                    got.extend(steal.steal_into(&mut mine));
                }
                got.extend(std::iter::from_fn(|| mine.pop()));
                got
            });
            let mut got = Vec::new();
            for i in 0..CAPACITY + 2 {
                q.push_back(i, &spill);
                if i == 1 {
                    got.extend(q.pop());
                }
            }
            got.extend(std::iter::from_fn(|| q.pop()));
            got.extend(thief.join().unwrap());
            got.extend(spill.0.lock().unwrap().drain(..));
            got.sort_unstable();
            assert_eq!(got, (0..CAPACITY + 2).collect::<Vec<_>>());
        });
    }

    /// Two thieves on one queue: at most one steals at a time, and nothing is duplicated.
    #[test]
    fn two_stealers_and_the_owner() {
        loom::model(|| {
            let (mut q, steal) = local::<usize>();
            let spill = Spill::default();
            for i in 0..3 {
                q.push_back(i, &spill);
            }
            let thieves: Vec<_> = (0..2)
                .map(|_| {
                    let steal = steal.clone();
                    thread::spawn(move || {
                        let (mut mine, _) = local::<usize>();
                        let mut got: Vec<usize> = steal.steal_into(&mut mine).into_iter().collect();
                        got.extend(std::iter::from_fn(|| mine.pop()));
                        got
                    })
                })
                .collect();
            let mut got: Vec<usize> = q.pop().into_iter().collect();
            for t in thieves {
                got.extend(t.join().unwrap());
            }
            got.extend(std::iter::from_fn(|| q.pop()));
            got.sort_unstable();
            assert_eq!(got, vec![0, 1, 2]);
        });
    }
}
