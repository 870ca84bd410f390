//! The type-erased task cell, its vtable and its wakers. See the [module docs](super) for the
//! state protocol.
//!
//! The state word, the join-waker mutex, the stage cell and the cell's reference count come
//! from [`crate::loom`], so the models in `raw/loom_models.rs` check the protocol under every
//! interleaving (`RUSTFLAGS="--cfg loom" cargo test -p aria-io --lib --release task::raw`),
//! and the unit tests in `raw/tests.rs` run under Miri. loom's `Arc` has the raw-pointer API
//! the vtable needs (`into_raw`, `from_raw`, `increment_strong_count`,
//! `decrement_strong_count`), and it reports a task that is freed twice or never.

use std::any::Any;
use std::future::Future;
use std::mem::ManuallyDrop;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::ptr::NonNull;
use std::task::{Context, Poll, RawWaker, RawWakerVTable, Waker};

use super::JoinError;
use crate::loom::cell::UnsafeCell;
use crate::loom::lock;
use crate::loom::sync::atomic::{AtomicU32, Ordering};
use crate::loom::sync::{Arc, Mutex};

#[cfg(all(test, loom))]
mod loom_models;
#[cfg(test)]
mod test_support;
#[cfg(all(test, not(loom)))]
mod tests;

pub(crate) const NOTIFIED: u32 = 1;
pub(crate) const RUNNING: u32 = 2;
pub(crate) const COMPLETE: u32 = 4;
pub(crate) const CANCELLED: u32 = 8;

/// What a task needs from the scheduler that owns it.
pub(crate) trait Schedule: Send + Sync + 'static {
    /// Puts a notified task (holding one reference) in a run queue.
    fn schedule(&self, task: RawTask);
    /// Removes a completed task from the owned-task list.
    fn release(&self, task: &RawTask);
    /// Re-queues a task that woke itself while it was being polled (`yield_now`, or a
    /// sub-future that completed at once): behind the work already queued, so a task that
    /// keeps yielding cannot starve the others.
    fn yield_now(&self, task: RawTask) {
        self.schedule(task);
    }
}

/// Functions that know the future's type.
struct Vtable {
    poll: unsafe fn(NonNull<Header>),
    clone: unsafe fn(NonNull<Header>),
    drop_ref: unsafe fn(NonNull<Header>),
    /// Writes `Poll::Ready(output)` into `*dst` (a `Poll<Result<T, JoinError>>`) if complete.
    read_output: unsafe fn(NonNull<Header>, *mut (), &Waker),
    shutdown: unsafe fn(NonNull<Header>),
}

/// The part of every task that does not depend on its future's type.
#[repr(C)]
pub(crate) struct Header {
    pub(crate) state: AtomicU32,
    /// Index in the owned-task list; written once by the scheduler before the first poll.
    /// (32 bits, next to `state` so the pair fills one word: four billion live tasks would
    /// need hundreds of GiB.)
    pub(crate) owned_id: AtomicU32,
    vtable: &'static Vtable,
    /// `std`'s `Arc` even under loom: the schedulers hand over an `Arc<Self>` coerced to a
    /// trait object (which loom's `Arc` cannot do), and this reference is set once and only
    /// read, so it takes no part in the protocol.
    scheduler: std::sync::Arc<dyn Schedule>,
    join_waker: Mutex<Option<Waker>>,
}

/// The future, then its outcome. The outcome's three cases are variants of their own rather
/// than a `Result<_, JoinError>`, which keeps an empty task's cell at 80 bytes.
enum Stage<F: Future> {
    Running(F),
    Finished(F::Output),
    Cancelled,
    Panicked(Panic),
    Consumed,
}

#[repr(C)]
struct Cell<F: Future> {
    header: Header,
    stage: UnsafeCell<Stage<F>>,
}

// SAFETY: the stage is accessed only by the thread holding RUNNING (poll, shutdown) or by the
// unique JoinHandle after COMPLETE, as the state protocol guarantees; `F` and its output are
// Send, so moving them between threads is fine.
unsafe impl<F: Future + Send> Sync for Cell<F> where F::Output: Send {}

/// A counted, type-erased reference to a task.
pub(crate) struct RawTask {
    ptr: NonNull<Header>,
}

// SAFETY: the pointee is a `Cell<F>` with `F: Send`, or a local task whose future only its
// owner thread touches (the contract of `RawTask::new_local`); its output is `Send` either
// way, and all shared access follows the state protocol (atomics, the join-waker mutex, and
// exclusive RUNNING access to the stage).
unsafe impl Send for RawTask {}
// SAFETY: as above; `&RawTask` only reaches the atomics and the vtable.
unsafe impl Sync for RawTask {}

impl std::fmt::Debug for RawTask {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RawTask").field("ptr", &self.ptr).finish()
    }
}

impl RawTask {
    /// Allocates a task. Returns three references: for the run queue, the owned-task list and
    /// the `JoinHandle`. The task starts NOTIFIED (it is about to be queued).
    pub(crate) fn new<F>(future: F, scheduler: std::sync::Arc<dyn Schedule>) -> (RawTask, RawTask, RawTask)
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        allocate(future, scheduler)
    }

    /// Allocates a task whose future is not `Send` (`spawn_local`), as [`RawTask::new`].
    ///
    /// # Safety
    /// The future must be polled and dropped only on the thread that calls this: `scheduler`
    /// runs the task only on that thread, and shuts its tasks down there. (A task refused by
    /// a closed scheduler is dropped by the caller, on the calling thread too.) The output is
    /// `Send`, since the `JoinHandle` or the last waker may drop it anywhere.
    pub(crate) unsafe fn new_local<F>(
        future: F,
        scheduler: std::sync::Arc<dyn Schedule>,
    ) -> (RawTask, RawTask, RawTask)
    where
        F: Future + 'static,
        F::Output: Send + 'static,
    {
        allocate(future, scheduler)
    }

    pub(crate) fn header(&self) -> &Header {
        // SAFETY: we hold a reference, so the cell is alive.
        unsafe { self.ptr.as_ref() }
    }

    /// Polls the task once. Consumes the run-queue reference.
    pub(crate) fn run(self) {
        let this = ManuallyDrop::new(self);
        // SAFETY: the queue reference is alive and is handed to `poll`, which consumes it.
        unsafe { (this.header().vtable.poll)(this.ptr) }
    }

    /// Cancels the task during runtime shutdown: drops the future on this thread, stores a
    /// cancelled error and wakes the `JoinHandle`. Does nothing to a complete task.
    pub(crate) fn shutdown(&self) {
        // SAFETY: we hold a reference.
        unsafe { (self.header().vtable.shutdown)(self.ptr) }
    }

    /// Sets CANCELLED and schedules the task so the next poll drops it.
    pub(crate) fn abort(&self) {
        self.header().state.fetch_or(CANCELLED, Ordering::AcqRel);
        wake_by_ref(self.ptr);
    }

    pub(crate) fn is_complete(&self) -> bool {
        self.header().state.load(Ordering::Acquire) & COMPLETE != 0
    }

    /// # Safety
    /// `dst` must point to a `Poll<Result<T, JoinError>>` where `T` is this task's output type.
    pub(crate) unsafe fn read_output(&self, dst: *mut (), waker: &Waker) {
        // SAFETY: forwarded contract.
        unsafe { (self.header().vtable.read_output)(self.ptr, dst, waker) }
    }
}

/// The one allocation of a task (see [`RawTask::new`]); `F: Send` is the callers' business.
fn allocate<F>(future: F, scheduler: std::sync::Arc<dyn Schedule>) -> (RawTask, RawTask, RawTask)
where
    F: Future + 'static,
    F::Output: Send + 'static,
{
    let cell = Arc::new(Cell {
        header: Header {
            state: AtomicU32::new(NOTIFIED),
            vtable: vtable::<F>(),
            scheduler,
            owned_id: AtomicU32::new(u32::MAX),
            join_waker: Mutex::new(None),
        },
        stage: UnsafeCell::new(Stage::Running(future)),
    });
    let ptr = Arc::into_raw(cell) as *mut Header;
    // SAFETY: Arc::into_raw never returns null; Cell is repr(C) with the header first.
    let ptr = unsafe { NonNull::new_unchecked(ptr) };
    let a = RawTask { ptr };
    (a.clone(), a.clone(), a)
}

impl Clone for RawTask {
    fn clone(&self) -> RawTask {
        // SAFETY: we hold a reference, so incrementing is valid.
        unsafe { (self.header().vtable.clone)(self.ptr) };
        RawTask { ptr: self.ptr }
    }
}

impl Drop for RawTask {
    fn drop(&mut self) {
        // SAFETY: we own exactly one reference and give it up.
        unsafe { (self.header().vtable.drop_ref)(self.ptr) }
    }
}

fn vtable<F>() -> &'static Vtable
where
    F: Future + 'static,
    F::Output: Send + 'static,
{
    &Vtable {
        poll: poll::<F>,
        clone: clone::<F>,
        drop_ref: drop_ref::<F>,
        read_output: read_output::<F>,
        shutdown: shutdown::<F>,
    }
}

/// # Safety
/// `ptr` must be a live task of future type `F`.
unsafe fn cell<'a, F: Future>(ptr: NonNull<Header>) -> &'a Cell<F> {
    // SAFETY: caller contract; Cell is repr(C) with the header at offset 0.
    unsafe { ptr.cast::<Cell<F>>().as_ref() }
}

unsafe fn clone<F: Future>(ptr: NonNull<Header>) {
    // SAFETY: the pointer came from Arc::into_raw of an Arc<Cell<F>> with a live reference.
    unsafe { Arc::increment_strong_count(ptr.cast::<Cell<F>>().as_ptr()) }
}

unsafe fn drop_ref<F: Future>(ptr: NonNull<Header>) {
    // SAFETY: the caller gives up one reference obtained from into_raw/increment.
    unsafe { Arc::decrement_strong_count(ptr.cast::<Cell<F>>().as_ptr()) }
}

unsafe fn poll<F>(ptr: NonNull<Header>)
where
    F: Future + 'static,
    F::Output: Send + 'static,
{
    // The run-queue reference we were given is dropped at the end unless re-queued.
    let task = RawTask { ptr };
    // SAFETY: we hold a reference.
    let cell = unsafe { cell::<F>(ptr) };
    let state = &cell.header.state;
    let mut cur = state.load(Ordering::Acquire);
    loop {
        if cur & COMPLETE != 0 {
            return; // cancelled at shutdown while queued
        }
        let next = (cur & !NOTIFIED) | RUNNING;
        match state.compare_exchange_weak(cur, next, Ordering::AcqRel, Ordering::Acquire) {
            Ok(_) => break,
            Err(actual) => cur = actual,
        }
    }
    let result = if cur & CANCELLED != 0 {
        Err(JoinError::cancelled())
    } else {
        // The waker borrows the run-queue reference for the duration of the poll.
        // SAFETY: `ptr` stays alive while `task` is held; the ManuallyDrop prevents the
        // borrowed waker from releasing a reference it does not own.
        let waker = ManuallyDrop::new(unsafe { Waker::from_raw(raw_waker(ptr)) });
        let mut cx = Context::from_waker(&waker);
        let polled = cell.stage.with_mut(|stage| {
            // SAFETY: RUNNING is ours, so we have exclusive access to the stage.
            let stage = unsafe { &mut *stage };
            let Stage::Running(future) = stage else { unreachable!("a running task has a future") };
            // SAFETY: the future lives inside the Arc allocation and is never moved out while
            // it is Running; it is dropped in place.
            let pinned = unsafe { Pin::new_unchecked(future) };
            catch_unwind(AssertUnwindSafe(|| pinned.poll(&mut cx)))
        });
        match polled {
            Ok(Poll::Pending) => {
                // Clear RUNNING; if a wake-up arrived meanwhile (or abort), re-queue.
                let prev = state.fetch_and(!RUNNING, Ordering::AcqRel);
                if prev & NOTIFIED != 0 {
                    cell.header.scheduler.yield_now(task);
                }
                return;
            }
            Ok(Poll::Ready(out)) => Ok(out),
            Err(panic) => Err(JoinError::panic(panic)),
        }
    };
    complete::<F>(&task, result);
}

/// Stores the output, publishes COMPLETE, wakes the JoinHandle, leaves the owned list.
/// The caller holds RUNNING (or has exclusive access at shutdown).
fn complete<F>(task: &RawTask, result: Result<F::Output, JoinError>)
where
    F: Future + 'static,
    F::Output: Send + 'static,
{
    // SAFETY: `task` is a live task of type F.
    let cell = unsafe { cell::<F>(task.ptr) };
    // Drop the future first, outside of any lock, then store the output.
    cell.stage.with_mut(|stage| {
        // SAFETY: exclusive access (RUNNING held).
        let stage = unsafe { &mut *stage };
        let dropped = catch_unwind(AssertUnwindSafe(|| *stage = Stage::Consumed));
        let result = match (result, dropped) {
            (Ok(v), _) => Ok(v),
            (Err(e), Ok(())) => Err(e),
            (Err(_), Err(panic)) => Err(JoinError::panic(panic)),
        };
        *stage = match result {
            Ok(v) => Stage::Finished(v),
            Err(e) => match e.try_into_panic() {
                Ok(p) => Stage::Panicked(p),
                Err(_) => Stage::Cancelled,
            },
        };
    });
    cell.header
        .state
        .fetch_update(Ordering::AcqRel, Ordering::Acquire, |s| Some((s & !RUNNING) | COMPLETE))
        .ok();
    let waker = lock(&cell.header.join_waker).take();
    if let Some(w) = waker {
        w.wake();
    }
    cell.header.scheduler.release(task);
}

unsafe fn shutdown<F>(ptr: NonNull<Header>)
where
    F: Future + 'static,
    F::Output: Send + 'static,
{
    // SAFETY: caller holds a reference.
    let cell = unsafe { cell::<F>(ptr) };
    let state = &cell.header.state;
    let mut cur = state.load(Ordering::Acquire);
    loop {
        if cur & (COMPLETE | RUNNING) != 0 {
            return;
        }
        match state.compare_exchange_weak(cur, cur | RUNNING, Ordering::AcqRel, Ordering::Acquire) {
            Ok(_) => break,
            Err(actual) => cur = actual,
        }
    }
    let task = ManuallyDrop::new(RawTask { ptr });
    complete::<F>(&task, Err(JoinError::cancelled()));
}

unsafe fn read_output<F>(ptr: NonNull<Header>, dst: *mut (), waker: &Waker)
where
    F: Future + 'static,
    F::Output: Send + 'static,
{
    // SAFETY: caller holds a reference.
    let cell = unsafe { cell::<F>(ptr) };
    let state = &cell.header.state;
    let ready = if state.load(Ordering::Acquire) & COMPLETE != 0 {
        true
    } else {
        {
            let mut slot = lock(&cell.header.join_waker);
            match &*slot {
                Some(w) if w.will_wake(waker) => {}
                _ => *slot = Some(waker.clone()),
            }
        }
        state.load(Ordering::Acquire) & COMPLETE != 0
    };
    if !ready {
        return;
    }
    // SAFETY: COMPLETE was observed with acquire ordering, so the stage write is visible and
    // nobody else touches the stage any more; the JoinHandle is the unique reader (&mut).
    let stage = cell.stage.with_mut(|stage| unsafe { std::mem::replace(&mut *stage, Stage::Consumed) });
    let out = match stage {
        Stage::Finished(out) => Ok(out),
        Stage::Cancelled => Err(JoinError::cancelled()),
        Stage::Panicked(p) => Err(JoinError::panic(p)),
        _ => panic!("JoinHandle polled after it returned Ready"),
    };
    let dst = dst.cast::<Poll<Result<F::Output, JoinError>>>();
    // SAFETY: the caller guarantees `dst` has the task's output type.
    unsafe { *dst = Poll::Ready(out) };
}

fn wake_by_ref(ptr: NonNull<Header>) {
    // SAFETY: callers hold a reference.
    let header = unsafe { ptr.as_ref() };
    let mut cur = header.state.load(Ordering::Acquire);
    loop {
        if cur & COMPLETE != 0 {
            return;
        }
        // Written even when NOTIFIED is set already: this release is what makes a wake-up
        // coalesced with a pending notification happen-before the poll that consumes it (the
        // poll's acquire compare-and-swap reads this value or a later one). Returning after
        // the load alone let that poll miss what the waker wrote before waking.
        match header.state.compare_exchange_weak(cur, cur | NOTIFIED, Ordering::AcqRel, Ordering::Acquire) {
            Ok(_) => break,
            Err(actual) => cur = actual,
        }
    }
    if cur & (RUNNING | NOTIFIED) == 0 {
        // Not running: we are responsible for queueing it, with a new reference.
        // SAFETY: we hold a reference, so a clone is valid.
        unsafe { (header.vtable.clone)(ptr) };
        header.scheduler.schedule(RawTask { ptr });
    }
}

static WAKER_VTABLE: RawWakerVTable =
    RawWakerVTable::new(waker_clone, waker_wake, waker_wake_by_ref, waker_drop);

fn raw_waker(ptr: NonNull<Header>) -> RawWaker {
    RawWaker::new(ptr.as_ptr() as *const (), &WAKER_VTABLE)
}

unsafe fn waker_clone(data: *const ()) -> RawWaker {
    // SAFETY: wakers are only made from live task pointers and hold a reference.
    let ptr = unsafe { NonNull::new_unchecked(data as *mut Header) };
    // SAFETY: as above.
    unsafe { (ptr.as_ref().vtable.clone)(ptr) };
    raw_waker(ptr)
}

unsafe fn waker_wake(data: *const ()) {
    // SAFETY: the waker owns a reference, which this call consumes.
    let ptr = unsafe { NonNull::new_unchecked(data as *mut Header) };
    wake_by_ref(ptr);
    drop(RawTask { ptr });
}

unsafe fn waker_wake_by_ref(data: *const ()) {
    // SAFETY: the waker holds a reference for the duration of the call.
    wake_by_ref(unsafe { NonNull::new_unchecked(data as *mut Header) });
}

unsafe fn waker_drop(data: *const ()) {
    // SAFETY: the waker owns a reference, which is released.
    drop(RawTask { ptr: unsafe { NonNull::new_unchecked(data as *mut Header) } });
}

/// Type-erased panic payload stored in a [`JoinError`].
pub(crate) type Panic = Box<dyn Any + Send + 'static>;
