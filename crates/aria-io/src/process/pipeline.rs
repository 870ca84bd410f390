//! Pipelines: stages joined by text pipes (stdout to the next stdin) or data pipes (stddato,
//! fd 5, to the next stddati, fd 4), each stage with its own redirections, all stages in one
//! process group.
//!
//! The pipes between stages connect the children directly; the parent holds no end of them
//! once the stages are spawned, so data flows kernel to kernel and the parent only waits.
//!
//! # Tee
//!
//! A stage marked with [`Pipeline::tee`] sends its output (stdout before `|`, stddato before
//! `|*`) into a pipe of its own, which the runtime relays to the next stage's pipe and to a
//! file, with tee(2) and splice(2) (see `io::tee`): the bytes stay in the kernel, and the
//! producer is paced by the slower of the two. A relay is a task of the runtime the pipeline
//! was spawned on; [`PipelineChild::wait`] waits for it after the stages. When the next stage
//! stops reading, the relay ends and the producer meets `EPIPE`, as it would without the tee.
//!
//! # Failure semantics
//!
//! Pipefail, with one refinement: a stage that ended because its reader went away
//! ([`ExitStatus::is_broken_pipe`]) is not a failure when that reader succeeded (or was itself
//! forgiven for the same reason). So `yes | head -n 1` succeeds and `false | true` fails.
//! A stage that *exits* with an ordinary error code after an `EPIPE` cannot be told apart from
//! one that failed for another reason, so it counts as a failure.

use std::fmt;
use std::io;
use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};

use super::command::STREAMS;
use super::{Child, Command, ExitStatus};
use crate::io::{PipeReader, PipeWriter};
use crate::os::unix::CommandExt;
use crate::sys;
use crate::JoinHandle;

/// How two adjacent stages are joined.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PipeKind {
    /// `|`: stdout (1) of the left stage to stdin (0) of the right one.
    Text,
    /// `|*`: stddato (5) of the left stage to stddati (4) of the right one.
    Data,
}

impl PipeKind {
    fn fds(self) -> (usize, usize) {
        match self {
            PipeKind::Text => (1, 0),
            PipeKind::Data => (5, 4),
        }
    }
}

/// A redirection of one stage's stream, applied left to right like a shell's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Redirect {
    /// `fd> path` (truncate) or `fd>> path` (append); the file is created with mode 0666
    /// minus the umask.
    Write {
        /// The stream (0-5).
        fd: i32,
        /// The file.
        path: PathBuf,
        /// Append instead of truncating.
        append: bool,
    },
    /// `fd< path`.
    Read {
        /// The stream (0-5).
        fd: i32,
        /// The file.
        path: PathBuf,
    },
    /// `fd>&from`: stream `fd` goes wherever stream `from` goes at this point.
    Dup {
        /// The stream being redirected (0-5).
        fd: i32,
        /// The stream whose destination it takes (0-5).
        from: i32,
    },
}

struct Stage {
    command: Command,
    redirects: Vec<Redirect>,
    /// Also copy the output to the next stage into this file.
    tee: Option<PathBuf>,
}

/// A pipeline of commands, built left to right.
///
/// ```no_run
/// # async fn demo() -> std::io::Result<()> {
/// use aria_io::process::{Command, Pipeline, Redirect};
/// let mut tar = Command::new("tar");
/// tar.args(["-cf", "/dev/fd/5", "."]);
/// let mut sum = Command::new("sh");
/// sum.args(["-c", "sha256sum <&4"]);
/// let status = Pipeline::new(tar)
///     .pipe_data(sum)
///     .redirect(Redirect::Write { fd: 1, path: "sum.txt".into(), append: false })
///     .status()
///     .await?;
/// assert!(status.success());
/// # Ok(()) }
/// ```
pub struct Pipeline {
    stages: Vec<Stage>,
    links: Vec<PipeKind>,
    capture: bool,
    wait_delay: Option<std::time::Duration>,
    /// A terminal whose foreground group becomes the pipeline's group.
    pub(crate) foreground: Option<std::os::fd::RawFd>,
}

impl fmt::Debug for Pipeline {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut l = f.debug_list();
        for s in &self.stages {
            l.entry(&s.command);
        }
        l.finish()
    }
}

impl Pipeline {
    /// A pipeline of one stage.
    pub fn new(first: Command) -> Pipeline {
        let wait_delay = first.get_wait_delay();
        Pipeline {
            stages: vec![Stage { command: first, redirects: Vec::new(), tee: None }],
            links: Vec::new(),
            capture: false,
            wait_delay,
            foreground: None,
        }
    }

    /// Adds a stage reading the previous stage's stdout on its stdin (`|`).
    pub fn pipe(self, next: Command) -> Pipeline {
        self.link(PipeKind::Text, next)
    }

    /// Adds a stage reading the previous stage's stddato (fd 5) on its stddati (fd 4) (`|*`).
    pub fn pipe_data(self, next: Command) -> Pipeline {
        self.link(PipeKind::Data, next)
    }

    /// Adds a stage joined by `kind`.
    pub fn link(mut self, kind: PipeKind, next: Command) -> Pipeline {
        self.links.push(kind);
        self.stages.push(Stage { command: next, redirects: Vec::new(), tee: None });
        self
    }

    /// Copies the output the last stage added so far sends to the next stage (its stdout for
    /// a `|`, its stddato for a `|*`) into the file at `path` as well, like tee(1) between
    /// the two. The file is created with mode 0666 minus the umask, or truncated. A stage
    /// with no next stage when the pipeline is spawned is an error: redirect its output
    /// instead.
    ///
    /// The stage writes into a pipe of its own, which a task of the runtime relays without
    /// the bytes entering user space: tee(2) into the next stage's pipe, splice(2) into the
    /// file. The producer goes at the pace of the slower of the two; when the next stage stops
    /// reading, the producer meets `EPIPE` as it would without the tee.
    /// [`PipelineChild::wait`] waits for the relay after the stages.
    ///
    /// # Errors
    /// None here; [`spawn`](Pipeline::spawn) reports a tee on the last stage
    /// (`InvalidInput`) and a file that cannot be opened, and [`PipelineChild::wait`] an error
    /// writing the file.
    ///
    /// # Platform
    /// Linux: tee(2) and splice(2), on the blocking pool for the file on epoll and as
    /// `IORING_OP_SPLICE` on io_uring.
    ///
    /// # References
    /// tee(2), splice(2), tee(1)
    pub fn tee(mut self, path: impl Into<PathBuf>) -> Pipeline {
        if let Some(last) = self.stages.last_mut() {
            last.tee = Some(path.into());
        }
        self
    }

    /// Adds a redirection to the last stage added so far. Redirections of a stage apply in
    /// order, after its pipes, so `> f 2>&1` sends stdout and stderr to `f`.
    pub fn redirect(mut self, r: Redirect) -> Pipeline {
        if let Some(last) = self.stages.last_mut() {
            last.redirects.push(r);
        }
        self
    }

    /// Makes the last stage's stdout a pipe read by [`PipelineChild::wait_with_output`].
    /// A redirection of the last stage's stdout takes precedence.
    pub fn capture_stdout(mut self) -> Pipeline {
        self.capture = true;
        self
    }

    /// The number of stages.
    pub fn len(&self) -> usize {
        self.stages.len()
    }

    /// Always false: a pipeline has at least one stage.
    pub fn is_empty(&self) -> bool {
        self.stages.is_empty()
    }

    /// Opens the redirection and tee files, creates the pipes, starts every stage in one new
    /// process group led by the first stage, and starts the relays of tee stages.
    ///
    /// # Errors
    /// A redirection or tee file that cannot be opened (the error names it), a redirection
    /// of a stream outside 0-5, a tee on the last stage (`InvalidInput`), or a stage that
    /// cannot be spawned (the error names the program; outside a runtime, the first stage
    /// fails so, before any tee relay task would be started). Stages already started are
    /// killed and reaped in the background; no descriptor leaks.
    pub fn spawn(self) -> io::Result<PipelineChild> {
        let Pipeline { stages, links, capture, wait_delay, foreground } = self;
        let n = stages.len();
        // Checked before any file is created or truncated.
        if stages.last().is_some_and(|s| s.tee.is_some()) {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "a tee needs a following stage to pass the output on to; redirect the last stage instead",
            ));
        }
        // pipes[i] joins stage i and stage i+1: (read end, write end).
        let mut pipes: Vec<Option<(OwnedFd, OwnedFd)>> = Vec::with_capacity(links.len());
        for _ in &links {
            pipes.push(Some(sys::pipe()?));
        }
        // tees[i]: stage i's own output pipe and the tee file, relayed once it is spawned.
        let mut tees = stages
            .iter()
            .map(|stage| stage.tee.as_deref().map(TeeSetup::new).transpose())
            .collect::<io::Result<Vec<_>>>()?;
        let mut relays = Vec::new();
        let mut children: Vec<Child> = Vec::with_capacity(n);
        let mut captured = None;
        let mut pgid = 0;
        for (i, stage) in stages.into_iter().enumerate() {
            let mut capture_end = None;
            let result = (|| {
                let Stage { mut command, redirects, tee: _ } = stage;
                let mut table: [Option<Target>; STREAMS] = Default::default();
                if i > 0 {
                    let (_, to) = links[i - 1].fds();
                    let (r, _) =
                        pipes[i - 1].as_ref().ok_or_else(|| io::Error::other("pipe already closed"))?;
                    table[to] = Some(Target::Fd(r.try_clone()?));
                }
                if i + 1 < n {
                    let (from, _) = links[i].fds();
                    let w = match tees[i].as_mut() {
                        // The stage writes into its own pipe; the relay writes the link.
                        Some(tee) => {
                            tee.stage_end.take().ok_or_else(|| io::Error::other("tee already set up"))?
                        }
                        None => {
                            let (_, w) =
                                pipes[i].as_ref().ok_or_else(|| io::Error::other("pipe already closed"))?;
                            w.try_clone()?
                        }
                    };
                    table[from] = Some(Target::Fd(w));
                }
                if capture && i + 1 == n {
                    // A pipe of our own rather than `Stdio::piped()`, so that a redirection
                    // such as `2>&1` can duplicate the captured output.
                    let (r, w) = sys::pipe()?;
                    table[1] = Some(Target::Fd(w));
                    capture_end = Some(r);
                }
                for r in &redirects {
                    apply(&mut table, r)?;
                }
                for (fd, t) in table.into_iter().enumerate() {
                    match t {
                        Some(Target::Fd(f)) => {
                            command.stdio(fd, f);
                        }
                        None => {}
                    }
                }
                command.process_group(pgid);
                if let (0, Some(tty)) = (i, foreground) {
                    command.foreground(tty);
                }
                command.spawn()
            })();
            match result {
                Ok(child) => {
                    if i == 0 {
                        pgid = child.raw_pid();
                    }
                    if let Some(r) = capture_end.take() {
                        match PipeReader::from_new_pipe(r) {
                            Ok(reader) => captured = Some(reader),
                            Err(e) => {
                                let _ = sys::killpg(pgid, libc::SIGKILL);
                                return Err(e);
                            }
                        }
                    }
                    children.push(child);
                    if let Some(tee) = tees[i].take() {
                        let (_, w) =
                            pipes[i].as_ref().ok_or_else(|| io::Error::other("pipe already closed"))?;
                        match tee.start(w) {
                            Ok(relay) => relays.push(relay),
                            Err(e) => {
                                let _ = sys::killpg(pgid, libc::SIGKILL);
                                return Err(e);
                            }
                        }
                    }
                }
                Err(e) => {
                    if pgid != 0 {
                        let _ = sys::killpg(pgid, libc::SIGKILL);
                    }
                    return Err(e); // dropping `children` hands them to the reaper
                }
            }
            // The parent's copies of the pipe to the left are no longer needed.
            if i > 0 {
                pipes[i - 1] = None;
            }
        }
        let stopped = vec![false; children.len()];
        Ok(PipelineChild {
            children,
            pgid,
            stdout: captured,
            wait_delay,
            relays,
            stopped,
            job_stopped: false,
        })
    }

    /// Spawns the pipeline and waits for every stage.
    ///
    /// # Errors
    /// As [`spawn`](Pipeline::spawn) and [`PipelineChild::wait`].
    pub async fn status(self) -> io::Result<PipelineStatus> {
        self.spawn()?.wait().await
    }

    /// Spawns the pipeline with its last stdout captured, and collects it.
    ///
    /// # Errors
    /// As [`spawn`](Pipeline::spawn) and [`PipelineChild::wait_with_output`].
    pub async fn output(self) -> io::Result<(PipelineStatus, Vec<u8>)> {
        self.capture_stdout().spawn()?.wait_with_output().await
    }
}

enum Target {
    Fd(OwnedFd),
}

/// A tee stage before it is spawned: its own output pipe and the file.
struct TeeSetup {
    /// The write end, for the stage (taken when its table is built).
    stage_end: Option<OwnedFd>,
    /// The read end, for the relay.
    relay_end: OwnedFd,
    file: std::fs::File,
    path: PathBuf,
}

impl TeeSetup {
    fn new(path: &Path) -> io::Result<TeeSetup> {
        let file = open_for_writing(path, false, "the tee")?;
        let (relay_end, stage_end) = sys::pipe()?;
        Ok(TeeSetup { stage_end: Some(stage_end), relay_end, file, path: path.to_owned() })
    }

    /// Starts the relay from the stage's pipe into `link` (a duplicate of the write end of
    /// the pipe to the next stage) and the file.
    fn start(self, link: &OwnedFd) -> io::Result<JoinHandle<io::Result<u64>>> {
        let mut src = PipeReader::from_new_pipe(self.relay_end)?;
        let mut dst = PipeWriter::from_owned_fd(link.try_clone()?)?;
        let mut file = crate::fs::File::from_std(self.file, self.path);
        Ok(crate::spawn(async move { crate::io::tee_into_file(&mut src, &mut dst, &mut file).await }))
    }
}

fn check_fd(fd: i32) -> io::Result<usize> {
    usize::try_from(fd).ok().filter(|f| *f < STREAMS).ok_or_else(|| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("cannot redirect fd {fd}: a child has streams 0-5"),
        )
    })
}

/// Opens `path` for a redirection or a tee: created with mode 0666 minus the umask, then
/// appended to or truncated. The error names the file and `purpose` (``cannot open `f` for
/// writing: ...``).
fn open_for_writing(path: &Path, append: bool, purpose: &str) -> io::Result<std::fs::File> {
    let mut o = std::fs::OpenOptions::new();
    o.write(true).create(true);
    if append {
        o.append(true);
    } else {
        o.truncate(true);
    }
    o.open(path)
        .map_err(|e| io::Error::new(e.kind(), format!("cannot open `{}` for {purpose}: {e}", path.display())))
}

fn apply(table: &mut [Option<Target>; STREAMS], r: &Redirect) -> io::Result<()> {
    match r {
        Redirect::Write { fd, path, append } => {
            let fd = check_fd(*fd)?;
            table[fd] = Some(Target::Fd(open_for_writing(path, *append, "writing")?.into()));
        }
        Redirect::Read { fd, path } => {
            let fd = check_fd(*fd)?;
            let f = std::fs::File::open(path).map_err(|e| {
                io::Error::new(e.kind(), format!("cannot open `{}` for reading: {e}", path.display()))
            })?;
            table[fd] = Some(Target::Fd(f.into()));
        }
        Redirect::Dup { fd, from } => {
            let fd = check_fd(*fd)?;
            let from = check_fd(*from)?;
            table[fd] = match &table[from] {
                Some(Target::Fd(f)) => Some(Target::Fd(f.try_clone()?)),
                // `from` is not redirected: it is inherited from the parent, so `fd` is too,
                // but under the other number.
                None if sys::is_inheritable_open(from as i32) => {
                    Some(Target::Fd(sys::dup_at_least(sys::borrow_std_stream(from as i32), 6)?))
                }
                None => Some(Target::Fd(sys::dup_at_least(sys::dev_null()?, 6)?)),
            };
        }
    }
    Ok(())
}

/// A running pipeline.
pub struct PipelineChild {
    children: Vec<Child>,
    pub(crate) pgid: i32,
    stdout: Option<PipeReader>,
    wait_delay: Option<std::time::Duration>,
    /// The relays of tee stages, in stage order.
    relays: Vec<JoinHandle<io::Result<u64>>>,
    /// Per stage: stopped and not continued since, as `wait_change` last saw it.
    stopped: Vec<bool>,
    /// Whether `wait_change` reported the job stopped and not continued since.
    job_stopped: bool,
}

impl PipelineChild {
    /// The stages' processes, in order.
    pub fn children(&self) -> &[Child] {
        &self.children
    }

    /// The stages' processes, in order, to take the streams a stage's own [`Command`] piped
    /// (`children_mut()[1].stderr.take()`) or to signal one stage.
    pub fn children_mut(&mut self) -> &mut [Child] {
        &mut self.children
    }

    /// The writing end of the first stage's stdin, if that stage's command set
    /// `stdin(Stdio::piped())` (and no redirection replaced it). Close it (drop it, or
    /// [`close`](crate::io::PipeWriter::close)) when done writing, or the first stage may
    /// wait for more input for ever.
    pub fn take_stdin(&mut self) -> Option<super::ChildStdin> {
        self.children.first_mut()?.stdin.take()
    }

    /// The reading end of stage `stage`'s stderr, if its command set `stderr(Stdio::piped())`.
    /// Read it concurrently with the wait (for example from another task): a stage blocked
    /// on a full stderr pipe never exits.
    pub fn take_stderr(&mut self, stage: usize) -> Option<super::ChildStderr> {
        self.children.get_mut(stage)?.stderr.take()
    }

    /// The reading end of the last stage's stdout when the pipeline was built with
    /// [`Pipeline::capture_stdout`], to read its output as it arrives (for example line by
    /// line) instead of collecting it with [`wait_with_output`](PipelineChild::wait_with_output).
    /// Read it to its end (or drop it) before or while waiting: a stage blocked on a full
    /// pipe never exits.
    pub fn take_stdout(&mut self) -> Option<PipeReader> {
        self.stdout.take()
    }

    /// Waits for the job's next change of state: [`JobChange::Stopped`] when a stage stops
    /// (the signal of the first stage seen stopping), [`JobChange::Continued`] once every
    /// stopped stage was continued, [`JobChange::Exited`] once every stage exited (as
    /// [`poll_wait`](PipelineChild::poll_wait) reports it, without closing any stream).
    /// Cancel-safe. Driven by `SIGCHLD` (see [`Child::wait_change`]).
    ///
    /// # Errors
    /// As [`Child::wait_change`] and [`wait`](PipelineChild::wait).
    ///
    /// # Platform
    /// Every Unix (see [`Child::wait_change`]).
    ///
    /// # References
    /// waitid(2) with `WSTOPPED`, `WCONTINUED`; glibc manual, "Stopped and Terminated Jobs"
    pub async fn wait_change(&mut self) -> io::Result<JobChange> {
        std::future::poll_fn(|cx| self.poll_wait_change(cx)).await
    }

    /// Polls for the job's next change of state (see [`wait_change`](PipelineChild::wait_change)).
    ///
    /// # Errors
    /// As [`wait_change`](PipelineChild::wait_change).
    pub fn poll_wait_change(
        &mut self,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<io::Result<JobChange>> {
        use std::task::Poll;
        let mut stop_signal = None;
        for (c, stopped) in self.children.iter_mut().zip(self.stopped.iter_mut()) {
            while c.id().is_some() {
                match c.poll_wait_change(cx) {
                    Poll::Pending => break,
                    Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                    Poll::Ready(Ok(super::Change::Stopped(sig))) => {
                        *stopped = true;
                        stop_signal.get_or_insert(sig);
                    }
                    Poll::Ready(Ok(super::Change::Continued | super::Change::Exited(_))) => {
                        *stopped = false;
                    }
                }
            }
        }
        let any_stopped = self.stopped.iter().any(|s| *s);
        if !self.job_stopped {
            if let (true, Some(sig)) = (any_stopped, stop_signal) {
                self.job_stopped = true;
                return Poll::Ready(Ok(JobChange::Stopped(sig)));
            }
        } else if !any_stopped {
            self.job_stopped = false;
            return Poll::Ready(Ok(JobChange::Continued));
        }
        self.poll_wait(cx).map(|r| r.map(JobChange::Exited))
    }

    /// Polls for the exit of every stage and the end of the tee relays, as
    /// [`wait`](PipelineChild::wait) does, without closing any stream: for waiting on
    /// several pipelines at once from one `poll` function. Once it has returned `Ready`,
    /// it returns the same status again (each stage's status is kept).
    ///
    /// # Errors
    /// As [`wait`](PipelineChild::wait).
    pub fn poll_wait(
        &mut self,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<io::Result<PipelineStatus>> {
        use std::future::Future;
        use std::task::Poll;
        let mut statuses = Vec::with_capacity(self.children.len());
        let mut pending = false;
        for c in &mut self.children {
            match c.poll_wait(cx) {
                Poll::Ready(Ok(status)) => statuses.push(status),
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Pending => pending = true,
            }
        }
        while let Some(relay) = self.relays.first_mut() {
            match std::pin::Pin::new(relay).poll(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(res) => {
                    self.relays.remove(0);
                    match res {
                        Ok(Ok(_)) => {}
                        Ok(Err(e)) => return Poll::Ready(Err(e)),
                        Err(e) => {
                            return Poll::Ready(Err(io::Error::other(format!("a tee relay failed: {e}"))))
                        }
                    }
                }
            }
        }
        if pending {
            return Poll::Pending;
        }
        Poll::Ready(Ok(PipelineStatus { statuses }))
    }

    /// Waits for every stage and reaps it, then for the relays of tee stages.
    ///
    /// # Errors
    /// The wait error of a stage (not expected for our own children); the error of a tee's
    /// relay (writing its file failed: the error names the file), after every stage was
    /// reaped.
    pub async fn wait(&mut self) -> io::Result<PipelineStatus> {
        self.stdout = None;
        let mut statuses = Vec::with_capacity(self.children.len());
        for c in &mut self.children {
            statuses.push(c.wait().await?);
        }
        self.finish_relays().await?;
        Ok(PipelineStatus { statuses })
    }

    /// Waits for the tee relays (they end when their stage's output does). Cancel-safe: a
    /// relay leaves the list only once it has finished, so a `wait` dropped here and called
    /// again still waits for (and reports) the others.
    async fn finish_relays(&mut self) -> io::Result<()> {
        let mut first_error = None;
        while let Some(relay) = self.relays.first_mut() {
            let res = relay.await.map_err(|e| io::Error::other(format!("a tee relay failed: {e}")));
            self.relays.remove(0);
            if let Err(e) | Ok(Err(e)) = res {
                first_error.get_or_insert(e);
            }
        }
        first_error.map_or(Ok(()), Err)
    }

    /// Waits for every stage while reading the captured stdout (see
    /// [`Pipeline::capture_stdout`]) concurrently; empty output if nothing was captured.
    ///
    /// # Errors
    /// Read or wait errors.
    pub async fn wait_with_output(mut self) -> io::Result<(PipelineStatus, Vec<u8>)> {
        for c in &mut self.children {
            c.stdin = None;
            c.stddati = None;
        }
        let mut readers = [(self.stdout.take(), Vec::new())];
        let children = &mut self.children;
        let mut next = 0;
        let mut statuses = Vec::with_capacity(children.len());
        let (_, _) = super::output::drain_while(&mut readers, self.wait_delay, |cx| {
            while next < children.len() {
                let st = std::task::ready!(children[next].poll_wait(cx))?;
                statuses.push(st);
                next += 1;
            }
            std::task::Poll::Ready(Ok(()))
        })
        .await?;
        let [(_, out)] = readers;
        self.finish_relays().await?;
        Ok((PipelineStatus { statuses }, out))
    }
}

impl fmt::Debug for PipelineChild {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PipelineChild")
            .field("pgid", &self.pgid)
            .field("stages", &self.children.len())
            .finish()
    }
}

/// A change in a pipeline's state, as [`PipelineChild::wait_change`] reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JobChange {
    /// Every stage exited and was reaped.
    Exited(PipelineStatus),
    /// A stage was stopped by this signal number.
    Stopped(i32),
    /// Every stopped stage was continued.
    Continued,
}

/// Every stage's exit status, and the pipeline's verdict.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PipelineStatus {
    statuses: Vec<ExitStatus>,
}

impl PipelineStatus {
    /// Builds a verdict from the stages' statuses, in order.
    pub fn from_statuses(statuses: Vec<ExitStatus>) -> PipelineStatus {
        PipelineStatus { statuses }
    }

    /// Every stage's status, in order.
    pub fn statuses(&self) -> &[ExitStatus] {
        &self.statuses
    }

    /// Per stage, whether it counts as failed (see the module docs).
    pub fn failures(&self) -> Vec<bool> {
        let n = self.statuses.len();
        let mut failed = vec![false; n];
        let mut reader_ok = true; // the last stage has no reader
        for i in (0..n).rev() {
            let st = &self.statuses[i];
            let forgiven = i + 1 < n && st.is_broken_pipe() && reader_ok;
            failed[i] = !st.success() && !forgiven;
            reader_ok = !failed[i];
        }
        failed
    }

    /// True when no stage failed (pipefail with the broken-pipe refinement).
    pub fn success(&self) -> bool {
        !self.failures().contains(&true)
    }

    /// The shell-style status: 0 on success, else the code of the rightmost failed stage
    /// (128 + signal for a stage killed by a signal).
    pub fn code(&self) -> i32 {
        let failures = self.failures();
        (0..self.statuses.len()).rev().find(|i| failures[*i]).map_or(0, |i| self.statuses[i].shell_code())
    }
}

impl fmt::Display for PipelineStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, s) in self.statuses.iter().enumerate() {
            if i > 0 {
                f.write_str(" | ")?;
            }
            write!(f, "{s}")?;
        }
        Ok(())
    }
}
