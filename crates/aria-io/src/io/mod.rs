//! Asynchronous I/O objects: pipes, today.
//!
//! [`PipeReader`] and [`PipeWriter`] implement the `futures-io` traits
//! [`AsyncRead`](futures_io::AsyncRead) and [`AsyncWrite`](futures_io::AsyncWrite), so
//! `futures::io::AsyncReadExt`, `futures::io::copy`, codecs and other ecosystem code work on
//! them. They also offer operations in the completion shape of the driver, which take and give
//! back owned buffers (`read`, `write`), and `read_to_end`.

mod copy;
mod pipe;

pub use copy::copy;
pub use pipe::{pipe, PipeReader, PipeWriter};
