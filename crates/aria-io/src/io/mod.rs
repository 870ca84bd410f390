//! Asynchronous I/O objects and stream relaying: pipes, [`copy`] and
//! [`copy_bidirectional`].
//!
//! [`PipeReader`] and [`PipeWriter`] implement the `futures-io` traits
//! [`AsyncRead`](futures_io::AsyncRead) and [`AsyncWrite`](futures_io::AsyncWrite), so
//! `futures::io::AsyncReadExt`, `futures::io::copy`, codecs and other ecosystem code work on
//! them. They also offer operations in the completion shape of the driver, which take and give
//! back owned buffers (`read_owned`, `write_owned`: named so that they never shadow the
//! `futures` extension traits' `read` and `write`), and `read_to_end`.
//!
//! [`copy`] moves a stream between pipes and [files](crate::fs::File) with splice(2), in the
//! kernel; [`copy_bidirectional`] relays two streams at once, between two [`Duplex`] objects
//! (a reader and a writer seen as one, such as a child's stdout and stdin).

mod bidirectional;
mod copy;
mod pipe;
mod splice;
mod tee;

pub use bidirectional::{copy_bidirectional, Duplex};
pub use copy::copy;
pub use pipe::{pipe, PipeReader, PipeWriter};
pub(crate) use tee::tee_into_file;
