//! `posix_spawn(3)` for the process layer: the child-side "fd dance" done by the C library
//! between its `vfork`-like clone and `execve`, never a `fork` of this process.
//!
//! The caller guarantees that every source descriptor is either the parent's own descriptor
//! with the same number as its target (inherited as it is) or a close-on-exec descriptor
//! numbered 6 or higher. Then the `dup2`s into 0-5 can never overwrite a source that is still
//! to be duplicated, and `closefrom(6)` leaves the child holding exactly fds 0-5.

use std::ffi::{CStr, CString};
use std::io;
use std::mem::MaybeUninit;
use std::os::fd::RawFd;

use super::cvt;

/// Where one of the child's six standard descriptors comes from.
#[derive(Clone, Copy, Debug)]
pub(crate) enum FdSource {
    /// Leave the parent's descriptor of the same number (it is open and inheritable).
    Inherit,
    /// `dup2` this descriptor (close-on-exec, numbered >= 6) onto the target.
    Dup(RawFd),
}

/// Everything `posix_spawn` needs; all strings already converted to C strings.
pub(crate) struct SpawnRequest<'a> {
    pub(crate) path: &'a CStr,
    pub(crate) argv: &'a [CString],
    /// `None`: the parent's environment as it is (`environ`), without copying it.
    pub(crate) envp: Option<&'a [CString]>,
    pub(crate) cwd: Option<&'a CStr>,
    pub(crate) fds: [FdSource; 6],
    /// `Some(0)`: new group led by the child; `Some(pgid)`: join that group.
    pub(crate) process_group: Option<libc::pid_t>,
    pub(crate) new_session: bool,
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

/// Starts the program. The child starts with an empty signal mask and every signal at its
/// default disposition (`SIGPIPE` included), the six descriptors set up as requested, and no
/// other descriptor open.
///
/// # Errors
/// The `errno` of the failed step; glibc reports a failed `execve` (`ENOENT`, `EACCES`,
/// `ENOEXEC`...) and a failed `chdir` as the result of `posix_spawn` itself.
///
/// # References
/// posix_spawn(3), posix_spawn_file_actions_adddup2(3), posix_spawnattr_setsigdefault(3),
/// glibc's `posix_spawn_file_actions_addclosefrom_np` (2.34) and `..._addchdir_np` (2.29).
pub(crate) fn spawn(req: &SpawnRequest<'_>) -> io::Result<libc::pid_t> {
    let mut argv: Vec<*mut libc::c_char> = req.argv.iter().map(|s| s.as_ptr().cast_mut()).collect();
    argv.push(std::ptr::null_mut());
    let envp: Option<Vec<*mut libc::c_char>> = req.envp.map(|env| {
        let mut v: Vec<*mut libc::c_char> = env.iter().map(|s| s.as_ptr().cast_mut()).collect();
        v.push(std::ptr::null_mut());
        v
    });
    let envp_ptr: *const *mut libc::c_char = match &envp {
        Some(v) => v.as_ptr(),
        // SAFETY: reading the `environ` pointer. The array it points to is read by the C
        // library during the spawn, as getenv(3) does; like Rust's `set_var` (unsafe since
        // the 2024 edition for this reason), changing the environment while another thread
        // reads it is the caller's responsibility.
        None => unsafe { environ }.cast(),
    };

    let mut attr = MaybeUninit::uninit();
    // SAFETY: init writes a valid attribute object into `attr`.
    check(unsafe { libc::posix_spawnattr_init(attr.as_mut_ptr()) })?;
    // SAFETY: initialised just above.
    let mut attr = Attr(unsafe { attr.assume_init() });

    let mut flags = libc::POSIX_SPAWN_SETSIGMASK | libc::POSIX_SPAWN_SETSIGDEF;
    if let Some(pgid) = req.process_group {
        flags |= libc::POSIX_SPAWN_SETPGROUP;
        // SAFETY: attr is initialised.
        check(unsafe { libc::posix_spawnattr_setpgroup(&mut attr.0, pgid) })?;
    }
    if req.new_session {
        flags |= libc::POSIX_SPAWN_SETSID as libc::c_int;
    }
    let empty = super::empty_sigset();
    let mut all = MaybeUninit::<libc::sigset_t>::uninit();
    // SAFETY: sigfillset initialises the set; attr is initialised; the sets are valid.
    unsafe {
        libc::sigfillset(all.as_mut_ptr());
        check(libc::posix_spawnattr_setsigmask(&mut attr.0, &empty))?;
        check(libc::posix_spawnattr_setsigdefault(&mut attr.0, all.as_ptr()))?;
        check(libc::posix_spawnattr_setflags(&mut attr.0, flags as libc::c_short))?;
    }

    let mut actions = MaybeUninit::uninit();
    // SAFETY: init writes a valid actions object.
    check(unsafe { libc::posix_spawn_file_actions_init(actions.as_mut_ptr()) })?;
    // SAFETY: initialised just above.
    let mut actions = Actions(unsafe { actions.assume_init() });
    for (target, source) in req.fds.iter().enumerate() {
        if let FdSource::Dup(src) = *source {
            debug_assert!(src >= 6, "sources must not collide with the targets 0-5");
            // SAFETY: actions is initialised; both are plain descriptor numbers.
            check(unsafe { libc::posix_spawn_file_actions_adddup2(&mut actions.0, src, target as RawFd) })?;
        }
    }
    // SAFETY: actions is initialised.
    check(unsafe { libc::posix_spawn_file_actions_addclosefrom_np(&mut actions.0, 6) })?;
    if let Some(cwd) = req.cwd {
        // SAFETY: actions is initialised; glibc copies the string.
        check(unsafe { libc::posix_spawn_file_actions_addchdir_np(&mut actions.0, cwd.as_ptr()) })?;
    }

    let mut pid: libc::pid_t = 0;
    // SAFETY: every pointer is valid for the call: the path and the NULL-terminated argv and
    // envp arrays point into CStrings that outlive it, and attr/actions are initialised.
    check(unsafe {
        libc::posix_spawn(&mut pid, req.path.as_ptr(), &actions.0, &attr.0, argv.as_ptr(), envp_ptr)
    })?;
    Ok(pid)
}

unsafe extern "C" {
    static environ: *const *const libc::c_char;
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
