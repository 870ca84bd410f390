//! What the ash scenarios (`ash-loop`, `ash-spawn`, `ash-startup`) share: running a script
//! text as a whole process of its interpreter (`PROGRAM -c SCRIPT`) and timing it from this
//! process, as a user of the shell would wait for it.

use std::io;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::measure::children_cpu_time;
use crate::runtimes::{interpreter, script_only, unsupported, Runtime};

/// One run of a script: wall time from before the spawn until the wait returned, the CPU
/// time of the interpreter and its children (getrusage(RUSAGE_CHILDREN)), and its stdout.
#[derive(Debug)]
pub struct Run {
    /// Spawn to reaped.
    pub wall: Duration,
    /// User plus system CPU of the interpreter and every process it waited for.
    pub cpu: Duration,
    /// What the script printed.
    pub stdout: String,
}

/// A command running `script` with `rt`'s interpreter: `-c SCRIPT` for every one of them.
///
/// # Errors
/// The interpreter is not installed (or ariash not built), or `rt` is not one.
pub fn command(rt: Runtime, script: &str) -> io::Result<Command> {
    match rt {
        Runtime::Bash | script_only!() => {
            let mut cmd = Command::new(interpreter(rt)?);
            cmd.args(["-c", script]).stdin(Stdio::null());
            Ok(cmd)
        }
        _ => Err(unsupported("ash", rt)),
    }
}

/// Runs `cmd` to completion, collecting its stdout and stderr when `capture` (otherwise both
/// go to /dev/null, so a start-up time includes no pipe), and fails unless it exits with
/// status 0.
///
/// # Errors
/// The spawn or wait failed, or the script did not succeed.
pub fn run(cmd: &mut Command, capture: bool) -> io::Result<Run> {
    let io = || if capture { Stdio::piped() } else { Stdio::null() };
    cmd.stdout(io()).stderr(io());
    let c0 = children_cpu_time();
    let t0 = Instant::now();
    let out = cmd.output()?;
    let wall = t0.elapsed();
    let cpu = children_cpu_time() - c0;
    if !out.status.success() {
        let program = cmd.get_program().to_string_lossy().into_owned();
        return Err(io::Error::other(format!(
            "{program} failed: {}: {}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    Ok(Run { wall, cpu, stdout: String::from_utf8_lossy(&out.stdout).trim().to_string() })
}

/// Fails unless the script printed `want`.
///
/// # Errors
/// The output differs.
pub fn expect(rt: Runtime, run: &Run, want: &str) -> io::Result<()> {
    if run.stdout == want {
        Ok(())
    } else {
        Err(io::Error::other(format!("{rt} printed {:?}, expected {want:?}", run.stdout)))
    }
}
