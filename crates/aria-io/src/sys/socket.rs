//! Socket system calls that socket2 does not offer safely: receiving into initialised
//! buffers, with the sender's address.
//!
//! # References
//! recv(2), recvfrom(2), socket(7)

use std::io;
use std::os::fd::{AsRawFd, BorrowedFd};

use socket2::SockAddr;

use super::cvt;

/// recv(2) into `buf` with `flags` (`MSG_PEEK`...); returns the bytes received.
///
/// # References
/// recv(2)
pub(crate) fn recv(fd: BorrowedFd<'_>, buf: &mut [u8], flags: libc::c_int) -> io::Result<usize> {
    // SAFETY: `buf` is valid for writes of `buf.len()` bytes for the duration of the call.
    let n = cvt(unsafe { libc::recv(fd.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len(), flags) })?;
    Ok(n as usize)
}

/// recvfrom(2) into `buf` with `flags`; returns the bytes received and the sender's
/// address. An unnamed Unix-domain sender (the kernel reports no address at all) is
/// reported as socket2's unnamed `AF_UNIX` address.
///
/// # References
/// recvfrom(2)
pub(crate) fn recv_from(
    fd: BorrowedFd<'_>,
    buf: &mut [u8],
    flags: libc::c_int,
) -> io::Result<(usize, SockAddr)> {
    // SAFETY: `try_init` hands us zeroed storage and its size; recvfrom(2) writes at most
    // `*len` bytes of address there and sets `*len`. `buf` is valid for `buf.len()` bytes.
    let (n, addr) = unsafe {
        SockAddr::try_init(|storage, len| {
            let n = libc::recvfrom(
                fd.as_raw_fd(),
                buf.as_mut_ptr().cast(),
                buf.len(),
                flags,
                storage.cast(),
                len,
            );
            Ok(cvt(n)? as usize)
        })
    }?;
    if addr.len() == 0 {
        // An unbound Unix-domain datagram socket sent it: no address.
        return Ok((n, SockAddr::unix("")?));
    }
    Ok((n, addr))
}
