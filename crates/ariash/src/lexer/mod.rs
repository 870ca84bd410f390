//! The lexer: script text to tokens with byte spans.
//!
//! Whitespace and comments (`// ...`, `/* ... */`, and a `#!` line at the very start) are
//! skipped. String literals are decoded here, so a bad escape or a missing closing quote is
//! reported at its exact position. Redirection fds (`2>`) are lexed as an integer followed by an
//! operator; the parser checks that the two touch.

mod literals;

use std::fmt;
use std::time::Duration;

use crate::ast::Span;
use crate::diag::Diag;

pub use literals::{CmdPart, CmdWord, TplPart};

/// The kinds of token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokKind {
    /// A name: variable or function.
    Ident(String),
    /// An integer literal.
    Int(i64),
    /// The digits `9223372036854775808`: too large for an int, but `-9223372036854775808`
    /// is the smallest int (the parser joins the two).
    MinIntDigits,
    /// A string literal with escapes decoded (plain, raw `r"..."` or multi-line `"""..."""`).
    Str(String),
    /// `f"..."`: literal parts and the spans of the interpolated expressions.
    FStr(Vec<TplPart>),
    /// A command literal `` `prog arg {x} {...xs}` ``, split into words.
    Cmd(Vec<CmdWord>),
    /// A duration literal: digits followed by `ms`, `s`, `m` or `h`.
    Duration(Duration),
    /// `func`
    Func,
    /// `return`
    Return,
    /// `try`
    Try,
    /// `catch`
    Catch,
    /// `string`
    KwString,
    /// `int`
    KwInt,
    /// `bool`
    KwBool,
    /// `true`
    True,
    /// `false`
    False,
    /// `if`
    If,
    /// `else`
    Else,
    /// `while`
    While,
    /// `for`
    For,
    /// `in`
    In,
    /// `break`
    Break,
    /// `continue`
    Continue,
    /// `wait`
    Wait,
    /// `(`
    LParen,
    /// `)`
    RParen,
    /// `{`
    LBrace,
    /// `}`
    RBrace,
    /// `[`
    LBracket,
    /// `]`
    RBracket,
    /// `,`
    Comma,
    /// `;`
    Semi,
    /// `:`
    Colon,
    /// `=`
    Assign,
    /// `+=`, `-=`, `*=`, `/=`, `%=` (the char is the operator)
    OpAssign(char),
    /// `==`
    EqEq,
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
    /// `>>`
    GtGt,
    /// `!`
    Bang,
    /// `&&`
    AndAnd,
    /// `||`
    OrOr,
    /// `&`
    Amp,
    /// `|`
    Pipe,
    /// `|*`
    PipeData,
    /// `?`
    Question,
    /// `+`
    Plus,
    /// `-`
    Minus,
    /// `*`
    Star,
    /// `/`
    Slash,
    /// `%`
    Percent,
    /// End of input.
    Eof,
}

impl fmt::Display for TokKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = match self {
            TokKind::Ident(name) => return write!(f, "name `{name}`"),
            TokKind::Int(n) => return write!(f, "number `{n}`"),
            TokKind::MinIntDigits => "number `9223372036854775808`",
            TokKind::Str(_) => "string literal",
            TokKind::FStr(_) => "f-string literal",
            TokKind::Cmd(_) => "command literal",
            TokKind::Duration(d) => return write!(f, "duration `{d:?}`"),
            TokKind::Func => "`func`",
            TokKind::Return => "`return`",
            TokKind::Try => "`try`",
            TokKind::Catch => "`catch`",
            TokKind::KwString => "`string`",
            TokKind::KwInt => "`int`",
            TokKind::KwBool => "`bool`",
            TokKind::True => "`true`",
            TokKind::False => "`false`",
            TokKind::If => "`if`",
            TokKind::Else => "`else`",
            TokKind::While => "`while`",
            TokKind::For => "`for`",
            TokKind::In => "`in`",
            TokKind::Break => "`break`",
            TokKind::Continue => "`continue`",
            TokKind::Wait => "`wait`",
            TokKind::LParen => "`(`",
            TokKind::RParen => "`)`",
            TokKind::LBrace => "`{`",
            TokKind::RBrace => "`}`",
            TokKind::LBracket => "`[`",
            TokKind::RBracket => "`]`",
            TokKind::Comma => "`,`",
            TokKind::Semi => "`;`",
            TokKind::Colon => "`:`",
            TokKind::Assign => "`=`",
            TokKind::OpAssign(c) => return write!(f, "`{c}=`"),
            TokKind::EqEq => "`==`",
            TokKind::Ne => "`!=`",
            TokKind::Lt => "`<`",
            TokKind::Gt => "`>`",
            TokKind::Le => "`<=`",
            TokKind::Ge => "`>=`",
            TokKind::GtGt => "`>>`",
            TokKind::Bang => "`!`",
            TokKind::AndAnd => "`&&`",
            TokKind::OrOr => "`||`",
            TokKind::Amp => "`&`",
            TokKind::Pipe => "`|`",
            TokKind::PipeData => "`|*`",
            TokKind::Question => "`?`",
            TokKind::Plus => "`+`",
            TokKind::Minus => "`-`",
            TokKind::Star => "`*`",
            TokKind::Slash => "`/`",
            TokKind::Percent => "`%`",
            TokKind::Eof => "end of input",
        };
        f.write_str(s)
    }
}

/// A token and where it was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    /// What it is.
    pub kind: TokKind,
    /// Where it is.
    pub span: Span,
}

/// Splits `text` into tokens, ending with [`TokKind::Eof`].
///
/// # Errors
/// The first lexical error: an unterminated string or block comment, an unknown escape, an
/// integer that does not fit in 64 bits, or a character that starts no token.
pub fn lex(text: &str) -> Result<Vec<Token>, Diag> {
    Lexer { text, bytes: text.as_bytes(), pos: 0 }.run()
}

/// Splits `text[start..end]` into tokens whose spans are offsets into `text` (for the
/// expressions inside `{...}` of f-strings and command literals). No `#!` line is skipped.
///
/// # Errors
/// As [`lex`].
pub fn lex_range(text: &str, start: usize, end: usize) -> Result<Vec<Token>, Diag> {
    let end = end.min(text.len());
    let text = text.get(..end).unwrap_or(text);
    Lexer { text, bytes: text.as_bytes(), pos: start }.run()
}

struct Lexer<'a> {
    text: &'a str,
    bytes: &'a [u8],
    pos: usize,
}

impl Lexer<'_> {
    fn peek_at(&self, i: usize) -> u8 {
        self.bytes.get(i).copied().unwrap_or(0)
    }

    fn run(mut self) -> Result<Vec<Token>, Diag> {
        let mut out = Vec::new();
        if self.pos == 0 && self.text.starts_with("#!") {
            self.pos = self.text.find('\n').unwrap_or(self.text.len());
        }
        loop {
            self.skip_trivia()?;
            let start = self.pos;
            let Some(c) = self.text.get(start..).and_then(|s| s.chars().next()) else {
                out.push(Token { kind: TokKind::Eof, span: Span::new(start, start) });
                return Ok(out);
            };
            let prefixed = matches!(c, 'f' | 'r') && self.peek_at(start + 1) == b'"';
            let kind = if c == '"' || prefixed {
                self.quoted()?
            } else if c == '`' {
                self.command()?
            } else if c.is_ascii_digit() {
                self.number()?
            } else if c.is_ascii_alphabetic() || c == '_' {
                self.word()
            } else {
                self.punct(c)?
            };
            out.push(Token { kind, span: Span::new(start, self.pos) });
        }
    }

    fn skip_trivia(&mut self) -> Result<(), Diag> {
        loop {
            let c = self.peek_at(self.pos);
            if c.is_ascii_whitespace() {
                self.pos += 1;
            } else if c == b'/' && self.peek_at(self.pos + 1) == b'/' {
                while self.pos < self.bytes.len() && self.bytes[self.pos] != b'\n' {
                    self.pos += 1;
                }
            } else if c == b'/' && self.peek_at(self.pos + 1) == b'*' {
                let start = self.pos;
                match self.text.get(start + 2..).and_then(|s| s.find("*/")) {
                    Some(i) => self.pos = start + 2 + i + 2,
                    None => {
                        return Err(Diag::new(
                            "ariash::parse::unterminated_comment",
                            "unterminated block comment",
                            Span::new(start, start + 2),
                            "this comment is never closed",
                        )
                        .with_help("close it with `*/`"))
                    }
                }
            } else {
                return Ok(());
            }
        }
    }

    /// Decodes the escape at `self.pos` (a backslash) and moves past it.
    fn escape(&mut self, quote_start: usize) -> Result<char, Diag> {
        let esc_start = self.pos;
        let Some(e) = self.text.get(self.pos + 1..).and_then(|s| s.chars().next()) else {
            return Err(unterminated(quote_start));
        };
        let decoded = match e {
            'n' => '\n',
            't' => '\t',
            'r' => '\r',
            '0' => '\0',
            '\\' => '\\',
            '"' => '"',
            '\'' => '\'',
            '{' => '{',
            '}' => '}',
            '`' => '`',
            _ => {
                let shown = if e == '\n' { "\\<newline>".to_string() } else { format!("\\{e}") };
                return Err(Diag::new(
                    "ariash::parse::bad_escape",
                    format!("unknown escape `{shown}` in string literal"),
                    Span::new(esc_start, esc_start + 1 + e.len_utf8()),
                    "unknown escape",
                )
                .with_help(
                    "valid escapes are \\n \\t \\r \\0 \\\\ \\\" \\' \\{ \\} \\`; \
                     write \\\\ for a literal backslash, or use a raw string r\"...\"",
                ));
            }
        };
        self.pos += 1 + e.len_utf8();
        Ok(decoded)
    }

    fn number(&mut self) -> Result<TokKind, Diag> {
        let start = self.pos;
        while self.peek_at(self.pos).is_ascii_digit() {
            self.pos += 1;
        }
        let digits = self.text.get(start..self.pos).unwrap_or("");
        if self.peek_at(self.pos).is_ascii_alphabetic() || self.peek_at(self.pos) == b'_' {
            let mut end = self.pos;
            while self.peek_at(end).is_ascii_alphanumeric() || self.peek_at(end) == b'_' {
                end += 1;
            }
            let unit = self.text.get(self.pos..end).unwrap_or("");
            let per_unit: Option<u64> = match unit {
                "ms" => Some(1),
                "s" => Some(1_000),
                "m" => Some(60_000),
                "h" => Some(3_600_000),
                _ => None,
            };
            if let Some(per_unit) = per_unit {
                let span = Span::new(start, end);
                self.pos = end;
                let n: u64 = digits.parse().map_err(|_| too_large(span))?;
                let ms = n.checked_mul(per_unit).filter(|ms| *ms <= i64::MAX as u64).ok_or_else(|| {
                    Diag::new(
                        "ariash::parse::number_too_large",
                        "duration literal too large",
                        span,
                        "too large",
                    )
                })?;
                return Ok(TokKind::Duration(Duration::from_millis(ms)));
            }
            return Err(Diag::new(
                "ariash::parse::bad_number",
                "invalid number literal",
                Span::new(start, end),
                "not a number",
            )
            .with_help(
                "names cannot start with a digit; numbers are decimal digits, durations end in ms, s, m or h",
            ));
        }
        if digits == MIN_INT_DIGITS {
            return Ok(TokKind::MinIntDigits);
        }
        digits.parse::<i64>().map(TokKind::Int).map_err(|_| too_large(Span::new(start, self.pos)))
    }

    fn word(&mut self) -> TokKind {
        let start = self.pos;
        while self.peek_at(self.pos).is_ascii_alphanumeric() || self.peek_at(self.pos) == b'_' {
            self.pos += 1;
        }
        let word = self.text.get(start..self.pos).unwrap_or("");
        keyword(word).unwrap_or_else(|| TokKind::Ident(word.to_string()))
    }

    fn punct(&mut self, c: char) -> Result<TokKind, Diag> {
        let next = self.peek_at(self.pos + 1);
        let (kind, len) = match (c, next) {
            ('=', b'=') => (TokKind::EqEq, 2),
            ('!', b'=') => (TokKind::Ne, 2),
            ('<', b'=') => (TokKind::Le, 2),
            ('>', b'=') => (TokKind::Ge, 2),
            ('>', b'>') => (TokKind::GtGt, 2),
            ('&', b'&') => (TokKind::AndAnd, 2),
            ('|', b'|') => (TokKind::OrOr, 2),
            ('|', b'*') => (TokKind::PipeData, 2),
            ('+' | '-' | '*' | '/' | '%', b'=') => (TokKind::OpAssign(c), 2),
            ('=', _) => (TokKind::Assign, 1),
            ('!', _) => (TokKind::Bang, 1),
            ('<', _) => (TokKind::Lt, 1),
            ('>', _) => (TokKind::Gt, 1),
            ('&', _) => (TokKind::Amp, 1),
            ('|', _) => (TokKind::Pipe, 1),
            ('(', _) => (TokKind::LParen, 1),
            (')', _) => (TokKind::RParen, 1),
            ('{', _) => (TokKind::LBrace, 1),
            ('}', _) => (TokKind::RBrace, 1),
            ('[', _) => (TokKind::LBracket, 1),
            (']', _) => (TokKind::RBracket, 1),
            (',', _) => (TokKind::Comma, 1),
            (';', _) => (TokKind::Semi, 1),
            (':', _) => (TokKind::Colon, 1),
            ('?', _) => (TokKind::Question, 1),
            ('+', _) => (TokKind::Plus, 1),
            ('-', _) => (TokKind::Minus, 1),
            ('*', _) => (TokKind::Star, 1),
            ('/', _) => (TokKind::Slash, 1),
            ('%', _) => (TokKind::Percent, 1),
            _ => {
                let span = Span::new(self.pos, self.pos + c.len_utf8());
                let help = match c {
                    '\'' => "strings use double quotes: \"...\"",
                    '$' => "variables are used by name, without `$`: run(\"echo\", [name])",
                    '#' => "comments start with `//`",
                    _ => "remove this character",
                };
                return Err(Diag::new(
                    "ariash::parse::unexpected_char",
                    format!("unexpected character `{c}`"),
                    span,
                    "not part of the language",
                )
                .with_help(help));
            }
        };
        self.pos += len;
        Ok(kind)
    }
}

/// The magnitude of the smallest int, which only fits negated.
const MIN_INT_DIGITS: &str = "9223372036854775808";

/// The error for an integer literal that does not fit in an int.
pub(crate) fn too_large(span: Span) -> Diag {
    Diag::new("ariash::parse::number_too_large", "integer literal does not fit in 64 bits", span, "too large")
        .with_help(format!("the largest int is {}, the smallest {}", i64::MAX, i64::MIN))
}

pub(crate) fn unterminated(start: usize) -> Diag {
    Diag::new(
        "ariash::parse::unterminated_string",
        "unterminated string literal",
        Span::new(start, start + 1),
        "this string is never closed",
    )
    .with_help(
        "add a closing `\"` on the same line (write \\n for a newline, or use a multi-line \"\"\"...\"\"\" string)",
    )
}

/// The token of keyword `word`, or `None` for any other word (the one list of keywords: the
/// lexer, the parser's hints and the REPL's highlighting and bare-command rule use it).
pub(crate) fn keyword(word: &str) -> Option<TokKind> {
    Some(match word {
        "string" => TokKind::KwString,
        "int" => TokKind::KwInt,
        "bool" => TokKind::KwBool,
        "true" => TokKind::True,
        "false" => TokKind::False,
        "if" => TokKind::If,
        "else" => TokKind::Else,
        "while" => TokKind::While,
        "for" => TokKind::For,
        "in" => TokKind::In,
        "break" => TokKind::Break,
        "continue" => TokKind::Continue,
        "wait" => TokKind::Wait,
        "func" => TokKind::Func,
        "return" => TokKind::Return,
        "try" => TokKind::Try,
        "catch" => TokKind::Catch,
        _ => return None,
    })
}

impl TokKind {
    /// Whether this is a keyword's token (see [`keyword`]).
    pub(crate) fn is_keyword(&self) -> bool {
        matches!(
            self,
            TokKind::KwString
                | TokKind::KwInt
                | TokKind::KwBool
                | TokKind::True
                | TokKind::False
                | TokKind::If
                | TokKind::Else
                | TokKind::While
                | TokKind::For
                | TokKind::In
                | TokKind::Break
                | TokKind::Continue
                | TokKind::Wait
                | TokKind::Func
                | TokKind::Return
                | TokKind::Try
                | TokKind::Catch
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(text: &str) -> Vec<TokKind> {
        lex(text).expect("lexes").into_iter().map(|t| t.kind).collect()
    }

    #[test]
    fn operators_and_redirections_are_split_into_tokens() {
        assert_eq!(
            kinds("a |* b || c 2>&1 >> x"),
            vec![
                TokKind::Ident("a".into()),
                TokKind::PipeData,
                TokKind::Ident("b".into()),
                TokKind::OrOr,
                TokKind::Ident("c".into()),
                TokKind::Int(2),
                TokKind::Gt,
                TokKind::Amp,
                TokKind::Int(1),
                TokKind::GtGt,
                TokKind::Ident("x".into()),
                TokKind::Eof,
            ]
        );
    }

    #[test]
    fn string_escapes_are_decoded() {
        assert_eq!(kinds(r#""a\n\t\\\"b""#), vec![TokKind::Str("a\n\t\\\"b".into()), TokKind::Eof]);
    }

    #[test]
    fn comments_and_shebang_are_skipped() {
        assert_eq!(kinds("#!/usr/bin/env ariash\n// hi\n/* x */ 1"), vec![TokKind::Int(1), TokKind::Eof]);
    }

    #[test]
    fn an_unknown_escape_points_at_the_backslash() {
        let err = lex(r#"x = "ab\q";"#).expect_err("bad escape");
        assert_eq!(err.code, "ariash::parse::bad_escape");
        assert_eq!(err.span, Span::new(7, 9));
    }

    #[test]
    fn an_unterminated_string_points_at_the_opening_quote() {
        let err = lex("x = \"abc\ny;").expect_err("unterminated");
        assert_eq!(err.code, "ariash::parse::unterminated_string");
        assert_eq!(err.span, Span::new(4, 5));
    }
}
