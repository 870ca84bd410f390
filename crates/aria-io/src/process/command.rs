use std::collections::BTreeMap;
use std::ffi::{CString, OsStr, OsString};
use std::fmt;
use std::io;
use std::os::fd::{AsFd, AsRawFd, OwnedFd, RawFd};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::child::PendingExec;
use super::stdio::{Inner, Stdio};
use super::{Child, ChildStreams, Output};
use crate::io::{PipeReader, PipeWriter};
use crate::sys;
use crate::sys::spawn::{self, ExecImage, FdSource, SpawnMode};

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
    pub(super) program: OsString,
    /// `argv[0]` when it differs from the program (see [`Command::arg0`](crate::os::unix::CommandExt::arg0)).
    pub(crate) arg0: Option<OsString>,
    pub(super) args: Vec<OsString>,
    pub(super) env_clear: bool,
    pub(super) env: BTreeMap<OsString, Option<OsString>>,
    pub(super) cwd: Option<PathBuf>,
    pub(crate) process_group: Option<libc::pid_t>,
    pub(crate) foreground: Option<std::os::fd::RawFd>,
    pub(crate) new_session: bool,
    pub(super) kill_on_drop: bool,
    pub(super) wait_delay: Option<Duration>,
    pub(crate) uid: Option<u32>,
    pub(crate) gid: Option<u32>,
    pub(crate) groups: Option<Vec<u32>>,
    pub(super) stdio: [Option<Stdio>; STREAMS],
}

impl Command {
    /// A command that runs `program` with no arguments, the parent's environment and working
    /// directory, and every stream inherited (or `/dev/null` where the parent has none).
    pub fn new(program: impl AsRef<OsStr>) -> Command {
        Command {
            program: program.as_ref().to_owned(),
            arg0: None,
            args: Vec::new(),
            env_clear: false,
            env: BTreeMap::new(),
            cwd: None,
            process_group: None,
            foreground: None,
            new_session: false,
            kill_on_drop: false,
            wait_delay: None,
            uid: None,
            gid: None,
            groups: None,
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

    /// Sets several environment variables for the child.
    pub fn envs<I, K, V>(&mut self, vars: I) -> &mut Command
    where
        I: IntoIterator<Item = (K, V)>,
        K: AsRef<OsStr>,
        V: AsRef<OsStr>,
    {
        for (k, v) in vars {
            self.env(k, v);
        }
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

    /// Sends `SIGKILL` to the child when its [`Child`] is dropped before it was reaped.
    /// Either way a dropped child is reaped in the background, never left a zombie.
    pub fn kill_on_drop(&mut self, on: bool) -> &mut Command {
        self.kill_on_drop = on;
        self
    }

    /// How long [`output`](Command::output) keeps reading the child's pipes after the child
    /// exited. By default (`None`) it reads until end of file, like Go's `WaitDelay` of zero:
    /// the output of a background grandchild that inherited a pipe is never cut off. With a
    /// delay, the pipes are closed when it expires and `output` fails with `TimedOut`,
    /// carrying a [`WaitDelayExpired`](super::WaitDelayExpired) with the status and what was
    /// read, so a truncated result is never mistaken for a clean one.
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

    /// The environment variables set ([`env`](Command::env), `Some(value)`) or removed
    /// ([`env_remove`](Command::env_remove), `None`) for the child, in key order; after
    /// [`env_clear`](Command::env_clear), only what was set since.
    pub fn get_envs(&self) -> impl Iterator<Item = (&OsStr, Option<&OsStr>)> {
        self.env.iter().map(|(k, v)| (k.as_os_str(), v.as_deref()))
    }

    /// The working directory set by [`current_dir`](Command::current_dir), if any.
    pub fn get_current_dir(&self) -> Option<&Path> {
        self.cwd.as_deref()
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
    /// Returns once the child has called `execve(2)` (the calling thread waits for that, as
    /// with std's and tokio's `spawn`), so every failure to start the program is reported
    /// here. [`status`](Command::status) and [`output`](Command::output) do not wait for it.
    ///
    /// # Errors
    /// An error naming the program and the OS reason: `NotFound` when the program is not in
    /// `PATH` or does not exist, `PermissionDenied` when it is not executable, an error naming
    /// the directory when the working directory does not exist, `InvalidInput` for a NUL byte
    /// in the program, an argument or the environment, `PermissionDenied` (`EPERM`) naming
    /// the step for a [`uid`](crate::os::unix::CommandExt::uid)/[`gid`](crate::os::unix::CommandExt::gid) change this process may not
    /// make, and `Other` outside a runtime. Nothing leaks: every descriptor created for the
    /// spawn is closed on error. [`SpawnError::from_io`] gives the program back.
    ///
    /// # Platform
    /// Linux 5.4+ (pidfd, waitid(P_PIDFD)), glibc 2.34+: the child is started with
    /// `clone3(CLONE_VM | CLONE_VFORK | CLONE_PIDFD | CLONE_CLEAR_SIGHAND)` where the kernel
    /// (5.9+) and any seccomp filter allow it, else with posix_spawn(3) and pidfd_open(2); see
    /// the [module docs](super#spawning). macOS and FreeBSD: posix_spawn(3), the child
    /// watched by a kqueue of its own (see the module's guarantees per platform).
    ///
    /// # References
    /// clone(2), posix_spawn(3), pidfd_open(2), execve(2)
    pub fn spawn(&mut self) -> io::Result<Child> {
        self.spawn_with(SpawnMode::Wait)
    }

    /// Starts the child, waiting for its `execve` ([`SpawnMode::Wait`]) or not
    /// ([`SpawnMode::Detach`]: a failure of the child's `execve` is then reported by the
    /// child's wait, as the same [`SpawnError`]).
    pub(crate) fn spawn_with(&mut self, mode: SpawnMode) -> io::Result<Child> {
        self.spawn_inner(mode).map_err(|source| spawn_error(&self.program, source))
    }

    fn spawn_inner(&mut self, mode: SpawnMode) -> io::Result<Child> {
        let driver = crate::runtime::context::driver_handle()?;
        // Reap a few of the children dropped earlier that have exited (see `orphan`).
        driver.orphans().reap_some(&driver);
        let path = self.resolve_program()?;
        if self.stdio.iter().any(|s| matches!(s, Some(Stdio(Inner::Std(_))))) {
            return super::std_spawn::spawn(self, &path);
        }
        let argv: Vec<CString> = std::iter::once(self.arg0.as_ref().unwrap_or(&self.program))
            .chain(&self.args)
            .map(|a| cstring(a.as_bytes()))
            .collect::<io::Result<_>>()?;
        let env = if self.env_clear || !self.env.is_empty() { Some(self.build_env()?) } else { None };
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
        // returns (they are closed in the parent right after; the child has its own copies).
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
                        streams.set_writer(target, PipeWriter::from_new_pipe(w)?);
                        Some(r)
                    } else {
                        streams.set_reader(target, PipeReader::from_new_pipe(r)?);
                        Some(w)
                    }
                }
                Inner::Fd(fd) => Some(fd),
                Inner::Reader(r) => Some(r.into_owned_fd()?),
                Inner::Writer(w) => Some(w.into_owned_fd()?),
                Inner::File(f) => Some(sys::dup_at_least(f.as_fd(), STREAMS as RawFd)?),
                Inner::Std(_) => unreachable!("commands with a std Stdio are spawned by std"),
            };
            if let Some(fd) = child_fd {
                // Sources must be >= 6 so a dup onto 0-5 never clobbers another source.
                let fd =
                    if fd.as_raw_fd() < STREAMS as RawFd { sys::dup_at_least(fd.as_fd(), 6)? } else { fd };
                fds[target] = FdSource::Dup(fd.as_raw_fd());
                keep.push(fd);
            }
        }

        let image = ExecImage {
            path,
            argv,
            env,
            cwd,
            fds,
            process_group: if self.new_session { None } else { self.process_group },
            new_session: self.new_session,
            foreground: self.foreground,
            uid: self.uid,
            gid: self.gid,
            groups: self.groups.clone(),
        };
        let spawned = spawn::spawn(image, mode)?;
        drop(keep);
        let pid = spawned.pid;
        let pgid = if self.new_session {
            Some(pid)
        } else {
            self.process_group.map(|g| if g == 0 { pid } else { g })
        };
        let pending = spawned.report.map(|report| PendingExec { report, program: self.program.clone() });
        Child::new(spawned.pid, spawned.pidfd, pgid, self.kill_on_drop, self.wait_delay, pending, streams)
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
    /// so no amount of output can deadlock. Reading goes on until every pipe reaches end of
    /// file, even after the child exited (a background grandchild holding a pipe is waited
    /// for, as Go does by default); [`wait_delay`](Command::wait_delay) bounds that.
    ///
    /// Does not block the calling thread on the child's `execve` (as
    /// [`spawn`](Command::spawn) does): the child is started and the future returns to the
    /// scheduler at once, and a failure of the `execve` is reported by this future as the
    /// same [`SpawnError`] `spawn` would give.
    ///
    /// # Errors
    /// As [`spawn`](Command::spawn); read errors on the pipes; `TimedOut` carrying a
    /// [`WaitDelayExpired`](super::WaitDelayExpired) (with the output read so far) when a
    /// wait delay was set and expired.
    pub async fn output(&mut self) -> io::Result<Output> {
        self.set_stdio_if_unset(0, Stdio::null());
        self.set_stdio_if_unset(1, Stdio::piped());
        self.set_stdio_if_unset(2, Stdio::piped());
        let child = self.spawn_with(SpawnMode::Detach)?;
        child.wait_with_output().await
    }

    /// Runs the child to completion and returns its exit status. Like
    /// [`output`](Command::output), does not block the calling thread on the child's
    /// `execve`.
    ///
    /// # Errors
    /// As [`spawn`](Command::spawn).
    pub async fn status(&mut self) -> io::Result<super::ExitStatus> {
        self.spawn_with(SpawnMode::Detach)?.wait().await
    }
}

impl From<std::process::Command> for Command {
    /// Takes the program, arguments, environment changes and working directory of a std
    /// command. What std does not let anyone read back is not carried over: its stdio
    /// settings, `env_clear`, and the `CommandExt` settings (uid, gid, process group,
    /// `arg0`, `pre_exec`); set them on the result.
    fn from(std: std::process::Command) -> Command {
        let mut cmd = Command::new(std.get_program());
        cmd.args(std.get_args());
        for (k, v) in std.get_envs() {
            match v {
                Some(v) => cmd.env(k, v),
                None => cmd.env_remove(k),
            };
        }
        if let Some(dir) = std.get_current_dir() {
            cmd.current_dir(dir);
        }
        cmd
    }
}

/// Wraps `source` as the [`SpawnError`] of `program`, keeping its kind.
pub(crate) fn spawn_error(program: &OsStr, source: io::Error) -> io::Error {
    io::Error::new(source.kind(), SpawnError { program: program.to_owned(), source })
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
