//! What a [`File`](super::File) shares with the operations started on it: the descriptor,
//! kept open for as long as any of them may still use it, and the count of those operations
//! (see the [module docs](super) for why a file waits for it to drop to zero).

use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};

/// What a [`File`](super::File) shares with its operations: the descriptor (closed when the
/// file and every operation still in flight are gone) and the count of those operations.
#[derive(Debug)]
pub(crate) struct FileShared {
    file: std::fs::File,
    path: PathBuf,
    in_flight: Mutex<InFlight>,
}

#[derive(Debug, Default)]
struct InFlight {
    count: usize,
    waker: Option<Waker>,
}

impl FileShared {
    pub(crate) fn new(file: std::fs::File, path: PathBuf) -> Arc<FileShared> {
        Arc::new(FileShared { file, path, in_flight: Mutex::default() })
    }

    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    pub(crate) fn file(&self) -> &std::fs::File {
        &self.file
    }

    fn lock(&self) -> MutexGuard<'_, InFlight> {
        self.in_flight.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Ready once no operation on this file is in flight (in the kernel or on the pool).
    pub(crate) fn poll_idle(&self, cx: &mut Context<'_>) -> Poll<()> {
        let mut st = self.lock();
        if st.count == 0 {
            return Poll::Ready(());
        }
        match &st.waker {
            Some(w) if w.will_wake(cx.waker()) => {}
            _ => st.waker = Some(cx.waker().clone()),
        }
        Poll::Pending
    }
}

impl AsFd for FileShared {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.file.as_fd()
    }
}

/// An operation's reference to its file: keeps the descriptor open (so its number cannot be
/// reused while the kernel may still use it) and counts as "in flight" until dropped.
#[derive(Debug)]
pub(crate) struct FileRef(Arc<FileShared>);

impl FileRef {
    pub(crate) fn new(shared: &Arc<FileShared>) -> FileRef {
        shared.lock().count += 1;
        FileRef(shared.clone())
    }

    pub(crate) fn raw(&self) -> RawFd {
        self.0.file.as_raw_fd()
    }

    pub(crate) fn file(&self) -> &std::fs::File {
        &self.0.file
    }
}

impl Drop for FileRef {
    fn drop(&mut self) {
        let waker = {
            let mut st = self.0.lock();
            st.count -= 1;
            if st.count == 0 {
                st.waker.take()
            } else {
                None
            }
        };
        if let Some(w) = waker {
            w.wake();
        }
    }
}
