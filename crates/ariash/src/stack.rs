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
//! 2 MiB. So [`SCRIPT_STACK`] is 64 MiB in debug builds and 16 MiB in release builds, a margin
//! of four or more; the release size also keeps ariash usable under a `ulimit -v` of 30 MB.
//! Dropping a tree at the limit needs far less (a test does it on a 256 KiB stack), so a tree
//! returned to any caller is dropped safely there.

use std::io;

/// How deeply a script may nest: blocks and statements inside each other plus the height of
/// the expressions in them (each operator, call, index, list, `!`/`-`, pipe and redirection
/// is one level; parentheses add a level of parsing but none to the tree). A left-associative
/// chain such as `a + b + c + ...` is as deep as it is long.
pub const MAX_DEPTH: usize = 500;

/// The stack size of the thread the parser, checker and interpreter run on.
pub const SCRIPT_STACK: usize = if cfg!(debug_assertions) { 64 << 20 } else { 16 << 20 };

/// Runs `f` on a thread named `ariash-script` with a [`SCRIPT_STACK`]-byte stack and returns
/// its result. The stack is reserved address space; only the pages a walk touches are used.
///
/// # Errors
/// The thread could not be created (for example `EAGAIN` under `ulimit -u`).
pub fn on_script_stack<R: Send>(f: impl FnOnce() -> R + Send) -> io::Result<R> {
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
