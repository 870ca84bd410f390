//! Windows command lines: how `CreateProcessW` is given a program and its arguments, which
//! the child splits back with its C runtime's rules (or cmd.exe's, for a batch file).
//!
//! - **Programs** ([`make_command_line`]): the program name in quotes, then each argument
//!   quoted when it is empty or holds a space or a tab, with the MSVCRT escapes (seed 001,
//!   appendix 11; Microsoft Learn, "Parsing C command-line arguments"): a run of backslashes
//!   is literal unless a quote follows it, so before an argument's quote the run is doubled
//!   and the quote escaped (`\"`), and before the closing quote the run is doubled.
//! - **Batch files** ([`make_bat_command_line`]): `cmd.exe /e:ON /v:OFF /d /c ""script" args"`
//!   with cmd.exe's rules, as Rust's std does since the BatBadBut fixes (CVE-2024-24576): an
//!   argument is quoted unless every character is a letter, a digit or one of
//!   ``#$*+-./:?@\_`` (and when it is empty or ends in `\`); a quote is doubled; `%` (and a
//!   carriage return) is preceded by `%%cd:~,`, which expands to nothing and keeps cmd.exe
//!   from expanding `%VAR%`; an argument holding a line break is refused, since cmd.exe would
//!   cut the command there.
//! - **Which programs are batch files** ([`is_batch_file`]): a name ending in `.bat` or `.cmd`
//!   in any case *after* trailing dots and spaces are removed, as Windows removes them when it
//!   opens the file: `run.bat.` and `run.bat ` are batch files too (CVE-2024-43402).
//!
//! Strings are UTF-16 code units, as the wide Windows API takes them; nothing here calls the
//! system, so it is compiled and tested on every platform.
//!
//! # References
//! Microsoft Learn: "CreateProcessW function", "Parsing C command-line arguments", "cmd";
//! seed 001 appendix 11; CVE-2024-24576, CVE-2024-43402 (Rust security advisories).

use std::io;

const QUOTE: u16 = b'"' as u16;
const BACKSLASH: u16 = b'\\' as u16;
const SPACE: u16 = b' ' as u16;
const TAB: u16 = b'\t' as u16;

/// Fails with `InvalidInput` if `s` holds a NUL, which would end the string early.
fn ensure_no_nul(s: &[u16], what: &str) -> io::Result<()> {
    if s.contains(&0) {
        return Err(io::Error::new(io::ErrorKind::InvalidInput, format!("{what} contains a NUL character")));
    }
    Ok(())
}

/// Appends `n` backslashes.
fn backslashes(cmd: &mut Vec<u16>, n: usize) {
    cmd.extend(std::iter::repeat_n(BACKSLASH, n));
}

/// The command line for `program` with `args`: the program quoted, each argument quoted
/// when empty or holding a space or a tab (always, with `force_quotes`), escaped so the
/// MSVCRT splits it back into exactly the same arguments.
///
/// # Errors
/// `InvalidInput` for a NUL anywhere, or a quote in the program name (Windows file names
/// cannot hold one, and it could not be escaped there).
pub(crate) fn make_command_line(
    program: &[u16],
    args: &[Vec<u16>],
    force_quotes: bool,
) -> io::Result<Vec<u16>> {
    ensure_no_nul(program, "the program name")?;
    if program.contains(&QUOTE) {
        return Err(io::Error::new(io::ErrorKind::InvalidInput, "the program name contains `\"`"));
    }
    let mut cmd = Vec::with_capacity(program.len() + 2 + args.iter().map(|a| a.len() + 3).sum::<usize>());
    cmd.push(QUOTE);
    cmd.extend_from_slice(program);
    cmd.push(QUOTE);
    for arg in args {
        cmd.push(SPACE);
        append_arg(&mut cmd, arg, force_quotes)?;
    }
    Ok(cmd)
}

/// Appends one argument with the MSVCRT rules.
fn append_arg(cmd: &mut Vec<u16>, arg: &[u16], force_quotes: bool) -> io::Result<()> {
    ensure_no_nul(arg, "an argument")?;
    let quote = force_quotes || arg.is_empty() || arg.iter().any(|&c| c == SPACE || c == TAB);
    escape(cmd, arg, quote, BACKSLASH, false);
    Ok(())
}

/// Appends `arg`, in quotes if `quote`: a run of backslashes before a quote (or before the
/// closing quote) is doubled, then the quote is escaped with `quote_escape` (a backslash
/// for the MSVCRT, a second quote for cmd.exe); with `guard_percent`, `%` and `\r` are
/// preceded by `%%cd:~,`, a zero-length substring of `%cd%`, which keeps cmd.exe from
/// reading what follows as a variable to expand.
fn escape(cmd: &mut Vec<u16>, arg: &[u16], quote: bool, quote_escape: u16, guard_percent: bool) {
    if quote {
        cmd.push(QUOTE);
    }
    let mut run = 0;
    for &c in arg {
        if c == BACKSLASH {
            run += 1;
        } else {
            if c == QUOTE {
                backslashes(cmd, run);
                cmd.push(quote_escape);
            } else if guard_percent && (c == u16::from(b'%') || c == u16::from(b'\r')) {
                cmd.extend("%%cd:~,".encode_utf16());
            }
            run = 0;
        }
        cmd.push(c);
    }
    if quote {
        // Before the closing quote the run is doubled, so the quote is not escaped.
        backslashes(cmd, run);
        cmd.push(QUOTE);
    }
}

/// The command line that runs batch file `script` with `args` through cmd.exe (see the
/// [module docs](self) for the rules).
///
/// # Errors
/// `InvalidInput` for a NUL anywhere, a script name holding `"` or ending in `\`, or an
/// argument holding a carriage return or a line feed ("batch file arguments are invalid").
pub(crate) fn make_bat_command_line(
    script: &[u16],
    args: &[Vec<u16>],
    force_quotes: bool,
) -> io::Result<Vec<u16>> {
    ensure_no_nul(script, "the batch file name")?;
    if script.contains(&QUOTE) || script.last() == Some(&BACKSLASH) {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "Windows file names may not contain `\"` or end with `\\`",
        ));
    }
    // The extra quote after /c is closed after the last argument: cmd.exe strips the outer
    // pair and runs what is inside.
    let mut cmd: Vec<u16> = "cmd.exe /e:ON /v:OFF /d /c \"".encode_utf16().collect();
    cmd.push(QUOTE);
    cmd.extend_from_slice(script);
    cmd.push(QUOTE);
    for arg in args {
        cmd.push(SPACE);
        if arg.iter().any(|&c| c == u16::from(b'\r') || c == u16::from(b'\n')) {
            return Err(io::Error::new(io::ErrorKind::InvalidInput, "batch file arguments are invalid"));
        }
        append_bat_arg(&mut cmd, arg, force_quotes)?;
    }
    cmd.push(QUOTE);
    Ok(cmd)
}

/// Appends one argument of a batch file with cmd.exe's rules.
fn append_bat_arg(cmd: &mut Vec<u16>, arg: &[u16], force_quotes: bool) -> io::Result<()> {
    ensure_no_nul(arg, "an argument")?;
    // Quoted unless known harmless; empty and trailing-backslash arguments too (a script's
    // `"%~1"` would otherwise see the backslash escape its closing quote).
    const UNQUOTED: &[u8] = b"#$*+-./:?@\\_";
    let needs_quotes = |c: char| {
        (c.is_ascii() && !(c.is_ascii_alphanumeric() || UNQUOTED.contains(&(c as u8)))) || c.is_control()
    };
    let quote = force_quotes
        || arg.is_empty()
        || arg.last() == Some(&BACKSLASH)
        || char::decode_utf16(arg.iter().copied()).any(|c| c.is_ok_and(needs_quotes));
    escape(cmd, arg, quote, QUOTE, true);
    Ok(())
}

/// Whether `program` (a path or a file name) names a batch file, which CreateProcessW runs
/// through cmd.exe: its file name ends in `.bat` or `.cmd`, in any case, once trailing dots
/// and spaces are removed as Windows removes them (`x.bat.`, `x.BAT  ` count).
pub(crate) fn is_batch_file(program: &[u16]) -> bool {
    let name_start =
        program.iter().rposition(|&c| c == BACKSLASH || c == u16::from(b'/')).map_or(0, |i| i + 1);
    let mut name = &program[name_start..];
    while let Some((&last, rest)) = name.split_last() {
        if last == u16::from(b'.') || last == SPACE {
            name = rest;
        } else {
            break;
        }
    }
    let Some(ext) = name.len().checked_sub(4).map(|i| &name[i..]) else { return false };
    let is = |want: &str| {
        ext.iter().zip(want.bytes()).all(|(&c, w)| c < 128 && (c as u8).eq_ignore_ascii_case(&w))
    };
    is(".bat") || is(".cmd")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn w(s: &str) -> Vec<u16> {
        s.encode_utf16().collect()
    }

    fn line(program: &str, args: &[&str], force_quotes: bool) -> String {
        let args: Vec<Vec<u16>> = args.iter().map(|a| w(a)).collect();
        String::from_utf16(&make_command_line(&w(program), &args, force_quotes).unwrap()).unwrap()
    }

    fn bat(script: &str, args: &[&str]) -> io::Result<String> {
        let args: Vec<Vec<u16>> = args.iter().map(|a| w(a)).collect();
        make_bat_command_line(&w(script), &args, false).map(|l| String::from_utf16(&l).unwrap())
    }

    /// The vectors of Rust std's `test_make_command_line` (library/std/src/sys/process/
    /// windows/tests.rs), the same inputs giving the same command lines.
    #[test]
    fn command_lines_match_the_vectors_of_std() {
        assert_eq!(line("prog", &["aaa", "bbb", "ccc"], false), r#""prog" aaa bbb ccc"#);
        assert_eq!(line("prog", &[r"C:\"], false), r#""prog" C:\"#);
        assert_eq!(line("prog", &[r"2slashes\\"], false), r#""prog" 2slashes\\"#);
        assert_eq!(line("prog", &[r" C:\"], false), r#""prog" " C:\\""#);
        assert_eq!(line("prog", &[r" 2slashes\\"], false), r#""prog" " 2slashes\\\\""#);
        assert_eq!(
            line(r"C:\Program Files\blah\blah.exe", &["aaa"], false),
            r#""C:\Program Files\blah\blah.exe" aaa"#
        );
        assert_eq!(
            line(r"C:\Program Files\blah\blah.exe", &["aaa", "v*"], false),
            r#""C:\Program Files\blah\blah.exe" aaa v*"#
        );
        assert_eq!(
            line(r"C:\Program Files\blah\blah.exe", &["aaa", "v*"], true),
            r#""C:\Program Files\blah\blah.exe" "aaa" "v*""#
        );
        assert_eq!(line(r"C:\Program Files\test", &[r#"aa"bb"#], false), r#""C:\Program Files\test" aa\"bb"#);
        assert_eq!(line("echo", &["a b c"], false), r#""echo" "a b c""#);
        assert_eq!(line("echo", &[r#"" \" \"#, r"\"], false), r#""echo" "\" \\\" \\" \"#);
        assert_eq!(
            line("\u{03c0}\u{042f}\u{97f3}\u{00e6}\u{221e}", &[], false),
            "\"\u{03c0}\u{042f}\u{97f3}\u{00e6}\u{221e}\""
        );
    }

    /// Splits a command line's arguments (after the program) with the MSVCRT rules, as the
    /// child does (Microsoft Learn, "Parsing C command-line arguments").
    fn msvcrt_split(line: &str) -> Vec<String> {
        let rest = line.strip_prefix('"').and_then(|l| l.split_once('"')).map(|(_, r)| r).unwrap();
        let chars: Vec<char> = rest.chars().collect();
        let (mut out, mut cur, mut in_arg, mut quoted, mut i) = (Vec::new(), String::new(), false, false, 0);
        while i < chars.len() {
            let c = chars[i];
            if c == '\\' {
                let n = chars[i..].iter().take_while(|&&c| c == '\\').count();
                i += n;
                in_arg = true;
                if chars.get(i) == Some(&'"') {
                    cur.extend(std::iter::repeat_n('\\', n / 2));
                    if n % 2 == 1 {
                        cur.push('"');
                        i += 1;
                    }
                } else {
                    cur.extend(std::iter::repeat_n('\\', n));
                }
                continue;
            }
            match c {
                '"' if quoted && chars.get(i + 1) == Some(&'"') => {
                    cur.push('"');
                    i += 1;
                }
                '"' => {
                    quoted = !quoted;
                    in_arg = true;
                }
                ' ' | '\t' if !quoted => {
                    if in_arg {
                        out.push(std::mem::take(&mut cur));
                        in_arg = false;
                    }
                }
                c => {
                    cur.push(c);
                    in_arg = true;
                }
            }
            i += 1;
        }
        if in_arg {
            out.push(cur);
        }
        out
    }

    #[test]
    fn every_argument_comes_back_whole_through_the_msvcrt_rules() {
        let args = [
            "",
            " ",
            "a",
            "a b",
            "\t",
            "\\",
            "\\\\",
            "a\\",
            "a\\\\",
            "\"",
            "\\\"",
            "a\"b",
            "a \\\" b\\",
            "\\\\\"\\\\",
            "end with space ",
            "trailing\\ ",
            "*?",
            "ünïcødé \u{97f3}",
        ];
        for force in [false, true] {
            let l = line("p", &args, force);
            assert_eq!(msvcrt_split(&l), args, "force_quotes {force}: {l}");
        }
    }

    #[test]
    fn nul_characters_and_quoted_program_names_are_refused() {
        let err = make_command_line(&w("p"), &[w("a\0b")], false).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
        let err = make_command_line(&w("p\"q"), &[], false).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
    }

    #[test]
    fn batch_file_arguments_are_quoted_and_kept_from_cmd_expansion() {
        assert_eq!(
            bat(r"C:\t\run.bat", &["plain", "a-b.c"]).unwrap(),
            r#"cmd.exe /e:ON /v:OFF /d /c ""C:\t\run.bat" plain a-b.c""#
        );
        // cmd.exe's special characters, spaces and empty arguments are quoted.
        assert_eq!(
            bat("r.bat", &["a&b", "a b", "", "x|y"]).unwrap(),
            r#"cmd.exe /e:ON /v:OFF /d /c ""r.bat" "a&b" "a b" "" "x|y"""#
        );
        // A quote is doubled (CVE-2024-24576: `\"` would end the quoting for cmd.exe).
        assert_eq!(
            bat("r.bat", &[r#"" & calc.exe"#]).unwrap(),
            r#"cmd.exe /e:ON /v:OFF /d /c ""r.bat" """ & calc.exe"""#
        );
        // `%` cannot start a variable expansion.
        assert_eq!(
            bat("r.bat", &["%PATH%"]).unwrap(),
            r#"cmd.exe /e:ON /v:OFF /d /c ""r.bat" "%%cd:~,%PATH%%cd:~,%"""#
        );
        // A trailing backslash forces quotes, and is doubled before the closing one.
        assert_eq!(bat("r.bat", &[r"dir\"]).unwrap(), r#"cmd.exe /e:ON /v:OFF /d /c ""r.bat" "dir\\"""#);
    }

    #[test]
    fn batch_files_refuse_line_breaks_and_impossible_names() {
        for arg in ["a\nb", "a\rb"] {
            assert_eq!(bat("r.bat", &[arg]).unwrap_err().kind(), io::ErrorKind::InvalidInput, "{arg:?}");
        }
        assert_eq!(bat("r\".bat", &[]).unwrap_err().kind(), io::ErrorKind::InvalidInput);
        assert_eq!(bat(r"dir\", &[]).unwrap_err().kind(), io::ErrorKind::InvalidInput);
    }

    #[test]
    fn batch_files_are_recognised_whatever_the_case_and_trailing_dots_or_spaces() {
        for name in
            ["run.bat", "RUN.BAT", r"C:\x\y.Cmd", "run.bat.", "run.bat ", "run.bat. . ", "c:/x/run.cmd"]
        {
            assert!(is_batch_file(&w(name)), "{name:?} is a batch file");
        }
        for name in ["run.exe", "bat", ".bat\\x", "run.bat.exe", r"C:\dir.bat\prog", "runbat", ""] {
            assert!(!is_batch_file(&w(name)), "{name:?} is no batch file");
        }
    }
}
