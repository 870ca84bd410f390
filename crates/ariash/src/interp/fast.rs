//! The synchronous path: statements and expressions that never wait are evaluated without
//! building a future.
//!
//! The tree walk is async because a pipeline, a `sleep` or a `wait` anywhere must let the
//! runtime run; recursion in async code costs a boxed future per node. Most nodes never
//! wait (arithmetic, variables, string operations, assignments), so [`Interp::eval`] and
//! [`Interp::stmt`] first try them here and return a [`Step::Ready`]; only a node that may
//! wait (a call to a function of the script or to a builtin that reaches outside, a
//! pipeline, `&`, a loop) takes the boxed async path. A 1,000,000-iteration integer loop
//! thus allocates nothing per iteration.
//!
//! The synchronous attempt gives up (`None`) at the first node it cannot evaluate, before
//! changing anything: the nodes it evaluated before giving up have no side effects (they
//! are exactly the ones it can evaluate), and the async path evaluates them again in the
//! same order, so a runtime error is the same one either way.

use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

use indexmap::IndexMap;

use super::{arith, runtime_error, sandbox, text, unary, BoxFut, Eval, Flow, Interp, Scope};
use crate::ast::{BinOp, Block, Expr, ExprKind, FormatPart, Span, Stmt, StmtKind};
use crate::value::Value;

/// A future that may already be complete: what [`Interp::eval`] and [`Interp::stmt`] return.
pub(crate) enum Step<'s, T> {
    /// Evaluated synchronously (taken when polled).
    Ready(Option<T>),
    /// Needs the async path.
    Pending(BoxFut<'s, T>),
}

impl<T: Unpin> Future for Step<'_, T> {
    type Output = T;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<T> {
        match self.get_mut() {
            Step::Ready(value) => match value.take() {
                Some(v) => Poll::Ready(v),
                // Polled after completion: never completes again.
                None => Poll::Pending,
            },
            Step::Pending(fut) => fut.as_mut().poll(cx),
        }
    }
}

/// Where [`Interp::while_sync`] left a `while` loop.
pub(super) enum WhileStep {
    /// The loop ended (its condition was false, or `break`), or stopped with this flow.
    Done(Eval<()>),
    /// The next iteration must run on the async path from its start: a yield to the runtime
    /// is due, or the condition cannot be evaluated synchronously. Nothing of it ran.
    Async,
    /// The body's statement at this index must run on the async path; the statements before
    /// it ran, in the body's scope, which is still pushed.
    BodyFrom(usize),
}

/// Evaluates `$e` synchronously or gives up (returns `None` from the enclosing function);
/// an error is returned as `Some(Err(..))`.
macro_rules! sync {
    ($self:ident, $e:expr) => {
        match $self.eval_sync($e)? {
            Ok(v) => v,
            Err(flow) => return Some(Err(flow)),
        }
    };
}

impl Interp<'_> {
    /// Evaluates `e` if no part of it can wait; `None` (having changed nothing) otherwise.
    /// The leaves (an int, a variable) are evaluated here, inlined into the caller; the
    /// rest in [`eval_sync_node`](Interp::eval_sync_node).
    #[inline(always)]
    pub(super) fn eval_sync(&mut self, e: &Expr) -> Option<Eval<Value>> {
        match &e.kind {
            ExprKind::Int(n) => Some(Ok(Value::Int(*n))),
            ExprKind::Var(name, slot) => match self.cached_value(name, slot) {
                Some(&Value::Int(n)) => Some(Ok(Value::Int(n))),
                _ => Some(self.var(name, slot, e.span)),
            },
            _ => self.eval_sync_node(e),
        }
    }

    #[inline(never)]
    fn eval_sync_node(&mut self, e: &Expr) -> Option<Eval<Value>> {
        Some(Ok(match &e.kind {
            ExprKind::Int(n) => Value::Int(*n),
            ExprKind::Str(s) => Value::str(s.clone()),
            ExprKind::Bool(b) => Value::Bool(*b),
            ExprKind::Duration(d) => Value::Duration(*d),
            ExprKind::Var(name, slot) => return Some(self.var(name, slot, e.span)),
            ExprKind::List(items) => {
                let mut out = Vec::with_capacity(items.len());
                for item in items {
                    out.push(sync!(self, item));
                }
                Value::list(out)
            }
            ExprKind::Map(entries) => {
                let mut m = IndexMap::with_capacity(entries.len());
                for (k, v) in entries {
                    let k = sync!(self, k);
                    let v = sync!(self, v);
                    m.insert(k, v);
                }
                Value::Map(Rc::new(m))
            }
            ExprKind::Format(parts) => {
                let mut out = String::new();
                for part in parts {
                    match part {
                        FormatPart::Lit(s) => out.push_str(s),
                        FormatPart::Expr(x) => {
                            let v = sync!(self, x);
                            if let Err(flow) = sandbox::render_into(&mut out, &v, self.len_limit(), e.span) {
                                return Some(Err(flow));
                            }
                        }
                    }
                }
                let v = Value::str(out);
                if let Err(flow) = self.check_len(&v, e.span) {
                    return Some(Err(flow));
                }
                v
            }
            ExprKind::Unary { op, expr } => {
                let v = sync!(self, expr);
                return Some(unary(*op, v, e.span));
            }
            ExprKind::Binary { op: op @ (BinOp::And | BinOp::Or), lhs, rhs, .. } => {
                let l = sync!(self, lhs);
                if l == Value::Bool(*op == BinOp::Or) {
                    l
                } else {
                    sync!(self, rhs)
                }
            }
            ExprKind::Binary { op, lhs, rhs, .. } => {
                let l = sync!(self, lhs);
                let r = sync!(self, rhs);
                if let (Value::Int(a), Value::Int(b)) = (&l, &r) {
                    if let Some(v) = int_op(*op, *a, *b) {
                        // Two ints own nothing: skip the out-of-line drop of a `Value`.
                        std::mem::forget(l);
                        std::mem::forget(r);
                        return Some(Ok(v));
                    }
                }
                let v = match arith(*op, l, r, e.span) {
                    Ok(v) => v,
                    Err(flow) => return Some(Err(flow)),
                };
                if let Err(flow) = self.check_len(&v, e.span) {
                    return Some(Err(flow));
                }
                v
            }
            ExprKind::Index { base, index } => {
                let b = sync!(self, base);
                let i = sync!(self, index);
                return Some(text::index(b, i, index.span));
            }
            ExprKind::Slice { base, start, end } => {
                let b = sync!(self, base);
                let mut bound = |x: &Option<Box<Expr>>| -> Option<Eval<Option<i64>>> {
                    let Some(x) = x else { return Some(Ok(None)) };
                    match self.eval_sync(x)? {
                        Ok(Value::Int(n)) => Some(Ok(Some(n))),
                        Ok(_) => Some(Err(runtime_error(x.span, "not an int", "expected an int"))),
                        Err(flow) => Some(Err(flow)),
                    }
                };
                let start = match bound(start)? {
                    Ok(v) => v,
                    Err(flow) => return Some(Err(flow)),
                };
                let end = match bound(end)? {
                    Ok(v) => v,
                    Err(flow) => return Some(Err(flow)),
                };
                text::slice(b, start, end)
            }
            ExprKind::Call { name, args }
                if (matches!(name.name.as_str(), "int" | "status") || text::is_pure(&name.name))
                    && !self.funcs.contains_key(&name.name) =>
            {
                if name.name == "status" {
                    return Some(Ok(Value::Int(i64::from(self.status))));
                }
                let mut values = Vec::with_capacity(args.len());
                for a in args {
                    values.push(sync!(self, a));
                }
                if name.name == "int" {
                    return Some(text::parse_int(&values[0], args[0].span));
                }
                return text::builtin(&name.name, &values, self.len_limit(), e.span);
            }
            ExprKind::Call { .. } | ExprKind::Pipeline(_) | ExprKind::Spawn(_) => return None,
        }))
    }

    /// Runs `stmt` if it is an assignment, declaration or expression that cannot wait (or
    /// `break`/`continue`); `None` (having changed nothing) otherwise.
    pub(super) fn stmt_sync(&mut self, stmt: &Stmt) -> Option<Eval<()>> {
        match &stmt.kind {
            StmtKind::Decl { ty, name, init } => {
                let value = match init {
                    Some(e) => sync!(self, e),
                    None => Value::zero(&ty.ty),
                };
                self.declare(&name.name, value);
            }
            StmtKind::Assign { name, op, value, slot } => {
                // An int (or any value that is not appended to in place): one lookup, and the
                // new value written where it was found. Evaluating `value` synchronously
                // declares nothing, so the location stays valid.
                // Anything but a string or list (which `appending` extends in place): one
                // lookup, then the value is written where it was found. Evaluating `value`
                // synchronously declares nothing, so the location stays valid.
                if let Some(at) = self.locate(&name.name, slot) {
                    if !matches!(self.scopes[at.0].get_index(at.1), Some((_, Value::Str(_) | Value::List(_))))
                    {
                        let rhs = sync!(self, value);
                        return Some(self.assign_at(at, *op, rhs, stmt.span));
                    }
                }
                if let Some((current, parts)) = self.appending(&name.name, slot, *op, value) {
                    let mut operands = Vec::with_capacity(parts.len());
                    for part in parts {
                        operands.push(sync!(self, part));
                    }
                    return Some(self.append_values(&name.name, slot, current, operands, stmt.span));
                }
                let rhs = sync!(self, value);
                return Some(self.assign(&name.name, slot, *op, rhs, stmt.span));
            }
            StmtKind::SetIndex { name, index, op, value } => {
                let key = sync!(self, index);
                let rhs = sync!(self, value);
                return Some(self.set_index(&name.name, key, *op, rhs, index.span, stmt.span));
            }
            StmtKind::Expr(e) => {
                sync!(self, e);
            }
            StmtKind::Break => return Some(Err(Flow::Break)),
            StmtKind::Continue => return Some(Err(Flow::Continue)),
            StmtKind::Func(_) => {}
            _ => return None,
        }
        Some(Ok(()))
    }

    /// Runs iterations of `while (cond) body` that cannot wait, until the loop ends, a
    /// yield to the runtime is due (every 128 iterations, as [`Interp::loop_tick`]), or a part
    /// of an iteration needs the async path.
    pub(super) fn while_sync(&mut self, span: Span, cond: &Expr, body: &Block) -> WhileStep {
        loop {
            if self.ticks + 1 >= super::YIELD_EVERY {
                return WhileStep::Async;
            }
            // The synchronous half of `loop_tick`.
            if let Err(flow) = self.spend_fuel(span).and_then(|()| self.check_signal()) {
                return WhileStep::Done(Err(flow));
            }
            match self.eval_sync(cond) {
                Some(Ok(v @ Value::Bool(b))) => {
                    // A bool owns nothing: skip the out-of-line drop of a `Value`.
                    std::mem::forget(v);
                    if !b {
                        self.ticks += 1;
                        return WhileStep::Done(Ok(()));
                    }
                }
                Some(Ok(_)) => {
                    return WhileStep::Done(Err(runtime_error(cond.span, "not a bool", "expected a bool")))
                }
                Some(Err(flow)) => return WhileStep::Done(Err(flow)),
                None => {
                    self.refund_fuel();
                    return WhileStep::Async;
                }
            }
            self.ticks += 1;
            self.scopes.push(Scope::default());
            match self.stmts_sync(&body.stmts) {
                Ok(result) => {
                    self.scopes.pop();
                    match result {
                        Ok(()) | Err(Flow::Continue) => {}
                        Err(Flow::Break) => return WhileStep::Done(Ok(())),
                        Err(other) => return WhileStep::Done(Err(other)),
                    }
                }
                Err(i) => return WhileStep::BodyFrom(i),
            }
        }
    }

    /// Runs statements synchronously while they allow it: `Ok(result)` when all ran (or
    /// one stopped the run), `Err(i)` when statement `i` must take the async path (it has
    /// not started).
    pub(super) fn stmts_sync(&mut self, stmts: &[Stmt]) -> Result<Eval<()>, usize> {
        for (i, stmt) in stmts.iter().enumerate() {
            if let Err(flow) = self.check_signal().and_then(|()| self.spend_fuel(stmt.span)) {
                return Ok(Err(flow));
            }
            match self.stmt_sync(stmt) {
                Some(Ok(())) => {}
                Some(Err(flow)) => return Ok(Err(flow)),
                None => {
                    // The fuel for this statement is spent again on the async path.
                    self.refund_fuel();
                    return Err(i);
                }
            }
        }
        Ok(Ok(()))
    }
}

/// `a op b` on two ints when it is a comparison or an add, subtract or multiply that does
/// not overflow: the common case of a loop, without [`arith`]'s general dispatch. `None`
/// leaves it (and any error) to [`arith`].
#[inline(always)]
fn int_op(op: BinOp, a: i64, b: i64) -> Option<Value> {
    Some(match op {
        BinOp::Add => Value::Int(a.checked_add(b)?),
        BinOp::Sub => Value::Int(a.checked_sub(b)?),
        BinOp::Mul => Value::Int(a.checked_mul(b)?),
        BinOp::Lt => Value::Bool(a < b),
        BinOp::Le => Value::Bool(a <= b),
        BinOp::Gt => Value::Bool(a > b),
        BinOp::Ge => Value::Bool(a >= b),
        BinOp::Eq => Value::Bool(a == b),
        BinOp::Ne => Value::Bool(a != b),
        _ => return None,
    })
}
