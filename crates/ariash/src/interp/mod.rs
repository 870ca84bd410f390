//! The interpreter: one async walker over the checked syntax tree, running on `aria_io`.
//!
//! Statements and expressions are evaluated here; pipelines are built and run in
//! [`pipeline`]; builtin functions live in [`builtins`]. Control flow that leaves a statement
//! early (`break`, `continue`, `exit`, a failed `?`, a runtime error, a termination signal)
//! travels as the `Err` side of [`Flow`].
//!
//! Exit status: `exit(n)`; else the status of a pipeline that failed under `?`; else the
//! status of the last pipeline run (0 if none ran). A runtime error exits with 1, a
//! termination signal with `128 + signal`.
//!
//! No child outlives ariash: when the script runs to its end, ariash waits for the background
//! jobs still running; when it stops early (`exit`, a failed `?`, a runtime error) it sends
//! them `SIGTERM`, then `SIGKILL` after the grace period, and reaps them.

mod builtins;
mod pipeline;
mod sandbox;

use std::collections::{BTreeMap, HashMap};
use std::ffi::OsString;
use std::future::Future;
use std::io::Write;
use std::pin::Pin;
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

use crate::ast::{BinOp, Block, Expr, ExprKind, Script, Span, Stmt, StmtKind, UnOp};
use crate::diag::{Diag, Source};
use crate::signals::Groups;
use crate::value::Value;

pub(crate) use pipeline::Job;

/// Why evaluation stopped early.
#[derive(Debug)]
pub(crate) enum Flow {
    /// `break;`
    Break,
    /// `continue;`
    Continue,
    /// `exit(n)` or a failed `?`: stop with this status.
    Exit(i32),
    /// A runtime error: report it and exit with status 1.
    Error(Diag),
    /// A termination signal arrived: exit with `128 + signal`.
    Signal(i32),
}

type Eval<T> = Result<T, Flow>;
type BoxFut<'a, T> = Pin<Box<dyn Future<Output = T> + 'a>>;

/// A runtime error at `span`.
pub(crate) fn runtime_error(span: Span, message: impl Into<String>, label: &str) -> Flow {
    Flow::Error(Diag::new("ariash::runtime", message, span, label))
}

impl Flow {
    /// Adds a hint to a runtime error.
    pub(crate) fn with_help(self, help: &str) -> Flow {
        match self {
            Flow::Error(d) => Flow::Error(d.with_help(help)),
            other => other,
        }
    }
}

/// The interpreter state.
pub(crate) struct Interp<'a> {
    source: &'a Source,
    scopes: Vec<HashMap<String, Value>>,
    /// Status of the last pipeline run (shell-style).
    status: i32,
    /// Background jobs not yet waited for, in start order.
    jobs: Vec<Job>,
    /// Environment changes made by `setenv`/`unsetenv`, applied to every child.
    env: BTreeMap<OsString, Option<OsString>>,
    groups: Arc<Groups>,
    /// How long stopped jobs get between `SIGTERM` and `SIGKILL`.
    grace: Duration,
    /// The fuzzing sandbox (see [`sandbox`]); `None` when running for real.
    sandbox: Option<sandbox::Sandbox>,
}

impl<'a> Interp<'a> {
    pub(crate) fn new(
        source: &'a Source,
        args: Vec<String>,
        groups: Arc<Groups>,
        grace: Duration,
    ) -> Interp<'a> {
        let mut globals = HashMap::new();
        globals.insert("args".to_string(), Value::list(args.into_iter().map(Value::str).collect()));
        Interp {
            source,
            scopes: vec![globals],
            status: 0,
            jobs: Vec::new(),
            env: BTreeMap::new(),
            groups,
            grace,
            sandbox: None,
        }
    }

    /// Runs the script and returns ariash's exit status.
    pub(crate) async fn run(mut self, script: &Script) -> i32 {
        let flow = self.stmts(&script.stmts).await;
        if flow.is_ok() {
            self.reap_jobs().await;
        } else {
            self.terminate_jobs().await;
        }
        let code = match flow {
            Ok(()) => self.status,
            Err(Flow::Exit(code)) => code,
            Err(Flow::Error(diag)) => {
                let text = diag.render(self.source);
                if !self.sandboxed() {
                    crate::diag::eprint_text(&text);
                }
                1
            }
            Err(Flow::Signal(signo)) => 128 + signo,
            // The checker rejects break/continue outside loops.
            Err(Flow::Break | Flow::Continue) => self.status,
        };
        if let Some(signo) = self.groups.terminating() {
            return 128 + signo;
        }
        code
    }

    /// Stops if a termination signal has arrived.
    fn check_signal(&self) -> Eval<()> {
        match self.groups.terminating() {
            Some(signo) => Err(Flow::Signal(signo)),
            None => Ok(()),
        }
    }

    fn lookup(&self, name: &str) -> Option<&Value> {
        self.scopes.iter().rev().find_map(|s| s.get(name))
    }

    fn lookup_mut(&mut self, name: &str) -> Option<&mut Value> {
        self.scopes.iter_mut().rev().find_map(|s| s.get_mut(name))
    }

    fn declare(&mut self, name: &str, value: Value) {
        if let Some(scope) = self.scopes.last_mut() {
            scope.insert(name.to_string(), value);
        }
    }

    async fn stmts(&mut self, stmts: &[Stmt]) -> Eval<()> {
        for stmt in stmts {
            self.check_signal()?;
            self.spend_fuel(stmt.span)?;
            self.stmt(stmt).await?;
        }
        Ok(())
    }

    fn block<'s>(&'s mut self, block: &'s Block) -> BoxFut<'s, Eval<()>> {
        Box::pin(async move {
            self.scopes.push(HashMap::new());
            let r = self.stmts(&block.stmts).await;
            self.scopes.pop();
            r
        })
    }

    /// One loop iteration's housekeeping: let the signal watcher run, and stop if it fired.
    async fn loop_tick(&mut self, span: Span) -> Eval<()> {
        self.spend_fuel(span)?;
        aria_io::yield_now().await;
        self.check_signal()
    }

    fn stmt<'s>(&'s mut self, stmt: &'s Stmt) -> BoxFut<'s, Eval<()>> {
        Box::pin(async move {
            match &stmt.kind {
                StmtKind::Decl { ty, name, init } => {
                    let value = match init {
                        Some(e) => self.eval(e).await?,
                        None => Value::zero(&ty.ty),
                    };
                    self.declare(&name.name, value);
                }
                StmtKind::Assign { name, op, value } => {
                    if let Some(parts) = appended(&name.name, *op, value) {
                        if self.append(&name.name, &parts, stmt.span).await? {
                            return Ok(());
                        }
                    }
                    let rhs = self.eval(value).await?;
                    let new = match op {
                        Some(op) => {
                            let cur = self.lookup(&name.name).cloned().unwrap_or(Value::Int(0));
                            arith(*op, cur, rhs, stmt.span)?
                        }
                        None => rhs,
                    };
                    if let Some(slot) = self.lookup_mut(&name.name) {
                        *slot = new;
                    }
                }
                StmtKind::Expr(e) => {
                    self.eval(e).await?;
                }
                StmtKind::Background(p) => self.background(p).await?,
                StmtKind::If { cond, then, els } => {
                    if self.truth(cond).await? {
                        self.block(then).await?;
                    } else if let Some(els) = els {
                        self.stmt(els).await?;
                    }
                }
                StmtKind::While { cond, body } => loop {
                    self.loop_tick(stmt.span).await?;
                    if !self.truth(cond).await? {
                        break;
                    }
                    match self.block(body).await {
                        Ok(()) | Err(Flow::Continue) => {}
                        Err(Flow::Break) => break,
                        Err(other) => return Err(other),
                    }
                },
                StmtKind::For { var, iter, body } => {
                    let Value::List(items) = self.eval(iter).await? else {
                        return Err(runtime_error(iter.span, "not a list", "expected a list"));
                    };
                    for item in items.iter().cloned() {
                        self.loop_tick(stmt.span).await?;
                        self.scopes.push(HashMap::new());
                        self.declare(&var.name, item);
                        let r = self.stmts(&body.stmts).await;
                        self.scopes.pop();
                        match r {
                            Ok(()) | Err(Flow::Continue) => {}
                            Err(Flow::Break) => break,
                            Err(other) => return Err(other),
                        }
                    }
                }
                StmtKind::Break => return Err(Flow::Break),
                StmtKind::Continue => return Err(Flow::Continue),
                StmtKind::Wait { check } => self.wait_jobs(*check).await?,
                StmtKind::Block(b) => self.block(b).await?,
            }
            Ok(())
        })
    }

    async fn truth(&mut self, e: &Expr) -> Eval<bool> {
        match self.eval(e).await? {
            Value::Bool(b) => Ok(b),
            _ => Err(runtime_error(e.span, "not a bool", "expected a bool")),
        }
    }

    fn eval<'s>(&'s mut self, e: &'s Expr) -> BoxFut<'s, Eval<Value>> {
        Box::pin(async move {
            Ok(match &e.kind {
                ExprKind::Int(n) => Value::Int(*n),
                ExprKind::Str(s) => Value::str(s.clone()),
                ExprKind::Bool(b) => Value::Bool(*b),
                ExprKind::List(items) => {
                    let mut out = Vec::with_capacity(items.len());
                    for item in items {
                        out.push(self.eval(item).await?);
                    }
                    Value::list(out)
                }
                ExprKind::Var(name) => self
                    .lookup(name)
                    .cloned()
                    .ok_or_else(|| runtime_error(e.span, format!("unknown variable `{name}`"), "unknown"))?,
                ExprKind::Unary { op, expr } => match (op, self.eval(expr).await?) {
                    (UnOp::Not, Value::Bool(b)) => Value::Bool(!b),
                    (UnOp::Neg, Value::Int(n)) => Value::Int(n.checked_neg().ok_or_else(|| {
                        runtime_error(e.span, "integer overflow", "overflows")
                            .with_help("ints are 64-bit signed")
                    })?),
                    _ => return Err(runtime_error(e.span, "bad operand", "bad operand")),
                },
                ExprKind::Binary { op: op @ (BinOp::And | BinOp::Or), lhs, rhs, .. } => {
                    let l = self.truth(lhs).await?;
                    if l == (*op == BinOp::Or) {
                        Value::Bool(l)
                    } else {
                        Value::Bool(self.truth(rhs).await?)
                    }
                }
                ExprKind::Binary { op, lhs, rhs, .. } => {
                    let l = self.eval(lhs).await?;
                    let r = self.eval(rhs).await?;
                    let v = arith(*op, l, r, e.span)?;
                    self.check_len(&v, e.span)?;
                    v
                }
                ExprKind::Index { base, index } => {
                    let b = self.eval(base).await?;
                    let i = self.eval(index).await?;
                    match (b, i) {
                        (Value::List(items), Value::Int(i)) => {
                            let len = items.len();
                            usize::try_from(i).ok().and_then(|i| items.get(i).cloned()).ok_or_else(|| {
                                runtime_error(
                                    index.span,
                                    format!("index {i} is out of range for a list of {len}"),
                                    "out of range",
                                )
                                .with_help("check the index against len(...) first")
                            })?
                        }
                        _ => return Err(runtime_error(e.span, "bad index", "bad index")),
                    }
                }
                ExprKind::Call { name, args } => self.call(name, args, e.span).await?,
                ExprKind::Pipeline(p) => Value::Bool(self.foreground(p, false).await?.success),
            })
        })
    }

    /// `name = name + a + b ...;` or `name += a;` on a string or list variable: the operands
    /// are evaluated in order, then appended to the variable's value in place (the variable
    /// lets go of it first, so unless another holds it too, nothing is copied). The value is
    /// read before the operands are evaluated, as `name + a` would. Returns false, having
    /// evaluated nothing, if the variable holds neither a string nor a list.
    async fn append(&mut self, name: &str, parts: &[&Expr], span: Span) -> Eval<bool> {
        let mut value = match self.lookup(name) {
            Some(v @ (Value::Str(_) | Value::List(_))) => v.clone(),
            _ => return Ok(false),
        };
        let mut operands = Vec::with_capacity(parts.len());
        for part in parts {
            operands.push(self.eval(part).await?);
        }
        if let Some(slot) = self.lookup_mut(name) {
            // Drop the variable's reference so that `value` is the only one left.
            *slot = Value::Bool(false);
        }
        let mut result = Ok(());
        for operand in operands {
            match arith(BinOp::Add, value, operand, span) {
                Ok(v) => value = v,
                Err(e) => {
                    result = Err(e);
                    value = Value::Bool(false);
                    break;
                }
            }
        }
        if result.is_ok() {
            result = self.check_len(&value, span);
        }
        if let Some(slot) = self.lookup_mut(name) {
            *slot = value;
        }
        result.map(|()| true)
    }

    /// `print`: the values separated by spaces, a newline, then a flush so the text is not
    /// reordered with output children write to the same fd.
    fn print(&self, values: &[Value], span: Span) -> Eval<()> {
        let mut line = String::new();
        for (i, v) in values.iter().enumerate() {
            if i > 0 {
                line.push(' ');
            }
            line.push_str(&v.to_string());
        }
        line.push('\n');
        if self.sandboxed() {
            return Ok(());
        }
        let mut out = std::io::stdout().lock();
        match out.write_all(line.as_bytes()).and_then(|()| out.flush()) {
            Ok(()) => Ok(()),
            // The reader went away (`ariash script | head -n 1`): stop quietly, with the status
            // a shell killed by SIGPIPE would have.
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Err(Flow::Exit(128 + libc::SIGPIPE)),
            Err(e) => Err(runtime_error(span, format!("cannot write to stdout: {e}"), "print")),
        }
    }
}

/// The operands `name = name + a + b ...;` or `name += a;` appends to `name`, in order.
fn appended<'e>(name: &str, op: Option<BinOp>, value: &'e Expr) -> Option<Vec<&'e Expr>> {
    match op {
        Some(BinOp::Add) => return Some(vec![value]),
        Some(_) => return None,
        None => {}
    }
    let mut parts = Vec::new();
    let mut e = value;
    loop {
        match &e.kind {
            ExprKind::Binary { op: BinOp::Add, lhs, rhs, .. } => {
                parts.push(&**rhs);
                e = lhs;
            }
            ExprKind::Var(v) if v == name && !parts.is_empty() => {
                parts.reverse();
                return Some(parts);
            }
            _ => return None,
        }
    }
}

/// Evaluates a non-logical binary operator on two values the checker has vetted.
fn arith(op: BinOp, l: Value, r: Value, span: Span) -> Eval<Value> {
    let overflow = || runtime_error(span, "integer overflow", "the result does not fit in an int");
    Ok(match (op, l, r) {
        (BinOp::Add, Value::Int(a), Value::Int(b)) => Value::Int(a.checked_add(b).ok_or_else(overflow)?),
        (BinOp::Sub, Value::Int(a), Value::Int(b)) => Value::Int(a.checked_sub(b).ok_or_else(overflow)?),
        (BinOp::Mul, Value::Int(a), Value::Int(b)) => Value::Int(a.checked_mul(b).ok_or_else(overflow)?),
        (BinOp::Div | BinOp::Rem, Value::Int(_), Value::Int(0)) => {
            return Err(runtime_error(span, "division by zero", "divisor is 0")
                .with_help("check that the divisor is not 0 before dividing"))
        }
        (BinOp::Div, Value::Int(a), Value::Int(b)) => Value::Int(a.checked_div(b).ok_or_else(overflow)?),
        (BinOp::Rem, Value::Int(a), Value::Int(b)) => Value::Int(a.checked_rem(b).ok_or_else(overflow)?),
        // In place when `a` is not shared (see `value`).
        (BinOp::Add, Value::Str(mut a), Value::Str(b)) => {
            Rc::make_mut(&mut a).push_str(&b);
            Value::Str(a)
        }
        (BinOp::Add, Value::List(mut a), Value::List(b)) => {
            let items = Rc::make_mut(&mut a);
            match Rc::try_unwrap(b) {
                Ok(b) => items.extend(b),
                Err(b) => items.extend(b.iter().cloned()),
            }
            Value::List(a)
        }
        (BinOp::Eq, a, b) => Value::Bool(a == b),
        (BinOp::Ne, a, b) => Value::Bool(a != b),
        (op @ (BinOp::Lt | BinOp::Gt | BinOp::Le | BinOp::Ge), a, b) => {
            let ord = match (a, b) {
                (Value::Int(a), Value::Int(b)) => a.cmp(&b),
                (Value::Str(a), Value::Str(b)) => a.cmp(&b),
                _ => return Err(runtime_error(span, "cannot compare", "bad operands")),
            };
            Value::Bool(match op {
                BinOp::Lt => ord.is_lt(),
                BinOp::Gt => ord.is_gt(),
                BinOp::Le => ord.is_le(),
                _ => ord.is_ge(),
            })
        }
        _ => return Err(runtime_error(span, "bad operands", "bad operands")),
    })
}
