//! Parking a worker: on the driver if no other worker holds it (so one parked worker waits for
//! I/O, timers and signals for everyone), otherwise on a condition variable.
//!
//! `state` says where the worker sleeps, so `unpark` knows how to wake it: a condvar
//! notification, or the driver's eventfd. A notification that arrives before the worker
//! sleeps leaves `NOTIFIED`, which the next `park` consumes without sleeping, so no wake-up
//! is lost.

use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::{Condvar, Mutex};

use crate::driver::{self, lock, Driver};

const EMPTY: usize = 0;
const PARKED_CONDVAR: usize = 1;
const PARKED_DRIVER: usize = 2;
const NOTIFIED: usize = 3;

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
    pub(crate) fn park(&self, driver: &Mutex<Option<Driver>>) -> std::io::Result<()> {
        if self.state.compare_exchange(NOTIFIED, EMPTY, SeqCst, SeqCst).is_ok() {
            return Ok(());
        }
        let mut driver = driver.try_lock().ok();
        if let Some(driver) = driver.as_mut().and_then(|d| d.as_mut()) {
            if self.state.compare_exchange(EMPTY, PARKED_DRIVER, SeqCst, SeqCst).is_err() {
                self.state.store(EMPTY, SeqCst); // NOTIFIED meanwhile
                return Ok(());
            }
            let res = driver.turn(None);
            self.state.store(EMPTY, SeqCst);
            return res;
        }
        drop(driver);
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

    pub(crate) fn unpark(&self, driver: &driver::Handle) {
        match self.state.swap(NOTIFIED, SeqCst) {
            EMPTY | NOTIFIED => {}
            PARKED_CONDVAR => {
                // Taking the lock orders this notification after the sleeper's wait began.
                drop(lock(&self.mutex));
                self.condvar.notify_one();
            }
            PARKED_DRIVER => driver.unpark(),
            other => unreachable!("parker state {other}"),
        }
    }
}
