//! The syscall counts of the report: each probe runs a scenario under `strace -ff` at two
//! sizes and divides the difference in the parent's system calls by the difference in
//! operations, so start-up and shutdown cancel out.
//!
//! Only the benchmark process's own threads are counted: `strace -ff` writes one file per
//! thread or process, and the files that contain an `execve` of anything but the benchmark
//! binary belong to children (from the clone in `posix_spawn` onwards) and are skipped.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::report::num;
use crate::runtimes::Runtime;

/// What one operation is.
#[derive(Debug, Clone, Copy)]
enum Per {
    /// The size difference counts operations (spawns, children, timers, seconds...).
    Size { scale: f64 },
    /// Operations are the calls to this syscall; the size is bytes per stream, two streams.
    Syscall(&'static str),
    /// One run at the large size; the calls started inside the window the scenario reports
    /// (`window_start_unix`, `window_end_unix`).
    Window,
    /// As [`Per::Window`], divided by the run's own count of operations (this metric of its
    /// JSON line: echo's `requests`).
    WindowOver(&'static str),
}

struct Probe {
    title: &'static str,
    op: &'static str,
    scenario: &'static str,
    runtimes: &'static [Runtime],
    /// The argument that varies, and its two values.
    flag: &'static str,
    small: u64,
    large: u64,
    fixed: &'static [&'static str],
    per: Per,
}

const PROCS: &[Runtime] =
    &[Runtime::AriaEpoll, Runtime::AriaUring, Runtime::Tokio, Runtime::AsyncProcess, Runtime::Std];

fn probes() -> Vec<Probe> {
    vec![
        Probe {
            title: "spawn: parent syscalls per spawn (/bin/true, 64 alive)",
            op: "spawn",
            scenario: "spawn",
            runtimes: PROCS,
            flag: "--size",
            small: 100,
            large: 300,
            fixed: &[],
            per: Per::Size { scale: 1.0 },
        },
        Probe {
            title: "output: parent syscalls per read(2) (stdout + stderr collected with output())",
            op: "read",
            scenario: "output",
            runtimes: PROCS,
            flag: "--size",
            small: 16 << 20,
            large: 48 << 20,
            fixed: &[],
            per: Per::Syscall("read"),
        },
        Probe {
            title: "exit-latency: parent syscalls per child (spawn, wait, exit event, reap)",
            op: "child",
            scenario: "exit-latency",
            runtimes: &[Runtime::AriaEpoll, Runtime::AriaUring, Runtime::Tokio],
            flag: "--size",
            small: 100,
            large: 300,
            fixed: &[],
            per: Per::Size { scale: 1.0 },
        },
        Probe {
            title:
                "idle: parent syscalls started during a 3 s window while 50 children sleep and are waited on",
            op: "window",
            scenario: "idle",
            runtimes: PROCS,
            flag: "--window-ms",
            small: 0,
            large: 3000,
            fixed: &["--size", "50"],
            per: Per::Window,
        },
        Probe {
            title: "timers: parent syscalls per timer event (random 0-1000 ms sleeps)",
            op: "timer",
            scenario: "timers",
            runtimes: &[Runtime::AriaEpoll, Runtime::AriaUring, Runtime::Tokio, Runtime::TokioCt],
            flag: "--size",
            small: 10_000,
            large: 30_000,
            fixed: &[],
            per: Per::Size { scale: 1.0 },
        },
        Probe {
            title: "echo: server syscalls per request (100 B x 16 connections, closed loop; calls started \
                    in a 2 s window)",
            op: "request",
            scenario: "echo",
            runtimes: &[Runtime::AriaEpoll, Runtime::AriaUring, Runtime::Tokio, Runtime::Monoio],
            flag: "--window-ms",
            small: 0,
            large: 2000,
            fixed: &["--variant", "100x16"],
            per: Per::WindowOver("requests"),
        },
        pipe_copy(
            "pipe-copy (file): parent syscalls per MiB copied from a child's stdout into a file",
            &["--variant", "file"],
        ),
        pipe_copy(
            "pipe-copy (pipe): parent syscalls per MiB copied from a child's stdout into another's stdin",
            &["--variant", "pipe"],
        ),
    ]
}

/// A pipe-copy probe (`fixed`: `--variant file` or `--variant pipe`): syscalls per MiB copied.
fn pipe_copy(title: &'static str, fixed: &'static [&'static str]) -> Probe {
    Probe {
        title,
        op: "MiB",
        scenario: "pipe-copy",
        runtimes: &[Runtime::AriaEpoll, Runtime::AriaUring, Runtime::Tokio, Runtime::Std],
        flag: "--size",
        small: 64 << 20,
        large: 192 << 20,
        fixed,
        per: Per::Size { scale: 1.0 / (1 << 20) as f64 },
    }
}

/// A traced run: its own threads' calls by name, the length of its window in seconds, and
/// the metrics of its JSON line.
type Traced = (BTreeMap<String, u64>, f64, serde_json::Value);

/// Runs the benchmark binary under `strace -ff -ttt` and counts its own threads' syscalls,
/// only those started inside the window the run reports when `window` is set.
fn traced(args: &[String], scratch: &Path, window: bool) -> io::Result<Traced> {
    let _ = std::fs::remove_dir_all(scratch);
    std::fs::create_dir_all(scratch)?;
    let exe = std::env::current_exe()?;
    let prefix = scratch.join("t");
    let st = Command::new("strace")
        .args(["-ff", "-qq", "-ttt", "-o"])
        .arg(&prefix)
        .arg("--")
        .arg(&exe)
        .args(args)
        .arg("--json")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .output()?;
    if !st.status.success() {
        return Err(io::Error::other(format!("strace run failed: {}", String::from_utf8_lossy(&st.stderr))));
    }
    let metrics = metrics_of(&st.stdout)?;
    let (from, to) = if window { window_of(&metrics)? } else { (f64::MIN, f64::MAX) };
    let exe_name = exe.display().to_string();
    let mut counts = BTreeMap::new();
    for entry in std::fs::read_dir(scratch)? {
        let text = std::fs::read_to_string(entry?.path())?;
        let calls: Vec<(f64, &str)> = text.lines().filter_map(split_line).collect();
        let own = format!("execve(\"{exe_name}\"");
        if calls.iter().any(|(_, c)| c.starts_with("execve(") && !c.starts_with(&own)) {
            continue; // a child process
        }
        for (t, call) in calls {
            let name: String = call.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
            if !name.is_empty() && call[name.len()..].starts_with('(') && (from..=to).contains(&t) {
                *counts.entry(name).or_insert(0) += 1;
            }
        }
    }
    let _ = std::fs::remove_dir_all(scratch);
    Ok((counts, to - from, metrics))
}

/// Splits `1700000000.123456 name(args) = ret` into the timestamp and the call.
fn split_line(line: &str) -> Option<(f64, &str)> {
    let (t, rest) = line.split_once(' ')?;
    Some((t.parse().ok()?, rest))
}

/// The metrics of a run's JSON line.
fn metrics_of(stdout: &[u8]) -> io::Result<serde_json::Value> {
    let text = String::from_utf8_lossy(stdout);
    let line =
        text.lines().rev().find(|l| l.starts_with('{')).ok_or_else(|| io::Error::other("no JSON line"))?;
    let mut v: serde_json::Value = serde_json::from_str(line).map_err(io::Error::other)?;
    Ok(v["metrics"].take())
}

/// A number from a run's metrics.
fn metric(metrics: &serde_json::Value, k: &str) -> io::Result<f64> {
    metrics[k].as_f64().ok_or_else(|| io::Error::other(format!("no {k}")))
}

/// The `[window_start_unix, window_end_unix]` of a run's metrics.
fn window_of(metrics: &serde_json::Value) -> io::Result<(f64, f64)> {
    Ok((metric(metrics, "window_start_unix")?, metric(metrics, "window_end_unix")?))
}

/// Per-operation syscall counts: the total, the breakdown by name (largest first), and a note.
type PerOp = (f64, Vec<(String, f64)>, String);

/// Per-operation syscall counts of one runtime for a probe.
fn per_op(p: &Probe, rt: Runtime, dir: &Path, scratch: &Path) -> io::Result<PerOp> {
    let run = |value: u64| {
        let mut a: Vec<String> = vec![p.scenario.into(), "--runtime".into(), rt.name().into()];
        a.extend(p.fixed.iter().map(|s| s.to_string()));
        a.extend([p.flag.into(), value.to_string(), "--dir".into(), dir.display().to_string()]);
        traced(&a, scratch, matches!(p.per, Per::Window | Per::WindowOver(_)))
    };
    let ((large, seconds, metrics), small) = match p.per {
        Per::Window | Per::WindowOver(_) => (run(p.large)?, BTreeMap::new()),
        _ => (run(p.large)?, run(p.small)?.0),
    };
    let diff = |k: &str| *large.get(k).unwrap_or(&0) as f64 - *small.get(k).unwrap_or(&0) as f64;
    let (ops, extra) = match p.per {
        Per::Size { scale } => ((p.large - p.small) as f64 * scale, String::new()),
        Per::Syscall(name) => {
            let reads = diff(name);
            let bytes = 2.0 * (p.large - p.small) as f64;
            (reads, format!("{} KiB per read", num(bytes / reads / 1024.0)))
        }
        Per::Window => (1.0, format!("{} s", num(seconds))),
        Per::WindowOver(key) => {
            let ops = metric(&metrics, key)?;
            (ops, format!("{} {key} in {} s under strace", num(ops), num(seconds)))
        }
    };
    let mut names: Vec<(String, f64)> = small
        .keys()
        .chain(large.keys())
        .map(|k| (k.clone(), diff(k) / ops))
        .filter(|(_, v)| v.abs() >= 0.005)
        .collect();
    names.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    names.dedup_by(|a, b| a.0 == b.0);
    let total = names.iter().map(|(_, v)| v).sum();
    Ok((total, names, extra))
}

/// The markdown section (the probes of the scenarios in `only`, or all of them when it is
/// empty), or a line saying why there is none.
pub fn section(dir: &Path, only: &[String]) -> String {
    let mut s = String::from("## System calls (strace)\n\n");
    if Command::new("strace").arg("-V").stdout(Stdio::null()).status().map(|s| !s.success()).unwrap_or(true) {
        s.push_str("strace is not installed: no syscall counts.\n");
        return s;
    }
    let _ = writeln!(
        s,
        "`strace -ff` of the benchmark process (its threads only, not the children). Each probe \
         runs at two sizes and divides the difference in calls by the difference in operations, \
         so start-up cancels out; the idle and echo probes count the calls started inside their \
         window (echo divides by the requests answered in it; on io_uring only io_uring_enter \
         shows, not the operations the ring runs). \
         Timings under strace are meaningless and not shown.\n"
    );
    let scratch: PathBuf = std::env::temp_dir().join(format!("aria-bench-strace-{}", std::process::id()));
    for p in probes().into_iter().filter(|p| only.is_empty() || only.iter().any(|o| o == p.scenario)) {
        let _ = writeln!(s, "### {}\n", p.title);
        let _ = writeln!(s, "| runtime | syscalls per {} | breakdown per {} |\n|---|---|---|", p.op, p.op);
        for &rt in p.runtimes {
            eprintln!("[strace] {} {}", p.scenario, rt);
            match per_op(&p, rt, dir, &scratch) {
                Ok((total, names, extra)) => {
                    let top: Vec<String> =
                        names.iter().take(10).map(|(n, v)| format!("{n} {}", num(*v))).collect();
                    let extra = if extra.is_empty() { String::new() } else { format!(" ({extra})") };
                    let _ = writeln!(s, "| {rt} | {}{extra} | {} |", num(total), top.join(", "));
                }
                Err(e) => {
                    let _ = writeln!(s, "| {rt} | failed | {} |", e.to_string().replace('\n', " "));
                }
            }
        }
        s.push('\n');
    }
    s
}
