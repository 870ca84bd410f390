//! Socket system calls that socket2 does not offer safely: receiving into initialised
//! buffers with the sender's address, the peer's credentials (`SO_PEERCRED`), and passing
//! descriptors in `SCM_RIGHTS` control messages.
//!
//! # References
//! recvmsg(2), sendmsg(2), cmsg(3), unix(7), socket(7)

use std::io;
use std::mem;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd};

use socket2::SockAddr;

use super::cvt;

/// The most descriptors one `SCM_RIGHTS` message may carry (`SCM_MAX_FD` in the kernel's
/// `include/net/scm.h`); sendmsg(2) fails with `EINVAL` beyond it.
pub(crate) const SCM_MAX_FD: usize = 253;

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

/// A control buffer aligned for `cmsghdr` (an array of `u64`), large enough for one
/// `SCM_RIGHTS` message of `nfds` descriptors; empty for none.
fn control_buffer(nfds: usize) -> Vec<u64> {
    if nfds == 0 {
        return Vec::new();
    }
    let payload = (nfds * mem::size_of::<libc::c_int>()) as u32;
    // SAFETY: CMSG_SPACE is arithmetic on its argument.
    let space = unsafe { libc::CMSG_SPACE(payload) } as usize;
    vec![0u64; space.div_ceil(mem::size_of::<u64>())]
}

/// sendmsg(2) of `data` with `fds` in one `SCM_RIGHTS` control message, to `addr` if given
/// (an unconnected datagram socket), with `MSG_NOSIGNAL`. Returns the bytes of `data` sent;
/// the descriptors travel with the first byte (a stream) or the datagram.
///
/// # Errors
/// `InvalidInput` for more than [`SCM_MAX_FD`] descriptors; the sendmsg(2) error.
///
/// # References
/// sendmsg(2), cmsg(3), unix(7) (`SCM_RIGHTS`)
pub(crate) fn send_with_fds(
    fd: BorrowedFd<'_>,
    data: &[u8],
    fds: &[BorrowedFd<'_>],
    addr: Option<&SockAddr>,
) -> io::Result<usize> {
    if fds.len() > SCM_MAX_FD {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("{} descriptors in one message: the kernel takes at most {SCM_MAX_FD}", fds.len()),
        ));
    }
    let mut control = control_buffer(fds.len());
    let mut iov = libc::iovec { iov_base: data.as_ptr() as *mut libc::c_void, iov_len: data.len() };
    // SAFETY: msghdr is plain data; all-zero is a valid empty header.
    let mut msg: libc::msghdr = unsafe { mem::zeroed() };
    msg.msg_iov = &mut iov;
    msg.msg_iovlen = 1;
    if let Some(addr) = addr {
        msg.msg_name = addr.as_ptr() as *mut libc::c_void;
        msg.msg_namelen = addr.len();
    }
    if !fds.is_empty() {
        msg.msg_control = control.as_mut_ptr().cast();
        msg.msg_controllen = (control.len() * mem::size_of::<u64>()) as _;
        write_rights(&msg, fds.iter().map(|fd| fd.as_raw_fd()), fds.len());
    }
    // SAFETY: `msg` points at `iov` (over `data`), the optional address and the control
    // buffer, all alive for the call; sendmsg(2) only reads them.
    let n = cvt(unsafe { libc::sendmsg(fd.as_raw_fd(), &msg, libc::MSG_NOSIGNAL) })?;
    Ok(n as usize)
}

/// What [`recv_with_fds`] received.
#[derive(Debug)]
pub(crate) struct Received {
    /// Bytes written to the buffer.
    pub(crate) len: usize,
    /// The descriptors, close-on-exec, in the order sent.
    pub(crate) fds: Vec<OwnedFd>,
}

/// recvmsg(2) into `buf` with room for up to `max_fds` (at most [`SCM_MAX_FD`]) passed
/// descriptors, with `MSG_CMSG_CLOEXEC`.
///
/// Every descriptor the kernel installed is owned by the result at once, so on every error
/// path after recvmsg(2) (a truncated control message) they are closed, never leaked.
/// Control messages other than `SCM_RIGHTS` (`SCM_CREDENTIALS`) are ignored.
///
/// # Errors
/// The recvmsg(2) error; `InvalidData` if the control message was truncated (`MSG_CTRUNC`:
/// the sender passed more than `max_fds` descriptors): the descriptors that did arrive are
/// closed and the message's bytes are consumed.
///
/// # References
/// recvmsg(2), cmsg(3), unix(7) (`SCM_RIGHTS`)
pub(crate) fn recv_with_fds(fd: BorrowedFd<'_>, buf: &mut [u8], max_fds: usize) -> io::Result<Received> {
    let max_fds = max_fds.min(SCM_MAX_FD);
    let mut control = control_buffer(max_fds);
    let mut iov = libc::iovec { iov_base: buf.as_mut_ptr().cast(), iov_len: buf.len() };
    // SAFETY: msghdr is plain data; all-zero is a valid empty header (no address wanted).
    let mut msg: libc::msghdr = unsafe { mem::zeroed() };
    msg.msg_iov = &mut iov;
    msg.msg_iovlen = 1;
    if !control.is_empty() {
        msg.msg_control = control.as_mut_ptr().cast();
        msg.msg_controllen = (control.len() * mem::size_of::<u64>()) as _;
    }
    // SAFETY: recvmsg(2) writes at most `iov_len` bytes into `buf` and at most
    // `msg_controllen` bytes into `control`, both alive and exclusively borrowed for the call.
    let n = cvt(unsafe { libc::recvmsg(fd.as_raw_fd(), &mut msg, super::MSG_CMSG_CLOEXEC) })? as usize;
    take_rights(&msg, n, max_fds).map(|fds| Received { len: n, fds })
}

/// Fills the control buffer `msg` points at with one `SCM_RIGHTS` message of the `n`
/// descriptors `fds`. The buffer must come from [`control_buffer`]`(n)`.
fn write_rights(msg: &libc::msghdr, fds: impl Iterator<Item = libc::c_int>, n: usize) {
    let payload = (n * mem::size_of::<libc::c_int>()) as u32;
    // SAFETY: the control buffer `msg` describes is aligned for cmsghdr and holds
    // CMSG_SPACE(payload) bytes (see `control_buffer`), so the first header and its data fit;
    // the data is written unaligned, as cmsg(3) recommends, and at most `n` descriptors.
    unsafe {
        let cmsg = libc::CMSG_FIRSTHDR(msg);
        (*cmsg).cmsg_level = libc::SOL_SOCKET;
        (*cmsg).cmsg_type = libc::SCM_RIGHTS;
        (*cmsg).cmsg_len = libc::CMSG_LEN(payload) as _;
        let data = libc::CMSG_DATA(cmsg).cast::<libc::c_int>();
        for (i, fd) in fds.take(n).enumerate() {
            data.add(i).write_unaligned(fd);
        }
    }
}

/// After a recvmsg(2) of `n` bytes into `msg` (by the system call or an io_uring
/// completion): takes ownership of every descriptor the kernel installed (`SCM_RIGHTS`), then
/// checks for a truncated control message.
///
/// # Errors
/// `InvalidData` on `MSG_CTRUNC`: the descriptors that arrived are closed.
fn take_rights(msg: &libc::msghdr, n: usize, max_fds: usize) -> io::Result<Vec<OwnedFd>> {
    let mut fds = Vec::new();
    if !msg.msg_control.is_null() && msg.msg_controllen > 0 {
        // SAFETY: `msg` describes its control buffer as the kernel filled it (`msg_controllen`
        // was updated to the bytes written); CMSG_FIRSTHDR/CMSG_NXTHDR stay inside it, and
        // each SCM_RIGHTS payload holds `(cmsg_len - CMSG_LEN(0)) / sizeof(int)` descriptors
        // that the kernel just installed in this process and nobody else owns, read unaligned.
        unsafe {
            let mut cmsg = libc::CMSG_FIRSTHDR(msg);
            while !cmsg.is_null() {
                if (*cmsg).cmsg_level == libc::SOL_SOCKET && (*cmsg).cmsg_type == libc::SCM_RIGHTS {
                    let payload = (*cmsg).cmsg_len as usize - libc::CMSG_LEN(0) as usize;
                    let data = libc::CMSG_DATA(cmsg).cast::<libc::c_int>();
                    for i in 0..payload / mem::size_of::<libc::c_int>() {
                        fds.push(OwnedFd::from_raw_fd(data.add(i).read_unaligned()));
                    }
                }
                cmsg = libc::CMSG_NXTHDR(msg, cmsg);
            }
        }
    }
    for fd in &fds {
        super::received_cloexec(fd.as_fd())?;
    }
    if msg.msg_flags & libc::MSG_CTRUNC != 0 {
        let arrived = fds.len();
        drop(fds); // closes what did arrive
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!(
                "control message truncated (MSG_CTRUNC): the sender passed more descriptors than \
                 the {max_fds} asked for; the {arrived} that arrived were closed and the message's \
                 {n} bytes are consumed"
            ),
        ));
    }
    Ok(fds)
}

/// A message for sendmsg(2)/recvmsg(2) that owns all of its memory, each part on the heap at
/// an address that does not change when the value moves: the header, its one `iovec`, the
/// data, the control buffer and, for a send, duplicates of the descriptors it passes.
///
/// This is what `IORING_OP_SENDMSG`/`IORING_OP_RECVMSG` need: the kernel reads the header
/// when it prepares the request, then reads or writes the data and the control buffer (and,
/// for a receive, the header's `msg_controllen` and `msg_flags`) whenever it runs it, after
/// the submission; and it looks the passed descriptors up by number only then, so the
/// message keeps its own copies open rather than trust the caller's numbers to stay valid.
pub(crate) struct Msg {
    hdr: Box<libc::msghdr>,
    // Pointed to by `hdr` (one entry; a `Vec` rather than a `Box`, whose moves would assert
    // uniqueness over memory the header points to): kept only to own the memory.
    _iov: Vec<libc::iovec>,
    data: Vec<u8>,
    control: Vec<u64>,
    /// The descriptors whose numbers the control message carries (a send).
    _fds: Vec<OwnedFd>,
    /// Descriptors the receive may take (a receive), for the error message.
    max_fds: usize,
}

// SAFETY: the raw pointers in `hdr` and `_iov` point only into heap memory that `Msg` owns
// (no thread-local or shared state), so moving the value to another thread moves that memory
// with it; `&Msg` gives no access that could race.
unsafe impl Send for Msg {}

impl Msg {
    fn new(mut data: Vec<u8>, mut control: Vec<u64>, fds: Vec<OwnedFd>, max_fds: usize) -> Msg {
        let mut iov = vec![libc::iovec { iov_base: data.as_mut_ptr().cast(), iov_len: data.len() }];
        // SAFETY: msghdr is plain data; all-zero is a valid empty header (no address).
        let mut hdr: Box<libc::msghdr> = Box::new(unsafe { mem::zeroed() });
        hdr.msg_iov = iov.as_mut_ptr();
        hdr.msg_iovlen = 1;
        if !control.is_empty() {
            hdr.msg_control = control.as_mut_ptr().cast();
            hdr.msg_controllen = (control.len() * mem::size_of::<u64>()) as _;
        }
        Msg { hdr, _iov: iov, data, control, _fds: fds, max_fds }
    }

    /// A message of a copy of `data` passing duplicates (close-on-exec) of `fds` in one
    /// `SCM_RIGHTS` control message.
    ///
    /// # Errors
    /// `InvalidInput` for more than [`SCM_MAX_FD`] descriptors; the fcntl(2) error of a
    /// duplication (`EMFILE`).
    pub(crate) fn send(data: &[u8], fds: &[BorrowedFd<'_>]) -> io::Result<Msg> {
        if fds.len() > SCM_MAX_FD {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("{} descriptors in one message: the kernel takes at most {SCM_MAX_FD}", fds.len()),
            ));
        }
        let owned = fds.iter().map(|fd| super::dup_at_least(*fd, 0)).collect::<io::Result<Vec<_>>>()?;
        let msg = Msg::new(data.to_vec(), control_buffer(owned.len()), Vec::new(), 0);
        if !owned.is_empty() {
            write_rights(&msg.hdr, owned.iter().map(|fd| fd.as_raw_fd()), owned.len());
        }
        Ok(Msg { _fds: owned, ..msg })
    }

    /// A message to receive up to `len` bytes and up to `max_fds` (at most [`SCM_MAX_FD`])
    /// descriptors into.
    pub(crate) fn recv(len: usize, max_fds: usize) -> Msg {
        let max_fds = max_fds.min(SCM_MAX_FD);
        Msg::new(vec![0; len], control_buffer(max_fds), Vec::new(), max_fds)
    }

    /// The header, for an io_uring entry: valid for as long as the message lives.
    #[cfg(target_os = "linux")]
    pub(crate) fn as_mut_ptr(&mut self) -> *mut libc::msghdr {
        &mut *self.hdr
    }

    /// sendmsg(2) of the message on `fd`, with `MSG_NOSIGNAL`.
    pub(crate) fn sendmsg(&self, fd: BorrowedFd<'_>) -> io::Result<usize> {
        // SAFETY: the header points at memory the message owns; sendmsg(2) only reads it.
        let n = cvt(unsafe { libc::sendmsg(fd.as_raw_fd(), &*self.hdr, libc::MSG_NOSIGNAL) })?;
        Ok(n as usize)
    }

    /// recvmsg(2) into the message from `fd`, with `MSG_CMSG_CLOEXEC`; then see
    /// [`received`](Msg::received).
    pub(crate) fn recvmsg(&mut self, fd: BorrowedFd<'_>) -> io::Result<usize> {
        // SAFETY: the header points at the message's data and control buffers, which
        // recvmsg(2) writes within the lengths the header gives.
        let n = cvt(unsafe { libc::recvmsg(fd.as_raw_fd(), &mut *self.hdr, super::MSG_CMSG_CLOEXEC) })?;
        Ok(n as usize)
    }

    /// After a receive of `n` bytes (recvmsg(2) or an `IORING_OP_RECVMSG` completion): the
    /// descriptors that arrived, owned (so closed if dropped), in the order sent.
    ///
    /// # Errors
    /// `InvalidData` on a truncated control message: those that arrived are closed.
    pub(crate) fn received(&mut self, n: usize) -> io::Result<Vec<OwnedFd>> {
        let fds = take_rights(&self.hdr, n, self.max_fds);
        // Taken once: a second call must not own the same numbers again.
        self.hdr.msg_controllen = 0;
        fds
    }

    /// The data buffer (its first `n` bytes after a receive of `n`).
    pub(crate) fn data(&self) -> &[u8] {
        &self.data
    }
}

impl std::fmt::Debug for Msg {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Msg")
            .field("len", &self.data.len())
            .field("control", &(self.control.len() * mem::size_of::<u64>()))
            .finish_non_exhaustive()
    }
}
