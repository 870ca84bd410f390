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

use std::collections::HashMap;

use crate::ast::{
    BinOp, Block, Expr, ExprKind, Ident, PipeExpr, PipeKind, RedirectKind, Script, Span, Stmt, StmtKind, Ty,
    UnOp,
};
use crate::diag::{suggest, Diag};

/// The builtin functions and how they are called, for hints.
pub const BUILTINS: &[(&str, &str)] = &[
    ("run", "run(program) or run(program, [args])"),
    ("capture", "capture(pipeline) -> string"),
    ("print", "print(value, ...)"),
    ("cd", "cd(dir)"),
    ("env", "env(name) -> string"),
    ("setenv", "setenv(name, value)"),
    ("unsetenv", "unsetenv(name)"),
    ("exit", "exit() or exit(status)"),
    ("len", "len(list or string) -> int"),
    ("str", "str(int or bool) -> string"),
    ("int", "int(string) -> int"),
    ("exists", "exists(path) -> bool"),
    ("status", "status() -> int"),
];

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
    let mut c = Checker { scopes: vec![HashMap::new()], loops: 0, errors: Vec::new(), left_out: None };
    c.declare_builtin_var("args", Ty::List(Box::new(Ty::Str)));
    c.scopes.push(HashMap::new());
    for stmt in &script.stmts {
        c.stmt(stmt);
    }
    if c.errors.is_empty() {
        return Ok(());
    }
    c.errors.sort_by_key(|d| d.span.start);
    if let Some((span, count)) = c.left_out {
        c.errors.push(
            Diag::new(
                "ariash::check::too_many_errors",
                format!("{count} more error{} not shown", if count == 1 { "" } else { "s" }),
                span,
                "the next one is here",
            )
            .with_help(format!("only the first {MAX_ERRORS} errors are shown; fix those first")),
        );
    }
    Err(c.errors)
}

struct Var {
    ty: Ty,
    /// `None` for predeclared variables.
    span: Option<Span>,
}

/// How many errors are reported at most.
pub const MAX_ERRORS: usize = 100;

struct Checker {
    scopes: Vec<HashMap<String, Var>>,
    loops: usize,
    errors: Vec<Diag>,
    /// Where the first error past [`MAX_ERRORS`] is, and how many were left out.
    left_out: Option<(Span, usize)>,
}

fn assignable(target: &Ty, value: &Ty) -> bool {
    target == value
        || (matches!(target, Ty::List(_)) && *value == Ty::EmptyList)
        || (*target == Ty::Bool && *value == Ty::Pipeline)
}

fn conversion_hint(target: &Ty, value: &Ty) -> Option<&'static str> {
    match (target, value) {
        (Ty::Str, Ty::Int | Ty::Bool) => Some("convert with str(...)"),
        (Ty::Int, Ty::Str) => Some("convert with int(...)"),
        (Ty::Str, Ty::Pipeline) => Some("to get a program's output as a string, use capture(...)"),
        (Ty::List(_), Ty::Str) => Some("to make a one-element list, write [value]"),
        _ => None,
    }
}

impl Checker {
    fn declare_builtin_var(&mut self, name: &str, ty: Ty) {
        if let Some(scope) = self.scopes.last_mut() {
            scope.insert(name.to_string(), Var { ty, span: None });
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
            StmtKind::Assign { name, op, value } => {
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
                                format!("a for loop needs a list, found {t}"),
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
                    if let Some(elem) = elem {
                        c.declare(var, elem);
                    }
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
        }
    }

    fn var_ty(&mut self, name: &Ident) -> Option<Ty> {
        if let Some(v) = self.lookup(&name.name) {
            return Some(v.ty.clone());
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
            ExprKind::Bool(_) => Some(Ty::Bool),
            ExprKind::Var(name) => self.var_ty(&Ident { name: name.clone(), span: e.span }),
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
                self.expect_ty(index, &Ty::Int, "a list index");
                match b? {
                    Ty::List(t) => Some(*t),
                    t => {
                        self.error(Diag::new(
                            "ariash::check::type_mismatch",
                            format!("only lists can be indexed, found {t}"),
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

    fn list(&mut self, items: &[Expr]) -> Option<Ty> {
        let mut elem: Option<Ty> = None;
        let mut ok = true;
        for item in items {
            let Some(t) = self.expr(item) else {
                ok = false;
                continue;
            };
            if matches!(t, Ty::Pipeline | Ty::Void) {
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
                let comparable =
                    !matches!(l, Ty::Pipeline | Ty::Void) && (assignable(l, r) || assignable(r, l));
                comparable.then_some(Ty::Bool)
            }
            BinOp::Lt | BinOp::Gt | BinOp::Le | BinOp::Ge => {
                (l == r && matches!(l, Ty::Int | Ty::Str)).then_some(Ty::Bool)
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
                "ordering works on two ints or two strings"
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

    fn arity(&mut self, name: &Ident, args: &[Expr], span: Span, range: (usize, usize)) -> bool {
        if (range.0..=range.1).contains(&args.len()) {
            return true;
        }
        let want =
            if range.0 == range.1 { format!("{}", range.0) } else { format!("{} to {}", range.0, range.1) };
        let plural = if range == (1, 1) { "" } else { "s" };
        let usage = BUILTINS.iter().find(|(n, _)| *n == name.name).map_or("", |(_, u)| u);
        self.error(
            Diag::new(
                "ariash::check::arg_count",
                format!(
                    "`{}` takes {want} argument{plural} but {} {} given",
                    name.name,
                    args.len(),
                    if args.len() == 1 { "was" } else { "were" }
                ),
                span,
                format!("{} argument(s)", args.len()),
            )
            .with_help(format!("usage: {usage}")),
        );
        for a in args {
            self.expr(a);
        }
        false
    }

    fn call(&mut self, name: &Ident, args: &[Expr], span: Span) -> Option<Ty> {
        let (min, max, ret) = match name.name.as_str() {
            "print" => (0, usize::MAX, Ty::Void),
            "capture" => (1, 1, Ty::Str),
            "cd" | "unsetenv" => (1, 1, Ty::Void),
            "env" => (1, 1, Ty::Str),
            "setenv" => (2, 2, Ty::Void),
            "exit" => (0, 1, Ty::Void),
            "len" | "int" => (1, 1, Ty::Int),
            "str" => (1, 1, Ty::Str),
            "exists" => (1, 1, Ty::Bool),
            "status" => (0, 0, Ty::Int),
            _ => {
                self.unknown_function(name);
                for a in args {
                    self.expr(a);
                }
                return None;
            }
        };
        if !self.arity(name, args, span, (min, max)) {
            return None;
        }
        let arg = |i: usize, what: &str| format!("argument {} of `{}` ({what})", i + 1, name.name);
        match name.name.as_str() {
            "print" => {
                for a in args {
                    if let Some(t) = self.expr(a) {
                        if matches!(t, Ty::Pipeline | Ty::Void) {
                            self.error(
                                Diag::new(
                                    "ariash::check::type_mismatch",
                                    format!("print cannot show {t}"),
                                    a.span,
                                    format!("this is {t}"),
                                )
                                .with_help(
                                    "a program writes to stdout itself; to print its output as a value, use capture(...)",
                                ),
                            );
                        }
                    }
                }
            }
            "capture" => {
                if let Some(t) = self.expr(&args[0]) {
                    if t != Ty::Pipeline {
                        self.error(
                            Diag::new(
                                "ariash::check::type_mismatch",
                                format!("capture needs a pipeline, found {t}"),
                                args[0].span,
                                format!("this is {t}"),
                            )
                            .with_help("capture(run(\"prog\", [args]))"),
                        );
                    }
                }
            }
            "cd" => self.expect_ty(&args[0], &Ty::Str, &arg(0, "the directory")),
            "env" | "unsetenv" => self.expect_ty(&args[0], &Ty::Str, &arg(0, "the variable name")),
            "setenv" => {
                self.expect_ty(&args[0], &Ty::Str, &arg(0, "the variable name"));
                self.expect_ty(&args[1], &Ty::Str, &arg(1, "the value"));
            }
            "exit" => {
                if let Some(a) = args.first() {
                    self.expect_ty(a, &Ty::Int, &arg(0, "the status"));
                }
            }
            "int" => self.expect_ty(&args[0], &Ty::Str, &arg(0, "the text to parse")),
            "exists" => self.expect_ty(&args[0], &Ty::Str, &arg(0, "the path")),
            "len" => {
                if let Some(t) = self.expr(&args[0]) {
                    if !matches!(t, Ty::List(_) | Ty::EmptyList | Ty::Str) {
                        self.error(Diag::new(
                            "ariash::check::type_mismatch",
                            format!("len needs a list or a string, found {t}"),
                            args[0].span,
                            format!("this is {t}"),
                        ));
                    }
                }
            }
            "str" => {
                if let Some(t) = self.expr(&args[0]) {
                    if !matches!(t, Ty::Int | Ty::Bool | Ty::Str) {
                        self.error(
                            Diag::new(
                                "ariash::check::type_mismatch",
                                format!("str needs an int, bool or string, found {t}"),
                                args[0].span,
                                format!("this is {t}"),
                            )
                            .with_help("to get a program's output as a string, use capture(...)"),
                        );
                    }
                }
            }
            _ => {}
        }
        Some(ret)
    }

    fn unknown_function(&mut self, name: &Ident) {
        let is_var = self.lookup(&name.name).is_some();
        let help = if is_var {
            format!("`{}` is a variable, not a function", name.name)
        } else {
            match suggest(&name.name, BUILTINS.iter().map(|(n, _)| *n)) {
                Some(s) => format!("did you mean `{s}`?"),
                None => {
                    let all: Vec<&str> = BUILTINS.iter().map(|(n, _)| *n).collect();
                    format!(
                        "to run a program, write run(\"{}\", [...]); builtins are: {}",
                        name.name,
                        all.join(", ")
                    )
                }
            }
        };
        self.error(
            Diag::new(
                "ariash::check::unknown_function",
                format!("unknown function `{}`", name.name),
                name.span,
                "not a builtin",
            )
            .with_help(help),
        );
    }

    fn pipeline(&mut self, p: &PipeExpr) {
        match &p.kind {
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

/// Whether evaluating `e` can do anything: calls, pipelines, and logic over them.
fn has_effect(e: &Expr) -> bool {
    match &e.kind {
        ExprKind::Call { .. } | ExprKind::Pipeline(_) => true,
        ExprKind::Binary { op: BinOp::And | BinOp::Or, .. } => true,
        ExprKind::Unary { op: UnOp::Not, expr } => has_effect(expr),
        _ => false,
    }
}
