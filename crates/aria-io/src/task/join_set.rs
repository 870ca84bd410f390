//! [`JoinSet`]: a collection of spawned tasks, joined in the order they finish.
//!
//! # Protocol
//!
//! Each task of the set is a slab entry holding its [`JoinHandle`] and a waker of its own, an
//! `EntryWaker` that knows the entry's key. When the task is spawned, its handle is polled
//! once with that waker, so the waker becomes the handle's *join waker*. The task's
//! completion — output stored, panic caught, abort, runtime shutdown — wakes the join waker
//! after the outcome is published, and the wake pushes the entry's key onto a shared ready
//! list and wakes whoever waits in [`JoinSet::join_next`].
//!
//! `join_next` pops keys from the ready list and polls only those handles: the work per
//! completed task is O(1), whatever the size of the set. A popped key whose handle is still
//! `Pending` (a spurious wake) has just re-registered its waker, so it is pushed again when the
//! task does finish. Keys carry a generation, so a wake that arrives for an entry that is gone
//! (detached, or its slot reused) is recognised and skipped.
//!
//! Using the join waker rather than wrapping each future means the ready list never holds a
//! task whose output is not yet readable, on any scheduler: the join waker fires only after
//! the task's `COMPLETE` state is published.

use std::collections::VecDeque;
use std::fmt;
use std::future::{poll_fn, Future};
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Wake, Waker};

use slab::Slab;

use crate::driver::lock;

use super::{JoinError, JoinHandle};
use crate::runtime::Handle;

/// A set of tasks spawned on a runtime, awaited in the order they complete.
///
/// Mirrors `tokio::task::JoinSet`. Tasks are added with [`spawn`](JoinSet::spawn) (on the
/// current runtime) or [`spawn_on`](JoinSet::spawn_on) (on a given [`Handle`]); their outputs
/// come back from [`join_next`](JoinSet::join_next) as each task finishes, `Ok(output)` or a
/// [`JoinError`] for a task that panicked or was cancelled.
///
/// **Dropping a `JoinSet` aborts every task still in it** (see [`JoinHandle::abort`]); use
/// [`detach_all`](JoinSet::detach_all) first to let them run on.
///
/// ```
/// use aria_io::task::JoinSet;
///
/// aria_io::Runtime::new()?.block_on(async {
///     let mut set = JoinSet::new();
///     for i in 0..10u32 {
///         set.spawn(async move { i * i });
///     }
///     let mut sum = 0;
///     while let Some(res) = set.join_next().await {
///         sum += res.expect("no task panics");
///     }
///     assert_eq!(sum, 285);
/// });
/// # Ok::<_, std::io::Error>(())
/// ```
pub struct JoinSet<T> {
    entries: Slab<Entry<T>>,
    ready: Arc<ReadyList>,
    /// Generation of the next entry; makes keys unique across slot reuse.
    next_gen: u64,
}

struct Entry<T> {
    gen: u64,
    state: State<T>,
    waker: Waker,
}

enum State<T> {
    Running(JoinHandle<T>),
    /// Finished before its join waker could be registered; its key is in the ready list.
    Done(Result<T, JoinError>),
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
struct Key {
    slot: usize,
    gen: u64,
}

/// Keys of entries whose task woke its join waker, and the waker of the `join_next` caller.
struct ReadyList {
    inner: Mutex<ReadyInner>,
}

struct ReadyInner {
    keys: VecDeque<Key>,
    waiter: Option<Waker>,
}

impl ReadyList {
    fn lock(&self) -> MutexGuard<'_, ReadyInner> {
        // A panic while holding this lock cannot leave the queue inconsistent (every critical
        // section is a push, pop, clear or waker swap), so poisoning is ignored.
        lock(&self.inner)
    }
}

/// The join waker of one entry: pushes the entry's key and wakes the set's waiter.
struct EntryWaker {
    key: Key,
    ready: Arc<ReadyList>,
}

impl Wake for EntryWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        let waiter = {
            let mut inner = self.ready.lock();
            inner.keys.push_back(self.key);
            inner.waiter.take()
        };
        if let Some(w) = waiter {
            w.wake();
        }
    }
}

impl<T> JoinSet<T> {
    /// An empty set. Allocates only its shared ready list; no task is spawned.
    ///
    /// Mirrors `tokio::task::JoinSet::new`.
    pub fn new() -> JoinSet<T> {
        JoinSet {
            entries: Slab::new(),
            ready: Arc::new(ReadyList {
                inner: Mutex::new(ReadyInner { keys: VecDeque::new(), waiter: None }),
            }),
            next_gen: 0,
        }
    }

    /// The number of tasks in the set: spawned and not yet returned by `join_next`,
    /// `try_join_next` or removed by `detach_all`. Includes finished tasks whose output has
    /// not been taken.
    ///
    /// Mirrors `tokio::task::JoinSet::len`.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the set holds no task.
    ///
    /// Mirrors `tokio::task::JoinSet::is_empty`.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

impl<T: Send + 'static> JoinSet<T> {
    /// Spawns `future` on the current runtime (as [`crate::spawn`]) and adds it to the set.
    ///
    /// Mirrors `tokio::task::JoinSet::spawn` (which returns an `AbortHandle`; here
    /// [`abort_all`](JoinSet::abort_all) is the way to cancel).
    ///
    /// # Panics
    /// Outside a runtime; use [`spawn_on`](JoinSet::spawn_on) from elsewhere.
    pub fn spawn<F>(&mut self, future: F)
    where
        F: Future<Output = T> + Send + 'static,
    {
        self.insert(crate::spawn(future));
    }

    /// Spawns `future` on the runtime of `handle` and adds it to the set. Works from any
    /// thread, inside a runtime or not.
    ///
    /// Mirrors `tokio::task::JoinSet::spawn_on`.
    pub fn spawn_on<F>(&mut self, future: F, handle: &Handle)
    where
        F: Future<Output = T> + Send + 'static,
    {
        self.insert(handle.spawn(future));
    }

    /// Adds a task that was spawned some other way. Its output then comes back through this
    /// set (and dropping the set aborts it) rather than through the handle. A task that has
    /// already finished is accepted: its outcome is the next one `join_next` returns.
    ///
    /// Has no tokio counterpart (`tokio::task::JoinSet` only takes futures).
    ///
    /// # Panics
    /// If `handle` was already awaited to completion (a `JoinHandle` must not be polled
    /// after it returned `Ready`).
    pub fn insert(&mut self, handle: JoinHandle<T>) {
        let gen = self.next_gen;
        self.next_gen += 1;
        let vacant = self.entries.vacant_entry();
        let key = Key { slot: vacant.key(), gen };
        let waker = Waker::from(Arc::new(EntryWaker { key, ready: self.ready.clone() }));
        let entry = vacant.insert(Entry { gen, state: State::Running(handle), waker });
        // Register the entry's waker as the task's join waker: its completion pushes the key.
        // A task that already finished (on another thread) gives its outcome right away; it is
        // kept in the entry and the key is pushed by hand.
        let mut cx = Context::from_waker(&entry.waker);
        if let State::Running(handle) = &mut entry.state {
            if let Poll::Ready(out) = Pin::new(handle).poll(&mut cx) {
                entry.state = State::Done(out);
                entry.waker.wake_by_ref();
            }
        }
    }
}

impl<T> JoinSet<T> {
    /// Waits for the next task to finish and returns its outcome: `Ok(output)`, or a
    /// [`JoinError`] if it panicked or was cancelled. Returns `None` when the set is empty.
    /// Tasks come back in the order they complete, not the order they were spawned.
    ///
    /// Mirrors `tokio::task::JoinSet::join_next`.
    ///
    /// # Cancel safety
    /// Cancel-safe: an outcome is removed from the set only in the poll that returns it, so
    /// dropping this future (for example when it loses a `select` or a timeout) loses no
    /// task's output; the next call returns it.
    pub async fn join_next(&mut self) -> Option<Result<T, JoinError>> {
        poll_fn(|cx| self.poll_join_next(cx)).await
    }

    /// Polls for the next finished task, as [`join_next`](JoinSet::join_next) does: `Ready(None)`
    /// for an empty set, `Pending` (and `cx`'s waker woken when a task finishes) if none has
    /// finished. Only the waker of the most recent call is woken.
    ///
    /// Mirrors `tokio::task::JoinSet::poll_join_next`.
    ///
    /// # Cancel safety
    /// As [`join_next`](JoinSet::join_next): an outcome leaves the set only in a `Ready` return.
    pub fn poll_join_next(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<T, JoinError>>> {
        if self.entries.is_empty() {
            // Keys of detached tasks that finished since are all stale.
            self.ready.lock().keys.clear();
            return Poll::Ready(None);
        }
        loop {
            let key = {
                let mut inner = self.ready.lock();
                match inner.keys.pop_front() {
                    Some(key) => key,
                    None => {
                        match &inner.waiter {
                            Some(w) if w.will_wake(cx.waker()) => {}
                            _ => inner.waiter = Some(cx.waker().clone()),
                        }
                        return Poll::Pending;
                    }
                }
            };
            if let Some(out) = self.poll_entry(key) {
                return Poll::Ready(Some(out));
            }
        }
    }

    /// Returns the outcome of a task that has already finished, without waiting: `None` if
    /// the set is empty or no task has finished yet.
    ///
    /// Mirrors `tokio::task::JoinSet::try_join_next`.
    pub fn try_join_next(&mut self) -> Option<Result<T, JoinError>> {
        loop {
            let key = self.ready.lock().keys.pop_front()?;
            if let Some(out) = self.poll_entry(key) {
                return Some(out);
            }
        }
    }

    /// Polls the handle of a key taken from the ready list with the entry's own waker; removes
    /// the entry and returns its outcome if the task is complete. A stale key (the entry is
    /// gone, or its slot now holds a newer entry) gives `None`.
    fn poll_entry(&mut self, key: Key) -> Option<Result<T, JoinError>> {
        let entry = self.entries.get_mut(key.slot).filter(|e| e.gen == key.gen)?;
        if let State::Running(handle) = &mut entry.state {
            let mut cx = Context::from_waker(&entry.waker);
            // Pending is a spurious wake: the waker is registered again, so the key comes back
            // when the task completes.
            let Poll::Ready(out) = Pin::new(handle).poll(&mut cx) else { return None };
            entry.state = State::Done(out);
        }
        match self.entries.remove(key.slot).state {
            State::Done(out) => Some(out),
            State::Running(_) => unreachable!("the entry was just marked done"),
        }
    }

    /// Aborts every task in the set (see [`JoinHandle::abort`]). The tasks stay in the set:
    /// `join_next` returns each one, as a cancelled [`JoinError`], or its output if it
    /// finished before the abort reached it.
    ///
    /// Mirrors `tokio::task::JoinSet::abort_all`.
    pub fn abort_all(&mut self) {
        for (_, entry) in &self.entries {
            if let State::Running(handle) = &entry.state {
                handle.abort();
            }
        }
    }

    /// Aborts every task and waits for all of them to finish, discarding their outcomes.
    /// The set is empty afterwards.
    ///
    /// Mirrors `tokio::task::JoinSet::shutdown`.
    ///
    /// # Cancel safety
    /// Dropping this future part-way leaves the set with the tasks not yet joined, all of
    /// them aborted.
    pub async fn shutdown(&mut self) {
        self.abort_all();
        while self.join_next().await.is_some() {}
    }

    /// Removes every task from the set without aborting it: the tasks keep running and their
    /// outputs are dropped when they finish.
    ///
    /// Mirrors `tokio::task::JoinSet::detach_all`.
    pub fn detach_all(&mut self) {
        self.entries.clear();
        self.ready.lock().keys.clear();
    }

    /// Waits for every task and returns their outputs in completion order.
    ///
    /// Mirrors `tokio::task::JoinSet::join_all`.
    ///
    /// # Panics
    /// If a task panicked, the panic is resumed here (after aborting the rest, by dropping the
    /// set); if a task was cancelled, this panics. Use `join_next` to handle these cases.
    ///
    /// # Cancel safety
    /// Not cancel-safe: the set is moved in, so dropping this future aborts the tasks not yet
    /// joined and loses the outputs collected so far.
    pub async fn join_all(mut self) -> Vec<T> {
        let mut out = Vec::with_capacity(self.len());
        while let Some(res) = self.join_next().await {
            match res {
                Ok(v) => out.push(v),
                Err(e) => match e.try_into_panic() {
                    Ok(payload) => std::panic::resume_unwind(payload),
                    Err(e) => panic!("JoinSet::join_all: {e}"),
                },
            }
        }
        out
    }
}

impl<T> Default for JoinSet<T> {
    fn default() -> JoinSet<T> {
        JoinSet::new()
    }
}

impl<T> Drop for JoinSet<T> {
    /// Aborts every task still in the set.
    fn drop(&mut self) {
        self.abort_all();
    }
}

impl<T> fmt::Debug for JoinSet<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JoinSet").field("len", &self.len()).finish()
    }
}

impl<T, F> FromIterator<F> for JoinSet<T>
where
    F: Future<Output = T> + Send + 'static,
    T: Send + 'static,
{
    /// Spawns every future on the current runtime.
    ///
    /// # Panics
    /// Outside a runtime.
    fn from_iter<I: IntoIterator<Item = F>>(iter: I) -> JoinSet<T> {
        let mut set = JoinSet::new();
        set.extend(iter);
        set
    }
}

impl<T, F> Extend<F> for JoinSet<T>
where
    F: Future<Output = T> + Send + 'static,
    T: Send + 'static,
{
    /// Spawns every future on the current runtime.
    ///
    /// # Panics
    /// Outside a runtime.
    fn extend<I: IntoIterator<Item = F>>(&mut self, iter: I) {
        for future in iter {
            self.spawn(future);
        }
    }
}
