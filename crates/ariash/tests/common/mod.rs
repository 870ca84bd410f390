//! Helpers shared by the ariash integration tests: run the binary in a temp dir with a hang
//! guard and collect its status and output.
#![allow(dead_code)]

pub mod pty;

use std::io::Read;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// How long any ariash run may take before the test is declared hung. A guard, not an
/// assertion about speed.
pub const HANG_GUARD: Duration = Duration::from_secs(60);

/// The name test scripts are written under, as diagnostics will show it.
pub const SCRIPT: &str = "script.ariash";

/// The outcome of one ariash run.
#[derive(Debug)]
pub struct Run {
    /// Exit code, or 128 + signal if ariash itself was killed by a signal.
    pub status: i32,
    pub stdout: String,
    pub stderr: String,
}

/// A command for the ariash binary, running in `dir`.
pub fn ariash(dir: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_ariash"));
    cmd.current_dir(dir)
        .env_remove("NO_COLOR")
        .env("ARIASH_KILL_GRACE_MS", "300")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    cmd
}

/// Waits for a spawned ariash with the hang guard, collecting its output.
pub fn finish(mut child: Child) -> Run {
    let pid = child.id() as i32;
    // The caller may have taken stdout to read it itself.
    let mut out = child.stdout.take();
    let mut err = child.stderr.take().expect("stderr piped");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut stdout = String::new();
        let mut stderr = String::new();
        let t = std::thread::spawn(move || {
            let _ = err.read_to_string(&mut stderr);
            stderr
        });
        if let Some(out) = out.as_mut() {
            let _ = out.read_to_string(&mut stdout);
        }
        let stderr = t.join().unwrap_or_default();
        let status = child.wait().expect("wait for ariash");
        let _ = tx.send((status, stdout, stderr));
    });
    let Ok((status, stdout, stderr)) = rx.recv_timeout(HANG_GUARD) else {
        // SAFETY: sending a signal to the pid of our own unreaped child.
        unsafe { libc::kill(pid, libc::SIGKILL) };
        panic!("ariash did not finish within {HANG_GUARD:?}");
    };
    use std::os::unix::process::ExitStatusExt;
    let status = status.code().or_else(|| status.signal().map(|s| 128 + s)).expect("exit code or signal");
    Run { status, stdout, stderr }
}

/// Runs `text` as a script file named [`SCRIPT`] in `dir`, with `args`.
pub fn run_script_with(dir: &Path, text: &str, args: &[&str]) -> Run {
    std::fs::write(dir.join(SCRIPT), text).expect("write script");
    let child = ariash(dir).arg(SCRIPT).args(args).spawn().expect("spawn ariash");
    finish(child)
}

/// Runs `text` as a script file named [`SCRIPT`] in `dir`.
pub fn run_script(dir: &Path, text: &str) -> Run {
    run_script_with(dir, text, &[])
}

/// Runs `ariash -c text` in `dir`.
pub fn run_c(dir: &Path, text: &str) -> Run {
    let child = ariash(dir).arg("-c").arg(text).spawn().expect("spawn ariash");
    finish(child)
}

/// A fresh temporary directory for one test.
pub fn tempdir() -> tempfile::TempDir {
    tempfile::tempdir().expect("create temp dir")
}

/// Reads a file the script wrote.
pub fn read(dir: &Path, name: &str) -> String {
    std::fs::read_to_string(dir.join(name)).unwrap_or_else(|e| panic!("read {name}: {e}"))
}
