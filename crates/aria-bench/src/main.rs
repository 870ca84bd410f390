//! `aria-bench`: aria-io against tokio, async-process (smol's parts) and std, one scenario
//! per subcommand, one measurement per process.
//!
//! ```text
//! aria-bench SCENARIO --runtime R [--size N] [--variant V] [--window-ms MS] [--dir D] [--json]
//! aria-bench --all [--quick] [--rounds N] [--only S,S..] [--out FILE] [--no-strace] [--command TEXT]
//!                  [--window-ms MS]
//! aria-bench --list
//! ```
//!
//! `--all` runs every scenario for every runtime in alternation, each measurement in a fresh
//! process (this binary with `--json`), prints the tables of medians and of round-by-round
//! ratios aria/peer, and writes them as markdown to `--out`. See `docs/benchmarks.md`.
//! Every scenario runs on each aria-io flavour (`aria-epoll`, `aria-uring`, `aria-mt`,
//! `aria-tpc`) except par-map (`aria-mt` only); fanout adds `aria-mt1`. Echo (loopback TCP
//! ping-pong against the `bench-echo-client` process) also runs tokio's per-core layout
//! (`tokio-ct-per-core`), monoio and compio; http (a hyper hello-world server loaded by `wrk`
//! in another process) runs tokio and tokio's per-core layout. With `--all`, `--window-ms`
//! is the window per point of echo and http (wrk's duration, in whole seconds). The ash
//! scenarios (`ash-loop`, `ash-spawn`, `ash-startup`) run scripts as whole processes on
//! `ariash` (the shell built on aria-io: the `ariash` binary next to this one, or `$ARIASH`)
//! against `bash`, `dash`, `fish` and `python3`. The rows of each table are in
//! `report::cases`.
//!
//! # Adding to the suite
//!
//! - A scenario: a module in `scenarios/` with `run(Runtime, &Params) -> io::Result<Metrics>`
//!   (one function per runtime, measuring inside the runtime), a variant of
//!   [`scenarios::Scenario`], and a [`report::Case`] in `report::cases` with its columns,
//!   rows and targets (quick and full sizes).
//! - A runtime or backend (`aria-uring`): a variant of [`runtimes::Runtime`] (aria backends
//!   answer true to `is_aria`, so every table gets its ratios and target verdicts), the match
//!   arms the compiler asks for, and its rows in `report::cases`.
// The suite runs on Linux only (see Cargo.toml): elsewhere this binary is empty.
#![cfg_attr(not(target_os = "linux"), no_main)]
#![cfg(target_os = "linux")]

mod measure;
mod report;
mod runtimes;
mod scenarios;
mod syscalls;

use std::io::{self, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use runtimes::Runtime;
use scenarios::{Params, Scenario};

#[global_allocator]
static ALLOC: measure::CountingAlloc = measure::CountingAlloc;

const USAGE: &str = "\
usage: aria-bench SCENARIO --runtime R [--size N] [--variant V] [--window-ms MS] [--dir D] [--json]
       aria-bench --all [--quick] [--rounds N] [--only S,S..] [--out FILE] [--no-strace] [--command TEXT]
                  [--window-ms MS (echo's window and http's wrk duration per point)]
       aria-bench --list
scenarios: spawn exit-latency idle output pipe-copy pipeline tasks yield timers channel fanout par-map echo
           http (needs wrk: apt-get install -y wrk) ash-loop ash-spawn ash-startup ash-prompt ash-idle
runtimes:  aria-epoll (aria) aria-uring (uring) aria-mt (mt) aria-mt1 aria-tpc (tpc) tokio tokio-ct
           tokio-ct-per-core (echo, http) monoio compio (echo only) async-process (smol) std bash
           ariash dash fish python3 (ash-* only; ariash: next to this binary, or $ARIASH)";

fn bad(msg: impl Into<String>) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, format!("{}\n{USAGE}", msg.into()))
}

/// Takes the value of `--flag VALUE` from `args`.
fn value(args: &mut Vec<String>, flag: &str) -> io::Result<Option<String>> {
    let Some(i) = args.iter().position(|a| a == flag) else { return Ok(None) };
    if i + 1 >= args.len() {
        return Err(bad(format!("{flag} needs a value")));
    }
    let v = args.remove(i + 1);
    args.remove(i);
    Ok(Some(v))
}

/// Takes the switch `--flag` from `args`.
fn switch(args: &mut Vec<String>, flag: &str) -> bool {
    let before = args.len();
    args.retain(|a| a != flag);
    args.len() != before
}

fn number(s: Option<String>, flag: &str) -> io::Result<Option<u64>> {
    s.map(|v| v.replace('_', "").parse().map_err(|_| bad(format!("{flag}: not a number: {v}")))).transpose()
}

/// The default directory for files written by scenarios: tmpfs when there is one.
pub fn default_dir() -> PathBuf {
    let shm = PathBuf::from("/dev/shm");
    if shm.is_dir() {
        shm
    } else {
        std::env::temp_dir()
    }
}

fn run(mut args: Vec<String>) -> io::Result<()> {
    if switch(&mut args, "--help") || switch(&mut args, "-h") {
        println!("{USAGE}");
        return Ok(());
    }
    if switch(&mut args, "--list") {
        for s in Scenario::ALL {
            println!("{}", s.name());
        }
        return Ok(());
    }
    if switch(&mut args, "--all") {
        let opts = report::Options {
            quick: switch(&mut args, "--quick"),
            rounds: number(value(&mut args, "--rounds")?, "--rounds")?.map(|r| r.max(1) as usize),
            only: value(&mut args, "--only")?
                .map(|s| s.split(',').map(str::to_string).collect())
                .unwrap_or_default(),
            out: value(&mut args, "--out")?.map(PathBuf::from),
            strace: !switch(&mut args, "--no-strace"),
            command: value(&mut args, "--command")?,
            dir: value(&mut args, "--dir")?.map(PathBuf::from).unwrap_or_else(default_dir),
            window_ms: number(value(&mut args, "--window-ms")?, "--window-ms")?,
        };
        if let Some(extra) = args.first() {
            return Err(bad(format!("unexpected argument `{extra}`")));
        }
        return report::run_all(&opts);
    }
    let json = switch(&mut args, "--json");
    let rt = value(&mut args, "--runtime")?.ok_or_else(|| bad("--runtime is required"))?;
    let rt = Runtime::parse(&rt)?;
    let size = number(value(&mut args, "--size")?, "--size")?;
    let window = number(value(&mut args, "--window-ms")?, "--window-ms")?.unwrap_or(5000);
    let variant = value(&mut args, "--variant")?;
    let dir = value(&mut args, "--dir")?.map(PathBuf::from).unwrap_or_else(default_dir);
    let [name] = args.as_slice() else {
        return Err(bad("exactly one scenario is expected"));
    };
    let scenario = Scenario::parse(name).ok_or_else(|| bad(format!("unknown scenario `{name}`")))?;
    let params = Params {
        size: size.unwrap_or_else(|| scenario.default_size()),
        variant,
        window: Duration::from_millis(window),
        dir,
    };
    let metrics = scenario.run(rt, &params)?;
    let mut out = io::stdout().lock();
    if json {
        let m: serde_json::Map<String, serde_json::Value> =
            metrics.iter().map(|(k, v)| (k.to_string(), serde_json::json!(v))).collect();
        let line = serde_json::json!({
            "scenario": scenario.name(),
            "runtime": rt.name(),
            "variant": params.variant,
            "size": params.size,
            "metrics": m,
        });
        writeln!(out, "{line}")?;
    } else {
        write!(out, "{} {} size={}", scenario.name(), rt, params.size)?;
        if let Some(v) = &params.variant {
            write!(out, " variant={v}")?;
        }
        for (k, v) in &metrics {
            write!(out, " {k}={v:.3}")?;
        }
        writeln!(out)?;
    }
    Ok(())
}

fn main() -> ExitCode {
    match run(std::env::args().skip(1).collect()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("aria-bench: {e}");
            ExitCode::FAILURE
        }
    }
}
