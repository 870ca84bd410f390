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
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd, RawFd};
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
    fd: OwnedFd,
    state: Mutex<State>,
}

impl SignalRegistry {
    pub(crate) fn new() -> io::Result<SignalRegistry> {
        let mask = sys::empty_sigset();
        let fd = sys::signalfd_new(&mask)?;
        Ok(SignalRegistry {
            fd,
            state: Mutex::new(State {
                mask,
                slots: HashMap::new(),
                handler_seen: HashMap::new(),
                wake: None,
            }),
        })
    }

    pub(crate) fn fd(&self) -> std::os::fd::RawFd {
        self.fd.as_raw_fd()
    }

    /// The fallback handler's eventfd for this driver, once a signal is listened for.
    pub(crate) fn fallback_fd(&self) -> Option<RawFd> {
        lock(&self.state).wake.as_ref().map(|w| w.fd())
    }

    /// Starts listening for `signo`: blocks it in the calling thread, adds it to the
    /// signalfd's mask, and installs the fallback handler for deliveries to other threads
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
            let mut one = sys::empty_sigset();
            sys::sigaddset(&mut one, signo)?;
            sys::block_signals(&one)?;
            let mut mask = state.mask;
            sys::sigaddset(&mut mask, signo)?;
            sys::signalfd_set_mask(self.fd.as_fd(), &mask)?;
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

    /// Reads every pending `signalfd_siginfo` and wakes the listeners of each signal.
    pub(crate) fn dispatch(&self) {
        const INFO: usize = std::mem::size_of::<libc::signalfd_siginfo>();
        let mut buf = [0u8; INFO * 16];
        let mut wakers = Vec::new();
        loop {
            let n = match sys::read(self.fd.as_fd(), &mut buf) {
                Ok(n) if n >= INFO => n,
                _ => break,
            };
            for chunk in buf[..n].chunks_exact(INFO) {
                // ssi_signo is the first field, a u32 in native byte order. Recorded for every
                // driver, this one included: the pass below turns it into the delivery.
                let signo = u32::from_ne_bytes([chunk[0], chunk[1], chunk[2], chunk[3]]) as libc::c_int;
                sighandler::broadcast(signo);
            }
        }
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
                    wakers.extend(slot.wakers.drain());
                }
            }
        }
        for w in wakers {
            w.wake();
        }
    }
}

impl AsFd for SignalRegistry {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}
