//! Bare commands: a REPL line such as `ls -la | grep x` that is not ariash runs as the
//! equivalent pipeline of command literals.
//!
//! The rule, applied only to a line that does not parse and check as ariash (with or without
//! a `;` appended):
//!
//! 1. its first word is made of letters, digits and `_ . / ~ + -`, and is not a keyword or
//!    a variable or function of the session (those always mean ariash), nor a builtin
//!    function unless a program of that name is on `PATH`: `print x` is an ariash error
//!    (there is no program `print`), while `sleep 100` runs the program `sleep`, since
//!    `sleep` followed by a word cannot be the builtin's call `sleep(d)` anyway;
//! 2. it holds none of `` ` { } ; $ `` and no `&&`, `||` or `&` outside quotes (the syntax
//!    that would make it ariash, or a shell feature ariash does not emulate), except one `&`
//!    ending the line, which runs the pipeline as a background job (`sleep 100 &`);
//! 3. it is split on `|` outside quotes into stages; in a stage, a word `N>`, `N>>`, `N<`
//!    (N optional) takes the next word (or the rest of the same word) as its file, and
//!    `N>&M`, `N<&M` stay as written; every other word is kept as written, quotes included,
//!    and is quoted by the command literal's own rules.
//!
//! `echo hi | tr a-z A-Z > out` becomes `` `echo hi` | `tr a-z A-Z` > "out"; ``.

/// Whether `word` is a builtin that a bare command cannot name: a builtin function for which
/// `is_program` finds no program of that name on `PATH` (see rule 1 of the module docs).
pub(crate) fn builtin_wins(word: &str, is_program: impl FnOnce(&str) -> bool) -> bool {
    crate::check::BUILTINS.iter().any(|(n, _)| *n == word) && !is_program(word)
}

/// Whether `meta` is an executable file's.
pub(crate) fn is_executable(meta: &std::fs::Metadata) -> bool {
    use std::os::unix::fs::PermissionsExt;
    meta.is_file() && meta.permissions().mode() & 0o111 != 0
}

/// Whether an executable file `word` is in a directory of `PATH` (looked up now; the editor
/// keeps its own list, read once, for highlighting as the user types).
pub(crate) fn on_path(word: &str) -> bool {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path).any(|dir| std::fs::metadata(dir.join(word)).is_ok_and(|m| is_executable(&m)))
}

/// The ariash statement for the bare command `line`, or `None` when the rule (see the module
/// docs) does not apply. `is_name` tells whether a word is a builtin, variable or function.
pub(crate) fn translate(line: &str, is_name: impl Fn(&str) -> bool) -> Option<String> {
    let line = line.trim();
    let (line, background) = match line.strip_suffix('&') {
        Some(rest) if !rest.ends_with(['&', '>', '<']) => (rest.trim_end(), true),
        _ => (line, false),
    };
    let first = line.split_whitespace().next()?;
    let word_ok = first.chars().all(|c| c.is_ascii_alphanumeric() || "_./~+-".contains(c));
    if !word_ok || crate::lexer::keyword(first).is_some() || is_name(first) {
        return None;
    }
    let stages = split(line)?;
    let mut out = String::new();
    for (i, stage) in stages.iter().enumerate() {
        if i > 0 {
            out.push_str(" | ");
        }
        out.push_str(&stage_code(stage)?);
    }
    if background {
        out.push_str(" &");
    }
    out.push(';');
    Some(out)
}

/// The line's stages, each a list of words as written (quotes kept); `None` for a character
/// the rule refuses.
fn split(line: &str) -> Option<Vec<Vec<String>>> {
    let mut stages = vec![Vec::new()];
    let mut word = String::new();
    let mut quote: Option<char> = None;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        if "`{};$".contains(c) {
            return None;
        }
        match quote {
            Some(q) => {
                word.push(c);
                if c == q {
                    quote = None;
                } else if c == '\\' && q == '"' {
                    word.extend(chars.next());
                }
            }
            None => match c {
                '\'' | '"' => {
                    quote = Some(c);
                    word.push(c);
                }
                '\\' => {
                    word.push(c);
                    word.extend(chars.next());
                }
                '&' if !word.ends_with('>') && !word.ends_with('<') => return None,
                '|' => {
                    if chars.peek() == Some(&'|') {
                        return None;
                    }
                    flush(&mut word, &mut stages);
                    stages.push(Vec::new());
                }
                c if c.is_whitespace() => flush(&mut word, &mut stages),
                c => word.push(c),
            },
        }
    }
    if quote.is_some() {
        return None;
    }
    flush(&mut word, &mut stages);
    if stages.iter().any(Vec::is_empty) {
        return None;
    }
    Some(stages)
}

fn flush(word: &mut String, stages: &mut [Vec<String>]) {
    if !word.is_empty() {
        if let Some(stage) = stages.last_mut() {
            stage.push(std::mem::take(word));
        }
    }
}

/// One stage as a command literal followed by its redirections.
fn stage_code(words: &[String]) -> Option<String> {
    let mut literal = Vec::new();
    let mut redirs = String::new();
    let mut words = words.iter();
    while let Some(word) = words.next() {
        let digits = word.chars().take_while(char::is_ascii_digit).count();
        let rest = word.get(digits..).unwrap_or_default();
        let op = ["&>", ">>", ">", "<"].into_iter().find(|op| rest.starts_with(op) && *op != "&>");
        let Some(op) = op else {
            literal.push(word.as_str());
            continue;
        };
        let target = rest.get(op.len()..).unwrap_or_default();
        let fd = word.get(..digits).unwrap_or_default();
        if let Some(m) = target.strip_prefix('&') {
            redirs.push_str(&format!(" {fd}{op}&{m}"));
            continue;
        }
        let target = if target.is_empty() { words.next()?.as_str() } else { target };
        let target = unquote(target);
        redirs.push_str(&format!(" {fd}{op} {}", serde_json::to_string(&target).ok()?));
    }
    if literal.is_empty() {
        return None;
    }
    Some(format!("`{}`{redirs}", literal.join(" ")))
}

/// A file name as the shell would read it: quotes removed.
fn unquote(word: &str) -> String {
    let mut out = String::new();
    let mut quote = None;
    let mut chars = word.chars();
    while let Some(c) = chars.next() {
        match (quote, c) {
            (None, '\'' | '"') => quote = Some(c),
            (Some(q), c) if c == q => quote = None,
            (Some('\''), c) => out.push(c),
            (_, '\\') => out.extend(chars.next()),
            (_, c) => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::translate;

    fn t(line: &str) -> Option<String> {
        translate(line, |w| w == "print" || w == "x")
    }

    #[test]
    fn a_trailing_ampersand_runs_the_pipeline_in_the_background() {
        assert_eq!(t("sleep 100 &").as_deref(), Some("`sleep 100` &;"));
        assert_eq!(t("cat | wc -l&").as_deref(), Some("`cat` | `wc -l` &;"));
        assert_eq!(t("make 2>&1 &").as_deref(), Some("`make` 2>&1 &;"));
        assert_eq!(t("a && b"), None);
        assert_eq!(t("a & b &"), None);
        assert_eq!(t("a &&"), None);
    }

    #[test]
    fn a_pipeline_becomes_command_literals() {
        assert_eq!(t("echo hi | tr a-z A-Z").as_deref(), Some("`echo hi` | `tr a-z A-Z`;"));
    }

    #[test]
    fn redirections_follow_their_stage() {
        assert_eq!(t("ls /x 2>&1 > out").as_deref(), Some("`ls /x` 2>&1 > \"out\";"));
        assert_eq!(t("sort <in >>'my out'").as_deref(), Some("`sort` < \"in\" >> \"my out\";"));
    }

    #[test]
    fn names_keywords_and_ariash_syntax_are_not_bare_commands() {
        assert_eq!(t("print hi"), None);
        assert_eq!(t("x | y"), None);
        assert_eq!(t("while x"), None);
        assert_eq!(t("echo {x}"), None);
        assert_eq!(t("a && b"), None);
        assert_eq!(t("sleep 1 & echo"), None);
    }
}
