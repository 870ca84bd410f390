//! The poll(2) backend: the portable fallback, O(registered) per wait.
//!
//! poll(2) has no kernel-side interest list, so the list lives here: a table of *armed*
//! polls, each a descriptor, the events asked for and the token to dispatch, rebuilt into a
//! `pollfd` array for every wait. Registrations are armed on demand, exactly like io_uring's
//! one-shot `IORING_OP_POLL_ADD` (see [`Registration::poll_ready`]): a task that found its
//! descriptor not ready arms a poll for that direction, and the poll is removed from the
//! table when it fires. So a descriptor that stays ready while no task waits on it (poll(2)
//! is level-triggered) is never reported twice, and the driver does not spin. The driver's
//! own descriptors (the wake-up eventfd, the signalfd) stay armed; orphaned children's
//! pidfds are one-shot.
//!
//! A poll armed from another thread while the driver waits takes effect at the next wait:
//! the arming thread wakes the driver through its eventfd ([`Handle::arm`]).
//!
//! Each armed poll carries a generation number. When a wait reports it, it is removed only
//! if it is still the same arming (a poll removed and re-armed while the driver waited is
//! left in place, and at worst reported once spuriously, which every waiter tolerates).
//!
//! [`Registration::poll_ready`]: super::registration::Registration::poll_ready
//! [`Handle::arm`]: super::Handle::arm
//!
//! # References
//! poll(2), eventfd(2)

use std::collections::HashMap;
use std::io;
use std::os::fd::RawFd;
use std::sync::Mutex;
use std::time::Duration;

use super::lock;
use crate::sys::cvt;

/// One armed poll.
#[derive(Debug, Clone, Copy)]
struct Armed {
    fd: RawFd,
    events: libc::c_short,
    /// Removed when reported.
    oneshot: bool,
    generation: u64,
}

#[derive(Debug, Default)]
struct Table {
    armed: HashMap<u64, Armed>,
    next_generation: u64,
}

/// The table of armed polls.
#[derive(Debug, Default)]
pub(crate) struct Selector {
    table: Mutex<Table>,
    /// The buffers of [`Selector::select`], kept between waits so a wait allocates nothing
    /// once they have grown (only the driver's thread selects, so this lock is never
    /// contended).
    scratch: Mutex<Scratch>,
}

#[derive(Debug, Default)]
struct Scratch {
    fds: Vec<libc::pollfd>,
    /// The token and arming generation of each entry of `fds`.
    polled: Vec<(u64, u64)>,
    fired: Vec<(u64, u32)>,
}

/// The events a read-direction poll asks for: data, or the peer's hang-up.
pub(crate) const READ_EVENTS: libc::c_short = libc::POLLIN | crate::sys::POLL_RDHUP;
/// The events a write-direction poll asks for.
pub(crate) const WRITE_EVENTS: libc::c_short = libc::POLLOUT;

impl Selector {
    pub(crate) fn new() -> Selector {
        Selector::default()
    }

    /// Arms (or re-arms) the poll dispatched as `token`.
    pub(crate) fn arm(&self, fd: RawFd, token: u64, events: libc::c_short, oneshot: bool) {
        let mut table = lock(&self.table);
        table.next_generation += 1;
        let generation = table.next_generation;
        table.armed.insert(token, Armed { fd, events, oneshot, generation });
    }

    /// Removes the poll dispatched as `token`, if armed.
    pub(crate) fn disarm(&self, token: u64) {
        lock(&self.table).armed.remove(&token);
    }

    /// Waits for up to `timeout` (`None`: no limit; rounded up to whole milliseconds so a
    /// timer is never early) and calls `dispatch(token, revents)` for every poll that fired,
    /// after removing the one-shot ones from the table. An interrupted wait reports nothing.
    pub(crate) fn select(
        &self,
        timeout: Option<Duration>,
        mut dispatch: impl FnMut(u64, u32),
    ) -> io::Result<()> {
        let mut scratch = lock(&self.scratch);
        let Scratch { fds, polled, fired } = &mut *scratch;
        fds.clear();
        polled.clear();
        fired.clear();
        for (&token, a) in &lock(&self.table).armed {
            fds.push(libc::pollfd { fd: a.fd, events: a.events, revents: 0 });
            polled.push((token, a.generation));
        }
        let ms = super::timeout_ms(timeout);
        // SAFETY: `fds` is a valid array of `fds.len()` pollfd structures that the kernel
        // reads and whose `revents` it writes during the call.
        match cvt(unsafe { libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, ms) }) {
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::Interrupted => return Ok(()),
            Err(e) => return Err(e),
        }
        {
            let mut table = lock(&self.table);
            for (p, &(token, generation)) in fds.iter().zip(polled.iter()) {
                if p.revents == 0 {
                    continue;
                }
                if table.armed.get(&token).is_some_and(|a| a.oneshot && a.generation == generation) {
                    table.armed.remove(&token);
                }
                // poll(2)'s bits have epoll(7)'s values on Linux (POLLIN = EPOLLIN...).
                fired.push((token, p.revents as u16 as u32));
            }
        }
        for &(token, revents) in fired.iter() {
            dispatch(token, revents);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;
    use std::os::fd::AsRawFd;

    use super::*;

    fn fired(sel: &Selector) -> Vec<(u64, u32)> {
        let mut out = Vec::new();
        sel.select(Some(Duration::ZERO), |t, r| out.push((t, r))).expect("poll");
        out.sort_unstable();
        out
    }

    #[test]
    fn a_one_shot_poll_fires_once_however_long_its_descriptor_stays_ready() {
        let (reader, mut writer) = std::io::pipe().expect("pipe");
        writer.write_all(b"x").expect("write");
        let sel = Selector::new();
        sel.arm(reader.as_raw_fd(), 7, READ_EVENTS, true);
        let first = fired(&sel);
        assert_eq!(first.len(), 1);
        assert_eq!(first[0].0, 7);
        assert_ne!(first[0].1 & libc::POLLIN as u32, 0);
        // Still readable, but disarmed: level-triggered poll(2) does not report it again.
        assert!(fired(&sel).is_empty());
        // Re-armed by a waiting task: reported again.
        sel.arm(reader.as_raw_fd(), 7, READ_EVENTS, true);
        assert_eq!(fired(&sel).len(), 1);
    }

    #[test]
    fn a_persistent_poll_stays_armed_and_disarm_removes_it() {
        let (reader, mut writer) = std::io::pipe().expect("pipe");
        let sel = Selector::new();
        sel.arm(reader.as_raw_fd(), 1, libc::POLLIN, false);
        sel.arm(writer.as_raw_fd(), 2, WRITE_EVENTS, true);
        assert_eq!(fired(&sel).iter().map(|f| f.0).collect::<Vec<_>>(), [2]);
        writer.write_all(b"x").expect("write");
        assert_eq!(fired(&sel).iter().map(|f| f.0).collect::<Vec<_>>(), [1]);
        assert_eq!(fired(&sel).iter().map(|f| f.0).collect::<Vec<_>>(), [1]);
        sel.disarm(1);
        assert!(fired(&sel).is_empty());
    }
}
