//! The parser: tokens to a [`Script`], by recursive descent for statements and precedence
//! climbing for expressions.
//!
//! Binding, loosest first: `||`, `&&`, the pipes `|` `|*` together with the postfix `?`,
//! `==` `!=`, `<` `>` `<=` `>=`, `+` `-`, `*` `/` `%`, unary `!` `-`, indexing `[i]`.
//! So `run("a") | run("b") && run("c")?` is `(a | b) && (c?)`. Redirections are not
//! operators: they are parsed right after the `run(...)` they apply to, and their target is an
//! additive expression (`run("p") > dir + "/out"`).
//!
//! Nesting is bounded by [`MAX_DEPTH`] in two ways, so that no later recursive walk (the
//! checker, the interpreter, dropping the tree) can go deeper than the parser accepted: the
//! parser's own recursion (blocks, `else if`s, type brackets, and each expression level,
//! parentheses included) and the depth of the tree it builds (the statement's nesting plus the
//! height of its expressions, where a left-associative chain `a + b + c` grows with its
//! length without any recursion). Both are refused with `ariash::parse::too_deep` at the text
//! that crosses the limit, before the tree grows any further.

use std::sync::Arc;

use crate::ast::{
    BinOp, Block, Expr, ExprKind, FormatPart, FuncDef, Ident, PipeExpr, PipeKind, PipeOp, Redirect,
    RedirectKind, Script, Span, Stage, Stmt, StmtKind, Ty, TypeExpr, UnOp, VarSlot, Word, WordPart,
};
use crate::diag::Diag;
use crate::lexer::{lex, lex_range, CmdPart, CmdWord, TokKind, Token, TplPart};
use crate::stack::MAX_DEPTH;

/// Parses a whole script.
///
/// # Errors
/// The first lexical or syntax error, as a [`Diag`] pointing at the offending text.
///
/// The parse runs on the script stack (see [`crate::stack`]); failing to start that thread is
/// reported as an error at the start of the script.
pub fn parse(text: &str) -> Result<Script, Diag> {
    crate::stack::on_script_stack(|| parse_here(text)).unwrap_or_else(|e| Err(no_thread(&e)))
}

/// The error for a script stack that could not be created.
pub(crate) fn no_thread(e: &std::io::Error) -> Diag {
    Diag::new(
        "ariash::resource",
        format!("cannot start the thread that runs scripts: {e}"),
        Span::new(0, 0),
        "not started",
    )
    .with_help("the system is out of threads or memory (see ulimit -u and ulimit -v)")
}

/// [`parse`] on the current thread, whose stack must hold [`MAX_DEPTH`] levels.
pub(crate) fn parse_here(text: &str) -> Result<Script, Diag> {
    let toks = lex(text)?;
    let mut p = Parser { text, toks, pos: 0, depth: 0, stmt_depth: 0, height: 0 };
    let mut stmts = Vec::new();
    while !p.at(&TokKind::Eof) {
        stmts.push(p.stmt()?);
    }
    Ok(Script { stmts })
}

/// Precedence of the pipe operators and of the postfix `?`.
const PIPE_PREC: u8 = 3;
/// Precedence of `+`/`-`: the loosest binding allowed in a redirection target.
const ADD_PREC: u8 = 6;

fn binop(kind: &TokKind) -> Option<(u8, BinOp)> {
    Some(match kind {
        TokKind::OrOr => (1, BinOp::Or),
        TokKind::AndAnd => (2, BinOp::And),
        TokKind::EqEq => (4, BinOp::Eq),
        TokKind::Ne => (4, BinOp::Ne),
        TokKind::Lt => (5, BinOp::Lt),
        TokKind::Gt => (5, BinOp::Gt),
        TokKind::Le => (5, BinOp::Le),
        TokKind::Ge => (5, BinOp::Ge),
        TokKind::Plus => (ADD_PREC, BinOp::Add),
        TokKind::Minus => (ADD_PREC, BinOp::Sub),
        TokKind::Star => (7, BinOp::Mul),
        TokKind::Slash => (7, BinOp::Div),
        TokKind::Percent => (7, BinOp::Rem),
        _ => return None,
    })
}

struct Parser<'a> {
    /// The whole script, for the expressions inside literals.
    text: &'a str,
    toks: Vec<Token>,
    pos: usize,
    /// The parser's own nesting: blocks, `else if`s, type brackets and expression levels.
    depth: usize,
    /// How many blocks and `else if`s the current statement is inside.
    stmt_depth: usize,
    /// The height of the expression tree last returned by an expression method (`expr`,
    /// `expr_bp`, `unary`, `postfix`, `primary`), or the tallest item of the last `list`, or
    /// the pipeline last returned by `redirects`.
    height: usize,
}

type PResult<T> = Result<T, Diag>;

impl<'a> Parser<'a> {
    fn peek(&self) -> &Token {
        // The token list always ends with Eof and `pos` never moves past it.
        &self.toks[self.pos.min(self.toks.len() - 1)]
    }

    fn peek_nth(&self, n: usize) -> &Token {
        &self.toks[(self.pos + n).min(self.toks.len() - 1)]
    }

    fn at(&self, kind: &TokKind) -> bool {
        &self.peek().kind == kind
    }

    fn bump(&mut self) -> Token {
        let t = self.peek().clone();
        if self.pos < self.toks.len() - 1 {
            self.pos += 1;
        }
        t
    }

    fn eat(&mut self, kind: &TokKind) -> Option<Token> {
        if self.at(kind) {
            Some(self.bump())
        } else {
            None
        }
    }

    fn prev_end(&self) -> usize {
        self.pos.checked_sub(1).and_then(|i| self.toks.get(i)).map_or(0, |t| t.span.end)
    }

    fn unexpected(&self, expected: &str) -> Diag {
        let t = self.peek();
        Diag::new(
            "ariash::parse::unexpected_token",
            format!("expected {expected}, found {}", t.kind),
            t.span,
            format!("expected {expected}"),
        )
    }

    fn expect(&mut self, kind: TokKind, help: &str) -> PResult<Token> {
        match self.eat(&kind) {
            Some(t) => Ok(t),
            None => {
                let d = self.unexpected(&kind.to_string());
                Err(if help.is_empty() { d } else { d.with_help(help) })
            }
        }
    }

    fn semi(&mut self) -> PResult<Token> {
        if let Some(t) = self.eat(&TokKind::Semi) {
            return Ok(t);
        }
        let at = self.prev_end();
        let found = &self.peek().kind;
        let help = match found {
            TokKind::GtGt | TokKind::Gt | TokKind::Lt => {
                "redirections go right after the run(...) they apply to, as in run(\"p\") > \"f\";"
            }
            TokKind::Assign => "to compare, use `==`; to assign, start a new statement",
            TokKind::Colon => {
                "declarations are written TYPE:name, with a type of string, int, bool or [string]"
            }
            TokKind::Pipe | TokKind::PipeData => {
                "`?` must come at the end of the whole pipeline: run(\"a\") | run(\"b\")?;"
            }
            _ => "add `;` at the end of the statement",
        };
        Err(Diag::new(
            "ariash::parse::missing_semicolon",
            format!("expected `;` after the statement, found {found}"),
            Span::new(at, at),
            "`;` expected here",
        )
        .with_help(help))
    }

    fn too_deep(&self, span: Span) -> Diag {
        Diag::new(
            "ariash::parse::too_deep",
            format!("the script nests more than {MAX_DEPTH} levels deep"),
            span,
            "nesting limit reached here",
        )
        .with_help(
            "hold parts of the expression in variables, split long `+`, `&&` or `|` chains, \
             or nest fewer blocks",
        )
    }

    /// Runs `f` one parser level deeper, refusing to go past [`MAX_DEPTH`].
    fn deeper<T>(&mut self, f: fn(&mut Parser<'a>) -> PResult<T>) -> PResult<T> {
        if self.depth >= MAX_DEPTH {
            return Err(self.too_deep(self.peek().span));
        }
        self.depth += 1;
        let result = f(self);
        self.depth -= 1;
        result
    }

    /// Runs `f` (a block or an `else if`) one statement level deeper.
    fn nested<T>(&mut self, f: fn(&mut Parser<'a>) -> PResult<T>) -> PResult<T> {
        self.stmt_depth += 1;
        let result = self.deeper(f);
        self.stmt_depth -= 1;
        result
    }

    /// Records `height` as that of the expression just built (ending at `at`), refusing a
    /// tree deeper than [`MAX_DEPTH`].
    fn tall(&mut self, height: usize, at: Span) -> PResult<()> {
        self.height = height;
        if self.stmt_depth + height > MAX_DEPTH {
            return Err(self.too_deep(at));
        }
        Ok(())
    }

    fn ident(&mut self, what: &str) -> PResult<Ident> {
        let t = self.peek().clone();
        match t.kind {
            TokKind::Ident(name) => {
                self.bump();
                Ok(Ident { name, span: t.span })
            }
            _ => {
                let d = self.unexpected(what);
                Err(if t.kind.is_keyword() {
                    d.with_help(format!("{} is a keyword and cannot be a name", t.kind))
                } else {
                    d.with_help("names start with a letter or `_`")
                })
            }
        }
    }

    // ---- statements ----

    fn stmt(&mut self) -> PResult<Stmt> {
        let start = self.peek().span.start;
        let kind = match self.peek().kind.clone() {
            TokKind::LBrace => StmtKind::Block(self.block()?),
            TokKind::If => return self.if_stmt(),
            TokKind::While => {
                self.bump();
                let cond = self.paren_cond("while")?;
                let body = self.block()?;
                StmtKind::While { cond, body }
            }
            TokKind::For => {
                self.bump();
                self.expect(TokKind::LParen, "loops are written: for (x in list) { ... }")?;
                let var = self.ident("a loop variable name")?;
                self.expect(TokKind::In, "loops are written: for (x in list) { ... }")?;
                let iter = self.expr()?;
                self.expect(TokKind::RParen, "close the loop header with `)`")?;
                let body = self.block()?;
                StmtKind::For { var, iter, body }
            }
            TokKind::Break => {
                self.bump();
                self.semi()?;
                StmtKind::Break
            }
            TokKind::Continue => {
                self.bump();
                self.semi()?;
                StmtKind::Continue
            }
            // `wait;`, `wait();`, `wait?;` (`wait(j)` is a call, parsed as an expression).
            TokKind::Wait
                if !(self.peek_nth(1).kind == TokKind::LParen
                    && self.peek_nth(2).kind != TokKind::RParen) =>
            {
                self.bump();
                if self.at(&TokKind::LParen) && self.peek_nth(1).kind == TokKind::RParen {
                    self.bump();
                    self.bump();
                }
                let check = self.eat(&TokKind::Question).is_some();
                self.semi()?;
                StmtKind::Wait { check }
            }
            TokKind::KwString | TokKind::KwInt | TokKind::KwBool
                if self.peek_nth(1).kind != TokKind::LParen =>
            {
                self.decl()?
            }
            TokKind::Ident(ref n)
                if (n == "job" || n == "duration") && self.peek_nth(1).kind == TokKind::Colon =>
            {
                self.decl()?
            }
            TokKind::Func => self.func()?,
            TokKind::Ident(ref n)
                if matches!(n.as_str(), "fn" | "function" | "def" | "fun")
                    && matches!(self.peek_nth(1).kind, TokKind::Ident(_)) =>
            {
                let t = self.peek();
                return Err(Diag::new(
                    "ariash::parse::foreign_syntax",
                    format!("`{n}` does not define a function in ariash"),
                    t.span,
                    "not ariash syntax",
                )
                .with_help(
                    "functions are written func:name = int(string:a, [string]:xs) { ... return n; }",
                ));
            }
            TokKind::Return => {
                self.bump();
                let value = if self.at(&TokKind::Semi) { None } else { Some(self.expr()?) };
                self.semi()?;
                StmtKind::Return(value)
            }
            TokKind::Try => self.try_stmt()?,
            TokKind::Catch => {
                let t = self.peek();
                return Err(Diag::new(
                    "ariash::parse::unexpected_token",
                    "`catch` without a matching `try`",
                    t.span,
                    "no `try` before this",
                )
                .with_help("`catch` must follow the closing `}` of a try block"));
            }
            TokKind::Ident(_) if self.peek_nth(1).kind == TokKind::LBracket && self.is_index_assignment() => {
                let name = self.ident("a variable name")?;
                self.bump();
                let index = self.expr()?;
                self.expect(TokKind::RBracket, "close the index with `]`")?;
                let op = assign_op(&self.bump().kind);
                let value = self.expr()?;
                self.semi()?;
                StmtKind::SetIndex { name, index, op, value }
            }
            TokKind::LBracket => self.decl()?,
            TokKind::Else => {
                let t = self.peek();
                return Err(Diag::new(
                    "ariash::parse::unexpected_token",
                    "`else` without a matching `if`",
                    t.span,
                    "no `if` before this",
                )
                .with_help("`else` must follow the closing `}` of an if block"));
            }
            TokKind::Ident(_) if matches!(self.peek_nth(1).kind, TokKind::Assign | TokKind::OpAssign(_)) => {
                let name = self.ident("a variable name")?;
                let op = assign_op(&self.bump().kind);
                let value = self.expr()?;
                self.semi()?;
                StmtKind::Assign { name, op, value, slot: VarSlot::default() }
            }
            _ => {
                let expr = self.expr()?;
                self.semi()?;
                match expr.kind {
                    ExprKind::Spawn(p) => StmtKind::Background(*p),
                    _ => StmtKind::Expr(expr),
                }
            }
        };
        Ok(Stmt { kind, span: Span::new(start, self.prev_end()) })
    }

    /// At `name [`: whether this is `name[index] = ...;` (scans to the matching `]`).
    fn is_index_assignment(&self) -> bool {
        let mut depth = 0usize;
        let mut i = 1;
        loop {
            match &self.peek_nth(i).kind {
                TokKind::LBracket => depth += 1,
                TokKind::RBracket => {
                    depth -= 1;
                    if depth == 0 {
                        return matches!(self.peek_nth(i + 1).kind, TokKind::Assign | TokKind::OpAssign(_));
                    }
                }
                TokKind::Eof | TokKind::Semi | TokKind::LBrace | TokKind::RBrace => return false,
                _ => {}
            }
            i += 1;
        }
    }

    /// `func:name = T(type:param, ...) { ... }`
    fn func(&mut self) -> PResult<StmtKind> {
        let kw = self.bump();
        if self.stmt_depth > 0 {
            return Err(Diag::new(
                "ariash::parse::nested_function",
                "functions are defined at the top level of a script",
                kw.span,
                "function inside a block",
            )
            .with_help("move the definition out of the block; functions can call each other in any order"));
        }
        self.expect(TokKind::Colon, "functions are written func:name = int(string:a) { ... }")?;
        let name = self.ident("a function name")?;
        self.expect(TokKind::Assign, "functions are written func:name = int(string:a) { ... }")?;
        let ret = if matches!(&self.peek().kind, TokKind::Ident(n) if n == "void") {
            let t = self.bump();
            TypeExpr { ty: Ty::Void, span: t.span }
        } else {
            self.type_expr()?
        };
        self.expect(
            TokKind::LParen,
            "after the return type come the parameters: func:name = int(string:a, int:b) { ... }",
        )?;
        let mut params = Vec::new();
        while !self.at(&TokKind::RParen) {
            let ty = self.type_expr()?;
            self.expect(TokKind::Colon, "parameters are written TYPE:name, as in string:path")?;
            let pname = self.ident("a parameter name")?;
            params.push((ty, pname));
            if self.eat(&TokKind::Comma).is_none() {
                break;
            }
        }
        self.expect(TokKind::RParen, "separate parameters with `,` and close them with `)`")?;
        let body = self.block()?;
        Ok(StmtKind::Func(Arc::new(FuncDef { name, params, ret, body })))
    }

    /// `try { ... } catch (string:e) { ... }` or `try { ... } catch { ... }`
    fn try_stmt(&mut self) -> PResult<StmtKind> {
        self.bump();
        let body = self.block()?;
        self.expect(TokKind::Catch, "a try block is followed by catch (string:e) { ... }")?;
        let var = if self.eat(&TokKind::LParen).is_some() {
            let ty = self.type_expr()?;
            if ty.ty != Ty::Str {
                return Err(Diag::new(
                    "ariash::parse::catch_type",
                    format!("the caught error is a string, not {}", ty.ty),
                    ty.span,
                    "expected `string`",
                )
                .with_help("write catch (string:e) { ... }"));
            }
            self.expect(TokKind::Colon, "write catch (string:e) { ... }")?;
            let name = self.ident("a variable name")?;
            self.expect(TokKind::RParen, "write catch (string:e) { ... }")?;
            Some(name)
        } else {
            None
        };
        let handler = self.block()?;
        Ok(StmtKind::Try { body, var, handler })
    }

    fn if_stmt(&mut self) -> PResult<Stmt> {
        let start = self.bump().span.start;
        let cond = self.paren_cond("if")?;
        let then = self.block()?;
        let els = if self.eat(&TokKind::Else).is_some() {
            if self.at(&TokKind::If) {
                Some(Box::new(self.nested(Parser::if_stmt)?))
            } else {
                let block = self.block()?;
                let span = block.span;
                Some(Box::new(Stmt { kind: StmtKind::Block(block), span }))
            }
        } else {
            None
        };
        Ok(Stmt { kind: StmtKind::If { cond, then, els }, span: Span::new(start, self.prev_end()) })
    }

    fn paren_cond(&mut self, keyword: &str) -> PResult<Expr> {
        self.expect(
            TokKind::LParen,
            &format!("conditions are written in parentheses: {keyword} (cond) {{ ... }}"),
        )?;
        let cond = self.expr()?;
        if self.at(&TokKind::Assign) {
            return Err(self.unexpected("`)`").with_help("to compare, use `==`; assignments are statements"));
        }
        self.expect(TokKind::RParen, "close the condition with `)`")?;
        Ok(cond)
    }

    fn block(&mut self) -> PResult<Block> {
        self.nested(Parser::block_here)
    }

    fn block_here(&mut self) -> PResult<Block> {
        let open = self.expect(TokKind::LBrace, "blocks are written in braces: { ... }")?;
        let mut stmts = Vec::new();
        while !self.at(&TokKind::RBrace) {
            if self.at(&TokKind::Eof) {
                return Err(Diag::new(
                    "ariash::parse::unclosed_block",
                    "unclosed block",
                    open.span,
                    "this `{` is never closed",
                )
                .with_help("add a matching `}`"));
            }
            stmts.push(self.stmt()?);
        }
        let close = self.bump();
        Ok(Block { stmts, span: open.span.to(close.span) })
    }

    fn decl(&mut self) -> PResult<StmtKind> {
        let ty = self.type_expr()?;
        self.expect(
            TokKind::Colon,
            "declarations are written TYPE:name = value; as in string:name = \"x\";",
        )?;
        let name = self.ident("a variable name")?;
        let init = if self.eat(&TokKind::Assign).is_some() { Some(self.expr()?) } else { None };
        self.semi()?;
        Ok(StmtKind::Decl { ty, name, init })
    }

    fn type_expr(&mut self) -> PResult<TypeExpr> {
        let t = self.bump();
        let ty = match t.kind {
            TokKind::KwString => Ty::Str,
            TokKind::KwInt => Ty::Int,
            TokKind::KwBool => Ty::Bool,
            TokKind::Ident(ref n) if n == "job" => Ty::Job,
            TokKind::Ident(ref n) if n == "duration" => Ty::Duration,
            TokKind::LBracket => {
                let inner = self.deeper(Parser::type_expr)?;
                if self.eat(&TokKind::Colon).is_some() {
                    let value = self.deeper(Parser::type_expr)?;
                    let close = self.expect(TokKind::RBracket, "map types are written [string:int]")?;
                    if !matches!(inner.ty, Ty::Str | Ty::Int | Ty::Bool) {
                        return Err(Diag::new(
                            "ariash::parse::map_key_type",
                            format!("a map key cannot be {}", inner.ty),
                            inner.span,
                            "not a key type",
                        )
                        .with_help("map keys are string, int or bool"));
                    }
                    return Ok(TypeExpr {
                        ty: Ty::Map(Box::new(inner.ty), Box::new(value.ty)),
                        span: t.span.to(close.span),
                    });
                }
                let close =
                    self.expect(TokKind::RBracket, "list types are written [string], maps [string:int]")?;
                return Ok(TypeExpr { ty: Ty::List(Box::new(inner.ty)), span: t.span.to(close.span) });
            }
            other => {
                let help = match &other {
                    TokKind::Ident(n) if n == "str" || n == "String" => "the string type is spelled `string`",
                    TokKind::Ident(n) if n == "void" => "`void` is only a function's return type",
                    _ => "types are string, int, bool, duration, job, lists such as [string] and maps such as [string:int]",
                };
                return Err(Diag::new(
                    "ariash::parse::unexpected_token",
                    format!("expected a type, found {other}"),
                    t.span,
                    "expected a type",
                )
                .with_help(help));
            }
        };
        Ok(TypeExpr { ty, span: t.span })
    }

    // ---- expressions ----

    /// An expression, optionally followed by `&` (a background job).
    fn expr(&mut self) -> PResult<Expr> {
        let expr = self.expr_bp(0)?;
        let Some(amp) = self.eat(&TokKind::Amp) else { return Ok(expr) };
        match expr.kind {
            ExprKind::Pipeline(p) if !matches!(p.kind, PipeKind::Try(_)) => {
                let span = expr.span.to(amp.span);
                self.tall(self.height + 1, amp.span)?;
                Ok(Expr { kind: ExprKind::Spawn(p), span })
            }
            ExprKind::Pipeline(p) => Err(Diag::new(
                "ariash::parse::try_in_background",
                "`?` cannot be used on a background job",
                p.span,
                "checked pipeline started in the background",
            )
            .with_help("drop the `?` and check the job with wait(j) or `wait?;`")),
            _ => Err(Diag::new(
                "ariash::parse::background_not_pipeline",
                "only a pipeline can run in the background",
                expr.span.to(amp.span),
                "not a pipeline",
            )
            .with_help("write `prog args` &; or run(\"prog\", [args]) &;")),
        }
    }

    fn expr_bp(&mut self, min_prec: u8) -> PResult<Expr> {
        let mut lhs = self.unary()?;
        let mut height = self.height;
        loop {
            let tok = self.peek().clone();
            match tok.kind {
                TokKind::Pipe | TokKind::PipeData if PIPE_PREC >= min_prec => {
                    self.bump();
                    let op = if tok.kind == TokKind::Pipe { PipeOp::Text } else { PipeOp::Data };
                    let rhs = self.expr_bp(PIPE_PREC + 1)?;
                    height = 1 + height.max(self.height);
                    self.tall(height, tok.span)?;
                    let l = pipe_operand(lhs, &tok, "left")?;
                    let r = pipe_operand(rhs, &tok, "right")?;
                    let span = l.span.to(r.span);
                    lhs = pipeline_expr(PipeExpr {
                        kind: PipeKind::Pipe { op, lhs: Box::new(l), rhs: Box::new(r) },
                        span,
                    });
                }
                TokKind::Question if PIPE_PREC >= min_prec => {
                    self.bump();
                    let span = lhs.span.to(tok.span);
                    match lhs.kind {
                        ExprKind::Pipeline(p) if !matches!(p.kind, PipeKind::Try(_)) => {
                            height += 1;
                            self.tall(height, tok.span)?;
                            lhs = pipeline_expr(PipeExpr { kind: PipeKind::Try(p), span });
                        }
                        _ => {
                            return Err(Diag::new(
                                "ariash::parse::try_not_pipeline",
                                "`?` applies to a pipeline",
                                tok.span,
                                "nothing to check here",
                            )
                            .with_help("put `?` once, after a pipeline: run(\"a\") | run(\"b\")?;"))
                        }
                    }
                }
                _ => {
                    let Some((prec, op)) = binop(&tok.kind).filter(|(prec, _)| *prec >= min_prec) else {
                        self.height = height;
                        return Ok(lhs);
                    };
                    self.bump();
                    let rhs = self.expr_bp(prec + 1)?;
                    height = 1 + height.max(self.height);
                    self.tall(height, tok.span)?;
                    let span = lhs.span.to(rhs.span);
                    lhs = Expr {
                        kind: ExprKind::Binary {
                            op,
                            op_span: tok.span,
                            lhs: Box::new(lhs),
                            rhs: Box::new(rhs),
                        },
                        span,
                    };
                }
            }
        }
    }

    fn unary(&mut self) -> PResult<Expr> {
        self.deeper(Parser::unary_here)
    }

    fn unary_here(&mut self) -> PResult<Expr> {
        let op = match self.peek().kind {
            TokKind::Bang => UnOp::Not,
            TokKind::Minus => UnOp::Neg,
            _ => return self.postfix(),
        };
        let t = self.bump();
        if op == UnOp::Neg && self.at(&TokKind::MinIntDigits) {
            // `-9223372036854775808`: the smallest int, whose digits alone do not fit.
            let digits = self.bump();
            self.tall(1, digits.span)?;
            return Ok(Expr { kind: ExprKind::Int(i64::MIN), span: t.span.to(digits.span) });
        }
        let expr = self.unary()?;
        self.tall(self.height + 1, t.span)?;
        Ok(Expr { span: t.span.to(expr.span), kind: ExprKind::Unary { op, expr: Box::new(expr) } })
    }

    fn postfix(&mut self) -> PResult<Expr> {
        let mut e = self.primary()?;
        let mut height = self.height;
        while self.at(&TokKind::LBracket) {
            self.bump();
            let start = if self.at(&TokKind::Colon) { None } else { Some(self.expr()?) };
            let mut inner = self.height;
            if self.eat(&TokKind::Colon).is_some() {
                let end = if self.at(&TokKind::RBracket) { None } else { Some(self.expr()?) };
                inner = inner.max(self.height);
                let close = self.expect(TokKind::RBracket, "close the slice with `]`")?;
                height = 1 + height.max(inner);
                self.tall(height, close.span)?;
                e = Expr {
                    span: e.span.to(close.span),
                    kind: ExprKind::Slice {
                        base: Box::new(e),
                        start: start.map(Box::new),
                        end: end.map(Box::new),
                    },
                };
                continue;
            }
            let Some(index) = start else {
                return Err(self.unexpected("an index"));
            };
            let close = self.expect(TokKind::RBracket, "close the index with `]`")?;
            height = 1 + height.max(inner);
            self.tall(height, close.span)?;
            e = Expr {
                span: e.span.to(close.span),
                kind: ExprKind::Index { base: Box::new(e), index: Box::new(index) },
            };
        }
        self.height = height;
        Ok(e)
    }

    fn primary(&mut self) -> PResult<Expr> {
        let t = self.peek().clone();
        let kind = match t.kind {
            TokKind::Int(n) => ExprKind::Int(n),
            TokKind::MinIntDigits => return Err(crate::lexer::too_large(t.span)),
            TokKind::Str(s) => ExprKind::Str(s),
            TokKind::Duration(d) => ExprKind::Duration(d),
            TokKind::FStr(parts) => {
                self.bump();
                let mut out = Vec::with_capacity(parts.len());
                let mut height = 0;
                for part in parts {
                    out.push(match part {
                        TplPart::Lit(s) => FormatPart::Lit(s),
                        TplPart::Expr(span) => {
                            let e = self.sub_expr(span)?;
                            height = height.max(self.height);
                            FormatPart::Expr(e)
                        }
                    });
                }
                self.tall(height + 1, t.span)?;
                return Ok(Expr { kind: ExprKind::Format(out), span: t.span });
            }
            TokKind::Cmd(words) => {
                self.bump();
                let words = self.words(words)?;
                self.tall(self.height + 2, t.span)?;
                let stage = PipeExpr {
                    kind: PipeKind::Stage(Stage { args: Vec::new(), words: Some(words), span: t.span }),
                    span: t.span,
                };
                return Ok(pipeline_expr(self.redirects(stage)?));
            }
            TokKind::True => ExprKind::Bool(true),
            TokKind::False => ExprKind::Bool(false),
            TokKind::LParen => {
                self.bump();
                let mut inner = self.expr()?;
                let close = self.expect(TokKind::RParen, "close the parenthesis with `)`")?;
                inner.span = t.span.to(close.span);
                return Ok(inner);
            }
            TokKind::LBracket => {
                self.bump();
                if self.at(&TokKind::Colon) && self.peek_nth(1).kind == TokKind::RBracket {
                    self.bump();
                    let close = self.bump();
                    self.tall(1, close.span)?;
                    return Ok(Expr { kind: ExprKind::Map(Vec::new()), span: t.span.to(close.span) });
                }
                if self.at(&TokKind::RBracket) {
                    let close = self.bump();
                    self.tall(1, close.span)?;
                    return Ok(Expr { kind: ExprKind::List(Vec::new()), span: t.span.to(close.span) });
                }
                let first = self.expr()?;
                if self.eat(&TokKind::Colon).is_some() {
                    return self.map_literal(t.span, first);
                }
                let mut height = self.height;
                let mut items = vec![first];
                let close = if self.eat(&TokKind::Comma).is_some() {
                    let (rest, close) = self.list(TokKind::RBracket)?;
                    height = height.max(self.height);
                    items.extend(rest);
                    close
                } else {
                    self.expect(TokKind::RBracket, "separate items with `,`")?.span
                };
                self.tall(height + 1, close)?;
                return Ok(Expr { kind: ExprKind::List(items), span: t.span.to(close) });
            }
            TokKind::Ident(ref name) if self.peek_nth(1).kind == TokKind::LParen => {
                let name = Ident { name: name.clone(), span: t.span };
                self.bump();
                self.bump();
                let (args, close) = self.list(TokKind::RParen)?;
                let span = t.span.to(close);
                if name.name == "run" {
                    // The stage and the pipeline expression around it.
                    self.tall(self.height + 2, close)?;
                    let stage = PipeExpr { kind: PipeKind::Stage(Stage { args, words: None, span }), span };
                    return Ok(pipeline_expr(self.redirects(stage)?));
                }
                let args = match <[Expr; 2]>::try_from(args) {
                    Ok([limit, inner]) if name.name == "timeout" => {
                        let ExprKind::Pipeline(p) = inner.kind else {
                            return Err(Diag::new(
                                "ariash::check::type_mismatch",
                                "the second argument of timeout must be a pipeline",
                                inner.span,
                                "not a pipeline",
                            )
                            .with_help("timeout(2s, `prog args`)"));
                        };
                        if matches!(p.kind, PipeKind::Try(_)) {
                            return Err(Diag::new(
                                "ariash::parse::try_inside_pipeline",
                                "`?` goes after timeout(...), not inside it",
                                p.span,
                                "`?` inside timeout",
                            )
                            .with_help("write timeout(2s, `prog`)?;"));
                        }
                        self.tall(self.height + 2, close)?;
                        return Ok(pipeline_expr(PipeExpr {
                            kind: PipeKind::Timeout { limit: Box::new(limit), inner: p },
                            span,
                        }));
                    }
                    Ok(two) => Vec::from(two),
                    Err(args) => args,
                };
                self.tall(self.height + 1, close)?;
                return Ok(Expr { kind: ExprKind::Call { name, args }, span });
            }
            TokKind::KwInt | TokKind::Wait if self.peek_nth(1).kind == TokKind::LParen => {
                let word = if matches!(t.kind, TokKind::KwInt) { "int" } else { "wait" };
                let name = Ident { name: word.into(), span: t.span };
                self.bump();
                self.bump();
                let (args, close) = self.list(TokKind::RParen)?;
                self.tall(self.height + 1, close)?;
                return Ok(Expr { kind: ExprKind::Call { name, args }, span: t.span.to(close) });
            }
            TokKind::Ident(name) => ExprKind::Var(name, VarSlot::default()),
            _ => {
                let d = self.unexpected("an expression");
                return Err(match t.kind {
                    TokKind::Semi | TokKind::RParen | TokKind::Eof => {
                        d.with_help("an expression is missing here")
                    }
                    TokKind::Gt | TokKind::GtGt | TokKind::Lt => {
                        d.with_help("redirections go right after a run(...) call, as in run(\"p\") > \"f\";")
                    }
                    _ => d.with_help("a value is a literal, a variable, a call, a [list] or run(...)"),
                });
            }
        };
        self.bump();
        self.tall(1, t.span)?;
        Ok(Expr { kind, span: t.span })
    }

    /// The rest of a map literal `[k: v, ...]`, after its first key and colon.
    fn map_literal(&mut self, open: Span, first_key: Expr) -> PResult<Expr> {
        let mut height = self.height;
        let value = self.expr()?;
        height = height.max(self.height);
        let mut entries = vec![(first_key, value)];
        loop {
            if let Some(close) = self.eat(&TokKind::RBracket) {
                self.tall(height + 1, close.span)?;
                return Ok(Expr { kind: ExprKind::Map(entries), span: open.to(close.span) });
            }
            self.expect(TokKind::Comma, "separate map entries with `,`")?;
            if let Some(close) = self.eat(&TokKind::RBracket) {
                self.tall(height + 1, close.span)?;
                return Ok(Expr { kind: ExprKind::Map(entries), span: open.to(close.span) });
            }
            let k = self.expr()?;
            height = height.max(self.height);
            self.expect(TokKind::Colon, "map entries are written key: value")?;
            let v = self.expr()?;
            height = height.max(self.height);
            entries.push((k, v));
        }
    }

    /// Parses the expression text at `span` (inside a literal's `{...}`), one level deeper.
    fn sub_expr(&mut self, span: Span) -> PResult<Expr> {
        if self.depth >= MAX_DEPTH {
            return Err(self.too_deep(span));
        }
        let toks = lex_range(self.text, span.start, span.end)?;
        let mut sub = Parser {
            text: self.text,
            toks,
            pos: 0,
            depth: self.depth + 1,
            stmt_depth: self.stmt_depth,
            height: 0,
        };
        let e = sub.expr()?;
        if !sub.at(&TokKind::Eof) {
            return Err(sub.unexpected("`}`").with_help("one expression goes inside `{...}`"));
        }
        self.height = sub.height;
        Ok(e)
    }

    /// The words of a command literal, with their interpolations parsed.
    /// Leaves the tallest interpolation's height in `self.height`.
    fn words(&mut self, words: Vec<CmdWord>) -> PResult<Vec<Word>> {
        let mut out = Vec::with_capacity(words.len());
        let mut height = 0;
        for w in words {
            let mut parts = Vec::with_capacity(w.parts.len());
            for part in w.parts {
                parts.push(match part {
                    CmdPart::Lit(s) => WordPart::Lit(s),
                    CmdPart::Expr(span) => {
                        let e = self.sub_expr(span)?;
                        height = height.max(self.height);
                        WordPart::Expr(e)
                    }
                    CmdPart::Splice(span) => {
                        let e = self.sub_expr(span)?;
                        height = height.max(self.height);
                        WordPart::Splice(e)
                    }
                });
            }
            out.push(Word { parts, span: w.span });
        }
        self.height = height;
        Ok(out)
    }

    /// Comma-separated expressions up to `close` (a trailing comma is allowed).
    /// Leaves the height of the tallest item (0 for none) in `self.height`.
    fn list(&mut self, close: TokKind) -> PResult<(Vec<Expr>, Span)> {
        let mut items = Vec::new();
        let mut height = 0;
        loop {
            if let Some(t) = self.eat(&close) {
                self.height = height;
                return Ok((items, t.span));
            }
            items.push(self.expr()?);
            height = height.max(self.height);
            if self.eat(&TokKind::Comma).is_none() {
                let t = self.expect(close.clone(), "separate items with `,`")?;
                self.height = height;
                return Ok((items, t.span));
            }
        }
    }

    /// Redirections written after a `run(...)`: `N> e`, `N>> e`, `N< e`, `N>&M`, `N<&M`.
    /// `self.height` is the stage's height on entry and the result's on return.
    fn redirects(&mut self, mut stage: PipeExpr) -> PResult<PipeExpr> {
        let mut height = self.height;
        loop {
            self.height = height;
            let first = self.peek().clone();
            let (fd, op) = match first.kind {
                TokKind::Int(n) => {
                    let op = self.peek_nth(1).clone();
                    if !matches!(op.kind, TokKind::Gt | TokKind::GtGt | TokKind::Lt) {
                        return Ok(stage);
                    }
                    if op.span.start != first.span.end {
                        return Err(Diag::new(
                            "ariash::parse::detached_fd",
                            "a redirection's fd must touch its operator",
                            first.span.to(op.span),
                            "space between the fd and the operator",
                        )
                        .with_help(format!("write `{n}{}` without a space", op_text(&op.kind))));
                    }
                    (Some(check_fd(n, first.span)?), op)
                }
                TokKind::Gt | TokKind::GtGt | TokKind::Lt => (None, first.clone()),
                _ => return Ok(stage),
            };
            self.bump();
            if fd.is_some() {
                self.bump();
            }
            let is_read = op.kind == TokKind::Lt;
            let fd = fd.unwrap_or(if is_read { 0 } else { 1 });
            let kind = if self.at(&TokKind::Amp) && op.kind != TokKind::GtGt {
                self.bump();
                let t = self.bump();
                self.height = 0;
                match t.kind {
                    TokKind::Int(m) => {
                        let from = check_fd(m, t.span)?;
                        RedirectKind::Dup { fd, from }
                    }
                    _ => {
                        return Err(Diag::new(
                            "ariash::parse::bad_fd",
                            format!("expected an fd number after `&`, found {}", t.kind),
                            t.span,
                            "expected a digit 0-5",
                        )
                        .with_help("duplicate an fd with N>&M, as in 2>&1"))
                    }
                }
            } else {
                let target = self.expr_bp(ADD_PREC)?;
                if is_read {
                    RedirectKind::Read { fd, target }
                } else {
                    RedirectKind::Write { fd, target, append: op.kind == TokKind::GtGt }
                }
            };
            let span = first.span.to(Span::new(self.prev_end(), self.prev_end()));
            height = 1 + height.max(self.height);
            self.tall(height, span)?;
            stage = PipeExpr {
                span: stage.span.to(span),
                kind: PipeKind::Redirect { inner: Box::new(stage), redirect: Redirect { kind, span } },
            };
        }
    }
}

/// The operator of `=` (none) or a compound assignment such as `+=`.
fn assign_op(kind: &TokKind) -> Option<BinOp> {
    match kind {
        TokKind::OpAssign(c) => Some(match c {
            '+' => BinOp::Add,
            '-' => BinOp::Sub,
            '*' => BinOp::Mul,
            '/' => BinOp::Div,
            _ => BinOp::Rem,
        }),
        _ => None,
    }
}

fn op_text(kind: &TokKind) -> &'static str {
    match kind {
        TokKind::GtGt => ">>",
        TokKind::Lt => "<",
        _ => ">",
    }
}

fn check_fd(n: i64, span: Span) -> PResult<u8> {
    match u8::try_from(n) {
        Ok(fd) if fd <= 5 => Ok(fd),
        _ => Err(Diag::new(
            "ariash::parse::bad_fd",
            format!("bad redirection fd {n}"),
            span,
            "a process has streams 0 to 5",
        )
        .with_help("fds 0 to 5 can be redirected (0-2 standard, 3 debug, 4 data in, 5 data out)")),
    }
}

fn pipeline_expr(p: PipeExpr) -> Expr {
    Expr { span: p.span, kind: ExprKind::Pipeline(Box::new(p)) }
}

fn pipe_operand(e: Expr, op: &Token, side: &str) -> PResult<PipeExpr> {
    match e.kind {
        ExprKind::Pipeline(p) if matches!(p.kind, PipeKind::Try(_)) => Err(Diag::new(
            "ariash::parse::try_inside_pipeline",
            "`?` must come at the end of the whole pipeline",
            p.span,
            "`?` inside a pipeline",
        )
        .with_help("move the `?` after the last stage: run(\"a\") | run(\"b\")?;")),
        ExprKind::Pipeline(p) => Ok(*p),
        _ => Err(Diag::new(
            "ariash::parse::pipe_operand",
            format!("the {side} side of {} must be a run(...) stage", op.kind),
            e.span,
            "not a pipeline",
        )
        .with_help(
            "pipes connect programs: `a` | `b` or run(\"a\") | run(\"b\"); use capture(...) to get output as a string",
        )),
    }
}
