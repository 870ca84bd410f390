//! # aria-io
//!
//! An async I/O runtime whose first-class job is orchestrating operating-system processes.
//!
//! - A [`Runtime`] with a current-thread scheduler and one driver (epoll on Linux) shaped for
//!   completion-based backends: see [`driver`](crate#the-driver) below.
//! - [`process`]: spawn without `fork`, race-free exit through pidfds, six standard streams
//!   per child (stdin, stdout, stderr, stddbg, stddati, stddato), [`process::Pipeline`]s with
//!   text (`|`) and data (`|*`) pipes, redirections and pipefail.
//! - [`time`]: `sleep`, `timeout`, `interval` on a hierarchical timer wheel.
//! - [`signal`]: signals as streams, through signalfd.
//! - [`io`]: pipes implementing the `futures-io` traits.
//! - [`stdio`]: for programs run *by* a runtime like this one, the extra streams 3-5.
//!
//! ```
//! use aria_io::process::{Command, Pipeline};
//!
//! let rt = aria_io::Runtime::new()?;
//! rt.block_on(async {
//!     let mut yes = Command::new("yes");
//!     let mut head = Command::new("head");
//!     head.args(["-n", "2"]);
//!     let (status, out) = Pipeline::new(yes).pipe(head).output().await?;
//!     assert!(status.success()); // yes died of SIGPIPE because head was done: not a failure
//!     assert_eq!(out, b"y\ny\n");
//!     Ok::<_, std::io::Error>(())
//! })?;
//! # Ok::<_, std::io::Error>(())
//! ```
//!
//! `#[aria_io::main]` and `#[aria_io::test]` run an `async fn` on a fresh runtime:
//!
//! ```
//! #[aria_io::main]
//! async fn main() -> std::io::Result<()> {
//!     let out = aria_io::process::Command::new("echo").arg("hi").output().await?;
//!     assert_eq!(out.stdout, b"hi\n");
//!     Ok(())
//! }
//! ```
//!
//! # The driver
//!
//! Operations are submitted to the driver and complete with a result; they own their buffers
//! while in flight, so dropping a future mid-operation never lets the kernel write into freed
//! memory. The epoll backend performs each operation as a non-blocking system call and waits
//! for readiness on `EAGAIN`; completion backends (io_uring, IOCP) will hand the same
//! operations to the kernel without changing this API.

#![deny(unsafe_op_in_unsafe_fn, unused_must_use)]
#![warn(missing_docs, missing_debug_implementations, unreachable_pub, clippy::undocumented_unsafe_blocks)]

#[cfg(not(target_os = "linux"))]
compile_error!("aria-io supports Linux today; the kqueue and IOCP backends are not written yet");

pub mod blocking;
pub(crate) mod driver;
pub mod fs;
pub mod io;
mod loom;
pub mod process;
#[cfg(feature = "rayon")]
pub mod rayon;
pub(crate) mod runtime;
pub mod signal;
pub mod stdio;
pub mod sync;
pub(crate) mod sys;
pub mod task;
pub mod time;

pub use driver::BackendKind;
pub use runtime::{spawn, yield_now, Builder, Handle, Runtime, RuntimeFlavor};
pub use task::{JoinError, JoinHandle, JoinSet};

/// The README's examples, compiled and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../../../README.md")]
struct ReadmeDoctests;

#[cfg(feature = "macros")]
pub use aria_io_macros::{main, test};
