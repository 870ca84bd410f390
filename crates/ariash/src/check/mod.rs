//! The static checker: every name resolved and every type checked before anything runs.
//!
//! It reports undeclared variables (with a "did you mean" hint), redeclarations in the same
//! scope, wrong types in declarations, assignments, operators, conditions and builtin calls,
//! unknown functions, wrong argument counts, `break`/`continue` outside a loop, and expression
//! statements that would have no effect. Blocks open scopes; an inner scope may shadow an outer
//! name. The script's arguments are predeclared as `[string]:args`.
//!
//! A pipeline (`run(...)`, `a | b`) has the type `pipeline`. Where a `bool` is expected — a
//! condition, an operand of `!`, `&&`, `||`, or a `bool` variable — it runs and its value is its
//! success.

mod builtins;
mod session;

use std::collections::HashMap;
use std::sync::Arc;

use crate::ast::{
    BinOp, Block, Expr, ExprKind, FormatPart, FuncDef, Ident, PipeExpr, PipeKind, RedirectKind, Script, Span,
    Stmt, StmtKind, Ty, UnOp, WordPart,
};
use crate::diag::{suggest, Diag};

use builtins::showable;
pub use builtins::BUILTINS;
pub(crate) use session::CheckSession;

/// Checks a parsed script.
///
/// The check runs on the script stack (see [`crate::stack`]).
///
/// # Errors
/// All the problems found, in source order.
pub fn check(script: &Script) -> Result<(), Vec<Diag>> {
    crate::stack::on_script_stack(|| check_here(script))
        .unwrap_or_else(|e| Err(vec![crate::parser::no_thread(&e)]))
}

/// [`check`] on the current thread, whose stack must hold a tree of
/// [`MAX_DEPTH`](crate::stack::MAX_DEPTH) levels.
pub(crate) fn check_here(script: &Script) -> Result<(), Vec<Diag>> {
    let mut c = Checker::new();
    c.collect_funcs(script);
    c.scopes.push(HashMap::new());
    for stmt in &script.stmts {
        c.stmt(stmt);
    }
    c.finish()
}

struct Var {
    /// `None` when the type is unknown after an error already reported (uses stay silent).
    ty: Option<Ty>,
    /// `None` for predeclared variables.
    span: Option<Span>,
}

/// How many errors are reported at most.
pub const MAX_ERRORS: usize = 100;

struct Checker {
    scopes: Vec<HashMap<String, Var>>,
    /// The script's functions, known before any statement is checked so that they can call
    /// each other in any order.
    funcs: HashMap<String, Arc<FuncDef>>,
    /// The return type of the function being checked; `None` at the top level.
    ret: Option<Ty>,
    loops: usize,
    errors: Vec<Diag>,
    /// Where the first error past [`MAX_ERRORS`] is, and how many were left out.
    left_out: Option<(Span, usize)>,
}

fn assignable(target: &Ty, value: &Ty) -> bool {
    target == value
        || (matches!(target, Ty::List(_)) && *value == Ty::EmptyList)
        || (matches!(target, Ty::Map(..)) && *value == Ty::EmptyMap)
        || (*target == Ty::Bool && *value == Ty::Pipeline)
}

fn conversion_hint(target: &Ty, value: &Ty) -> Option<&'static str> {
    match (target, value) {
        (Ty::Str, Ty::Int | Ty::Bool) => Some("convert with str(...)"),
        (Ty::Int, Ty::Str) => Some("convert with int(...)"),
        (Ty::Str, Ty::Pipeline) => Some("to get a program's output as a string, use capture(...)"),
        (Ty::List(_), Ty::Str) => Some("to make a one-element list, write [value]"),
        (Ty::Str, Ty::Duration) => Some("convert with str(...)"),
        (Ty::Int, Ty::Duration) => Some("a duration in milliseconds is d / 1ms"),
        (Ty::Duration, Ty::Int) => Some("an int of milliseconds becomes a duration with n * 1ms"),
        (Ty::Job, Ty::Pipeline) => Some("start the pipeline in the background with `&` to get a job"),
        _ => None,
    }
}

impl Checker {
    /// The errors found, in source order, with a note counting those left out; `Ok` if none.
    pub(crate) fn finish(&mut self) -> Result<(), Vec<Diag>> {
        if self.errors.is_empty() {
            return Ok(());
        }
        let mut errors = std::mem::take(&mut self.errors);
        errors.sort_by_key(|d| d.span.start);
        if let Some((span, count)) = self.left_out.take() {
            errors.push(
                Diag::new(
                    "ariash::check::too_many_errors",
                    format!("{count} more error{} not shown", if count == 1 { "" } else { "s" }),
                    span,
                    "the next one is here",
                )
                .with_help(format!("only the first {MAX_ERRORS} errors are shown; fix those first")),
            );
        }
        Err(errors)
    }

    /// A checker with one scope holding the predeclared variables (`args`, `stdin`).
    pub(crate) fn new() -> Checker {
        let mut c = Checker {
            scopes: vec![HashMap::new()],
            loops: 0,
            errors: Vec::new(),
            left_out: None,
            funcs: HashMap::new(),
            ret: None,
        };
        c.declare_builtin_var("args", Ty::List(Box::new(Ty::Str)));
        c.declare_builtin_var("stdin", Ty::Stream);
        c
    }

    /// Records every top-level function, reporting a name defined twice or a builtin's name.
    fn collect_funcs(&mut self, script: &Script) {
        for stmt in &script.stmts {
            let StmtKind::Func(f) = &stmt.kind else { continue };
            if BUILTINS.iter().any(|(n, _)| *n == f.name.name) {
                self.error(
                    Diag::new(
                        "ariash::check::redeclared",
                        format!("`{}` is a builtin function", f.name.name),
                        f.name.span,
                        "builtin name",
                    )
                    .with_help("pick another name for the function"),
                );
                continue;
            }
            if let Some(prev) = self.funcs.get(&f.name.name) {
                let line = prev.name.span;
                self.error(
                    Diag::new(
                        "ariash::check::redeclared",
                        format!("function `{}` is defined twice", f.name.name),
                        f.name.span,
                        "defined again here",
                    )
                    .with_help(format!("the first definition is at byte {}; rename one of them", line.start)),
                );
                continue;
            }
            self.funcs.insert(f.name.name.clone(), Arc::clone(f));
        }
    }

    /// Checks a function's body with its parameters in scope (and the script's variables
    /// declared before it).
    fn func(&mut self, f: &FuncDef) {
        let outer = self.scopes.split_off(self.scopes.len().min(2));
        let loops = std::mem::replace(&mut self.loops, 0);
        let ret = self.ret.replace(f.ret.ty.clone());
        self.scopes.push(HashMap::new());
        for (ty, name) in &f.params {
            self.declare(name, ty.ty.clone());
        }
        self.block(&f.body);
        self.scopes.pop();
        self.ret = ret;
        self.loops = loops;
        self.scopes.extend(outer);
        if f.ret.ty != Ty::Void && !returns(&f.body.stmts) {
            let end = Span::new(f.body.span.end.saturating_sub(1), f.body.span.end);
            self.error(
                Diag::new(
                    "ariash::check::missing_return",
                    format!("function `{}` can end without returning {}", f.name.name, f.ret.ty),
                    end,
                    "the end of the function is reachable",
                )
                .with_help(format!("end every path with `return value;` (a {})", f.ret.ty)),
            );
        }
    }

    fn declare_builtin_var(&mut self, name: &str, ty: Ty) {
        if let Some(scope) = self.scopes.last_mut() {
            scope.insert(name.to_string(), Var { ty: Some(ty), span: None });
        }
    }

    fn lookup(&self, name: &str) -> Option<&Var> {
        self.scopes.iter().rev().find_map(|s| s.get(name))
    }

    fn visible_names(&self) -> Vec<&str> {
        self.scopes.iter().flat_map(|s| s.keys().map(String::as_str)).collect()
    }

    /// Records an error. Past [`MAX_ERRORS`], only the first one left out is kept, to say how
    /// many more there were (a generated script may have millions).
    fn error(&mut self, d: Diag) {
        if self.errors.len() < MAX_ERRORS {
            self.errors.push(d);
        } else {
            self.left_out.get_or_insert((d.span, 0)).1 += 1;
        }
    }

    fn declare(&mut self, name: &Ident, ty: Ty) {
        self.declare_opt(name, Some(ty));
    }

    /// Declares `name`, with an unknown type (`None`) after an error in its initial value.
    fn declare_opt(&mut self, name: &Ident, ty: Option<Ty>) {
        let prev = self.scopes.last().and_then(|s| s.get(&name.name)).map(|v| v.span);
        if let Some(prev) = prev {
            let help = match prev {
                Some(_) => format!(
                    "`{0}` is already declared in this block; assign with `{0} = ...;` or pick another name",
                    name.name
                ),
                None => format!("`{}` is predeclared (the script's arguments); pick another name", name.name),
            };
            self.error(
                Diag::new(
                    "ariash::check::redeclared",
                    format!("`{}` is declared twice in the same scope", name.name),
                    name.span,
                    "declared again here",
                )
                .with_help(help),
            );
            return;
        }
        if let Some(scope) = self.scopes.last_mut() {
            scope.insert(name.name.clone(), Var { ty, span: Some(name.span) });
        }
    }

    fn scoped(&mut self, f: impl FnOnce(&mut Checker)) {
        self.scopes.push(HashMap::new());
        f(self);
        self.scopes.pop();
    }

    fn block(&mut self, b: &Block) {
        self.scoped(|c| {
            for s in &b.stmts {
                c.stmt(s);
            }
        });
    }

    fn stmt(&mut self, stmt: &Stmt) {
        match &stmt.kind {
            StmtKind::Decl { ty, name, init } => {
                if let Some(init) = init {
                    if let Some(vt) = self.expr(init) {
                        self.expect_assignable(&ty.ty, &vt, init.span, &name.name);
                    }
                }
                self.declare(name, ty.ty.clone());
            }
            StmtKind::Assign { name, op, value, .. } => {
                let vt = self.expr(value);
                let Some(target) = self.var_ty(name) else {
                    return;
                };
                let Some(vt) = vt else { return };
                let vt = match op {
                    Some(op) => match self.binary_ty(*op, &target, &vt, value.span) {
                        Some(t) => t,
                        None => return,
                    },
                    None => vt,
                };
                self.expect_assignable(&target, &vt, value.span, &name.name);
            }
            StmtKind::Expr(e) => {
                if !has_effect(e) {
                    self.error(
                        Diag::new(
                            "ariash::check::no_effect",
                            "this expression has no effect",
                            e.span,
                            "value computed and dropped",
                        )
                        .with_help(
                            "statements are calls, pipelines, declarations or assignments; \
                             to keep a value, declare a variable: int:x = ...;",
                        ),
                    );
                }
                self.expr(e);
            }
            StmtKind::Background(p) => self.pipeline(p),
            StmtKind::If { cond, then, els } => {
                self.cond(cond);
                self.block(then);
                if let Some(els) = els {
                    self.stmt(els);
                }
            }
            StmtKind::While { cond, body } => {
                self.cond(cond);
                self.loops += 1;
                self.block(body);
                self.loops -= 1;
            }
            StmtKind::For { var, iter, body } => {
                let elem = match self.expr(iter) {
                    Some(Ty::List(t)) => Some(*t),
                    Some(Ty::Map(k, _)) => Some(*k),
                    Some(Ty::Stream) => Some(Ty::Str),
                    Some(Ty::EmptyMap) => {
                        self.error(Diag::new(
                            "ariash::check::type_mismatch",
                            "cannot loop over an empty map literal",
                            iter.span,
                            "key type unknown",
                        ));
                        None
                    }
                    Some(Ty::EmptyList) => {
                        self.error(
                            Diag::new(
                                "ariash::check::type_mismatch",
                                "cannot loop over an empty list literal",
                                iter.span,
                                "element type unknown",
                            )
                            .with_help("loop over a declared list variable instead"),
                        );
                        None
                    }
                    Some(t) => {
                        self.error(
                            Diag::new(
                                "ariash::check::type_mismatch",
                                format!("a for loop needs a list, a map or a stream, found {t}"),
                                iter.span,
                                format!("this is {t}"),
                            )
                            .with_help("loop over a list such as [string]:xs = [\"a\", \"b\"];"),
                        );
                        None
                    }
                    None => None,
                };
                self.loops += 1;
                self.scoped(|c| {
                    c.declare_opt(var, elem);
                    for s in &body.stmts {
                        c.stmt(s);
                    }
                });
                self.loops -= 1;
            }
            StmtKind::Break | StmtKind::Continue => {
                if self.loops == 0 {
                    let word = if stmt.kind == StmtKind::Break { "break" } else { "continue" };
                    self.error(
                        Diag::new(
                            "ariash::check::outside_loop",
                            format!("`{word}` outside of a loop"),
                            stmt.span,
                            "not inside while or for",
                        )
                        .with_help(format!(
                            "`{word}` can only be used inside a while or for loop; to stop the script use exit(...)"
                        )),
                    );
                }
            }
            StmtKind::Wait { .. } => {}
            StmtKind::Block(b) => self.block(b),
            StmtKind::Func(f) => {
                if self.funcs.get(&f.name.name).is_some_and(|g| Arc::ptr_eq(f, g)) {
                    self.func(f);
                }
            }
            StmtKind::Return(value) => self.return_stmt(value.as_ref(), stmt.span),
            StmtKind::Try { body, var, handler } => {
                self.block(body);
                self.scoped(|c| {
                    if let Some(var) = var {
                        c.declare(var, Ty::Str);
                    }
                    for s in &handler.stmts {
                        c.stmt(s);
                    }
                });
            }
            StmtKind::SetIndex { name, index, op, value } => self.set_index(name, index, *op, value),
        }
    }

    fn return_stmt(&mut self, value: Option<&Expr>, span: Span) {
        let Some(ret) = self.ret.clone() else {
            self.error(
                Diag::new(
                    "ariash::check::return_outside",
                    "`return` outside of a function",
                    span,
                    "at the top level",
                )
                .with_help("to stop the script, use exit(...)"),
            );
            if let Some(v) = value {
                self.expr(v);
            }
            return;
        };
        match (value, ret == Ty::Void) {
            (None, true) => {}
            (None, false) => self.error(
                Diag::new(
                    "ariash::check::missing_return",
                    format!("this function returns {ret}; `return;` gives nothing"),
                    span,
                    "value missing",
                )
                .with_help(format!("return a {ret}: return value;")),
            ),
            (Some(v), true) => {
                self.expr(v);
                self.error(
                    Diag::new(
                        "ariash::check::type_mismatch",
                        "a void function cannot return a value",
                        v.span,
                        "value returned",
                    )
                    .with_help("declare the return type: func:name = int(...) { ... }"),
                );
            }
            (Some(v), false) => {
                if let Some(t) = self.expr(v).filter(|t| !assignable(&ret, t)) {
                    let mut d = Diag::new(
                        "ariash::check::type_mismatch",
                        format!("the function returns {ret} but the value is {t}"),
                        v.span,
                        format!("expected {ret}, found {t}"),
                    );
                    if let Some(h) = conversion_hint(&ret, &t) {
                        d = d.with_help(h);
                    }
                    self.error(d);
                }
            }
        }
    }

    fn set_index(&mut self, name: &Ident, index: &Expr, op: Option<BinOp>, value: &Expr) {
        let target = self.var_ty(name);
        let it = self.expr(index);
        let vt = self.expr(value);
        let Some(target) = target else { return };
        let elem = match &target {
            Ty::List(e) => {
                if let Some(it) = &it {
                    if *it != Ty::Int {
                        self.error(Diag::new(
                            "ariash::check::type_mismatch",
                            format!("a list index must be int, found {it}"),
                            index.span,
                            "expected int",
                        ));
                    }
                }
                (**e).clone()
            }
            Ty::Map(k, v) => {
                if let Some(it) = &it {
                    if !assignable(k, it) {
                        self.error(Diag::new(
                            "ariash::check::type_mismatch",
                            format!("the keys of `{}` are {k}, found {it}", name.name),
                            index.span,
                            format!("expected {k}"),
                        ));
                    }
                }
                (**v).clone()
            }
            t => {
                self.error(
                    Diag::new(
                        "ariash::check::type_mismatch",
                        format!("only list and map elements can be assigned, `{}` is {t}", name.name),
                        name.span,
                        format!("this is {t}"),
                    )
                    .with_help("assign the whole variable: name = value;"),
                );
                return;
            }
        };
        let Some(vt) = vt else { return };
        let vt = match op {
            Some(op) => match self.binary_ty(op, &elem, &vt, value.span) {
                Some(t) => t,
                None => return,
            },
            None => vt,
        };
        self.expect_assignable(&elem, &vt, value.span, &format!("{}[...]", name.name));
    }

    fn var_ty(&mut self, name: &Ident) -> Option<Ty> {
        if let Some(v) = self.lookup(&name.name) {
            return v.ty.clone();
        }
        if let Some(f) = self.funcs.get(&name.name) {
            return Some(f.ty());
        }
        let names = self.visible_names();
        let help = match suggest(&name.name, names) {
            Some(s) => format!("did you mean `{s}`?"),
            None => format!("declare it first, e.g. string:{} = \"...\";", name.name),
        };
        self.error(
            Diag::new(
                "ariash::check::unknown_variable",
                format!("unknown variable `{}`", name.name),
                name.span,
                "not declared in this scope",
            )
            .with_help(help),
        );
        None
    }

    fn expect_assignable(&mut self, target: &Ty, value: &Ty, span: Span, name: &str) {
        if assignable(target, value) {
            return;
        }
        let mut d = Diag::new(
            "ariash::check::type_mismatch",
            format!("`{name}` is {target} but the value is {value}"),
            span,
            format!("expected {target}, found {value}"),
        );
        if let Some(h) = conversion_hint(target, value) {
            d = d.with_help(h);
        }
        self.error(d);
    }

    fn cond(&mut self, e: &Expr) {
        if let Some(t) = self.expr(e) {
            self.expect_boolish(&t, e.span, "a condition");
        }
    }

    fn expect_boolish(&mut self, t: &Ty, span: Span, what: &str) {
        if matches!(t, Ty::Bool | Ty::Pipeline) {
            return;
        }
        let help = match t {
            Ty::Int => "compare explicitly, e.g. `n != 0`",
            Ty::Str => "compare explicitly, e.g. `s != \"\"`",
            Ty::List(_) | Ty::EmptyList => "compare the length, e.g. `len(xs) > 0`",
            _ => "use a comparison or a pipeline such as run(\"test\", [...])",
        };
        self.error(
            Diag::new(
                "ariash::check::type_mismatch",
                format!("{what} must be bool or a pipeline, found {t}"),
                span,
                format!("this is {t}"),
            )
            .with_help(help),
        );
    }

    fn expect_ty(&mut self, e: &Expr, want: &Ty, what: &str) {
        if let Some(t) = self.expr(e) {
            if !assignable(want, &t) || (*want == Ty::Bool && t == Ty::Pipeline) {
                let mut d = Diag::new(
                    "ariash::check::type_mismatch",
                    format!("{what} must be {want}, found {t}"),
                    e.span,
                    format!("expected {want}"),
                );
                if let Some(h) = conversion_hint(want, &t) {
                    d = d.with_help(h);
                }
                self.error(d);
            }
        }
    }

    /// The type of `e`, or `None` if an error was reported inside it.
    fn expr(&mut self, e: &Expr) -> Option<Ty> {
        match &e.kind {
            ExprKind::Int(_) => Some(Ty::Int),
            ExprKind::Str(_) => Some(Ty::Str),
            ExprKind::Duration(_) => Some(Ty::Duration),
            ExprKind::Format(parts) => {
                let mut ok = true;
                for part in parts {
                    let FormatPart::Expr(x) = part else { continue };
                    match self.expr(x) {
                        Some(t) if !showable(&t) => {
                            ok = false;
                            self.error(
                                Diag::new(
                                    "ariash::check::type_mismatch",
                                    format!("{t} cannot be interpolated"),
                                    x.span,
                                    format!("this is {t}"),
                                )
                                .with_help("to interpolate a program's output, use {capture(`prog`)}"),
                            );
                        }
                        Some(_) => {}
                        None => ok = false,
                    }
                }
                ok.then_some(Ty::Str)
            }
            ExprKind::Map(entries) => self.map(entries),
            ExprKind::Slice { base, start, end } => {
                let b = self.expr(base);
                for bound in [start, end].into_iter().flatten() {
                    self.expect_ty(bound, &Ty::Int, "a slice bound");
                }
                match b? {
                    t @ (Ty::Str | Ty::List(_)) => Some(t),
                    t => {
                        self.error(Diag::new(
                            "ariash::check::type_mismatch",
                            format!("only strings and lists can be sliced, found {t}"),
                            base.span,
                            format!("this is {t}"),
                        ));
                        None
                    }
                }
            }
            ExprKind::Spawn(p) => {
                self.pipeline(p);
                Some(Ty::Job)
            }
            ExprKind::Bool(_) => Some(Ty::Bool),
            ExprKind::Var(name, _) => self.var_ty(&Ident { name: name.clone(), span: e.span }),
            ExprKind::List(items) => self.list(items),
            ExprKind::Unary { op, expr } => {
                let t = self.expr(expr)?;
                match op {
                    UnOp::Not => {
                        self.expect_boolish(&t, expr.span, "the operand of `!`");
                        Some(Ty::Bool)
                    }
                    UnOp::Neg => {
                        if t != Ty::Int {
                            self.error(Diag::new(
                                "ariash::check::type_mismatch",
                                format!("unary `-` needs an int, found {t}"),
                                expr.span,
                                format!("this is {t}"),
                            ));
                            return None;
                        }
                        Some(Ty::Int)
                    }
                }
            }
            ExprKind::Binary { op, op_span, lhs, rhs } => {
                let l = self.expr(lhs);
                let r = self.expr(rhs);
                let (l, r) = (l?, r?);
                if matches!(op, BinOp::And | BinOp::Or) {
                    self.expect_boolish(&l, lhs.span, &format!("the left operand of `{}`", op.symbol()));
                    self.expect_boolish(&r, rhs.span, &format!("the right operand of `{}`", op.symbol()));
                    return Some(Ty::Bool);
                }
                self.binary_ty(*op, &l, &r, *op_span)
            }
            ExprKind::Index { base, index } => {
                let b = self.expr(base);
                match b? {
                    Ty::List(t) => {
                        self.expect_ty(index, &Ty::Int, "a list index");
                        Some(*t)
                    }
                    Ty::Str => {
                        self.expect_ty(index, &Ty::Int, "a string index");
                        Some(Ty::Str)
                    }
                    Ty::Map(k, v) => {
                        self.expect_ty(index, &k, "a map key");
                        Some(*v)
                    }
                    t => {
                        self.expr(index);
                        self.error(Diag::new(
                            "ariash::check::type_mismatch",
                            format!("only lists, maps and strings can be indexed, found {t}"),
                            base.span,
                            format!("this is {t}"),
                        ));
                        None
                    }
                }
            }
            ExprKind::Call { name, args } => self.call(name, args, e.span),
            ExprKind::Pipeline(p) => {
                self.pipeline(p);
                Some(Ty::Pipeline)
            }
        }
    }

    fn map(&mut self, entries: &[(Expr, Expr)]) -> Option<Ty> {
        let mut key: Option<Ty> = None;
        let mut value: Option<Ty> = None;
        let mut ok = true;
        for (k, v) in entries {
            let kt = self.expr(k);
            let vt = self.expr(v);
            if let Some(kt) = kt {
                if !matches!(kt, Ty::Str | Ty::Int | Ty::Bool) {
                    self.error(
                        Diag::new(
                            "ariash::check::type_mismatch",
                            format!("a map key cannot be {kt}"),
                            k.span,
                            format!("this is {kt}"),
                        )
                        .with_help("map keys are strings, ints or bools"),
                    );
                    ok = false;
                } else {
                    ok &= self.unify(&mut key, kt, k.span, "map keys");
                }
            } else {
                ok = false;
            }
            match vt {
                Some(t) if showable(&t) || t == Ty::Job => {
                    ok &= self.unify(&mut value, t, v.span, "map values")
                }
                Some(t) => {
                    self.error(Diag::new(
                        "ariash::check::type_mismatch",
                        format!("a map cannot hold {t}"),
                        v.span,
                        format!("this is {t}"),
                    ));
                    ok = false;
                }
                None => ok = false,
            }
        }
        if !ok {
            return None;
        }
        Some(match (key, value) {
            (Some(k), Some(v)) => Ty::Map(Box::new(k), Box::new(v)),
            _ => Ty::EmptyMap,
        })
    }

    /// Checks that `t` agrees with the type seen so far in a literal (`what` names them).
    fn unify(&mut self, seen: &mut Option<Ty>, t: Ty, span: Span, what: &str) -> bool {
        match seen {
            None => {
                *seen = Some(t);
                true
            }
            Some(first) if assignable(first, &t) => true,
            Some(first) if assignable(&t, first) => {
                *seen = Some(t);
                true
            }
            Some(first) => {
                let first = first.clone();
                self.error(Diag::new(
                    "ariash::check::type_mismatch",
                    format!("{what} must all be {first}, found {t}"),
                    span,
                    format!("expected {first}"),
                ));
                false
            }
        }
    }

    fn list(&mut self, items: &[Expr]) -> Option<Ty> {
        let mut elem: Option<Ty> = None;
        let mut ok = true;
        for item in items {
            let Some(t) = self.expr(item) else {
                ok = false;
                continue;
            };
            if !showable(&t) && t != Ty::Job {
                self.error(
                    Diag::new(
                        "ariash::check::type_mismatch",
                        format!("a list cannot hold {t}"),
                        item.span,
                        format!("this is {t}"),
                    )
                    .with_help("to use a program's output, wrap it in capture(...)"),
                );
                ok = false;
                continue;
            }
            match &elem {
                None => elem = Some(t),
                Some(first) if assignable(first, &t) => {}
                Some(first) => {
                    let mut d = Diag::new(
                        "ariash::check::type_mismatch",
                        format!("list elements must all be {first}, found {t}"),
                        item.span,
                        format!("expected {first}"),
                    );
                    if let Some(h) = conversion_hint(first, &t) {
                        d = d.with_help(h);
                    }
                    self.error(d);
                    ok = false;
                }
            }
        }
        if !ok {
            return None;
        }
        Some(match elem {
            None => Ty::EmptyList,
            Some(t) => Ty::List(Box::new(t)),
        })
    }

    fn binary_ty(&mut self, op: BinOp, l: &Ty, r: &Ty, op_span: Span) -> Option<Ty> {
        let result = match op {
            BinOp::Add | BinOp::Sub if *l == Ty::Duration && *r == Ty::Duration => Some(Ty::Duration),
            BinOp::Mul if matches!((l, r), (Ty::Duration, Ty::Int) | (Ty::Int, Ty::Duration)) => {
                Some(Ty::Duration)
            }
            BinOp::Div if *l == Ty::Duration && *r == Ty::Int => Some(Ty::Duration),
            BinOp::Div if *l == Ty::Duration && *r == Ty::Duration => Some(Ty::Int),
            BinOp::Add => match (l, r) {
                (Ty::Int, Ty::Int) => Some(Ty::Int),
                (Ty::Str, Ty::Str) => Some(Ty::Str),
                (Ty::List(a), Ty::List(b)) if a == b => Some(l.clone()),
                (Ty::List(_), Ty::EmptyList) => Some(l.clone()),
                (Ty::EmptyList, Ty::List(_) | Ty::EmptyList) => Some(r.clone()),
                _ => None,
            },
            BinOp::Sub | BinOp::Mul | BinOp::Div | BinOp::Rem => {
                (*l == Ty::Int && *r == Ty::Int).then_some(Ty::Int)
            }
            BinOp::Eq | BinOp::Ne => {
                let comparable = !matches!(l, Ty::Pipeline | Ty::Void | Ty::Stream | Ty::Func(..))
                    && (assignable(l, r) || assignable(r, l));
                comparable.then_some(Ty::Bool)
            }
            BinOp::Lt | BinOp::Gt | BinOp::Le | BinOp::Ge => {
                (l == r && matches!(l, Ty::Int | Ty::Str | Ty::Duration)).then_some(Ty::Bool)
            }
            BinOp::And | BinOp::Or => Some(Ty::Bool),
        };
        if result.is_some() {
            return result;
        }
        let help = match (op, l, r) {
            (BinOp::Add, Ty::Str, Ty::Int | Ty::Bool) | (BinOp::Add, Ty::Int | Ty::Bool, Ty::Str) => {
                "convert the number with str(...): \"n=\" + str(n)"
            }
            (BinOp::Add, Ty::List(_), _) => "to append an element, wrap it in a list: xs + [x]",
            (_, Ty::Pipeline, _) | (_, _, Ty::Pipeline) => {
                "a pipeline's value is its success; use it directly as a condition, or capture(...) its output"
            }
            (BinOp::Lt | BinOp::Gt | BinOp::Le | BinOp::Ge, _, _) => {
                "ordering works on two ints, two strings or two durations"
            }
            (BinOp::Eq | BinOp::Ne, _, _) => "both sides must have the same type",
            _ => "arithmetic works on ints",
        };
        self.error(
            Diag::new(
                "ariash::check::type_mismatch",
                format!("`{}` cannot be applied to {l} and {r}", op.symbol()),
                op_span,
                format!("{l} {} {r}", op.symbol()),
            )
            .with_help(help),
        );
        None
    }

    fn pipeline(&mut self, p: &PipeExpr) {
        match &p.kind {
            PipeKind::Stage(stage) if stage.words.is_some() => {
                for word in stage.words.iter().flatten() {
                    for part in &word.parts {
                        match part {
                            WordPart::Lit(_) => {}
                            WordPart::Expr(e) => {
                                if let Some(t) = self.expr(e) {
                                    if matches!(t, Ty::List(_) | Ty::EmptyList) {
                                        self.error(
                                            Diag::new(
                                                "ariash::check::type_mismatch",
                                                "a list in `{...}` of a command must be spliced",
                                                e.span,
                                                format!("this is {t}"),
                                            )
                                            .with_help("write {...list} as a whole word to pass each element as an argument"),
                                        );
                                    } else if !showable(&t) || matches!(t, Ty::Map(..) | Ty::EmptyMap) {
                                        self.error(Diag::new(
                                            "ariash::check::type_mismatch",
                                            format!("{t} cannot be an argument"),
                                            e.span,
                                            format!("this is {t}"),
                                        ));
                                    }
                                }
                            }
                            WordPart::Splice(e) => {
                                if let Some(t) = self.expr(e) {
                                    let ok = match &t {
                                        Ty::List(e) => {
                                            showable(e) && !matches!(**e, Ty::List(_) | Ty::Map(..))
                                        }
                                        Ty::EmptyList => true,
                                        _ => false,
                                    };
                                    if !ok {
                                        self.error(
                                            Diag::new(
                                                "ariash::check::type_mismatch",
                                                format!("`{{...}}` splices a list, found {t}"),
                                                e.span,
                                                format!("this is {t}"),
                                            )
                                            .with_help("for one argument, write {value} without the dots"),
                                        );
                                    }
                                }
                            }
                        }
                    }
                }
            }
            PipeKind::Timeout { limit, inner } => {
                self.expect_ty(limit, &Ty::Duration, "the limit of timeout(...)");
                self.pipeline(inner);
            }
            PipeKind::Stage(stage) => {
                let name = Ident { name: "run".into(), span: stage.span };
                if !self.arity(&name, &stage.args, stage.span, (1, 2)) {
                    return;
                }
                self.expect_ty(&stage.args[0], &Ty::Str, "the program of run(...)");
                if let Some(a) = stage.args.get(1) {
                    let t = self.expr(a);
                    if let Some(t) = t {
                        if !assignable(&Ty::List(Box::new(Ty::Str)), &t) {
                            let help = if t == Ty::Str {
                                "arguments are a list: run(\"prog\", [arg])"
                            } else {
                                "arguments are a [string] list; convert numbers with str(...)"
                            };
                            self.error(
                                Diag::new(
                                    "ariash::check::type_mismatch",
                                    format!("the arguments of run(...) must be [string], found {t}"),
                                    a.span,
                                    "expected [string]",
                                )
                                .with_help(help),
                            );
                        }
                    }
                }
            }
            PipeKind::Pipe { lhs, rhs, .. } => {
                self.pipeline(lhs);
                self.pipeline(rhs);
            }
            PipeKind::Redirect { inner, redirect } => {
                self.pipeline(inner);
                match &redirect.kind {
                    RedirectKind::Write { target, .. } | RedirectKind::Read { target, .. } => {
                        self.expect_ty(target, &Ty::Str, "a redirection target");
                    }
                    RedirectKind::Dup { .. } => {}
                }
            }
            PipeKind::Try(inner) => self.pipeline(inner),
        }
    }
}

/// Whether every path through `stmts` ends in `return`, `exit(...)` or `throw(...)`.
fn returns(stmts: &[Stmt]) -> bool {
    stmts.iter().any(|s| match &s.kind {
        StmtKind::Return(_) => true,
        StmtKind::Expr(Expr { kind: ExprKind::Call { name, .. }, .. }) => {
            name.name == "exit" || name.name == "throw"
        }
        StmtKind::Block(b) => returns(&b.stmts),
        StmtKind::If { then, els: Some(els), .. } => {
            returns(&then.stmts) && returns(std::slice::from_ref(&**els))
        }
        StmtKind::Try { body, handler, .. } => returns(&body.stmts) && returns(&handler.stmts),
        StmtKind::While { cond: Expr { kind: ExprKind::Bool(true), .. }, body } => !breaks(&body.stmts),
        _ => false,
    })
}

/// Whether `stmts` hold a `break` of the loop they are in (not of a loop nested inside).
fn breaks(stmts: &[Stmt]) -> bool {
    stmts.iter().any(|s| match &s.kind {
        StmtKind::Break => true,
        StmtKind::Block(b) => breaks(&b.stmts),
        StmtKind::If { then, els, .. } => {
            breaks(&then.stmts) || els.as_ref().is_some_and(|e| breaks(std::slice::from_ref(&**e)))
        }
        StmtKind::Try { body, handler, .. } => breaks(&body.stmts) || breaks(&handler.stmts),
        _ => false,
    })
}

/// Whether evaluating `e` can do anything: calls, pipelines, and logic over them.
fn has_effect(e: &Expr) -> bool {
    match &e.kind {
        ExprKind::Call { .. } | ExprKind::Pipeline(_) | ExprKind::Spawn(_) => true,
        ExprKind::Binary { op: BinOp::And | BinOp::Or, .. } => true,
        ExprKind::Unary { op: UnOp::Not, expr } => has_effect(expr),
        _ => false,
    }
}
