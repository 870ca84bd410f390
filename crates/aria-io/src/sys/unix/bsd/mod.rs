//! macOS and FreeBSD: what they do differently from Linux, under the names the rest of the
//! runtime uses on every Unix (see [`super`]).
//!
//! - **Process descriptors.** Neither system gives a pidfd for a child started by
//!   posix_spawn(3), so each child gets a kqueue of its own watching it (`EVFILT_PROC` with
//!   `NOTE_EXIT`): a descriptor that becomes readable when the child exits, polled by the
//!   driver like any other (an `EVFILT_READ` on a kqueue reports its pending events, and
//!   poll(2) works on it too), so the process layer is the same as on Linux. The child is
//!   reaped with waitpid(2) on its pid, never `waitpid(-1)`: only this crate reaps its
//!   children, so the pid cannot be recycled before that. A child that exits before its
//!   kqueue is set up (`ESRCH`, or an immediate `NOTE_EXIT`) makes the kqueue readable at
//!   once through an `EVFILT_USER` event, as seed 000 section 4.2 asks.
//! - **Wake-ups.** No eventfd: a non-blocking pipe ([`Notifier`]).
//! - **Spawning.** posix_spawn only ([`spawn_native`] always hands over to it), closing every
//!   descriptor but the six standard ones with `POSIX_SPAWN_CLOEXEC_DEFAULT` on macOS and
//!   `posix_spawn_file_actions_addclosefrom_np` on FreeBSD 13.1+.
//!
//! # References
//! kqueue(2) and kevent(2) of macOS and FreeBSD (`EVFILT_PROC`, `NOTE_EXIT`, `EVFILT_USER`,
//! `NOTE_TRIGGER`), waitpid(2), waitid(2), posix_spawn(3) and
//! posix_spawn_file_actions_addinherit_np(3) of macOS, posix_spawn_file_actions_addclosefrom_np(3)
//! of FreeBSD, pipe(2), fcntl(2).

use std::ffi::CStr;
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};

use super::spawn::{check, ExecImage, Fallback, Mode, Spawned};
use super::{cvt, cvt_retry, WaitInfo};

/// A pipe whose two ends get `flags` (`O_CLOEXEC`, `O_NONBLOCK`). Returns `(read, write)`.
///
/// FreeBSD sets them atomically with pipe2(2). macOS has no pipe2: the flags are set with
/// fcntl(2) right after pipe(2). A child spawned by another thread in between cannot inherit
/// the ends, because every spawn on macOS uses `POSIX_SPAWN_CLOEXEC_DEFAULT`.
pub(crate) fn pipe2(flags: libc::c_int) -> io::Result<(OwnedFd, OwnedFd)> {
    let mut fds = [0 as libc::c_int; 2];
    #[cfg(target_os = "freebsd")]
    // SAFETY: `fds` is a valid, writable array of two ints as pipe2(2) requires.
    cvt(unsafe { libc::pipe2(fds.as_mut_ptr(), flags) })?;
    #[cfg(not(target_os = "freebsd"))]
    // SAFETY: `fds` is a valid, writable array of two ints as pipe(2) requires.
    cvt(unsafe { libc::pipe(fds.as_mut_ptr()) })?;
    // SAFETY: the pipe was created, so both descriptors are open and owned by nobody else.
    let (read, write) = unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
    if cfg!(not(target_os = "freebsd")) {
        for fd in [&read, &write] {
            if flags & libc::O_CLOEXEC != 0 {
                set_cloexec(fd.as_fd())?;
            }
            if flags & libc::O_NONBLOCK != 0 {
                super::set_nonblocking(fd.as_fd(), true)?;
            }
        }
    }
    Ok((read, write))
}

/// Sets `FD_CLOEXEC` on `fd`.
fn set_cloexec(fd: BorrowedFd<'_>) -> io::Result<()> {
    // SAFETY: F_SETFD takes an int of descriptor flags; `fd` is valid for the borrow.
    cvt(unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_SETFD, libc::FD_CLOEXEC) })?;
    Ok(())
}

/// An empty kevent.
fn kevent_zeroed() -> libc::kevent {
    // SAFETY: kevent is plain old data (integers and a pointer); all-zero is valid.
    unsafe { std::mem::zeroed() }
}

/// A new kqueue, close-on-exec.
///
/// # References
/// kqueue(2)
pub(crate) fn kqueue() -> io::Result<OwnedFd> {
    // SAFETY: kqueue takes no argument and returns a new descriptor or -1.
    let kq = cvt(unsafe { libc::kqueue() })?;
    // SAFETY: a fresh descriptor that nobody else owns.
    let kq = unsafe { OwnedFd::from_raw_fd(kq) };
    set_cloexec(kq.as_fd())?;
    Ok(kq)
}

/// Applies `changes` to kqueue `kq` without collecting events.
///
/// # Errors
/// The kevent(2) error of the first change that failed (`ESRCH` for a process that no longer
/// exists, `EBADF`, `ENOENT`...).
pub(crate) fn kevent_apply(kq: BorrowedFd<'_>, changes: &[libc::kevent]) -> io::Result<()> {
    cvt_retry(|| {
        // SAFETY: `changes` is a valid array of the length passed; no event list is given.
        unsafe {
            libc::kevent(
                kq.as_raw_fd(),
                changes.as_ptr(),
                changes.len() as libc::c_int,
                std::ptr::null_mut(),
                0,
                std::ptr::null(),
            )
        }
    })?;
    Ok(())
}

/// A descriptor that becomes readable when child `pid` exits: a kqueue of its own watching
/// it (see the module docs).
///
/// # Errors
/// kqueue(2) or kevent(2) errors (`EMFILE`...).
pub(crate) fn process_fd(pid: libc::pid_t) -> io::Result<OwnedFd> {
    let kq = kqueue()?;
    let mut exit = kevent_zeroed();
    exit.ident = pid as libc::uintptr_t;
    exit.filter = libc::EVFILT_PROC;
    exit.flags = libc::EV_ADD | libc::EV_CLEAR;
    exit.fflags = libc::NOTE_EXIT;
    match kevent_apply(kq.as_fd(), &[exit]) {
        Ok(()) => Ok(kq),
        // Already exited (a zombie, which some kernels refuse to watch): make the kqueue
        // readable now, so the first wait finds the exit with waitpid.
        Err(e) if e.raw_os_error() == Some(libc::ESRCH) => {
            let mut add = kevent_zeroed();
            add.filter = libc::EVFILT_USER;
            add.flags = libc::EV_ADD | libc::EV_CLEAR;
            let mut trigger = add;
            trigger.flags = 0;
            trigger.fflags = libc::NOTE_TRIGGER;
            kevent_apply(kq.as_fd(), &[add, trigger])?;
            Ok(kq)
        }
        Err(e) => Err(e),
    }
}

/// `waitpid(pid, WNOHANG)`: reaps child `pid` if it has exited (`Ok(None)` while it runs);
/// the process descriptor is not needed (see `super::pid_wait`).
pub(crate) fn try_reap(_procfd: BorrowedFd<'_>, pid: libc::pid_t) -> io::Result<Option<WaitInfo>> {
    super::pid_wait::reap_nohang(pid)
}

/// The child's next stop or continue, consumed once; never reaps (see `super::pid_wait`).
pub(crate) fn try_wait_change(_procfd: BorrowedFd<'_>, pid: libc::pid_t) -> io::Result<Option<WaitInfo>> {
    super::pid_wait::change_nohang(pid)
}

/// `kill(pid, sig)`: the pid is this process's unreaped child, so it names that child.
pub(crate) fn signal_process(_procfd: BorrowedFd<'_>, pid: libc::pid_t, sig: libc::c_int) -> io::Result<()> {
    // SAFETY: kill takes plain integers.
    cvt(unsafe { libc::kill(pid, sig) })?;
    Ok(())
}

/// No `POLLRDHUP` for poll(2) here: the peer's shutdown shows as readability (a read
/// returns 0).
pub(crate) const POLL_RDHUP: libc::c_short = 0;

/// The buffer a stat fills here: fstatat(2)'s `struct stat`.
pub(crate) type StatBuf = libc::stat;

/// The flag that makes [`stat_at`] describe `dirfd` itself (an empty path): a marker of this
/// crate, never passed to the kernel (macOS has no `AT_EMPTY_PATH`): [`stat_at`] calls
/// fstat(2) then.
pub(crate) const AT_EMPTY_PATH: libc::c_int = 1 << 30;

/// fstatat(2) of `path` relative to `dirfd` with `flags` (`AT_SYMLINK_NOFOLLOW`), or
/// fstat(2) of `dirfd` with [`AT_EMPTY_PATH`].
pub(crate) fn stat_at(dirfd: RawFd, path: &CStr, flags: libc::c_int, buf: &mut StatBuf) -> io::Result<()> {
    cvt_retry(|| {
        if flags & AT_EMPTY_PATH != 0 {
            // SAFETY: `buf` is a valid, writable `struct stat` for the call.
            unsafe { libc::fstat(dirfd, buf) }
        } else {
            // SAFETY: `path` is NUL-terminated and `buf` a valid, writable `struct stat`, both
            // alive for the whole call.
            unsafe { libc::fstatat(dirfd, path.as_ptr(), buf, flags) }
        }
    })?;
    Ok(())
}

/// The fields of a filled `struct stat` (the creation time is `st_birthtime`). The field
/// types differ between macOS and FreeBSD (`st_dev` is an `i32` on one, a `u64` on the
/// other), hence the casts, some of which are no-ops on one system.
#[allow(clippy::unnecessary_cast)]
pub(crate) fn stat_fields(st: &StatBuf) -> super::fs::FileStat {
    let t = |sec: libc::time_t, nsec: libc::c_long| (sec as i64, nsec as u32);
    super::fs::FileStat {
        mode: u32::from(st.st_mode),
        len: st.st_size as u64,
        ino: st.st_ino as u64,
        dev: st.st_dev as u64,
        nlink: st.st_nlink as u64,
        uid: st.st_uid,
        gid: st.st_gid,
        blksize: st.st_blksize as u64,
        blocks: st.st_blocks as u64,
        accessed: t(st.st_atime, st.st_atime_nsec),
        modified: t(st.st_mtime, st.st_mtime_nsec),
        changed: t(st.st_ctime, st.st_ctime_nsec),
        created: Some(t(st.st_birthtime, st.st_birthtime_nsec)),
    }
}

/// A new socket, close-on-exec and non-blocking: `SOCK_CLOEXEC | SOCK_NONBLOCK` on FreeBSD;
/// on macOS, which has neither flag, socket2 sets close-on-exec (and `SO_NOSIGPIPE`) and
/// `O_NONBLOCK` follows.
pub(crate) fn nonblocking_socket(
    domain: socket2::Domain,
    ty: socket2::Type,
    protocol: Option<socket2::Protocol>,
) -> io::Result<socket2::Socket> {
    #[cfg(target_os = "freebsd")]
    return socket2::Socket::new(domain, ty.nonblocking(), protocol);
    #[cfg(not(target_os = "freebsd"))]
    {
        let sock = socket2::Socket::new(domain, ty, protocol)?;
        sock.set_nonblocking(true)?;
        Ok(sock)
    }
}

/// `recvmsg` flags that make received descriptors close-on-exec as they arrive: FreeBSD's
/// `MSG_CMSG_CLOEXEC`; macOS has none (see [`received_cloexec`]).
#[cfg(target_os = "freebsd")]
pub(crate) const MSG_CMSG_CLOEXEC: libc::c_int = libc::MSG_CMSG_CLOEXEC;
/// `recvmsg` flags that make received descriptors close-on-exec as they arrive: FreeBSD's
/// `MSG_CMSG_CLOEXEC`; macOS has none (see [`received_cloexec`]).
#[cfg(not(target_os = "freebsd"))]
pub(crate) const MSG_CMSG_CLOEXEC: libc::c_int = 0;

/// Makes a received descriptor close-on-exec: on macOS right after recvmsg(2) (no spawn can
/// inherit it in between: every spawn there uses `POSIX_SPAWN_CLOEXEC_DEFAULT`).
pub(crate) fn received_cloexec(fd: BorrowedFd<'_>) -> io::Result<()> {
    if MSG_CMSG_CLOEXEC == 0 {
        set_cloexec(fd)?;
    }
    Ok(())
}

/// posix_spawn's flag for a new session: macOS's `POSIX_SPAWN_SETSID` (0x0400 in
/// `<spawn.h>`, macOS 10.15); FreeBSD has none.
#[cfg(target_os = "macos")]
pub(crate) const POSIX_SPAWN_SETSID: Option<libc::c_int> = Some(0x0400);
/// posix_spawn's flag for a new session: macOS's `POSIX_SPAWN_SETSID` (0x0400 in
/// `<spawn.h>`, macOS 10.15); FreeBSD has none.
#[cfg(not(target_os = "macos"))]
pub(crate) const POSIX_SPAWN_SETSID: Option<libc::c_int> = None;

/// Binding a socket to an interface by name is Linux's `SO_BINDTODEVICE`.
///
/// # Errors
/// Always `Unsupported`.
pub(crate) fn bind_device(_sock: &socket2::Socket, _interface: Option<&[u8]>) -> io::Result<()> {
    Err(io::Error::new(io::ErrorKind::Unsupported, "SO_BINDTODEVICE is Linux-only"))
}

/// See [`bind_device`].
///
/// # Errors
/// Always `Unsupported`.
pub(crate) fn device(_sock: &socket2::Socket) -> io::Result<Option<Vec<u8>>> {
    Err(io::Error::new(io::ErrorKind::Unsupported, "SO_BINDTODEVICE is Linux-only"))
}

/// Accepts a connection on non-blocking listener `sock`, the new socket close-on-exec and
/// non-blocking: accept4(2) on FreeBSD; accept(2) (socket2 sets close-on-exec) then
/// `O_NONBLOCK` on macOS, which has no accept4.
pub(crate) fn accept_nonblocking(sock: &socket2::Socket) -> io::Result<(socket2::Socket, socket2::SockAddr)> {
    #[cfg(target_os = "freebsd")]
    return sock.accept4(libc::SOCK_CLOEXEC | libc::SOCK_NONBLOCK);
    #[cfg(not(target_os = "freebsd"))]
    {
        let (conn, addr) = sock.accept()?;
        conn.set_nonblocking(true)?;
        Ok((conn, addr))
    }
}

/// The credentials of the peer of a connected Unix-domain socket: (pid, uid, gid) from
/// getpeereid(3); the pid is reported as 0 (unknown).
pub(crate) fn peer_cred(fd: BorrowedFd<'_>) -> io::Result<(libc::pid_t, libc::uid_t, libc::gid_t)> {
    let (mut uid, mut gid) = (0, 0);
    // SAFETY: `uid` and `gid` are writable for the call.
    cvt(unsafe { libc::getpeereid(fd.as_raw_fd(), &mut uid, &mut gid) })?;
    Ok((0, uid, gid))
}

/// The names of the signals only the BSDs have.
pub(crate) fn os_signal_name(signo: libc::c_int) -> Option<&'static str> {
    match signo {
        libc::SIGEMT => Some("SIGEMT"),
        libc::SIGINFO => Some("SIGINFO"),
        _ => None,
    }
}

/// No signalfd here: signals reach the driver through the process-wide handler alone
/// (`sys::sighandler`), so listening blocks nothing and there is nothing to read.
#[derive(Debug)]
pub(crate) struct SignalFd;

impl SignalFd {
    pub(crate) fn new(_mask: &libc::sigset_t) -> io::Result<SignalFd> {
        Ok(SignalFd)
    }

    /// None to poll.
    pub(crate) fn fd(&self) -> Option<RawFd> {
        None
    }

    /// Nothing to do: the handler, installed by the caller, catches `signo`.
    pub(crate) fn listen(&self, _signo: libc::c_int, _mask: &libc::sigset_t) -> io::Result<()> {
        Ok(())
    }

    /// Nothing to read.
    pub(crate) fn read_deliveries(&self, _delivered: impl FnMut(libc::c_int)) {}
}

/// No abstract Unix socket names here: a name starting with NUL would be a path.
pub(crate) const ABSTRACT_UNIX_NAMES: bool = false;

pub(crate) use super::pipe_notifier::{notify_raw, PipeNotifier as Notifier};

/// Whether the kernel reports readiness for `fd`'s file: pipes, sockets, terminals and other
/// character devices, and kqueues. Regular files and directories are always ready.
pub(crate) fn can_poll(fd: BorrowedFd<'_>) -> io::Result<bool> {
    Ok(matches!(super::file_type(fd)?, libc::S_IFIFO | libc::S_IFSOCK | libc::S_IFCHR))
}

/// Starts nothing: posix_spawn(3) is the only spawn path here.
pub(crate) fn spawn_native(image: ExecImage, _mode: Mode) -> Result<Spawned, Fallback> {
    Err(Fallback::Yes(Box::new(image)))
}

/// posix_spawn settings so the child holds exactly fds 0-5: on macOS
/// `POSIX_SPAWN_CLOEXEC_DEFAULT` (every descriptor without a file action is closed) plus
/// `posix_spawn_file_actions_addinherit_np` for the standard descriptors the child inherits
/// as they are; on FreeBSD `posix_spawn_file_actions_addclosefrom_np(6)` (13.1+).
pub(crate) fn spawn_close_from_6(
    actions: &mut libc::posix_spawn_file_actions_t,
    flags: &mut libc::c_int,
    image: &ExecImage,
) -> io::Result<()> {
    #[cfg(target_os = "macos")]
    {
        unsafe extern "C" {
            // macOS 10.15's posix_spawn_file_actions_addinherit_np(3).
            fn posix_spawn_file_actions_addinherit_np(
                actions: *mut libc::posix_spawn_file_actions_t,
                fd: libc::c_int,
            ) -> libc::c_int;
        }
        *flags |= libc::POSIX_SPAWN_CLOEXEC_DEFAULT;
        for (target, source) in image.fds.iter().enumerate() {
            if matches!(source, super::spawn::FdSource::Inherit) {
                // SAFETY: `actions` is initialised (the caller's); a plain descriptor number.
                check(unsafe { posix_spawn_file_actions_addinherit_np(actions, target as libc::c_int) })?;
            }
        }
        Ok(())
    }
    #[cfg(not(target_os = "macos"))]
    {
        let _ = (flags, image);
        unsafe extern "C" {
            fn posix_spawn_file_actions_addclosefrom_np(
                actions: *mut libc::posix_spawn_file_actions_t,
                from: libc::c_int,
            ) -> libc::c_int;
        }
        // SAFETY: `actions` is initialised (the caller's); FreeBSD 13.1's signature.
        check(unsafe { posix_spawn_file_actions_addclosefrom_np(actions, 6) })
    }
}

/// posix_spawn's file action changing the working directory
/// (`posix_spawn_file_actions_addchdir_np`: macOS 10.15, FreeBSD 13.1).
pub(crate) fn spawn_chdir(actions: &mut libc::posix_spawn_file_actions_t, dir: &CStr) -> io::Result<()> {
    #[cfg(not(target_os = "macos"))]
    unsafe extern "C" {
        fn posix_spawn_file_actions_addchdir_np(
            actions: *mut libc::posix_spawn_file_actions_t,
            path: *const libc::c_char,
        ) -> libc::c_int;
    }
    #[cfg(target_os = "macos")]
    use libc::posix_spawn_file_actions_addchdir_np;
    // SAFETY: `actions` is initialised (the caller's); the library copies the string.
    check(unsafe { posix_spawn_file_actions_addchdir_np(actions, dir.as_ptr()) })
}

/// The CPUs this process may run on: all of them, numbered from 0 (neither system exposes a
/// per-thread mask that thread-per-core pinning could follow).
pub(crate) fn allowed_cpus() -> Vec<usize> {
    (0..std::thread::available_parallelism().map_or(1, |n| n.get())).collect()
}

/// Pinning a thread to one CPU is not offered: thread-per-core cores run unpinned here.
///
/// # Errors
/// Always `Unsupported`.
pub(crate) fn pin_to_cpu(_cpu: usize) -> io::Result<()> {
    Err(io::Error::new(io::ErrorKind::Unsupported, "pinning a thread to a CPU is Linux-only"))
}

/// Faulting pages in ahead of a read is a Linux optimisation (`MADV_POPULATE_WRITE`); a no-op.
pub(crate) fn prefault_spare(_buf: &mut Vec<u8>, _ahead: usize) {}

/// Pipe buffer sizes are fixed by the kernel here.
///
/// # Errors
/// Always `Unsupported`.
pub(crate) fn set_pipe_size(_fd: BorrowedFd<'_>, _bytes: usize) -> io::Result<usize> {
    Err(io::Error::new(io::ErrorKind::Unsupported, "resizing a pipe (F_SETPIPE_SZ) is Linux-only"))
}

/// splice(2) and tee(2) are Linux-only: both fail with `EINVAL` here, as on a Linux file
/// system without splice support, and `io::copy` and the pipeline's tee take their buffered
/// paths.
pub(crate) fn splice(_src: BorrowedFd<'_>, _dst: BorrowedFd<'_>, _len: usize) -> io::Result<usize> {
    Err(io::Error::from_raw_os_error(libc::EINVAL))
}

/// See [`splice`].
pub(crate) fn tee(_src: BorrowedFd<'_>, _dst: BorrowedFd<'_>, _len: usize) -> io::Result<usize> {
    Err(io::Error::from_raw_os_error(libc::EINVAL))
}

/// Pipe buffer sizes are fixed by the kernel here.
///
/// # Errors
/// Always `Unsupported`.
pub(crate) fn pipe_size(_fd: BorrowedFd<'_>) -> io::Result<usize> {
    Err(io::Error::new(io::ErrorKind::Unsupported, "reading a pipe's size (F_GETPIPE_SZ) is Linux-only"))
}
