use std::fmt;
use std::fs::File;
use std::os::fd::OwnedFd;

use crate::io::{PipeReader, PipeWriter};

/// Where one of a child's six standard streams comes from or goes to.
///
/// The six streams are the numbers 0-5: stdin, stdout, stderr, stddbg (JSON telemetry),
/// stddati (binary data in) and stddato (binary data out). A child always starts with
/// exactly these six descriptors open.
pub struct Stdio(pub(crate) Inner);

pub(crate) enum Inner {
    Inherit,
    Null,
    Piped,
    Fd(OwnedFd),
    Reader(PipeReader),
    Writer(PipeWriter),
    /// An aria-io file: its descriptor is duplicated at the spawn.
    File(crate::fs::File),
    /// A std `Stdio`, which std does not let anyone inspect: the child is then spawned by
    /// `std::process::Command` (see `std_spawn.rs`).
    Std(std::process::Stdio),
}

impl Stdio {
    /// The parent's descriptor with the same number, if the parent has it open as a stream
    /// (open and not close-on-exec); otherwise `/dev/null`. This is the default for every
    /// stream of [`spawn`](super::Command::spawn).
    pub fn inherit() -> Stdio {
        Stdio(Inner::Inherit)
    }

    /// `/dev/null`, opened read-write.
    pub fn null() -> Stdio {
        Stdio(Inner::Null)
    }

    /// A new pipe: the parent gets the other end as a field of [`Child`](super::Child)
    /// (`stdin`, `stdout`, ...), registered with the runtime.
    pub fn piped() -> Stdio {
        Stdio(Inner::Piped)
    }

    /// Whether this value can be used again for another spawn (true for inherit, null and
    /// piped; descriptors are moved into the child's spawn).
    pub(crate) fn reusable(&self) -> Option<Stdio> {
        match self.0 {
            Inner::Inherit => Some(Stdio::inherit()),
            Inner::Null => Some(Stdio::null()),
            Inner::Piped => Some(Stdio::piped()),
            _ => None,
        }
    }
}

impl From<OwnedFd> for Stdio {
    /// The child gets a duplicate of this descriptor (a file, a pipe end, a socket...).
    fn from(fd: OwnedFd) -> Stdio {
        Stdio(Inner::Fd(fd))
    }
}

impl From<File> for Stdio {
    fn from(f: File) -> Stdio {
        Stdio(Inner::Fd(f.into()))
    }
}

impl From<crate::fs::File> for Stdio {
    /// The child gets a duplicate of the file's descriptor, at its current position. Bytes
    /// written through the file's `futures-io` buffer and not yet flushed are not in the file:
    /// flush first.
    fn from(f: crate::fs::File) -> Stdio {
        Stdio(Inner::File(f))
    }
}

impl From<std::process::Stdio> for Stdio {
    /// std's `Stdio`, for code ported from `std::process` or `tokio::process` that keeps
    /// `use std::process::Stdio`. A std `Stdio` cannot be inspected from outside std (`null()`
    /// and `inherit()` look the same), so a command holding one is spawned by
    /// `std::process::Command` itself, with this command's program, arguments, environment,
    /// directory, uid, gid and process group, and adopted as usual (pidfd, piped streams
    /// registered with the runtime). That path waits for the child's `execve` and refuses what
    /// std cannot do (a stream 3-5 that is not inherited, `groups`, `new_session`) with
    /// `Unsupported`. This crate's own [`Stdio`] constructors take the faster clone3 path.
    fn from(s: std::process::Stdio) -> Stdio {
        Stdio(Inner::Std(s))
    }
}

impl From<PipeReader> for Stdio {
    /// Another child's output stream (for example its stdout) becomes this child's input.
    fn from(r: PipeReader) -> Stdio {
        Stdio(Inner::Reader(r))
    }
}

impl From<PipeWriter> for Stdio {
    /// Another child's input stream becomes this child's output.
    fn from(w: PipeWriter) -> Stdio {
        Stdio(Inner::Writer(w))
    }
}

impl fmt::Debug for Stdio {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = match &self.0 {
            Inner::Inherit => "Inherit",
            Inner::Null => "Null",
            Inner::Piped => "Piped",
            Inner::Fd(_) => "Fd",
            Inner::Reader(_) => "PipeReader",
            Inner::Writer(_) => "PipeWriter",
            Inner::File(_) => "File",
            Inner::Std(_) => "std::process::Stdio",
        };
        f.write_str(s)
    }
}
