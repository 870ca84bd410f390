//! A minimal executor for the `blocking_*` methods: runs one future on the calling thread,
//! parking the thread while the future is pending.

use std::future::Future;
use std::pin::pin;
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};
use std::thread::{self, Thread};

struct Unparker(Thread);

impl Wake for Unparker {
    fn wake(self: Arc<Self>) {
        self.0.unpark();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.0.unpark();
    }
}

/// Runs `future` to completion on this thread.
///
/// # Panics
/// With `what` in the message, when called on a thread running an aria-io runtime: blocking
/// there would stall every task of that runtime, including the one that would wake us.
pub(crate) fn block_on<F: Future>(what: &str, future: F) -> F::Output {
    assert!(
        crate::Handle::try_current().is_err(),
        "{what} was called inside an async runtime; use the async method instead"
    );
    park_until_ready(future)
}

/// Polls `future` on this thread, parking the thread (std's `thread::park`) while it is
/// pending, with no runtime check. Also the multi-thread runtime's `block_on`, which enters
/// its context first.
pub(crate) fn park_until_ready<F: Future>(future: F) -> F::Output {
    let waker = Waker::from(Arc::new(Unparker(thread::current())));
    let mut cx = Context::from_waker(&waker);
    let mut future = pin!(future);
    loop {
        if let Poll::Ready(out) = future.as_mut().poll(&mut cx) {
            return out;
        }
        // A wake-up that came before this park makes it return at once; spurious wake-ups
        // just poll again.
        thread::park();
    }
}
