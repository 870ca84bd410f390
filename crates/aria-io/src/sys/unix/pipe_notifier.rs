//! A notifier made of a non-blocking pipe: what systems without eventfd (macOS, FreeBSD)
//! wake drivers and signal listeners with. Compiled on Linux too, for its tests.
//!
//! # References
//! pipe(2), write(2) (async-signal-safe: signal-safety(7))

use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd, RawFd};

/// A descriptor that other threads, and signal handlers, make readable to wake whoever polls
/// it: a non-blocking, close-on-exec pipe (one byte per notification, drained whole).
#[derive(Debug)]
pub(crate) struct PipeNotifier {
    read: OwnedFd,
    write: OwnedFd,
}

impl PipeNotifier {
    /// # Errors
    /// The pipe(2) or fcntl(2) error (`EMFILE`...).
    pub(crate) fn new() -> io::Result<PipeNotifier> {
        let (read, write) = super::pipe_nonblocking()?;
        Ok(PipeNotifier { read, write })
    }

    /// The descriptor to poll: readable once notified, until drained.
    pub(crate) fn fd(&self) -> BorrowedFd<'_> {
        self.read.as_fd()
    }

    /// The descriptor [`notify_raw`] writes to (the pipe's write end).
    pub(crate) fn write_fd(&self) -> RawFd {
        self.write.as_raw_fd()
    }

    /// Makes the descriptor readable (a full pipe, `EAGAIN`, is readable already).
    pub(crate) fn notify(&self) {
        notify_raw(self.write_fd());
    }

    /// Consumes every notification so far.
    pub(crate) fn drain(&self) {
        let mut buf = [0u8; 64];
        while matches!(super::read(self.read.as_fd(), &mut buf), Ok(n) if n > 0) {}
    }
}

/// Notifies the [`PipeNotifier`] whose [`write_fd`](PipeNotifier::write_fd) is `fd`. Async-signal-safe
/// (one write(2)).
pub(crate) fn notify_raw(fd: RawFd) {
    let one = 1u8;
    // SAFETY: write(2) is async-signal-safe; `one` is a valid 1-byte buffer; the caller
    // keeps `fd` open (the notifiers of signal handlers are never closed).
    unsafe { libc::write(fd, (&one as *const u8).cast(), 1) };
}

#[cfg(test)]
mod tests {
    use super::*;

    fn readable(n: &PipeNotifier) -> bool {
        super::super::poll_one(n.fd(), libc::POLLIN, 0).unwrap()
    }

    #[test]
    fn notifications_make_it_readable_until_drained_even_past_a_full_pipe() {
        let n = PipeNotifier::new().unwrap();
        assert!(!readable(&n));
        n.notify();
        n.notify();
        assert!(readable(&n));
        n.drain();
        assert!(!readable(&n), "drained whole");
        // More notifications than the pipe holds: the extra writes fail with EAGAIN, never
        // block, and it stays readable.
        for _ in 0..100_000 {
            notify_raw(n.write_fd());
        }
        assert!(readable(&n));
        n.drain();
        assert!(!readable(&n));
    }
}
