//! The extra standard streams, for programs started by ariash or by
//! [`Command`](crate::process::Command) (or by anyone who sets up fds 3-5).
//!
//! | fd | function     | meaning                                  |
//! |----|--------------|------------------------------------------|
//! | 3  | [`stddbg`]   | structured telemetry, one JSON value per line |
//! | 4  | [`stddati`]  | binary data in                           |
//! | 5  | [`stddato`]  | binary data out                          |
//!
//! Each returns a blocking [`File`] that is a close-on-exec duplicate of the descriptor when
//! this process was given it (open and not close-on-exec), and `/dev/null` otherwise, so
//! a program can always write telemetry and read or write the data plane, whether or not its
//! parent knows about these streams. Dropping the `File` never closes the original fd.
//! For async use, wrap it with [`PipeReader::from_owned_fd`](crate::io::PipeReader::from_owned_fd)
//! or [`PipeWriter::from_owned_fd`](crate::io::PipeWriter::from_owned_fd).

use std::fs::File;
use std::io;
use std::os::fd::OwnedFd;

use crate::sys;

fn stream(fd: i32) -> io::Result<File> {
    let src = if sys::is_inheritable_open(fd) { sys::borrow_std_stream(fd) } else { sys::dev_null()? };
    let dup: OwnedFd = sys::dup_at_least(src, 0)?;
    Ok(File::from(dup))
}

/// Fd 3, stddbg: where to write JSON-lines telemetry.
///
/// # Errors
/// The dup (`EMFILE`) or `/dev/null` open error.
pub fn stddbg() -> io::Result<File> {
    stream(3)
}

/// Fd 4, stddati: binary data in.
///
/// # Errors
/// As [`stddbg`].
pub fn stddati() -> io::Result<File> {
    stream(4)
}

/// Fd 5, stddato: binary data out.
///
/// # Errors
/// As [`stddbg`].
pub fn stddato() -> io::Result<File> {
    stream(5)
}
