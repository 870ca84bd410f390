//! `pipeline`: two pipelines, run through aria-io's `Pipeline`, wired by hand with tokio and
//! with std, and by `bash -c`. Reports wall seconds (and MiB/s through the first pipe).
//!
//! - `text` (default): `bench-writer text N | tr a-z A-Z | grep -v QQQ | wc -l`.
//! - `data`: `bench-writer emit 5 N |* bench-writer sink 4`, the data plane: stage 1 writes
//!   to fd 5, stage 2 reads fd 4 (by hand: a pipe `dup2`ed onto 5 and 4 in `pre_exec`;
//!   bash: `emit 5 N 5>&1 >/dev/null | sink 4 4<&0`).
//!
//! The last stage's stdout is collected and checked (the line count, or the byte count).

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use super::{mib, secs, variant, Metrics, Params};
use crate::runtimes::{self, aria_rt, echo_only, script_only, unsupported, writer_path, Runtime};

/// Runs the scenario.
///
/// # Errors
/// A spawn or wait error, a failed stage, or a wrong result.
pub fn run(rt: Runtime, p: &Params) -> io::Result<Metrics> {
    let w = writer_path()?;
    let n = p.size;
    let data = match variant(p, "text") {
        "text" => false,
        "data" => true,
        v => return Err(io::Error::new(io::ErrorKind::InvalidInput, format!("pipeline variant `{v}`"))),
    };
    let (wall, out) = match (rt, data) {
        (aria_rt!(), false) => runtimes::aria(rt, aria_text(&w, n))??,
        (aria_rt!(), true) => runtimes::aria(rt, aria_data(&w, n))??,
        (Runtime::Tokio | Runtime::TokioCt, false) => {
            runtimes::tokio(runtimes::tokio_flavor(rt), tokio_text(&w, n))??
        }
        (Runtime::Tokio | Runtime::TokioCt, true) => {
            runtimes::tokio(runtimes::tokio_flavor(rt), tokio_data(&w, n))??
        }
        (Runtime::Std, false) => std_text(&w, n)?,
        (Runtime::Std, true) => std_data(&w, n)?,
        (Runtime::Bash, _) => bash(&w, n, data)?,
        (Runtime::AsyncProcess | echo_only!() | script_only!(), _) => {
            return Err(unsupported("pipeline", rt))
        }
    };
    let count: u64 = String::from_utf8_lossy(&out)
        .trim()
        .parse()
        .map_err(|_| io::Error::other(format!("pipeline printed {:?}", String::from_utf8_lossy(&out))))?;
    if (data && count != n) || (!data && count == 0) {
        return Err(io::Error::other(format!("pipeline result {count} is wrong for {n} bytes")));
    }
    Ok(vec![("wall_s", secs(wall)), ("mib_per_s", mib(n) / secs(wall))])
}

type Outcome = (Duration, Vec<u8>);

fn ok(success: bool, what: &dyn std::fmt::Display) -> io::Result<()> {
    super::check_status(success, "pipeline", what)
}

async fn aria_text(w: &Path, n: u64) -> io::Result<Outcome> {
    use aria_io::process::{Command, Pipeline};
    let t0 = Instant::now();
    let mut gen = Command::new(w);
    gen.args(["text", &n.to_string()]);
    let mut tr = Command::new("tr");
    tr.args(["a-z", "A-Z"]);
    let mut grep = Command::new("grep");
    grep.args(["-v", "QQQ"]);
    let mut wc = Command::new("wc");
    wc.arg("-l");
    let (st, out) = Pipeline::new(gen).pipe(tr).pipe(grep).pipe(wc).output().await?;
    ok(st.success(), &st)?;
    Ok((t0.elapsed(), out))
}

async fn aria_data(w: &Path, n: u64) -> io::Result<Outcome> {
    use aria_io::process::{Command, Pipeline};
    let t0 = Instant::now();
    let mut emit = Command::new(w);
    emit.args(["emit", "5", &n.to_string()]);
    let mut sink = Command::new(w);
    sink.args(["sink", "4"]);
    let (st, out) = Pipeline::new(emit).pipe_data(sink).output().await?;
    ok(st.success(), &st)?;
    Ok((t0.elapsed(), out))
}

fn text_stages(w: &Path, n: u64) -> [(String, Vec<String>); 4] {
    let s = |a: &[&str]| a.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    [
        (w.display().to_string(), s(&["text", &n.to_string()])),
        ("tr".into(), s(&["a-z", "A-Z"])),
        ("grep".into(), s(&["-v", "QQQ"])),
        ("wc".into(), s(&["-l"])),
    ]
}

/// A close-on-exec pipe: (read end, write end).
fn os_pipe() -> io::Result<(OwnedFd, OwnedFd)> {
    let mut fds = [0 as libc::c_int; 2];
    // SAFETY: `fds` is a valid array of two ints.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: pipe2 returned two fresh descriptors owned by nobody else.
    Ok(unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) })
}

/// The `pre_exec` hook that puts `fd` on `target` in the child (dup2 clears close-on-exec).
fn dup_onto(fd: RawFd, target: RawFd) -> impl FnMut() -> io::Result<()> + Send + Sync + 'static {
    move || {
        // SAFETY: dup2 is async-signal-safe and takes plain descriptor numbers.
        if unsafe { libc::dup2(fd, target) } < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    }
}

async fn tokio_text(w: &Path, n: u64) -> io::Result<Outcome> {
    use tokio::process::Command;
    let t0 = Instant::now();
    let mut children = Vec::new();
    let mut prev: Option<Stdio> = None;
    for (i, (prog, args)) in text_stages(w, n).into_iter().enumerate() {
        let mut cmd = Command::new(prog);
        cmd.args(args).stdout(Stdio::piped());
        if let Some(input) = prev.take() {
            cmd.stdin(input);
        }
        let mut child = cmd.spawn()?;
        if i < 3 {
            let out = child.stdout.take().ok_or_else(|| io::Error::other("no stdout"))?;
            prev = Some(out.try_into()?);
        }
        children.push(child);
    }
    let last = children.pop().ok_or_else(|| io::Error::other("no stage"))?;
    let o = last.wait_with_output().await?;
    ok(o.status.success(), &o.status)?;
    for mut c in children {
        let st = c.wait().await?;
        ok(st.success(), &st)?;
    }
    Ok((t0.elapsed(), o.stdout))
}

async fn tokio_data(w: &Path, n: u64) -> io::Result<Outcome> {
    use tokio::process::Command;
    let t0 = Instant::now();
    let (r, wr) = os_pipe()?;
    let mut emit = Command::new(w);
    emit.args(["emit", "5", &n.to_string()]);
    // SAFETY: the hook only calls dup2, which is async-signal-safe.
    unsafe { emit.pre_exec(dup_onto(wr.as_raw_fd(), 5)) };
    let mut sink = Command::new(w);
    sink.args(["sink", "4"]).stdout(Stdio::piped());
    // SAFETY: as above.
    unsafe { sink.pre_exec(dup_onto(r.as_raw_fd(), 4)) };
    let mut emit = emit.spawn()?;
    let sink = sink.spawn()?;
    drop((r, wr));
    let o = sink.wait_with_output().await?;
    ok(o.status.success(), &o.status)?;
    let st = emit.wait().await?;
    ok(st.success(), &st)?;
    Ok((t0.elapsed(), o.stdout))
}

fn std_text(w: &Path, n: u64) -> io::Result<Outcome> {
    use std::process::Command;
    let t0 = Instant::now();
    let mut children = Vec::new();
    let mut prev: Option<Stdio> = None;
    for (i, (prog, args)) in text_stages(w, n).into_iter().enumerate() {
        let mut cmd = Command::new(prog);
        cmd.args(args).stdout(Stdio::piped());
        if let Some(input) = prev.take() {
            cmd.stdin(input);
        }
        let mut child = cmd.spawn()?;
        if i < 3 {
            let out = child.stdout.take().ok_or_else(|| io::Error::other("no stdout"))?;
            prev = Some(out.into());
        }
        children.push(child);
    }
    let last = children.pop().ok_or_else(|| io::Error::other("no stage"))?;
    let o = last.wait_with_output()?;
    ok(o.status.success(), &o.status)?;
    for mut c in children {
        let st = c.wait()?;
        ok(st.success(), &st)?;
    }
    Ok((t0.elapsed(), o.stdout))
}

fn std_data(w: &Path, n: u64) -> io::Result<Outcome> {
    use std::os::unix::process::CommandExt;
    use std::process::Command;
    let t0 = Instant::now();
    let (r, wr) = os_pipe()?;
    let mut emit = Command::new(w);
    emit.args(["emit", "5", &n.to_string()]);
    // SAFETY: the hook only calls dup2, which is async-signal-safe.
    unsafe { emit.pre_exec(dup_onto(wr.as_raw_fd(), 5)) };
    let mut sink = Command::new(w);
    sink.args(["sink", "4"]).stdout(Stdio::piped());
    // SAFETY: as above.
    unsafe { sink.pre_exec(dup_onto(r.as_raw_fd(), 4)) };
    let mut emit = emit.spawn()?;
    let sink = sink.spawn()?;
    drop((r, wr));
    let o = sink.wait_with_output()?;
    ok(o.status.success(), &o.status)?;
    let st = emit.wait()?;
    ok(st.success(), &st)?;
    Ok((t0.elapsed(), o.stdout))
}

fn bash(w: &Path, n: u64, data: bool) -> io::Result<Outcome> {
    let w = format!("'{}'", w.display().to_string().replace('\'', r"'\''"));
    let script = if data {
        format!("{w} emit 5 {n} 5>&1 >/dev/null | {w} sink 4 4<&0")
    } else {
        format!("{w} text {n} | tr a-z A-Z | grep -v QQQ | wc -l")
    };
    let t0 = Instant::now();
    let o = std::process::Command::new("bash").args(["-c", &script]).output()?;
    ok(o.status.success(), &o.status)?;
    Ok((t0.elapsed(), o.stdout))
}
