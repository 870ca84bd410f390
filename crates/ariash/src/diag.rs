//! Diagnostics: an error with a span, a label, and a hint, rendered with `miette`.
//!
//! Every error the frontend or the interpreter reports is a [`Diag`]. Rendering always shows
//! `FILE:LINE:COL`, the source line, a caret under the offending text with its label, and the
//! hint (`help:`) when there is one.

use std::fmt;
use std::io::IsTerminal;

use miette::{
    Diagnostic, GraphicalReportHandler, GraphicalTheme, LabeledSpan, NamedSource, SourceSpan,
    ThemeCharacters, ThemeStyles,
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
        let offset = offset.min(self.text.len());
        let before = self.text.get(..offset).unwrap_or("");
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        let col = before.get(line_start..).map_or(0, |s| s.chars().count()) + 1;
        (line, col)
    }

    /// `NAME:LINE:COL` for byte `offset`.
    pub fn location(&self, offset: usize) -> String {
        let (line, col) = self.line_col(offset);
        format!("{}:{}:{}", self.name, line, col)
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
        let report = Report {
            diag,
            location: source.location(diag.span.start),
            source: NamedSource::new(source.name.clone(), source.text.clone()),
        };
        if handler.render_report(&mut out, &report).is_err() {
            // Fall back to the plain one-liner; it still carries the location.
            out.push_str(&format!("{report}\n"));
        }
    }
    out
}

/// The adapter between a [`Diag`] and miette.
struct Report<'a> {
    diag: &'a Diag,
    location: String,
    source: NamedSource<String>,
}

impl fmt::Debug for Report<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Report").field("diag", self.diag).finish()
    }
}

impl fmt::Display for Report<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.location, self.diag.message)
    }
}

impl std::error::Error for Report<'_> {}

impl Diagnostic for Report<'_> {
    fn code<'b>(&'b self) -> Option<Box<dyn fmt::Display + 'b>> {
        Some(Box::new(self.diag.code))
    }

    fn help<'b>(&'b self) -> Option<Box<dyn fmt::Display + 'b>> {
        self.diag.help.as_ref().map(|h| Box::new(h) as Box<dyn fmt::Display>)
    }

    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        Some(&self.source)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        let span = SourceSpan::new(self.diag.span.start.into(), self.diag.span.len());
        Some(Box::new(std::iter::once(LabeledSpan::new_with_span(Some(self.diag.label.clone()), span))))
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
    fn suggestions_pick_the_nearest_plausible_name() {
        assert_eq!(suggest("nmae", ["name", "other"]), Some("name"));
        assert_eq!(suggest("zzzzzz", ["name"]), None);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
    }
}
