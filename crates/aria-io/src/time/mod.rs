//! Timers: [`sleep`], [`sleep_until`], [`timeout`] and [`interval`].
//!
//! ```
//! use std::time::Duration;
//! use aria_io::time::{interval, sleep, timeout, Instant};
//!
//! let rt = aria_io::Runtime::new()?;
//! rt.block_on(async {
//!     let start = Instant::now();
//!     sleep(Duration::from_millis(20)).await;
//!     assert!(start.elapsed() >= Duration::from_millis(20)); // never early
//!
//!     // A future that does not finish in time is dropped.
//!     let slow = sleep(Duration::from_secs(60));
//!     assert!(timeout(Duration::from_millis(10), slow).await.is_err());
//!
//!     // The first tick completes at once, the next ones one period apart.
//!     let mut ticks = interval(Duration::from_millis(5));
//!     let first = ticks.tick().await;
//!     let second = ticks.tick().await;
//!     assert_eq!(second - first, Duration::from_millis(5));
//! });
//! # Ok::<_, std::io::Error>(())
//! ```
//!
//! Every timer is an entry in the driver's hierarchical timing wheel (`wheel.rs`): 6 levels
//! of 64 slots with 1 ms resolution, O(1) insert and cancel, no kernel object per timer. The
//! timeout of the driver's wait (epoll_wait(2) on epoll, io_uring_enter(2) with
//! `IORING_ENTER_EXT_ARG` on io_uring) is the wheel's next expiration, so a runtime with only
//! sleeping tasks makes one system call per expiry and uses no CPU in between.
//!
//! Deadlines are rounded *up* to the next millisecond and the clock *down*, so a timer never
//! fires early; it may fire up to about a millisecond late (plus scheduling delay).
//!
//! Time is [`Instant`] (std's, re-exported): the monotonic clock (`CLOCK_MONOTONIC`, which
//! does not count time the system spends suspended), on every backend.
//!
//! # Panics
//! A timer that has to wait panics when it is polled outside a runtime: it needs the current
//! runtime's driver.
//!
//! # References
//! clock_gettime(2) (`CLOCK_MONOTONIC`), epoll_wait(2), io_uring_enter(2)

pub(crate) mod wheel;

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

pub use std::time::Instant;

use crate::driver::{self, lock, TimerEntry};
use wheel::TimerKey;

/// Waits until `duration` has elapsed.
///
/// # Panics
/// When first polled outside a runtime.
pub fn sleep(duration: Duration) -> Sleep {
    sleep_until(Instant::now().checked_add(duration).unwrap_or_else(far_future))
}

/// Waits until `deadline`. A deadline in the past completes at the next poll.
///
/// # Panics
/// When first polled outside a runtime.
pub fn sleep_until(deadline: Instant) -> Sleep {
    Sleep { deadline, entry: None }
}

fn far_future() -> Instant {
    Instant::now() + Duration::from_secs(86400 * 365 * 30)
}

/// Future returned by [`sleep`] and [`sleep_until`]. Registers its timer on first poll;
/// dropping it cancels the timer in O(1).
pub struct Sleep {
    deadline: Instant,
    entry: Option<(Arc<driver::Handle>, TimerKey)>,
}

impl Sleep {
    /// The instant this sleep completes at.
    pub fn deadline(&self) -> Instant {
        self.deadline
    }

    /// Whether the deadline has passed and been observed by the driver.
    pub fn is_elapsed(&self) -> bool {
        match &self.entry {
            Some((h, key)) => lock(&h.time).is_fired(*key),
            None => false,
        }
    }

    /// Moves the deadline (earlier or later) without allocating a new timer.
    pub fn reset(self: Pin<&mut Self>, deadline: Instant) {
        let this = self.get_mut();
        this.deadline = deadline;
        if let Some((h, key)) = &this.entry {
            let tick = h.deadline_tick(deadline);
            let mut wheel = lock(&h.time);
            wheel.reset(*key, tick);
            h.timer_added(tick);
        }
    }
}

impl Future for Sleep {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        if this.entry.is_none() {
            if this.deadline <= Instant::now() {
                return Poll::Ready(());
            }
            let handle = match crate::runtime::context::driver_handle() {
                Ok(h) => h,
                Err(e) => panic!("aria_io::time::sleep polled outside a runtime: {e}"),
            };
            let tick = handle.deadline_tick(this.deadline);
            let key = {
                let mut wheel = lock(&handle.time);
                let key = wheel.insert(tick, TimerEntry { waker: Some(cx.waker().clone()) });
                handle.timer_added(tick);
                key
            };
            this.entry = Some((handle, key));
            return Poll::Pending;
        }
        let Some((handle, key)) = &this.entry else { unreachable!() };
        let mut wheel = lock(&handle.time);
        if wheel.is_fired(*key) {
            return Poll::Ready(());
        }
        if let Some(entry) = wheel.get_mut(*key) {
            match &entry.waker {
                Some(w) if w.will_wake(cx.waker()) => {}
                _ => entry.waker = Some(cx.waker().clone()),
            }
        }
        Poll::Pending
    }
}

impl Drop for Sleep {
    fn drop(&mut self) {
        if let Some((handle, key)) = self.entry.take() {
            lock(&handle.time).remove(key);
        }
    }
}

impl fmt::Debug for Sleep {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sleep").field("deadline", &self.deadline).finish()
    }
}

/// Errors of this module, where `tokio::time::error` has them.
pub mod error {
    pub use super::Elapsed;
}

/// The error of a [`timeout`] whose deadline passed first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Elapsed(());

impl fmt::Display for Elapsed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("deadline has elapsed")
    }
}

impl std::error::Error for Elapsed {}

impl From<Elapsed> for std::io::Error {
    fn from(e: Elapsed) -> std::io::Error {
        std::io::Error::new(std::io::ErrorKind::TimedOut, e)
    }
}

/// Runs `future` for at most `duration`. If the deadline passes first, `future` is dropped
/// (cancelling whatever it was doing) and the result is `Err(Elapsed)`; otherwise the result
/// is `Ok` with `future`'s output.
///
/// The future is polled before the deadline is checked, so one that is ready when the
/// deadline is observed still wins, and a `duration` of zero still gives `future` one poll.
/// The deadline is `duration` from the call, not from the first poll, and follows the
/// [rounding](self) of every timer.
///
/// Bounding a child's run: on `Err` the child is still running (the [`Child`] is not
/// dropped, only the wait), so it can be killed and reaped.
///
/// [`Child`]: crate::process::Child
///
/// ```
/// use std::time::Duration;
/// use aria_io::process::Command;
/// use aria_io::time::timeout;
///
/// let rt = aria_io::Runtime::new()?;
/// rt.block_on(async {
///     let mut child = Command::new("sleep").arg("10").spawn()?;
///     match timeout(Duration::from_millis(50), child.wait()).await {
///         Ok(status) => panic!("sleep 10 ended early: {status:?}"),
///         Err(_elapsed) => child.kill().await?, // SIGKILL and reap
///     }
///
///     // `Elapsed` converts into `io::Error` (`TimedOut`), so `?` works on both layers.
///     let status = timeout(Duration::from_secs(10), Command::new("true").status()).await??;
///     assert!(status.success());
///     Ok::<_, std::io::Error>(())
/// })?;
/// # Ok::<_, std::io::Error>(())
/// ```
///
/// # Errors
/// The output is `Err(`[`Elapsed`]`)` when the deadline passed first.
///
/// # Panics
/// When polled outside a runtime, unless `future` completes at its first poll or the
/// deadline has already passed.
pub fn timeout<F: Future>(duration: Duration, future: F) -> Timeout<F> {
    Timeout { future, sleep: sleep(duration) }
}

pin_project_lite::pin_project! {
    /// Future returned by [`timeout`].
    #[derive(Debug)]
    pub struct Timeout<F> {
        #[pin]
        future: F,
        sleep: Sleep,
    }
}

impl<F: Future> Future for Timeout<F> {
    type Output = Result<F::Output, Elapsed>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        if let Poll::Ready(v) = this.future.poll(cx) {
            return Poll::Ready(Ok(v));
        }
        match Pin::new(this.sleep).poll(cx) {
            Poll::Ready(()) => Poll::Ready(Err(Elapsed(()))),
            Poll::Pending => Poll::Pending,
        }
    }
}

/// What an [`Interval`] does when a tick is late by more than a period.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MissedTickBehavior {
    /// Fire the missed ticks back to back until caught up (the default).
    #[default]
    Burst,
    /// Restart the schedule from now: the next tick is one period after the late one.
    Delay,
    /// Skip the missed ticks: the next tick is the next multiple of the period.
    Skip,
}

/// Ticks every `period`, the first tick completing immediately.
///
/// # Panics
/// If `period` is zero.
pub fn interval(period: Duration) -> Interval {
    assert!(period > Duration::ZERO, "interval period must be non-zero");
    Interval { next: Instant::now(), period, sleep: None, missed: MissedTickBehavior::Burst }
}

/// Stream of ticks returned by [`interval`].
#[derive(Debug)]
pub struct Interval {
    next: Instant,
    period: Duration,
    sleep: Option<Sleep>,
    missed: MissedTickBehavior,
}

impl Interval {
    /// Sets what happens after a late tick.
    pub fn set_missed_tick_behavior(&mut self, behavior: MissedTickBehavior) {
        self.missed = behavior;
    }

    /// The period.
    pub fn period(&self) -> Duration {
        self.period
    }

    /// Waits for the next tick and returns the instant it was scheduled for.
    pub async fn tick(&mut self) -> Instant {
        std::future::poll_fn(|cx| self.poll_tick(cx)).await
    }

    /// Polls for the next tick.
    pub fn poll_tick(&mut self, cx: &mut Context<'_>) -> Poll<Instant> {
        let now = Instant::now();
        if self.next > now {
            let sleep = self.sleep.get_or_insert_with(|| sleep_until(self.next));
            if sleep.deadline() != self.next {
                Pin::new(&mut *sleep).reset(self.next);
            }
            std::task::ready!(Pin::new(sleep).poll(cx));
        }
        let scheduled = self.next;
        let now = Instant::now();
        self.next = match self.missed {
            MissedTickBehavior::Burst => scheduled + self.period,
            MissedTickBehavior::Delay if now > scheduled + self.period => now + self.period,
            MissedTickBehavior::Skip if now > scheduled + self.period => {
                let behind = now.duration_since(scheduled).as_nanos() / self.period.as_nanos();
                scheduled + self.period * (behind as u32 + 1)
            }
            _ => scheduled + self.period,
        };
        Poll::Ready(scheduled)
    }
}
