//! Asynchronous I/O objects and stream relaying: pipes ([`pipe`], [`PipeReader`],
//! [`PipeWriter`]), [`copy`] and [`copy_bidirectional`], and [`LineDrainer`], a bounded queue of
//! whole lines read from a stream (a child's telemetry).
//!
//! Copy a child's output into a file without the bytes passing through this process (the
//! child's stdout is a [`PipeReader`] and the file an [`aria_io::fs::File`](crate::fs::File),
//! so [`copy`] moves them with splice(2)):
//!
//! ```
//! use aria_io::process::{Command, Stdio};
//!
//! let rt = aria_io::Runtime::new()?;
//! rt.block_on(async {
//!     # let dir = tempfile::tempdir()?;
//!     # let path = dir.path().join("out.txt");
//!     let mut child = Command::new("printf").arg("one\ntwo\n").stdout(Stdio::piped()).spawn()?;
//!     let mut stdout = child.stdout.take().expect("stdout was piped");
//!     let mut file = aria_io::fs::File::create(&path).await?;
//!
//!     let copied = aria_io::io::copy(&mut stdout, &mut file).await?;
//!     assert!(child.wait().await?.success());
//!     assert_eq!(copied, 8);
//!     assert_eq!(aria_io::fs::read_to_string(&path).await?, "one\ntwo\n");
//!     Ok::<_, std::io::Error>(())
//! })?;
//! # Ok::<_, std::io::Error>(())
//! ```
//!
//! # Pipes
//!
//! [`PipeReader`] and [`PipeWriter`] are the two ends of a pipe registered with a runtime:
//! the ends that [`pipe`] creates, a child's piped streams
//! ([`Child::stdout`](crate::process::Child::stdout), [`Child::stdin`](crate::process::Child::stdin)
//! and the others), or any stream descriptor adopted with
//! [`PipeReader::from_owned_fd`] / [`PipeWriter::from_owned_fd`] (a socket, a terminal, a
//! regular file, `/dev/null`).
//!
//! They implement the `futures-io` traits [`AsyncRead`](futures_io::AsyncRead) and
//! [`AsyncWrite`](futures_io::AsyncWrite), so `futures::io::AsyncReadExt`,
//! `futures::io::copy`, codecs and other ecosystem code work on them. They also offer
//! operations in the completion shape of the driver, which take and give back owned buffers
//! ([`read_owned`](PipeReader::read_owned), [`write_owned`](PipeWriter::write_owned): named
//! so that they never shadow the `futures` extension traits' `read` and `write`), and
//! [`read_to_end`](PipeReader::read_to_end) / [`write_all`](PipeWriter::write_all).
//!
//! # Relaying
//!
//! [`copy`] moves a stream from a reader to a writer; when both ends are descriptors (pipes
//! and [files](crate::fs::File)) it does so with splice(2), in the kernel, and otherwise
//! through a 64 KiB buffer. [`copy_bidirectional`] relays two streams at once, between two
//! [`Duplex`] objects (a reader and a writer seen as one, such as a child's stdout and
//! stdin).
//!
//! # Platform
//! Linux only, as the whole crate: pipes come from pipe2(2) and splice(2) is Linux's. On the
//! io_uring backend reads and writes of [`read_owned`](PipeReader::read_owned) and
//! [`write_owned`](PipeWriter::write_owned) are `IORING_OP_READ` / `IORING_OP_WRITE`; on epoll
//! they are read(2) / write(2) after readiness. The results are the same on both.
//!
//! # References
//! pipe(7), pipe2(2), splice(2)

mod bidirectional;
mod copy;
mod lines;
pub(crate) mod pipe;
pub(crate) mod splice;
mod tee;

pub use bidirectional::{copy_bidirectional, Duplex};
pub use copy::copy;
pub use lines::{LineDrainer, Overflow};
pub use pipe::{pipe, PipeReader, PipeWriter};
pub(crate) use tee::tee_into_file;
