//! Parking a worker: on the driver if no other worker holds it (so one parked worker waits for
//! I/O, timers and signals for everyone), otherwise on a condition variable.
//!
//! `state` says where the worker sleeps, so `unpark` knows how to wake it: a condvar
//! notification, or the driver's eventfd. A notification that arrives before the worker
//! sleeps leaves `NOTIFIED`, which the next `park` consumes without sleeping, so no wake-up
//! is lost.
//!
//! The parker reaches the driver through two small traits: [`DriverSlot`] (the shared driver
//! a parking worker may take, and the [`Sleep`] in it) and [`Interrupt`] (how another thread
//! ends that sleep). The runtime's `Mutex<Option<Driver>>` and `driver::Handle` implement
//! them; the loom models at the bottom of this file implement them with a fake driver that
//! sleeps on a loom condition variable, since loom cannot run epoll or io_uring
//! (`RUSTFLAGS="--cfg loom" cargo test -p aria-io --lib --release multi_thread::park`).

use std::io;

use crate::driver::{self, Driver};
use crate::loom::lock;
use crate::loom::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use crate::loom::sync::{Condvar, Mutex};

const EMPTY: usize = 0;
const PARKED_CONDVAR: usize = 1;
const PARKED_DRIVER: usize = 2;
const NOTIFIED: usize = 3;

/// The driver the workers share, as a parking worker sees it: at most one worker at a time
/// sleeps in it.
pub(crate) trait DriverSlot {
    /// What the worker sleeps in.
    type Driver: Sleep;

    /// Runs `f` with the driver if no other worker holds it and it has not been shut down;
    /// `None` otherwise (the worker sleeps on its condition variable instead).
    fn try_with<R>(&self, f: impl FnOnce(&mut Self::Driver) -> R) -> Option<R>;
}

/// A driver a worker can sleep in.
pub(crate) trait Sleep {
    /// Blocks until an event, a timer or an [`Interrupt::interrupt`]; may return early. An
    /// interrupt that arrives before the sleep begins makes it return at once.
    ///
    /// # Errors
    /// The driver's error.
    fn sleep(&mut self) -> io::Result<()>;
}

/// Ends a [`Sleep`] from another thread.
pub(crate) trait Interrupt {
    /// Makes the driver's current sleep, or its next one, return.
    fn interrupt(&self);
}

impl DriverSlot for std::sync::Mutex<Option<Driver>> {
    type Driver = Driver;

    fn try_with<R>(&self, f: impl FnOnce(&mut Driver) -> R) -> Option<R> {
        let mut driver = self.try_lock().ok()?;
        driver.as_mut().map(f)
    }
}

impl Sleep for Driver {
    fn sleep(&mut self) -> io::Result<()> {
        self.turn(None)
    }
}

impl Interrupt for driver::Handle {
    /// Writes the driver's wake-up eventfd (coalesced; it stays readable until the next turn
    /// drains it, so a wake-up before the sleep is not lost).
    fn interrupt(&self) {
        self.unpark();
    }
}

pub(crate) struct Parker {
    state: AtomicUsize,
    mutex: Mutex<()>,
    condvar: Condvar,
}

impl Parker {
    pub(crate) fn new() -> Parker {
        Parker { state: AtomicUsize::new(EMPTY), mutex: Mutex::new(()), condvar: Condvar::new() }
    }

    /// Sleeps until `unpark` (or, when parked on the driver, until an event or timer).
    ///
    /// # Errors
    /// The driver's error (a broken epoll or io_uring descriptor).
    pub(crate) fn park(&self, driver: &impl DriverSlot) -> io::Result<()> {
        if self.state.compare_exchange(NOTIFIED, EMPTY, SeqCst, SeqCst).is_ok() {
            return Ok(());
        }
        let in_driver = driver.try_with(|driver| {
            if self.state.compare_exchange(EMPTY, PARKED_DRIVER, SeqCst, SeqCst).is_err() {
                self.state.store(EMPTY, SeqCst); // NOTIFIED meanwhile
                return Ok(());
            }
            let res = driver.sleep();
            self.state.store(EMPTY, SeqCst);
            res
        });
        if let Some(res) = in_driver {
            return res;
        }
        let mut guard = lock(&self.mutex);
        if self.state.compare_exchange(EMPTY, PARKED_CONDVAR, SeqCst, SeqCst).is_err() {
            self.state.store(EMPTY, SeqCst);
            return Ok(());
        }
        loop {
            guard = self.condvar.wait(guard).unwrap_or_else(|p| p.into_inner());
            if self.state.compare_exchange(NOTIFIED, EMPTY, SeqCst, SeqCst).is_ok() {
                return Ok(());
            }
        }
    }

    /// Wakes the worker, or makes its next `park` return at once (interrupting `driver` if
    /// the worker sleeps in it).
    pub(crate) fn unpark(&self, driver: &impl Interrupt) {
        match self.state.swap(NOTIFIED, SeqCst) {
            EMPTY | NOTIFIED => {}
            PARKED_CONDVAR => {
                // Taking the lock orders this notification after the sleeper's wait began.
                drop(lock(&self.mutex));
                self.condvar.notify_one();
            }
            PARKED_DRIVER => driver.interrupt(),
            other => unreachable!("parker state {other}"),
        }
    }
}

#[cfg(all(test, loom))]
mod loom_models {
    //! Each model ends with every `park` having returned: a lost wake-up leaves a worker
    //! asleep on the condition variable or in the fake driver forever, which loom reports as
    //! a deadlock.

    use super::*;
    use loom::sync::Arc;
    use loom::thread;

    /// A driver that sleeps on a loom condition variable until interrupted. Like the eventfd,
    /// an interrupt that arrives before the sleep is remembered, and ends the next one.
    struct FakeDriver {
        interrupts: Arc<FakeInterrupts>,
        sleeps: usize,
    }

    #[derive(Default)]
    struct FakeInterrupts {
        pending: Mutex<bool>,
        condvar: Condvar,
    }

    impl Sleep for FakeDriver {
        fn sleep(&mut self) -> io::Result<()> {
            self.sleeps += 1;
            let mut pending = lock(&self.interrupts.pending);
            while !*pending {
                pending = self.interrupts.condvar.wait(pending).unwrap();
            }
            *pending = false;
            Ok(())
        }
    }

    impl Interrupt for FakeInterrupts {
        fn interrupt(&self) {
            *lock(&self.pending) = true;
            self.condvar.notify_one();
        }
    }

    /// The shared driver slot, guarded by a loom mutex so `try_lock` contention is modelled.
    struct FakeSlot(Mutex<Option<FakeDriver>>);

    impl DriverSlot for FakeSlot {
        type Driver = FakeDriver;

        fn try_with<R>(&self, f: impl FnOnce(&mut FakeDriver) -> R) -> Option<R> {
            let mut driver = self.0.try_lock().ok()?;
            driver.as_mut().map(f)
        }
    }

    /// A slot holding a fake driver, and the driver's interrupt handle.
    fn driver() -> (Arc<FakeSlot>, Arc<FakeInterrupts>) {
        let interrupts = Arc::new(FakeInterrupts::default());
        let driver = FakeDriver { interrupts: interrupts.clone(), sleeps: 0 };
        (Arc::new(FakeSlot(Mutex::new(Some(driver)))), interrupts)
    }

    /// A slot without a driver (after shutdown), so `park` takes the condvar path.
    fn no_driver() -> (Arc<FakeSlot>, Arc<FakeInterrupts>) {
        (Arc::new(FakeSlot(Mutex::new(None))), Arc::new(FakeInterrupts::default()))
    }

    fn sleeps(slot: &FakeSlot) -> usize {
        lock(&slot.0).as_ref().map_or(0, |d| d.sleeps)
    }

    /// An unpark before the park: the park consumes the notification and returns without
    /// sleeping in the driver (and without waiting on the condvar, which nobody would
    /// notify).
    #[test]
    fn an_unpark_before_park_makes_park_return_without_sleeping() {
        loom::model(|| {
            let parker = Parker::new();
            let (slot, interrupts) = driver();
            parker.unpark(&*interrupts);
            parker.park(&*slot).unwrap();
            assert_eq!(sleeps(&slot), 0);
            assert_eq!(parker.state.load(SeqCst), EMPTY);
        });
    }

    /// An unpark on another thread racing a park on the condition variable (the driver is
    /// gone): the park returns whether the unpark lands before it, between its state change
    /// and its wait, or during the wait.
    #[test]
    fn an_unpark_racing_a_park_on_the_condvar_is_not_lost() {
        loom::model(|| {
            let parker = Arc::new(Parker::new());
            let (slot, interrupts) = no_driver();
            let unparker = {
                let parker = parker.clone();
                thread::spawn(move || parker.unpark(&*interrupts))
            };
            parker.park(&*slot).unwrap();
            unparker.join().unwrap();
        });
    }

    /// An unpark on another thread racing a park in the driver: either the park sees
    /// NOTIFIED and does not sleep, or the unpark sees PARKED_DRIVER and interrupts the
    /// driver (before or during its sleep). The driver slept at most once.
    #[test]
    fn an_unpark_racing_a_park_in_the_driver_is_not_lost() {
        loom::model(|| {
            let parker = Arc::new(Parker::new());
            let (slot, interrupts) = driver();
            let unparker = {
                let parker = parker.clone();
                thread::spawn(move || parker.unpark(&*interrupts))
            };
            parker.park(&*slot).unwrap();
            unparker.join().unwrap();
            assert!(sleeps(&slot) <= 1);
        });
    }

    /// Two unparks on two threads and one park in the driver: the park returns, and the
    /// second notification leaves at most a NOTIFIED state (a spare wake-up), never a worker
    /// marked as parked.
    #[test]
    fn two_unparks_and_one_park() {
        loom::model(|| {
            let parker = Arc::new(Parker::new());
            let (slot, interrupts) = driver();
            let unparkers: Vec<_> = (0..2)
                .map(|_| {
                    let parker = parker.clone();
                    let interrupts = interrupts.clone();
                    thread::spawn(move || parker.unpark(&*interrupts))
                })
                .collect();
            parker.park(&*slot).unwrap();
            for unparker in unparkers {
                unparker.join().unwrap();
            }
            let state = parker.state.load(SeqCst);
            assert!(state == EMPTY || state == NOTIFIED, "state {state} after park returned");
        });
    }

    /// Two workers parking at once on one driver: one may sleep in it while the other, finding
    /// it taken, sleeps on its condition variable; unparking both wakes both, whichever
    /// path each took.
    #[test]
    fn two_workers_sharing_the_driver_are_both_woken() {
        loom::model(|| {
            let parkers = Arc::new([Parker::new(), Parker::new()]);
            let (slot, interrupts) = driver();
            let other = {
                let (parkers, slot) = (parkers.clone(), slot.clone());
                thread::spawn(move || parkers[1].park(&*slot).unwrap())
            };
            let unparker = {
                let parkers = parkers.clone();
                thread::spawn(move || {
                    parkers[0].unpark(&*interrupts);
                    parkers[1].unpark(&*interrupts);
                })
            };
            parkers[0].park(&*slot).unwrap();
            other.join().unwrap();
            unparker.join().unwrap();
        });
    }
}
