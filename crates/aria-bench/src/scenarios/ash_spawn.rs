//! `ash-spawn`: N sequential runs of `true` from a script loop, each waited for before the
//! next starts: ariash's `run("true");` against the external `/bin/true` in bash, dash and
//! fish (never their builtin `true`). One run of the script per measurement; reports spawns
//! per second, microseconds per spawn (the loop's own cost included), and the CPU time of the
//! interpreter and its children per spawn.
//!
//! ```text
//! ariash   int:i = 0; while (i < N) { run("true"); i = i + 1; }
//! bash     i=0; while ((i < N)); do /bin/true; ((i++)); done
//! dash     i=0; while [ $i -lt N ]; do /bin/true; i=$((i + 1)); done
//! fish     for i in (seq N); /bin/true; end
//! ```

use std::io;

use super::shell;
use super::{secs, Metrics, Params};
use crate::runtimes::{unsupported, Runtime};

/// The loop of `n` spawns in `rt`'s language.
///
/// # Errors
/// `rt` is not a shell.
pub fn script(rt: Runtime, n: u64) -> io::Result<String> {
    Ok(match rt {
        Runtime::Ariash => format!("int:i = 0; while (i < {n}) {{ run(\"true\"); i = i + 1; }}"),
        Runtime::Bash => format!("i=0; while ((i < {n})); do /bin/true; ((i++)); done"),
        Runtime::Dash => format!("i=0; while [ $i -lt {n} ]; do /bin/true; i=$((i + 1)); done"),
        Runtime::Fish => format!("for i in (seq {n}); /bin/true; end"),
        _ => return Err(unsupported("ash-spawn", rt)),
    })
}

/// Runs the scenario.
///
/// # Errors
/// The shell is missing, or the run failed.
pub fn run(rt: Runtime, p: &Params) -> io::Result<Metrics> {
    let n = p.size;
    let mut cmd = shell::command(rt, &script(rt, n)?)?;
    let r = shell::run(&mut cmd, true)?;
    let wall = secs(r.wall);
    Ok(vec![
        ("spawns_per_s", n as f64 / wall),
        ("us_per_spawn", wall * 1e6 / n as f64),
        ("cpu_per_spawn_us", secs(r.cpu) * 1e6 / n as f64),
        ("wall_s", wall),
    ])
}
