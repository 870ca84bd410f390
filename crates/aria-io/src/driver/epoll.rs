//! The epoll backend (Linux): an `epoll` instance created `EPOLL_CLOEXEC`. The driver's
//! wake-up eventfd is registered in it like any other descriptor.
//!
//! # References
//! epoll(7), epoll_create1(2), epoll_ctl(2), epoll_wait(2), eventfd(2)

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::time::Duration;

use crate::sys::cvt;

/// An epoll instance.
#[derive(Debug)]
pub(crate) struct Selector {
    epfd: OwnedFd,
}

impl Selector {
    pub(crate) fn new() -> io::Result<Selector> {
        // SAFETY: epoll_create1 takes only flags.
        let epfd = cvt(unsafe { libc::epoll_create1(libc::EPOLL_CLOEXEC) })?;
        // SAFETY: the descriptor is fresh and owned by nobody else.
        let epfd = unsafe { OwnedFd::from_raw_fd(epfd) };
        Ok(Selector { epfd })
    }

    pub(crate) fn register(&self, fd: RawFd, token: u64, events: u32) -> io::Result<()> {
        let mut ev = libc::epoll_event { events, u64: token };
        // SAFETY: `ev` is a valid epoll_event for the call; the kernel copies it.
        cvt(unsafe { libc::epoll_ctl(self.epfd.as_raw_fd(), libc::EPOLL_CTL_ADD, fd, &mut ev) })?;
        Ok(())
    }

    /// `EPOLL_CTL_MOD`: replaces the events of a registered descriptor. With `EPOLLET`, an
    /// event is queued at once if the descriptor is already ready for the new events.
    pub(crate) fn modify(&self, fd: RawFd, token: u64, events: u32) -> io::Result<()> {
        let mut ev = libc::epoll_event { events, u64: token };
        // SAFETY: `ev` is a valid epoll_event for the call; the kernel copies it.
        cvt(unsafe { libc::epoll_ctl(self.epfd.as_raw_fd(), libc::EPOLL_CTL_MOD, fd, &mut ev) })?;
        Ok(())
    }

    pub(crate) fn deregister(&self, fd: RawFd) -> io::Result<()> {
        // SAFETY: since Linux 2.6.9 the event pointer may be NULL for EPOLL_CTL_DEL.
        cvt(unsafe {
            libc::epoll_ctl(self.epfd.as_raw_fd(), libc::EPOLL_CTL_DEL, fd, std::ptr::null_mut())
        })?;
        Ok(())
    }

    /// Waits for up to `events.capacity()` events; `None` waits without a time limit.
    /// The timeout is rounded *up* to whole milliseconds so a timer is never early.
    pub(crate) fn select(
        &self,
        events: &mut Vec<libc::epoll_event>,
        timeout: Option<Duration>,
    ) -> io::Result<()> {
        let ms = super::timeout_ms(timeout);
        let cap = events.capacity() as libc::c_int;
        let n = match cvt(unsafe {
            // SAFETY: the buffer is valid for `cap` events; the kernel writes at most that
            // many and reports how many it wrote.
            libc::epoll_wait(self.epfd.as_raw_fd(), events.as_mut_ptr(), cap, ms)
        }) {
            Ok(n) => n as usize,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => 0,
            Err(e) => return Err(e),
        };
        // SAFETY: epoll_wait initialised the first `n` entries.
        unsafe { events.set_len(n) };
        Ok(())
    }
}
