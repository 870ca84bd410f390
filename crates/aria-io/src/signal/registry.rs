//! One `signalfd` per driver, whose mask grows as signals are listened for, and per signal a
//! generation counter plus the wakers of its listeners.
//!
//! Every delivery goes through the process-wide record of `sys::sighandler`: the fallback
//! handler records the ones that land on threads not blocking the signal, and a driver
//! records the ones its signalfd reads (the kernel hands each delivery to one reader only,
//! so with several drivers, such as a thread-per-core runtime's cores, the others would miss
//! it). Recording wakes every listening driver, and each turns a change of the record into
//! one delivery for its listeners.

use std::collections::HashMap;
use std::io;
use std::os::fd::RawFd;
use std::sync::Mutex;
use std::task::Waker;

use slab::Slab;

use crate::driver::lock;
use crate::sys;
use crate::sys::sighandler;

#[derive(Default)]
struct Slot {
    generation: u64,
    wakers: Slab<Waker>,
}

struct State {
    mask: libc::sigset_t,
    slots: HashMap<libc::c_int, Slot>,
    /// Per signal, the handler generation already turned into a delivery.
    handler_seen: HashMap<libc::c_int, u64>,
    /// This driver's slot in the fallback handler's wake list (see `sys::sighandler`).
    wake: Option<sighandler::WakeSlot>,
}

pub(crate) struct SignalRegistry {
    /// The signalfd on Linux; nothing elsewhere (see `sys::SignalFd`).
    sigfd: sys::SignalFd,
    state: Mutex<State>,
}

impl SignalRegistry {
    pub(crate) fn new() -> io::Result<SignalRegistry> {
        let mask = sys::empty_sigset();
        let sigfd = sys::SignalFd::new(&mask)?;
        Ok(SignalRegistry {
            sigfd,
            state: Mutex::new(State {
                mask,
                slots: HashMap::new(),
                handler_seen: HashMap::new(),
                wake: None,
            }),
        })
    }

    /// The signalfd to poll, where the platform has one.
    pub(crate) fn fd(&self) -> Option<RawFd> {
        self.sigfd.fd()
    }

    /// The fallback handler's notifier for this driver, once a signal is listened for (for
    /// io_uring to re-arm its poll).
    #[cfg(target_os = "linux")]
    pub(crate) fn fallback_fd(&self) -> Option<RawFd> {
        lock(&self.state).wake.as_ref().map(|w| w.fd())
    }

    /// Starts listening for `signo`: on Linux blocks it in the calling thread and adds it to
    /// the signalfd's mask, and installs the fallback handler for deliveries to other threads
    /// (`register` adds the fallback eventfd to the driver). Returns the current generation.
    pub(crate) fn listen(
        &self,
        signo: libc::c_int,
        register: impl FnOnce(RawFd) -> io::Result<()>,
    ) -> io::Result<u64> {
        let mut state = lock(&self.state);
        if state.wake.is_none() {
            let slot = sighandler::WakeSlot::acquire()?;
            register(slot.fd())?;
            state.wake = Some(slot);
        }
        if !state.slots.contains_key(&signo) {
            let mut mask = state.mask;
            sys::sigaddset(&mut mask, signo)?;
            self.sigfd.listen(signo, &mask)?;
            state.mask = mask;
            state.handler_seen.insert(signo, sighandler::generation(signo));
            sighandler::install(signo)?;
            state.slots.insert(signo, Slot::default());
        }
        Ok(state.slots.get(&signo).map_or(0, |s| s.generation))
    }

    /// Returns `true` (and forgets the waker) if `signo` was delivered since generation
    /// `*seen`; otherwise stores the waker under `*key`.
    pub(crate) fn poll(
        &self,
        signo: libc::c_int,
        seen: &mut u64,
        key: &mut Option<usize>,
        waker: &Waker,
    ) -> bool {
        let mut state = lock(&self.state);
        let Some(slot) = state.slots.get_mut(&signo) else { return false };
        if slot.generation > *seen {
            *seen = slot.generation;
            if let Some(k) = key.take() {
                slot.wakers.try_remove(k);
            }
            return true;
        }
        match key.and_then(|k| slot.wakers.get_mut(k)) {
            Some(w) => {
                if !w.will_wake(waker) {
                    *w = waker.clone();
                }
            }
            None => *key = Some(slot.wakers.insert(waker.clone())),
        }
        false
    }

    pub(crate) fn forget(&self, signo: libc::c_int, key: usize) {
        if let Some(slot) = lock(&self.state).slots.get_mut(&signo) {
            slot.wakers.try_remove(key);
        }
    }

    /// Reads every pending delivery of the signalfd and wakes the listeners of each signal.
    pub(crate) fn dispatch(&self) {
        let mut wakers = Vec::new();
        // Recorded for every driver, this one included: the pass below turns it into the
        // delivery.
        self.sigfd.read_deliveries(sighandler::broadcast);
        // Deliveries recorded since the last look: read by a signalfd (this driver's or
        // another's) or caught by the fallback handler.
        {
            let mut state = lock(&self.state);
            if let Some(w) = &state.wake {
                w.drain();
            }
            let State { slots, handler_seen, .. } = &mut *state;
            for (signo, slot) in slots.iter_mut() {
                let gen = sighandler::generation(*signo);
                let seen = handler_seen.entry(*signo).or_insert(gen);
                if gen != *seen {
                    *seen = gen;
                    slot.generation += 1;
                    // Cloned, not drained: each listener's slab key stays its own until it
                    // removes it (on the delivery, or when dropped). Draining let a key be
                    // reused by another listener while the first still held it, and the first
                    // then overwrote (or removed) the other's waker, which was never woken.
                    wakers.extend(slot.wakers.iter().map(|(_, w)| w.clone()));
                }
            }
        }
        for w in wakers {
            w.wake();
        }
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    use std::task::Wake;

    /// Counts its wake-ups.
    #[derive(Default)]
    struct Count(AtomicUsize);

    impl Wake for Count {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    /// One listener of a registry: its generation, slab key and counting waker.
    struct Listener {
        seen: u64,
        key: Option<usize>,
        woken: Arc<Count>,
    }

    impl Listener {
        fn poll(&mut self, reg: &SignalRegistry, signo: libc::c_int) -> bool {
            let waker = Waker::from(self.woken.clone());
            reg.poll(signo, &mut self.seen, &mut self.key, &waker)
        }
    }

    /// Regression: a delivery used to drain the slab of wakers, so a listener that
    /// re-registered got a key another listener still held; that one then removed the new
    /// waker when it took its delivery, and the next delivery never woke the first listener.
    #[test]
    fn every_listener_is_woken_by_every_delivery_whatever_order_they_poll_in() {
        // SIGWINCH: ignored by default, so a stray delivery to the test process is harmless.
        let signo = libc::SIGWINCH;
        let reg = SignalRegistry::new().unwrap();
        let mut a =
            Listener { seen: reg.listen(signo, |_| Ok(())).unwrap(), key: None, woken: Arc::default() };
        let mut b =
            Listener { seen: reg.listen(signo, |_| Ok(())).unwrap(), key: None, woken: Arc::default() };
        assert!(!a.poll(&reg, signo) && !b.poll(&reg, signo), "nothing delivered yet");
        sighandler::broadcast(signo);
        reg.dispatch();
        assert_eq!((a.woken.0.load(Ordering::SeqCst), b.woken.0.load(Ordering::SeqCst)), (1, 1));
        // B takes its delivery and waits again before A takes its own.
        assert!(b.poll(&reg, signo));
        assert!(!b.poll(&reg, signo));
        assert!(a.poll(&reg, signo));
        assert!(!a.poll(&reg, signo));
        sighandler::broadcast(signo);
        reg.dispatch();
        assert_eq!(a.woken.0.load(Ordering::SeqCst), 2, "A heard the second delivery");
        assert_eq!(b.woken.0.load(Ordering::SeqCst), 2, "B heard the second delivery");
        assert!(a.poll(&reg, signo) && b.poll(&reg, signo));
    }
}
