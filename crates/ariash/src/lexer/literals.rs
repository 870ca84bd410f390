//! The literals with an inside: strings (plain, raw `r"..."`, formatted `f"..."`, and
//! multi-line `"""..."""` of each kind) and command literals (`` `prog arg {x} {...xs}` ``).
//!
//! An interpolation `{expr}` is found here by matching braces (skipping over strings and
//! command literals inside it); its text is lexed and parsed later by the parser, so its
//! tokens and errors carry their real positions in the script.
//!
//! Command literals are split into words here, at parse time, by shell-like rules: blanks
//! separate words; `'...'` is literal text; `"..."` takes the string escapes and `{expr}`;
//! a backslash outside quotes takes the next character literally; `{expr}` adds its value to
//! the word it is in, as one argument however many blanks the value holds; `{...list}`, a
//! whole word, becomes one argument per element. Nothing is re-split or expanded at run
//! time, and the text is never given to a shell, so the characters a shell would interpret
//! (`|`, `>`, `<`, `;`, `&`, `$`, `*`) are refused outside quotes with a hint saying what to
//! write instead.

use super::{unterminated, Lexer, TokKind};
use crate::ast::Span;
use crate::diag::Diag;

/// A part of an `f"..."` literal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TplPart {
    /// Literal text, escapes decoded.
    Lit(String),
    /// The span of the expression text between `{` and `}`.
    Expr(Span),
}

/// A word of a command literal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CmdWord {
    /// The parts, in order.
    pub parts: Vec<CmdPart>,
    /// The word as written.
    pub span: Span,
}

/// A part of a command literal's word.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CmdPart {
    /// Literal text.
    Lit(String),
    /// The span of the expression text of `{expr}`.
    Expr(Span),
    /// The span of the expression text of `{...list}` (after the dots).
    Splice(Span),
}

/// What a string literal's prefix and quotes say about it.
#[derive(Clone, Copy)]
struct StrKind {
    raw: bool,
    format: bool,
}

impl Lexer<'_> {
    fn char_at(&self, i: usize) -> Option<char> {
        self.text.get(i..).and_then(|s| s.chars().next())
    }

    /// A string literal of any kind, starting at its prefix or opening quote.
    pub(super) fn quoted(&mut self) -> Result<TokKind, Diag> {
        let start = self.pos;
        let raw = self.peek_at(self.pos) == b'r';
        let format = self.peek_at(self.pos) == b'f';
        if raw || format {
            self.pos += 1;
        }
        let triple = self.text.get(self.pos..).is_some_and(|s| s.starts_with("\"\"\""));
        self.pos += if triple { 3 } else { 1 };
        let kind = StrKind { raw, format };
        let mut parts = Vec::new();
        let mut lit = String::new();
        // A multi-line string: drop the newline right after the opening quotes, and the
        // indentation of the closing quotes' line from every line (when that line holds
        // nothing else), with the newline before it.
        let mut indent = 0;
        let mut last_newline = None;
        if triple {
            if let Some(close) = self.text.get(self.pos..).and_then(|s| s.find("\"\"\"")) {
                let close = self.pos + close;
                let before = self.text.get(self.pos..close).unwrap_or("");
                if let Some(nl) = before.rfind('\n') {
                    let tail = &before[nl + 1..];
                    if tail.chars().all(|c| c == ' ' || c == '\t') {
                        indent = tail.len();
                        last_newline = Some(self.pos + nl);
                    }
                }
            }
            if self.peek_at(self.pos) == b'\n' {
                self.pos += 1;
                self.skip_indent(indent);
            } else if self.text.get(self.pos..).is_some_and(|s| s.starts_with("\r\n")) {
                self.pos += 2;
                self.skip_indent(indent);
            }
        }
        loop {
            let Some(c) = self.char_at(self.pos) else {
                return Err(unterminated(start));
            };
            match c {
                '"' if !triple => {
                    self.pos += 1;
                    break;
                }
                '"' if self.text.get(self.pos..).is_some_and(|s| s.starts_with("\"\"\"")) => {
                    self.pos += 3;
                    break;
                }
                '\n' if !triple => return Err(unterminated(start)),
                '\n' if Some(self.pos) == last_newline => {
                    // The closing line: only indentation is left before the quotes.
                    self.pos += 1 + indent;
                }
                '\n' => {
                    lit.push('\n');
                    self.pos += 1;
                    self.skip_indent(indent);
                }
                '\\' if !kind.raw => lit.push(self.escape(start)?),
                '{' if kind.format => {
                    if self.peek_at(self.pos + 1) == b'{' {
                        lit.push('{');
                        self.pos += 2;
                    } else {
                        if !lit.is_empty() {
                            parts.push(TplPart::Lit(std::mem::take(&mut lit)));
                        }
                        parts.push(TplPart::Expr(self.interpolation(triple)?));
                    }
                }
                '}' if kind.format => {
                    if self.peek_at(self.pos + 1) == b'}' {
                        lit.push('}');
                        self.pos += 2;
                    } else {
                        return Err(lone_brace(self.pos, "f-string"));
                    }
                }
                _ => {
                    lit.push(c);
                    self.pos += c.len_utf8();
                }
            }
        }
        if !kind.format {
            return Ok(TokKind::Str(lit));
        }
        if !lit.is_empty() || parts.is_empty() {
            parts.push(TplPart::Lit(lit));
        }
        Ok(TokKind::FStr(parts))
    }

    fn skip_indent(&mut self, indent: usize) {
        let mut n = 0;
        while n < indent && matches!(self.peek_at(self.pos), b' ' | b'\t') {
            self.pos += 1;
            n += 1;
        }
    }

    /// `{expr}` starting at `self.pos` (on the `{`): moves past the `}` and returns the span
    /// of the text between. Braces nest; strings and command literals inside are skipped.
    fn interpolation(&mut self, multiline: bool) -> Result<Span, Diag> {
        let open = self.pos;
        let inner = open + 1;
        let mut depth = 1;
        let mut i = inner;
        while let Some(c) = self.char_at(i) {
            match c {
                '{' => depth += 1,
                '}' => {
                    depth -= 1;
                    if depth == 0 {
                        let span = Span::new(inner, i);
                        if self.text.get(inner..i).is_none_or(|t| t.trim().is_empty()) {
                            return Err(Diag::new(
                                "ariash::parse::empty_interpolation",
                                "empty `{}` in a literal",
                                Span::new(open, i + 1),
                                "nothing to interpolate",
                            )
                            .with_help(
                                "write `{{` and `}}` for literal braces, or put an expression inside",
                            ));
                        }
                        self.pos = i + 1;
                        return Ok(span);
                    }
                }
                '"' | '`' => {
                    // Skip a string or command literal inside the expression.
                    let mut j = i + 1;
                    loop {
                        match self.char_at(j) {
                            None => return Err(unclosed_interpolation(open)),
                            Some('\\') => j += 1 + self.char_at(j + 1).map_or(0, char::len_utf8),
                            Some(q) if q == c => break,
                            Some(o) => j += o.len_utf8(),
                        }
                    }
                    i = j;
                }
                '\n' if !multiline => return Err(unclosed_interpolation(open)),
                _ => {}
            }
            i += c.len_utf8();
        }
        Err(unclosed_interpolation(open))
    }

    /// A command literal, starting at its opening backtick.
    pub(super) fn command(&mut self) -> Result<TokKind, Diag> {
        let start = self.pos;
        self.pos += 1;
        let mut words = Vec::new();
        let mut word = WordBuilder::default();
        loop {
            let Some(c) = self.char_at(self.pos) else {
                return Err(Diag::new(
                    "ariash::parse::unterminated_command",
                    "unterminated command literal",
                    Span::new(start, start + 1),
                    "this command is never closed",
                )
                .with_help("close it with a backtick: `prog arg`"));
            };
            match c {
                '`' => {
                    word.finish(&mut words, self.pos);
                    self.pos += 1;
                    break;
                }
                ' ' | '\t' | '\n' | '\r' => {
                    word.finish(&mut words, self.pos);
                    self.pos += 1;
                }
                '\'' => {
                    word.begin(self.pos);
                    word.quoted = true;
                    let open = self.pos;
                    self.pos += 1;
                    loop {
                        match self.char_at(self.pos) {
                            None => return Err(unterminated_quote(open, '\'')),
                            Some('\'') => break,
                            Some(q) => {
                                word.lit.push(q);
                                self.pos += q.len_utf8();
                            }
                        }
                    }
                    self.pos += 1;
                }
                '"' => {
                    word.begin(self.pos);
                    word.quoted = true;
                    let open = self.pos;
                    self.pos += 1;
                    loop {
                        match self.char_at(self.pos) {
                            None => return Err(unterminated_quote(open, '"')),
                            Some('"') => break,
                            Some('\\') => {
                                let ch = self.escape(open)?;
                                word.lit.push(ch);
                            }
                            Some('{') if self.peek_at(self.pos + 1) == b'{' => {
                                word.lit.push('{');
                                self.pos += 2;
                            }
                            Some('}') if self.peek_at(self.pos + 1) == b'}' => {
                                word.lit.push('}');
                                self.pos += 2;
                            }
                            Some('{') => {
                                let span = self.interpolation(true)?;
                                if self
                                    .text
                                    .get(span.start..span.end)
                                    .is_some_and(|t| t.trim_start().starts_with("..."))
                                {
                                    return Err(splice_not_alone(span));
                                }
                                word.push(CmdPart::Expr(span));
                            }
                            Some('}') => return Err(lone_brace(self.pos, "command literal")),
                            Some(q) => {
                                word.lit.push(q);
                                self.pos += q.len_utf8();
                            }
                        }
                    }
                    self.pos += 1;
                }
                '\\' => {
                    word.begin(self.pos);
                    match self.char_at(self.pos + 1) {
                        None => return Err(unterminated_quote(start, '`')),
                        // A backslash-newline joins lines, as in a shell.
                        Some('\n') => {
                            word.finish(&mut words, self.pos);
                            self.pos += 2;
                        }
                        Some(q) => {
                            word.lit.push(q);
                            self.pos += 1 + q.len_utf8();
                        }
                    }
                }
                '{' if self.peek_at(self.pos + 1) == b'{' => {
                    word.begin(self.pos);
                    word.lit.push('{');
                    self.pos += 2;
                }
                '}' if self.peek_at(self.pos + 1) == b'}' => {
                    word.begin(self.pos);
                    word.lit.push('}');
                    self.pos += 2;
                }
                '{' => {
                    let open = self.pos;
                    let span = self.interpolation(true)?;
                    let text = self.text.get(span.start..span.end).unwrap_or("");
                    let lead = text.len() - text.trim_start().len();
                    if text.trim_start().starts_with("...") {
                        let next = self.char_at(self.pos);
                        let alone = word.is_empty() && next.is_none_or(|n| n.is_whitespace() || n == '`');
                        if !alone {
                            return Err(splice_not_alone(Span::new(open, self.pos)));
                        }
                        word.begin(open);
                        word.push(CmdPart::Splice(Span::new(span.start + lead + 3, span.end)));
                        word.finish(&mut words, self.pos);
                    } else {
                        word.begin(open);
                        word.push(CmdPart::Expr(span));
                    }
                }
                '}' => return Err(lone_brace(self.pos, "command literal")),
                '|' | '>' | '<' | ';' | '&' | '$' | '*' => return Err(shell_char(c, self.pos)),
                _ => {
                    word.begin(self.pos);
                    word.lit.push(c);
                    self.pos += c.len_utf8();
                }
            }
        }
        if words.is_empty() {
            return Err(Diag::new(
                "ariash::parse::empty_command",
                "empty command literal",
                Span::new(start, self.pos),
                "no program here",
            )
            .with_help("write the program and its arguments between the backticks: `ls -la`"));
        }
        Ok(TokKind::Cmd(words))
    }
}

/// The word being built while a command literal is split.
#[derive(Default)]
struct WordBuilder {
    parts: Vec<CmdPart>,
    lit: String,
    /// Where the word started, once it has.
    start: Option<usize>,
    /// A quote was seen: `''` is an empty argument, not nothing.
    quoted: bool,
}

impl WordBuilder {
    fn begin(&mut self, at: usize) {
        self.start.get_or_insert(at);
    }

    fn is_empty(&self) -> bool {
        self.start.is_none()
    }

    fn push(&mut self, part: CmdPart) {
        if !self.lit.is_empty() {
            self.parts.push(CmdPart::Lit(std::mem::take(&mut self.lit)));
        }
        self.parts.push(part);
    }

    fn finish(&mut self, words: &mut Vec<CmdWord>, end: usize) {
        let Some(start) = self.start.take() else { return };
        if !self.lit.is_empty() || (self.quoted && self.parts.is_empty()) {
            self.parts.push(CmdPart::Lit(std::mem::take(&mut self.lit)));
        }
        self.quoted = false;
        words.push(CmdWord { parts: std::mem::take(&mut self.parts), span: Span::new(start, end) });
    }
}

fn unclosed_interpolation(open: usize) -> Diag {
    Diag::new(
        "ariash::parse::unclosed_interpolation",
        "unclosed `{` in a literal",
        Span::new(open, open + 1),
        "this `{` is never closed",
    )
    .with_help("close the interpolation with `}`, or write `{{` for a literal brace")
}

fn lone_brace(at: usize, what: &str) -> Diag {
    Diag::new(
        "ariash::parse::lone_brace",
        format!("single `}}` in a {what}"),
        Span::new(at, at + 1),
        "no `{` opened here",
    )
    .with_help("write `}}` for a literal brace")
}

fn unterminated_quote(open: usize, q: char) -> Diag {
    Diag::new(
        "ariash::parse::unterminated_quote",
        format!("unterminated `{q}` quote in a command literal"),
        Span::new(open, open + 1),
        "this quote is never closed",
    )
    .with_help(format!("close the quote with `{q}` before the closing backtick"))
}

fn splice_not_alone(span: Span) -> Diag {
    Diag::new(
        "ariash::parse::splice_not_word",
        "a `{...list}` splice must be a whole word",
        span,
        "splice inside a word",
    )
    .with_help(
        "separate it with spaces: `prog {...args}`; to join a list into one argument use {join(xs, \",\")}",
    )
}

fn shell_char(c: char, at: usize) -> Diag {
    let help = match c {
        '|' => "pipes go between command literals: `a` | `b`; quote it ('|') to pass it as an argument",
        '>' | '<' => "redirections go after the literal: `prog` > \"out.txt\"; quote it to pass it as an argument",
        '&' => "to run in the background, put `&` after the literal: `prog` &; quote it to pass it as an argument",
        ';' => "one command per literal; quote it (';') to pass it as an argument",
        '$' => "interpolate with {name} or {env(\"NAME\")}; quote it ('$') to pass it as an argument",
        _ => "there is no globbing in a command literal: splice glob(\"*.log\") with {...glob(\"*.log\")}; quote it ('*') to pass it as an argument",
    };
    Diag::new(
        "ariash::parse::shell_syntax",
        format!("`{c}` in a command literal"),
        Span::new(at, at + 1),
        "a shell would interpret this; ariash does not",
    )
    .with_help(help)
}
