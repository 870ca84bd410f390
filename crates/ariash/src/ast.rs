//! The syntax tree of an ariash script.
//!
//! Every node carries a [`Span`] (byte offsets into the source) so that the checker and the
//! interpreter can point diagnostics at the exact text. The pipeline part of the tree is its own
//! small expression tree, [`PipeExpr`]: a stage (`run(...)`), a pipe between two pipelines, a
//! redirection applied to the stage before it, and the `?` marker on a whole pipeline. The
//! interpreter turns it into an `aria_io` pipeline with a single recursive walk.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// Where a variable reference found its variable the last time it was evaluated: a cache
/// the interpreter keeps in the tree so that a variable used in a loop is not looked up by
/// name each time (see the interpreter's "Variables" docs). Not part of the syntax: any two
/// compare equal, and a fresh one is empty.
#[derive(Default)]
pub struct VarSlot(AtomicU64);

impl VarSlot {
    /// The cached location, packed by the interpreter; 0 when empty.
    pub(crate) fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }

    pub(crate) fn set(&self, packed: u64) {
        self.0.store(packed, Ordering::Relaxed);
    }
}

impl Clone for VarSlot {
    fn clone(&self) -> VarSlot {
        VarSlot(AtomicU64::new(self.get()))
    }
}

impl PartialEq for VarSlot {
    fn eq(&self, _: &VarSlot) -> bool {
        true
    }
}

impl fmt::Debug for VarSlot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("VarSlot")
    }
}

/// A half-open range of byte offsets into the script source.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Span {
    /// Offset of the first byte.
    pub start: usize,
    /// Offset one past the last byte.
    pub end: usize,
}

impl Span {
    /// A span from `start` to `end` (byte offsets).
    pub fn new(start: usize, end: usize) -> Span {
        Span { start, end }
    }

    /// The smallest span covering both `self` and `other`.
    pub fn to(self, other: Span) -> Span {
        Span::new(self.start.min(other.start), self.end.max(other.end))
    }

    /// Length in bytes.
    pub fn len(self) -> usize {
        self.end - self.start
    }

    /// True if the span covers no bytes.
    pub fn is_empty(self) -> bool {
        self.end == self.start
    }
}

/// A parsed script: a list of statements run in order.
#[derive(Debug, Clone, PartialEq)]
pub struct Script {
    /// The top-level statements.
    pub stmts: Vec<Stmt>,
}

/// A name with its location.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ident {
    /// The name as written.
    pub name: String,
    /// Where it was written.
    pub span: Span,
}

/// A static type of the language.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ty {
    /// `string`
    Str,
    /// `int` (64-bit signed)
    Int,
    /// `bool`
    Bool,
    /// `[T]`
    List(Box<Ty>),
    /// The type of `[]` before it meets a declared list type.
    EmptyList,
    /// A pipeline that has not run yet: the type of `run(...)` and of `a | b`.
    /// Where a `bool` is expected, it runs and becomes its success.
    Pipeline,
    /// The result of a builtin that returns nothing (`print`, `cd`, ...), and the return
    /// type `void` of a function.
    Void,
    /// `[K:V]`: a map with keys of type `K` (string, int or bool), in insertion order.
    Map(Box<Ty>, Box<Ty>),
    /// The type of `[:]` before it meets a declared map type.
    EmptyMap,
    /// `duration`: a span of time (`500ms`, `2s`, `1m`, `1h`).
    Duration,
    /// `job`: a background pipeline started with `&`.
    Job,
    /// The lines of a running pipeline or of stdin, read as they arrive: only a `for` loop
    /// can take it.
    Stream,
    /// A function: its parameter types and its return type.
    Func(Vec<Ty>, Box<Ty>),
}

impl fmt::Display for Ty {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Ty::Str => f.write_str("string"),
            Ty::Int => f.write_str("int"),
            Ty::Bool => f.write_str("bool"),
            Ty::List(t) => write!(f, "[{t}]"),
            Ty::EmptyList => f.write_str("[] (empty list)"),
            Ty::Pipeline => f.write_str("pipeline"),
            Ty::Void => f.write_str("nothing"),
            Ty::Map(k, v) => write!(f, "[{k}:{v}]"),
            Ty::EmptyMap => f.write_str("[:] (empty map)"),
            Ty::Duration => f.write_str("duration"),
            Ty::Job => f.write_str("job"),
            Ty::Stream => f.write_str("stream"),
            Ty::Func(params, ret) => {
                f.write_str("func(")?;
                for (i, p) in params.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{p}")?;
                }
                if **ret == Ty::Void {
                    f.write_str(")")
                } else {
                    write!(f, ") -> {ret}")
                }
            }
        }
    }
}

/// A type as written in a declaration, e.g. `[string]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TypeExpr {
    /// The type.
    pub ty: Ty,
    /// Where it was written.
    pub span: Span,
}

/// A statement with its location.
#[derive(Debug, Clone, PartialEq)]
pub struct Stmt {
    /// What kind of statement.
    pub kind: StmtKind,
    /// The whole statement, including its `;`.
    pub span: Span,
}

/// A `{ ... }` block; it opens a new variable scope.
#[derive(Debug, Clone, PartialEq)]
pub struct Block {
    /// The statements inside the braces.
    pub stmts: Vec<Stmt>,
    /// From `{` to `}`.
    pub span: Span,
}

/// The statements of the language.
#[derive(Debug, Clone, PartialEq)]
pub enum StmtKind {
    /// `TYPE:name = value;` (the initializer is optional and defaults to the zero value).
    Decl {
        /// The declared type.
        ty: TypeExpr,
        /// The new variable.
        name: Ident,
        /// The initial value.
        init: Option<Expr>,
    },
    /// `name = value;` or a compound form such as `name += value;` (`op` is then `Some`).
    Assign {
        /// The assigned variable.
        name: Ident,
        /// The operator of a compound assignment.
        op: Option<BinOp>,
        /// The right-hand side.
        value: Expr,
        /// Where the interpreter found the variable last.
        slot: VarSlot,
    },
    /// An expression run for its effect: a call, a pipeline, or `&&`/`||`/`!` of those.
    Expr(Expr),
    /// `pipeline &;`: start a background job.
    Background(PipeExpr),
    /// `if (cond) { ... } else ...`; `else if` nests another `If` in `els`.
    If {
        /// The condition (`bool`, or a pipeline meaning its success).
        cond: Expr,
        /// Run when the condition holds.
        then: Block,
        /// Run otherwise: a block or another `if` statement.
        els: Option<Box<Stmt>>,
    },
    /// `while (cond) { ... }`
    While {
        /// The condition, evaluated before each iteration.
        cond: Expr,
        /// The loop body.
        body: Block,
    },
    /// `for (x in list) { ... }`
    For {
        /// The loop variable, scoped to the body.
        var: Ident,
        /// The list iterated over (evaluated once).
        iter: Expr,
        /// The loop body.
        body: Block,
    },
    /// `break;`
    Break,
    /// `continue;`
    Continue,
    /// `wait;` or `wait?;`: wait for all background jobs.
    Wait {
        /// With `?`, a failed job stops the script with its status.
        check: bool,
    },
    /// A nested `{ ... }` block.
    Block(Block),
    /// `func:name = T(type:param, ...) { ... }`: a function definition (top level only).
    Func(Arc<FuncDef>),
    /// `return;` or `return value;`
    Return(Option<Expr>),
    /// `try { ... } catch (string:e) { ... }` (the catch variable is optional).
    Try {
        /// The guarded block.
        body: Block,
        /// The variable that holds the error message in the handler.
        var: Option<Ident>,
        /// Run when a runtime error stops the guarded block.
        handler: Block,
    },
    /// `name[index] = value;` or a compound form such as `name[key] += 1;`.
    SetIndex {
        /// The list or map variable.
        name: Ident,
        /// The index (list) or key (map).
        index: Expr,
        /// The operator of a compound assignment.
        op: Option<BinOp>,
        /// The right-hand side.
        value: Expr,
    },
}

/// A function definition.
#[derive(Debug, Clone, PartialEq)]
pub struct FuncDef {
    /// The function's name.
    pub name: Ident,
    /// The parameters, in order.
    pub params: Vec<(TypeExpr, Ident)>,
    /// The return type (`void` for none).
    pub ret: TypeExpr,
    /// The body.
    pub body: Block,
}

impl FuncDef {
    /// The function's type.
    pub fn ty(&self) -> Ty {
        Ty::Func(self.params.iter().map(|(t, _)| t.ty.clone()).collect(), Box::new(self.ret.ty.clone()))
    }
}

/// Binary operators of value expressions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinOp {
    /// `+` (ints add, strings and lists concatenate)
    Add,
    /// `-`
    Sub,
    /// `*`
    Mul,
    /// `/` (truncating)
    Div,
    /// `%`
    Rem,
    /// `==`
    Eq,
    /// `!=`
    Ne,
    /// `<`
    Lt,
    /// `>`
    Gt,
    /// `<=`
    Le,
    /// `>=`
    Ge,
    /// `&&` (short-circuit)
    And,
    /// `||` (short-circuit)
    Or,
}

impl BinOp {
    /// The operator as written.
    pub fn symbol(self) -> &'static str {
        match self {
            BinOp::Add => "+",
            BinOp::Sub => "-",
            BinOp::Mul => "*",
            BinOp::Div => "/",
            BinOp::Rem => "%",
            BinOp::Eq => "==",
            BinOp::Ne => "!=",
            BinOp::Lt => "<",
            BinOp::Gt => ">",
            BinOp::Le => "<=",
            BinOp::Ge => ">=",
            BinOp::And => "&&",
            BinOp::Or => "||",
        }
    }
}

/// Unary operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnOp {
    /// `!` on a bool (or a pipeline's success)
    Not,
    /// `-` on an int
    Neg,
}

/// An expression with its location.
#[derive(Debug, Clone, PartialEq)]
pub struct Expr {
    /// What kind of expression.
    pub kind: ExprKind,
    /// The whole expression.
    pub span: Span,
}

/// Value expressions.
#[derive(Debug, Clone, PartialEq)]
pub enum ExprKind {
    /// An integer literal.
    Int(i64),
    /// A string literal, escapes already decoded.
    Str(String),
    /// A duration literal such as `500ms`.
    Duration(Duration),
    /// `f"text {expr} text"`: the literal parts and the interpolated expressions, in order.
    Format(Vec<FormatPart>),
    /// `[k: v, ...]` or `[:]`
    Map(Vec<(Expr, Expr)>),
    /// `base[start:end]` on a string or a list (either bound may be left out).
    Slice {
        /// The string or list.
        base: Box<Expr>,
        /// The first index included (0 when left out).
        start: Option<Box<Expr>>,
        /// The first index excluded (the length when left out).
        end: Option<Box<Expr>>,
    },
    /// `pipeline &`: starts a background job; its value is the job.
    Spawn(Box<PipeExpr>),
    /// `true` or `false`.
    Bool(bool),
    /// `[a, b, ...]`
    List(Vec<Expr>),
    /// A variable reference, and where the interpreter found it last.
    Var(String, VarSlot),
    /// `!e` or `-e`
    Unary {
        /// The operator.
        op: UnOp,
        /// Its operand.
        expr: Box<Expr>,
    },
    /// `a OP b`
    Binary {
        /// The operator.
        op: BinOp,
        /// Where the operator was written.
        op_span: Span,
        /// Left operand.
        lhs: Box<Expr>,
        /// Right operand.
        rhs: Box<Expr>,
    },
    /// `list[index]`
    Index {
        /// The list.
        base: Box<Expr>,
        /// The zero-based index.
        index: Box<Expr>,
    },
    /// A call of a builtin such as `print(...)` or of a function the script defines
    /// (everything but `run`, `timeout` and command literals, which are pipeline nodes).
    Call {
        /// The function name.
        name: Ident,
        /// The arguments.
        args: Vec<Expr>,
    },
    /// A pipeline. Where a value is needed it runs, and its value is its success.
    Pipeline(Box<PipeExpr>),
}

/// A pipeline expression: the small tree the interpreter walks to build a process pipeline.
#[derive(Debug, Clone, PartialEq)]
pub struct PipeExpr {
    /// What kind of node.
    pub kind: PipeKind,
    /// The whole pipeline text of this node.
    pub span: Span,
}

/// The nodes of a pipeline tree.
#[derive(Debug, Clone, PartialEq)]
pub enum PipeKind {
    /// `run(program)` or `run(program, args)`.
    Stage(Stage),
    /// `lhs | rhs` or `lhs |* rhs`.
    Pipe {
        /// Text pipe or data pipe.
        op: PipeOp,
        /// The producing side.
        lhs: Box<PipeExpr>,
        /// The consuming side.
        rhs: Box<PipeExpr>,
    },
    /// A redirection applied to the stage written before it.
    Redirect {
        /// The stage (possibly already redirected).
        inner: Box<PipeExpr>,
        /// The redirection.
        redirect: Redirect,
    },
    /// `pipeline?`: if the pipeline fails, the script stops with its status.
    Try(Box<PipeExpr>),
    /// `timeout(limit, pipeline)`: at the deadline the pipeline's process group gets
    /// `SIGTERM`, then `SIGKILL` after the grace period; its status is then 124.
    Timeout {
        /// The `duration` allowed.
        limit: Box<Expr>,
        /// The pipeline.
        inner: Box<PipeExpr>,
    },
}

/// One part of an `f"..."` string.
#[derive(Debug, Clone, PartialEq)]
pub enum FormatPart {
    /// Text as written (escapes decoded, `{{` and `}}` already single braces).
    Lit(String),
    /// `{expr}`: the value converted as `str` does.
    Expr(Expr),
}

/// One word of a command literal: the parts are joined into exactly one argument, unless the
/// word is a single [`WordPart::Splice`].
#[derive(Debug, Clone, PartialEq)]
pub struct Word {
    /// The parts, in order.
    pub parts: Vec<WordPart>,
    /// The word as written.
    pub span: Span,
}

/// A part of a command literal's word.
#[derive(Debug, Clone, PartialEq)]
pub enum WordPart {
    /// Literal text (quotes removed, escapes decoded).
    Lit(String),
    /// `{expr}`: a string, int, bool or duration, as one piece of the argument.
    Expr(Expr),
    /// `{...list}`: the list's elements as separate arguments (a whole word).
    Splice(Expr),
}

/// The two kinds of pipe.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PipeOp {
    /// `|`: stdout of the left feeds stdin of the right.
    Text,
    /// `|*`: fd 5 (binary out) of the left feeds fd 4 (binary in) of the right.
    Data,
}

/// One program of a pipeline: a `run(...)` call or a command literal.
#[derive(Debug, Clone, PartialEq)]
pub struct Stage {
    /// The arguments inside `run(...)`'s parentheses: the program, then optionally a
    /// `[string]` of args (the checker enforces the count and types). Empty for a command
    /// literal.
    pub args: Vec<Expr>,
    /// The words of a command literal (`` `prog arg {x}` ``), split at parse time; `None`
    /// for `run(...)`.
    pub words: Option<Vec<Word>>,
    /// The span of the `run(...)` call or of the literal.
    pub span: Span,
}

/// A redirection with its location.
#[derive(Debug, Clone, PartialEq)]
pub struct Redirect {
    /// What it does.
    pub kind: RedirectKind,
    /// From the fd digit (or operator) to the end of the target.
    pub span: Span,
}

/// The redirection forms.
#[derive(Debug, Clone, PartialEq)]
pub enum RedirectKind {
    /// `N> target` or `N>> target` (N defaults to 1).
    Write {
        /// The child's fd.
        fd: u8,
        /// The file path expression.
        target: Expr,
        /// `>>` appends.
        append: bool,
    },
    /// `N< target` (N defaults to 0).
    Read {
        /// The child's fd.
        fd: u8,
        /// The file path expression.
        target: Expr,
    },
    /// `N>&M` or `N<&M`: make fd N a copy of fd M.
    Dup {
        /// The fd being replaced.
        fd: u8,
        /// The fd copied.
        from: u8,
    },
}
