//! The sandbox the `run_stubbed` fuzz target runs scripts in ([`crate::run_sandboxed`]).
//!
//! A sandboxed interpreter touches nothing outside itself, and stops by itself:
//! - pipelines are built (their arguments and redirection targets evaluated) but never
//!   spawned: a foreground pipeline "runs" with status 0 and empty output, or 1 if its first
//!   program is `false` (so that `?` and `wait?` failures are reached too), and a background
//!   job likewise;
//! - `cd`, `print`, `eprint`, `log`, `sleep`, `kill` and the file writes do nothing once
//!   their arguments are evaluated; `exists`, `is_dir` and `is_file` are false, `glob` finds
//!   nothing, `read_file` fails as for a missing file, stdin is empty, `env` sees only the
//!   script's own `setenv`s, and no signal handler is installed;
//! - function calls may use [`STACK_BUDGET`] bytes of stack;
//! - every statement and loop iteration spends one unit of fuel; running out is a runtime
//!   error;
//! - a string or list longer than [`MAX_LEN`] (bytes or items) made by `+`, `+=` (on a
//!   variable, a list element or a map value), an f-string, a builtin or a value's conversion
//!   to text (`str`, `print`, `join`, a command literal's word...) is a runtime error, found
//!   before the text is made, so that doubling a value in a loop (`s = f"{s}{s}";`) or
//!   rendering a list of long strings cannot exhaust memory before the fuel runs out.
//!
//! The real runner has no sandbox (`Interp::sandbox` is `None`) and none of this applies.

use std::cell::Cell;
use std::fmt::{self, Write as _};
use std::rc::Rc;

use super::{runtime_error, Eval, Interp};
use crate::ast::Span;
use crate::value::Value;

/// The longest string (bytes) or list (items) a sandboxed `+` may make.
pub(crate) const MAX_LEN: usize = 1 << 16;

/// What a sandboxed interpreter has left to spend (shared with the copies `parallel`
/// makes, so they cannot multiply it).
#[derive(Debug, Clone)]
pub(crate) struct Sandbox {
    /// Statements and loop iterations left.
    pub(crate) fuel: Rc<Cell<u64>>,
}

/// How deep function calls may take the stack in the sandbox, in bytes: the fuzz targets run
/// on a thread with an ordinary stack.
pub(crate) const STACK_BUDGET: usize = 1 << 20;

impl Interp<'_> {
    /// Puts this interpreter in the sandbox with `fuel` statements and loop iterations to run.
    pub(crate) fn with_sandbox(mut self, fuel: u64) -> Self {
        self.sandbox = Some(Sandbox { fuel: Rc::new(Cell::new(fuel)) });
        self
    }

    /// Whether this interpreter runs in the sandbox.
    pub(crate) fn sandboxed(&self) -> bool {
        self.sandbox.is_some()
    }

    /// Spends one unit of fuel, if sandboxed; an empty tank is a runtime error at `span`.
    #[inline]
    pub(crate) fn spend_fuel(&mut self, span: Span) -> Eval<()> {
        match &self.sandbox {
            Some(sandbox) if sandbox.fuel.get() == 0 => {
                Err(runtime_error(span, "out of fuel", "stopped here"))
            }
            Some(sandbox) => {
                sandbox.fuel.set(sandbox.fuel.get() - 1);
                Ok(())
            }
            None => Ok(()),
        }
    }

    /// Gives back the unit [`spend_fuel`](Self::spend_fuel) took for a statement that is
    /// then spent again on the async path.
    #[inline]
    pub(crate) fn refund_fuel(&mut self) {
        if let Some(sandbox) = &self.sandbox {
            sandbox.fuel.set(sandbox.fuel.get() + 1);
        }
    }

    /// The longest text or list a value may be: [`MAX_LEN`] in the sandbox, else no limit.
    pub(crate) fn len_limit(&self) -> Option<usize> {
        self.sandboxed().then_some(MAX_LEN)
    }

    /// Refuses a string or list longer than [`MAX_LEN`], if sandboxed.
    #[inline]
    pub(crate) fn check_len(&self, value: &Value, span: Span) -> Eval<()> {
        let len = match value {
            Value::Str(s) => s.len(),
            Value::List(items) => items.len(),
            _ => 0,
        };
        if self.sandboxed() && len > MAX_LEN {
            return Err(runtime_error(span, "too long for the sandbox", "made here"));
        }
        Ok(())
    }
}

/// A text that refuses to grow past `cap` bytes.
struct Capped<'o> {
    out: &'o mut String,
    cap: usize,
}

impl fmt::Write for Capped<'_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        if self.out.len().saturating_add(s.len()) > self.cap {
            return Err(fmt::Error);
        }
        self.out.push_str(s);
        Ok(())
    }
}

/// Appends `value` as text (as `str` converts it) to `out`. With a `limit` (the sandbox's),
/// `out` growing past it is a runtime error at `span`, raised before the text is made: a
/// list of long strings, or lists nested and shared, could otherwise render to gigabytes.
pub(crate) fn render_into(out: &mut String, value: &Value, limit: Option<usize>, span: Span) -> Eval<()> {
    let Some(cap) = limit else {
        let _ = write!(out, "{value}");
        return Ok(());
    };
    if write!(Capped { out, cap }, "{value}").is_err() {
        return Err(runtime_error(span, "too long for the sandbox", "made here"));
    }
    Ok(())
}

/// `value` as text, as [`render_into`] makes it.
pub(crate) fn render(value: &Value, limit: Option<usize>, span: Span) -> Eval<String> {
    let mut out = String::new();
    render_into(&mut out, value, limit, span)?;
    Ok(out)
}

/// The status a stubbed pipeline finishes with: 1 if its first program is `false`, else 0.
pub(crate) fn stub_status(stages: &[(String, Span)]) -> i32 {
    i32::from(stages.first().is_some_and(|(program, _)| program == "false"))
}
