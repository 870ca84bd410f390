//! The interactive REPL: `ariash` with no arguments and a terminal on stdin.
//!
//! # Threads
//!
//! The line editor runs on a thread of its own (the *editor thread*); the statements run on
//! the calling thread (the *runtime thread*), on one current-thread `aria_io` runtime, on
//! the script stack. The editor thread sends each entered line as a [`Request`] over a
//! channel and waits for the [`Reply`] (the status, the running jobs, the session's names)
//! before it prompts again, so a command's output never mixes with the prompt. The runtime
//! thread receives the lines through an `aria_io` channel, so while the prompt is idle it
//! waits in the driver for whichever comes first: a line, a job's stop or exit (pidfds and
//! `SIGCHLD`), or a signal; with nothing happening it makes no system call at all (see
//! [`shell`]).
//!
//! # Line editor
//!
//! [rustyline], chosen over reedline because of finished-job notices: rustyline's
//! `ExternalPrinter` wakes the editor through a pipe that it polls together with the terminal,
//! without a timeout, while reedline's external printer is polled every 100 ms, so an idle
//! reedline prompt keeps waking up. The runtime thread gets a [`NoticePrinter`] to print job
//! notices above the prompt. rustyline is built with its `signal-hook` feature: without it,
//! each `readline` replaces the `SIGINT` handler and puts back the one it found when it
//! returns, which can undo the handler ariash installs for Ctrl-C while a line runs.
//!
//! Keys are rustyline's: emacs by default, vi with `ARIASH_EDIT_MODE=vi`; Ctrl-R searches
//! the history backwards, Tab completes, → accepts the grey hint from history, Ctrl-D on an
//! empty line leaves. Enter with an open bracket or string continues the input on the next
//! line.
//!
//! # Lines
//!
//! A line is parsed, then checked with the variables and functions of the lines accepted
//! before it as an outer scope (so it may declare a name again), trying it as written and
//! then with a `;` appended. A line that is
//! not ariash may be a bare command (see [`bare`]). A runtime error is shown as in scripts
//! and the REPL goes on; `exit(n)` leaves with status n.
//!
//! # Job control
//!
//! With stdin as its controlling terminal the REPL is a job-control shell (see
//! [`crate::interp::JobControl`] for the protocol, and [`shell`] for the commands `jobs`,
//! `fg`, `bg` and `disown`, the notices and the signals).

mod bare;
mod editor;
mod history;
mod shell;

use std::io::{self, Write};
use std::sync::mpsc;
use std::sync::Arc;

use rustyline::config::{Config, EditMode};
use rustyline::error::ReadlineError;
use rustyline::history::DefaultHistory;
use rustyline::{Editor, ExternalPrinter};

use crate::ast::Stmt;
use crate::check::CheckSession;
use crate::diag::{Diag, Source};
use crate::interp::{JobControl, Session};
use editor::AriashHelper;
use history::HistoryFile;

/// From the editor thread to the runtime thread.
#[derive(Debug)]
enum Request {
    /// A line (possibly several, for multi-line input) to run.
    Line(String),
    /// The user wants to leave (Ctrl-D on an empty line); the reply says whether to.
    End,
    /// Reading the terminal failed: it is gone (hung up).
    Hangup,
}

/// From the runtime thread to the editor thread, after a line.
#[derive(Debug)]
struct Reply {
    status: i32,
    jobs: usize,
    names: Vec<String>,
    /// The REPL ends: the editor thread returns.
    quit: bool,
}

/// Prints text above the prompt while the editor waits for input (for finished-job
/// notices), waking the editor through its pipe.
pub struct NoticePrinter(Box<dyn ExternalPrinter + Send>);

impl std::fmt::Debug for NoticePrinter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("NoticePrinter")
    }
}

impl NoticePrinter {
    /// Prints `text` (ending with a newline) above the prompt.
    ///
    /// # Errors
    /// Writing to the editor's pipe failed.
    pub fn print(&mut self, text: String) -> io::Result<()> {
        self.0.print(text).map_err(io::Error::other)
    }
}

/// Runs the REPL until `exit(n)`, Ctrl-D, a hang-up or `SIGTERM`, and returns the exit
/// status.
///
/// # Errors
/// The terminal, the editor thread or the runtime could not be set up.
pub fn run() -> io::Result<i32> {
    // Before the editor touches the terminal: a REPL started in the background waits here
    // until it is brought to the foreground.
    let jc = JobControl::start()?;
    raise_open_files_limit();
    let (req_tx, req_rx) = aria_io::sync::mpsc::unbounded_channel::<Request>();
    let (reply_tx, reply_rx) = mpsc::channel::<Reply>();
    let (printer_tx, printer_rx) = mpsc::channel::<io::Result<NoticePrinter>>();
    let editor = std::thread::Builder::new()
        .name("ariash-editor".into())
        .stack_size(crate::stack::SCRIPT_STACK)
        .spawn(move || edit(&req_tx, &reply_rx, &printer_tx))?;
    let notices = printer_rx.recv().map_err(io::Error::other)??;
    let (code, ended) = crate::stack::on_script_stack(move || execute(req_rx, &reply_tx, notices, jc))??;
    // After a hang-up or a signal the editor may still wait for the terminal: it ends with
    // the process.
    if ended {
        let _ = editor.join();
    }
    Ok(code)
}

/// Raises the soft limit on open descriptors to the hard one: each background job holds a
/// pidfd per stage and a pipe for its telemetry, so hundreds of jobs would pass the usual
/// soft limit of 1024. Children inherit the raised limit. Failing to raise it only leaves
/// the old one.
fn raise_open_files_limit() {
    use rustix::process::{getrlimit, setrlimit, Resource, Rlimit};
    let limit = getrlimit(Resource::Nofile);
    if limit.current < limit.maximum {
        let _ = setrlimit(Resource::Nofile, Rlimit { current: limit.maximum, maximum: limit.maximum });
    }
}

/// The editor thread: reads lines and sends them, prompting again after each reply.
fn edit(
    req: &aria_io::sync::mpsc::UnboundedSender<Request>,
    replies: &mpsc::Receiver<Reply>,
    printer: &mpsc::Sender<io::Result<NoticePrinter>>,
) {
    let mode = match std::env::var("ARIASH_EDIT_MODE").as_deref() {
        Ok("vi") => EditMode::Vi,
        _ => EditMode::Emacs,
    };
    let config = Config::builder().edit_mode(mode).auto_add_history(false).build();
    let mut rl = match Editor::<AriashHelper, DefaultHistory>::with_config(config) {
        Ok(rl) => rl,
        Err(e) => {
            let _ = printer.send(Err(io::Error::other(e)));
            return;
        }
    };
    rl.set_helper(Some(AriashHelper::new()));
    let made = rl.create_external_printer().map(|p| NoticePrinter(Box::new(p))).map_err(io::Error::other);
    if printer.send(made).is_err() {
        return;
    }
    let mut file = HistoryFile::open();
    let mut last = Reply { status: 0, jobs: 0, names: Vec::new(), quit: false };
    loop {
        for line in file.new_lines() {
            let _ = rl.add_history_entry(line);
        }
        let read = match typed_ahead() {
            // An open bracket or string: the editor takes over with the text so far.
            Some(Some(line)) if editor::incomplete(&line) => {
                rl.readline_with_initial(&prompt(&last), (&line, ""))
            }
            Some(Some(line)) => {
                // The terminal echoed it while the last line ran; show it after a prompt too.
                let mut out = io::stdout().lock();
                let _ = writeln!(out, "{}{line}", prompt(&last));
                let _ = out.flush();
                Ok(line)
            }
            Some(None) => Err(ReadlineError::Eof),
            None => rl.readline(&prompt(&last)),
        };
        let line = match read {
            Ok(line) => line,
            Err(ReadlineError::Interrupted) => continue,
            Err(ReadlineError::Eof) => {
                if req.send(Request::End).is_err() {
                    return;
                }
                match replies.recv() {
                    Ok(reply) if !reply.quit => {
                        last = reply;
                        continue;
                    }
                    _ => return,
                }
            }
            Err(_) => {
                let _ = req.send(Request::Hangup);
                return;
            }
        };
        if line.trim().is_empty() {
            continue;
        }
        if req.send(Request::Line(line.clone())).is_err() {
            return;
        }
        let Ok(reply) = replies.recv() else { return };
        file.append(&line, reply.status);
        if let Some(helper) = rl.helper_mut() {
            helper.names.clone_from(&reply.names);
        }
        if reply.quit {
            return;
        }
        last = reply;
    }
}

/// A whole line typed while the last line ran, if the terminal holds one: `Some(None)` for
/// a Ctrl-D typed on an empty line.
///
/// rustyline reads whatever the terminal has when it starts, keeps the first line and would
/// drop the rest when it returns; so complete lines typed ahead are taken here first, one
/// `read` each, while the terminal is still in canonical mode (where a `read` returns at
/// most one line and `FIONREAD` counts complete lines only). A partial line is left for the
/// editor, which shows it as typed.
fn typed_ahead() -> Option<Option<String>> {
    use rustix::termios::{tcgetattr, LocalModes};
    let stdin = io::stdin();
    let modes = tcgetattr(&stdin).ok()?;
    if !modes.local_modes.contains(LocalModes::ICANON) || rustix::io::ioctl_fionread(&stdin).ok()? == 0 {
        return None;
    }
    let mut buf = [0u8; 4096];
    match rustix::io::read(&stdin, &mut buf).ok()? {
        0 => Some(None),
        n => Some(Some(String::from_utf8_lossy(&buf[..n]).trim_end_matches(['\n', '\r']).to_string())),
    }
}

/// The prompt: the directory (`~` for `$HOME`), the last status if not 0, the running jobs.
fn prompt(last: &Reply) -> String {
    let cwd =
        std::env::current_dir().map(|d| d.to_string_lossy().into_owned()).unwrap_or_else(|_| "?".into());
    let home = std::env::var("HOME").unwrap_or_default();
    let cwd = match cwd.strip_prefix(&home) {
        Some(rest) if !home.is_empty() && (rest.is_empty() || rest.starts_with('/')) => format!("~{rest}"),
        _ => cwd,
    };
    let status = if last.status == 0 { String::new() } else { format!(" [{}]", last.status) };
    let jobs = match last.jobs {
        0 => String::new(),
        1 => " (1 job)".to_string(),
        n => format!(" ({n} jobs)"),
    };
    format!("{cwd}{status}{jobs}> ")
}

/// The runtime thread: one `block_on` for the whole session, which runs the lines and,
/// between them, watches the jobs (see [`shell::serve`]). Returns the exit status and
/// whether the editor thread has ended.
fn execute(
    requests: aria_io::sync::mpsc::UnboundedReceiver<Request>,
    replies: &mpsc::Sender<Reply>,
    notices: NoticePrinter,
    jc: Option<JobControl>,
) -> io::Result<(i32, bool)> {
    let runtime = crate::script_runtime()?;
    let groups = Arc::new(crate::signals::Groups::default());
    let grace = crate::signals::grace_from_env();
    let mut session = Session::new(Arc::clone(&groups), grace, jc);
    let served = runtime.block_on(shell::serve(requests, replies, notices, &mut session, groups));
    session.finish();
    served
}

/// What a line compiles to: the source to report errors against and the line's statements.
type Compiled = (Source, Vec<Stmt>);

/// Parses and checks `line` in the session (see the module docs).
fn compile_line(
    checked: &mut CheckSession,
    line: &str,
    session: &Session,
) -> Result<Compiled, (Source, Vec<Diag>)> {
    let mut first_error = None;
    for text in [line.to_string(), format!("{line};")] {
        match compile(checked, text) {
            Ok(done) => return Ok(done),
            Err(e) => {
                first_error.get_or_insert(e);
            }
        }
    }
    let is_name = |w: &str| {
        bare::builtin_wins(w, bare::on_path) || session.has_var(w) || session.has_func(w) || checked.has(w)
    };
    if let Some(code) = bare::translate(line, is_name) {
        if let Ok(done) = compile(checked, code) {
            return Ok(done);
        }
    }
    Err(first_error.unwrap_or_else(|| (Source::new("<repl>", line), Vec::new())))
}

fn compile(checked: &mut CheckSession, text: String) -> Result<Compiled, (Source, Vec<Diag>)> {
    let source = Source::new("<repl>", text);
    let script = match crate::parser::parse_here(&source.text) {
        Ok(script) => script,
        Err(d) => return Err((source, vec![d])),
    };
    if let Err(diags) = checked.check_line(&script) {
        return Err((source, diags));
    }
    Ok((source, script.stmts))
}
