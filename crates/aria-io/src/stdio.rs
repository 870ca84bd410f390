//! The extra standard streams, fds 3-5, for programs started by ariash or by
//! [`Command`](crate::process::Command) (or by anyone who sets up fds 3-5).
//!
//! ```
//! use aria_io::io::PipeWriter;
//!
//! let rt = aria_io::Runtime::new()?;
//! rt.block_on(async {
//!     // Fd 3 if this program was given one, `/dev/null` otherwise: it always works.
//!     let mut dbg = PipeWriter::from_owned_fd(aria_io::stdio::stddbg()?.into())?;
//!     dbg.write_all(b"{\"event\":\"started\",\"pid\":42}\n").await?;
//!     Ok::<_, std::io::Error>(())
//! })?;
//! # Ok::<_, std::io::Error>(())
//! ```
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
//!
//! For async use, wrap it with [`PipeReader::from_owned_fd`](crate::io::PipeReader::from_owned_fd)
//! or [`PipeWriter::from_owned_fd`](crate::io::PipeWriter::from_owned_fd), whatever it is: a
//! pipe or a socket is read and written when it is ready; a regular file (as the shell's
//! `4< in.bin` gives) or `/dev/null` is always ready, and each read or write is simply
//! performed (it may block the thread for disk I/O, as a regular file's read does). The
//! duplicate shares the original's open file description: a regular file's position, and the
//! `O_NONBLOCK` flag a pipe is given when wrapped, are shared with fd 3-5 themselves (and with
//! every other process that has the same pipe end).

use std::fs::File;
use std::io;
use std::os::fd::OwnedFd;

use crate::sys;

/// The stream `fd`, called `name` in errors.
fn stream(name: &str, fd: i32) -> io::Result<File> {
    let src = if sys::is_inheritable_open(fd) {
        sys::borrow_std_stream(fd)
    } else {
        sys::dev_null()
            .map_err(|e| sys::context(e, format!("{name} (fd {fd}): cannot open /dev/null in its place")))?
    };
    let dup: OwnedFd = sys::dup_at_least(src, 0).map_err(|e| {
        sys::context(e, format!("{name} (fd {fd}): cannot duplicate it (fcntl F_DUPFD_CLOEXEC)"))
    })?;
    Ok(File::from(dup))
}

/// Fd 3, stddbg: where to write JSON-lines telemetry. A duplicate of fd 3 if this process
/// was given it, else `/dev/null` (see the [module docs](self)).
///
/// # Errors
/// Named after the stream: `stddbg (fd 3): cannot duplicate it (fcntl F_DUPFD_CLOEXEC): Too
/// many open files (os error 24)` (`EMFILE`), or the error opening `/dev/null`.
///
/// # References
/// fcntl(2) (`F_DUPFD_CLOEXEC`, `F_GETFD`), null(4)
pub fn stddbg() -> io::Result<File> {
    stream("stddbg", 3)
}

/// Fd 4, stddati: binary data in. A duplicate of fd 4 if this process was given it, else
/// `/dev/null`, which reads as end of file.
///
/// # Errors
/// As [`stddbg`], named `stddati (fd 4): ...`.
///
/// # References
/// fcntl(2) (`F_DUPFD_CLOEXEC`, `F_GETFD`), null(4)
pub fn stddati() -> io::Result<File> {
    stream("stddati", 4)
}

/// Fd 5, stddato: binary data out. A duplicate of fd 5 if this process was given it, else
/// `/dev/null`, which accepts and discards every write.
///
/// # Errors
/// As [`stddbg`], named `stddato (fd 5): ...`.
///
/// # References
/// fcntl(2) (`F_DUPFD_CLOEXEC`, `F_GETFD`), null(4)
pub fn stddato() -> io::Result<File> {
    stream("stddato", 5)
}
