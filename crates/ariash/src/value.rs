//! Runtime values.
//!
//! Strings and lists are shared, not copied: reading a variable, passing it to a builtin or
//! indexing a list clones an `Rc`. A value is copied only when it is changed while shared
//! ([`Rc::make_mut`]), so appending to a string or list that a variable alone holds
//! (`s = s + x;`, `xs += [x];`) grows it in place, in amortised O(1) per appended element.

use std::fmt;
use std::rc::Rc;

/// A value of the language at run time. The checker guarantees operations only meet the
/// types they accept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    /// A `string`.
    Str(Rc<String>),
    /// An `int`.
    Int(i64),
    /// A `bool`.
    Bool(bool),
    /// A list, `[T]`.
    List(Rc<Vec<Value>>),
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
            Ty::Str | Ty::Void => Value::Str(Rc::default()),
        }
    }
}

impl fmt::Display for Value {
    /// Strings print as themselves, ints in decimal, bools as `true`/`false`, and lists as
    /// their elements separated by spaces.
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
        }
    }
}
