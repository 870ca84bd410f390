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
//! # Variables
//!
//! Each block (and function frame, loop iteration, `catch`) has a scope: its variables in
//! declaration order. A name is found by walking the scopes from the innermost out. Each
//! variable reference in the tree (and each assignment) also remembers where it found its
//! variable last ([`VarSlot`]: how many scopes out, which entry), and looks there first. Scoping is lexical and
//! scopes are pushed exactly where blocks are, so a reference always finds its variable the
//! same number of scopes out, at the same position (declarations in a block run in order,
//! and one name is declared once per block); the cache is trusted when that entry still
//! carries the name, and debug builds check it against the walk.
//!
//! No child outlives ariash: when the script runs to its end, ariash waits for the background
//! jobs still running; when it stops early (`exit`, a failed `?`, a runtime error) it sends
//! them `SIGTERM`, then `SIGKILL` after the grace period, and reaps them.

mod builtins;
mod fast;
mod files;
mod jobctl;
mod jobs;
mod pipeline;
mod sandbox;
mod session;
mod stream;
mod text;

use std::cell::Cell;
use std::collections::BTreeMap;
use std::ffi::OsString;
use std::future::Future;
use std::io::Write;
use std::pin::Pin;
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

use indexmap::IndexMap;

use crate::ast::{
    BinOp, Block, Expr, ExprKind, FormatPart, FuncDef, Script, Span, Stmt, StmtKind, UnOp, VarSlot,
};
use crate::diag::{Diag, Source};
use crate::signals::Groups;
use crate::value::{StreamSource, Value};

use fast::{Step, WhileStep};

/// Loop iterations between two yields to the runtime (see [`Interp::loop_tick`]).
const YIELD_EVERY: u32 = 128;
pub(crate) use jobctl::JobControl;
pub(crate) use jobs::JobCell;
pub(crate) use session::{LineEnd, Session};

/// One scope's variables, in declaration order (see [Variables](self#variables)).
type Scope = indexmap::IndexMap<String, Value, rustc_hash::FxBuildHasher>;

/// Why evaluation stopped early.
#[derive(Debug)]
pub(crate) enum Flow {
    /// `break;`
    Break,
    /// `continue;`
    Continue,
    /// `exit(n)` or a failed `?`: stop with this status.
    Exit(i32),
    /// A runtime error: report it and exit with status 1. Boxed so that every `Eval<Value>`
    /// moved through the walker stays the size of a value, not of a diagnostic.
    Error(Box<Diag>),
    /// A termination signal arrived: exit with `128 + signal`.
    Signal(i32),
    /// `return value;` (a void function returns an empty string nobody sees).
    Return(Value),
}

type Eval<T> = Result<T, Flow>;
type BoxFut<'a, T> = Pin<Box<dyn Future<Output = T> + 'a>>;

/// A runtime error at `span`.
pub(crate) fn runtime_error(span: Span, message: impl Into<String>, label: &str) -> Flow {
    Flow::Error(Box::new(Diag::new("ariash::runtime", message, span, label)))
}

impl Flow {
    /// Adds a hint to a runtime error.
    pub(crate) fn with_help(self, help: &str) -> Flow {
        match self {
            Flow::Error(d) => Flow::Error(Box::new(d.with_help(help))),
            other => other,
        }
    }
}

/// The interpreter state. [`parallel`](jobs) runs function calls on copies of it that share
/// the script's functions, environment changes and job numbering.
pub(crate) struct Interp<'a> {
    source: &'a Source,
    /// Scope 0 holds the predeclared variables, scope 1 the script's top-level ones; a
    /// function call sets the scopes above aside and runs in a frame of its own.
    scopes: Vec<Scope>,
    /// Status of the last pipeline run (shell-style).
    status: i32,
    /// Background jobs not yet waited for, in start order.
    jobs: Vec<Rc<JobCell>>,
    /// The script's functions by name.
    funcs: Rc<rustc_hash::FxHashMap<String, Arc<FuncDef>>>,
    /// How many `try` blocks are running: inside one, a failed spawn or `?` is an error
    /// the `catch` gets instead of a message and a status.
    trying: usize,
    /// The address of a local of [`Interp::run`]: how deep function calls have taken the
    /// stack is measured from it.
    stack_base: usize,
    /// The number the next job gets (shared with the copies `parallel` makes).
    next_job: Rc<Cell<usize>>,
    /// Loop iterations since the last yield to the runtime.
    ticks: u32,
    /// Environment changes made by `setenv`/`unsetenv`, applied to every child.
    env: BTreeMap<OsString, Option<OsString>>,
    groups: Arc<Groups>,
    /// How long stopped jobs get between `SIGTERM` and `SIGKILL`.
    grace: Duration,
    /// Where `log(...)` writes: ariash's own stddbg (fd 3), if it was given one.
    stddbg: Option<Rc<std::fs::File>>,
    /// The fuzzing sandbox (see [`sandbox`]); `None` when running for real.
    sandbox: Option<sandbox::Sandbox>,
    /// The REPL's job control (see [`jobctl`]); `None` in scripts.
    jc: Option<Rc<jobctl::JobControl>>,
    /// Set by `exit(...)`: in the REPL only that leaves; a failed `?` pipeline, which also
    /// stops a script with [`Flow::Exit`], ends just the line there.
    exit_called: bool,
}

impl<'a> Interp<'a> {
    pub(crate) fn new(
        source: &'a Source,
        args: Vec<String>,
        groups: Arc<Groups>,
        grace: Duration,
    ) -> Interp<'a> {
        let mut globals = Scope::default();
        globals.insert("args".to_string(), Value::list(args.into_iter().map(Value::str).collect()));
        globals.insert("stdin".to_string(), Value::Stream(Rc::new(StreamSource::Stdin)));
        Interp {
            source,
            scopes: vec![globals, Scope::default()],
            status: 0,
            jobs: Vec::new(),
            funcs: Rc::default(),
            trying: 0,
            stack_base: 0,
            next_job: Rc::new(Cell::new(1)),
            ticks: 0,
            env: BTreeMap::new(),
            groups,
            grace,
            stddbg: None,
            sandbox: None,
            jc: None,
            exit_called: false,
        }
    }

    /// Gives `log(...)` somewhere to write: ariash's stddbg, taken before the runtime opened
    /// descriptors of its own.
    pub(crate) fn with_stddbg(mut self, stddbg: Option<std::fs::File>) -> Self {
        self.stddbg = stddbg.map(Rc::new);
        self
    }

    /// A copy for one `parallel` call: the predeclared and top-level variables as they are
    /// now, the script's functions, environment changes, job numbering and sandbox.
    fn fork(&self) -> Interp<'a> {
        Interp {
            source: self.source,
            scopes: self.scopes.iter().take(2).cloned().collect(),
            status: 0,
            jobs: Vec::new(),
            funcs: Rc::clone(&self.funcs),
            trying: self.trying,
            stack_base: self.stack_base,
            next_job: Rc::clone(&self.next_job),
            ticks: 0,
            env: self.env.clone(),
            groups: Arc::clone(&self.groups),
            grace: self.grace,
            stddbg: self.stddbg.clone(),
            sandbox: self.sandbox.clone(),
            jc: self.jc.clone(),
            exit_called: false,
        }
    }

    /// Runs the script and returns ariash's exit status.
    pub(crate) async fn run(mut self, script: &Script) -> i32 {
        let marker = 0u8;
        self.stack_base = std::ptr::addr_of!(marker) as usize;
        let funcs = script.stmts.iter().filter_map(|s| match &s.kind {
            StmtKind::Func(f) => Some((f.name.name.clone(), Arc::clone(f))),
            _ => None,
        });
        self.funcs = Rc::new(funcs.collect());
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
            // The checker rejects break/continue/return outside loops and functions.
            Err(Flow::Break | Flow::Continue | Flow::Return(_)) => self.status,
        };
        if let Some(signo) = self.groups.terminating() {
            return 128 + signo;
        }
        code
    }

    /// Stops if a termination signal has arrived.
    fn check_signal(&self) -> Eval<()> {
        match self.groups.pending() {
            Some(signo) => Err(Flow::Signal(signo)),
            None => Ok(()),
        }
    }

    /// Where variable `name` is: (scope, entry), from the reference's `slot` when that
    /// still names it (see [Variables](self#variables)), else by a walk from the innermost
    /// scope, which refills `slot`.
    #[inline]
    fn locate(&self, name: &str, slot: &VarSlot) -> Option<(usize, usize)> {
        if let Some(at) = self.cached(name, slot) {
            return Some(at);
        }
        let (depth, index) = self.walk(name)?;
        if let Ok(index32) = u32::try_from(index) {
            slot.set((((self.scopes.len() - depth) as u64) << 32) | u64::from(index32));
        }
        Some((depth, index))
    }

    /// Where `slot` says variable `name` is, if that entry still carries the name.
    #[inline(always)]
    fn cached(&self, name: &str, slot: &VarSlot) -> Option<(usize, usize)> {
        let packed = slot.get();
        let depth = self.scopes.len().wrapping_sub((packed >> 32) as usize);
        let index = (packed & 0xffff_ffff) as usize;
        // An empty slot (0) gives `depth == len`, which no scope has.
        let (key, _) = self.scopes.get(depth)?.get_index(index)?;
        if !same_name(key, name) {
            return None;
        }
        debug_assert_eq!(Some((depth, index)), self.walk(name), "a cached slot for `{name}` is stale");
        Some((depth, index))
    }

    /// The value at the location `slot` caches for variable `name`, if still valid.
    #[inline(always)]
    pub(super) fn cached_value(&self, name: &str, slot: &VarSlot) -> Option<&Value> {
        let (depth, index) = self.cached(name, slot)?;
        self.scopes[depth].get_index(index).map(|(_, v)| v)
    }

    /// Where variable `name` is, looked up by name from the innermost scope out.
    fn walk(&self, name: &str) -> Option<(usize, usize)> {
        (0..self.scopes.len()).rev().find_map(|d| Some((d, self.scopes[d].get_index_of(name)?)))
    }

    #[inline]
    fn lookup_at(&self, name: &str, slot: &VarSlot) -> Option<&Value> {
        let (depth, index) = self.locate(name, slot)?;
        self.scopes[depth].get_index(index).map(|(_, v)| v)
    }

    #[inline]
    fn lookup_mut_at(&mut self, name: &str, slot: &VarSlot) -> Option<&mut Value> {
        let (depth, index) = self.locate(name, slot)?;
        self.scopes[depth].get_index_mut(index).map(|(_, v)| v)
    }

    /// A variable's value, or a function of the script named so.
    #[inline]
    fn var(&self, name: &str, slot: &VarSlot, span: Span) -> Eval<Value> {
        if let Some(v) = self.lookup_at(name, slot) {
            return Ok(v.clone());
        }
        match self.funcs.get(name) {
            Some(f) => Ok(Value::Func(Arc::clone(f))),
            None => Err(runtime_error(span, format!("unknown variable `{name}`"), "unknown")),
        }
    }

    /// Refuses a call when all but [`WALK_RESERVE`](crate::stack::WALK_RESERVE) of the script
    /// stack is used (endless recursion).
    fn check_depth(&self, span: Span) -> Eval<()> {
        let marker = 0u8;
        let here = std::ptr::addr_of!(marker) as usize;
        let budget = if self.sandboxed() {
            sandbox::STACK_BUDGET
        } else {
            crate::stack::SCRIPT_STACK - crate::stack::WALK_RESERVE
        };
        if self.stack_base.saturating_sub(here) > budget {
            return Err(runtime_error(span, "function calls nested too deeply", "one call too many")
                .with_help("a function that calls itself needs a case that returns without calling"));
        }
        Ok(())
    }

    /// Calls a function of the script with its arguments' values.
    pub(crate) fn call_func<'s>(
        &'s mut self,
        f: &'s FuncDef,
        args: Vec<Value>,
        span: Span,
    ) -> BoxFut<'s, Eval<Value>> {
        Box::pin(async move {
            self.check_depth(span)?;
            let outer = self.scopes.split_off(self.scopes.len().min(2));
            let frame = f.params.iter().map(|(_, p)| p.name.clone()).zip(args).collect();
            self.scopes.push(frame);
            let result = self.stmts(&f.body.stmts).await;
            self.scopes.truncate(2);
            self.scopes.extend(outer);
            match result {
                Ok(()) | Err(Flow::Break | Flow::Continue) => Ok(Value::Str(Rc::default())),
                Err(Flow::Return(v)) => Ok(v),
                Err(other) => Err(other),
            }
        })
    }

    fn lookup_mut(&mut self, name: &str) -> Option<&mut Value> {
        self.scopes.iter_mut().rev().find_map(|s| s.get_mut(name))
    }

    fn declare(&mut self, name: &str, value: Value) {
        if let Some(scope) = self.scopes.last_mut() {
            scope.insert(name.to_string(), value);
        }
    }

    /// Runs statements in order: synchronously as far as they allow (see [`fast`]), the
    /// rest on the async path.
    async fn stmts(&mut self, stmts: &[Stmt]) -> Eval<()> {
        let from = match self.stmts_sync(stmts) {
            Ok(result) => return result,
            Err(i) => i,
        };
        for stmt in &stmts[from..] {
            self.check_signal()?;
            self.spend_fuel(stmt.span)?;
            self.stmt(stmt).await?;
        }
        Ok(())
    }

    /// Runs a block in a scope of its own.
    fn block<'s>(&'s mut self, block: &'s Block) -> Step<'s, Eval<()>> {
        self.scopes.push(Scope::default());
        let from = match self.stmts_sync(&block.stmts) {
            Ok(result) => {
                self.scopes.pop();
                return Step::Ready(Some(result));
            }
            Err(i) => i,
        };
        Step::Pending(Box::pin(async move {
            let r = self.stmts(&block.stmts[from..]).await;
            self.scopes.pop();
            r
        }))
    }

    /// One loop iteration's housekeeping: every so often let the signal watcher (and any
    /// other task) run, and stop if a termination signal arrived.
    async fn loop_tick(&mut self, span: Span) -> Eval<()> {
        self.spend_fuel(span)?;
        self.ticks += 1;
        if self.ticks >= YIELD_EVERY {
            self.ticks = 0;
            aria_io::yield_now().await;
        }
        self.check_signal()
    }

    /// Runs one statement (synchronously when it cannot wait, see [`fast`]).
    fn stmt<'s>(&'s mut self, stmt: &'s Stmt) -> Step<'s, Eval<()>> {
        match self.stmt_sync(stmt) {
            Some(result) => Step::Ready(Some(result)),
            None => Step::Pending(self.stmt_async(stmt)),
        }
    }

    fn stmt_async<'s>(&'s mut self, stmt: &'s Stmt) -> BoxFut<'s, Eval<()>> {
        Box::pin(async move {
            match &stmt.kind {
                StmtKind::Decl { ty, name, init } => {
                    let value = match init {
                        Some(e) => self.eval(e).await?,
                        None => Value::zero(&ty.ty),
                    };
                    self.declare(&name.name, value);
                }
                StmtKind::Assign { name, op, value, slot } => {
                    if let Some((current, parts)) = self.appending(&name.name, slot, *op, value) {
                        let mut operands = Vec::with_capacity(parts.len());
                        for part in parts {
                            operands.push(self.eval(part).await?);
                        }
                        return self.append_values(&name.name, slot, current, operands, stmt.span);
                    }
                    let rhs = self.eval(value).await?;
                    self.assign(&name.name, slot, *op, rhs, stmt.span)?;
                }
                StmtKind::Expr(e) => {
                    self.eval(e).await?;
                }
                StmtKind::Background(p) => {
                    self.background(p).await?;
                }
                StmtKind::If { cond, then, els } => {
                    if self.truth(cond).await? {
                        self.block(then).await?;
                    } else if let Some(els) = els {
                        self.stmt(els).await?;
                    }
                }
                StmtKind::While { cond, body } => loop {
                    match self.while_sync(stmt.span, cond, body) {
                        WhileStep::Done(result) => break result?,
                        WhileStep::Async => {}
                        WhileStep::BodyFrom(i) => {
                            // Finish this iteration's body (its scope is pushed) asynchronously.
                            let r = self.stmts(&body.stmts[i..]).await;
                            self.scopes.pop();
                            match r {
                                Ok(()) | Err(Flow::Continue) => continue,
                                Err(Flow::Break) => break,
                                Err(other) => return Err(other),
                            }
                        }
                    }
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
                    let items = match self.eval(iter).await? {
                        Value::List(items) => items,
                        Value::Map(m) => Rc::new(m.keys().cloned().collect()),
                        Value::Stream(src) => return self.for_stream(&src, &var.name, body, stmt.span).await,
                        _ => return Err(runtime_error(iter.span, "not a list", "expected a list")),
                    };
                    for item in items.iter().cloned() {
                        self.loop_tick(stmt.span).await?;
                        self.scopes.push(Scope::default());
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
                StmtKind::Wait { check } => self.wait_jobs(*check, stmt.span).await?,
                StmtKind::Block(b) => self.block(b).await?,
                StmtKind::Func(_) => {}
                StmtKind::Return(value) => {
                    let v = match value {
                        Some(e) => self.eval(e).await?,
                        None => Value::Str(Rc::default()),
                    };
                    return Err(Flow::Return(v));
                }
                StmtKind::Try { body, var, handler } => {
                    self.trying += 1;
                    let depth = self.scopes.len();
                    let result = self.block(body).await;
                    self.trying -= 1;
                    // A function call inside may have stopped with its frame still pushed.
                    self.scopes.truncate(depth);
                    match result {
                        Err(Flow::Error(diag)) => {
                            self.scopes.push(Scope::default());
                            if let Some(var) = var {
                                self.declare(&var.name, Value::str(diag.message));
                            }
                            let r = self.stmts(&handler.stmts).await;
                            self.scopes.pop();
                            r?;
                        }
                        other => other?,
                    }
                }
                StmtKind::SetIndex { name, index, op, value } => {
                    let key = self.eval(index).await?;
                    let rhs = self.eval(value).await?;
                    self.set_index(&name.name, key, *op, rhs, index.span, stmt.span)?;
                }
            }
            Ok(())
        })
    }

    async fn int(&mut self, e: &Expr) -> Eval<i64> {
        match self.eval(e).await? {
            Value::Int(n) => Ok(n),
            _ => Err(runtime_error(e.span, "not an int", "expected an int")),
        }
    }

    /// `name[key] = rhs;` or with a compound operator. A compound assignment to a map key
    /// not there yet starts from the zero value (`counts[k] += 1;` counts from 0).
    fn set_index(
        &mut self,
        name: &str,
        key: Value,
        op: Option<BinOp>,
        rhs: Value,
        at: Span,
        span: Span,
    ) -> Eval<()> {
        let limit = self.len_limit();
        // `xs[0] += xs[0];` grows an element as `s += s;` grows a variable.
        let too_long = |v: &Value| match v {
            Value::Str(s) => limit.is_some_and(|l| s.len() > l),
            Value::List(items) => limit.is_some_and(|l| items.len() > l),
            _ => false,
        };
        let Some(slot) = self.lookup_mut(name) else {
            return Err(runtime_error(span, format!("unknown variable `{name}`"), "unknown"));
        };
        match slot {
            Value::List(items) => {
                let items = Rc::make_mut(items);
                let i = text::position(&key, items.len(), at)?;
                let new = match op {
                    Some(op) => arith(op, items[i].clone(), rhs, span)?,
                    None => rhs,
                };
                if too_long(&new) {
                    return Err(runtime_error(span, "too long for the sandbox", "made here"));
                }
                items[i] = new;
            }
            Value::Map(m) => {
                let m = Rc::make_mut(m);
                let new = match op {
                    Some(op) => {
                        let cur = m.get(&key).cloned().unwrap_or_else(|| text::zero_like(&rhs));
                        arith(op, cur, rhs, span)?
                    }
                    None => rhs,
                };
                if too_long(&new) {
                    return Err(runtime_error(span, "too long for the sandbox", "made here"));
                }
                m.insert(key, new);
            }
            _ => return Err(runtime_error(span, format!("`{name}` is not a list or map"), "here")),
        }
        Ok(())
    }

    async fn truth(&mut self, e: &Expr) -> Eval<bool> {
        match self.eval(e).await? {
            Value::Bool(b) => Ok(b),
            _ => Err(runtime_error(e.span, "not a bool", "expected a bool")),
        }
    }

    /// `name = rhs;` or `name op= rhs;`.
    fn assign(&mut self, name: &str, at: &VarSlot, op: Option<BinOp>, rhs: Value, span: Span) -> Eval<()> {
        // The checker only lets declared variables be assigned.
        match self.locate(name, at) {
            Some(location) => self.assign_at(location, op, rhs, span),
            None => Ok(()),
        }
    }

    /// `name = rhs;` or `name op= rhs;` for the variable at `(scope, entry)` (see
    /// [`locate`](Interp::locate)). Ints are written in place.
    #[inline(always)]
    fn assign_at(
        &mut self,
        (depth, index): (usize, usize),
        op: Option<BinOp>,
        rhs: Value,
        span: Span,
    ) -> Eval<()> {
        let Some((_, cur)) = self.scopes[depth].get_index_mut(index) else { return Ok(()) };
        if let (None, Value::Int(c), Value::Int(n)) = (op, &mut *cur, &rhs) {
            *c = *n;
            // An int owns nothing: skip the out-of-line drop of a `Value`.
            std::mem::forget(rhs);
            return Ok(());
        }
        match (op, cur, rhs) {
            (None, cur, rhs) => {
                *cur = rhs;
                Ok(())
            }
            (Some(op), cur, rhs) => arith(op, cur.clone(), rhs, span).map(|v| *cur = v),
        }
    }

    /// Evaluates an expression (synchronously when no part of it can wait, see [`fast`]).
    fn eval<'s>(&'s mut self, e: &'s Expr) -> Step<'s, Eval<Value>> {
        match self.eval_sync(e) {
            Some(result) => Step::Ready(Some(result)),
            None => Step::Pending(self.eval_async(e)),
        }
    }

    fn eval_async<'s>(&'s mut self, e: &'s Expr) -> BoxFut<'s, Eval<Value>> {
        Box::pin(async move {
            Ok(match &e.kind {
                ExprKind::Int(n) => Value::Int(*n),
                ExprKind::Str(s) => Value::str(s.clone()),
                ExprKind::Duration(d) => Value::Duration(*d),
                ExprKind::Format(parts) => {
                    let mut out = String::new();
                    for part in parts {
                        match part {
                            FormatPart::Lit(s) => out.push_str(s),
                            FormatPart::Expr(x) => {
                                let v = self.eval(x).await?;
                                sandbox::render_into(&mut out, &v, self.len_limit(), e.span)?;
                            }
                        }
                    }
                    let v = Value::str(out);
                    self.check_len(&v, e.span)?;
                    v
                }
                ExprKind::Map(entries) => {
                    let mut m = IndexMap::with_capacity(entries.len());
                    for (k, v) in entries {
                        let k = self.eval(k).await?;
                        let v = self.eval(v).await?;
                        m.insert(k, v);
                    }
                    Value::Map(Rc::new(m))
                }
                ExprKind::Slice { base, start, end } => {
                    let b = self.eval(base).await?;
                    let start = match start {
                        Some(x) => Some(self.int(x).await?),
                        None => None,
                    };
                    let end = match end {
                        Some(x) => Some(self.int(x).await?),
                        None => None,
                    };
                    text::slice(b, start, end)
                }
                ExprKind::Spawn(p) => Value::Job(self.background(p).await?),
                ExprKind::Bool(b) => Value::Bool(*b),
                ExprKind::List(items) => {
                    let mut out = Vec::with_capacity(items.len());
                    for item in items {
                        out.push(self.eval(item).await?);
                    }
                    Value::list(out)
                }
                ExprKind::Var(name, slot) => self.var(name, slot, e.span)?,
                ExprKind::Unary { op, expr } => {
                    let v = self.eval(expr).await?;
                    unary(*op, v, e.span)?
                }
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
                    text::index(b, i, index.span)?
                }
                ExprKind::Call { name, args } => self.call(name, args, e.span).await?,
                ExprKind::Pipeline(p) => Value::Bool(self.foreground(p, false).await?.success),
            })
        })
    }

    /// `name = name + a + b ...;` or `name += a;` on a string or list variable, `value`
    /// being the variable's value read before the operands were evaluated (as `name + a`
    /// would): the operands are appended to it in place (the variable lets go of it first,
    /// so unless another holds it too, nothing is copied).
    fn append_values(
        &mut self,
        name: &str,
        at: &VarSlot,
        mut value: Value,
        operands: Vec<Value>,
        span: Span,
    ) -> Eval<()> {
        if let Some(slot) = self.lookup_mut_at(name, at) {
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
        if let Some(slot) = self.lookup_mut_at(name, at) {
            *slot = value;
        }
        result
    }

    /// For `name = name + a + b ...;` or `name += a;` on a string or list variable: its
    /// value now and the operands to append.
    fn appending<'e>(
        &self,
        name: &str,
        at: &VarSlot,
        op: Option<BinOp>,
        value: &'e Expr,
    ) -> Option<(Value, Vec<&'e Expr>)> {
        let current = self.lookup_at(name, at).filter(|v| matches!(v, Value::Str(_) | Value::List(_)))?;
        let parts = appended(name, op, value)?;
        Some((current.clone(), parts))
    }

    /// `print`: the values separated by spaces, a newline, then a flush so the text is not
    /// reordered with output children write to the same fd.
    fn print(&self, values: &[Value], span: Span) -> Eval<()> {
        let mut line = String::new();
        for (i, v) in values.iter().enumerate() {
            if i > 0 {
                line.push(' ');
            }
            sandbox::render_into(&mut line, v, self.len_limit(), span)?;
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

/// `a == b` for variable names, compared inline: names are short, and a call to `memcmp`
/// costs more than the comparison.
#[inline]
fn same_name(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).all(|(x, y)| x == y)
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
            ExprKind::Var(v, _) if v == name && !parts.is_empty() => {
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
        (BinOp::Add, Value::Duration(a), Value::Duration(b)) => {
            Value::Duration(a.checked_add(b).ok_or_else(overflow)?)
        }
        (BinOp::Sub, Value::Duration(a), Value::Duration(b)) => Value::Duration(a.saturating_sub(b)),
        (BinOp::Mul, Value::Duration(d), Value::Int(n)) | (BinOp::Mul, Value::Int(n), Value::Duration(d)) => {
            let n = u32::try_from(n).map_err(|_| {
                runtime_error(span, format!("cannot multiply a duration by {n}"), "out of range")
                    .with_help("durations are multiplied by ints from 0 to 4294967295")
            })?;
            Value::Duration(d.checked_mul(n).ok_or_else(overflow)?)
        }
        (BinOp::Div, Value::Duration(_), Value::Int(0))
        | (BinOp::Div, Value::Duration(_), Value::Duration(Duration::ZERO)) => {
            return Err(runtime_error(span, "division by zero", "divisor is 0"))
        }
        (BinOp::Div, Value::Duration(d), Value::Int(n)) => {
            let n = u32::try_from(n).map_err(|_| {
                runtime_error(span, format!("cannot divide a duration by {n}"), "out of range")
            })?;
            Value::Duration(d / n)
        }
        (BinOp::Div, Value::Duration(a), Value::Duration(b)) => {
            Value::Int(i64::try_from(a.as_nanos() / b.as_nanos()).map_err(|_| overflow())?)
        }
        (BinOp::Eq, a, b) => Value::Bool(a == b),
        (BinOp::Ne, a, b) => Value::Bool(a != b),
        (op @ (BinOp::Lt | BinOp::Gt | BinOp::Le | BinOp::Ge), a, b) => {
            let ord = match (a, b) {
                (Value::Int(a), Value::Int(b)) => a.cmp(&b),
                (Value::Str(a), Value::Str(b)) => a.cmp(&b),
                (Value::Duration(a), Value::Duration(b)) => a.cmp(&b),
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

/// Evaluates a unary operator on a value the checker has vetted.
fn unary(op: UnOp, v: Value, span: Span) -> Eval<Value> {
    match (op, v) {
        (UnOp::Not, Value::Bool(b)) => Ok(Value::Bool(!b)),
        (UnOp::Neg, Value::Int(n)) => n.checked_neg().map(Value::Int).ok_or_else(|| {
            runtime_error(span, "integer overflow", "overflows").with_help("ints are 64-bit signed")
        }),
        _ => Err(runtime_error(span, "bad operand", "bad operand")),
    }
}
