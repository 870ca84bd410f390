//! The line editor's helper: multi-line validation, highlighting, completion and hints, all
//! from ariash's own lexer and parser.

use std::borrow::Cow;
use std::collections::BTreeSet;

use rustyline::completion::{Completer, FilenameCompleter, Pair};
use rustyline::highlight::{CmdKind, Highlighter};
use rustyline::hint::{Hinter, HistoryHinter};
use rustyline::validate::{ValidationContext, ValidationResult, Validator};
use rustyline::{Context, Helper};

use crate::lexer::{lex, TokKind};

const RED: &str = "\x1b[31m";
const GREEN: &str = "\x1b[32m";
const YELLOW: &str = "\x1b[33m";
const BLUE: &str = "\x1b[34m";
const MAGENTA: &str = "\x1b[35m";
const GREY: &str = "\x1b[90m";
const RESET: &str = "\x1b[0m";

/// The editor's helper. `names` are the session's variables and functions, refreshed after
/// every line.
pub(crate) struct AriashHelper {
    pub(crate) names: Vec<String>,
    files: FilenameCompleter,
    hinter: HistoryHinter,
    programs: std::cell::OnceCell<BTreeSet<String>>,
}

impl std::fmt::Debug for AriashHelper {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AriashHelper").field("names", &self.names).finish_non_exhaustive()
    }
}

impl AriashHelper {
    /// A helper knowing no session names yet.
    pub(crate) fn new() -> AriashHelper {
        AriashHelper {
            names: Vec::new(),
            files: FilenameCompleter::new(),
            hinter: HistoryHinter::new(),
            programs: std::cell::OnceCell::new(),
        }
    }

    /// Whether `word` names ariash rather than a bare command: a builtin function with no
    /// program of that name on `PATH`, or a session name.
    pub(crate) fn is_name(&self, word: &str) -> bool {
        super::bare::builtin_wins(word, |w| self.programs().contains(w))
            || self.names.iter().any(|n| n == word)
    }

    /// The executables on `PATH` (read once).
    fn programs(&self) -> &BTreeSet<String> {
        self.programs.get_or_init(|| {
            let path = std::env::var_os("PATH").unwrap_or_default();
            let mut found = BTreeSet::new();
            for dir in std::env::split_paths(&path) {
                let Ok(entries) = std::fs::read_dir(dir) else { continue };
                for entry in entries.flatten() {
                    if entry.metadata().is_ok_and(|m| super::bare::is_executable(&m)) {
                        found.insert(entry.file_name().to_string_lossy().into_owned());
                    }
                }
            }
            found
        })
    }
}

/// Whether `text` still has an open bracket or string: Enter then continues the input.
pub(crate) fn incomplete(text: &str) -> bool {
    match lex(text) {
        Err(d) => d.code == "ariash::parse::unterminated_string" || d.message.contains("unterminated"),
        Ok(tokens) => {
            let depth: i64 = tokens
                .iter()
                .map(|t| match t.kind {
                    TokKind::LParen | TokKind::LBrace | TokKind::LBracket => 1,
                    TokKind::RParen | TokKind::RBrace | TokKind::RBracket => -1,
                    _ => 0,
                })
                .sum();
            depth > 0
        }
    }
}

impl Validator for AriashHelper {
    fn validate(&self, ctx: &mut ValidationContext<'_>) -> rustyline::Result<ValidationResult> {
        Ok(if incomplete(ctx.input()) { ValidationResult::Incomplete } else { ValidationResult::Valid(None) })
    }
}

/// Where `line` fails to parse (with or without a `;` appended), unless it is still open or
/// is a bare command.
fn error_span(helper: &AriashHelper, line: &str) -> Option<(usize, usize)> {
    if line.trim().is_empty() || incomplete(line) || super::shell::is_job_command(line) {
        return None;
    }
    let err = match crate::parser::parse(line) {
        Ok(_) => return None,
        Err(e) => e,
    };
    if crate::parser::parse(&format!("{line};")).is_ok()
        || super::bare::translate(line, |w| helper.is_name(w)).is_some()
    {
        return None;
    }
    let start = err.span.start.min(line.len());
    let end = err.span.end.clamp(start, line.len());
    Some(if start == end { (start.saturating_sub(1), line.len()) } else { (start, end) })
}

impl Highlighter for AriashHelper {
    fn highlight<'l>(&self, line: &'l str, _pos: usize) -> Cow<'l, str> {
        let mut colours: Vec<Option<&str>> = vec![None; line.len()];
        if let Ok(tokens) = lex(line) {
            for t in tokens {
                let colour = match t.kind {
                    TokKind::Str(_) | TokKind::FStr(_) => GREEN,
                    TokKind::Cmd(_) => YELLOW,
                    TokKind::Int(_) | TokKind::Duration(_) | TokKind::True | TokKind::False => MAGENTA,
                    TokKind::Ident(_) | TokKind::Eof => continue,
                    ref k if k.is_keyword() => BLUE,
                    _ => continue,
                };
                for c in colours.iter_mut().take(t.span.end.min(line.len())).skip(t.span.start) {
                    *c = Some(colour);
                }
            }
        }
        if let Some((start, end)) = error_span(self, line) {
            for c in colours.iter_mut().take(end).skip(start) {
                *c = Some(RED);
            }
        }
        if colours.iter().all(Option::is_none) {
            return Cow::Borrowed(line);
        }
        let mut out = String::with_capacity(line.len() * 2);
        let mut current = None;
        for (i, ch) in line.char_indices() {
            let colour = colours.get(i).copied().flatten();
            if colour != current {
                out.push_str(colour.unwrap_or(RESET));
                current = colour;
            }
            out.push(ch);
        }
        if current.is_some() {
            out.push_str(RESET);
        }
        Cow::Owned(out)
    }

    fn highlight_hint<'h>(&self, hint: &'h str) -> Cow<'h, str> {
        Cow::Owned(format!("{GREY}{hint}{RESET}"))
    }

    fn highlight_char(&self, _line: &str, _pos: usize, _kind: CmdKind) -> bool {
        true
    }
}

impl Hinter for AriashHelper {
    type Hint = String;

    fn hint(&self, line: &str, pos: usize, ctx: &Context<'_>) -> Option<String> {
        self.hinter.hint(line, pos, ctx)
    }
}

impl Completer for AriashHelper {
    type Candidate = Pair;

    fn complete(&self, line: &str, pos: usize, ctx: &Context<'_>) -> rustyline::Result<(usize, Vec<Pair>)> {
        let before = line.get(..pos).unwrap_or(line);
        let start = before
            .char_indices()
            .rev()
            .find(|(_, c)| c.is_whitespace() || "`(){}[],;\"'|&!=+<>".contains(*c))
            .map_or(0, |(i, c)| i + c.len_utf8());
        let word = before.get(start..).unwrap_or_default();
        if word.contains('/') || word.starts_with('.') || word.starts_with('~') {
            return self.files.complete(line, pos, ctx);
        }
        let head = before.get(..start).unwrap_or_default().trim_end();
        let in_command = before.matches('`').count() % 2 == 1;
        let command_position = head.is_empty() || head.ends_with('`') || head.ends_with('|');
        let mut found = BTreeSet::new();
        if !in_command || command_position {
            found.extend(crate::check::BUILTINS.iter().map(|(n, _)| n.to_string()));
            found.extend(self.names.iter().cloned());
        }
        if command_position {
            found.extend(self.programs().iter().cloned());
        }
        let mut pairs: Vec<Pair> = found
            .into_iter()
            .filter(|n| n.starts_with(word))
            .map(|n| Pair { display: n.clone(), replacement: n })
            .collect();
        if !command_position || pairs.is_empty() {
            let (_, files) = self.files.complete(line, pos, ctx)?;
            pairs.extend(files);
        }
        Ok((start, pairs))
    }
}

impl Helper for AriashHelper {}

#[cfg(test)]
mod tests {
    use super::{error_span, incomplete, AriashHelper};

    #[test]
    fn only_a_finished_line_that_does_not_parse_has_an_error_span() {
        let helper = AriashHelper::new();
        assert!(error_span(&helper, "print(1 +)").is_some());
        assert_eq!(error_span(&helper, "print(1)"), None);
        assert_eq!(error_span(&helper, "print(1"), None);
        assert_eq!(error_span(&helper, "echo hi | tr a-z A-Z"), None);
    }

    #[test]
    fn open_brackets_and_strings_continue_the_input() {
        assert!(incomplete("func f() {"));
        assert!(incomplete("print(\"a"));
        assert!(!incomplete("print(1)"));
    }
}
