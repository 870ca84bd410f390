//! Runtime values.
//!
//! Strings and lists are shared, not copied: reading a variable, passing it to a builtin or
//! indexing a list clones an `Rc`. A value is copied only when it is changed while shared
//! ([`Rc::make_mut`]), so appending to a string or list that a variable alone holds
//! (`s = s + x;`, `xs += [x];`) grows it in place, in amortised O(1) per appended element.

use std::fmt;
use std::hash::{Hash, Hasher};
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

use indexmap::IndexMap;

use crate::ast::{FuncDef, PipeExpr};

/// A value of the language at run time. The checker guarantees operations only meet the
/// types they accept.
#[derive(Debug, Clone)]
pub enum Value {
    /// A `string`.
    Str(Rc<String>),
    /// An `int`.
    Int(i64),
    /// A `bool`.
    Bool(bool),
    /// A list, `[T]`.
    List(Rc<Vec<Value>>),
    /// A map, `[K:V]`, in insertion order.
    Map(Rc<IndexMap<Value, Value>>),
    /// A `duration`.
    Duration(Duration),
    /// A `job`.
    Job(JobRef),
    /// A function of the script.
    Func(Arc<FuncDef>),
    /// The lines of stdin or of a pipeline, for a `for` loop.
    Stream(Rc<StreamSource>),
}

/// A background job: shared by every value that names it.
#[derive(Debug, Clone)]
pub struct JobRef(pub(crate) Rc<crate::interp::JobCell>);

/// Where a stream's lines come from.
#[derive(Debug)]
pub enum StreamSource {
    /// The script's own stdin.
    Stdin,
    /// A pipeline, started when the loop starts.
    Pipeline(PipeExpr),
}

impl PartialEq for Value {
    fn eq(&self, other: &Value) -> bool {
        match (self, other) {
            (Value::Str(a), Value::Str(b)) => a == b,
            (Value::Int(a), Value::Int(b)) => a == b,
            (Value::Bool(a), Value::Bool(b)) => a == b,
            (Value::List(a), Value::List(b)) => a == b,
            (Value::Map(a), Value::Map(b)) => {
                a.len() == b.len() && a.iter().zip(b.iter()).all(|(x, y)| x == y)
            }
            (Value::Duration(a), Value::Duration(b)) => a == b,
            (Value::Job(a), Value::Job(b)) => Rc::ptr_eq(&a.0, &b.0),
            (Value::Func(a), Value::Func(b)) => Arc::ptr_eq(a, b),
            (Value::Stream(a), Value::Stream(b)) => Rc::ptr_eq(a, b),
            _ => false,
        }
    }
}

impl Eq for Value {}

impl Default for Value {
    /// The empty string (what a `void` call evaluates to).
    fn default() -> Value {
        Value::Str(Rc::default())
    }
}

impl Hash for Value {
    /// Map keys are strings, ints and bools (the checker sees to it); other values hash by
    /// their kind only, which is consistent with `Eq`.
    fn hash<H: Hasher>(&self, state: &mut H) {
        std::mem::discriminant(self).hash(state);
        match self {
            Value::Str(s) => s.hash(state),
            Value::Int(n) => n.hash(state),
            Value::Bool(b) => b.hash(state),
            Value::Duration(d) => d.hash(state),
            _ => {}
        }
    }
}

impl Value {
    /// A `string` value.
    pub fn str(s: impl Into<String>) -> Value {
        Value::Str(Rc::new(s.into()))
    }

    /// A list value.
    pub fn list(items: Vec<Value>) -> Value {
        Value::List(Rc::new(items))
    }

    /// The zero value of a declared type: `""`, `0`, `false`, `[]`.
    pub fn zero(ty: &crate::ast::Ty) -> Value {
        use crate::ast::Ty;
        match ty {
            Ty::Int => Value::Int(0),
            Ty::Bool | Ty::Pipeline => Value::Bool(false),
            Ty::List(_) | Ty::EmptyList => Value::List(Rc::default()),
            Ty::Map(..) | Ty::EmptyMap => Value::Map(Rc::default()),
            Ty::Duration => Value::Duration(Duration::ZERO),
            // A job variable with no job: waiting for it gives 0 at once.
            Ty::Job => Value::Job(JobRef(Rc::new(crate::interp::JobCell::done(0)))),
            Ty::Str | Ty::Void | Ty::Stream | Ty::Func(..) => Value::Str(Rc::default()),
        }
    }
}

impl fmt::Display for Value {
    /// Strings print as themselves, ints in decimal, bools as `true`/`false`, lists as
    /// their elements separated by spaces, maps as `key=value` pairs separated by spaces,
    /// durations as `1.5s`-style text, jobs as `%N` and their command.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Str(s) => f.write_str(s),
            Value::Int(n) => write!(f, "{n}"),
            Value::Bool(b) => write!(f, "{b}"),
            Value::List(items) => {
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        f.write_str(" ")?;
                    }
                    write!(f, "{item}")?;
                }
                Ok(())
            }
            Value::Map(m) => {
                for (i, (k, v)) in m.iter().enumerate() {
                    if i > 0 {
                        f.write_str(" ")?;
                    }
                    write!(f, "{k}={v}")?;
                }
                Ok(())
            }
            Value::Duration(d) => fmt_duration(*d, f),
            Value::Job(j) => write!(f, "%{} {}", j.0.id, j.0.text),
            Value::Func(def) => write!(f, "func {}", def.name.name),
            Value::Stream(_) => f.write_str("stream"),
        }
    }
}

/// `1h2m3.5s`, `250ms`, `0s`: the largest units first, milliseconds as a fraction of seconds.
fn fmt_duration(d: Duration, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    let ms = d.as_millis();
    if ms == 0 {
        return f.write_str("0s");
    }
    if ms < 1000 {
        return write!(f, "{ms}ms");
    }
    let (h, rest) = (ms / 3_600_000, ms % 3_600_000);
    let (m, rest) = (rest / 60_000, rest % 60_000);
    if h > 0 {
        write!(f, "{h}h")?;
    }
    if m > 0 {
        write!(f, "{m}m")?;
    }
    if rest > 0 {
        let (s, frac) = (rest / 1000, rest % 1000);
        if frac == 0 {
            write!(f, "{s}s")?;
        } else {
            let text = format!("{s}.{frac:03}");
            write!(f, "{}s", text.trim_end_matches('0'))?;
        }
    }
    Ok(())
}
