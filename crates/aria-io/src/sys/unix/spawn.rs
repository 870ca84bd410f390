//! Starting a program for the process layer, never with a `fork` of this process.
//!
//! Two paths, chosen once per process:
//!
//! - **clone3** (`clone3.rs`, Linux 5.9+ on x86_64 and aarch64): the fd dance is ours; the
//!   pidfd comes back atomically with the pid; the credentials can change; and a child can
//!   be started without waiting for its `execve` ([`Mode::Detach`]).
//! - **posix_spawn(3)** + pidfd_open(2), when clone3 is refused (`ENOSYS`, `EPERM` or
//!   `EINVAL`: an older kernel, or a seccomp filter as in many container sandboxes; std's
//!   history, rust-lang/rust#89522, is why the refusal is detected at run time rather than
//!   assumed), when close_range(2) is missing (before 5.9), or on other architectures. It
//!   always waits for the `execve`, and cannot change credentials.
//!
//! `ARIA_IO_SPAWN=posix_spawn` forces the second path (for tests and for systems where
//! clone3 misbehaves); `ARIA_IO_SPAWN=clone3` is the default.
//!
//! The caller guarantees that every source descriptor is either the parent's own descriptor
//! with the same number as its target (inherited as it is) or a close-on-exec descriptor
//! numbered 6 or higher. Then the `dup`s onto 0-5 can never overwrite a source that is still
//! to be duplicated, and closing everything from 6 up leaves the child holding exactly fds
//! 0-5.
//!
//! In the child, every signal handler is reset to `SIG_DFL` (`CLONE_CLEAR_SIGHAND`, or by
//! glibc), `SIGPIPE` (ignored by the runtime) too, the signal mask is emptied, and other
//! ignored signals stay ignored, as execve(2) and `std::process::Command` leave them.

use std::ffi::{c_char, CStr, CString};
use std::io;
use std::mem::MaybeUninit;
use std::os::fd::{OwnedFd, RawFd};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;

use super::cvt;

pub(crate) use self::Mode as SpawnMode;

/// Whether the caller waits for the child's `execve`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    /// `CLONE_VFORK`: return once the child has exec'd or exited.
    Wait,
    /// Return at once; the child runs on the stack given.
    Detach,
}

/// The steps of the child that can fail, as recorded in [`Report::step`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Step {
    Signals = 1,
    Session = 2,
    ProcessGroup = 3,
    Groups = 4,
    Gid = 5,
    Uid = 6,
    Dup = 7,
    Chdir = 8,
    CloseRange = 9,
    Mask = 10,
    Exec = 11,
    Foreground = 12,
}

impl Step {
    fn from_u32(v: u32) -> Option<Step> {
        Some(match v {
            1 => Step::Signals,
            2 => Step::Session,
            3 => Step::ProcessGroup,
            4 => Step::Groups,
            5 => Step::Gid,
            6 => Step::Uid,
            7 => Step::Dup,
            8 => Step::Chdir,
            9 => Step::CloseRange,
            10 => Step::Mask,
            11 => Step::Exec,
            12 => Step::Foreground,
            _ => return None,
        })
    }

    /// What the step does, for error messages.
    pub(crate) fn what(self) -> &'static str {
        match self {
            Step::Signals => "resetting signal dispositions",
            Step::Session => "setsid",
            Step::ProcessGroup => "setpgid",
            Step::Groups => "setgroups",
            Step::Gid => "setgid",
            Step::Uid => "setuid",
            Step::Dup => "setting up the standard streams (dup3)",
            Step::Chdir => "changing to the working directory",
            Step::CloseRange => "closing inherited descriptors (close_range)",
            Step::Mask => "setting the signal mask",
            Step::Exec => "execve",
            Step::Foreground => "giving the terminal to the process group (tcsetpgrp)",
        }
    }
}

/// What the child reports to the parent, in memory they share until `execve`.
#[derive(Debug)]
#[repr(C)]
pub(crate) struct Report {
    /// Non-zero until the kernel zeroes it (`CLONE_CHILD_CLEARTID`) when the child releases
    /// the parent's memory: in `execve`, or when it exits. Only used in [`Mode::Detach`].
    pub(crate) live: AtomicU32,
    /// The failed [`Step`], or 0.
    pub(crate) step: AtomicU32,
    /// The `errno` of the failed step.
    pub(crate) errno: AtomicU32,
}

impl Report {
    #[cfg(target_os = "linux")]
    pub(crate) fn new() -> Report {
        Report { live: AtomicU32::new(1), step: AtomicU32::new(0), errno: AtomicU32::new(0) }
    }

    /// Whether the child may still use the parent's memory (it has neither exec'd nor exited).
    #[cfg(target_os = "linux")]
    pub(crate) fn child_uses_memory(&self) -> bool {
        self.live.load(Ordering::Acquire) != 0
    }

    /// The step that failed and its error; read it once the child has exited (after the
    /// wait that reaped it, which orders the child's writes before this read).
    pub(crate) fn failure(&self) -> Option<(Step, io::Error)> {
        let step = Step::from_u32(self.step.load(Ordering::Acquire))?;
        Some((step, io::Error::from_raw_os_error(self.errno.load(Ordering::Relaxed) as i32)))
    }
}

/// Where one of the child's six standard descriptors comes from.
#[derive(Clone, Copy, Debug)]
pub(crate) enum FdSource {
    /// Leave the parent's descriptor of the same number (it is open and inheritable).
    Inherit,
    /// `dup2` this descriptor (close-on-exec, numbered >= 6) onto the target.
    Dup(RawFd),
}

/// Everything a spawn needs, already converted to C strings.
#[derive(Debug)]
pub(crate) struct ExecImage {
    /// The resolved executable.
    pub(crate) path: CString,
    /// `argv`, including `argv[0]`.
    pub(crate) argv: Vec<CString>,
    /// `None`: the parent's environment as it is at the spawn.
    pub(crate) env: Option<Vec<CString>>,
    pub(crate) cwd: Option<CString>,
    pub(crate) fds: [FdSource; 6],
    /// `Some(0)`: new group led by the child; `Some(pgid)`: join that group.
    pub(crate) process_group: Option<libc::pid_t>,
    pub(crate) new_session: bool,
    /// A terminal whose foreground group becomes the child's group before it runs.
    pub(crate) foreground: Option<RawFd>,
    pub(crate) uid: Option<libc::uid_t>,
    pub(crate) gid: Option<libc::gid_t>,
    pub(crate) groups: Option<Vec<libc::gid_t>>,
}

/// A started child.
#[derive(Debug)]
pub(crate) struct Spawned {
    pub(crate) pid: libc::pid_t,
    pub(crate) pidfd: OwnedFd,
    /// [`Mode::Detach`] on the clone3 path: where the child reports a failed step (read it
    /// after reaping the child).
    pub(crate) report: Option<Arc<Report>>,
}

/// Why a failed child step failed, as an error for the user: the exec error as it is (its
/// kind and raw OS error intact: `NotFound`, `PermissionDenied`, `ENOEXEC`...), any other
/// step named.
pub(crate) fn step_error(step: Step, err: io::Error) -> io::Error {
    match step {
        Step::Exec => err,
        other => io::Error::new(err.kind(), format!("{}: {err}", other.what())),
    }
}

/// The pointers of the current environment (`environ`), copied so that a later change of the
/// array cannot move it under a child that still reads it. Like posix_spawn(3) and
/// `std::process::Command`, this reads `environ` without a lock: changing the environment
/// from another thread during a spawn (`std::env::set_var`, unsafe since the 2024 edition for
/// this reason) is the caller's responsibility.
pub(crate) fn environ_snapshot() -> Vec<*const c_char> {
    unsafe extern "C" {
        static environ: *const *const c_char;
    }
    let mut v = Vec::with_capacity(64);
    // SAFETY: `environ` is a NULL-terminated array of pointers to C strings (or NULL), read
    // as getenv(3) does.
    unsafe {
        let mut p = environ;
        if !p.is_null() {
            while !(*p).is_null() {
                v.push(*p);
                p = p.add(1);
            }
        }
    }
    v
}

/// Starts the program described by `image`.
///
/// [`Mode::Wait`] returns once the child has called `execve` (every error is reported
/// here); [`Mode::Detach`] may return before, and a failure of the child's steps (including
/// `execve`) is then found in [`Spawned::report`] once the child has been reaped (it exits
/// with status 127).
///
/// # Errors
/// The error of the step that failed (see [`step_error`]); `Unsupported` for a uid, gid or
/// groups change on the posix_spawn path; clone3's `EAGAIN`/`ENOMEM`.
///
/// # References
/// clone(2), posix_spawn(3), pidfd_open(2)
pub(crate) fn spawn(image: ExecImage, mode: Mode) -> io::Result<Spawned> {
    match super::spawn_native(image, mode) {
        Ok(spawned) => Ok(spawned),
        Err(Fallback::No(e)) => Err(e),
        Err(Fallback::Yes(image)) => spawn_posix(&image),
    }
}

/// What a platform's own spawn path (`spawn_native`) did not do.
pub(crate) enum Fallback {
    /// clone3 is refused here: use posix_spawn with this image.
    Yes(Box<ExecImage>),
    /// It failed: this is the error (only Linux's clone3 path has one of its own).
    #[cfg_attr(not(target_os = "linux"), allow(dead_code))]
    No(io::Error),
}

struct Attr(libc::posix_spawnattr_t);
impl Drop for Attr {
    fn drop(&mut self) {
        // SAFETY: the attribute object was initialised by posix_spawnattr_init.
        unsafe { libc::posix_spawnattr_destroy(&mut self.0) };
    }
}

struct Actions(libc::posix_spawn_file_actions_t);
impl Drop for Actions {
    fn drop(&mut self) {
        // SAFETY: the actions object was initialised by posix_spawn_file_actions_init.
        unsafe { libc::posix_spawn_file_actions_destroy(&mut self.0) };
    }
}

/// posix_spawn functions return the error number instead of setting errno.
pub(crate) fn check(rc: libc::c_int) -> io::Result<()> {
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::from_raw_os_error(rc))
    }
}

/// `posix_spawn_file_actions_addtcsetpgrp_np(actions, fd)`.
type AddTcsetpgrp = unsafe extern "C" fn(*mut libc::posix_spawn_file_actions_t, libc::c_int) -> libc::c_int;

/// glibc's `posix_spawn_file_actions_addtcsetpgrp_np` (2.35+), looked up at run time so that
/// the crate still runs on an older C library, where the parent gives the terminal instead.
fn addtcsetpgrp_np() -> Option<AddTcsetpgrp> {
    static FOUND: std::sync::OnceLock<Option<AddTcsetpgrp>> = std::sync::OnceLock::new();
    *FOUND.get_or_init(|| {
        // SAFETY: dlsym with RTLD_DEFAULT and a NUL-terminated name only looks a symbol up.
        let sym =
            unsafe { libc::dlsym(libc::RTLD_DEFAULT, c"posix_spawn_file_actions_addtcsetpgrp_np".as_ptr()) };
        // SAFETY: the symbol, when glibc has it, is this function (posix_spawn(3) of glibc
        // 2.35): a pointer to a file-actions object and a descriptor, returning an error number.
        (!sym.is_null()).then(|| unsafe { std::mem::transmute::<*mut libc::c_void, AddTcsetpgrp>(sym) })
    })
}

/// The posix_spawn path: glibc's `clone(CLONE_VM | CLONE_VFORK)`, then pidfd_open(2). The pid
/// cannot be recycled in between: only this crate reaps its children.
///
/// # References
/// posix_spawn(3), posix_spawn_file_actions_adddup2(3), posix_spawnattr_setsigdefault(3),
/// glibc's `posix_spawn_file_actions_addclosefrom_np` (2.34) and `..._addchdir_np` (2.29).
fn spawn_posix(image: &ExecImage) -> io::Result<Spawned> {
    if image.uid.is_some() || image.gid.is_some() || image.groups.is_some() {
        return Err(io::Error::new(
            io::ErrorKind::Unsupported,
            "changing the child's uid, gid or groups needs clone3(2), which this system refuses",
        ));
    }
    let mut argv: Vec<*mut c_char> = image.argv.iter().map(|s| s.as_ptr().cast_mut()).collect();
    argv.push(std::ptr::null_mut());
    let mut envp: Vec<*mut c_char> = match &image.env {
        Some(env) => env.iter().map(|s| s.as_ptr().cast_mut()).collect(),
        None => environ_snapshot().into_iter().map(|p| p.cast_mut()).collect(),
    };
    envp.push(std::ptr::null_mut());

    let mut attr = MaybeUninit::uninit();
    // SAFETY: init writes a valid attribute object into `attr`.
    check(unsafe { libc::posix_spawnattr_init(attr.as_mut_ptr()) })?;
    // SAFETY: initialised just above.
    let mut attr = Attr(unsafe { attr.assume_init() });

    let mut flags = libc::POSIX_SPAWN_SETSIGMASK | libc::POSIX_SPAWN_SETSIGDEF;
    if let Some(pgid) = image.process_group.filter(|_| !image.new_session) {
        flags |= libc::POSIX_SPAWN_SETPGROUP;
        // SAFETY: attr is initialised.
        check(unsafe { libc::posix_spawnattr_setpgroup(&mut attr.0, pgid) })?;
    }
    if image.new_session {
        flags |= super::POSIX_SPAWN_SETSID.ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::Unsupported,
                "starting a child in a new session needs POSIX_SPAWN_SETSID",
            )
        })?;
    }
    let empty = super::empty_sigset();
    let mut defaults = super::empty_sigset();
    super::sigaddset(&mut defaults, libc::SIGPIPE)?;
    let reset = super::tty::reset_in_children();
    for sig in 1..=64 {
        if reset & (1 << (sig - 1)) != 0 {
            super::sigaddset(&mut defaults, sig)?;
        }
    }
    // SAFETY: attr is initialised; the sets are valid.
    unsafe {
        check(libc::posix_spawnattr_setsigmask(&mut attr.0, &empty))?;
        check(libc::posix_spawnattr_setsigdefault(&mut attr.0, &defaults))?;
    }

    let mut actions = MaybeUninit::uninit();
    // SAFETY: init writes a valid actions object.
    check(unsafe { libc::posix_spawn_file_actions_init(actions.as_mut_ptr()) })?;
    // SAFETY: initialised just above.
    let mut actions = Actions(unsafe { actions.assume_init() });
    // The terminal is handed over first: glibc runs the file actions in order, after
    // POSIX_SPAWN_SETPGROUP and with every signal blocked (SIGTTOU included), and before the
    // dups replace the streams (the terminal may be stdin).
    let mut parent_gives_terminal = image.foreground;
    if let (Some(tty), Some(add)) = (image.foreground, addtcsetpgrp_np()) {
        // SAFETY: actions is initialised; `add` has glibc's documented signature.
        check(unsafe { add(&mut actions.0, tty) })?;
        parent_gives_terminal = None;
    }
    for (target, source) in image.fds.iter().enumerate() {
        if let FdSource::Dup(src) = *source {
            debug_assert!(src >= 6, "sources must not collide with the targets 0-5");
            // SAFETY: actions is initialised; both are plain descriptor numbers.
            check(unsafe { libc::posix_spawn_file_actions_adddup2(&mut actions.0, src, target as RawFd) })?;
        }
    }
    super::spawn_close_from_6(&mut actions.0, &mut flags, image)?;
    if let Some(cwd) = &image.cwd {
        super::spawn_chdir(&mut actions.0, cwd)?;
    }
    // SAFETY: attr is initialised.
    check(unsafe { libc::posix_spawnattr_setflags(&mut attr.0, flags as libc::c_short) })?;

    let mut pid: libc::pid_t = 0;
    // SAFETY: every pointer is valid for the call: the path and the NULL-terminated argv and
    // envp arrays point into CStrings (or the environment) that outlive it, and attr/actions
    // are initialised.
    check(unsafe {
        libc::posix_spawn(&mut pid, image.path.as_ptr(), &actions.0, &attr.0, argv.as_ptr(), envp.as_ptr())
    })?;
    if let Some(tty) = parent_gives_terminal {
        // Without glibc's posix_spawn_file_actions_addtcsetpgrp_np (before 2.35) the parent
        // gives the terminal right after the spawn (the child may already run its program).
        let pgid = match image.process_group {
            Some(0) | None => pid,
            Some(g) => g,
        };
        // SAFETY: the caller of `Command::foreground` keeps `tty` open during the spawn.
        let tty = unsafe { std::os::fd::BorrowedFd::borrow_raw(tty) };
        if let Err(e) = super::tty::tcsetpgrp(tty, pgid) {
            super::kill_and_reap(pid);
            return Err(e);
        }
    }
    match super::process_fd(pid) {
        Ok(pidfd) => Ok(Spawned { pid, pidfd, report: None }),
        Err(e) => {
            // Without a process descriptor we cannot track the child: kill and reap it now.
            super::kill_and_reap(pid);
            Err(e)
        }
    }
}

/// What PATH lookup found at one candidate path.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Candidate {
    /// Exists, is not a directory, and this process may execute it.
    Executable,
    /// Exists but may not be executed (`EACCES`).
    Denied,
    /// Nothing usable there.
    Missing,
}

/// Checks `path` for PATH lookup: one `access(X_OK)`, plus one `stat` only when it succeeds
/// (to skip directories), so a miss costs a single system call.
pub(crate) fn probe(path: &CStr) -> Candidate {
    // SAFETY: `path` is a valid NUL-terminated string.
    if unsafe { libc::access(path.as_ptr(), libc::X_OK) } != 0 {
        let denied = io::Error::last_os_error().raw_os_error() == Some(libc::EACCES);
        return if denied { Candidate::Denied } else { Candidate::Missing };
    }
    match is_not_dir(path) {
        Ok(true) => Candidate::Executable,
        _ => Candidate::Missing,
    }
}

fn is_not_dir(path: &CStr) -> io::Result<bool> {
    let mut st = MaybeUninit::<libc::stat>::uninit();
    // SAFETY: `st` is valid for writes of a stat structure.
    cvt(unsafe { libc::stat(path.as_ptr(), st.as_mut_ptr()) })?;
    // SAFETY: stat succeeded, so the structure is initialised.
    let mode = unsafe { st.assume_init() }.st_mode;
    Ok(mode & libc::S_IFMT != libc::S_IFDIR)
}

#[cfg(all(test, target_env = "gnu"))]
mod tests {
    /// glibc's version as (major, minor).
    fn glibc() -> (u32, u32) {
        // SAFETY: gnu_get_libc_version returns a static NUL-terminated string.
        let v = unsafe { std::ffi::CStr::from_ptr(libc::gnu_get_libc_version()) };
        let v = v.to_str().unwrap();
        let mut parts = v.split('.').map(|p| p.parse::<u32>().unwrap());
        (parts.next().unwrap(), parts.next().unwrap())
    }

    #[test]
    fn the_terminal_hand_over_action_is_found_exactly_on_glibc_2_35_and_later() {
        assert_eq!(super::addtcsetpgrp_np().is_some(), glibc() >= (2, 35), "glibc {:?}", glibc());
    }
}
