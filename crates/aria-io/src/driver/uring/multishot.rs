//! Multishot requests on registered descriptors: one submission, a completion per result.
//!
//! [`MultiAccept`] keeps one `IORING_OP_ACCEPT` with `IORING_ACCEPT_MULTISHOT` (Linux 5.19)
//! armed on a listening socket: the kernel accepts each connection as it arrives and posts
//! its descriptor, with no submission per connection and no readiness round trip. The
//! descriptors wait in a bounded queue until a task takes them, so a dropped `accept`
//! future takes nothing (cancel safety, as the readiness path has).
//!
//! # Lifetime
//!
//! While armed, the ring holds the queue (see `uring::Multishot`), and the queue holds the
//! listener's source, so the descriptor stays open until the request's final completion.
//! Dropping the listener cancels the request ([`MultiAccept::close`]); connections accepted
//! after that, and those still queued, are closed (their clients see a reset, as with a
//! listening socket closed with connections in its backlog).
//!
//! # Back-pressure
//!
//! When [`QUEUE_LIMIT`] connections wait untaken, the request is cancelled, and armed again
//! by the next accept that finds the queue empty; meanwhile connections wait in the kernel's
//! backlog, as they do on the readiness path.
//!
//! # Errors
//!
//! An error ends the request in the kernel (no `IORING_CQE_F_MORE`): it is queued for the
//! next accept, and the request is armed again only by the accept after that, so `EMFILE`
//! never makes the driver spin (tokio#3529): the caller decides when to try again.
//!
//! # References
//! io_uring_prep_multishot_accept(3), accept4(2)

use std::collections::VecDeque;
use std::io;
use std::os::fd::{AsFd, AsRawFd, FromRawFd, OwnedFd};
use std::sync::{Arc, Mutex, Weak};
use std::task::{Context, Poll, Waker};

use io_uring::{opcode, types};

use super::Multishot;
use crate::driver::{lock, Backend, IoSource};

/// Connections accepted and not taken before the request is paused.
pub(crate) const QUEUE_LIMIT: usize = 128;

/// A multishot accept on a listening socket registered with an io_uring driver.
pub(crate) struct MultiAccept {
    source: Arc<IoSource>,
    /// Itself, to hand to the ring (and to name the request when cancelling it).
    me: Weak<MultiAccept>,
    state: Mutex<State>,
}

struct State {
    /// The key of the armed request, until its final completion.
    armed: Option<usize>,
    /// A cancellation was asked for (its `-ECANCELED` is not an error to report).
    cancelling: bool,
    /// Accepted descriptors, and errors, in the order the kernel posted them.
    ready: VecDeque<io::Result<OwnedFd>>,
    /// Tasks waiting for a connection.
    wakers: Vec<Waker>,
    /// The listener is gone: what still arrives is closed.
    closed: bool,
}

impl MultiAccept {
    /// A multishot accept for the listening `source`, if it is registered with an io_uring
    /// driver whose kernel has `IORING_OP_ACCEPT`; `None` means: use the readiness path.
    pub(crate) fn new(source: &Arc<IoSource>) -> Option<Arc<MultiAccept>> {
        let Backend::Uring(ring) = &source.registration().driver().backend else { return None };
        if !ring.supports(opcode::AcceptMulti::CODE) {
            return None;
        }
        Some(Arc::new_cyclic(|me| MultiAccept {
            source: source.clone(),
            me: me.clone(),
            state: Mutex::new(State {
                armed: None,
                cancelling: false,
                ready: VecDeque::new(),
                wakers: Vec::new(),
                closed: false,
            }),
        }))
    }

    /// The next accepted descriptor (close-on-exec, non-blocking) or accept error; arms the
    /// request if it is not armed.
    ///
    /// # Errors
    /// The accept4(2) error the kernel reported (`EMFILE`...); `Other` once the driver has
    /// shut down.
    pub(crate) fn poll_accept(&self, cx: &mut Context<'_>) -> Poll<io::Result<OwnedFd>> {
        let mut state = lock(&self.state);
        if let Some(res) = state.ready.pop_front() {
            return Poll::Ready(res);
        }
        if state.armed.is_none() {
            let driver = self.source.registration().driver();
            let Backend::Uring(ring) = &driver.backend else {
                unreachable!("a MultiAccept is made for an io_uring driver only")
            };
            let fd = types::Fd(self.source.as_fd().as_raw_fd());
            let entry = opcode::AcceptMulti::new(fd).flags(libc::SOCK_CLOEXEC | libc::SOCK_NONBLOCK).build();
            let sink: Arc<dyn Multishot> = self.me.upgrade().expect("called through an Arc");
            let Some(key) = ring.push_multishot(entry, sink) else {
                return Poll::Ready(Err(io::Error::other(
                    "the runtime this listener belongs to has shut down",
                )));
            };
            state.armed = Some(key);
            state.cancelling = false;
            driver.unpark_if_remote();
        }
        if !state.wakers.iter().any(|w| w.will_wake(cx.waker())) {
            state.wakers.push(cx.waker().clone());
        }
        Poll::Pending
    }

    /// The listener is being dropped or converted: cancels the request and closes what is
    /// queued and what still arrives.
    pub(crate) fn close(&self) {
        let queued = {
            let mut state = lock(&self.state);
            state.closed = true;
            std::mem::take(&mut state.ready)
        };
        drop(queued);
        self.cancel();
    }

    /// Cancels the armed request, if any. Never called with the state locked: the ring may
    /// hand the final completion back at once.
    fn cancel(&self) {
        let key = {
            let mut state = lock(&self.state);
            if state.cancelling {
                return;
            }
            let Some(key) = state.armed else { return };
            state.cancelling = true;
            key
        };
        let Some(me) = self.me.upgrade() else { return };
        let sink: Arc<dyn Multishot> = me;
        let driver = self.source.registration().driver();
        if let Backend::Uring(ring) = &driver.backend {
            ring.cancel_multishot(key, &sink);
            driver.unpark_if_remote();
        }
    }
}

impl Multishot for MultiAccept {
    fn complete(&self, res: i32, more: bool) {
        let (wakers, full) = {
            let mut state = lock(&self.state);
            if !more {
                state.armed = None;
                state.cancelling = false;
            }
            if res >= 0 {
                // SAFETY: a non-negative result of IORING_OP_ACCEPT is a descriptor the
                // kernel just installed in this process's table for us; nothing else owns it.
                let fd = unsafe { OwnedFd::from_raw_fd(res) };
                if !state.closed {
                    state.ready.push_back(Ok(fd));
                }
            } else if res != -libc::ECANCELED && !state.closed {
                state.ready.push_back(Err(io::Error::from_raw_os_error(-res)));
            }
            let full = more && state.ready.len() >= QUEUE_LIMIT;
            (std::mem::take(&mut state.wakers), full)
        };
        if full {
            self.cancel();
        }
        for w in wakers {
            w.wake();
        }
    }
}

impl std::fmt::Debug for MultiAccept {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let state = lock(&self.state);
        f.debug_struct("MultiAccept")
            .field("armed", &state.armed.is_some())
            .field("queued", &state.ready.len())
            .finish()
    }
}
