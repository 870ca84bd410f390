//! Starting a child with `clone3(2)` (Linux 5.5+, x86_64 and aarch64): the spawn path that
//! returns the pidfd atomically (`CLONE_PIDFD`), resets the signal handlers in the kernel
//! (`CLONE_CLEAR_SIGHAND`), can change the child's credentials, makes three system calls in
//! the parent (two of them `pthread_sigmask`), and can start a child without blocking the
//! calling thread until the child has called `execve`.
//!
//! # The child
//!
//! The child is created with `CLONE_VM`: until `execve` replaces its memory it runs in the
//! parent's address space, on a stack of its own, with the parent thread's TLS pointer. It
//! therefore runs only [`child_main`], which
//!
//! - makes raw system calls through inline assembly (no libc wrapper, so no `errno` write
//!   into the parent thread's TLS, no lock, no allocation, no cancellation point);
//! - reads only [`ChildCtx`], which the parent prepared and does not touch until the child
//!   is done with it, and writes only its own stack and its [`Report`];
//! - never returns and never unwinds: on failure it records the step and `errno` in the
//!   report and calls `exit_group(127)`.
//!
//! Signals: the parent blocks every signal in the calling thread around `clone3`, so the child
//! starts with every signal blocked; `CLONE_CLEAR_SIGHAND` resets every handler to `SIG_DFL`
//! in the child (ignored signals stay ignored), so no handler of the parent can ever run on
//! the parent's memory from the child. The child then resets the signals the caller names to
//! `SIG_DFL` (the runtime ignores `SIGPIPE`), and sets its signal mask just before `execve`.
//!
//! Steps, in order (as glibc's posix_spawn and std's fork path order them): signal
//! dispositions, `setsid` or `setpgid`, `setgroups`, `setgid`, `setuid`, the `dup3`s of the
//! standard streams, `chdir`, `close_range(6, ~0)`, the signal mask, `execve`.
//!
//! # The two modes
//!
//! - [`Mode::Wait`] adds `CLONE_VFORK`: the calling thread is suspended until the child has
//!   called `execve` successfully or exited, so the outcome is known when `clone3` returns.
//!   The child's stack is a buffer in the caller's own frame (as musl does), which is safe
//!   because the caller is suspended while the child uses it.
//! - [`Mode::Detach`] does not wait. The child runs on a stack from a pool (mmap'd, with a
//!   guard page) and `CLONE_CHILD_CLEARTID` names a word of its [`Report`]: the kernel
//!   writes 0 there when the child releases the parent's memory (in `execve`, or at exit), so
//!   the stack and the context are reclaimed only after that (see `spawn.rs`). Whether
//!   `execve` failed is read from the report once the child has been reaped.
//!
//! # References
//! clone(2) (`clone3`, `CLONE_VM`, `CLONE_VFORK`, `CLONE_PIDFD`, `CLONE_CLEAR_SIGHAND`,
//! `CLONE_CHILD_CLEARTID`), execve(2), close_range(2), rt_sigaction(2), glibc's
//! `sysdeps/unix/sysv/linux/spawni.c`, musl's `src/process/posix_spawn.c`, Go's
//! `syscall/exec_linux.go`.

use std::ffi::c_char;
use std::io;
use std::mem::MaybeUninit;
use std::sync::atomic::{AtomicU32, Ordering};

use super::super::spawn::{Mode, Report, Step};

/// The kernel's `struct sigaction` for rt_sigaction(2) on x86_64 and aarch64: handler, flags,
/// restorer, mask (both define `SA_RESTORER`). All zero is `SIG_DFL` with no flags.
#[repr(C)]
#[derive(Clone, Copy, Default)]
struct KernelSigaction {
    handler: usize,
    flags: u64,
    restorer: usize,
    mask: u64,
}

/// The kernel's sigset size: 64 signals.
const SIGSET_SIZE: usize = 8;

/// Everything [`child_main`] reads: plain values and pointers into memory the caller keeps
/// alive and unchanged until the child has exec'd or exited.
#[repr(C)]
pub(crate) struct ChildCtx {
    pub(crate) path: *const c_char,
    /// NULL-terminated.
    pub(crate) argv: *const *const c_char,
    /// NULL-terminated.
    pub(crate) envp: *const *const c_char,
    /// NULL: stay in the parent's working directory.
    pub(crate) cwd: *const c_char,
    /// For each of the streams 0-5: the descriptor (>= 6) to `dup3` onto it, or -1 to leave
    /// the inherited descriptor as it is.
    pub(crate) dups: [i32; 6],
    pub(crate) new_session: bool,
    /// -1: stay in the parent's group; 0: a new group led by the child; else join it.
    pub(crate) process_group: i32,
    /// -1: none; else a terminal whose foreground group becomes the child's group (every
    /// signal, `SIGTTOU` included, is still blocked at that step).
    pub(crate) foreground_tty: i32,
    /// NULL: leave the supplementary groups.
    pub(crate) groups: *const libc::gid_t,
    pub(crate) ngroups: usize,
    /// -1: unchanged.
    pub(crate) gid: i64,
    /// -1: unchanged.
    pub(crate) uid: i64,
    /// Bit `n - 1` set: reset signal `n` to `SIG_DFL`.
    pub(crate) reset_signals: u64,
    /// The signal mask the program starts with (bit `n - 1` is signal `n`).
    pub(crate) mask: u64,
    pub(crate) report: *const Report,
    dfl: KernelSigaction,
}

impl ChildCtx {
    /// A context with nothing to do but `execve(path, argv, envp)`.
    pub(crate) fn new(
        path: *const c_char,
        argv: *const *const c_char,
        envp: *const *const c_char,
        report: *const Report,
    ) -> ChildCtx {
        ChildCtx {
            path,
            argv,
            envp,
            cwd: std::ptr::null(),
            dups: [-1; 6],
            new_session: false,
            process_group: -1,
            foreground_tty: -1,
            groups: std::ptr::null(),
            ngroups: 0,
            gid: -1,
            uid: -1,
            reset_signals: 0,
            mask: 0,
            report,
            dfl: KernelSigaction::default(),
        }
    }
}

/// `struct clone_args`, the first version (`CLONE_ARGS_SIZE_VER0`, 64 bytes).
#[repr(C)]
struct CloneArgs {
    flags: u64,
    pidfd: u64,
    child_tid: u64,
    parent_tid: u64,
    exit_signal: u64,
    stack: u64,
    stack_size: u64,
    tls: u64,
}

const CLONE_CLEAR_SIGHAND: u64 = 0x1_0000_0000;

/// A stack for a detached child: mmap'd, with a `PROT_NONE` guard page below it, so that an
/// overflow faults instead of writing into the parent's memory.
#[derive(Debug)]
pub(crate) struct Stack {
    base: *mut libc::c_void,
    len: usize,
}

// SAFETY: the mapping is owned by this value alone; nothing else refers to it.
unsafe impl Send for Stack {}

/// Bytes of stack a child gets (the child function needs well under one page; the rest is
/// room for instrumented builds such as AddressSanitizer's).
pub(crate) const STACK_SIZE: usize = 32 * 1024;
const GUARD: usize = 4096;

impl Stack {
    /// Maps a new stack.
    ///
    /// # Errors
    /// The mmap(2) or mprotect(2) error (`ENOMEM`).
    pub(crate) fn new() -> io::Result<Stack> {
        let len = STACK_SIZE + GUARD;
        // SAFETY: an anonymous private mapping at an address the kernel chooses.
        let base = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_STACK,
                -1,
                0,
            )
        };
        if base == libc::MAP_FAILED {
            return Err(io::Error::last_os_error());
        }
        let stack = Stack { base, len };
        // SAFETY: the first page belongs to the mapping just made.
        if unsafe { libc::mprotect(base, GUARD, libc::PROT_NONE) } != 0 {
            return Err(io::Error::last_os_error()); // `stack` unmaps it
        }
        Ok(stack)
    }

    fn top(&self) -> u64 {
        self.base as u64 + self.len as u64
    }
}

impl Drop for Stack {
    fn drop(&mut self) {
        // SAFETY: the mapping was made by `Stack::new` and is unmapped once, here.
        unsafe { libc::munmap(self.base, self.len) };
    }
}

/// Starts a child running `ctx`. Returns its pid and pidfd.
///
/// In [`Mode::Detach`], `stack` is the child's stack and `ctx`, the memory it points into,
/// `stack` and `ctx.report` must stay valid and unchanged until
/// [`Report::child_uses_memory`] returns false. In [`Mode::Wait`], `stack` is ignored and
/// all of them may be dropped when this returns.
///
/// # Errors
/// The clone3(2) error (`ENOSYS`, `EPERM` from a seccomp filter, `EINVAL` from a kernel
/// older than 5.5, `EAGAIN`, `ENOMEM`), or in [`Mode::Wait`] the error of the failed child
/// step together with the step (the child has then been reaped).
///
/// # Safety
/// Every pointer in `ctx` must be valid as [`ChildCtx`] describes, for as long as described
/// above; the descriptors in `ctx.dups` must be open.
pub(crate) unsafe fn clone_exec(
    ctx: &ChildCtx,
    mode: Mode,
    stack: Option<&Stack>,
) -> Result<(libc::pid_t, std::os::fd::OwnedFd), CloneError> {
    use std::os::fd::FromRawFd;

    let mut own_stack = MaybeUninit::<[u128; STACK_SIZE / 16]>::uninit();
    let mut pidfd: libc::c_int = -1;
    let (flags, stack_top, child_tid) = match (mode, stack) {
        (Mode::Wait, _) => {
            let top = own_stack.as_mut_ptr() as u64 + STACK_SIZE as u64;
            (libc::CLONE_VM as u64 | libc::CLONE_VFORK as u64, top, 0)
        }
        (Mode::Detach, Some(stack)) => {
            // SAFETY (of the later use): the report outlives the child's use of memory, as
            // the caller guarantees.
            let live = ctx.report.cast::<AtomicU32>() as u64;
            (libc::CLONE_VM as u64 | libc::CLONE_CHILD_CLEARTID as u64, stack.top(), live)
        }
        (Mode::Detach, None) => return Err(CloneError::Clone(io::Error::from_raw_os_error(libc::EINVAL))),
    };
    let args = CloneArgs {
        flags: flags | libc::CLONE_PIDFD as u64 | CLONE_CLEAR_SIGHAND,
        pidfd: &mut pidfd as *mut libc::c_int as u64,
        child_tid,
        parent_tid: 0,
        exit_signal: libc::SIGCHLD as u64,
        stack: stack_top - STACK_SIZE as u64,
        stack_size: STACK_SIZE as u64,
        tls: 0,
    };

    // Every signal blocked in this thread, so the child starts with all of them blocked.
    let all = full_sigset();
    let mut old = MaybeUninit::<libc::sigset_t>::uninit();
    // SAFETY: both sets are valid for the call.
    unsafe { libc::pthread_sigmask(libc::SIG_SETMASK, &all, old.as_mut_ptr()) };
    // SAFETY: `args` describes a stack the child may use (the caller's guarantee, or our own
    // frame, which stays suspended under CLONE_VFORK), and `child_main` only reads `ctx`.
    let ret = unsafe { trampoline(&args, ctx) };
    // SAFETY: `old` was initialised by the first call.
    unsafe { libc::pthread_sigmask(libc::SIG_SETMASK, old.as_ptr(), std::ptr::null_mut()) };
    // The child's stack must not be reused before the kernel is done with the child: for
    // CLONE_VFORK that is when clone3 returns, which the compiler cannot know.
    std::hint::black_box(&mut own_stack);

    if ret < 0 {
        return Err(CloneError::Clone(io::Error::from_raw_os_error(-ret as i32)));
    }
    let pid = ret as libc::pid_t;
    // SAFETY: CLONE_PIDFD stored a fresh descriptor (close-on-exec) that nobody else owns.
    let pidfd = unsafe { std::os::fd::OwnedFd::from_raw_fd(pidfd) };
    if mode == Mode::Wait {
        // SAFETY: the caller's report pointer is valid.
        if let Some((step, err)) = unsafe { &*ctx.report }.failure() {
            // The child has exited: reap it so it leaves no zombie.
            let _ = super::waitid_pidfd_blocking(std::os::fd::AsFd::as_fd(&pidfd));
            return Err(CloneError::Child(step, err));
        }
    }
    Ok((pid, pidfd))
}

/// Why [`clone_exec`] failed.
#[derive(Debug)]
pub(crate) enum CloneError {
    /// clone3 itself failed.
    Clone(io::Error),
    /// The child failed at this step (and has been reaped).
    Child(Step, io::Error),
}

fn full_sigset() -> libc::sigset_t {
    let mut set = MaybeUninit::<libc::sigset_t>::uninit();
    // SAFETY: sigfillset initialises the set it is given.
    unsafe {
        libc::sigfillset(set.as_mut_ptr());
        set.assume_init()
    }
}

/// Calls clone3 and, in the child, switches to `child_main(ctx)` on the new stack. Returns
/// clone3's result in the parent (`-errno` on failure).
///
/// # Safety
/// As [`clone_exec`].
#[cfg(target_arch = "x86_64")]
unsafe fn trampoline(args: &CloneArgs, ctx: &ChildCtx) -> isize {
    let ret: isize;
    // SAFETY: clone3 returns twice. In the parent the asm block ends like any system call
    // (rcx and r11 clobbered). In the child (rax = 0) the kernel has set rsp to the top of
    // the new stack (16-byte aligned, so the call leaves it as the ABI expects at function
    // entry), and the child never comes back into Rust code of the parent's frame:
    // `child_main` does not return.
    unsafe {
        std::arch::asm!(
            "syscall",
            "test rax, rax",
            "jnz 2f",
            "xor ebp, ebp",
            "mov rdi, r12",
            "call r13",
            "ud2",
            "2:",
            inlateout("rax") libc::SYS_clone3 as isize => ret,
            in("rdi") args as *const CloneArgs,
            in("rsi") std::mem::size_of::<CloneArgs>(),
            in("r12") ctx as *const ChildCtx,
            in("r13") child_main as extern "C" fn(*const ChildCtx) -> ! as usize,
            lateout("rcx") _,
            lateout("r11") _,
            options(nostack),
        );
    }
    ret
}

/// See the x86_64 version.
///
/// # Safety
/// As [`clone_exec`].
#[cfg(target_arch = "aarch64")]
unsafe fn trampoline(args: &CloneArgs, ctx: &ChildCtx) -> isize {
    let ret: isize;
    // SAFETY: as on x86_64: in the child (x0 = 0) sp is the top of the new stack, 16-byte
    // aligned, and `child_main` never returns.
    unsafe {
        std::arch::asm!(
            "svc 0",
            "cbnz x0, 2f",
            "mov x29, xzr",
            "mov x30, xzr",
            "mov x0, x20",
            "blr x21",
            "brk #1",
            "2:",
            in("x8") libc::SYS_clone3,
            inlateout("x0") args as *const CloneArgs as usize => ret,
            in("x1") std::mem::size_of::<CloneArgs>(),
            in("x20") ctx as *const ChildCtx,
            in("x21") child_main as extern "C" fn(*const ChildCtx) -> ! as usize,
            options(nostack),
        );
    }
    ret
}

/// Other architectures have no trampoline yet: clone3 is reported missing, and the spawn
/// falls back to posix_spawn.
///
/// # Safety
/// None needed; unsafe for the signature shared with the other architectures.
#[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
unsafe fn trampoline(_args: &CloneArgs, _ctx: &ChildCtx) -> isize {
    -(libc::ENOSYS as isize)
}

/// A raw system call: no libc, no `errno`. Returns the kernel's result (`-errno` on failure).
#[cfg(target_arch = "x86_64")]
#[inline(always)]
unsafe fn syscall(n: libc::c_long, a0: usize, a1: usize, a2: usize, a3: usize) -> isize {
    let ret: isize;
    // SAFETY: the caller passes arguments valid for system call `n`; syscall clobbers only
    // rax, rcx and r11.
    unsafe {
        std::arch::asm!(
            "syscall",
            inlateout("rax") n as isize => ret,
            in("rdi") a0,
            in("rsi") a1,
            in("rdx") a2,
            in("r10") a3,
            lateout("rcx") _,
            lateout("r11") _,
            options(nostack),
        );
    }
    ret
}

/// A raw system call: no libc, no `errno`. Returns the kernel's result (`-errno` on failure).
#[cfg(target_arch = "aarch64")]
#[inline(always)]
unsafe fn syscall(n: libc::c_long, a0: usize, a1: usize, a2: usize, a3: usize) -> isize {
    let ret: isize;
    // SAFETY: the caller passes arguments valid for system call `n`.
    unsafe {
        std::arch::asm!(
            "svc 0",
            in("x8") n,
            inlateout("x0") a0 => ret,
            in("x1") a1,
            in("x2") a2,
            in("x3") a3,
            options(nostack),
        );
    }
    ret
}

/// The child, between clone3 and execve. See the module docs for what it may do.
#[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
extern "C" fn child_main(ctx: *const ChildCtx) -> ! {
    // SAFETY: the parent keeps `ctx` valid and unchanged while the child runs.
    let ctx = unsafe { &*ctx };
    // SAFETY: every call below passes pointers into `ctx` (valid, see above) or plain values.
    let (step, errno) = unsafe { child_steps(ctx) };
    // SAFETY: the report is valid for the child's lifetime (the parent's guarantee).
    let report = unsafe { &*ctx.report };
    report.errno.store(errno, Ordering::Relaxed);
    report.step.store(step as u32, Ordering::Release);
    loop {
        // SAFETY: exit_group takes a status; it does not return.
        unsafe { syscall(libc::SYS_exit_group, 127, 0, 0, 0) };
    }
}

/// Runs the steps; returns the step that failed and its `errno` (a successful execve never
/// returns).
///
/// # Safety
/// `ctx` is valid as [`ChildCtx`] describes.
#[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
#[inline(always)]
unsafe fn child_steps(ctx: &ChildCtx) -> (Step, u32) {
    macro_rules! check {
        ($step:expr, $call:expr) => {
            let r = $call;
            if r < 0 {
                return ($step, (-r) as u32);
            }
        };
    }
    // SAFETY: raw system calls with values from `ctx`, whose pointers are valid (the
    // caller's guarantee); none of them writes memory outside the kernel except execve,
    // which replaces it.
    unsafe {
        let mut sig = 1;
        while sig <= 64 {
            if ctx.reset_signals & (1u64 << (sig - 1)) != 0 {
                let dfl = &ctx.dfl as *const KernelSigaction as usize;
                check!(Step::Signals, syscall(libc::SYS_rt_sigaction, sig, dfl, 0, SIGSET_SIZE));
            }
            sig += 1;
        }
        if ctx.new_session {
            check!(Step::Session, syscall(libc::SYS_setsid, 0, 0, 0, 0));
        } else if ctx.process_group >= 0 {
            check!(Step::ProcessGroup, syscall(libc::SYS_setpgid, 0, ctx.process_group as usize, 0, 0));
        }
        if ctx.foreground_tty >= 0 {
            let pgid = syscall(libc::SYS_getpgid, 0, 0, 0, 0);
            check!(Step::Foreground, pgid);
            let pgid = pgid as libc::pid_t;
            let tty = ctx.foreground_tty as usize;
            let arg = &pgid as *const libc::pid_t as usize;
            check!(Step::Foreground, syscall(libc::SYS_ioctl, tty, libc::TIOCSPGRP as usize, arg, 0));
        }
        if !ctx.groups.is_null() {
            check!(Step::Groups, syscall(libc::SYS_setgroups, ctx.ngroups, ctx.groups as usize, 0, 0));
        }
        if ctx.gid >= 0 {
            check!(Step::Gid, syscall(libc::SYS_setgid, ctx.gid as usize, 0, 0, 0));
        }
        if ctx.uid >= 0 {
            check!(Step::Uid, syscall(libc::SYS_setuid, ctx.uid as usize, 0, 0, 0));
        }
        let mut fd = 0;
        while fd < 6 {
            let src = ctx.dups[fd];
            if src >= 0 {
                check!(Step::Dup, syscall(libc::SYS_dup3, src as usize, fd, 0, 0));
            }
            fd += 1;
        }
        if !ctx.cwd.is_null() {
            check!(Step::Chdir, syscall(libc::SYS_chdir, ctx.cwd as usize, 0, 0, 0));
        }
        check!(Step::CloseRange, syscall(libc::SYS_close_range, 6, u32::MAX as usize, 0, 0));
        let mask = &ctx.mask as *const u64 as usize;
        check!(
            Step::Mask,
            syscall(libc::SYS_rt_sigprocmask, libc::SIG_SETMASK as usize, mask, 0, SIGSET_SIZE)
        );
        let r = syscall(libc::SYS_execve, ctx.path as usize, ctx.argv as usize, ctx.envp as usize, 0);
        (Step::Exec, (-r) as u32)
    }
}

/// Whether this kernel has close_range(2) (5.9), which the child needs. The probe closes
/// nothing: descriptor `u32::MAX` cannot be open.
pub(crate) fn has_close_range() -> bool {
    // SAFETY: close_range takes integers.
    unsafe { libc::syscall(libc::SYS_close_range, u32::MAX, u32::MAX, 0) == 0 }
}
