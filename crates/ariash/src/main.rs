//! The `ariash` command line: run a script file, a `-c` string, or a script read from stdin.
#![deny(clippy::unwrap_used)]

use std::ffi::{OsStr, OsString};
use std::io::{IsTerminal, Read};
use std::process::ExitCode;

use ariash::diag::{eprint_text, escape_controls};
use ariash::{Outcome, Source};
use clap::{CommandFactory, Parser};

/// The largest script ariash reads, in bytes. Parsing needs about a hundred times the
/// script's size in memory at worst, so this keeps a script within a few hundred MiB.
const MAX_SCRIPT_BYTES: u64 = 4 << 20;

/// The name stdin's script is reported under.
const STDIN_NAME: &str = "<stdin>";

/// Run an ariash script: a small typed, C-style language for orchestrating processes.
#[derive(Debug, Parser)]
#[command(
    name = "ariash",
    version,
    after_help = "The script's arguments are available in it as the predeclared `[string]:args`.\n\
                  With FILE `-`, or no FILE and stdin not a terminal, the script is read from stdin.\n\
                  Exit status: exit(n), else that of a pipeline that failed under `?`, else that of \
                  the last pipeline run; 2 for a parse or type error, 1 for a runtime error, \
                  128+N when stopped by signal N."
)]
struct Cli {
    /// Run TEXT as the script instead of reading a file.
    #[arg(short = 'c', value_name = "TEXT", value_parser = clap::value_parser!(OsString))]
    command: Option<OsString>,

    /// Only parse and type-check the script; run nothing.
    #[arg(long)]
    check: bool,

    /// The script FILE (`-` for stdin; omitted with -c), followed by the arguments given to
    /// the script.
    #[arg(value_name = "FILE [ARGS]", trailing_var_arg = true, value_parser = clap::value_parser!(OsString))]
    rest: Vec<OsString>,
}

/// Why ariash stops before the script is compiled: the message and the exit status.
struct Refusal(String, u8);

fn main() -> ExitCode {
    let cli = Cli::parse();
    let check = cli.check;
    let (source, args) = match prepare(cli) {
        Ok(Some(prepared)) => prepared,
        Ok(None) if check => Cli::command()
            .error(
                clap::error::ErrorKind::MissingRequiredArgument,
                "a script FILE, `-` for stdin, or -c TEXT is required",
            )
            .exit(),
        Ok(None) => {
            return match ariash::repl::run() {
                Ok(code) => ExitCode::from(u8::try_from(code).unwrap_or(255)),
                Err(e) => {
                    eprint_text(&format!("ariash: cannot start the interactive shell: {e}\n"));
                    ExitCode::from(70)
                }
            };
        }
        Err(Refusal(message, status)) => {
            eprint_text(&format!("ariash: {message}\n"));
            return ExitCode::from(status);
        }
    };
    match ariash::compile_and_run(&source, args, check) {
        Ok(Outcome::Rejected(diags)) => {
            eprint_text(&ariash::diag::render(&diags, &source));
            ExitCode::from(2)
        }
        Ok(Outcome::Checked) => ExitCode::SUCCESS,
        Ok(Outcome::Ran(code)) => ExitCode::from(u8::try_from(code).unwrap_or(255)),
        Err(e) => {
            eprint_text(&format!("ariash: cannot start the runtime: {e}\n"));
            ExitCode::from(70)
        }
    }
}

/// The script to run and its arguments; `None` when no script was given and stdin is a
/// terminal (the interactive REPL).
fn prepare(cli: Cli) -> Result<Option<(Source, Vec<String>)>, Refusal> {
    let mut rest = cli.rest.into_iter();
    let source = match cli.command {
        Some(text) => Source::new("<command>", utf8(text, "the -c TEXT")?),
        None => match rest.next() {
            Some(path) if path == "-" => read_script(std::io::stdin().lock(), STDIN_NAME)?,
            Some(path) => read_file(&path)?,
            None if std::io::stdin().is_terminal() => return Ok(None),
            None => read_script(std::io::stdin().lock(), STDIN_NAME)?,
        },
    };
    let args = rest
        .enumerate()
        .map(|(i, arg)| utf8(arg, &format!("argument {} of the script", i + 1)))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Some((source, args)))
}

/// `text` as UTF-8, or a refusal naming `what` and showing the text lossily.
fn utf8(text: OsString, what: &str) -> Result<String, Refusal> {
    text.into_string().map_err(|text| Refusal(format!("{what} is not valid UTF-8: {}", shown(&text)), 2))
}

/// An OS string for a message: quoted, with invalid bytes and control characters escaped.
fn shown(text: &OsStr) -> String {
    format!("{text:?}")
}

fn read_file(path: &OsStr) -> Result<Source, Refusal> {
    let name = path.to_string_lossy();
    match std::fs::File::open(path) {
        Ok(file) => read_script(file, &name),
        Err(e) => {
            // Like sh: 127 for a script that is not there, 2 for one that is unreadable.
            let status = if e.kind() == std::io::ErrorKind::NotFound { 127 } else { 2 };
            Err(Refusal(format!("cannot read `{}`: {e}", escape_controls(&name)), status))
        }
    }
}

/// Reads a script of at most [`MAX_SCRIPT_BYTES`] (reading one byte more at most, so an
/// endless input such as `/dev/zero` stops there) that must be UTF-8.
fn read_script(reader: impl Read, name: &str) -> Result<Source, Refusal> {
    let shown_name = escape_controls(name);
    let mut bytes = Vec::new();
    if let Err(e) = reader.take(MAX_SCRIPT_BYTES + 1).read_to_end(&mut bytes) {
        return Err(Refusal(format!("cannot read `{shown_name}`: {e}"), 2));
    }
    if bytes.len() as u64 > MAX_SCRIPT_BYTES {
        return Err(Refusal(
            format!("`{shown_name}` is too large: a script may have at most {} MiB", MAX_SCRIPT_BYTES >> 20),
            2,
        ));
    }
    match String::from_utf8(bytes) {
        Ok(text) => Ok(Source::new(name, text)),
        Err(e) => {
            let valid = e.utf8_error().valid_up_to();
            let prefix = String::from_utf8_lossy(e.as_bytes().get(..valid).unwrap_or_default()).into_owned();
            let at = Source::new(name, prefix).location(valid);
            Err(Refusal(format!("{at}: the script is not valid UTF-8"), 2))
        }
    }
}
