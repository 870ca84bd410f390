//! `ariash`: the script runner of the aria shell.
//!
//! A script is parsed ([`parser`]), checked for names and types ([`check`]), and only then run
//! ([`interp`]) on the `aria_io` runtime. Parse and type errors are [`diag::Diag`]s rendered with
//! the source line, a caret, and a hint.
//!
//! ```
//! let source = ariash::Source::new("example.ariash", "int:n = 1; n = n + 1;");
//! assert!(ariash::compile(&source).is_ok());
//! ```
#![deny(clippy::unwrap_used, unsafe_op_in_unsafe_fn, unused_must_use)]
#![warn(missing_docs, missing_debug_implementations, unreachable_pub, clippy::undocumented_unsafe_blocks)]

pub mod ast;
pub mod check;
pub mod diag;
mod interp;
pub mod lexer;
pub mod parser;
pub mod repl;
pub mod signals;
pub mod stack;
pub mod value;
mod watch;

use std::sync::Arc;

pub use diag::{Diag, Source};

/// Parses and checks a script without running it.
///
/// # Errors
/// The syntax error, or every type error, found in the script.
///
/// Both run on the script stack (see [`stack`]), so any caller's stack will do.
pub fn compile(source: &Source) -> Result<ast::Script, Vec<Diag>> {
    stack::on_script_stack(|| compile_here(source)).unwrap_or_else(|e| Err(vec![parser::no_thread(&e)]))
}

/// Runs a checked script on a new `aria_io` runtime and returns ariash's exit status.
///
/// `args` becomes the script's `[string]:args`. `SIGINT`, `SIGTERM`, `SIGHUP` and `SIGQUIT`
/// are handled for the duration (see [`signals`]): they are forwarded to the running pipelines
/// and jobs, and the status is then `128 + signal`.
///
/// The script runs on the script stack (see [`stack`]), so any caller's stack will do.
///
/// # Errors
/// Creating the script thread or the runtime, or installing the signal watcher, failed.
pub fn run(source: &Source, script: &ast::Script, args: Vec<String>) -> std::io::Result<i32> {
    stack::on_script_stack(|| run_here(source, script, args))?
}

/// What [`compile_and_run`] did with a script.
#[derive(Debug)]
pub enum Outcome {
    /// The script did not compile: its syntax error or type errors.
    Rejected(Vec<Diag>),
    /// It compiled, and was only to be checked.
    Checked,
    /// It ran and ariash's exit status is this.
    Ran(i32),
}

/// [`compile`], then (unless `check_only`) [`run`], on one script-stack thread instead of
/// one each: what the `ariash` command does, and a thread less at start-up.
///
/// # Errors
/// As [`run`].
pub fn compile_and_run(source: &Source, args: Vec<String>, check_only: bool) -> std::io::Result<Outcome> {
    stack::on_script_stack(|| match compile_here(source) {
        Err(diags) => Ok(Outcome::Rejected(diags)),
        Ok(_) if check_only => Ok(Outcome::Checked),
        Ok(script) => run_here(source, &script, args).map(Outcome::Ran),
    })
    .unwrap_or_else(|e| Ok(Outcome::Rejected(vec![parser::no_thread(&e)])))
}

/// [`run`] on the current thread, which must be a script-stack thread.
fn run_here(source: &Source, script: &ast::Script, args: Vec<String>) -> std::io::Result<i32> {
    // Before the runtime opens descriptors of its own: fd 3 is ariash's stddbg only if
    // it was open when ariash started.
    let stddbg = aria_io::stdio::stddbg().ok();
    let runtime = script_runtime()?;
    let groups = Arc::new(signals::Groups::default());
    runtime.block_on(async {
        let grace = signals::grace_from_env();
        signals::watch(Arc::clone(&groups), grace)?;
        Ok(interp::Interp::new(source, args, groups, grace).with_stddbg(stddbg).run(script).await)
    })
}

/// The runtime a script runs on: current-thread, on epoll unless `ARIA_IO_BACKEND` says
/// otherwise. A script's I/O is process exits (pidfds), pipes and files, which both backends
/// serve alike, and epoll starts faster: `io_uring_setup` and its mappings cost more than
/// the whole rest of ariash's start-up (ash-startup in aria-bench: 3.0 ms p50 with io_uring,
/// 1.2 ms with epoll).
pub(crate) fn script_runtime() -> std::io::Result<aria_io::Runtime> {
    let mut builder = aria_io::Builder::new_current_thread();
    if std::env::var_os("ARIA_IO_BACKEND").is_none_or(|v| v.is_empty()) {
        builder.backend(aria_io::BackendKind::Epoll);
    }
    builder.build()
}

// ---- Fuzzing hooks (the targets in `fuzz/`): the walks on the caller's stack, and a sandbox ----

/// [`compile`] on the current thread, whose stack must hold [`stack::MAX_DEPTH`] levels
/// (see [`stack`]). For the fuzz targets, which run it on the main thread's stack so that a
/// walk deeper than the budget is found as a stack overflow.
///
/// # Errors
/// As [`compile`].
#[doc(hidden)]
pub fn compile_here(source: &Source) -> Result<ast::Script, Vec<Diag>> {
    let script = parser::parse_here(&source.text).map_err(|d| vec![d])?;
    check::check_here(&script)?;
    Ok(script)
}

/// Runs a checked script on the current thread in the fuzzing sandbox and returns its exit
/// status: no process is spawned and nothing outside the interpreter is touched or printed,
/// and the script stops with a runtime error (status 1) after `fuel` statements and loop
/// iterations. See `interp/sandbox.rs` for what exactly is stubbed. The current thread's
/// stack must hold [`stack::MAX_DEPTH`] levels.
///
/// # Errors
/// Creating the runtime failed.
#[doc(hidden)]
pub fn run_sandboxed(source: &Source, script: &ast::Script, fuel: u64) -> std::io::Result<i32> {
    let runtime = aria_io::Runtime::new()?;
    let groups = Arc::new(signals::Groups::default());
    let interp = interp::Interp::new(source, Vec::new(), groups, std::time::Duration::ZERO);
    Ok(runtime.block_on(interp.with_sandbox(fuel).run(script)))
}
