//! The builtin functions (all but `run`, which is a pipeline stage).

use std::ffi::OsString;
use std::path::Path;
use std::rc::Rc;

use super::{runtime_error, BoxFut, Eval, Flow, Interp};
use crate::ast::{Expr, ExprKind, Ident, Span};
use crate::value::Value;

impl Interp<'_> {
    async fn strings(&mut self, args: &[Expr]) -> Eval<Vec<String>> {
        let mut out = Vec::with_capacity(args.len());
        for a in args {
            match self.eval(a).await? {
                Value::Str(s) => out.push(Rc::unwrap_or_clone(s)),
                _ => return Err(runtime_error(a.span, "expected a string", "not a string")),
            }
        }
        Ok(out)
    }

    /// Calls the builtin `name` (the checker has validated arity and types).
    pub(crate) fn call<'s>(
        &'s mut self,
        name: &'s Ident,
        args: &'s [Expr],
        span: Span,
    ) -> BoxFut<'s, Eval<Value>> {
        Box::pin(async move {
            let void = Value::Str(Rc::default());
            Ok(match name.name.as_str() {
                "print" => {
                    let mut values = Vec::with_capacity(args.len());
                    for a in args {
                        values.push(self.eval(a).await?);
                    }
                    self.print(&values, span)?;
                    void
                }
                "capture" => {
                    let ExprKind::Pipeline(p) = &args[0].kind else {
                        return Err(runtime_error(span, "capture needs a pipeline", "here"));
                    };
                    let out = self.foreground(p, true).await?.output;
                    let mut text = String::from_utf8_lossy(&out).into_owned();
                    while text.ends_with('\n') {
                        text.pop();
                    }
                    Value::str(text)
                }
                "cd" => {
                    let [dir] = self.strings(args).await?.try_into().map_err(bad_args)?;
                    if self.sandboxed() {
                        return Ok(void);
                    }
                    std::env::set_current_dir(&dir).map_err(|e| {
                        runtime_error(span, format!("cannot change directory to `{dir}`: {e}"), "cd failed")
                            .with_help("check with exists(...) before changing directory")
                    })?;
                    void
                }
                "env" => {
                    let [key] = self.strings(args).await?.try_into().map_err(bad_args)?;
                    let key = OsString::from(key);
                    let value = match self.env.get(&key) {
                        Some(v) => v.clone(),
                        None if self.sandboxed() => None,
                        None => std::env::var_os(&key),
                    };
                    Value::str(value.map(|v| v.to_string_lossy().into_owned()).unwrap_or_default())
                }
                "setenv" => {
                    let [key, value] = self.strings(args).await?.try_into().map_err(bad_args)?;
                    check_env_name(&key, span)?;
                    if value.contains('\0') {
                        return Err(runtime_error(
                            span,
                            format!("the value for `{key}` contains a NUL byte"),
                            "bad value",
                        ));
                    }
                    self.env.insert(key.into(), Some(value.into()));
                    void
                }
                "unsetenv" => {
                    let [key] = self.strings(args).await?.try_into().map_err(bad_args)?;
                    check_env_name(&key, span)?;
                    self.env.insert(key.into(), None);
                    void
                }
                "exit" => {
                    let code = match args.first() {
                        Some(a) => match self.eval(a).await? {
                            Value::Int(n) => n.rem_euclid(256) as i32,
                            _ => return Err(runtime_error(a.span, "expected an int", "here")),
                        },
                        None => self.status,
                    };
                    return Err(Flow::Exit(code));
                }
                "len" => match self.eval(&args[0]).await? {
                    Value::List(items) => Value::Int(items.len() as i64),
                    Value::Str(s) => Value::Int(s.chars().count() as i64),
                    _ => return Err(runtime_error(span, "len needs a list or string", "here")),
                },
                "str" => match self.eval(&args[0]).await? {
                    s @ Value::Str(_) => s,
                    other => Value::str(other.to_string()),
                },
                "int" => {
                    let [text] = self.strings(args).await?.try_into().map_err(bad_args)?;
                    let n = text.trim().parse::<i64>().map_err(|_| {
                        runtime_error(
                            args[0].span,
                            format!("`{text}` is not an integer"),
                            "cannot convert to int",
                        )
                        .with_help("int(...) accepts decimal digits with an optional sign")
                    })?;
                    Value::Int(n)
                }
                "exists" => {
                    let [path] = self.strings(args).await?.try_into().map_err(bad_args)?;
                    Value::Bool(!self.sandboxed() && Path::new(&path).exists())
                }
                "status" => Value::Int(i64::from(self.status)),
                other => {
                    return Err(runtime_error(name.span, format!("unknown function `{other}`"), "unknown"))
                }
            })
        })
    }
}

fn bad_args(_: Vec<String>) -> Flow {
    runtime_error(Span::default(), "wrong number of arguments", "here")
}

fn check_env_name(key: &str, span: Span) -> Eval<()> {
    if key.is_empty() || key.contains('=') || key.contains('\0') {
        return Err(runtime_error(
            span,
            format!("`{key}` is not a valid environment variable name"),
            "bad name",
        )
        .with_help("names are non-empty and contain no `=` or NUL"));
    }
    Ok(())
}
