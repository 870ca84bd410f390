//! Spawning through `std::process::Command`, for a [`Command`] holding a
//! `std::process::Stdio` (see `From<std::process::Stdio> for Stdio`).
//!
//! std's `Stdio` cannot be inspected (`null()` and `inherit()` look the same from outside),
//! so the only faithful way to honour one is to let std apply it. The rest of the command is
//! carried over, the child is adopted like any other (pidfd_open(2) right after the spawn:
//! nothing reaps it in between), and its piped streams are registered with the runtime.

use std::ffi::{CStr, OsStr};
use std::io;
use std::os::fd::{AsFd, OwnedFd, RawFd};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::process::CommandExt;

use super::command::STREAMS;
use super::stdio::{Inner, Stdio};
use super::{Child, ChildStreams, Command};
use crate::io::{PipeReader, PipeWriter};
use crate::sys;

fn unsupported(what: &str) -> io::Error {
    io::Error::new(
        io::ErrorKind::Unsupported,
        format!("{what} cannot be combined with a std::process::Stdio; use aria_io::process::Stdio"),
    )
}

/// One of streams 0-2 as std's `Stdio`.
fn std_stdio(target: usize, cfg: Stdio) -> io::Result<std::process::Stdio> {
    Ok(match cfg.0 {
        Inner::Std(s) => s,
        Inner::Inherit if sys::is_inheritable_open(target as RawFd) => std::process::Stdio::inherit(),
        Inner::Inherit | Inner::Null => std::process::Stdio::null(),
        Inner::Piped => std::process::Stdio::piped(),
        Inner::Fd(fd) => fd.into(),
        Inner::Reader(r) => r.into_owned_fd()?.into(),
        Inner::Writer(w) => w.into_owned_fd()?.into(),
        Inner::File(f) => sys::dup_at_least(f.as_fd(), 0)?.into(),
    })
}

/// Spawns `cmd` (whose program resolved to `path`) with `std::process::Command`.
pub(super) fn spawn(cmd: &mut Command, path: &CStr) -> io::Result<Child> {
    if cmd.groups.is_some() {
        return Err(unsupported("`groups`"));
    }
    if cmd.new_session {
        return Err(unsupported("`new_session`"));
    }
    let mut std_cmd = std::process::Command::new(OsStr::from_bytes(path.to_bytes()));
    std_cmd.arg0(cmd.arg0.as_ref().unwrap_or(&cmd.program)).args(&cmd.args);
    if cmd.env_clear {
        std_cmd.env_clear();
    }
    for (k, v) in &cmd.env {
        match v {
            Some(v) => std_cmd.env(k, v),
            None => std_cmd.env_remove(k),
        };
    }
    if let Some(dir) = &cmd.cwd {
        std_cmd.current_dir(dir);
    }
    if let Some(uid) = cmd.uid {
        std_cmd.uid(uid);
    }
    if let Some(gid) = cmd.gid {
        std_cmd.gid(gid);
    }
    if let Some(pgid) = cmd.process_group {
        std_cmd.process_group(pgid);
    }
    for target in 0..STREAMS {
        let cfg = cmd.stdio[target].take().unwrap_or_else(Stdio::inherit);
        cmd.stdio[target] = cfg.reusable();
        match target {
            0 => std_cmd.stdin(std_stdio(0, cfg)?),
            1 => std_cmd.stdout(std_stdio(1, cfg)?),
            2 => std_cmd.stderr(std_stdio(2, cfg)?),
            // std leaves descriptors 3-5 as they are in the parent, which is what an
            // inherited stream is (when the parent has them open).
            _ if matches!(cfg.0, Inner::Inherit) => continue,
            _ => return Err(unsupported("a stream 3-5 that is not inherited")),
        };
    }
    let mut child = std_cmd.spawn()?;
    let pid = child.id() as libc::pid_t;
    let pidfd = match sys::process_fd(pid) {
        Ok(fd) => fd,
        Err(e) => {
            let _ = child.kill();
            let _ = child.wait();
            return Err(e);
        }
    };
    let streams = (|| {
        Ok::<_, io::Error>(ChildStreams {
            stdin: child.stdin.take().map(|p| PipeWriter::from_new_pipe(OwnedFd::from(p))).transpose()?,
            stdout: child.stdout.take().map(|p| PipeReader::from_new_pipe(OwnedFd::from(p))).transpose()?,
            stderr: child.stderr.take().map(|p| PipeReader::from_new_pipe(OwnedFd::from(p))).transpose()?,
            ..ChildStreams::default()
        })
    })();
    let streams = match streams {
        Ok(s) => s,
        Err(e) => {
            sys::kill_and_reap(pid);
            return Err(e);
        }
    };
    let pgid = cmd.process_group.map(|g| if g == 0 { pid } else { g });
    // `child` (std's handle) is dropped without waiting: std neither kills nor reaps.
    Child::new(pid, pidfd, pgid, cmd.kill_on_drop, cmd.wait_delay, None, streams)
}
