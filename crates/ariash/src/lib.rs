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
pub mod signals;
pub mod stack;
pub mod value;

use std::sync::Arc;

pub use diag::{Diag, Source};

/// Parses and checks a script without running it.
///
/// # Errors
/// The syntax error, or every type error, found in the script.
///
/// Both run on the script stack (see [`stack`]), so any caller's stack will do.
pub fn compile(source: &Source) -> Result<ast::Script, Vec<Diag>> {
    let compiled = stack::on_script_stack(|| {
        let script = parser::parse_here(&source.text).map_err(|d| vec![d])?;
        check::check_here(&script)?;
        Ok(script)
    });
    compiled.unwrap_or_else(|e| Err(vec![parser::no_thread(&e)]))
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
    stack::on_script_stack(|| {
        let runtime = aria_io::Runtime::new()?;
        let groups = Arc::new(signals::Groups::default());
        runtime.block_on(async {
            let grace = signals::grace_from_env();
            signals::watch(Arc::clone(&groups), grace)?;
            Ok(interp::Interp::new(source, args, groups, grace).run(script).await)
        })
    })?
}
