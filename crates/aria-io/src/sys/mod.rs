//! Thin, safe wrappers over the Linux system calls the runtime uses.
//!
//! This is one of the three layers allowed to contain `unsafe` (with the driver and the task
//! layer). Every function here converts the C convention (`-1` and `errno`) into
//! [`io::Result`] and every file descriptor it creates is `O_CLOEXEC`, so a child started by the
//! process layer inherits exactly the descriptors it is given and nothing else.

pub(crate) mod clone3;
pub(crate) mod fs;
#[cfg(feature = "hyper")]
pub(crate) mod hyper_buf;
pub(crate) mod sighandler;
pub(crate) mod socket;
pub(crate) mod spawn;
pub(crate) mod tty;

use std::ffi::CStr;
use std::io;
use std::mem::MaybeUninit;
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};

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

fn pipe2(flags: libc::c_int) -> io::Result<(OwnedFd, OwnedFd)> {
    let mut fds = [0 as libc::c_int; 2];
    // SAFETY: `fds` is a valid, writable array of two ints as pipe2(2) requires.
    cvt(unsafe { libc::pipe2(fds.as_mut_ptr(), flags) })?;
    // SAFETY: pipe2 succeeded, so both descriptors are open and owned by nobody else.
    Ok(unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) })
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
pub(crate) fn epoll_accepts(fd: BorrowedFd<'_>) -> io::Result<bool> {
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

/// `pidfd_open(pid, 0)`: a descriptor that refers to the process itself, not to its number,
/// so it can never name a recycled pid. Always close-on-exec. Linux 5.3+.
pub(crate) fn pidfd_open(pid: libc::pid_t) -> io::Result<OwnedFd> {
    // SAFETY: pidfd_open takes a pid and flags and returns a new descriptor or -1.
    let fd = cvt(unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) })?;
    // SAFETY: the kernel returned a fresh descriptor that nobody else owns.
    Ok(unsafe { OwnedFd::from_raw_fd(fd as RawFd) })
}

/// `pidfd_send_signal(pidfd, sig, NULL, 0)`. Linux 5.1+.
pub(crate) fn pidfd_send_signal(pidfd: BorrowedFd<'_>, sig: libc::c_int) -> io::Result<()> {
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

/// `waitid(P_PIDFD, pidfd, WEXITED | WNOHANG)`: reaps the child if it has exited.
/// Returns `Ok(None)` while it is still running. Linux 5.4+.
pub(crate) fn waitid_pidfd(pidfd: BorrowedFd<'_>) -> io::Result<Option<WaitInfo>> {
    // SAFETY: siginfo_t is plain old data; all-zero is a valid value.
    let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
    cvt_retry(|| {
        // SAFETY: `info` is a valid, writable siginfo_t for the call.
        unsafe {
            libc::waitid(
                libc::P_PIDFD,
                pidfd.as_raw_fd() as libc::id_t,
                &mut info,
                libc::WEXITED | libc::WNOHANG,
            )
        }
    })?;
    // SAFETY: after a successful waitid the pid and status fields are initialised (zero
    // when WNOHANG found no state change).
    let (pid, status) = unsafe { (info.si_pid(), info.si_status()) };
    if pid == 0 {
        return Ok(None);
    }
    Ok(Some(WaitInfo { code: info.si_code, status }))
}

/// `waitid(P_PIDFD, pidfd, WSTOPPED | WCONTINUED | WNOHANG)`: the child's next stop or
/// continue, consumed once. Never reaps (no `WEXITED`). `Ok(None)` when there is none.
pub(crate) fn waitid_pidfd_change(pidfd: BorrowedFd<'_>) -> io::Result<Option<WaitInfo>> {
    // SAFETY: siginfo_t is plain old data; all-zero is a valid value.
    let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
    let res = cvt_retry(|| {
        // SAFETY: `info` is a valid, writable siginfo_t for the call.
        unsafe {
            libc::waitid(
                libc::P_PIDFD,
                pidfd.as_raw_fd() as libc::id_t,
                &mut info,
                libc::WSTOPPED | libc::WCONTINUED | libc::WNOHANG,
            )
        }
    });
    match res {
        // A zombie (exited, not reaped yet) is no candidate without WEXITED: the kernel
        // answers ECHILD. Its exit is reported by the pidfd.
        Err(e) if e.raw_os_error() == Some(libc::ECHILD) => return Ok(None),
        Err(e) => return Err(e),
        Ok(_) => {}
    }
    // SAFETY: after a successful waitid the pid and status fields are initialised (zero
    // when WNOHANG found no state change).
    let (pid, status) = unsafe { (info.si_pid(), info.si_status()) };
    if pid == 0 {
        return Ok(None);
    }
    Ok(Some(WaitInfo { code: info.si_code, status }))
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

/// Blocks every signal in `set` in the calling thread (`pthread_sigmask(SIG_BLOCK)`).
pub(crate) fn block_signals(set: &libc::sigset_t) -> io::Result<()> {
    // SAFETY: `set` points to an initialised sigset_t; the old set is not requested.
    let rc = unsafe { libc::pthread_sigmask(libc::SIG_BLOCK, set, std::ptr::null_mut()) };
    if rc != 0 {
        return Err(io::Error::from_raw_os_error(rc));
    }
    Ok(())
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

/// Marks `n` more bytes of `buf`'s spare capacity as initialised, after the kernel wrote them
/// (an io_uring read completion reporting `n`).
pub(crate) fn assume_init_spare(buf: &mut Vec<u8>, n: usize) {
    let n = n.min(buf.capacity() - buf.len());
    // SAFETY: the kernel reported writing `n` bytes at the start of the spare capacity, which
    // is where the read was pointed; `n` is clamped to the capacity.
    unsafe { buf.set_len(buf.len() + n) };
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

/// Creates a signalfd for `mask` (non-blocking, close-on-exec).
///
/// # References
/// signalfd(2)
pub(crate) fn signalfd_new(mask: &libc::sigset_t) -> io::Result<OwnedFd> {
    // SAFETY: -1 asks for a new descriptor; `mask` is an initialised sigset_t.
    let fd = cvt(unsafe { libc::signalfd(-1, mask, libc::SFD_NONBLOCK | libc::SFD_CLOEXEC) })?;
    // SAFETY: fresh descriptor owned by nobody else.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// Replaces the mask of an existing signalfd.
pub(crate) fn signalfd_set_mask(fd: BorrowedFd<'_>, mask: &libc::sigset_t) -> io::Result<()> {
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
