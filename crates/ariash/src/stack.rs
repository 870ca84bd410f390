//! The stack the recursive passes run on.
//!
//! The parser, the checker and the interpreter are recursive walks, and so is dropping a
//! syntax tree. The parser bounds how deep a script may nest ([`MAX_DEPTH`]), which bounds the
//! depth of every later walk; [`on_script_stack`] runs those walks on a thread whose stack is
//! known to hold that depth ([`SCRIPT_STACK`]), whatever the caller's stack: the main thread's
//! 8 MiB, a test thread's 2 MiB, or less.
//!
//! The budget, measured with the deepest accepted script of each shape in
//! `tests/shell_limits.rs` (the tests run them in a debug build): in a debug build, where
//! frames are largest, parsing `1 + (1 + (...))` at the limit needs about 13 MiB and running
//! nested calls `str(str(...))` about 14 MiB; in a release build no shape needs more than
//! 2 MiB. So [`SCRIPT_STACK`] is 64 MiB in debug builds and 8 MiB in release builds, and
//! function calls may nest until all but [`WALK_RESERVE`] of it is used (24 MiB and 3 MiB),
//! which leaves room for one more walk at the limit from the deepest call. The release size
//! also keeps ariash usable under a `ulimit -v` of 30 MB. Dropping a tree at the limit needs
//! far less (a test does it on a 256 KiB stack), so a tree returned to any caller is dropped
//! safely there.
//!
//! The main thread can grow its stack to `RLIMIT_STACK` (8 MiB by default): when that holds
//! [`SCRIPT_STACK`], the walks run on it directly. Creating a thread with a stack of its own
//! (and its first allocations, in a new malloc arena) costs about 0.4 ms, a quarter of
//! ariash's start-up; a release build of `ariash` on a default system never pays it.

use std::io;

/// How deeply a script may nest: blocks and statements inside each other plus the height of
/// the expressions in them (each operator, call, index, list, `!`/`-`, pipe and redirection
/// is one level; parentheses add a level of parsing but none to the tree). A left-associative
/// chain such as `a + b + c + ...` is as deep as it is long.
pub const MAX_DEPTH: usize = 500;

/// The stack size of the thread the parser, checker and interpreter run on.
pub const SCRIPT_STACK: usize = if cfg!(debug_assertions) { 64 << 20 } else { 8 << 20 };

/// The part of [`SCRIPT_STACK`] kept free below the deepest function call: one walk at
/// [`MAX_DEPTH`] with a margin (see the module docs).
pub const WALK_RESERVE: usize = if cfg!(debug_assertions) { 24 << 20 } else { 3 << 20 };

/// Runs `f` where a [`SCRIPT_STACK`]-byte stack is available and returns its result: on the
/// calling thread if it is the main thread and `RLIMIT_STACK` lets it grow that far, else on
/// a thread named `ariash-script` with a stack of that size (reserved address space; only
/// the pages a walk touches are used).
///
/// # Errors
/// The thread could not be created (for example `EAGAIN` under `ulimit -u`).
pub fn on_script_stack<R: Send>(f: impl FnOnce() -> R + Send) -> io::Result<R> {
    if main_thread_holds_script_stack() {
        return Ok(f());
    }
    std::thread::scope(|scope| {
        let handle = std::thread::Builder::new()
            .name("ariash-script".into())
            .stack_size(SCRIPT_STACK)
            .spawn_scoped(scope, f)?;
        match handle.join() {
            Ok(result) => Ok(result),
            // A panic is a bug; pass it on unchanged rather than turning it into an error.
            Err(payload) => std::panic::resume_unwind(payload),
        }
    })
}

/// Whether this is the main thread and its stack may grow to [`SCRIPT_STACK`] bytes
/// (getrlimit(2), `RLIMIT_STACK`; no limit counts).
fn main_thread_holds_script_stack() -> bool {
    std::thread::current().name() == Some("main")
        && rustix::process::getrlimit(rustix::process::Resource::Stack)
            .current
            .is_none_or(|limit| limit >= SCRIPT_STACK as u64)
}
