//! Linux-only system calls: pidfds, waitid(P_PIDFD), signalfd, eventfd, splice and tee,
//! io_uring_enter, CPU affinity, pipe sizes, and the clone3 spawn path. The rest of the
//! runtime reaches them through the names `sys` re-exports (see [`super`]).

pub(crate) mod clone3;
mod spawn;

pub(crate) use spawn::spawn_native;

use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};

use super::{cvt, cvt_retry, WaitInfo};

// The process descriptor of a child, under the names the process layer uses on every Unix:
// here a pidfd (readable once the child has exited), waited for with waitid(P_PIDFD), which
// cannot name a recycled pid. The pid argument is unused.

/// A descriptor that becomes readable when child `pid` exits: its pidfd.
pub(crate) fn process_fd(pid: libc::pid_t) -> io::Result<OwnedFd> {
    pidfd_open(pid)
}

/// Reaps the child of `procfd` if it has exited (`Ok(None)` while it runs).
pub(crate) fn try_reap(procfd: BorrowedFd<'_>, _pid: libc::pid_t) -> io::Result<Option<WaitInfo>> {
    waitid_pidfd(procfd)
}

/// The child's next stop or continue, consumed once; never reaps.
pub(crate) fn try_wait_change(procfd: BorrowedFd<'_>, _pid: libc::pid_t) -> io::Result<Option<WaitInfo>> {
    waitid_pidfd_change(procfd)
}

/// Sends `sig` to the child through its pidfd (which cannot reach a recycled pid).
pub(crate) fn signal_process(procfd: BorrowedFd<'_>, _pid: libc::pid_t, sig: libc::c_int) -> io::Result<()> {
    pidfd_send_signal(procfd, sig)
}

/// `POLLRDHUP`: poll(2) reports the peer's shutdown of its writing side (Linux 2.6.17).
pub(crate) const POLL_RDHUP: libc::c_short = libc::POLLRDHUP;

/// The buffer a stat fills here: statx(2)'s, which io_uring's `STATX` writes too.
pub(crate) type StatBuf = libc::statx;

/// The flag that makes [`stat_at`] describe `dirfd` itself (an empty path).
pub(crate) const AT_EMPTY_PATH: libc::c_int = libc::AT_EMPTY_PATH;

/// What [`stat_at`] asks statx(2) for: the basic fields and the creation time.
pub(crate) const STATX_MASK: u32 = libc::STATX_BASIC_STATS | libc::STATX_BTIME;

/// statx(2) of `path` relative to `dirfd` with `flags` (`AT_SYMLINK_NOFOLLOW`,
/// [`AT_EMPTY_PATH`]).
pub(crate) fn stat_at(
    dirfd: RawFd,
    path: &std::ffi::CStr,
    flags: libc::c_int,
    buf: &mut StatBuf,
) -> io::Result<()> {
    cvt_retry(|| {
        // SAFETY: `path` is NUL-terminated and `buf` a valid, writable `statx`, both alive
        // for the whole call.
        unsafe { libc::statx(dirfd, path.as_ptr(), flags, STATX_MASK, buf) }
    })?;
    Ok(())
}

/// The fields of a filled `statx`.
pub(crate) fn stat_fields(st: &StatBuf) -> super::fs::FileStat {
    let t = |ts: &libc::statx_timestamp| (ts.tv_sec, ts.tv_nsec);
    super::fs::FileStat {
        mode: u32::from(st.stx_mode),
        len: st.stx_size,
        ino: st.stx_ino,
        dev: libc::makedev(st.stx_dev_major, st.stx_dev_minor),
        nlink: u64::from(st.stx_nlink),
        uid: st.stx_uid,
        gid: st.stx_gid,
        blksize: u64::from(st.stx_blksize),
        blocks: st.stx_blocks,
        accessed: t(&st.stx_atime),
        modified: t(&st.stx_mtime),
        changed: t(&st.stx_ctime),
        created: (st.stx_mask & libc::STATX_BTIME != 0).then(|| t(&st.stx_btime)),
    }
}

/// A new socket, close-on-exec and non-blocking from the start (`SOCK_CLOEXEC |
/// SOCK_NONBLOCK`).
pub(crate) fn nonblocking_socket(
    domain: socket2::Domain,
    ty: socket2::Type,
    protocol: Option<socket2::Protocol>,
) -> io::Result<socket2::Socket> {
    socket2::Socket::new(domain, ty.nonblocking(), protocol)
}

/// `recvmsg` flags that make received descriptors close-on-exec as they arrive.
pub(crate) const MSG_CMSG_CLOEXEC: libc::c_int = libc::MSG_CMSG_CLOEXEC;

/// Makes a received descriptor close-on-exec: already so here (`MSG_CMSG_CLOEXEC`).
pub(crate) fn received_cloexec(_fd: BorrowedFd<'_>) -> io::Result<()> {
    Ok(())
}

/// posix_spawn's flag for a new session (glibc 2.26).
pub(crate) const POSIX_SPAWN_SETSID: Option<libc::c_int> = Some(libc::POSIX_SPAWN_SETSID as libc::c_int);

/// Binds `sock` to a network interface (`SO_BINDTODEVICE`, socket(7)); `None` unbinds.
pub(crate) fn bind_device(sock: &socket2::Socket, interface: Option<&[u8]>) -> io::Result<()> {
    sock.bind_device(interface)
}

/// The interface `sock` is bound to (`SO_BINDTODEVICE`).
pub(crate) fn device(sock: &socket2::Socket) -> io::Result<Option<Vec<u8>>> {
    sock.device()
}

/// Accepts a connection on non-blocking listener `sock`: accept4(2) with `SOCK_CLOEXEC |
/// SOCK_NONBLOCK`, so the new socket is both from the start.
pub(crate) fn accept_nonblocking(sock: &socket2::Socket) -> io::Result<(socket2::Socket, socket2::SockAddr)> {
    sock.accept4(libc::SOCK_CLOEXEC | libc::SOCK_NONBLOCK)
}

/// The credentials of the peer of a connected Unix-domain socket, as they were when it
/// called connect(2) or socketpair(2): (pid, uid, gid), from `SO_PEERCRED` (unix(7)).
pub(crate) fn peer_cred(fd: BorrowedFd<'_>) -> io::Result<(libc::pid_t, libc::uid_t, libc::gid_t)> {
    let mut cred = libc::ucred { pid: 0, uid: 0, gid: 0 };
    let mut len = std::mem::size_of::<libc::ucred>() as libc::socklen_t;
    // SAFETY: `cred` is a writable `ucred` of `len` bytes, the size SO_PEERCRED fills.
    cvt(unsafe {
        libc::getsockopt(
            fd.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_PEERCRED,
            (&mut cred as *mut libc::ucred).cast(),
            &mut len,
        )
    })?;
    Ok((cred.pid, cred.uid, cred.gid))
}

/// The names of the signals only Linux has.
pub(crate) fn os_signal_name(signo: libc::c_int) -> Option<&'static str> {
    match signo {
        libc::SIGSTKFLT => Some("SIGSTKFLT"),
        libc::SIGPWR => Some("SIGPWR"),
        _ => None,
    }
}

/// Blocks every signal in `set` in the calling thread (`pthread_sigmask(SIG_BLOCK)`).
pub(crate) fn block_signals(set: &libc::sigset_t) -> io::Result<()> {
    // SAFETY: `set` points to an initialised sigset_t; the old set is not requested.
    let rc = unsafe { libc::pthread_sigmask(libc::SIG_BLOCK, set, std::ptr::null_mut()) };
    if rc != 0 {
        return Err(io::Error::from_raw_os_error(rc));
    }
    Ok(())
}

/// A signalfd(2) whose mask grows as signals are listened for: where the driver reads the
/// deliveries of signals every thread blocks.
#[derive(Debug)]
pub(crate) struct SignalFd {
    fd: OwnedFd,
}

impl SignalFd {
    /// # Errors
    /// The signalfd(2) error (`EMFILE`...).
    pub(crate) fn new(mask: &libc::sigset_t) -> io::Result<SignalFd> {
        Ok(SignalFd { fd: signalfd_new(mask)? })
    }

    /// The descriptor the driver polls.
    pub(crate) fn fd(&self) -> Option<RawFd> {
        Some(self.fd.as_raw_fd())
    }

    /// Starts reading `signo`: blocks it in the calling thread (so it is delivered to the
    /// signalfd rather than to a handler there) and makes `mask` (which holds it) the
    /// signalfd's mask.
    pub(crate) fn listen(&self, signo: libc::c_int, mask: &libc::sigset_t) -> io::Result<()> {
        let mut one = super::empty_sigset();
        super::sigaddset(&mut one, signo)?;
        block_signals(&one)?;
        signalfd_set_mask(self.fd.as_fd(), mask)
    }

    /// Reads every pending `signalfd_siginfo` and calls `delivered(signo)` for each.
    pub(crate) fn read_deliveries(&self, mut delivered: impl FnMut(libc::c_int)) {
        const INFO: usize = std::mem::size_of::<libc::signalfd_siginfo>();
        let mut buf = [0u8; INFO * 16];
        loop {
            let n = match super::read(self.fd.as_fd(), &mut buf) {
                Ok(n) if n >= INFO => n,
                _ => break,
            };
            for chunk in buf[..n].chunks_exact(INFO) {
                // ssi_signo is the first field, a u32 in native byte order.
                delivered(u32::from_ne_bytes([chunk[0], chunk[1], chunk[2], chunk[3]]) as libc::c_int);
            }
        }
    }
}

/// Unix sockets can have abstract names (a leading NUL byte: unix(7)).
pub(crate) const ABSTRACT_UNIX_NAMES: bool = true;

/// A descriptor that other threads, and signal handlers, make readable to wake whoever polls
/// it: here one eventfd (eventfd(2)), non-blocking and close-on-exec, written and read 8
/// bytes at a time.
#[derive(Debug)]
pub(crate) struct Notifier {
    fd: OwnedFd,
}

impl Notifier {
    /// # Errors
    /// The eventfd(2) error (`EMFILE`...).
    pub(crate) fn new() -> io::Result<Notifier> {
        Ok(Notifier { fd: eventfd()? })
    }

    /// The descriptor to poll: readable once notified, until drained.
    pub(crate) fn fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }

    /// The descriptor [`notify_raw`] writes to (the same eventfd).
    pub(crate) fn write_fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }

    /// Makes the descriptor readable (a full counter, `EAGAIN`, is readable already).
    pub(crate) fn notify(&self) {
        notify_raw(self.write_fd());
    }

    /// Consumes every notification so far.
    pub(crate) fn drain(&self) {
        let mut buf = [0u8; 8];
        let _ = super::read(self.fd.as_fd(), &mut buf);
    }
}

/// Notifies the [`Notifier`] whose [`write_fd`](Notifier::write_fd) is `fd`. Async-signal-safe
/// (one write(2)).
pub(crate) fn notify_raw(fd: RawFd) {
    let one: u64 = 1;
    // SAFETY: write(2) is async-signal-safe; `one` is a valid 8-byte buffer; the caller
    // keeps `fd` open (the notifiers of signal handlers are never closed).
    unsafe { libc::write(fd, (&one as *const u64).cast(), 8) };
}

/// Whether the kernel reports readiness for `fd`'s file (see [`epoll_accepts`]).
pub(crate) fn can_poll(fd: BorrowedFd<'_>) -> io::Result<bool> {
    epoll_accepts(fd)
}

/// posix_spawn's file actions for "close every descriptor from 6 up": glibc's
/// `posix_spawn_file_actions_addclosefrom_np` (2.34). The spawn attributes' flags and the image
/// are not needed here (macOS needs them).
pub(crate) fn spawn_close_from_6(
    actions: &mut libc::posix_spawn_file_actions_t,
    _flags: &mut libc::c_int,
    _image: &super::spawn::ExecImage,
) -> io::Result<()> {
    // SAFETY: `actions` is initialised (the caller's).
    super::spawn::check(unsafe { libc::posix_spawn_file_actions_addclosefrom_np(actions, 6) })
}

/// posix_spawn's file action changing the working directory: glibc's
/// `posix_spawn_file_actions_addchdir_np` (2.29).
pub(crate) fn spawn_chdir(
    actions: &mut libc::posix_spawn_file_actions_t,
    dir: &std::ffi::CStr,
) -> io::Result<()> {
    // SAFETY: `actions` is initialised; glibc copies the string.
    super::spawn::check(unsafe { libc::posix_spawn_file_actions_addchdir_np(actions, dir.as_ptr()) })
}

/// pipe2(2): a pipe created with `flags` (`O_CLOEXEC`, `O_NONBLOCK`) in one call. Returns
/// `(read, write)`.
pub(crate) fn pipe2(flags: libc::c_int) -> io::Result<(OwnedFd, OwnedFd)> {
    let mut fds = [0 as libc::c_int; 2];
    // SAFETY: `fds` is a valid, writable array of two ints as pipe2(2) requires.
    cvt(unsafe { libc::pipe2(fds.as_mut_ptr(), flags) })?;
    // SAFETY: pipe2 succeeded, so both descriptors are open and owned by nobody else.
    Ok(unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) })
}

/// Whether epoll(7) accepts `fd`, that is whether the kernel can report readiness for its
/// file (the file has a `poll` method): true for pipes, sockets, terminals, eventfds and
/// pidfds; false (`EPERM`) for regular files, directories and devices such as `/dev/null`,
/// which are always ready. Asked of a scratch epoll instance, closed on return.
///
/// # Errors
/// `EBADF` if `fd` was opened with `O_PATH`; `EMFILE`/`ENOMEM` from epoll_create1(2).
///
/// # References
/// epoll_ctl(2) (`EPERM`), epoll_create1(2)
fn epoll_accepts(fd: BorrowedFd<'_>) -> io::Result<bool> {
    // SAFETY: epoll_create1 takes only flags.
    let ep = cvt(unsafe { libc::epoll_create1(libc::EPOLL_CLOEXEC) })?;
    // SAFETY: the descriptor is fresh and owned by nobody else; closing it removes `fd`.
    let ep = unsafe { OwnedFd::from_raw_fd(ep) };
    let mut ev = libc::epoll_event { events: 0, u64: 0 };
    // SAFETY: `ev` is a valid epoll_event for the call; the kernel copies it.
    match cvt(unsafe { libc::epoll_ctl(ep.as_raw_fd(), libc::EPOLL_CTL_ADD, fd.as_raw_fd(), &mut ev) }) {
        Ok(_) => Ok(true),
        Err(e) if e.raw_os_error() == Some(libc::EPERM) => Ok(false),
        Err(e) => Err(e),
    }
}

/// Asks the kernel for a pipe buffer of at least `bytes` bytes (`F_SETPIPE_SZ`). Returns the
/// size granted. Unprivileged processes are capped by `/proc/sys/fs/pipe-max-size`.
pub(crate) fn set_pipe_size(fd: BorrowedFd<'_>, bytes: usize) -> io::Result<usize> {
    let bytes = libc::c_int::try_from(bytes).unwrap_or(libc::c_int::MAX);
    // SAFETY: F_SETPIPE_SZ takes an int; `fd` is valid for the borrow.
    let got = cvt(unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_SETPIPE_SZ, bytes) })?;
    Ok(got as usize)
}

/// The size of a pipe's buffer in bytes (`F_GETPIPE_SZ`).
pub(crate) fn pipe_size(fd: BorrowedFd<'_>) -> io::Result<usize> {
    // SAFETY: F_GETPIPE_SZ takes no argument; `fd` is valid for the borrow.
    let got = cvt(unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_GETPIPE_SZ) })?;
    Ok(got as usize)
}

/// `pidfd_open(pid, 0)`: a descriptor that refers to the process itself, not to its number,
/// so it can never name a recycled pid. Always close-on-exec. Linux 5.3+.
fn pidfd_open(pid: libc::pid_t) -> io::Result<OwnedFd> {
    // SAFETY: pidfd_open takes a pid and flags and returns a new descriptor or -1.
    let fd = cvt(unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) })?;
    // SAFETY: the kernel returned a fresh descriptor that nobody else owns.
    Ok(unsafe { OwnedFd::from_raw_fd(fd as RawFd) })
}

/// `pidfd_send_signal(pidfd, sig, NULL, 0)`. Linux 5.1+.
fn pidfd_send_signal(pidfd: BorrowedFd<'_>, sig: libc::c_int) -> io::Result<()> {
    // SAFETY: a NULL siginfo means "as kill(2) would"; flags must be 0.
    cvt(unsafe {
        libc::syscall(
            libc::SYS_pidfd_send_signal,
            pidfd.as_raw_fd(),
            sig,
            std::ptr::null::<libc::siginfo_t>(),
            0,
        )
    })?;
    Ok(())
}

/// `waitid(P_PIDFD, pidfd, WEXITED | WNOHANG)`: reaps the child if it has exited.
/// Returns `Ok(None)` while it is still running. Linux 5.4+.
fn waitid_pidfd(pidfd: BorrowedFd<'_>) -> io::Result<Option<WaitInfo>> {
    super::waitid_nohang(libc::P_PIDFD, pidfd.as_raw_fd() as libc::id_t, libc::WEXITED)
}

/// `waitid(P_PIDFD, pidfd, WSTOPPED | WCONTINUED | WNOHANG)`: the child's next stop or
/// continue, consumed once. Never reaps (no `WEXITED`). `Ok(None)` when there is none.
fn waitid_pidfd_change(pidfd: BorrowedFd<'_>) -> io::Result<Option<WaitInfo>> {
    let fd = pidfd.as_raw_fd() as libc::id_t;
    super::no_change_on_echild(super::waitid_nohang(libc::P_PIDFD, fd, libc::WSTOPPED | libc::WCONTINUED))
}

/// `waitid(P_PIDFD, pidfd, WEXITED)`: waits for the child to exit and reaps it. Only for a
/// child known to have exited or to exit at once (a spawn whose child failed).
pub(crate) fn waitid_pidfd_blocking(pidfd: BorrowedFd<'_>) -> io::Result<()> {
    // SAFETY: siginfo_t is plain old data; all-zero is a valid value.
    let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
    cvt_retry(|| {
        // SAFETY: `info` is a valid, writable siginfo_t for the call.
        unsafe { libc::waitid(libc::P_PIDFD, pidfd.as_raw_fd() as libc::id_t, &mut info, libc::WEXITED) }
    })?;
    Ok(())
}

/// Faults in, writable, the pages of the first `ahead` bytes of `buf`'s spare capacity
/// (`MADV_POPULATE_WRITE`, Linux 5.14), so that a read(2) into them does not take a page
/// fault per 4 KiB with the pipe's lock held: a writer on the other end would spin on that
/// lock meanwhile (`mutex_spin_on_owner`), and fresh memory faults a lot on a large read to
/// end. A no-op on kernels without it (remembered) and for spare room under 64 KiB.
///
/// # References
/// madvise(2) `MADV_POPULATE_WRITE`
pub(crate) fn prefault_spare(buf: &mut Vec<u8>, ahead: usize) {
    use std::sync::atomic::{AtomicBool, Ordering};
    const MADV_POPULATE_WRITE: libc::c_int = 23;
    static UNSUPPORTED: AtomicBool = AtomicBool::new(false);
    let spare = buf.capacity() - buf.len();
    if spare < 64 * 1024 || UNSUPPORTED.load(Ordering::Relaxed) {
        return;
    }
    let page = 4096usize;
    let from = buf.as_mut_ptr() as usize + buf.len();
    let start = from & !(page - 1);
    let end = from + spare.min(ahead);
    // SAFETY: the range lies in pages of `buf`'s own allocation (the first one rounded down
    // to its page, which is mapped and writable like the rest); MADV_POPULATE_WRITE only
    // faults pages in and never changes their contents.
    let rc = unsafe { libc::madvise(start as *mut libc::c_void, end - start, MADV_POPULATE_WRITE) };
    if rc != 0 && io::Error::last_os_error().raw_os_error() == Some(libc::EINVAL) {
        UNSUPPORTED.store(true, Ordering::Relaxed);
    }
}

/// `splice(2)` of up to `len` bytes from `src` to `dst` (one of them must be a pipe), with
/// `SPLICE_F_NONBLOCK | SPLICE_F_MOVE`; `Ok(0)` at end of input. Retries `EINTR`.
pub(crate) fn splice(src: BorrowedFd<'_>, dst: BorrowedFd<'_>, len: usize) -> io::Result<usize> {
    let flags = libc::SPLICE_F_NONBLOCK | libc::SPLICE_F_MOVE;
    let n = cvt_retry(|| {
        // SAFETY: NULL offsets mean "use and update the file positions"; no user memory is
        // passed to the kernel.
        unsafe {
            libc::splice(
                src.as_raw_fd(),
                std::ptr::null_mut(),
                dst.as_raw_fd(),
                std::ptr::null_mut(),
                len,
                flags,
            )
        }
    })?;
    Ok(n as usize)
}

/// `tee(2)` of up to `len` bytes from pipe `src` to pipe `dst`, with `SPLICE_F_NONBLOCK`:
/// the bytes are duplicated into `dst` and stay in `src`. `Ok(0)` at end of input. Retries
/// `EINTR`.
pub(crate) fn tee(src: BorrowedFd<'_>, dst: BorrowedFd<'_>, len: usize) -> io::Result<usize> {
    let n = cvt_retry(|| {
        // SAFETY: plain descriptors and integers; no user memory is passed to the kernel.
        unsafe { libc::tee(src.as_raw_fd(), dst.as_raw_fd(), len, libc::SPLICE_F_NONBLOCK) }
    })?;
    Ok(n as usize)
}

/// Creates an eventfd (counter 0, close-on-exec, non-blocking).
///
/// # References
/// eventfd(2)
pub(crate) fn eventfd() -> io::Result<OwnedFd> {
    // SAFETY: eventfd takes an initial value and flags.
    let fd = cvt(unsafe { libc::eventfd(0, libc::EFD_CLOEXEC | libc::EFD_NONBLOCK) })?;
    // SAFETY: a fresh descriptor that nobody else owns.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// Creates a signalfd for `mask` (non-blocking, close-on-exec).
///
/// # References
/// signalfd(2)
fn signalfd_new(mask: &libc::sigset_t) -> io::Result<OwnedFd> {
    // SAFETY: -1 asks for a new descriptor; `mask` is an initialised sigset_t.
    let fd = cvt(unsafe { libc::signalfd(-1, mask, libc::SFD_NONBLOCK | libc::SFD_CLOEXEC) })?;
    // SAFETY: fresh descriptor owned by nobody else.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// Replaces the mask of an existing signalfd.
fn signalfd_set_mask(fd: BorrowedFd<'_>, mask: &libc::sigset_t) -> io::Result<()> {
    // SAFETY: `fd` is a signalfd and `mask` an initialised sigset_t.
    cvt(unsafe { libc::signalfd(fd.as_raw_fd(), mask, 0) })?;
    Ok(())
}

/// `struct io_uring_getevents_arg` (include/uapi/linux/io_uring.h).
#[repr(C)]
struct GeteventsArg {
    sigmask: u64,
    sigmask_sz: u32,
    min_wait_usec: u32,
    ts: u64,
}

/// `io_uring_enter(fd, to_submit, min_complete, IORING_ENTER_GETEVENTS [| EXT_ARG])`: submits
/// `to_submit` entries and waits for `min_complete` completions, for at most `timeout`
/// (`None`: no limit). Called without holding the lock that guards the submission ring, so
/// other threads can queue entries while this one sleeps; the kernel reads the ring's tail
/// atomically, and entries queued after `to_submit` was counted wait for the next call.
///
/// # Errors
/// `ETIME` when the timeout expires, `EINTR` on a signal, `EBUSY` when the completion ring
/// is full (io_uring_enter(2)).
pub(crate) fn io_uring_enter(
    ring: RawFd,
    to_submit: u32,
    min_complete: u32,
    timeout: Option<std::time::Duration>,
) -> io::Result<u32> {
    const GETEVENTS: libc::c_uint = 1;
    const EXT_ARG: libc::c_uint = 1 << 3;
    let ts = timeout.map(|t| libc::timespec {
        tv_sec: t.as_secs().min(i64::MAX as u64) as libc::time_t,
        tv_nsec: t.subsec_nanos() as libc::c_long,
    });
    let arg = GeteventsArg {
        sigmask: 0,
        sigmask_sz: 0,
        min_wait_usec: 0,
        ts: ts.as_ref().map_or(0, |ts| ts as *const libc::timespec as u64),
    };
    let (flags, argp, argsz) = match ts {
        Some(_) => {
            (GETEVENTS | EXT_ARG, &arg as *const GeteventsArg as usize, std::mem::size_of::<GeteventsArg>())
        }
        None => (GETEVENTS, 0, 0),
    };
    // SAFETY: `ring` is an io_uring descriptor owned by the caller; `arg` and `ts` outlive
    // the call; the submission ring's entries point only to memory kept alive until their
    // completions (the driver's contract).
    let ret =
        unsafe { libc::syscall(libc::SYS_io_uring_enter, ring, to_submit, min_complete, flags, argp, argsz) };
    if ret < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(ret as u32)
    }
}

/// The CPUs this thread may run on (its affinity mask), in ascending order; empty if the
/// mask cannot be read.
///
/// # References
/// sched_getaffinity(2), CPU_SET(3)
pub(crate) fn allowed_cpus() -> Vec<usize> {
    // SAFETY: an all-zero cpu_set_t is a valid (empty) set.
    let mut set: libc::cpu_set_t = unsafe { std::mem::zeroed() };
    // SAFETY: `set` is a valid cpu_set_t of the size passed; pid 0 is the calling thread.
    let ret = unsafe { libc::sched_getaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &mut set) };
    if ret != 0 {
        return Vec::new();
    }
    let max = 8 * std::mem::size_of::<libc::cpu_set_t>();
    // SAFETY: CPU_ISSET reads the set within its size (`cpu` < CPU_SETSIZE).
    (0..max).filter(|&cpu| unsafe { libc::CPU_ISSET(cpu, &set) }).collect()
}

/// Pins the calling thread to one CPU.
///
/// # Errors
/// `EINVAL` if the CPU is offline or outside the process's cpuset (sched_setaffinity(2)).
pub(crate) fn pin_to_cpu(cpu: usize) -> io::Result<()> {
    // SAFETY: an all-zero cpu_set_t is a valid (empty) set.
    let mut set: libc::cpu_set_t = unsafe { std::mem::zeroed() };
    if cpu >= 8 * std::mem::size_of::<libc::cpu_set_t>() {
        return Err(io::Error::from_raw_os_error(libc::EINVAL));
    }
    // SAFETY: `cpu` is below CPU_SETSIZE (checked above).
    unsafe { libc::CPU_SET(cpu, &mut set) };
    // SAFETY: `set` is a valid cpu_set_t of the size passed; pid 0 is the calling thread.
    cvt(unsafe { libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set) }).map(drop)
}
