//! The `ariash` command line: run a script file or a `-c` string.
#![deny(clippy::unwrap_used)]

use std::process::ExitCode;

use ariash::diag::{eprint_text, escape_controls};
use clap::{CommandFactory, Parser};

/// Run an ariash script: a small typed, C-style language for orchestrating processes.
#[derive(Debug, Parser)]
#[command(
    name = "ariash",
    version,
    after_help = "The script's arguments are available in it as the predeclared `[string]:args`.\n\
                  Exit status: exit(n), else that of a pipeline that failed under `?`, else that of \
                  the last pipeline run; 2 for a parse or type error, 1 for a runtime error, \
                  128+N when stopped by signal N."
)]
struct Cli {
    /// Run TEXT as the script instead of reading a file.
    #[arg(short = 'c', value_name = "TEXT")]
    command: Option<String>,

    /// Only parse and type-check the script; run nothing.
    #[arg(long)]
    check: bool,

    /// The script FILE (omitted with -c), followed by the arguments given to the script.
    #[arg(value_name = "FILE [ARGS]", trailing_var_arg = true)]
    rest: Vec<String>,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let (source, args) = match cli.command {
        Some(text) => (ariash::Source::new("<command>", text), cli.rest),
        None => {
            let mut rest = cli.rest.into_iter();
            let Some(path) = rest.next() else {
                Cli::command()
                    .error(
                        clap::error::ErrorKind::MissingRequiredArgument,
                        "a script FILE or -c TEXT is required",
                    )
                    .exit();
            };
            match std::fs::read_to_string(&path) {
                Ok(text) => (ariash::Source::new(path, text), rest.collect()),
                Err(e) => {
                    eprint_text(&format!("ariash: cannot read `{}`: {e}\n", escape_controls(&path)));
                    // Like sh: 127 for a script that is not there, 2 for one that is unreadable.
                    let missing = e.kind() == std::io::ErrorKind::NotFound;
                    return ExitCode::from(if missing { 127 } else { 2 });
                }
            }
        }
    };
    let script = match ariash::compile(&source) {
        Ok(script) => script,
        Err(diags) => {
            eprint_text(&ariash::diag::render(&diags, &source));
            return ExitCode::from(2);
        }
    };
    if cli.check {
        return ExitCode::SUCCESS;
    }
    match ariash::run(&source, &script, args) {
        Ok(code) => ExitCode::from(u8::try_from(code).unwrap_or(255)),
        Err(e) => {
            eprint_text(&format!("ariash: cannot start the runtime: {e}\n"));
            ExitCode::from(70)
        }
    }
}
