//! The Linux spawn path: clone3(2) (see [`clone3`](super::clone3)), with the stacks of
//! children started without waiting for their `execve` ([`Mode::Detach`]) kept until those
//! children are done with them. [`spawn_native`] hands the image back to the posix_spawn
//! path of `spawn.rs` when clone3 is refused.

use std::ffi::c_char;
use std::mem::MaybeUninit;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, Mutex};

use super::super::spawn::{
    environ_snapshot, step_error, ExecImage, Fallback, FdSource, Mode, Report, Spawned,
};
use super::clone3::{self, ChildCtx, CloneError, Stack};

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
        ctx.reset_signals = (1 << (libc::SIGPIPE - 1)) | super::super::tty::reset_in_children();
        ctx.mask = 0;
        p.ctx.write(ctx);
        p
    }

    fn ctx(&self) -> &ChildCtx {
        // SAFETY: written in `new`, before the box is handed out.
        unsafe { self.ctx.assume_init_ref() }
    }
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

/// Starts `image` with clone3(2), unless this system refuses it (then, and when
/// `ARIA_IO_SPAWN=posix_spawn`, on another architecture or without close_range(2), the image
/// comes back as [`Fallback::Yes`] for posix_spawn).
pub(crate) fn spawn_native(image: ExecImage, mode: Mode) -> Result<Spawned, Fallback> {
    if method() == METHOD_CLONE3 {
        return spawn_clone3(image, mode);
    }
    Err(Fallback::Yes(Box::new(image)))
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
