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
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, Mutex};

use super::clone3::{self, ChildCtx, CloneError, Mode, Report, Stack, Step};
use super::cvt;

pub(crate) use clone3::Mode as SpawnMode;

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

/// The image with the pointer arrays the child reads, in one heap block whose address does
/// not change (the child context points into it).
struct Prepared {
    image: ExecImage,
    argv: Vec<*const c_char>,
    envp: Vec<*const c_char>,
    report: Arc<Report>,
    ctx: MaybeUninit<ChildCtx>,
}

// SAFETY: the raw pointers point into `image`'s heap buffers (or the environment's strings,
// which glibc never frees), owned by or outliving this value wherever it goes.
unsafe impl Send for Prepared {}

impl Prepared {
    fn new(image: ExecImage) -> Box<Prepared> {
        let mut argv: Vec<*const c_char> = image.argv.iter().map(|s| s.as_ptr()).collect();
        argv.push(std::ptr::null());
        let mut envp: Vec<*const c_char> = match &image.env {
            Some(env) => env.iter().map(|s| s.as_ptr()).collect(),
            None => environ_snapshot(),
        };
        envp.push(std::ptr::null());
        let mut p = Box::new(Prepared {
            image,
            argv,
            envp,
            report: Arc::new(Report::new()),
            ctx: MaybeUninit::uninit(),
        });
        let report: *const Report = &*p.report;
        let img = &p.image;
        let mut ctx = ChildCtx::new(img.path.as_ptr(), p.argv.as_ptr(), p.envp.as_ptr(), report);
        ctx.cwd = img.cwd.as_ref().map_or(std::ptr::null(), |c| c.as_ptr());
        for (target, src) in img.fds.iter().enumerate() {
            if let FdSource::Dup(fd) = *src {
                debug_assert!(fd >= 6, "sources must not collide with the targets 0-5");
                ctx.dups[target] = fd;
            }
        }
        ctx.new_session = img.new_session;
        ctx.process_group = img.process_group.unwrap_or(-1);
        ctx.foreground_tty = img.foreground.unwrap_or(-1);
        if let Some(groups) = &img.groups {
            ctx.groups = groups.as_ptr();
            ctx.ngroups = groups.len();
        }
        ctx.gid = img.gid.map_or(-1, i64::from);
        ctx.uid = img.uid.map_or(-1, i64::from);
        ctx.reset_signals = (1 << (libc::SIGPIPE - 1)) | super::tty::reset_in_children();
        ctx.mask = 0;
        p.ctx.write(ctx);
        p
    }

    fn ctx(&self) -> &ChildCtx {
        // SAFETY: written in `new`, before the box is handed out.
        unsafe { self.ctx.assume_init_ref() }
    }
}

/// The pointers of the current environment (`environ`), copied so that a later change of the
/// array cannot move it under a child that still reads it. Like posix_spawn(3) and
/// `std::process::Command`, this reads `environ` without a lock: changing the environment
/// from another thread during a spawn (`std::env::set_var`, unsafe since the 2024 edition for
/// this reason) is the caller's responsibility.
fn environ_snapshot() -> Vec<*const c_char> {
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

const METHOD_UNKNOWN: u8 = 0;
const METHOD_CLONE3: u8 = 1;
const METHOD_POSIX_SPAWN: u8 = 2;
static METHOD: AtomicU8 = AtomicU8::new(METHOD_UNKNOWN);

fn method() -> u8 {
    match METHOD.load(Ordering::Relaxed) {
        METHOD_UNKNOWN => {
            let forced = std::env::var_os("ARIA_IO_SPAWN");
            let m = if forced.as_deref() == Some("posix_spawn".as_ref())
                || !cfg!(any(target_arch = "x86_64", target_arch = "aarch64"))
                || !clone3::has_close_range()
            {
                METHOD_POSIX_SPAWN
            } else {
                METHOD_CLONE3
            };
            METHOD.store(m, Ordering::Relaxed);
            m
        }
        m => m,
    }
}

/// Stacks of detached children that may still be using them, and free stacks for reuse.
struct StackPool {
    in_flight: Vec<(Box<Prepared>, Stack)>,
    free: Vec<Stack>,
}

/// How many unused stacks are kept for reuse.
const FREE_STACKS: usize = 16;

static POOL: Mutex<StackPool> = Mutex::new(StackPool { in_flight: Vec::new(), free: Vec::new() });

fn pool() -> std::sync::MutexGuard<'static, StackPool> {
    POOL.lock().unwrap_or_else(|p| p.into_inner())
}

impl StackPool {
    /// Frees what every child that has exec'd or exited no longer uses.
    fn sweep(&mut self) {
        let mut i = 0;
        while i < self.in_flight.len() {
            if self.in_flight[i].0.report.child_uses_memory() {
                i += 1;
            } else {
                let (_, stack) = self.in_flight.swap_remove(i);
                if self.free.len() < FREE_STACKS {
                    self.free.push(stack);
                }
            }
        }
    }
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
    if method() == METHOD_CLONE3 {
        match spawn_clone3(image, mode) {
            Ok(spawned) => return Ok(spawned),
            Err(Fallback::No(e)) => return Err(e),
            Err(Fallback::Yes(image)) => return spawn_posix(&image),
        }
    }
    spawn_posix(&image)
}

enum Fallback {
    /// clone3 is refused here: use posix_spawn with this image.
    Yes(Box<ExecImage>),
    No(io::Error),
}

fn spawn_clone3(image: ExecImage, mode: Mode) -> Result<Spawned, Fallback> {
    let prepared = Prepared::new(image);
    let stack = match mode {
        Mode::Wait => None,
        Mode::Detach => {
            let mut pool = pool();
            pool.sweep();
            match pool.free.pop() {
                Some(s) => Some(s),
                None => {
                    drop(pool);
                    Some(Stack::new().map_err(Fallback::No)?)
                }
            }
        }
    };
    // SAFETY: `prepared` (the context and everything it points into) and `stack` are kept
    // alive and unchanged: for Wait until clone_exec returns, for Detach in the pool until
    // the report says the child no longer uses them; the descriptors in `dups` are open
    // (the caller holds them).
    let result = unsafe { clone3::clone_exec(prepared.ctx(), mode, stack.as_ref()) };
    match result {
        Ok((pid, pidfd)) => {
            let report = match stack {
                Some(stack) => {
                    let report = prepared.report.clone();
                    pool().in_flight.push((prepared, stack));
                    Some(report)
                }
                None => None,
            };
            Ok(Spawned { pid, pidfd, report })
        }
        Err(CloneError::Child(step, err)) => Err(Fallback::No(step_error(step, err))),
        Err(CloneError::Clone(e)) => {
            if let Some(stack) = stack {
                pool().free.push(stack);
            }
            match e.raw_os_error() {
                Some(libc::ENOSYS | libc::EPERM | libc::EINVAL) => {
                    METHOD.store(METHOD_POSIX_SPAWN, Ordering::Relaxed);
                    let Prepared { image, .. } = *prepared;
                    Err(Fallback::Yes(Box::new(image)))
                }
                _ => Err(Fallback::No(e)),
            }
        }
    }
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
fn check(rc: libc::c_int) -> io::Result<()> {
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
        flags |= libc::POSIX_SPAWN_SETSID as libc::c_int;
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
        check(libc::posix_spawnattr_setflags(&mut attr.0, flags as libc::c_short))?;
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
    // SAFETY: actions is initialised.
    check(unsafe { libc::posix_spawn_file_actions_addclosefrom_np(&mut actions.0, 6) })?;
    if let Some(cwd) = &image.cwd {
        // SAFETY: actions is initialised; glibc copies the string.
        check(unsafe { libc::posix_spawn_file_actions_addchdir_np(&mut actions.0, cwd.as_ptr()) })?;
    }

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
    match super::pidfd_open(pid) {
        Ok(pidfd) => Ok(Spawned { pid, pidfd, report: None }),
        Err(e) => {
            // Without a pidfd we cannot track the child: kill and reap it now.
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

#[cfg(test)]
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
