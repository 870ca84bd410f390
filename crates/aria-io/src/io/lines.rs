//! [`LineDrainer`]: a stream read into a bounded queue of whole lines, with backpressure.
//!
//! Seed 000's StreamDrainer for line-oriented telemetry (a child's stddbg, fd 3): one pump
//! task reads the stream; whoever displays it takes whole lines from the queue. The queue is
//! bounded in bytes, so a chatty child can never grow this process's memory, and it is
//! line-atomic: a reader sees each line whole or not at all, never half of one line joined
//! to another, whatever sizes the child's writes and this process's reads happen to have.
//!
//! ```
//! use aria_io::io::{LineDrainer, Overflow};
//! use aria_io::process::{Command, Stdio};
//!
//! let rt = aria_io::Runtime::new()?;
//! rt.block_on(async {
//!     let mut child = Command::new("printf").arg("one\ntwo\nthree").stdout(Stdio::piped()).spawn()?;
//!     let stdout = child.stdout.take().expect("stdout was piped");
//!     let drainer = LineDrainer::new(64 * 1024, Overflow::Backpressure);
//!     let pump = aria_io::spawn(drainer.clone().pump(stdout));
//!     let mut lines = Vec::new();
//!     while let Some(line) = drainer.next_line().await {
//!         lines.push(String::from_utf8_lossy(&line).into_owned());
//!     }
//!     pump.await.expect("the pump ran")?;
//!     assert!(child.wait().await?.success());
//!     assert_eq!(lines, ["one", "two", "three"]);
//!     Ok::<_, std::io::Error>(())
//! })?;
//! # Ok::<_, std::io::Error>(())
//! ```
//!
//! # Protocol
//!
//! State under one lock: the queue of complete lines and its size in bytes, the pump's
//! partial line, and a closed flag. Two [`Notify`]s: `data` (a line was queued or the
//! stream ended) and `room` (lines were taken).
//!
//! - The pump reads a chunk into its own buffer (never while holding the lock), then, under
//!   the lock, moves every complete line into the queue. A line counts its bytes plus one
//!   for the newline; a line longer than the capacity is queued cut to the capacity (the
//!   rest up to its newline is skipped and counted in [`LineDrainer::truncated`]), so one
//!   line always fits in an empty queue.
//! - When a line does not fit: with [`Overflow::Backpressure`] the pump stops reading and
//!   waits on `room` until a taker makes space, so the child blocks on a full pipe, as
//!   seed 000 asks; with [`Overflow::DropOldest`] the oldest lines are dropped (and counted
//!   in [`LineDrainer::dropped`]) and the pump keeps reading, for a view of the latest lines
//!   that must never stall the child.
//! - At end of stream, a final unterminated line is queued, then `closed` is set and `data`
//!   notified; [`next_line`](LineDrainer::next_line) returns `None` once the queue is empty
//!   and closed.
//!
//! Each `Notify` has one waiter at a time in the intended use (one pump, one taker); its
//! stored permit means a notification sent just before the other side waits is not lost.

use std::collections::VecDeque;
use std::fmt;
use std::io;
use std::sync::{Arc, Mutex, MutexGuard};

use futures_io::AsyncRead;

use crate::sync::Notify;

/// What a [`LineDrainer`] does when a line does not fit in its queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Overflow {
    /// Stop reading until lines are taken: the writer blocks once the pipe is full.
    Backpressure,
    /// Drop the oldest queued lines and keep reading: the queue holds the latest lines.
    DropOldest,
}

/// A bounded, line-atomic queue fed from a stream by [`pump`](LineDrainer::pump).
///
/// Cloning gives another handle to the same queue (one for the pump task, one for the
/// taker): one task runs [`pump`](LineDrainer::pump), others take whole lines with
/// [`next_line`](LineDrainer::next_line), [`try_next_line`](LineDrainer::try_next_line) or
/// [`take_all`](LineDrainer::take_all).
#[derive(Clone)]
pub struct LineDrainer {
    shared: Arc<Shared>,
}

struct Shared {
    state: Mutex<State>,
    capacity: usize,
    overflow: Overflow,
    data: Notify,
    room: Notify,
}

#[derive(Default)]
struct State {
    lines: VecDeque<Vec<u8>>,
    /// Bytes of `lines`, each line counting one more for its newline.
    bytes: usize,
    closed: bool,
    dropped: u64,
    truncated: u64,
}

/// The bytes a queued line occupies.
fn cost(line: &[u8]) -> usize {
    line.len() + 1
}

impl LineDrainer {
    /// A drainer whose queue holds at most `capacity` bytes of lines (each counted with its
    /// newline; at least 2 bytes).
    pub fn new(capacity: usize, overflow: Overflow) -> LineDrainer {
        LineDrainer {
            shared: Arc::new(Shared {
                state: Mutex::new(State::default()),
                capacity: capacity.max(2),
                overflow,
                data: Notify::new(),
                room: Notify::new(),
            }),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock leaves the queue consistent (every update is a
        // single push or pop), so a poisoned lock is used as it is.
        self.shared.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Reads `reader` to its end into the queue, 8 KiB at a time (see the module docs for
    /// what happens when the queue is full). Run it as its own task.
    ///
    /// # Errors
    /// A read failed; the queue is closed first, so takers see the lines read so far and
    /// then the end.
    pub async fn pump<R: AsyncRead + Unpin>(self, mut reader: R) -> io::Result<()> {
        let mut buf = vec![0u8; 8 * 1024];
        let mut partial: Vec<u8> = Vec::new();
        // Skipping the rest of a line already queued cut to the capacity.
        let mut skipping = false;
        let result = loop {
            let n = match std::future::poll_fn(|cx| std::pin::Pin::new(&mut reader).poll_read(cx, &mut buf))
                .await
            {
                Ok(0) => break Ok(()),
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => break Err(e),
            };
            let mut chunk = &buf[..n];
            while !chunk.is_empty() {
                let (piece, complete) = match chunk.iter().position(|&b| b == b'\n') {
                    Some(i) => (&chunk[..i], true),
                    None => (chunk, false),
                };
                chunk = &chunk[(piece.len() + usize::from(complete)).min(chunk.len())..];
                if !skipping {
                    let room = self.shared.capacity - 1 - partial.len();
                    if piece.len() > room {
                        partial.extend_from_slice(&piece[..room]);
                        self.lock().truncated += 1;
                        skipping = true;
                        self.push(std::mem::take(&mut partial)).await;
                    } else {
                        partial.extend_from_slice(piece);
                    }
                }
                if complete {
                    if skipping {
                        skipping = false;
                    } else {
                        self.push(std::mem::take(&mut partial)).await;
                    }
                }
            }
        };
        if !partial.is_empty() && !skipping {
            self.push(partial).await;
        }
        self.lock().closed = true;
        self.shared.data.notify_one();
        result
    }

    /// Queues one line, waiting for room or dropping old lines as the policy says.
    async fn push(&self, line: Vec<u8>) {
        let need = cost(&line);
        loop {
            {
                let mut state = self.lock();
                if self.shared.overflow == Overflow::DropOldest {
                    while state.bytes + need > self.shared.capacity {
                        let Some(old) = state.lines.pop_front() else { break };
                        state.bytes -= cost(&old);
                        state.dropped += 1;
                    }
                }
                if state.bytes + need <= self.shared.capacity {
                    state.bytes += need;
                    state.lines.push_back(line);
                    drop(state);
                    self.shared.data.notify_one();
                    return;
                }
            }
            self.shared.room.notified().await;
        }
    }

    /// Takes the oldest queued line (without its newline), if any.
    pub fn try_next_line(&self) -> Option<Vec<u8>> {
        let line = {
            let mut state = self.lock();
            let line = state.lines.pop_front()?;
            state.bytes -= cost(&line);
            line
        };
        self.shared.room.notify_one();
        Some(line)
    }

    /// The next line (without its newline), waiting for one; `None` once the stream has
    /// ended and every line was taken.
    pub async fn next_line(&self) -> Option<Vec<u8>> {
        loop {
            if let Some(line) = self.try_next_line() {
                return Some(line);
            }
            if self.lock().closed {
                // A line queued between the two locks is still taken.
                return self.try_next_line();
            }
            self.shared.data.notified().await;
        }
    }

    /// Takes every queued line, oldest first.
    pub fn take_all(&self) -> Vec<Vec<u8>> {
        let lines: Vec<Vec<u8>> = {
            let mut state = self.lock();
            state.bytes = 0;
            state.lines.drain(..).collect()
        };
        if !lines.is_empty() {
            self.shared.room.notify_one();
        }
        lines
    }

    /// Bytes queued now, each line counted with its newline; never more than the capacity.
    pub fn queued_bytes(&self) -> usize {
        self.lock().bytes
    }

    /// Whether the stream has ended (lines may still be queued).
    pub fn is_closed(&self) -> bool {
        self.lock().closed
    }

    /// Lines dropped by [`Overflow::DropOldest`] so far.
    pub fn dropped(&self) -> u64 {
        self.lock().dropped
    }

    /// Lines longer than the capacity, queued cut to it, so far.
    pub fn truncated(&self) -> u64 {
        self.lock().truncated
    }
}

impl fmt::Debug for LineDrainer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.lock();
        f.debug_struct("LineDrainer")
            .field("capacity", &self.shared.capacity)
            .field("overflow", &self.shared.overflow)
            .field("queued_lines", &state.lines.len())
            .field("queued_bytes", &state.bytes)
            .field("closed", &state.closed)
            .finish()
    }
}
