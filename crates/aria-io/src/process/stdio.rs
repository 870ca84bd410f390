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
        };
        f.write_str(s)
    }
}
