//! A reusable barrier for `n` tasks.
//!
//! The state under the lock is the number of tasks that have arrived in the current round, a
//! round counter, and a [`WaitList`] of the arrived tasks. The `n`-th arrival is the leader:
//! it resets the count, advances the round and unlinks every waiter. A waiter completes when
//! it sees the round moved past the one it arrived in. A waiter dropped before its round
//! completes takes its arrival back, so the barrier keeps waiting for `n` live tasks.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use super::lock;
use super::waiters::{WaitList, WaiterKey, WakeList};
use crate::loom::sync::Mutex;

/// Lets `n` tasks wait until all of them have reached the same point; then it resets for the
/// next round.
///
/// ```
/// use std::sync::Arc;
/// use aria_io::sync::Barrier;
///
/// aria_io::Runtime::new()?.block_on(async {
///     let barrier = Arc::new(Barrier::new(3));
///     let tasks: Vec<_> = (0..3)
///         .map(|_| {
///             let b = barrier.clone();
///             aria_io::spawn(async move { b.wait().await.is_leader() })
///         })
///         .collect();
///     let mut leaders = 0;
///     for t in tasks {
///         leaders += t.await.unwrap() as usize;
///     }
///     assert_eq!(leaders, 1);
/// });
/// # Ok::<_, std::io::Error>(())
/// ```
pub struct Barrier {
    n: usize,
    state: Mutex<State>,
}

struct State {
    arrived: usize,
    round: u64,
    waiters: WaitList<()>,
}

impl Barrier {
    /// A barrier that releases its waiters each time `n` of them have arrived. A barrier for
    /// `n == 0` behaves like one for `n == 1`: every `wait` completes at once as the leader.
    pub fn new(n: usize) -> Barrier {
        Barrier { n: n.max(1), state: Mutex::new(State { arrived: 0, round: 0, waiters: WaitList::new() }) }
    }

    /// Arrives at the barrier and waits for the other tasks of this round. Exactly one task
    /// per round, the last to arrive, gets a result whose
    /// [`is_leader`](BarrierWaitResult::is_leader) is `true`.
    ///
    /// # Cancel safety
    /// Cancel-safe: a `wait` dropped before its round completes withdraws its arrival, so the
    /// round still waits for `n` tasks; one dropped after its round completed changes nothing.
    /// The arrival is counted at the first poll, not when `wait` is called.
    pub async fn wait(&self) -> BarrierWaitResult {
        Wait { barrier: self, queued: None }.await
    }
}

impl fmt::Debug for Barrier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = lock(&self.state);
        f.debug_struct("Barrier").field("n", &self.n).field("arrived", &state.arrived).finish()
    }
}

/// The result of [`Barrier::wait`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BarrierWaitResult(bool);

impl BarrierWaitResult {
    /// Whether this task was the last to arrive in its round (exactly one per round is).
    pub fn is_leader(&self) -> bool {
        self.0
    }
}

struct Wait<'a> {
    barrier: &'a Barrier,
    /// The waiter's node and the round it arrived in, while waiting.
    queued: Option<(WaiterKey, u64)>,
}

impl Future for Wait<'_> {
    type Output = BarrierWaitResult;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<BarrierWaitResult> {
        let barrier = self.barrier;
        let mut state = lock(&barrier.state);
        if let Some((key, round)) = self.queued {
            if state.round == round {
                state.waiters.register(key, cx.waker());
                return Poll::Pending;
            }
            state.waiters.remove(key);
            self.queued = None;
            return Poll::Ready(BarrierWaitResult(false));
        }
        state.arrived += 1;
        if state.arrived < barrier.n {
            let key = state.waiters.push_back((), Some(cx.waker()));
            self.queued = Some((key, state.round));
            return Poll::Pending;
        }
        state.arrived = 0;
        state.round += 1;
        let mut wakers = WakeList::new();
        state.waiters.drain(&mut wakers, |_| {});
        drop(state);
        wakers.wake_all();
        Poll::Ready(BarrierWaitResult(true))
    }
}

impl Drop for Wait<'_> {
    fn drop(&mut self) {
        let Some((key, round)) = self.queued.take() else { return };
        let mut state = lock(&self.barrier.state);
        state.waiters.remove(key);
        if state.round == round {
            state.arrived -= 1;
        }
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use crate::sync::test_util::poll_once;

    #[test]
    fn a_dropped_waiter_withdraws_its_arrival() {
        let barrier = Barrier::new(2);
        let mut a = Box::pin(barrier.wait());
        assert!(poll_once(&mut a).is_pending());
        drop(a);
        let mut b = Box::pin(barrier.wait());
        assert!(poll_once(&mut b).is_pending(), "the dropped waiter no longer counts");
        let mut c = Box::pin(barrier.wait());
        assert_eq!(poll_once(&mut c), Poll::Ready(BarrierWaitResult(true)));
        assert_eq!(poll_once(&mut b), Poll::Ready(BarrierWaitResult(false)));
    }

    #[test]
    fn the_barrier_is_reusable_and_n_zero_means_one() {
        let barrier = Barrier::new(0);
        for _ in 0..3 {
            assert_eq!(poll_once(&mut Box::pin(barrier.wait())), Poll::Ready(BarrierWaitResult(true)));
        }
        let barrier = Barrier::new(2);
        for _ in 0..3 {
            let mut a = Box::pin(barrier.wait());
            assert!(poll_once(&mut a).is_pending());
            assert!(poll_once(&mut Box::pin(barrier.wait())).is_ready());
            // A finished round is not undone by dropping its waiters unpolled.
            drop(a);
        }
        assert_eq!(format!("{barrier:?}"), "Barrier { n: 2, arrived: 0 }");
    }
}
