//! The interactive shell on a pseudo-terminal that is its controlling terminal (the shell
//! leads a new session, as under a terminal emulator):
//!
//! - `ash-prompt`: the time from before the spawn until the first prompt is on the terminal
//!   (zsh-bench's "first prompt lag"), for `ariash`, `bash --norc --noprofile -i` and
//!   `fish --no-config -i`, N runs after [`WARM_UP`] untimed ones; each shell then leaves on
//!   Ctrl-D. ariash gets an empty history file and `HOME` in a temporary directory; bash's
//!   prompt is set with `PS1`.
//! - `ash-idle`: ariash with N background `sleep 3600` jobs (started from one REPL line),
//!   then: the wake-ups of all its threads (voluntary and involuntary context switches, from
//!   /proc) and its CPU time over the window while the prompt is idle, and the latency of
//!   the notice of a finished job: from before `kill` of one job's `sleep` until
//!   `[n]  Done` is on the terminal, for 5 jobs one after the other. A thread that makes no
//!   system call and takes no timer is never switched in, so 0 wake-ups over the window
//!   means no system call and no timer at all.

use std::fs::File;
use std::io::{self, Read, Write};
use std::os::fd::{FromRawFd, OwnedFd};
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::{secs, Metrics, Params};
use crate::measure::quantile;
use crate::runtimes::{interpreter, unsupported, Runtime};

/// Untimed runs before the timed ones.
pub const WARM_UP: usize = 3;

/// How long any wait for the terminal may take before the measurement fails.
const GUARD: Duration = Duration::from_secs(30);

/// A shell on a pseudo-terminal; what it wrote is collected by a thread.
struct Pty {
    child: Child,
    master: File,
    output: Arc<Mutex<Vec<u8>>>,
}

fn openpty() -> io::Result<(OwnedFd, OwnedFd)> {
    let (mut master, mut slave) = (-1, -1);
    let size = libc::winsize { ws_row: 40, ws_col: 120, ws_xpixel: 0, ws_ypixel: 0 };
    // SAFETY: the out-pointers are valid; the name and termios may be null.
    let rc = unsafe { libc::openpty(&mut master, &mut slave, std::ptr::null_mut(), std::ptr::null(), &size) };
    if rc != 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: openpty returned two fresh descriptors owned by nobody else.
    Ok(unsafe { (OwnedFd::from_raw_fd(master), OwnedFd::from_raw_fd(slave)) })
}

impl Pty {
    /// Starts `cmd` on a new pseudo-terminal, as the leader of a new session whose
    /// controlling terminal it is.
    fn spawn(mut cmd: Command) -> io::Result<Pty> {
        let (master, slave) = openpty()?;
        cmd.stdin(Stdio::from(slave.try_clone()?))
            .stdout(Stdio::from(slave.try_clone()?))
            .stderr(Stdio::from(slave));
        // SAFETY: setsid and ioctl are async-signal-safe.
        unsafe {
            cmd.pre_exec(|| {
                if libc::setsid() < 0 || libc::ioctl(0, libc::TIOCSCTTY, 0) < 0 {
                    return Err(io::Error::last_os_error());
                }
                Ok(())
            });
        }
        let child = cmd.spawn()?;
        let master = File::from(master);
        let output = Arc::new(Mutex::new(Vec::new()));
        let (mut reader, mut answer, sink) = (master.try_clone()?, master.try_clone()?, Arc::clone(&output));
        std::thread::spawn(move || {
            let mut buf = [0u8; 8192];
            while let Ok(n) = reader.read(&mut buf) {
                if n == 0 {
                    break;
                }
                // A line editor may ask where the cursor is; answer as a terminal would.
                if buf[..n].windows(4).any(|w| w == b"\x1b[6n") {
                    let _ = answer.write_all(b"\x1b[1;1R");
                }
                sink.lock().unwrap_or_else(|e| e.into_inner()).extend_from_slice(&buf[..n]);
            }
        });
        Ok(Pty { child, master, output })
    }

    fn len(&self) -> usize {
        self.output.lock().unwrap_or_else(|e| e.into_inner()).len()
    }

    /// Waits until the output from byte `from` on contains `text`.
    fn wait_for(&self, from: usize, text: &str) -> io::Result<()> {
        let start = Instant::now();
        loop {
            {
                let out = self.output.lock().unwrap_or_else(|e| e.into_inner());
                if out.get(from..).is_some_and(|o| o.windows(text.len()).any(|w| w == text.as_bytes())) {
                    return Ok(());
                }
            }
            if start.elapsed() > GUARD {
                let out = self.output.lock().unwrap_or_else(|e| e.into_inner());
                return Err(io::Error::other(format!(
                    "the terminal never showed {text:?}; it shows {:?}",
                    String::from_utf8_lossy(&out[out.len().saturating_sub(300)..])
                )));
            }
            std::thread::sleep(Duration::from_micros(200));
        }
    }

    fn send(&mut self, keys: &str) -> io::Result<()> {
        self.master.write_all(keys.as_bytes())
    }

    /// Sends Ctrl-D and waits for the shell to exit (killing it after the guard).
    fn leave(mut self) -> io::Result<()> {
        self.send("\x04")?;
        let start = Instant::now();
        while self.child.try_wait()?.is_none() {
            if start.elapsed() > GUARD {
                let _ = self.child.kill();
                let _ = self.child.wait();
                return Err(io::Error::other("the shell did not leave on Ctrl-D"));
            }
            std::thread::sleep(Duration::from_millis(1));
        }
        Ok(())
    }
}

/// The interactive shell `rt` and the text its first prompt ends with.
fn shell(rt: Runtime, home: &std::path::Path) -> io::Result<(Command, &'static str)> {
    // Absolute: ariash runs in `home`, and `ARIASH` may be relative.
    let mut cmd = Command::new(std::fs::canonicalize(interpreter(rt)?)?);
    cmd.env("TERM", "xterm").env("HOME", home);
    let prompt = match rt {
        Runtime::Ariash => {
            cmd.env("ARIASH_HISTORY", home.join("history")).current_dir(home);
            "> "
        }
        Runtime::Bash => {
            cmd.args(["--norc", "--noprofile", "-i"]).env("PS1", "ready> ");
            "ready> "
        }
        Runtime::Fish => {
            cmd.args(["--no-config", "-i"]);
            "> "
        }
        _ => return Err(unsupported("ash-prompt", rt)),
    };
    Ok((cmd, prompt))
}

/// Runs `ash-prompt`.
///
/// # Errors
/// The shell is missing, or a run failed.
pub fn run_prompt(rt: Runtime, p: &Params) -> io::Result<Metrics> {
    let home = p.dir.join(format!("ash-prompt-{}", rt.name()));
    std::fs::create_dir_all(&home)?;
    let n = p.size.max(1) as usize;
    let mut ms = Vec::new();
    for i in 0..WARM_UP + n {
        let (cmd, prompt) = shell(rt, &home)?;
        let t0 = Instant::now();
        let pty = Pty::spawn(cmd)?;
        pty.wait_for(0, prompt)?;
        let took = t0.elapsed();
        pty.leave()?;
        if i >= WARM_UP {
            ms.push(secs(took) * 1e3);
        }
    }
    ms.sort_by(f64::total_cmp);
    Ok(vec![("p50_ms", quantile(&ms, 0.5)), ("p90_ms", quantile(&ms, 0.9)), ("min_ms", ms[0])])
}

/// The context switches of every thread of `pid` and its CPU time (user plus system).
fn wakeups_and_cpu(pid: u32) -> io::Result<(u64, Duration)> {
    let mut switches = 0;
    for task in std::fs::read_dir(format!("/proc/{pid}/task"))? {
        let status = std::fs::read_to_string(task?.path().join("status"))?;
        for line in status.lines() {
            if let Some(v) = line
                .strip_prefix("voluntary_ctxt_switches:")
                .or_else(|| line.strip_prefix("nonvoluntary_ctxt_switches:"))
            {
                switches += v.trim().parse::<u64>().unwrap_or(0);
            }
        }
    }
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    let fields: Vec<&str> = stat.rsplit(')').next().unwrap_or("").split_whitespace().collect();
    let ticks: u64 = fields.get(11..13).map_or(0, |f| f.iter().filter_map(|t| t.parse::<u64>().ok()).sum());
    // SAFETY: sysconf has no preconditions.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as u64;
    Ok((switches, Duration::from_millis(ticks * 1000 / hz)))
}

/// The children of `pid` (the jobs' process group leaders: each `sleep`), from the parent
/// field of every /proc/N/stat.
fn children(pid: u32) -> io::Result<Vec<i32>> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir("/proc")? {
        let Ok(n) = entry?.file_name().to_string_lossy().parse::<i32>() else { continue };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{n}/stat")) else { continue };
        let ppid = stat.rsplit(')').next().unwrap_or("").split_whitespace().nth(1);
        if ppid.and_then(|p| p.parse::<u32>().ok()) == Some(pid) {
            out.push(n);
        }
    }
    Ok(out)
}

/// Runs `ash-idle`.
///
/// # Errors
/// ariash is missing, or the REPL did not behave.
pub fn run_idle(rt: Runtime, p: &Params) -> io::Result<Metrics> {
    if rt != Runtime::Ariash {
        return Err(unsupported("ash-idle", rt));
    }
    let home = p.dir.join("ash-idle");
    std::fs::create_dir_all(&home)?;
    let (cmd, prompt) = shell(rt, &home)?;
    let mut pty = Pty::spawn(cmd)?;
    pty.wait_for(0, prompt)?;
    let n = p.size.max(6);
    let from = pty.len();
    pty.send(&format!("int:k = 0; while (k < {n}) {{ `sleep 3600` &; k = k + 1; }}\r"))?;
    pty.wait_for(from, &format!("({n} jobs)> "))?;
    let pid = pty.child.id();
    // Let the echo of the last notices and the prompt settle before the window opens.
    std::thread::sleep(Duration::from_millis(200));
    let (w0, c0) = wakeups_and_cpu(pid)?;
    std::thread::sleep(p.window);
    let (w1, c1) = wakeups_and_cpu(pid)?;
    let mut notice = Vec::new();
    for sleeper in children(pid)?.into_iter().take(5) {
        let from = pty.len();
        let t0 = Instant::now();
        // SAFETY: kill takes plain integers; `sleeper` is a child of the REPL, not reaped
        // while it runs.
        unsafe { libc::kill(sleeper, libc::SIGTERM) };
        pty.wait_for(from, "Done")?;
        notice.push(secs(t0.elapsed()) * 1e3);
    }
    notice.sort_by(f64::total_cmp);
    pty.leave()?;
    Ok(vec![
        ("wakeups", (w1 - w0) as f64),
        ("cpu_ms", secs(c1.saturating_sub(c0)) * 1e3),
        ("notice_p50_ms", quantile(&notice, 0.5)),
        ("notice_max_ms", notice.last().copied().unwrap_or(0.0)),
        ("window_s", secs(p.window)),
    ])
}
