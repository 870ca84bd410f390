//! Tasks: [`spawn`], [`spawn_local`] (thread-per-core), [`JoinHandle`] (await the output,
//! `abort`), [`JoinSet`], [`yield_now`] and task-local values ([`LocalKey`], made by
//! `task_local!`).
//!
//! # Implementation notes
//!
//! A spawned future, its output and its bookkeeping live in **one allocation**.
//!
//! # Memory layout
//!
//! A task is an `Arc<Cell<F>>`. `Cell` is `#[repr(C)]` with the `Header` first, so a
//! pointer to the cell is also a pointer to its header; everything that does not know `F`
//! (the run queue, wakers, the owned-task list) holds a `RawTask`, a thin pointer to the
//! header, and reaches the typed code through the header's vtable. Reference counting is the
//! `Arc`'s: one reference for each queue entry, each waker, the owned-task list and the
//! `JoinHandle`.
//!
//! # State protocol
//!
//! `Header::state` holds four bits:
//!
//! - `NOTIFIED`: the task is in a run queue (or about to be put there). Set by a wake-up;
//!   at most one queue entry exists per task, so a wake of a notified task queues nothing.
//!   It still writes the state (setting the bit again, with release ordering), so every
//!   wake-up happens-before the poll it causes, even one coalesced with a pending
//!   notification: that poll sees what the waker wrote before waking.
//! - `RUNNING`: the scheduler thread is polling the future. A wake-up during the poll only
//!   sets `NOTIFIED`; when the poll returns `Pending` and `NOTIFIED` is set, the scheduler
//!   re-queues the task itself. This is what makes a wake-up never lost and never doubled.
//! - `COMPLETE`: the output (or the cancellation/panic error) is stored. Terminal. Set with
//!   release ordering after the output is written; the `JoinHandle` reads the output only
//!   after observing it with acquire ordering.
//! - `CANCELLED`: `abort()` was called. The next poll drops the future instead of polling it.
//!
//! Only the thread that set `RUNNING` touches the future. The output slot is written once by
//! that thread, then read once by the `JoinHandle` (`&mut`, so at most one reader). The join
//! waker is a mutex-protected slot: the completing thread takes it *after* publishing
//! `COMPLETE`, and the `JoinHandle` re-checks `COMPLETE` *after* storing it, so the final
//! wake-up cannot be missed.
//!
//! The protocol is checked by loom models in `raw/loom_models.rs` (a wake-up racing a poll,
//! `abort` racing a poll, the `JoinHandle` racing completion, the last reference dropped on
//! another thread, shutdown racing a wake-up), and the unsafe code of the cell by unit tests
//! that run under Miri.
//!
//! # Shutdown
//!
//! Every task is also in its scheduler's owned-task list. Dropping the runtime cancels every
//! task that is not complete: its future is dropped on the runtime's thread (not on whichever
//! thread happens to drop the last waker) and its `JoinHandle` resolves to a cancelled
//! [`JoinError`].

mod join;
mod join_set;
mod local;
pub(crate) mod raw;

pub use crate::runtime::{spawn, spawn_local, yield_now};
pub use join::{JoinError, JoinHandle};
pub use join_set::JoinSet;
pub use local::{AccessError, LocalKey, TaskLocalFuture};
pub(crate) use raw::RawTask;
