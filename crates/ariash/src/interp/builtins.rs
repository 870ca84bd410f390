//! The builtin functions (all but `run`, which is a pipeline stage).

use std::ffi::OsString;
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
            if let Some(f) = self.funcs.get(&name.name).cloned() {
                let mut values = Vec::with_capacity(args.len());
                for a in args {
                    values.push(self.eval(a).await?);
                }
                return self.call_func(&f, values, span).await;
            }
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
                "stream" => match &args[0].kind {
                    ExprKind::Pipeline(p) => super::stream::pipeline_stream(p),
                    _ => return Err(runtime_error(span, "stream needs a pipeline", "here")),
                },
                "lines_of" => self.eval(&args[0]).await?,
                "wait" => match self.eval(&args[0]).await? {
                    Value::Job(j) => self.wait_job(&j, span).await?,
                    _ => return Err(runtime_error(args[0].span, "expected a job", "here")),
                },
                "wait_any" => match self.eval(&args[0]).await? {
                    Value::List(js) => self.wait_any(&js, span).await?,
                    _ => return Err(runtime_error(args[0].span, "expected a list of jobs", "here")),
                },
                "jobs" => self.running_jobs(),
                "kill" => {
                    let Value::Job(j) = self.eval(&args[0]).await? else {
                        return Err(runtime_error(args[0].span, "expected a job", "here"));
                    };
                    let signal = match args.get(1) {
                        Some(a) => Some(self.strings(std::slice::from_ref(a)).await?.remove(0)),
                        None => None,
                    };
                    self.kill_job(&j, signal.as_deref(), span)?
                }
                "parallel" => {
                    let (Value::List(items), Value::Int(n), Value::Func(f)) =
                        (self.eval(&args[0]).await?, self.eval(&args[1]).await?, self.eval(&args[2]).await?)
                    else {
                        return Err(runtime_error(span, "parallel(list, n, func)", "bad arguments"));
                    };
                    self.parallel(items, n, f, span).await?
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
                    self.exit_called = true;
                    return Err(Flow::Exit(code));
                }
                "int" => {
                    let v = self.eval(&args[0]).await?;
                    super::text::parse_int(&v, args[0].span)?
                }
                "status" => Value::Int(i64::from(self.status)),
                other => {
                    let mut values = Vec::with_capacity(args.len());
                    for a in args {
                        values.push(self.eval(a).await?);
                    }
                    if let Some(result) = super::text::builtin(other, &values, self.len_limit(), span) {
                        let value = result?;
                        self.check_len(&value, span)?;
                        return Ok(value);
                    }
                    if let Some(result) = self.file_builtin(other, &values, span).await {
                        return result;
                    }
                    return Err(runtime_error(name.span, format!("unknown function `{other}`"), "unknown"));
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
