//! `ash-loop`: an N-iteration integer loop summing 0..N, written in ariash, bash, dash, fish
//! and python3, each run as a whole process (`-c SCRIPT`) [`REPS`] times in a row. Reports
//! the median wall time of a run, iterations per second and nanoseconds per iteration over
//! it (start-up included: a few milliseconds against seconds), and the median CPU time of a
//! run. The printed sum is checked.
//!
//! The scripts, for N = 1,000,000 (issue 12's forms for ariash and bash):
//!
//! ```text
//! ariash   int:i = 0; int:sum = 0; while (i < N) { sum = sum + i; i = i + 1; } print(sum);
//! bash     i=0; s=0; while ((i < N)); do ((s += i)); ((i++)); done; echo $s
//! dash     i=0; s=0; while [ $i -lt N ]; do s=$((s + i)); i=$((i + 1)); done; echo $s
//! fish     set i 0; set s 0; while test $i -lt N; set s (math $s + $i); set i (math $i + 1); end; echo $s
//! python3  a `while i < N:` loop of `s += i` and `i += 1`, then print(s)
//! ```

use std::io;

use super::shell::{self, Run};
use super::{secs, Metrics, Params};
use crate::measure::median;
use crate::runtimes::{unsupported, Runtime};

/// Runs of the script per measurement; the median is reported.
pub const REPS: usize = 3;

/// The loop of `n` iterations in `rt`'s language.
///
/// # Errors
/// `rt` is not a script interpreter.
pub fn script(rt: Runtime, n: u64) -> io::Result<String> {
    Ok(match rt {
        Runtime::Ariash => {
            format!("int:i = 0; int:sum = 0; while (i < {n}) {{ sum = sum + i; i = i + 1; }} print(sum);")
        }
        Runtime::Bash => format!("i=0; s=0; while ((i < {n})); do ((s += i)); ((i++)); done; echo $s"),
        Runtime::Dash => {
            format!("i=0; s=0; while [ $i -lt {n} ]; do s=$((s + i)); i=$((i + 1)); done; echo $s")
        }
        Runtime::Fish => format!(
            "set i 0; set s 0; while test $i -lt {n}; set s (math $s + $i); set i (math $i + 1); end; echo $s"
        ),
        Runtime::Python3 => format!("i = 0\ns = 0\nwhile i < {n}:\n    s += i\n    i += 1\nprint(s)\n"),
        _ => return Err(unsupported("ash-loop", rt)),
    })
}

/// Runs the scenario.
///
/// # Errors
/// The interpreter is missing, a run failed, or it printed the wrong sum.
pub fn run(rt: Runtime, p: &Params) -> io::Result<Metrics> {
    let n = p.size;
    let want = (u128::from(n) * u128::from(n.saturating_sub(1)) / 2).to_string();
    let mut cmd = shell::command(rt, &script(rt, n)?)?;
    let runs: Vec<Run> = (0..REPS).map(|_| shell::run(&mut cmd, true)).collect::<io::Result<_>>()?;
    for r in &runs {
        shell::expect(rt, r, &want)?;
    }
    let wall = median(&runs.iter().map(|r| secs(r.wall)).collect::<Vec<_>>());
    let cpu = median(&runs.iter().map(|r| secs(r.cpu)).collect::<Vec<_>>());
    Ok(vec![
        ("wall_s", wall),
        ("iters_per_s", n as f64 / wall),
        ("ns_per_iter", wall * 1e9 / n as f64),
        ("cpu_s", cpu),
    ])
}
