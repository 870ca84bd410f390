//! Thin, safe wrappers over the POSIX system calls the runtime uses, shared by every Unix,
//! with one room per kernel family for the rest: [`linux`] (pidfds, signalfd, eventfd,
//! splice, io_uring, clone3) and [`bsd`] (macOS and FreeBSD: kqueue-backed process
//! descriptors, pipes for wake-ups). Both rooms provide the same names (`ProcessFd`'s
//! functions, `Notifier`, `pipe2`, `can_poll`...), re-exported here, so the layers above call
//! `sys::name` whatever the platform and hold no `cfg` of their own.
//!
//! This is one of the three layers allowed to contain `unsafe` (with the driver and the task
//! layer). Every function here converts the C convention (`-1` and `errno`) into
//! [`io::Result`] and every file descriptor it creates is close-on-exec, so a child started by
//! the process layer inherits exactly the descriptors it is given and nothing else.

pub(crate) mod fs;
#[cfg(feature = "hyper")]
pub(crate) mod hyper_buf;
#[cfg(any(test, not(target_os = "linux")))]
pub(crate) mod pid_wait;
#[cfg(any(test, not(target_os = "linux")))]
pub(crate) mod pipe_notifier;
pub(crate) mod sighandler;
pub(crate) mod socket;
pub(crate) mod spawn;
pub(crate) mod tty;

#[cfg(target_os = "linux")]
pub(crate) mod linux;
#[cfg(target_os = "linux")]
pub(crate) use linux::*;

#[cfg(any(target_os = "macos", target_os = "freebsd"))]
pub(crate) mod bsd;
#[cfg(any(target_os = "macos", target_os = "freebsd"))]
pub(crate) use bsd::*;

use std::ffi::CStr;
use std::io;
use std::mem::MaybeUninit;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};

/// Converts a C return value into an `io::Result`, reading `errno` on `-1`.
pub(crate) fn cvt<T: Copy + PartialEq + From<i8>>(ret: T) -> io::Result<T> {
    if ret == T::from(-1) {
        Err(io::Error::last_os_error())
    } else {
        Ok(ret)
    }
}

/// Like [`cvt`], retrying on `EINTR`.
pub(crate) fn cvt_retry<T, F>(mut f: F) -> io::Result<T>
where
    T: Copy + PartialEq + From<i8>,
    F: FnMut() -> T,
{
    loop {
        match cvt(f()) {
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            other => return other,
        }
    }
}

/// Creates a pipe with both ends `O_CLOEXEC` and blocking. Returns `(read, write)`.
///
/// # References
/// pipe(2)
pub(crate) fn pipe() -> io::Result<(OwnedFd, OwnedFd)> {
    pipe2(libc::O_CLOEXEC)
}

/// Creates a pipe with both ends `O_CLOEXEC | O_NONBLOCK` in one system call. Returns
/// `(read, write)`.
///
/// # References
/// pipe(2)
pub(crate) fn pipe_nonblocking() -> io::Result<(OwnedFd, OwnedFd)> {
    pipe2(libc::O_CLOEXEC | libc::O_NONBLOCK)
}

/// Sets or clears `O_NONBLOCK` on the open file description behind `fd`.
///
/// # References
/// fcntl(2), `F_GETFL`/`F_SETFL`
pub(crate) fn set_nonblocking(fd: BorrowedFd<'_>, on: bool) -> io::Result<()> {
    let raw = fd.as_raw_fd();
    // SAFETY: F_GETFL takes no argument and `raw` is a valid descriptor for the borrow.
    let flags = cvt(unsafe { libc::fcntl(raw, libc::F_GETFL) })?;
    let new = if on { flags | libc::O_NONBLOCK } else { flags & !libc::O_NONBLOCK };
    if new != flags {
        // SAFETY: F_SETFL takes an int of flags; `raw` is valid for the borrow.
        cvt(unsafe { libc::fcntl(raw, libc::F_SETFL, new) })?;
    }
    Ok(())
}

/// `e` with what was being done when it happened: displays as `{what}: {e}`, keeps the kind
/// of `e`, and gives `e` (with its OS error code) back as its
/// [`source`](std::error::Error::source).
pub(crate) fn context(e: io::Error, what: impl Into<String>) -> io::Error {
    io::Error::new(e.kind(), ContextError { what: what.into(), source: e })
}

/// The payload of [`context`].
#[derive(Debug)]
struct ContextError {
    what: String,
    source: io::Error,
}

impl std::fmt::Display for ContextError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.what, self.source)
    }
}

impl std::error::Error for ContextError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.source)
    }
}

/// The type of the file `fd` refers to: the `S_IFMT` bits of its mode (`libc::S_IFIFO`,
/// `S_IFSOCK`, `S_IFREG`, `S_IFDIR`, `S_IFCHR`...). Works on `O_PATH` descriptors.
///
/// # References
/// fstat(2), inode(7)
pub(crate) fn file_type(fd: BorrowedFd<'_>) -> io::Result<libc::mode_t> {
    let mut st = MaybeUninit::<libc::stat>::uninit();
    // SAFETY: `st` is valid for writes of one `struct stat`; `fd` is valid for the borrow.
    cvt(unsafe { libc::fstat(fd.as_raw_fd(), st.as_mut_ptr()) })?;
    // SAFETY: fstat succeeded, so it filled the structure.
    Ok(unsafe { st.assume_init() }.st_mode & libc::S_IFMT)
}

/// Sets the file status flags of `fd` to exactly `flags` (`F_SETFL`, one system call; the
/// access mode is not a status flag and stays). For a descriptor whose flags the caller
/// knows, such as a pipe end it just created.
///
/// # References
/// fcntl(2), `F_SETFL`
pub(crate) fn set_status_flags(fd: BorrowedFd<'_>, flags: libc::c_int) -> io::Result<()> {
    // SAFETY: F_SETFL takes an int of flags; `fd` is valid for the borrow.
    cvt(unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_SETFL, flags) })?;
    Ok(())
}

/// Returns whether `fd` is open in this process and *not* close-on-exec, i.e. whether it is a
/// stream this process was given (as opposed to one of its own private descriptors, which
/// the runtime and std always create with `O_CLOEXEC`).
pub(crate) fn is_inheritable_open(fd: RawFd) -> bool {
    // SAFETY: F_GETFD takes no argument; on a closed descriptor it fails with EBADF.
    let flags = unsafe { libc::fcntl(fd, libc::F_GETFD) };
    flags != -1 && flags & libc::FD_CLOEXEC == 0
}

/// Duplicates `fd` to the lowest free descriptor `>= min`, with `O_CLOEXEC`.
pub(crate) fn dup_at_least(fd: BorrowedFd<'_>, min: RawFd) -> io::Result<OwnedFd> {
    // SAFETY: F_DUPFD_CLOEXEC takes the minimum descriptor number as an int.
    let new = cvt(unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_DUPFD_CLOEXEC, min) })?;
    // SAFETY: fcntl returned a fresh descriptor that nobody else owns.
    Ok(unsafe { OwnedFd::from_raw_fd(new) })
}

/// Opens `path` with `flags | O_CLOEXEC` and mode 0o666 (before umask).
pub(crate) fn open(path: &CStr, flags: libc::c_int) -> io::Result<OwnedFd> {
    let fd = cvt_retry(|| {
        // SAFETY: `path` is a valid NUL-terminated string; the mode argument is read only
        // when O_CREAT is set.
        unsafe { libc::open(path.as_ptr(), flags | libc::O_CLOEXEC, 0o666 as libc::c_uint) }
    })?;
    // SAFETY: open returned a fresh descriptor that nobody else owns.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// `read(2)` into an initialised buffer. Does not retry `EAGAIN`; retries `EINTR`.
pub(crate) fn read(fd: BorrowedFd<'_>, buf: &mut [u8]) -> io::Result<usize> {
    // SAFETY: an initialised byte slice is a valid uninitialised one of the same length, and
    // `read_uninit` only writes initialised bytes into it.
    let uninit = unsafe { &mut *(buf as *mut [u8] as *mut [MaybeUninit<u8>]) };
    read_uninit(fd, uninit)
}

/// `read(2)` into possibly uninitialised memory; returns how many bytes are now initialised
/// at the start of `buf`. Does not retry `EAGAIN`; retries `EINTR`.
pub(crate) fn read_uninit(fd: BorrowedFd<'_>, buf: &mut [MaybeUninit<u8>]) -> io::Result<usize> {
    let n = cvt_retry(|| {
        // SAFETY: `buf` is valid for writes of `buf.len()` bytes for the whole call.
        unsafe { libc::read(fd.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len()) }
    })?;
    Ok(n as usize)
}

/// `write(2)`. Does not retry `EAGAIN`; retries `EINTR`. A write to a pipe whose reader has
/// gone returns `EPIPE` (`BrokenPipe`), because the runtime ignores `SIGPIPE`.
pub(crate) fn write(fd: BorrowedFd<'_>, buf: &[u8]) -> io::Result<usize> {
    let n = cvt_retry(|| {
        // SAFETY: `buf` is valid for reads of `buf.len()` bytes for the whole call.
        unsafe { libc::write(fd.as_raw_fd(), buf.as_ptr().cast(), buf.len()) }
    })?;
    Ok(n as usize)
}

/// `recv(2)` with `MSG_PEEK` into an initialised buffer: the bytes stay queued on the
/// socket. Does not retry `EAGAIN`; retries `EINTR`.
pub(crate) fn recv_peek(fd: BorrowedFd<'_>, buf: &mut [u8]) -> io::Result<usize> {
    let n = cvt_retry(|| {
        // SAFETY: `buf` is valid for writes of `buf.len()` bytes for the whole call.
        unsafe { libc::recv(fd.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len(), libc::MSG_PEEK) }
    })?;
    Ok(n as usize)
}

/// `killpg(pgid, sig)`.
pub(crate) fn killpg(pgid: libc::pid_t, sig: libc::c_int) -> io::Result<()> {
    // SAFETY: killpg takes plain integers.
    cvt(unsafe { libc::killpg(pgid, sig) })?;
    Ok(())
}

/// How a reaped child ended, as `waitid(2)` reports it in `si_code`/`si_status`.
#[derive(Clone, Copy, Debug)]
pub(crate) struct WaitInfo {
    pub(crate) code: libc::c_int,
    pub(crate) status: libc::c_int,
}

/// waitid(2) with `WNOHANG` added to `options`, on `id` of kind `idtype` (`P_PID`, or
/// `P_PIDFD` on Linux): the state change it reports, `Ok(None)` when there is none yet.
/// Retries `EINTR`.
pub(crate) fn waitid_nohang(
    idtype: libc::idtype_t,
    id: libc::id_t,
    options: libc::c_int,
) -> io::Result<Option<WaitInfo>> {
    // SAFETY: siginfo_t is plain old data; all-zero is a valid value.
    let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
    // SAFETY: `info` is a valid, writable siginfo_t for the call.
    cvt_retry(|| unsafe { libc::waitid(idtype, id, &mut info, options | libc::WNOHANG) })?;
    // SAFETY: after a successful waitid the pid and status fields are initialised (zero
    // when WNOHANG found no state change).
    let (pid, status) = unsafe { (info.si_pid(), info.si_status()) };
    Ok((pid != 0).then_some(WaitInfo { code: info.si_code, status }))
}

/// A stop-or-continue wait's answer: `ECHILD` means no candidate (a zombie is none without
/// `WEXITED`; its exit is reported by the exit wait), so no change.
pub(crate) fn no_change_on_echild(res: io::Result<Option<WaitInfo>>) -> io::Result<Option<WaitInfo>> {
    match res {
        Err(e) if e.raw_os_error() == Some(libc::ECHILD) => Ok(None),
        res => res,
    }
}

/// A child's process descriptor: a descriptor that becomes readable when the child exits
/// (a pidfd on Linux, a kqueue watching the child on macOS and FreeBSD: see each room's
/// `process_fd`), with the pid it stands for. Only this crate reaps its children, so until
/// [`try_reap`](ProcFd::try_reap) succeeds the pid cannot name another process.
#[derive(Debug)]
pub(crate) struct ProcFd {
    fd: OwnedFd,
    pid: libc::pid_t,
}

impl ProcFd {
    /// Puts back together what [`into_parts`](ProcFd::into_parts) took apart.
    pub(crate) fn from_parts(fd: OwnedFd, pid: libc::pid_t) -> ProcFd {
        ProcFd { fd, pid }
    }

    /// Reaps the child if it has exited (`Ok(None)` while it runs).
    pub(crate) fn try_reap(&self) -> io::Result<Option<WaitInfo>> {
        try_reap(self.fd.as_fd(), self.pid)
    }
}

impl AsFd for ProcFd {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

/// An empty signal set.
pub(crate) fn empty_sigset() -> libc::sigset_t {
    let mut set = MaybeUninit::<libc::sigset_t>::uninit();
    // SAFETY: sigemptyset initialises the set it is given.
    unsafe {
        libc::sigemptyset(set.as_mut_ptr());
        set.assume_init()
    }
}

/// Adds `sig` to `set`; fails with `EINVAL` for a number that is not a signal.
pub(crate) fn sigaddset(set: &mut libc::sigset_t, sig: libc::c_int) -> io::Result<()> {
    // SAFETY: `set` is an initialised sigset_t.
    cvt(unsafe { libc::sigaddset(set, sig) })?;
    Ok(())
}

/// Sets `SIGPIPE` to `SIG_IGN` for the whole process, so a write to a closed pipe fails with
/// `EPIPE` instead of killing the process. Children get the default back (see `spawn`).
pub(crate) fn ignore_sigpipe() {
    // SAFETY: installing SIG_IGN has no memory-safety preconditions.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_IGN);
    }
}

/// A process-wide descriptor open on `/dev/null` (read-write, close-on-exec, numbered >= 6 so
/// it never collides with the six standard stream numbers when handed to a child).
pub(crate) fn dev_null() -> io::Result<BorrowedFd<'static>> {
    use std::os::fd::AsFd;
    static NULL: std::sync::OnceLock<OwnedFd> = std::sync::OnceLock::new();
    if let Some(fd) = NULL.get() {
        return Ok(fd.as_fd());
    }
    let fd = open(c"/dev/null", libc::O_RDWR)?;
    let fd = if fd.as_raw_fd() < 6 { dup_at_least(fd.as_fd(), 6)? } else { fd };
    Ok(NULL.get_or_init(|| fd).as_fd())
}

/// Reads once into the spare capacity of `buf` and extends its length by the bytes read.
/// Does not retry `EAGAIN`; retries `EINTR`.
pub(crate) fn read_into_spare(fd: BorrowedFd<'_>, buf: &mut Vec<u8>) -> io::Result<usize> {
    let n = read_uninit(fd, buf.spare_capacity_mut())?;
    // SAFETY: read(2) initialised the first `n` bytes of the spare capacity.
    unsafe { buf.set_len(buf.len() + n) };
    Ok(n)
}

/// Borrows one of the process's standard stream descriptors (0-5).
///
/// # Panics
/// If `fd` is outside 0-5: only those are known to stay open for the program's lifetime
/// (nothing in this crate closes them).
pub(crate) fn borrow_std_stream(fd: RawFd) -> BorrowedFd<'static> {
    assert!((0..6).contains(&fd), "not a standard stream: {fd}");
    // SAFETY: the caller checked the descriptor is open; descriptors 0-5 are never closed by
    // this crate, so the borrow cannot outlive it in practice.
    unsafe { BorrowedFd::borrow_raw(fd) }
}

/// Without waiting, whether `src` is readable and `dst` writable (`poll(2)` with a zero
/// timeout). Error and hang-up count as ready, so the next system call reports them.
pub(crate) fn poll_pair(src: BorrowedFd<'_>, dst: BorrowedFd<'_>) -> io::Result<(bool, bool)> {
    let mut fds = [
        libc::pollfd { fd: src.as_raw_fd(), events: libc::POLLIN, revents: 0 },
        libc::pollfd { fd: dst.as_raw_fd(), events: libc::POLLOUT, revents: 0 },
    ];
    // SAFETY: `fds` is a valid array of two pollfd structures for the call.
    cvt_retry(|| unsafe { libc::poll(fds.as_mut_ptr(), 2, 0) })?;
    Ok((fds[0].revents != 0, fds[1].revents != 0))
}

/// Waits up to `timeout_ms` milliseconds for `events` (`POLLIN`, `POLLOUT`) on `fd` with
/// poll(2); whether anything (including an error or a hang-up, which the next system call
/// reports) happened. Retries `EINTR`.
pub(crate) fn poll_one(
    fd: BorrowedFd<'_>,
    events: libc::c_short,
    timeout_ms: libc::c_int,
) -> io::Result<bool> {
    let mut pfd = libc::pollfd { fd: fd.as_raw_fd(), events, revents: 0 };
    // SAFETY: `pfd` is a valid pollfd for the call.
    let n = cvt_retry(|| unsafe { libc::poll(&mut pfd, 1, timeout_ms) })?;
    Ok(n > 0)
}

/// Waits up to `timeout_ms` milliseconds (`-1`: no limit) until `fd` has `events` or `wake`
/// is readable, with poll(2); returns whether each is ready (an error or a hang-up on `fd`
/// counts as ready, so the next system call on it reports them). Retries `EINTR` (with the
/// full timeout again).
///
/// # References
/// poll(2)
pub(crate) fn poll_with_wake(
    fd: BorrowedFd<'_>,
    events: libc::c_short,
    wake: BorrowedFd<'_>,
    timeout_ms: libc::c_int,
) -> io::Result<(bool, bool)> {
    let mut fds = [
        libc::pollfd { fd: fd.as_raw_fd(), events, revents: 0 },
        libc::pollfd { fd: wake.as_raw_fd(), events: libc::POLLIN, revents: 0 },
    ];
    // SAFETY: `fds` is a valid array of two pollfd structures for the call.
    cvt_retry(|| unsafe { libc::poll(fds.as_mut_ptr(), 2, timeout_ms) })?;
    Ok((fds[0].revents != 0, fds[1].revents != 0))
}

/// poll(2) on `fds` for at most `timeout_ms` milliseconds (-1: no limit); returns how many
/// have events. `EINTR` counts as none.
pub(crate) fn poll_many(fds: &mut [libc::pollfd], timeout_ms: libc::c_int) -> io::Result<usize> {
    // SAFETY: `fds` is a valid array of pollfd structures of the length passed.
    match cvt(unsafe { libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, timeout_ms) }) {
        Ok(n) => Ok(n as usize),
        Err(e) if e.kind() == io::ErrorKind::Interrupted => Ok(0),
        Err(e) => Err(e),
    }
}

/// Kills (`SIGKILL`) and reaps a child by pid, blocking until it is gone. Only for a child
/// this process just spawned and for which no pidfd could be opened, so the pid cannot have
/// been reused (it is not reaped yet).
pub(crate) fn kill_and_reap(pid: libc::pid_t) {
    // SAFETY: plain system calls on integers; the status pointer may be NULL.
    unsafe {
        libc::kill(pid, libc::SIGKILL);
        libc::waitpid(pid, std::ptr::null_mut(), 0);
    }
}
