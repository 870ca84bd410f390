//! Name lookup: [`ToSocketAddrs`] and [`lookup_host`].
//!
//! A literal address (`SocketAddr`, `(IpAddr, u16)`, `"127.0.0.1:80"`, `("::1", 80)`) is
//! parsed on the spot. A host name goes to getaddrinfo(3) (through
//! `std::net::ToSocketAddrs`) on the [blocking pool](crate::blocking), because the resolver
//! blocks (reading `/etc/hosts`, asking a DNS server) and must not block a runtime thread.

use std::future::Future;
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};

/// Something that can be turned into one or more socket addresses, asynchronously: the
/// argument of [`TcpStream::connect`](super::TcpStream::connect),
/// [`TcpListener::bind`](super::TcpListener::bind) and [`lookup_host`].
///
/// Implemented for `SocketAddr`, `SocketAddrV4`, `SocketAddrV6`, `(IpAddr, u16)`,
/// `(Ipv4Addr, u16)`, `(Ipv6Addr, u16)`, `(&str, u16)`, `(String, u16)`, `&str` and
/// `String` (`"host:port"`, `"[::1]:80"`), `&[SocketAddr]`, and `&T` for each of them. The
/// trait is sealed: its method is private to this crate, as tokio's is.
///
/// Literal addresses resolve at once, without the blocking pool; host names resolve with
/// getaddrinfo(3) on the blocking pool.
///
/// # References
/// getaddrinfo(3), `std::net::ToSocketAddrs`
pub trait ToSocketAddrs: sealed::ToSocketAddrsPriv {}

pub(crate) mod sealed {
    use std::io;
    use std::net::SocketAddr;

    /// The resolution, hidden from users: literal addresses, or a name to resolve.
    #[doc(hidden)]
    #[derive(Debug)]
    pub enum Resolve {
        /// Resolved (or failed to parse) already.
        Ready(io::Result<Vec<SocketAddr>>),
        /// A `"host:port"` string for getaddrinfo(3).
        Name(String),
        /// A host and a port for getaddrinfo(3).
        HostPort(String, u16),
    }

    /// The sealed half of [`ToSocketAddrs`](super::ToSocketAddrs).
    #[doc(hidden)]
    pub trait ToSocketAddrsPriv {
        /// What resolving `self` needs.
        fn to_resolve(&self) -> Resolve;
    }
}

use sealed::{Resolve, ToSocketAddrsPriv};

macro_rules! literal {
    ($($t:ty => |$s:ident| $e:expr;)*) => {$(
        impl ToSocketAddrs for $t {}
        impl ToSocketAddrsPriv for $t {
            fn to_resolve(&self) -> Resolve {
                let $s = self;
                Resolve::Ready(Ok(vec![$e]))
            }
        }
    )*};
}

literal! {
    SocketAddr => |a| *a;
    SocketAddrV4 => |a| SocketAddr::V4(*a);
    SocketAddrV6 => |a| SocketAddr::V6(*a);
    (IpAddr, u16) => |a| SocketAddr::new(a.0, a.1);
    (Ipv4Addr, u16) => |a| SocketAddr::new(IpAddr::V4(a.0), a.1);
    (Ipv6Addr, u16) => |a| SocketAddr::new(IpAddr::V6(a.0), a.1);
}

impl ToSocketAddrs for (&str, u16) {}
impl ToSocketAddrsPriv for (&str, u16) {
    fn to_resolve(&self) -> Resolve {
        match self.0.parse::<IpAddr>() {
            Ok(ip) => Resolve::Ready(Ok(vec![SocketAddr::new(ip, self.1)])),
            Err(_) => Resolve::HostPort(self.0.to_owned(), self.1),
        }
    }
}

impl ToSocketAddrs for (String, u16) {}
impl ToSocketAddrsPriv for (String, u16) {
    fn to_resolve(&self) -> Resolve {
        (self.0.as_str(), self.1).to_resolve()
    }
}

impl ToSocketAddrs for str {}
impl ToSocketAddrsPriv for str {
    fn to_resolve(&self) -> Resolve {
        match self.parse::<SocketAddr>() {
            Ok(addr) => Resolve::Ready(Ok(vec![addr])),
            Err(_) => Resolve::Name(self.to_owned()),
        }
    }
}

impl ToSocketAddrs for String {}
impl ToSocketAddrsPriv for String {
    fn to_resolve(&self) -> Resolve {
        self.as_str().to_resolve()
    }
}

impl ToSocketAddrs for [SocketAddr] {}
impl ToSocketAddrsPriv for [SocketAddr] {
    fn to_resolve(&self) -> Resolve {
        Resolve::Ready(Ok(self.to_vec()))
    }
}

impl<T: ToSocketAddrs + ?Sized> ToSocketAddrs for &T {}
impl<T: ToSocketAddrsPriv + ?Sized> ToSocketAddrsPriv for &T {
    fn to_resolve(&self) -> Resolve {
        (**self).to_resolve()
    }
}

/// Resolves `host` to its socket addresses, in the order getaddrinfo(3) gives them.
///
/// A literal address resolves at once, without the blocking pool and without a runtime; a
/// host name (`"localhost:8080"`, `("example.com", 443)`) is resolved with getaddrinfo(3)
/// on the [blocking pool](crate::blocking), so the calling thread never blocks.
///
/// ```
/// let rt = aria_io::Runtime::new()?;
/// rt.block_on(async {
///     for addr in aria_io::net::lookup_host("localhost:80").await? {
///         assert!(addr.ip().is_loopback());
///     }
///     Ok::<_, std::io::Error>(())
/// })?;
/// # Ok::<_, std::io::Error>(())
/// ```
///
/// # Errors
/// `InvalidInput` for a string that is neither `host:port` nor an address; the resolver's
/// error (`Uncategorized`/`Other` with getaddrinfo's message, for example "failed to
/// lookup address information: Name or service not known"); `Other` if the blocking pool
/// could not run the lookup.
///
/// # Cancel safety
/// Cancel-safe: dropping the future abandons the result; a lookup already running on the
/// pool finishes there (getaddrinfo(3) cannot be interrupted) and its result is dropped.
///
/// # References
/// getaddrinfo(3), resolv.conf(5), hosts(5)
pub async fn lookup_host(
    host: impl ToSocketAddrs,
) -> io::Result<impl Iterator<Item = SocketAddr> + std::fmt::Debug + Send + 'static> {
    Ok(resolve(&host).await?.into_iter())
}

/// The addresses of `addr`, as a list (what `bind` and `connect` try in order).
pub(crate) fn resolve<T: ToSocketAddrs + ?Sized>(
    addr: &T,
) -> impl Future<Output = io::Result<Vec<SocketAddr>>> + Send + 'static {
    let resolve = addr.to_resolve();
    async move {
        let job: Box<dyn FnOnce() -> io::Result<Vec<SocketAddr>> + Send> = match resolve {
            Resolve::Ready(res) => return res,
            Resolve::Name(name) => {
                Box::new(move || Ok(std::net::ToSocketAddrs::to_socket_addrs(&name)?.collect()))
            }
            Resolve::HostPort(host, port) => Box::new(move || {
                Ok(std::net::ToSocketAddrs::to_socket_addrs(&(host.as_str(), port))?.collect())
            }),
        };
        crate::blocking::spawn_blocking(job)
            .await
            .map_err(|e| io::Error::other(format!("name lookup: {e}")))?
    }
}

/// Runs `attempt` on each address of `addr` in order and returns the first success, or
/// the last error (`InvalidInput` when `addr` resolves to nothing): what `bind` and
/// `connect` do with a name that has several addresses.
pub(crate) async fn try_each<A: ToSocketAddrs + ?Sized, T>(
    addr: &A,
    mut attempt: impl FnMut(SocketAddr) -> io::Result<T>,
) -> io::Result<T> {
    let mut last = None;
    for addr in resolve(addr).await? {
        match attempt(addr) {
            Ok(t) => return Ok(t),
            Err(e) => last = Some(e),
        }
    }
    Err(last.unwrap_or_else(no_addresses))
}

/// The error of a connect or bind given no address to try.
pub(crate) fn no_addresses() -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, "could not resolve to any address")
}
