//! Diagnostics: an error with a span, a label, and a hint, rendered with `miette`.
//!
//! Every error the frontend or the interpreter reports is a [`Diag`]. Rendering always shows
//! `FILE:LINE:COL`, the source line, a caret under the offending text with its label, and the
//! hint (`help:`) when there is one.
//!
//! Whatever the script holds, the output stays readable and safe for a terminal: control
//! characters (and the Unicode controls that reorder text) in messages are escaped as `\0`,
//! `\u{1b}`, ..., and shown as symbols such as `␀` in the source excerpt; a long line is shown
//! shortened around the error, so no width handed to miette overflows its limits.

use std::borrow::Cow;
use std::fmt;
use std::io::{IsTerminal, Write};

use miette::{
    Diagnostic, GraphicalReportHandler, GraphicalTheme, LabeledSpan, MietteError, MietteSpanContents,
    SourceCode, SourceSpan, SpanContents, ThemeCharacters, ThemeStyles,
};

use crate::ast::Span;

/// A script's text and the name it is reported under (a path, or `<command>` for `-c`).
#[derive(Debug, Clone)]
pub struct Source {
    /// The name shown in diagnostics.
    pub name: String,
    /// The script text.
    pub text: String,
}

impl Source {
    /// A source named `name` with contents `text`.
    pub fn new(name: impl Into<String>, text: impl Into<String>) -> Source {
        Source { name: name.into(), text: text.into() }
    }

    /// The 1-based line and column (in characters) of byte `offset`.
    pub fn line_col(&self, offset: usize) -> (usize, usize) {
        let offset = floor_boundary(&self.text, offset);
        let before = self.text.get(..offset).unwrap_or("");
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        let col = before.get(line_start..).map_or(0, |s| s.chars().count()) + 1;
        (line, col)
    }

    /// `NAME:LINE:COL` for byte `offset` (control characters in the name escaped).
    pub fn location(&self, offset: usize) -> String {
        let (line, col) = self.line_col(offset);
        format!("{}:{}:{}", escape_controls(&self.name), line, col)
    }
}

/// One error found in a script: what went wrong, where, and how to fix it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diag {
    /// A stable machine-readable code such as `ariash::parse::unterminated_string`.
    pub code: &'static str,
    /// The one-line message.
    pub message: String,
    /// The offending text.
    pub span: Span,
    /// A short label printed under the caret.
    pub label: String,
    /// A hint on how to fix it.
    pub help: Option<String>,
}

impl Diag {
    /// A diagnostic with the given code, message, span and label, and no hint.
    pub fn new(code: &'static str, message: impl Into<String>, span: Span, label: impl Into<String>) -> Diag {
        Diag { code, message: message.into(), span, label: label.into(), help: None }
    }

    /// Adds a hint.
    pub fn with_help(mut self, help: impl Into<String>) -> Diag {
        self.help = Some(help.into());
        self
    }

    /// Renders this diagnostic against `source`; see [`render`].
    pub fn render(&self, source: &Source) -> String {
        render(std::slice::from_ref(self), source)
    }
}

/// Renders diagnostics for the terminal: each starts with `error: NAME:LINE:COL: message`,
/// followed by the source snippet with a caret and the hint. Colors and Unicode box drawing
/// are used only when stderr is a terminal and `NO_COLOR` is unset.
pub fn render(diags: &[Diag], source: &Source) -> String {
    let fancy = std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    let theme = if fancy {
        GraphicalTheme::unicode()
    } else {
        // Plain ASCII with a `^` caret even under a one-character span.
        let mut characters = ThemeCharacters::ascii();
        characters.underbar = '^';
        GraphicalTheme { characters, styles: ThemeStyles::none() }
    };
    // Never break a word: `FILE:LINE:COL` must stay greppable however long the path is.
    let handler = GraphicalReportHandler::new_themed(theme)
        .with_context_lines(1)
        .with_links(false)
        .with_break_words(false)
        .with_wrap_lines(fancy);
    let mut out = String::new();
    for diag in diags {
        let excerpt = Excerpt::new(source, diag.span);
        let report = Report { diag, location: source.location(diag.span.start), excerpt };
        if handler.render_report(&mut out, &report).is_err() {
            // Fall back to the plain one-liner; it still carries the location.
            out.push_str(&format!("{report}\n"));
        }
    }
    out
}

/// Writes `text` to stderr. Unlike `eprint!`, a stderr that is closed or gone (a hung-up
/// terminal, a closed pipe) is not a panic: there is nobody left to tell.
pub fn eprint_text(text: &str) {
    let _ = std::io::stderr().lock().write_all(text.as_bytes());
}

/// Whether `c` is shown escaped: control characters, and the Unicode controls that reorder
/// the text around them (bidirectional embeddings, overrides and isolates).
fn is_hidden(c: char) -> bool {
    c.is_control() || matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// `text` with control characters escaped Rust-style (`\n`, `\t`, `\r`, `\0`, `\u{1b}`), for
/// one-line messages that may contain names and text from the script or its environment.
pub fn escape_controls(text: &str) -> Cow<'_, str> {
    if !text.chars().any(is_hidden) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            '\0' => out.push_str("\\0"),
            c if is_hidden(c) => out.push_str(&format!("\\u{{{:x}}}", u32::from(c))),
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// How a character of the source is shown in an excerpt: tabs as themselves (miette expands
/// them), other C0 controls and DEL as their Unicode control pictures (`␀`, `␛`, `␡`), and
/// the other hidden characters as `�`.
fn shown(c: char) -> char {
    match c {
        '\t' => c,
        '\0'..='\u{1f}' => char::from_u32(0x2400 + u32::from(c)).unwrap_or('\u{fffd}'),
        '\u{7f}' => '\u{2421}',
        c if is_hidden(c) => '\u{fffd}',
        c => c,
    }
}

/// Lines longer than this (in characters) are shown shortened around the error.
const LONG_LINE: usize = 160;
/// How many characters of a shortened line are kept before the error.
const KEPT_BEFORE: usize = 60;
/// A span covering more lines than this is shown by its first line only.
const MAX_SPAN_LINES: usize = 20;

/// The part of the source a diagnostic shows: the lines of its span with one line of context
/// either side, each shown as [`shown`] and shortened to [`LONG_LINE`] characters around the
/// span, with `…` where text was left out. It carries the span's real line and column, so
/// miette numbers the lines and heads the excerpt as in the whole source.
struct Excerpt {
    name: String,
    text: String,
    /// The span in `text`.
    span: SourceSpan,
    /// The 0-based line of the source `text` starts at.
    first_line: usize,
    /// The 0-based line and character column of the span's start in the source.
    line: usize,
    column: usize,
}

/// The largest char boundary of `text` at or before `offset`.
fn floor_boundary(text: &str, offset: usize) -> usize {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    offset
}

impl Excerpt {
    fn new(source: &Source, span: Span) -> Excerpt {
        let text = source.text.as_str();
        let start = floor_boundary(text, span.start);
        let mut end = floor_boundary(text, span.end).max(start);
        let line_start = |at: usize| text.get(..at).and_then(|t| t.rfind('\n')).map_or(0, |i| i + 1);
        let line_end = |at: usize| text.get(at..).and_then(|t| t.find('\n')).map_or(text.len(), |i| at + i);
        // The last line of the span is the one holding its last character.
        let last = if end > start { floor_boundary(text, end - 1) } else { start };
        if text.get(start..last).is_some_and(|t| t.matches('\n').count() >= MAX_SPAN_LINES) {
            end = line_end(start);
        }
        let last = if end > start { floor_boundary(text, end - 1) } else { start };
        // One line of context either side.
        let mut from = line_start(start);
        if from > 0 {
            from = line_start(from - 1);
        }
        let mut to = line_end(last);
        if to < text.len() {
            to = line_end(to + 1);
        }
        let (line, column) = source.line_col(start);
        let first_line = source.line_col(from).0 - 1;

        let mut out = String::new();
        let (mut local_start, mut local_end) = (0, 0);
        let mut at = from;
        for (i, raw) in text.get(from..to).unwrap_or("").split('\n').enumerate() {
            if i > 0 {
                out.push('\n');
            }
            let content = raw.strip_suffix('\r').unwrap_or(raw);
            let chars: Vec<(usize, char)> = content.char_indices().map(|(o, c)| (at + o, c)).collect();
            // Character index on this line of a source offset, if the offset is on it (an
            // offset at the line's `\r` or `\n` is just past its last character).
            let index_of = |offset: usize| {
                (at..=at + raw.len()).contains(&offset).then(|| chars.partition_point(|(o, _)| *o < offset))
            };
            let (from_char, to_char) = if chars.len() <= LONG_LINE {
                (0, chars.len())
            } else {
                let anchor = index_of(start).or_else(|| index_of(end).map(|e| e.saturating_sub(KEPT_BEFORE)));
                let first = anchor.map_or(0, |a| a.saturating_sub(KEPT_BEFORE).min(chars.len() - LONG_LINE));
                (first, first + LONG_LINE)
            };
            if from_char > 0 {
                out.push('…');
            }
            let mut locals = Vec::with_capacity(to_char - from_char + 1);
            for &(_, c) in chars.get(from_char..to_char).unwrap_or(&[]) {
                locals.push(out.len());
                out.push(shown(c));
            }
            locals.push(out.len());
            // A character index on this line, clamped into the part shown.
            let local = |index: usize| locals.get(index.clamp(from_char, to_char) - from_char).copied();
            if let Some(l) = index_of(start).and_then(local) {
                local_start = l;
            }
            if let Some(l) = index_of(end).and_then(local) {
                local_end = l;
            }
            if to_char < chars.len() {
                out.push('…');
            }
            at += raw.len() + 1;
        }
        let local_end = local_end.max(local_start);
        Excerpt {
            name: escape_controls(&source.name).into_owned(),
            text: out,
            span: SourceSpan::new(local_start.into(), local_end - local_start),
            first_line,
            line: line - 1,
            column: column - 1,
        }
    }
}

impl SourceCode for Excerpt {
    fn read_span<'a>(
        &'a self,
        span: &SourceSpan,
        context_lines_before: usize,
        context_lines_after: usize,
    ) -> Result<Box<dyn SpanContents<'a> + 'a>, MietteError> {
        let inner = self.text.as_str().read_span(span, context_lines_before, context_lines_after)?;
        // miette reads the label's own span, without context, for the excerpt's heading.
        let (line, column) = if *span == self.span && context_lines_before == 0 {
            (self.line, self.column)
        } else {
            (inner.line() + self.first_line, inner.column())
        };
        Ok(Box::new(MietteSpanContents::new_named(
            self.name.clone(),
            inner.data(),
            *inner.span(),
            line,
            column,
            inner.line_count(),
        )))
    }
}

/// The adapter between a [`Diag`] and miette.
struct Report<'a> {
    diag: &'a Diag,
    location: String,
    excerpt: Excerpt,
}

impl fmt::Debug for Report<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Report").field("diag", self.diag).finish()
    }
}

impl fmt::Display for Report<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.location, escape_controls(&self.diag.message))
    }
}

impl std::error::Error for Report<'_> {}

impl Diagnostic for Report<'_> {
    fn code<'b>(&'b self) -> Option<Box<dyn fmt::Display + 'b>> {
        Some(Box::new(self.diag.code))
    }

    fn help<'b>(&'b self) -> Option<Box<dyn fmt::Display + 'b>> {
        self.diag.help.as_deref().map(|h| Box::new(escape_controls(h)) as Box<dyn fmt::Display>)
    }

    fn source_code(&self) -> Option<&dyn SourceCode> {
        Some(&self.excerpt)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        let label = escape_controls(&self.diag.label).into_owned();
        Some(Box::new(std::iter::once(LabeledSpan::new_with_span(Some(label), self.excerpt.span))))
    }
}

/// Levenshtein distance between two short names, for "did you mean" hints.
pub fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            cur[j + 1] = (prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

/// The candidate closest to `name`, if it is close enough to be a plausible typo.
pub fn suggest<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let limit = match name.chars().count() {
        0..=2 => 1,
        3..=5 => 2,
        _ => 3,
    };
    candidates
        .into_iter()
        .filter(|c| *c != name)
        .map(|c| (edit_distance(name, c), c))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, c)| (*d, *c))
        .map(|(_, c)| c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_and_column_are_one_based_and_count_characters() {
        let src = Source::new("t", "ab\ncé d");
        assert_eq!(src.line_col(0), (1, 1));
        assert_eq!(src.line_col(3), (2, 1));
        assert_eq!(src.line_col(7), (2, 4));
        assert_eq!(src.location(7), "t:2:4");
    }

    #[test]
    fn every_span_of_awkward_text_renders_with_its_location() {
        let long = format!("{}é{}", "x".repeat(300), "ü".repeat(300));
        let texts = ["", "\n", "a\r\nb\r\n", "\0\u{1b}\u{7f}\u{9b}\u{202e}\t;", "é\n\nü", long.as_str()];
        for text in texts {
            let source = Source::new("t\u{1b}", text);
            for start in 0..=text.len() + 1 {
                for end in [start, start + 1, start + 3, text.len(), text.len() + 5] {
                    let diag = Diag::new("test", "m\0", Span::new(start, end.max(start)), "l\n");
                    let out = diag.render(&source);
                    let (line, col) = source.line_col(start);
                    assert!(out.contains(&format!("t\\u{{1b}}:{line}:{col}: m\\0")), "{out}");
                    // The excerpt was rendered (not the plain fallback), headed by the same place.
                    assert!(out.contains(&format!("[t\\u{{1b}}:{line}:{col}]")), "{out}");
                    assert!(!out.contains(['\0', '\u{1b}', '\u{9b}', '\u{202e}']), "{out:?}");
                }
            }
        }
    }

    #[test]
    fn escaping_leaves_ordinary_text_alone() {
        assert!(matches!(escape_controls("plain `text` é"), Cow::Borrowed(_)));
        assert_eq!(escape_controls("a\nb\0c\u{1b}"), "a\\nb\\0c\\u{1b}");
    }

    #[test]
    fn suggestions_pick_the_nearest_plausible_name() {
        assert_eq!(suggest("nmae", ["name", "other"]), Some("name"));
        assert_eq!(suggest("zzzzzz", ["name"]), None);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
    }
}
