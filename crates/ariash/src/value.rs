//! Runtime values.

use std::fmt;

/// A value of the language at run time. The checker guarantees operations only meet the
/// types they accept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    /// A `string`.
    Str(String),
    /// An `int`.
    Int(i64),
    /// A `bool`.
    Bool(bool),
    /// A list, `[T]`.
    List(Vec<Value>),
}

impl Value {
    /// The zero value of a declared type: `""`, `0`, `false`, `[]`.
    pub fn zero(ty: &crate::ast::Ty) -> Value {
        use crate::ast::Ty;
        match ty {
            Ty::Int => Value::Int(0),
            Ty::Bool | Ty::Pipeline => Value::Bool(false),
            Ty::List(_) | Ty::EmptyList => Value::List(Vec::new()),
            Ty::Str | Ty::Void => Value::Str(String::new()),
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
