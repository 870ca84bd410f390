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
#![deny(clippy::unwrap_used)]
#![warn(missing_docs, missing_debug_implementations)]

pub mod ast;
pub mod check;
pub mod diag;
pub mod lexer;
pub mod parser;

pub use diag::{Diag, Source};

/// Parses and checks a script without running it.
///
/// # Errors
/// The syntax error, or every type error, found in the script.
pub fn compile(source: &Source) -> Result<ast::Script, Vec<Diag>> {
    let script = parser::parse(&source.text).map_err(|d| vec![d])?;
    check::check(&script)?;
    Ok(script)
}
