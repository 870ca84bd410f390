use std::collections::BTreeMap;
use std::ffi::{CString, OsStr, OsString};
use std::fmt;
use std::io;
use std::os::fd::{AsFd, AsRawFd, OwnedFd, RawFd};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::stdio::{Inner, Stdio};
use super::{Child, ChildStreams, Output};
use crate::io::{PipeReader, PipeWriter};
use crate::sys;
use crate::sys::spawn::{self, FdSource, SpawnRequest};

/// Number of standard streams every child gets.
pub(crate) const STREAMS: usize = 6;

/// Whether stream `fd` flows into the child (stdin 0, stddati 4) or out of it.
fn is_input(fd: usize) -> bool {
    fd == 0 || fd == 4
}

/// Builds and starts a child process, like `std::process::Command`, with six standard
/// streams instead of three and without ever forking this process.
///
/// ```no_run
/// # async fn demo() -> std::io::Result<()> {
/// use aria_io::process::{Command, Stdio};
/// let out = Command::new("uname").arg("-s").output().await?;
/// assert!(out.status.success());
/// # Ok(()) }
/// ```
///
/// No shell is involved: the program is looked up in `PATH` (the child's `PATH` if
/// [`env`](Command::env) sets one) and every argument reaches it as exactly one `argv` entry,
/// whatever characters it contains.
pub struct Command {
    program: OsString,
    args: Vec<OsString>,
    env_clear: bool,
    env: BTreeMap<OsString, Option<OsString>>,
    cwd: Option<PathBuf>,
    process_group: Option<libc::pid_t>,
    new_session: bool,
    kill_on_drop: bool,
    wait_delay: Option<Duration>,
    stdio: [Option<Stdio>; STREAMS],
}

impl Command {
    /// A command that runs `program` with no arguments, the parent's environment and working
    /// directory, and every stream inherited (or `/dev/null` where the parent has none).
    pub fn new(program: impl AsRef<OsStr>) -> Command {
        Command {
            program: program.as_ref().to_owned(),
            args: Vec::new(),
            env_clear: false,
            env: BTreeMap::new(),
            cwd: None,
            process_group: None,
            new_session: false,
            kill_on_drop: false,
            wait_delay: Some(Duration::from_secs(1)),
            stdio: Default::default(),
        }
    }

    /// Appends one argument, passed verbatim as one `argv` entry.
    pub fn arg(&mut self, arg: impl AsRef<OsStr>) -> &mut Command {
        self.args.push(arg.as_ref().to_owned());
        self
    }

    /// Appends several arguments.
    pub fn args<I, S>(&mut self, args: I) -> &mut Command
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        self.args.extend(args.into_iter().map(|a| a.as_ref().to_owned()));
        self
    }

    /// Sets an environment variable for the child.
    pub fn env(&mut self, key: impl AsRef<OsStr>, value: impl AsRef<OsStr>) -> &mut Command {
        self.env.insert(key.as_ref().to_owned(), Some(value.as_ref().to_owned()));
        self
    }

    /// Removes an environment variable from the child's environment.
    pub fn env_remove(&mut self, key: impl AsRef<OsStr>) -> &mut Command {
        self.env.insert(key.as_ref().to_owned(), None);
        self
    }

    /// Starts the child with an empty environment (plus what [`env`](Command::env) sets).
    pub fn env_clear(&mut self) -> &mut Command {
        self.env_clear = true;
        self.env.retain(|_, v| v.is_some());
        self
    }

    /// Runs the child in `dir`. A relative program path is resolved against `dir`.
    pub fn current_dir(&mut self, dir: impl AsRef<Path>) -> &mut Command {
        self.cwd = Some(dir.as_ref().to_owned());
        self
    }

    /// Puts the child in process group `pgid`, or in a new group that it leads when `pgid`
    /// is 0 (`setpgid(0, pgid)` in the child, see setpgid(2)). Needed for
    /// [`Child::signal_group`].
    pub fn process_group(&mut self, pgid: i32) -> &mut Command {
        self.process_group = Some(pgid);
        self
    }

    /// Starts the child in a new session (setsid(2)), detached from the controlling terminal;
    /// it leads a new process group as well.
    pub fn new_session(&mut self, on: bool) -> &mut Command {
        self.new_session = on;
        self
    }

    /// Sends `SIGKILL` to the child when its [`Child`] is dropped before it was reaped.
    /// Either way a dropped child is reaped in the background, never left a zombie.
    pub fn kill_on_drop(&mut self, on: bool) -> &mut Command {
        self.kill_on_drop = on;
        self
    }

    /// How long [`output`](Command::output) keeps reading the child's pipes after the child
    /// exited (default 1 s). A grandchild that inherited a pipe can keep it open for ever;
    /// after this delay the pipes are closed and what was read is returned. `None` reads
    /// until end of file, like Go's `WaitDelay` of zero.
    pub fn wait_delay(&mut self, delay: Option<Duration>) -> &mut Command {
        self.wait_delay = delay;
        self
    }

    /// Sets stream `fd` (0-5) of the child.
    ///
    /// # Panics
    /// If `fd` is not in 0-5.
    pub fn stdio(&mut self, fd: usize, cfg: impl Into<Stdio>) -> &mut Command {
        assert!(fd < STREAMS, "a child has streams 0-5, not {fd}");
        self.stdio[fd] = Some(cfg.into());
        self
    }

    /// Stream 0, standard input.
    pub fn stdin(&mut self, cfg: impl Into<Stdio>) -> &mut Command {
        self.stdio(0, cfg)
    }
    /// Stream 1, standard output (human-readable text).
    pub fn stdout(&mut self, cfg: impl Into<Stdio>) -> &mut Command {
        self.stdio(1, cfg)
    }
    /// Stream 2, standard error.
    pub fn stderr(&mut self, cfg: impl Into<Stdio>) -> &mut Command {
        self.stdio(2, cfg)
    }
    /// Stream 3, stddbg: structured (JSON lines) telemetry.
    pub fn stddbg(&mut self, cfg: impl Into<Stdio>) -> &mut Command {
        self.stdio(3, cfg)
    }
    /// Stream 4, stddati: binary data in.
    pub fn stddati(&mut self, cfg: impl Into<Stdio>) -> &mut Command {
        self.stdio(4, cfg)
    }
    /// Stream 5, stddato: binary data out.
    pub fn stddato(&mut self, cfg: impl Into<Stdio>) -> &mut Command {
        self.stdio(5, cfg)
    }

    /// The program name as given to [`Command::new`].
    pub fn get_program(&self) -> &OsStr {
        &self.program
    }

    /// The arguments (without the program name).
    pub fn get_args(&self) -> impl Iterator<Item = &OsStr> {
        self.args.iter().map(OsString::as_os_str)
    }

    pub(crate) fn set_stdio_if_unset(&mut self, fd: usize, cfg: Stdio) {
        if self.stdio[fd].is_none() {
            self.stdio[fd] = Some(cfg);
        }
    }

    pub(crate) fn get_wait_delay(&self) -> Option<Duration> {
        self.wait_delay
    }

    /// Starts the child.
    ///
    /// Stream configurations that are descriptors (a file, another child's pipe) are moved
    /// into the child and reset to the default; `inherit`, `null` and `piped` stay set.
    ///
    /// # Errors
    /// An error naming the program and the OS reason: `NotFound` when the program is not in
    /// `PATH` or does not exist, `PermissionDenied` when it is not executable, an error naming
    /// the directory when the working directory does not exist, `InvalidInput` for a NUL byte
    /// in the program, an argument or the environment, and `Other` outside a runtime. Nothing
    /// leaks: every descriptor created for the spawn is closed on error.
    ///
    /// # Platform
    /// Linux 5.4+ (pidfd_open, waitid(P_PIDFD)), glibc 2.34+ (posix_spawn closefrom).
    ///
    /// # References
    /// posix_spawn(3), pidfd_open(2)
    pub fn spawn(&mut self) -> io::Result<Child> {
        self.spawn_inner().map_err(|source| {
            io::Error::new(source.kind(), SpawnError { program: self.program.clone(), source })
        })
    }

    fn spawn_inner(&mut self) -> io::Result<Child> {
        if crate::runtime::context::current().is_none() {
            return Err(crate::runtime::context::no_runtime());
        }
        let path = self.resolve_program()?;
        let argv: Vec<CString> = std::iter::once(&self.program)
            .chain(&self.args)
            .map(|a| cstring(a.as_bytes()))
            .collect::<io::Result<_>>()?;
        let envp = if self.env_clear || !self.env.is_empty() { Some(self.build_env()?) } else { None };
        let cwd = match &self.cwd {
            Some(dir) => {
                let meta = std::fs::metadata(dir).map_err(|e| {
                    io::Error::new(e.kind(), format!("working directory `{}`: {e}", dir.display()))
                })?;
                if !meta.is_dir() {
                    return Err(io::Error::new(
                        io::ErrorKind::NotADirectory,
                        format!("working directory `{}` is not a directory", dir.display()),
                    ));
                }
                Some(cstring(dir.as_os_str().as_bytes())?)
            }
            None => None,
        };

        // Resolve the six streams. `keep` holds the child-side descriptors until the spawn
        // returns (they are closed in the parent right after).
        let mut keep: Vec<OwnedFd> = Vec::new();
        let mut fds = [FdSource::Inherit; STREAMS];
        let mut streams = ChildStreams::default();
        for (target, slot) in self.stdio.iter_mut().enumerate() {
            let cfg = slot.take().unwrap_or_else(Stdio::inherit);
            *slot = cfg.reusable();
            let child_fd: Option<OwnedFd> = match cfg.0 {
                Inner::Inherit if sys::is_inheritable_open(target as RawFd) => None,
                Inner::Inherit | Inner::Null => {
                    fds[target] = FdSource::Dup(sys::dev_null()?.as_raw_fd());
                    continue;
                }
                Inner::Piped => {
                    let (r, w) = sys::pipe()?;
                    if is_input(target) {
                        streams.set_writer(target, PipeWriter::from_owned_fd(w)?);
                        Some(r)
                    } else {
                        streams.set_reader(target, PipeReader::from_owned_fd(r)?);
                        Some(w)
                    }
                }
                Inner::Fd(fd) => Some(fd),
                Inner::Reader(r) => Some(r.into_blocking_fd()?),
                Inner::Writer(w) => Some(w.into_blocking_fd()?),
            };
            if let Some(fd) = child_fd {
                // Sources must be >= 6 so a dup2 onto 0-5 never clobbers another source.
                let fd =
                    if fd.as_raw_fd() < STREAMS as RawFd { sys::dup_at_least(fd.as_fd(), 6)? } else { fd };
                fds[target] = FdSource::Dup(fd.as_raw_fd());
                keep.push(fd);
            }
        }

        let req = SpawnRequest {
            path: &path,
            argv: &argv,
            envp: envp.as_deref(),
            cwd: cwd.as_deref(),
            fds,
            process_group: if self.new_session { None } else { self.process_group },
            new_session: self.new_session,
        };
        let pid = spawn::spawn(&req)?;
        drop(keep);
        let pgid = if self.new_session {
            Some(pid)
        } else {
            self.process_group.map(|g| if g == 0 { pid } else { g })
        };
        Child::new(pid, pgid, self.kill_on_drop, self.wait_delay, streams)
    }

    /// Finds the executable: a name with a `/` is used as it is; otherwise the first
    /// executable `dir/name` along the child's `PATH`.
    fn resolve_program(&self) -> io::Result<CString> {
        let prog = self.program.as_bytes();
        if prog.is_empty() {
            return Err(io::Error::new(io::ErrorKind::InvalidInput, "empty program name"));
        }
        if prog.contains(&b'/') {
            return cstring(prog);
        }
        let path_var = match self.env.get(OsStr::new("PATH")) {
            Some(v) => v.clone(),
            None if self.env_clear => None,
            None => std::env::var_os("PATH"),
        };
        let path_var = path_var.unwrap_or_else(|| OsString::from("/usr/local/bin:/usr/bin:/bin"));
        let mut denied = false;
        for dir in path_var.as_bytes().split(|b| *b == b':') {
            let dir: &[u8] = if dir.is_empty() { b"." } else { dir };
            let mut cand = dir.to_vec();
            cand.push(b'/');
            cand.extend_from_slice(prog);
            let cand = cstring(&cand)?;
            match spawn::probe(&cand) {
                spawn::Candidate::Executable => return Ok(cand),
                // Something by that name exists but cannot be run: report that, not "missing".
                spawn::Candidate::Denied => denied = true,
                spawn::Candidate::Missing => {}
            }
        }
        if denied {
            Err(io::Error::new(io::ErrorKind::PermissionDenied, "found in PATH but not executable"))
        } else {
            Err(io::Error::new(io::ErrorKind::NotFound, "program not found in PATH"))
        }
    }

    fn build_env(&self) -> io::Result<Vec<CString>> {
        let mut vars: BTreeMap<OsString, OsString> =
            if self.env_clear { BTreeMap::new() } else { std::env::vars_os().collect() };
        for (k, v) in &self.env {
            match v {
                Some(v) => vars.insert(k.clone(), v.clone()),
                None => vars.remove(k),
            };
        }
        vars.into_iter()
            .map(|(k, v)| {
                let mut kv = k.into_vec();
                kv.push(b'=');
                kv.extend(v.into_vec());
                cstring(&kv)
            })
            .collect()
    }

    /// Runs the child to completion and collects its output. Unless set otherwise, stdin is
    /// `/dev/null` and stdout and stderr are piped; any other stream configured as piped
    /// (stddbg, stddato) is collected too. All pipes are drained concurrently with the wait,
    /// so no amount of output can deadlock; see [`Command::wait_delay`] for pipes held open by
    /// grandchildren.
    ///
    /// # Errors
    /// As [`spawn`](Command::spawn), and read errors on the pipes.
    pub async fn output(&mut self) -> io::Result<Output> {
        self.set_stdio_if_unset(0, Stdio::null());
        self.set_stdio_if_unset(1, Stdio::piped());
        self.set_stdio_if_unset(2, Stdio::piped());
        let child = self.spawn()?;
        child.wait_with_output().await
    }

    /// Runs the child to completion and returns its exit status.
    ///
    /// # Errors
    /// As [`spawn`](Command::spawn).
    pub async fn status(&mut self) -> io::Result<super::ExitStatus> {
        self.spawn()?.wait().await
    }
}

/// The error inside the `io::Error` that [`Command::spawn`] returns: which program could not
/// be started and why. Its `Display` reads "failed to spawn `prog`: reason", and the
/// `io::Error`'s kind is the reason's kind. Get at it with
/// `err.get_ref().and_then(|e| e.downcast_ref::<SpawnError>())`.
#[derive(Debug)]
pub struct SpawnError {
    program: OsString,
    source: io::Error,
}

impl SpawnError {
    /// The program as given to [`Command::new`].
    pub fn program(&self) -> &OsStr {
        &self.program
    }

    /// Finds the `SpawnError` inside an `io::Error`, if it is one.
    pub fn from_io(err: &io::Error) -> Option<&SpawnError> {
        err.get_ref().and_then(|e| e.downcast_ref::<SpawnError>())
    }
}

impl fmt::Display for SpawnError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "failed to spawn `{}`: {}", self.program.to_string_lossy(), self.source)
    }
}

impl std::error::Error for SpawnError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.source)
    }
}

fn cstring(bytes: &[u8]) -> io::Result<CString> {
    CString::new(bytes).map_err(|_| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("`{}` contains a NUL byte", String::from_utf8_lossy(bytes).replace('\0', "\\0")),
        )
    })
}

impl fmt::Debug for Command {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.program)?;
        for a in &self.args {
            write!(f, " {a:?}")?;
        }
        Ok(())
    }
}
