//! A persistent interpreter session for the REPL: each line is a small script run against the
//! variables, functions, environment changes and background jobs the previous lines left.
//!
//! The interpreter itself is unchanged: [`Session::run_line`] builds an [`Interp`] per line
//! and moves the kept state into it and back out afterwards.

use std::cell::Cell;
use std::collections::BTreeMap;
use std::ffi::OsString;
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

use super::{Flow, Interp, JobCell, JobControl, Scope};
use crate::ast::{FuncDef, Stmt, StmtKind};
use crate::diag::Source;
use crate::signals::Groups;

/// What a line left: how the REPL goes on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LineEnd {
    /// The line ran (or failed at run time); the status to show in the prompt.
    Status(i32),
    /// `exit(n)` (or a terminating signal): the REPL ends with this status.
    Exit(i32),
}

/// The state kept between lines.
pub(crate) struct Session {
    scopes: Vec<Scope>,
    funcs: Rc<rustc_hash::FxHashMap<String, Arc<FuncDef>>>,
    status: i32,
    /// The job table: background jobs and stopped ones, in start order.
    pub(super) jobs: Vec<Rc<JobCell>>,
    env: BTreeMap<OsString, Option<OsString>>,
    next_job: Rc<Cell<usize>>,
    pub(super) groups: Arc<Groups>,
    grace: Duration,
    pub(super) jc: Option<Rc<JobControl>>,
}

impl Session {
    /// An empty session: no variables but the predeclared ones (`args` is empty), with job
    /// control if `jc` is given.
    pub(crate) fn new(groups: Arc<Groups>, grace: Duration, jc: Option<JobControl>) -> Session {
        let source = Source::new("<repl>", "");
        let fresh = Interp::new(&source, Vec::new(), Arc::clone(&groups), grace);
        Session {
            scopes: fresh.scopes,
            funcs: fresh.funcs,
            status: 0,
            jobs: Vec::new(),
            env: BTreeMap::new(),
            next_job: fresh.next_job,
            groups,
            grace,
            jc: jc.map(Rc::new),
        }
    }

    /// Sets the last status (after a job-control command).
    pub(crate) fn set_status(&mut self, status: i32) {
        self.status = status;
    }

    /// How many background jobs were started and not yet waited for.
    pub(crate) fn jobs(&self) -> usize {
        self.jobs.iter().filter(|j| j.finished().is_none()).count()
    }

    /// Whether `name` is a variable of the session.
    pub(crate) fn has_var(&self, name: &str) -> bool {
        self.scopes.iter().any(|s| s.contains_key(name))
    }

    /// Whether `name` is a function of the session.
    pub(crate) fn has_func(&self, name: &str) -> bool {
        self.funcs.contains_key(name)
    }

    /// The session's variable and function names, for completion.
    pub(crate) fn names(&self) -> Vec<String> {
        let vars = self.scopes.iter().flat_map(|s| s.keys().cloned());
        vars.chain(self.funcs.keys().cloned()).collect()
    }

    /// Runs `stmts` (checked, with spans into `source`) in the session. A runtime error is
    /// printed as in scripts and sets the status to 1. An interrupted line (Ctrl-C, or a job
    /// stopped with Ctrl-Z) ends with status 128 + signal; the jobs stay for the REPL to
    /// decide about, even on `exit`.
    pub(crate) async fn run_line(&mut self, source: &Source, stmts: &[Stmt]) -> LineEnd {
        self.groups.clear_interrupt();
        // Job numbers are reused once their jobs are gone, as in other shells.
        self.next_job.set(self.jobs.iter().map(|j| j.id).max().unwrap_or(0) + 1);
        let mut interp = Interp::new(source, Vec::new(), Arc::clone(&self.groups), self.grace);
        interp.jc = self.jc.clone();
        let marker = 0u8;
        interp.stack_base = std::ptr::addr_of!(marker) as usize;
        let mut funcs = (*self.funcs).clone();
        for stmt in stmts {
            if let StmtKind::Func(f) = &stmt.kind {
                funcs.insert(f.name.name.clone(), Arc::clone(f));
            }
        }
        interp.funcs = Rc::new(funcs);
        interp.scopes = std::mem::take(&mut self.scopes);
        interp.status = self.status;
        interp.jobs = std::mem::take(&mut self.jobs);
        interp.env = std::mem::take(&mut self.env);
        interp.next_job = Rc::clone(&self.next_job);
        let flow = interp.stmts(stmts).await;
        // A function's frame may be left on an error: keep the predeclared and top-level ones.
        interp.scopes.truncate(2);
        let end = match flow {
            Ok(()) | Err(Flow::Break | Flow::Continue | Flow::Return(_)) => LineEnd::Status(interp.status),
            Err(Flow::Exit(code)) if interp.exit_called => LineEnd::Exit(code),
            // A failed `?` pipeline (reported already) or a closed stdout ends the line.
            Err(Flow::Exit(code)) => {
                interp.status = code;
                LineEnd::Status(code)
            }
            Err(Flow::Error(diag)) => {
                crate::diag::eprint_text(&diag.render(source));
                interp.status = 1;
                LineEnd::Status(1)
            }
            Err(Flow::Signal(signo)) if self.groups.terminating().is_some() => LineEnd::Exit(128 + signo),
            Err(Flow::Signal(signo)) => {
                interp.status = 128 + signo;
                LineEnd::Status(128 + signo)
            }
        };
        self.scopes = std::mem::take(&mut interp.scopes);
        self.funcs = Rc::clone(&interp.funcs);
        self.status = interp.status;
        self.jobs = std::mem::take(&mut interp.jobs);
        self.env = std::mem::take(&mut interp.env);
        end
    }

    /// Ends the session when the REPL leaves: every job not disowned is hung up (`SIGHUP`,
    /// then `SIGCONT` so a stopped one sees it), as the terminal closing would, and the
    /// terminal is put back as it was. Jobs that ignore the hang-up keep running.
    pub(crate) fn finish(&mut self) {
        self.groups.hang_up();
        self.jobs.clear();
        if let Some(jc) = &self.jc {
            jc.finish();
        }
    }
}
