//! Strings, lists and maps: indexing, slicing and the builtins that work on text.
//!
//! Indices count characters (Unicode scalar values) in strings and elements in lists; a
//! negative index counts from the end (`s[-1]` is the last character). Slices `x[a:b]` clamp
//! to the bounds, as Python's do, so they never fail; an index out of range is a runtime
//! error naming the index and the length.

use std::rc::Rc;

use super::sandbox::{render, render_into};
use super::{runtime_error, Eval};
use crate::ast::Span;
use crate::value::Value;

/// The position `key` names in a sequence of `len` elements (negative from the end).
pub(super) fn position(key: &Value, len: usize, span: Span) -> Eval<usize> {
    let Value::Int(i) = *key else {
        return Err(runtime_error(span, "an index must be an int", "not an int"));
    };
    let len_i = i64::try_from(len).unwrap_or(i64::MAX);
    let at = if i < 0 { i + len_i } else { i };
    if (0..len_i).contains(&at) {
        return Ok(at as usize);
    }
    let help = if len == 0 {
        "the value is empty: check len(...) first".to_string()
    } else {
        format!("valid indices are 0 to {} (or -{len} to -1)", len - 1)
    };
    Err(runtime_error(span, format!("index {i} is out of range for length {len}"), "out of range")
        .with_help(&help))
}

/// `base[index]`: a list's element, a string's character, a map's value.
pub(super) fn index(base: Value, key: Value, span: Span) -> Eval<Value> {
    match base {
        Value::List(items) => Ok(items[position(&key, items.len(), span)?].clone()),
        Value::Str(s) => {
            let count = s.chars().count();
            let i = position(&key, count, span)?;
            Ok(Value::str(s.chars().nth(i).map(String::from).unwrap_or_default()))
        }
        Value::Map(m) => match m.get(&key) {
            Some(v) => Ok(v.clone()),
            None => Err(runtime_error(span, format!("no key `{key}` in the map"), "not in the map")
                .with_help("check with has(map, key) first")),
        },
        _ => Err(runtime_error(span, "cannot index this value", "here")),
    }
}

/// Clamps a slice bound (negative from the end) to `0..=len`.
fn bound(b: Option<i64>, len: usize, default: usize) -> usize {
    let Some(b) = b else { return default };
    let len_i = i64::try_from(len).unwrap_or(i64::MAX);
    let at = if b < 0 { b.saturating_add(len_i) } else { b };
    at.clamp(0, len_i) as usize
}

/// `base[start:end]` on a string (characters) or a list; empty when `start >= end`.
pub(super) fn slice(base: Value, start: Option<i64>, end: Option<i64>) -> Value {
    match base {
        Value::List(items) => {
            let (a, b) = (bound(start, items.len(), 0), bound(end, items.len(), items.len()));
            Value::list(if a < b { items[a..b].to_vec() } else { Vec::new() })
        }
        Value::Str(s) => {
            let count = s.chars().count();
            let (a, b) = (bound(start, count, 0), bound(end, count, count));
            Value::str(if a < b { s.chars().skip(a).take(b - a).collect() } else { String::new() })
        }
        other => other,
    }
}

/// `int(s)`: decimal digits with an optional sign, surrounding whitespace ignored.
pub(super) fn parse_int(v: &Value, span: Span) -> Eval<Value> {
    let text = s(v);
    text.trim().parse::<i64>().map(Value::Int).map_err(|_| {
        runtime_error(span, format!("`{text}` is not an integer"), "cannot convert to int")
            .with_help("int(...) accepts decimal digits with an optional sign")
    })
}

/// The zero value of the type `v` has: what `m[k] += v;` starts from when `k` is new.
pub(super) fn zero_like(v: &Value) -> Value {
    match v {
        Value::Int(_) => Value::Int(0),
        Value::Str(_) => Value::Str(Rc::default()),
        Value::List(_) => Value::List(Rc::default()),
        Value::Duration(_) => Value::Duration(std::time::Duration::ZERO),
        other => other.clone(),
    }
}

fn s(v: &Value) -> &str {
    match v {
        Value::Str(s) => s,
        _ => "",
    }
}

fn int(v: &Value) -> i64 {
    match v {
        Value::Int(n) => *n,
        _ => 0,
    }
}

fn strs(items: Vec<&str>) -> Value {
    Value::list(items.into_iter().map(Value::str).collect())
}

/// The builtins [`builtin`] computes (pure functions of their arguments, so the interpreter
/// may evaluate their calls on its synchronous path), besides `int` and `status`.
pub(super) fn is_pure(name: &str) -> bool {
    matches!(
        name,
        "len"
            | "str"
            | "split"
            | "lines"
            | "join"
            | "trim"
            | "upper"
            | "lower"
            | "replace"
            | "contains"
            | "starts_with"
            | "ends_with"
            | "find"
            | "pad_left"
            | "pad_right"
            | "format"
            | "sort"
            | "reverse"
            | "keys"
            | "values"
            | "has"
            | "basename"
            | "dirname"
    )
}

/// The pure builtins on values: `None` if `name` is not one of them. The checker has
/// validated the argument count and types. With a `limit` (the sandbox's), converting a value
/// to a text longer than it is a runtime error (see [`render_into`]).
pub(super) fn builtin(name: &str, args: &[Value], limit: Option<usize>, span: Span) -> Option<Eval<Value>> {
    let a = |i: usize| args.get(i).map_or("", s);
    Some(Ok(match name {
        "split" => {
            if a(1).is_empty() {
                // Like Python's str.split(): runs of whitespace, no empty words.
                strs(a(0).split_whitespace().collect())
            } else {
                strs(a(0).split(a(1)).collect())
            }
        }
        "lines" => strs(a(0).lines().collect()),
        "join" => {
            let Some(Value::List(items)) = args.first() else { return Some(Ok(Value::str(""))) };
            let mut out = String::new();
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(a(1));
                }
                if let Err(e) = render_into(&mut out, item, limit, span) {
                    return Some(Err(e));
                }
            }
            Value::str(out)
        }
        "basename" => {
            let path = a(0);
            let trimmed = path.trim_end_matches('/');
            Value::str(match trimmed.rfind('/') {
                Some(i) => &trimmed[i + 1..],
                None if trimmed.is_empty() && !path.is_empty() => "/",
                None => trimmed,
            })
        }
        "dirname" => {
            let path = a(0);
            let trimmed = path.trim_end_matches('/');
            Value::str(match trimmed.rfind('/') {
                Some(0) => "/",
                Some(i) => trimmed[..i].trim_end_matches('/'),
                None if path.starts_with('/') => "/",
                None => ".",
            })
        }
        "trim" => Value::str(a(0).trim()),
        "upper" => Value::str(a(0).to_uppercase()),
        "lower" => Value::str(a(0).to_lowercase()),
        "replace" => {
            if a(1).is_empty() {
                return Some(Err(runtime_error(span, "replace: the text to replace is empty", "here")
                    .with_help("replace(s, from, to) needs a non-empty `from`")));
            }
            if let Some(limit) = limit {
                // Each match may grow the text by `to`: count them before making it.
                let matches = a(0).matches(a(1)).count();
                let len =
                    (a(0).len() - matches * a(1).len()).saturating_add(matches.saturating_mul(a(2).len()));
                if len > limit {
                    return Some(Err(runtime_error(span, "too long for the sandbox", "made here")));
                }
            }
            Value::str(a(0).replace(a(1), a(2)))
        }
        "contains" => match (&args[0], &args[1]) {
            (Value::List(items), item) => Value::Bool(items.contains(item)),
            _ => Value::Bool(a(0).contains(a(1))),
        },
        "starts_with" => Value::Bool(a(0).starts_with(a(1))),
        "ends_with" => Value::Bool(a(0).ends_with(a(1))),
        "find" => Value::Int(match a(0).find(a(1)) {
            Some(byte) => a(0)[..byte].chars().count() as i64,
            None => -1,
        }),
        "pad_left" | "pad_right" => {
            let text = match render(&args[0], limit, span) {
                Ok(text) => text,
                Err(e) => return Some(Err(e)),
            };
            let fill = match args.get(2) {
                Some(f) => {
                    let mut chars = s(f).chars();
                    match (chars.next(), chars.next()) {
                        (Some(c), None) => c,
                        _ => {
                            return Some(Err(runtime_error(
                                span,
                                format!("{name}: the fill must be one character"),
                                "here",
                            )))
                        }
                    }
                }
                None => ' ',
            };
            let width = usize::try_from(int(&args[1])).unwrap_or(0).min(1 << 20);
            let pad: String = std::iter::repeat_n(fill, width.saturating_sub(text.chars().count())).collect();
            Value::str(if name == "pad_left" { pad + &text } else { text + &pad })
        }
        "format" => {
            let mut out = String::new();
            let mut values = args[1..].iter();
            let mut rest = a(0);
            while let Some(at) = rest.find("{}") {
                out.push_str(&rest[..at]);
                match values.next() {
                    Some(v) => {
                        if let Err(e) = render_into(&mut out, v, limit, span) {
                            return Some(Err(e));
                        }
                    }
                    None => {
                        return Some(Err(runtime_error(span, "format: more {} than values", "here")
                            .with_help("give one value for each {}")))
                    }
                }
                rest = &rest[at + 2..];
            }
            out.push_str(rest);
            if values.next().is_some() {
                return Some(Err(runtime_error(span, "format: more values than {}", "here")));
            }
            Value::str(out)
        }
        "sort" => {
            let Some(Value::List(items)) = args.first() else { return None };
            let mut items = items.to_vec();
            items.sort_by(compare);
            Value::list(items)
        }
        "reverse" => match &args[0] {
            Value::List(items) => Value::list(items.iter().rev().cloned().collect()),
            other => Value::str(s(other).chars().rev().collect::<String>()),
        },
        "keys" | "values" => {
            let Some(Value::Map(m)) = args.first() else { return None };
            Value::list(if name == "keys" {
                m.keys().cloned().collect()
            } else {
                m.values().cloned().collect()
            })
        }
        "has" => match &args[0] {
            Value::Map(m) => Value::Bool(m.contains_key(&args[1])),
            _ => Value::Bool(false),
        },
        "len" => Value::Int(match &args[0] {
            Value::List(items) => items.len(),
            Value::Map(m) => m.len(),
            other => s(other).chars().count(),
        } as i64),
        "str" => match &args[0] {
            v @ Value::Str(_) => v.clone(),
            other => match render(other, limit, span) {
                Ok(text) => Value::str(text),
                Err(e) => return Some(Err(e)),
            },
        },
        _ => return None,
    }))
}

/// The order `sort` uses: ints, strings, durations and bools by their natural order.
fn compare(x: &Value, y: &Value) -> std::cmp::Ordering {
    match (x, y) {
        (Value::Int(a), Value::Int(b)) => a.cmp(b),
        (Value::Str(a), Value::Str(b)) => a.cmp(b),
        (Value::Duration(a), Value::Duration(b)) => a.cmp(b),
        (Value::Bool(a), Value::Bool(b)) => a.cmp(b),
        _ => std::cmp::Ordering::Equal,
    }
}
