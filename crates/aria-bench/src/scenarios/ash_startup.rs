//! `ash-startup`: the start-up time of a shell: `ariash -c 'exit(0);'` against
//! `bash -c 'exit 0'`, `dash -c 'exit 0'`, `fish -c 'exit 0'` and `python3 -c 'pass'`, N runs
//! in a row after [`WARM_UP`] untimed ones, stdin, stdout and stderr on /dev/null. Each run is
//! timed from before the spawn until its wait returned (this process's spawn and wait
//! included, the same for every row). Reports the median, p90 and minimum in milliseconds,
//! and the CPU time per run (the interpreter's user plus system).
//!
//! The variant `uring` runs ariash with `ARIA_IO_BACKEND=uring` (ariash runs scripts on epoll
//! unless told otherwise), which shows what io_uring's set-up would add.

use std::io;

use super::shell;
use super::{secs, variant, Metrics, Params};
use crate::measure::quantile;
use crate::runtimes::{unsupported, Runtime};

/// Untimed runs before the timed ones (page cache, dynamic loader caches).
pub const WARM_UP: usize = 3;

/// The script that exits at once with status 0, in `rt`'s language.
///
/// # Errors
/// `rt` is not a script interpreter.
pub fn script(rt: Runtime) -> io::Result<&'static str> {
    Ok(match rt {
        Runtime::Ariash => "exit(0);",
        Runtime::Bash | Runtime::Dash | Runtime::Fish => "exit 0",
        Runtime::Python3 => "pass",
        _ => return Err(unsupported("ash-startup", rt)),
    })
}

/// Runs the scenario.
///
/// # Errors
/// The interpreter is missing, an unknown variant, or a run failed.
pub fn run(rt: Runtime, p: &Params) -> io::Result<Metrics> {
    let mut cmd = shell::command(rt, script(rt)?)?;
    match (rt, variant(p, "default")) {
        (_, "default") => {}
        (Runtime::Ariash, "uring") => {
            cmd.env("ARIA_IO_BACKEND", "uring");
        }
        (_, v) => {
            return Err(io::Error::new(io::ErrorKind::InvalidInput, format!("ash-startup variant `{v}`")))
        }
    }
    for _ in 0..WARM_UP {
        shell::run(&mut cmd, false)?;
    }
    let n = p.size.max(1);
    let mut ms = Vec::new();
    let mut cpu = 0.0;
    for _ in 0..n {
        let r = shell::run(&mut cmd, false)?;
        ms.push(secs(r.wall) * 1e3);
        cpu += secs(r.cpu);
    }
    ms.sort_by(f64::total_cmp);
    Ok(vec![
        ("p50_ms", quantile(&ms, 0.5)),
        ("p90_ms", quantile(&ms, 0.9)),
        ("min_ms", ms[0]),
        ("cpu_ms", cpu * 1e3 / n as f64),
    ])
}
