//! The syntax tree of an ariash script.
//!
//! Every node carries a [`Span`] (byte offsets into the source) so that the checker and the
//! interpreter can point diagnostics at the exact text. The pipeline part of the tree is its own
//! small expression tree, [`PipeExpr`]: a stage (`run(...)`), a pipe between two pipelines, a
//! redirection applied to the stage before it, and the `?` marker on a whole pipeline. The
//! interpreter turns it into an `aria_io` pipeline with a single recursive walk.

use std::fmt;

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
    /// The result of a builtin that returns nothing (`print`, `cd`, ...).
    Void,
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
    /// `true` or `false`.
    Bool(bool),
    /// `[a, b, ...]`
    List(Vec<Expr>),
    /// A variable reference.
    Var(String),
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
    /// A builtin call such as `print(...)` (everything but `run`, which is a pipeline stage).
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
}

/// The two kinds of pipe.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PipeOp {
    /// `|`: stdout of the left feeds stdin of the right.
    Text,
    /// `|*`: fd 5 (binary out) of the left feeds fd 4 (binary in) of the right.
    Data,
}

/// One `run(...)` call.
#[derive(Debug, Clone, PartialEq)]
pub struct Stage {
    /// The arguments inside the parentheses: the program, then optionally a `[string]` of args.
    /// (The checker enforces the count and types.)
    pub args: Vec<Expr>,
    /// The span of the `run(...)` call itself.
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
