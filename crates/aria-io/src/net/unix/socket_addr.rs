use std::ffi::OsStr;
use std::fmt;
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use socket2::SockAddr;

/// The address of a Unix-domain socket: a path in the file system, an abstract name (Linux),
/// or unnamed (a socket never bound: one end of [`UnixStream::pair`](super::UnixStream::pair),
/// a connected client, an [`unbound`](super::UnixDatagram::unbound) datagram socket).
///
/// ```
/// use aria_io::net::unix::SocketAddr;
///
/// let path = SocketAddr::from_pathname("/tmp/app.sock")?;
/// assert_eq!(path.as_pathname(), Some(std::path::Path::new("/tmp/app.sock")));
/// let name = SocketAddr::from_abstract_name(b"app")?;
/// assert_eq!(name.as_abstract_name(), Some(&b"app"[..]));
/// # Ok::<_, std::io::Error>(())
/// ```
///
/// # Platform
/// Abstract names are Linux-only: they live in the network namespace, not the file system,
/// vanish when the last socket bound to them closes, and need no clean-up. The name is
/// every byte given (NUL bytes included), stored after the leading NUL byte that marks it.
///
/// # References
/// unix(7) ("Address format", "Abstract sockets")
#[derive(Clone)]
pub struct SocketAddr(SockAddr);

impl SocketAddr {
    /// The address of the socket file at `path`.
    ///
    /// # Errors
    /// `InvalidInput` if `path` is empty, holds a NUL byte, or is longer than 107 bytes
    /// (`sun_path` holds 108 with its terminating NUL).
    pub fn from_pathname(path: impl AsRef<Path>) -> io::Result<SocketAddr> {
        let bytes = path.as_ref().as_os_str().as_bytes();
        if bytes.is_empty() || bytes.contains(&0) {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "a Unix socket path must be non-empty and hold no NUL byte",
            ));
        }
        Ok(SocketAddr(SockAddr::unix(path)?))
    }

    /// The abstract name `name` (Linux).
    ///
    /// # Errors
    /// `InvalidInput` if `name` is longer than 107 bytes; `Unsupported` on systems without
    /// abstract names (macOS, FreeBSD).
    pub fn from_abstract_name(name: impl AsRef<[u8]>) -> io::Result<SocketAddr> {
        if !crate::sys::ABSTRACT_UNIX_NAMES {
            return Err(io::Error::new(
                io::ErrorKind::Unsupported,
                "abstract Unix socket names are Linux-only",
            ));
        }
        let mut bytes = Vec::with_capacity(name.as_ref().len() + 1);
        bytes.push(0);
        bytes.extend_from_slice(name.as_ref());
        Ok(SocketAddr(SockAddr::unix(Path::new(OsStr::from_bytes(&bytes)))?))
    }

    /// The path, if this is the address of a socket file.
    pub fn as_pathname(&self) -> Option<&Path> {
        self.0.as_pathname()
    }

    /// The abstract name (without its leading NUL byte), if this is one.
    pub fn as_abstract_name(&self) -> Option<&[u8]> {
        self.0.as_abstract_namespace()
    }

    /// Whether the socket has no address.
    pub fn is_unnamed(&self) -> bool {
        self.0.is_unnamed()
    }

    pub(crate) fn from_sockaddr(addr: SockAddr) -> SocketAddr {
        SocketAddr(addr)
    }

    pub(crate) fn as_sockaddr(&self) -> &SockAddr {
        &self.0
    }
}

impl fmt::Debug for SocketAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(path) = self.as_pathname() {
            write!(f, "{path:?} (pathname)")
        } else if let Some(name) = self.as_abstract_name() {
            write!(f, "\"{}\" (abstract)", name.escape_ascii())
        } else {
            f.write_str("(unnamed)")
        }
    }
}
