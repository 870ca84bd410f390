//! `--all`: every scenario for every runtime, in alternation (A B C A B C ...) for a number
//! of rounds, each measurement in a fresh process; then the tables of medians, of ratios
//! aria/peer computed round by round, and of targets, printed and written as markdown.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use crate::measure::median;
use crate::runtimes::Runtime;
use crate::scenarios::Scenario;

/// What `--all` was asked to do.
#[derive(Debug)]
pub struct Options {
    /// Tiny sizes and one round: a smoke test.
    pub quick: bool,
    /// Rounds (default 3, 1 with `quick`).
    pub rounds: Option<usize>,
    /// Only the cases whose title starts with one of these scenario names.
    pub only: Vec<String>,
    /// Where to write the markdown report.
    pub out: Option<PathBuf>,
    /// Whether to add the strace syscall counts (when strace is installed, not with `quick`).
    pub strace: bool,
    /// The command line to print in the report (the script passes its own).
    pub command: Option<String>,
    /// Where scenarios write files.
    pub dir: PathBuf,
    /// `--window-ms`: the window per point of the echo and http scenarios, instead of
    /// [`ECHO_WINDOW_MS`] and [`HTTP_WINDOW_MS`].
    pub window_ms: Option<u64>,
}

/// Whether more or less of a metric is better.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Better {
    /// More is better (throughput).
    Higher,
    /// Less is better (time, CPU, memory).
    Lower,
}

/// A column of a case's tables.
#[derive(Debug, Clone, Copy)]
pub struct Metric {
    /// The key in the measurement's JSON.
    pub key: &'static str,
    /// The column header.
    pub label: &'static str,
    /// Direction.
    pub better: Better,
}

/// One runtime (and variant) of a case.
#[derive(Debug, Clone)]
pub struct Row {
    /// The runtime.
    pub rt: Runtime,
    /// `--variant`, if any.
    pub variant: Option<&'static str>,
    /// The row's label in the tables.
    pub label: String,
    /// Whether the case's `Ratio`, `OwnRatio` and `AtMost` targets apply to it (an aria row shown for
    /// information, such as a placement no program would choose, says no).
    pub targeted: bool,
}

/// A goal from the issue, checked on the medians.
#[derive(Debug, Clone)]
pub enum Target {
    /// Median over rounds of aria/peer for `metric` compared with `factor`:
    /// `<=` for lower-is-better metrics, `>=` for higher-is-better ones.
    Ratio {
        /// Metric key.
        metric: &'static str,
        /// Label of the peer row.
        peer: &'static str,
        /// The bound on the ratio.
        factor: f64,
    },
    /// As [`Target::Ratio`], for the row labelled `row` only (a scaling target between two
    /// aria rows, for example).
    RowRatio {
        /// Label of the row the target is for.
        row: &'static str,
        /// Metric key.
        metric: &'static str,
        /// Label of the peer row.
        peer: &'static str,
        /// The bound on the ratio.
        factor: f64,
    },
    /// Median over rounds of aria's `metric` over its own `base` in the same round (two
    /// columns of one row, such as a latency against the time its cause took), compared
    /// with `factor` as in [`Target::Ratio`].
    OwnRatio {
        /// Metric key.
        metric: &'static str,
        /// Key of the metric it is divided by, from the same row and round.
        base: &'static str,
        /// The bound on the ratio.
        factor: f64,
    },
    /// The best value of `metric` each aria row reaches over a group of cases (the echo points
    /// of one message size, whose titles start with `group`), against the best that any of
    /// the `peers` rows reaches over the same cases, per round (each round's best over
    /// best), then the median over rounds; compared with `factor` as in [`Target::Ratio`].
    /// Put on the last case of the group.
    Peak {
        /// Metric key.
        metric: &'static str,
        /// The title prefix of the cases of the group.
        group: &'static str,
        /// Labels of the peer rows whose best is the reference (a peer's best layout).
        peers: &'static [&'static str],
        /// The bound on the ratio.
        factor: f64,
    },
    /// The median of aria's own `metric` must be at most `max`.
    AtMost {
        /// Metric key.
        metric: &'static str,
        /// The bound.
        max: f64,
        /// Wording for the report.
        text: &'static str,
    },
}

/// One table: a scenario at one size, its rows, its columns and its targets.
#[derive(Debug, Clone)]
pub struct Case {
    /// Title, starting with the scenario name.
    pub title: String,
    /// The scenario.
    pub scenario: Scenario,
    /// `--size`.
    pub size: u64,
    /// `--window-ms` (idle).
    pub window_ms: Option<u64>,
    /// Runtimes, aria first.
    pub rows: Vec<Row>,
    /// Columns.
    pub metrics: Vec<Metric>,
    /// Goals.
    pub targets: Vec<Target>,
    /// A sentence on how to read it.
    pub note: &'static str,
}

impl Case {
    /// The index of the row labelled `label`.
    fn row_index_of(&self, label: &str) -> Option<usize> {
        self.rows.iter().position(|r| r.label == label)
    }
}

const MIB: u64 = 1 << 20;

/// The echo scenario's window per point in the full run, in milliseconds (`--window-ms`
/// overrides it).
pub const ECHO_WINDOW_MS: u64 = 1000;

/// The http scenario's wrk duration per point in the full run, in milliseconds (`--window-ms`
/// overrides it; wrk takes whole seconds): 2 points x 6 rows x 3 rounds x about 3.3 s keeps
/// the scenario near 2 minutes.
pub const HTTP_WINDOW_MS: u64 = 3000;

/// The http points of the full run: connections.
const HTTP_CONNS: [u64; 2] = [64, 256];

/// The echo points of the full run: message size x connections.
const ECHO_POINTS: [(&str, u64, u64); 8] = [
    ("100x1", 100, 1),
    ("100x16", 100, 16),
    ("100x64", 100, 64),
    ("100x256", 100, 256),
    ("1024x1", 1024, 1),
    ("1024x16", 1024, 16),
    ("1024x64", 1024, 64),
    ("1024x256", 1024, 256),
];

fn m(key: &'static str, label: &'static str, better: Better) -> Metric {
    Metric { key, label, better }
}

fn row(rt: Runtime, variant: Option<&'static str>, label: &str) -> Row {
    Row { rt, variant, label: label.to_string(), targeted: true }
}

/// A row the case's general targets do not apply to (see [`Row::targeted`]).
fn info_row(rt: Runtime, variant: Option<&'static str>, label: &str) -> Row {
    Row { targeted: false, ..row(rt, variant, label) }
}

fn plain(rts: &[Runtime]) -> Vec<Row> {
    rts.iter().map(|&rt| row(rt, None, rt.name())).collect()
}

/// Every case of the suite, at full or quick sizes; `window_ms` overrides the echo scenario's
/// window per point ([`ECHO_WINDOW_MS`], or 200 ms with `quick`) and the http scenario's
/// ([`HTTP_WINDOW_MS`], or 1 s with `quick`).
pub fn cases(quick: bool, window_ms: Option<u64>) -> Vec<Case> {
    use Better::{Higher, Lower};
    use Runtime::{
        AriaEpoll as A, AriaMt as MT, AriaMt1 as MT1, AriaTpc as TPC, AriaUring as U, AsyncProcess as AP,
        Bash, Std, Tokio as T, TokioCt as TC,
    };
    let q = |full: u64, small: u64| if quick { small } else { full };
    // The process scenarios run on every aria-io flavour; on aria-mt and aria-tpc the tasks
    // the scenarios spawn from block_on go to the workers, or to the cores in turn.
    let procs = plain(&[A, U, MT, TPC, T, AP, Std]);
    let mut v = Vec::new();
    let n = q(2000, 40);
    v.push(Case {
        title: format!("spawn: {n} x /bin/true, at most 64 alive"),
        scenario: Scenario::Spawn,
        size: n,
        window_ms: None,
        rows: procs.clone(),
        metrics: vec![
            m("spawns_per_s", "spawns/s", Higher),
            m("cpu_s", "parent CPU s", Lower),
            m("cpu_per_spawn_us", "CPU/spawn us", Lower),
            m("child_cpu_per_spawn_us", "child CPU/spawn us", Lower),
        ],
        targets: vec![
            Target::Ratio { metric: "spawns_per_s", peer: "std", factor: 1.0 },
            Target::Ratio { metric: "cpu_per_spawn_us", peer: "tokio", factor: 0.8 },
        ],
        note: "Parent CPU is getrusage(RUSAGE_SELF) over the spawn loop (every thread of the parent); \
               child CPU is getrusage(RUSAGE_CHILDREN), the children's share of the two cores \
               (their half of posix_spawn, exec, exit). The 64 spawning tasks run on aria-mt's \
               workers, and on aria-tpc go to the cores in turn, each core spawning and waiting \
               for its own children.",
    });
    let sizes: &[u64] = if quick { &[20] } else { &[50, 500, 2000] };
    for (i, &n) in sizes.iter().enumerate() {
        let last = i + 1 == sizes.len();
        v.push(Case {
            title: format!("exit-latency: {n} x cat, stdins closed at T0"),
            scenario: Scenario::ExitLatency,
            size: n,
            window_ms: None,
            rows: plain(&[A, U, MT, TPC, T, TC, AP, Std]),
            metrics: vec![
                m("p50_ms", "p50 ms", Lower),
                m("p99_ms", "p99 ms", Lower),
                m("max_ms", "max ms", Lower),
                m("close_ms", "closing ms", Lower),
                m("spawn_s", "spawning s", Lower),
            ],
            targets: if last {
                vec![
                    Target::Ratio { metric: "p99_ms", peer: "tokio", factor: 0.9 },
                    Target::OwnRatio { metric: "p99_ms", base: "close_ms", factor: 1.05 },
                ]
            } else {
                Vec::new()
            },
            note: "Time from T0 (before the first stdin is closed) until each child's wait returned; \
                   `closing ms` is how long closing the stdins took, so p99 / closing near 1 means \
                   the children are reaped as fast as they are released. tokio-ct is there because \
                   aria-epoll and aria-uring are current-thread too: a single thread cannot reap \
                   while it closes. On aria-mt and aria-tpc the waits run on the workers or cores \
                   while block_on's thread closes; on aria-tpc the children are spawned from \
                   block_on, so their pidfds register with core 0's driver, and the waiting tasks \
                   go to the cores in turn.",
        });
    }
    let (n, window) = (q(200, 10), q(5000, 300));
    v.push(Case {
        title: format!("idle: {n} x sleep, waited on for {} s", window as f64 / 1e3),
        scenario: Scenario::Idle,
        size: n,
        window_ms: Some(window),
        rows: procs.clone(),
        metrics: vec![m("cpu_ms", "parent CPU ms", Lower), m("threads", "threads", Lower)],
        targets: vec![
            Target::AtMost { metric: "cpu_ms", max: 1.0, text: "CPU in the window <= 1 ms" },
            Target::AtMost { metric: "threads", max: 4.0, text: "no thread per child (<= 4 threads)" },
        ],
        note: "Threads at the end of the window, block_on's included: aria-mt has a worker per \
               CPU and aria-tpc a thread per core besides it.",
    });
    let n = q(256 * MIB, 2 * MIB);
    v.push(Case {
        title: format!("output: {} MiB to stdout + {0} MiB to stderr in 64 KiB chunks", n / MIB),
        scenario: Scenario::Output,
        size: n,
        window_ms: None,
        rows: procs.clone(),
        metrics: vec![
            m("mib_per_s", "MiB/s", Higher),
            m("peak_rss_mib", "peak RSS MiB", Lower),
            m("rss_per_byte", "RSS / bytes collected", Lower),
        ],
        targets: vec![
            Target::Ratio { metric: "mib_per_s", peer: "tokio", factor: 2.0 },
            Target::AtMost { metric: "rss_per_byte", max: 1.1, text: "peak RSS <= 1.1 x bytes collected" },
        ],
        note: "",
    });
    let n = q(2048 * MIB, 8 * MIB);
    let std = "std (io::copy, splice 64 KiB)";
    let smol = "async-process (futures-lite copy)";
    for (variant, limit, into, tokio, note) in [
        (
            "file",
            "file-limit",
            "a file",
            "tokio (io::copy, fs::File)",
            "The file is on tmpfs (/dev/shm) so the disk is not measured. aria writes through \
             aria_io::fs::File. The limit row is a blocking splice(2) loop in plain Rust; the ratio \
             to it says how far aria is from what the kernel allows. The targets against tokio \
             (5 x), std (1.5 x) and async-process (1 x) together ask every aria row for at least \
             the best peer.",
        ),
        (
            "pipe",
            "pipe-limit",
            "another child's stdin",
            "tokio (io::copy, ChildStdin)",
            "The sink child reads its stdin in 256 KiB reads and counts the bytes. The limit row is \
             a blocking splice(2) loop in plain Rust.",
        ),
    ] {
        v.push(Case {
            title: format!("pipe-copy ({variant}): {} MiB from a child's stdout into {into}", n / MIB),
            scenario: Scenario::PipeCopy,
            size: n,
            window_ms: None,
            rows: vec![
                row(A, Some(variant), "aria-epoll (io::copy)"),
                row(U, Some(variant), "aria-uring (io::copy)"),
                row(MT, Some(variant), "aria-mt (io::copy)"),
                row(TPC, Some(variant), "aria-tpc (io::copy)"),
                row(T, Some(variant), tokio),
                row(AP, Some(variant), smol),
                row(Std, Some(variant), std),
                row(Std, Some(limit), "splice loop, 1 MiB pipes (limit)"),
            ],
            metrics: vec![
                m("gib_per_s", "GiB/s", Higher),
                m("mib_per_s", "MiB/s", Higher),
                m("wall_s", "wall s", Lower),
            ],
            targets: {
                let mut t = vec![
                    Target::Ratio { metric: "gib_per_s", peer: tokio, factor: 5.0 },
                    Target::Ratio { metric: "gib_per_s", peer: std, factor: 1.5 },
                ];
                if variant == "file" {
                    t.push(Target::Ratio { metric: "gib_per_s", peer: smol, factor: 1.0 });
                }
                t
            },
            note,
        });
    }
    for (variant, full, small, shape) in [
        ("text", 200 * MIB, MIB, "gen | tr a-z A-Z | grep -v QQQ | wc -l"),
        ("data", 1024 * MIB, 4 * MIB, "emit fd 5 |* sink fd 4 (data plane)"),
    ] {
        let n = q(full, small);
        v.push(Case {
            title: format!("pipeline ({variant}): {shape}, {} MiB", n / MIB),
            scenario: Scenario::Pipeline,
            size: n,
            window_ms: None,
            rows: vec![
                row(A, Some(variant), "aria-epoll (Pipeline)"),
                row(U, Some(variant), "aria-uring (Pipeline)"),
                row(MT, Some(variant), "aria-mt (Pipeline)"),
                row(TPC, Some(variant), "aria-tpc (Pipeline)"),
                row(T, Some(variant), "tokio (by hand)"),
                row(Std, Some(variant), "std (by hand)"),
                row(Bash, Some(variant), "bash -c"),
            ],
            metrics: vec![m("wall_s", "wall s", Lower), m("mib_per_s", "MiB/s", Higher)],
            targets: Vec::new(),
            note: "",
        });
    }
    let n = q(1_000_000, 10_000);
    v.push(Case {
        title: format!("tasks: spawn and join {n} empty tasks"),
        scenario: Scenario::Tasks,
        size: n,
        window_ms: None,
        rows: vec![
            row(A, None, "aria-epoll"),
            row(U, None, "aria-uring"),
            row(TC, None, "tokio-ct"),
            row(MT, None, "aria-mt"),
            row(TPC, None, "aria-tpc"),
            row(T, None, "tokio"),
            row(AP, None, "async-executor"),
        ],
        metrics: vec![
            m("ns_per_task", "ns/task", Lower),
            m("bytes_per_task", "bytes/task", Lower),
            m("allocs_per_task", "allocs/task", Lower),
        ],
        targets: vec![
            Target::Ratio { metric: "ns_per_task", peer: "tokio-ct", factor: 0.7 },
            Target::AtMost { metric: "bytes_per_task", max: 96.0, text: "bytes per empty task <= 96" },
        ],
        note: "Bytes and allocations come from a counting global allocator over a first pass; ns/task \
               from a second pass with counting off. aria-tpc spawns from block_on's thread, so the \
               tasks go to the cores in turn (every spawn crosses threads).",
    });
    let chan_rows = |aria: &str, portable: &str, native: &str| {
        vec![
            row(A, Some("aria"), &format!("aria-epoll + {aria}")),
            row(A, Some("portable"), &format!("aria-epoll + {portable}")),
            row(U, Some("aria"), &format!("aria-uring + {aria}")),
            row(MT, Some("aria"), &format!("aria-mt + {aria}")),
            row(TPC, Some("aria"), &format!("aria-tpc + {aria}")),
            row(T, Some("native"), &format!("tokio + {native}")),
            row(T, Some("aria"), &format!("tokio + {aria}")),
            row(T, Some("portable"), &format!("tokio + {portable}")),
            row(TC, Some("native"), &format!("tokio-ct + {native}")),
            row(AP, Some("portable"), &format!("async-executor + {portable}")),
        ]
    };
    let n = q(1_000_000, 10_000);
    v.push(Case {
        title: format!("yield: {n} ping-pong round trips between two tasks"),
        scenario: Scenario::Yield,
        size: n,
        window_ms: None,
        rows: {
            let mut rows = chan_rows("aria Notify", "event-listener", "tokio Notify");
            rows.push(info_row(TPC, Some("aria-cross"), "aria-tpc + aria Notify, cores 0 and 1"));
            rows.push(row(Std, None, "two threads + std mpsc"));
            rows
        },
        metrics: vec![m("ns_per_round_trip", "ns/round trip", Lower)],
        targets: vec![Target::Ratio {
            metric: "ns_per_round_trip",
            peer: "tokio + tokio Notify",
            factor: 1.0,
        }],
        note: "Two notifications (ping, pong); aria-tpc puts both tasks on core 0 (Handle::spawn_on), \
               or on cores 0 and 1 (every wake-up crosses threads through the other core's driver); \
               `two threads + std mpsc` is the machine's floor for such wake-ups. `aria Notify` is aria_io::sync::Notify and \
               `event-listener` a flag + event_listener::Event: both runtime-agnostic, so they also \
               run on tokio, which separates the runtime's cost from the primitive's.",
    });
    let n = q(1_000_000, 10_000);
    v.push(Case {
        title: format!("timers: {n} sleeps, random 0-1000 ms, all awaited"),
        scenario: Scenario::Timers,
        size: n,
        window_ms: None,
        rows: vec![
            row(A, None, "aria-epoll"),
            row(U, None, "aria-uring"),
            row(MT, None, "aria-mt"),
            row(TPC, None, "aria-tpc"),
            row(T, None, "tokio"),
            row(TC, None, "tokio-ct"),
            row(AP, None, "async-io Timer"),
        ],
        metrics: vec![
            m("cpu_ns_per_timer", "CPU ns/timer", Lower),
            m("wall_s", "wall s", Lower),
            m("late_p50_ms", "late p50 ms", Lower),
            m("late_p99_ms", "late p99 ms", Lower),
        ],
        targets: vec![Target::Ratio { metric: "cpu_ns_per_timer", peer: "tokio", factor: 1.0 }],
        note: "Lateness: fire time minus (first poll + duration); the main task spawns all timers \
               first, so early deadlines queue behind the first polls of later tasks.",
    });
    let n = q(10_000_000, 100_000);
    v.push(Case {
        title: format!("channel: {n} u64 messages, 1 producer 1 consumer, bounded 1024"),
        scenario: Scenario::Channel,
        size: n,
        window_ms: None,
        rows: chan_rows("aria mpsc", "async-channel", "tokio mpsc"),
        metrics: vec![m("ns_per_msg", "ns/msg", Lower)],
        targets: vec![Target::Ratio { metric: "ns_per_msg", peer: "tokio + tokio mpsc", factor: 1.0 }],
        note: "`aria mpsc` is aria_io::sync::mpsc::channel(1024); it and async-channel are \
               runtime-agnostic, so they also run on tokio. aria-tpc puts both tasks on core 0.",
    });
    let n = q(10_000, 1_000);
    v.push(Case {
        title: format!("fanout: {n} tasks each sleep 1 ms then send on an mpsc channel; main receives {n}"),
        scenario: Scenario::Fanout,
        size: n,
        window_ms: None,
        rows: vec![
            row(MT, None, "aria-mt"),
            row(MT1, None, "aria-mt1"),
            row(TPC, None, "aria-tpc"),
            row(A, None, "aria-epoll"),
            row(U, None, "aria-uring"),
            row(T, None, "tokio"),
            row(TC, None, "tokio-ct"),
        ],
        metrics: vec![m("wall_ms", "wall ms", Lower), m("cpu_ms", "CPU ms", Lower)],
        targets: vec![Target::Ratio { metric: "wall_ms", peer: "tokio", factor: 1.0 }],
        note: "From the first spawn to the last message received. aria-io uses aria_io::sync::mpsc, \
               tokio tokio::sync::mpsc (capacity 1024 both). CPU is getrusage(RUSAGE_SELF) over the \
               same span (every thread). aria-mt / aria-mt1 is the scaling from 1 worker to nproc. aria-tpc's \
               spawns from block_on go to the cores in turn.",
    });
    let n = q(10_000, 1_000);
    v.push(Case {
        title: format!(
            "fanout (cpu): {n} tasks each sleep 1 ms, compute ~{} rounds of mixing, then send",
            crate::scenarios::fanout::SPIN * crate::scenarios::par_map::ROUNDS
        ),
        scenario: Scenario::Fanout,
        size: n,
        window_ms: None,
        rows: vec![
            row(MT, Some("cpu"), "aria-mt (cpu)"),
            row(MT1, Some("cpu"), "aria-mt1 (cpu)"),
            row(TPC, Some("cpu"), "aria-tpc (cpu)"),
            row(T, Some("cpu"), "tokio (cpu)"),
        ],
        metrics: vec![m("wall_ms", "wall ms", Lower), m("cpu_ms", "CPU ms", Lower)],
        targets: vec![
            Target::RowRatio { row: "aria-mt (cpu)", metric: "wall_ms", peer: "tokio (cpu)", factor: 1.0 },
            Target::RowRatio { row: "aria-mt (cpu)", metric: "wall_ms", peer: "aria-mt1 (cpu)", factor: 0.6 },
            Target::RowRatio {
                row: "aria-tpc (cpu)",
                metric: "wall_ms",
                peer: "aria-mt1 (cpu)",
                factor: 0.6,
            },
        ],
        note: "The fanout with tens of microseconds of CPU per task, so the run is CPU-bound: \
               aria-mt / aria-mt1 is the scheduler's scaling from 1 worker to nproc (2 here: linear is \
               0.5x, the target 0.6x).",
    });
    let n = q(1_000_000, 10_000);
    v.push(Case {
        title: format!(
            "par-map: CPU-bound map over {n} u64s ({} rounds of mixing each)",
            crate::scenarios::par_map::ROUNDS
        ),
        scenario: Scenario::ParMap,
        size: n,
        window_ms: None,
        rows: vec![
            row(MT, None, "aria-mt (rayon::par_map)"),
            row(T, None, "tokio (spawn_blocking, 1 chunk/core)"),
            row(Std, None, "sequential loop"),
        ],
        metrics: vec![
            m("wall_ms", "wall ms", Lower),
            m("cpu_ms", "CPU ms", Lower),
            m("ns_per_item", "ns/item", Lower),
        ],
        targets: vec![Target::Ratio {
            metric: "wall_ms",
            peer: "tokio (spawn_blocking, 1 chunk/core)",
            factor: 1.0,
        }],
        note: "aria-io awaits aria_io::rayon::par_map (Rayon's global pool) in the main task of an \
               aria-mt runtime; tokio splits the items into one chunk per available core, maps each in \
               spawn_blocking and concatenates in order; the sequential loop is \
               items.into_iter().map(work).collect() on the main thread. Before timing, Rayon's pool \
               is started by a trivial job and tokio's blocking pool by one job per core that waits \
               for all the others.",
    });
    v.extend(echo_cases(quick, window_ms));
    v.extend(http_cases(quick, window_ms));
    v.extend(ash_cases(quick));
    v
}

/// The ash cases: ariash (the shell built on aria-io) against bash, dash, fish and python3,
/// each script run as a whole process (issue 12's performance targets).
fn ash_cases(quick: bool) -> Vec<Case> {
    use Better::{Higher, Lower};
    use Runtime::{Ariash, Bash, Dash, Fish, Python3};
    let q = |full: u64, small: u64| if quick { small } else { full };
    let mut v = Vec::new();
    let n = q(1_000_000, 10_000);
    v.push(Case {
        title: format!(
            "ash-loop: {n}-iteration integer loop, whole process, median of {}",
            crate::scenarios::ash_loop::REPS
        ),
        scenario: Scenario::AshLoop,
        size: n,
        window_ms: None,
        rows: plain(&[Ariash, Bash, Dash, Fish, Python3]),
        metrics: vec![
            m("wall_s", "wall s", Lower),
            m("iters_per_s", "iterations/s", Higher),
            m("ns_per_iter", "ns/iteration", Lower),
            m("cpu_s", "CPU s", Lower),
        ],
        targets: vec![Target::Ratio { metric: "iters_per_s", peer: "bash", factor: 20.0 }],
        note: "`while (i < N) { sum = sum + i; i = i + 1; }` then the sum printed (and checked), in \
               each language's own loop (the scripts are in crates/aria-bench/src/scenarios/ash_loop.rs); \
               each row runs `PROGRAM -c SCRIPT` 3 times in a row and reports the median run, start-up \
               included. The ratio of iterations/s, ariash / peer, is how many times faster ariash is \
               (peer wall / ariash wall). python3 is the interpreter `python3` resolves to, past \
               pyenv's shim. A shell that is not installed has no row (a note says so).",
    });
    let n = q(20_000, 200);
    v.push(Case {
        title: format!("ash-spawn: {n} sequential runs of /bin/true from a script loop"),
        scenario: Scenario::AshSpawn,
        size: n,
        window_ms: None,
        rows: plain(&[Ariash, Bash, Dash, Fish]),
        metrics: vec![
            m("spawns_per_s", "spawns/s", Higher),
            m("us_per_spawn", "us/spawn", Lower),
            m("cpu_per_spawn_us", "CPU/spawn us", Lower),
        ],
        targets: vec![Target::Ratio { metric: "spawns_per_s", peer: "bash", factor: 1.2 }],
        note: "ariash runs `run(\"true\");` in a while loop (PATH lookup: /usr/bin/true); the \
               shells run the external `/bin/true`, never their builtin. Each spawn is waited for \
               before the next. CPU/spawn is getrusage(RUSAGE_CHILDREN) over the run: the shell and \
               every `true` it reaped.",
    });
    let n = q(300, 20);
    v.push(Case {
        title: format!("ash-startup: {n} runs of `-c` exit at once"),
        scenario: Scenario::AshStartup,
        size: n,
        window_ms: None,
        rows: vec![
            row(Ariash, None, "ariash"),
            info_row(Ariash, Some("uring"), "ariash (ARIA_IO_BACKEND=uring)"),
            row(Bash, None, "bash"),
            row(Dash, None, "dash"),
            row(Fish, None, "fish"),
            row(Python3, None, "python3"),
        ],
        metrics: vec![
            m("p50_ms", "p50 ms", Lower),
            m("p90_ms", "p90 ms", Lower),
            m("min_ms", "min ms", Lower),
            m("cpu_ms", "CPU ms/run", Lower),
        ],
        targets: vec![
            Target::AtMost { metric: "p50_ms", max: 5.0, text: "start-up p50 <= 5 ms" },
            Target::Ratio { metric: "p50_ms", peer: "bash", factor: 1.0 },
        ],
        note: "`ariash -c 'exit(0);'`, `bash -c 'exit 0'` (dash, fish alike) and `python3 -c pass`, \
               after 3 untimed runs, with stdin, stdout and stderr on /dev/null; each run timed from \
               before the spawn until the wait returned (the suite's own timing: this process's \
               spawn and wait are in every row alike). The uring row runs ariash with \
               ARIA_IO_BACKEND=uring instead of its default, epoll: the difference is io_uring's \
               set-up.",
    });
    let n = q(50, 5);
    v.push(Case {
        title: format!("ash-prompt: {n} interactive starts to the first prompt"),
        scenario: Scenario::AshPrompt,
        size: n,
        window_ms: None,
        rows: plain(&[Ariash, Bash, Fish]),
        metrics: vec![
            m("p50_ms", "p50 ms", Lower),
            m("p90_ms", "p90 ms", Lower),
            m("min_ms", "min ms", Lower),
        ],
        targets: vec![Target::AtMost { metric: "p90_ms", max: 50.0, text: "first prompt p90 <= 50 ms" }],
        note: "Each shell on a new pseudo-terminal that is its controlling terminal (it leads a new \
               session), timed from before the spawn until its prompt is on the terminal, after 3 \
               untimed starts; it then leaves on Ctrl-D. `ariash` (job control set up, history \
               loaded from an empty file), `bash --norc --noprofile -i` with PS1 set, `fish \
               --no-config -i`. The code is crates/aria-bench/src/scenarios/ash_prompt.rs.",
    });
    let n = q(500, 50);
    let idle_ms = if quick { 1_000 } else { 10_000 };
    v.push(Case {
        title: format!("ash-idle: the REPL idle with {n} background `sleep 3600` jobs"),
        scenario: Scenario::AshIdle,
        size: n,
        window_ms: Some(idle_ms),
        rows: plain(&[Ariash]),
        metrics: vec![
            m("wakeups", "wake-ups in window", Lower),
            m("cpu_ms", "CPU ms in window", Lower),
            m("notice_p50_ms", "notice p50 ms", Lower),
            m("notice_max_ms", "notice max ms", Lower),
        ],
        targets: vec![
            Target::AtMost { metric: "wakeups", max: 0.0, text: "no wake-up (no system call) while idle" },
            Target::AtMost {
                metric: "notice_max_ms",
                max: 50.0,
                text: "a finished job noticed within 50 ms",
            },
        ],
        note: "ariash's REPL on a pseudo-terminal starts the jobs from one line, then the prompt \
               stays idle for the window: wake-ups are the context switches of all its threads \
               (/proc/PID/task/*/status), which stay at 0 exactly when no thread returns from a \
               system call or takes a timer. Then 5 of the `sleep`s are killed one by one, each \
               timed until `[n]  Done` is on the terminal.",
    });
    v
}

/// The echo cases: a case per point (message size x connections), and the fixed-load point.
fn echo_cases(quick: bool, window_ms: Option<u64>) -> Vec<Case> {
    use Better::{Higher, Lower};
    use Runtime::{AriaEpoll as A, AriaMt as MT, AriaTpc as TPC, AriaUring as U};
    const TOKIOS: &[&str] = &["tokio", "tokio-ct-per-core"];
    let window = window_ms.unwrap_or(if quick { 200 } else { ECHO_WINDOW_MS });
    // Each point's rows; `aria-epoll (futures-io)` is the same server through the futures-io
    // traits instead of read_owned / write_all_owned, shown for information.
    let rows = |variant: &'static str| {
        let mut rows: Vec<Row> =
            [A, U, TPC, MT, Runtime::Tokio, Runtime::TokioCtPerCore, Runtime::Monoio, Runtime::Compio]
                .iter()
                .map(|&rt| row(rt, Some(variant), rt.name()))
                .collect();
        let fio: &'static str = Box::leak(format!("{variant}:futures-io").into_boxed_str());
        rows.insert(1, info_row(A, Some(fio), "aria-epoll (futures-io)"));
        rows
    };
    let metrics = vec![
        m("requests_per_s", "requests/s", Higher),
        m("p50_us", "p50 us", Lower),
        m("p99_us", "p99 us", Lower),
        m("cpu_pct", "server CPU %", Lower),
        m("cpu_us_per_req", "server CPU us/req", Lower),
        m("user_us_per_req", "server user us/req", Lower),
        m("client_cpu_pct", "client CPU %", Lower),
    ];
    const NOTE: &str = "Ping-pong over loopback: the server (this process) pinned to CPU 0 before any \
        runtime thread starts, the load generator `bench-echo-client` (a tokio current-thread \
        runtime, the same for every server) pinned to CPU 1 with sched_setaffinity; each \
        connection sends a message and reads it back, in closed loop. Latency per request as the \
        client sees it (log-linear histogram, under 1.6 % error); server CPU is \
        getrusage(RUSAGE_SELF) over the client's window, every thread of the server, as % of one \
        core, and server user us/req its user-space part (ru_utime: the runtime and the echo \
        loop; the rest is the kernel's TCP, loopback and syscall work, the same for every \
        runtime that makes the same calls). What limits the figures on 2 cores: from 16 connections on, server and client \
        both run near 100 % of their CPU, so requests/s is the server's cost per request plus \
        the client's (and on loopback the sender's CPU also runs the receiver's TCP input \
        path, so each side's CPU includes part of the other's network work); at 1 connection \
        neither is busy and the figure is the round trip: two wake-ups from idle (latency, not \
        throughput). With the server on one CPU, the per-core layouts (aria-tpc, \
        tokio-ct-per-core, monoio, compio: SO_REUSEPORT listener per core) have one thread, and \
        aria-mt and tokio one worker each (block_on's thread accepts on aria-mt; tokio's \
        listener task runs on its worker): the layouts differ by their per-thread machinery, \
        not by scaling. The aria rows echo with read_owned / write_all_owned (IORING_OP_RECV / \
        SEND on io_uring); `aria-epoll (futures-io)` is aria-epoll through the futures-io traits, \
        for information (no target).";
    let mut v = Vec::new();
    let points: &[(&str, u64, u64)] = if quick { &[("100x16", 100, 16)] } else { &ECHO_POINTS };
    for (i, &(variant, size, conns)) in points.iter().enumerate() {
        let last_of_size = points.get(i + 1).is_none_or(|p| p.1 != size);
        let mut targets = Vec::new();
        if conns == 1 {
            for &peer in TOKIOS {
                targets.push(Target::Ratio { metric: "p99_us", peer, factor: 1.0 });
            }
        }
        let group = if size == 100 { "echo: 100 B" } else { "echo: 1024 B" };
        if last_of_size {
            targets.push(Target::Peak { metric: "requests_per_s", group, peers: TOKIOS, factor: 1.1 });
            targets.push(Target::Peak { metric: "requests_per_s", group, peers: &["monoio"], factor: 1.0 });
        }
        v.push(Case {
            title: format!("{group} x {conns} connection{}, closed loop", if conns == 1 { "" } else { "s" }),
            scenario: Scenario::Echo,
            size,
            window_ms: Some(window),
            rows: rows(variant),
            metrics: metrics.clone(),
            targets,
            note: if i == 0 {
                NOTE
            } else if last_of_size {
                "The peak targets take each row's best requests/s over the connection counts of \
                 this message size (per round), against the best of the peer rows named (for \
                 tokio: the best of its two layouts, multi-thread and current-thread per core)."
            } else {
                ""
            },
        });
    }
    if !quick {
        v.push(Case {
            title: "echo (fixed load): 100 B x 16 connections at 80,000 requests/s".into(),
            scenario: Scenario::Echo,
            size: 100,
            window_ms: Some(window),
            rows: rows("fixed"),
            metrics,
            targets: TOKIOS
                .iter()
                .map(|&peer| Target::Ratio { metric: "cpu_pct", peer, factor: 0.8 })
                .collect(),
            note: "The client paces each connection to 5,000 requests/s (80,000 in all, about half \
                   of tokio's peak at 100 B x 16 on the 2-core machine this was set up on; \
                   scenarios::echo::FIXED) and still waits for each reply; tokio's 1 ms timer \
                   makes the sends leave in 1 ms bursts. Server CPU at the same rate for every \
                   server is the cost per request. The window per point of the whole echo \
                   scenario is 1 s after a 0.1 s warm-up (the issue's 10 s per point would make \
                   9 points x 9 rows x 3 rounds take 81 minutes; 1 s keeps the echo scenario \
                   near 5 minutes of the full run); `--window-ms` changes it.",
        });
    }
    v
}

/// The http cases: hyper's hello world against wrk, a case per connection count.
fn http_cases(quick: bool, window_ms: Option<u64>) -> Vec<Case> {
    use Better::{Higher, Lower};
    use Runtime::{
        AriaEpoll as A, AriaMt as MT, AriaTpc as TPC, AriaUring as U, Tokio as T, TokioCtPerCore as TCC,
    };
    let window = window_ms.unwrap_or(if quick { 1000 } else { HTTP_WINDOW_MS });
    let duration_s = window.div_ceil(1000).max(1);
    let conns: &[u64] = if quick { &HTTP_CONNS[..1] } else { &HTTP_CONNS };
    const NOTE: &str = "hyper 1.x HTTP/1.1 (`hyper::server::conn::http1`, keep-alive, the runtime's \
        timer) answering every request with 200 OK and `Hello, world!`, one task per connection; \
        aria-io through `aria_io::hyper::HyperIo` / `HyperTimer`, tokio through hyper-util's \
        `TokioIo` / `TokioTimer`. The server (this process) is pinned to CPU 0 before any \
        runtime thread starts, the load generator `wrk -t1 --latency` (one thread, every \
        connection kept alive) pinned to CPU 1 with taskset; requests/s and the latency \
        percentiles are wrk's (its run includes opening the connections: no warm-up). Server \
        CPU is getrusage(RUSAGE_SELF) over wrk's run, every thread of the server, as % of one \
        core; wrk CPU is getrusage(RUSAGE_CHILDREN) of the wrk process. A socket error in wrk's \
        count (connect, read, write, timeout) or a response other than 2xx / 3xx fails the \
        measurement. What limits the figures on 2 cores: the server and wrk each have one \
        CPU, so requests/s is bounded by whichever of the two saturates first (on loopback the \
        sender's CPU also runs the receiver's TCP input path). The listener layouts are echo's: \
        with the server on one CPU, aria-tpc and tokio-ct-per-core have one thread, aria-mt and \
        tokio one worker each. The target is the issue's: hyper on aria >= 1.1 x hyper on \
        tokio (multi-thread, the usual hyper setup); the ratios to tokio-ct-per-core are shown \
        for information.";
    conns
        .iter()
        .enumerate()
        .map(|(i, &c)| Case {
            title: format!("http: hyper hello world x {c} connections, wrk for {duration_s} s"),
            scenario: Scenario::Http,
            size: c,
            window_ms: Some(window),
            rows: plain(&[A, U, TPC, MT, T, TCC]),
            metrics: vec![
                m("requests_per_s", "requests/s", Higher),
                m("p50_us", "p50 us", Lower),
                m("p99_us", "p99 us", Lower),
                m("cpu_pct", "server CPU %", Lower),
                m("cpu_us_per_req", "server CPU us/req", Lower),
                m("client_cpu_pct", "wrk CPU %", Lower),
            ],
            targets: vec![Target::Ratio { metric: "requests_per_s", peer: "tokio", factor: 1.1 }],
            note: if i == 0 { NOTE } else { "" },
        })
        .collect()
}

/// One measurement's metrics, or why it failed.
type Measurement = Result<BTreeMap<String, f64>, String>;

/// Results of a case: `results[round][row]`.
#[derive(Debug)]
pub struct CaseResult {
    /// The case.
    pub case: Case,
    /// Per round, per row.
    pub results: Vec<Vec<Measurement>>,
}

/// Runs this executable once with `args` (plus `--json`) and parses its JSON line.
pub fn measure_once(args: &[String]) -> Measurement {
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let out = Command::new(exe)
        .args(args)
        .arg("--json")
        .stdin(Stdio::null())
        .stderr(Stdio::piped())
        .output()
        .map_err(|e| e.to_string())?;
    if !out.status.success() {
        return Err(format!("{}: {}", out.status, String::from_utf8_lossy(&out.stderr).trim()));
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let line = text.lines().rev().find(|l| l.starts_with('{')).ok_or("no JSON line in the output")?;
    let v: serde_json::Value = serde_json::from_str(line).map_err(|e| e.to_string())?;
    let metrics = v.get("metrics").and_then(|m| m.as_object()).ok_or("no metrics in the JSON line")?;
    Ok(metrics.iter().filter_map(|(k, v)| Some((k.clone(), v.as_f64()?))).collect())
}

fn case_args(case: &Case, row: &Row, dir: &Path) -> Vec<String> {
    let mut a = vec![
        case.scenario.name().to_string(),
        "--runtime".into(),
        row.rt.name().into(),
        "--size".into(),
        case.size.to_string(),
        "--dir".into(),
        dir.display().to_string(),
    ];
    if let Some(v) = row.variant {
        a.extend(["--variant".into(), v.into()]);
    }
    if let Some(w) = case.window_ms {
        a.extend(["--window-ms".into(), w.to_string()]);
    }
    a
}

/// Runs every case for every row, rows in alternation within each round.
pub fn run_cases(cases: Vec<Case>, rounds: usize, dir: &Path) -> Vec<CaseResult> {
    let mut all = Vec::new();
    for case in cases {
        let mut results = Vec::new();
        for r in 0..rounds {
            let mut per_row = Vec::new();
            for row in &case.rows {
                let t0 = Instant::now();
                let res = measure_once(&case_args(&case, row, dir));
                let status = match &res {
                    Ok(_) => "ok".to_string(),
                    Err(e) => format!("FAILED: {e}"),
                };
                eprintln!(
                    "[{}] round {}/{rounds} {:<44} {:>6.1}s {status}",
                    case.scenario.name(),
                    r + 1,
                    row.label,
                    t0.elapsed().as_secs_f64()
                );
                per_row.push(res);
            }
            results.push(per_row);
        }
        all.push(CaseResult { case, results });
    }
    all
}

impl CaseResult {
    fn values(&self, row: usize, key: &str) -> Vec<f64> {
        self.results
            .iter()
            .map(|round| round[row].as_ref().ok().and_then(|m| m.get(key).copied()).unwrap_or(f64::NAN))
            .collect()
    }

    /// Median over rounds of `key` for `row`.
    pub fn median(&self, row: usize, key: &str) -> f64 {
        median(&self.values(row, key))
    }

    /// Median over rounds of the per-round ratio `aria / peer` for `key`.
    pub fn ratio(&self, aria: usize, peer: usize, key: &str) -> f64 {
        self.ratio_of((aria, key), (peer, key))
    }

    /// Median over rounds of the per-round ratio of `a`'s value to `b`'s, each a (row, key).
    pub fn ratio_of(&self, a: (usize, &str), b: (usize, &str)) -> f64 {
        let (a, b) = (self.values(a.0, a.1), self.values(b.0, b.1));
        let r: Vec<f64> = a.iter().zip(&b).map(|(a, b)| a / b).filter(|x| x.is_finite()).collect();
        median(&r)
    }

    fn aria_rows(&self) -> Vec<usize> {
        (0..self.case.rows.len()).filter(|&i| self.case.rows[i].rt.is_aria()).collect()
    }

    fn row_index(&self, label: &str) -> Option<usize> {
        self.case.row_index_of(label)
    }

    fn errors(&self) -> Vec<String> {
        let mut out = Vec::new();
        for (r, round) in self.results.iter().enumerate() {
            for (i, m) in round.iter().enumerate() {
                if let Err(e) = m {
                    out.push(format!("round {} {}: {e}", r + 1, self.case.rows[i].label));
                }
            }
        }
        out
    }
}

/// Formats a number with about three significant digits.
pub fn num(x: f64) -> String {
    if x.is_nan() {
        return "n/a".into();
    }
    let a = x.abs();
    if a >= 1000.0 {
        format!("{x:.0}")
    } else if a >= 100.0 {
        format!("{x:.1}")
    } else if a >= 10.0 {
        format!("{x:.2}")
    } else {
        format!("{x:.3}")
    }
}

/// A target's verdict: (description, measured, met).
fn verdict(all: &[CaseResult], cr: &CaseResult, t: &Target) -> Vec<(String, String, Option<bool>)> {
    let metric_label =
        |key: &'static str| cr.case.metrics.iter().find(|m| m.key == key).map_or(key, |m| m.label);
    // `ratio` is None when the peer row does not exist.
    let check = |who: &str, metric: &'static str, factor: f64, of: &str, ratio: Option<f64>| {
        let better = cr.case.metrics.iter().find(|m| m.key == metric).map_or(Better::Lower, |m| m.better);
        let (op, ok): (&str, fn(f64, f64) -> bool) = match better {
            Better::Higher => (">=", |r, f| r >= f),
            Better::Lower => ("<=", |r, f| r <= f),
        };
        let desc = format!("{who}: {} {op} {factor} x {of}", metric_label(metric));
        match ratio {
            Some(r) if r.is_nan() => (desc, "n/a".into(), None),
            Some(r) => (desc, format!("{}x", num(r)), Some(ok(r, factor))),
            None => (desc, "no such row".into(), None),
        }
    };
    let ratio = |a: usize, who: &str, metric: &'static str, peer: &str, factor: f64| {
        check(who, metric, factor, peer, cr.row_index(peer).map(|p| cr.ratio(a, p, metric)))
    };
    let mut out = Vec::new();
    for a in cr.aria_rows() {
        let row = &cr.case.rows[a];
        let who = row.label.as_str();
        match *t {
            Target::Ratio { metric, peer, factor } if row.targeted => {
                out.push(ratio(a, who, metric, peer, factor))
            }
            Target::RowRatio { row: only, metric, peer, factor } if only == who => {
                out.push(ratio(a, who, metric, peer, factor));
            }
            Target::OwnRatio { metric, base, factor } if row.targeted => {
                let of = format!("{} (same row)", metric_label(base));
                out.push(check(who, metric, factor, &of, Some(cr.ratio_of((a, metric), (a, base)))));
            }
            Target::Peak { metric, group, peers, factor } if row.targeted => {
                let of = format!("best of {} (max over \"{group}\" points)", peers.join(", "));
                let r = peak_ratio(all, group, who, peers, metric);
                let mut v = check(who, metric, factor, &of, Some(r));
                v.0 = v.0.replacen(": ", ": peak ", 1);
                out.push(v);
            }
            Target::AtMost { metric, max, text } if row.targeted => {
                let v = cr.median(a, metric);
                out.push((format!("{who}: {text}"), num(v), (!v.is_nan()).then_some(v <= max)));
            }
            _ => {}
        }
    }
    out
}

/// The median over rounds of (best `metric` of the row labelled `who` over the cases of
/// `group`) / (best of the `peers` rows over the same cases); NaN without values.
fn peak_ratio(all: &[CaseResult], group: &str, who: &str, peers: &[&str], metric: &str) -> f64 {
    let cases: Vec<&CaseResult> = all.iter().filter(|c| c.case.title.starts_with(group)).collect();
    let rounds = cases.iter().map(|c| c.results.len()).min().unwrap_or(0);
    let best = |labels: &[&str], round: usize| {
        cases
            .iter()
            .flat_map(|c| {
                labels.iter().filter_map(move |l| c.row_index(l)).map(move |i| c.values(i, metric)[round])
            })
            .filter(|x| !x.is_nan())
            .fold(f64::NAN, f64::max)
    };
    let r: Vec<f64> =
        (0..rounds).map(|round| best(&[who], round) / best(peers, round)).filter(|x| x.is_finite()).collect();
    median(&r)
}

fn mark(ok: Option<bool>) -> &'static str {
    match ok {
        Some(true) => "met",
        Some(false) => "**MISSED**",
        None => "n/a",
    }
}

/// The markdown tables of every case: targets first, then per case medians and ratios.
pub fn tables(results: &[CaseResult], rounds: usize) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "## Targets\n");
    let _ = writeln!(s, "| scenario | target | measured | verdict |\n|---|---|---|---|");
    for cr in results {
        for t in &cr.case.targets {
            for (desc, value, ok) in verdict(results, cr, t) {
                let _ = writeln!(s, "| {} | {desc} | {value} | {} |", cr.case.scenario.name(), mark(ok));
            }
        }
    }
    let _ = writeln!(
        s,
        "\nRatios are aria/peer computed round by round (each round's aria value over the same \
         round's peer value), then the median over the {rounds} round(s).\n"
    );
    for cr in results {
        let c = &cr.case;
        let _ = writeln!(s, "### {}\n", c.title);
        if !c.note.is_empty() {
            let _ = writeln!(s, "{}\n", c.note);
        }
        let head: Vec<&str> = c.metrics.iter().map(|m| m.label).collect();
        let _ = writeln!(s, "Medians of {rounds} round(s):\n");
        let _ = writeln!(s, "| runtime | {} |", head.join(" | "));
        let _ = writeln!(s, "|---|{}", "---|".repeat(head.len()));
        for (i, r) in c.rows.iter().enumerate() {
            let cells: Vec<String> = c.metrics.iter().map(|m| num(cr.median(i, m.key))).collect();
            let _ = writeln!(s, "| {} | {} |", r.label, cells.join(" | "));
        }
        for a in cr.aria_rows() {
            let _ = writeln!(s, "\nRatio {} / peer (median of per-round ratios):\n", c.rows[a].label);
            let _ = writeln!(s, "| peer | {} |", head.join(" | "));
            let _ = writeln!(s, "|---|{}", "---|".repeat(head.len()));
            for (p, r) in c.rows.iter().enumerate().filter(|(p, _)| *p != a) {
                let cells: Vec<String> =
                    c.metrics.iter().map(|m| format!("{}x", num(cr.ratio(a, p, m.key)))).collect();
                let _ = writeln!(s, "| {} | {} |", r.label, cells.join(" | "));
            }
        }
        let errors = cr.errors();
        if !errors.is_empty() {
            let _ = writeln!(s, "\nFailures:\n");
            for e in errors {
                let _ = writeln!(s, "- {}", e.replace('\n', " "));
            }
        }
        let _ = writeln!(s);
    }
    s
}

/// Runs a shell command and returns its trimmed stdout, or `?`.
pub fn sh(cmd: &str, args: &[&str]) -> String {
    Command::new(cmd)
        .args(args)
        .stderr(Stdio::null())
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map_or_else(|| "?".into(), |o| String::from_utf8_lossy(&o.stdout).trim().to_string())
}

/// Versions of the compared crates, from the workspace's Cargo.lock (found from the current
/// directory upwards).
fn crate_versions() -> Vec<(String, String)> {
    const WANTED: [&str; 14] = [
        "aria-io",
        "tokio",
        "hyper",
        "hyper-util",
        "monoio",
        "compio",
        "async-process",
        "async-executor",
        "async-io",
        "async-channel",
        "async-fs",
        "event-listener",
        "futures-lite",
        "serde_json",
    ];
    let mut dir = std::env::current_dir().ok();
    let mut lock = None;
    while let Some(d) = dir {
        if let Ok(text) = std::fs::read_to_string(d.join("Cargo.lock")) {
            lock = Some(text);
            break;
        }
        dir = d.parent().map(Path::to_path_buf);
    }
    let Some(lock) = lock else { return Vec::new() };
    let mut out = Vec::new();
    let mut name = None;
    for line in lock.lines() {
        if let Some(n) = line.strip_prefix("name = ") {
            name = Some(n.trim_matches('"').to_string());
        } else if let (Some(v), Some(n)) = (line.strip_prefix("version = "), name.take()) {
            if WANTED.contains(&n.as_str()) {
                out.push((n, v.trim_matches('"').to_string()));
            }
        }
    }
    out.sort_by_key(|(n, _)| WANTED.iter().position(|w| w == n));
    out
}

fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|t| {
            t.lines().find_map(|l| {
                Some(l.strip_prefix("model name")?.trim_start_matches([' ', '\t', ':']).to_string())
            })
        })
        .unwrap_or_else(|| "?".into())
}

/// The report's header: when, where, with what, and how.
pub fn header(opts: &Options, rounds: usize, elapsed_s: f64) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "# Benchmarks\n");
    let _ = writeln!(
        s,
        "Generated by `scripts/bench.sh` (the `aria-bench --all` mode of `crates/aria-bench`); do not \
         edit by hand. Each measurement runs in a fresh process; runtimes alternate within each round \
         (A B C A B C ...). New capabilities add their scenario there (see the crate docs).\n"
    );
    let command = opts.command.clone().unwrap_or_else(|| std::env::args().collect::<Vec<_>>().join(" "));
    let _ = writeln!(s, "- date: {}", sh("date", &["-u", "+%Y-%m-%d %H:%M UTC"]));
    let _ = writeln!(s, "- command: `{command}`");
    let _ = writeln!(s, "- nproc: {}", sh("nproc", &[]));
    let _ = writeln!(s, "- uname -r: {}", sh("uname", &["-r"]));
    let _ = writeln!(s, "- cpu: {}", cpu_model());
    let _ = writeln!(s, "- rustc: {}", sh("rustc", &["-V"]));
    let _ = writeln!(s, "- aria-io commit: {}", sh("git", &["rev-parse", "--short", "HEAD"]));
    let versions: Vec<String> = crate_versions().iter().map(|(n, v)| format!("{n} {v}")).collect();
    let _ = writeln!(s, "- crates: {}", versions.join(", "));
    let _ = writeln!(
        s,
        "- rounds: {rounds}{}",
        if opts.quick { " (quick sizes: a smoke test, not results)" } else { "" }
    );
    let _ = writeln!(s, "- files written to: {}", opts.dir.display());
    let _ = writeln!(s, "- total run time: {elapsed_s:.0} s\n");
    let _ = writeln!(
        s,
        "Runtimes: `aria-epoll` and `aria-uring` are aria-io's current-thread runtime on its epoll and \
         io_uring backends (forced with `Builder::backend`); `aria-mt` is aria-io's multi-thread \
         work-stealing runtime (`Builder::new_multi_thread()`, workers = available parallelism, \
         default backend) and `aria-mt1` the same with one worker; `aria-tpc` is aria-io's \
         thread-per-core runtime (`Builder::new_thread_per_core()`, one core per available CPU, each \
         with its own scheduler and driver; block_on's spawns go to the cores in turn); `tokio` is the multi-thread \
         runtime with default settings (worker threads = nproc); `tokio-ct` is tokio's current-thread \
         runtime, and `tokio-ct-per-core` one such runtime per available CPU, each on its own thread \
         (echo and http only); `monoio` (FusionDriver: io_uring, legacy epoll fallback) and `compio` \
         (io_uring) run a runtime per available CPU (echo only); `async-process` / `async-executor` / `async-io Timer` is smol's parts (async-process on \
         an async-executor run by async-io's block_on on the main thread); `std` is std::process with a \
         thread per waiting child and std::io::copy. The ash scenarios run scripts as whole \
         processes: `ariash` (the shell built on aria-io, the aria row of their tables) against \
         `bash`, `dash`, `fish` and `python3` (`-c SCRIPT` each; a shell not installed has no row).\n"
    );
    s
}

/// Drops the rows of the ash cases whose interpreter is not installed (fish, dash, even bash
/// or python3), saying so once per interpreter, so their tables show the others.
///
/// # Errors
/// ariash itself cannot be found while an ash case is selected.
fn skip_missing_shells(cases: &mut [Case]) -> io::Result<()> {
    let ash =
        [Scenario::AshLoop, Scenario::AshSpawn, Scenario::AshStartup, Scenario::AshPrompt, Scenario::AshIdle];
    let mut noted = Vec::new();
    for c in cases.iter_mut().filter(|c| ash.contains(&c.scenario)) {
        crate::runtimes::interpreter(Runtime::Ariash)?;
        c.rows.retain(|r| match crate::runtimes::interpreter(r.rt) {
            Ok(_) => true,
            Err(e) => {
                if !noted.contains(&r.rt) {
                    eprintln!("note: {e}: skipping its rows of the ash scenarios");
                    noted.push(r.rt);
                }
                false
            }
        });
    }
    Ok(())
}

/// The `--all` mode.
///
/// # Errors
/// Writing the report.
pub fn run_all(opts: &Options) -> io::Result<()> {
    let start = Instant::now();
    let rounds = opts.rounds.unwrap_or(if opts.quick { 1 } else { 3 });
    let mut cases: Vec<Case> = cases(opts.quick, opts.window_ms)
        .into_iter()
        .filter(|c| opts.only.is_empty() || opts.only.iter().any(|o| c.scenario.name() == o))
        .collect();
    // The CI smoke test runs where wrk may not be installable: skip rather than fail.
    if opts.quick
        && cases.iter().any(|c| c.scenario == Scenario::Http)
        && crate::scenarios::http::on_path("wrk").is_none()
    {
        eprintln!("note: wrk is not installed (apt-get install -y wrk): skipping the http scenario");
        cases.retain(|c| c.scenario != Scenario::Http);
    }
    skip_missing_shells(&mut cases)?;
    crate::runtimes::writer_path()?;
    crate::runtimes::helper_path("bench-echo-client")?;
    let results = run_cases(cases, rounds, &opts.dir);
    let mut body = tables(&results, rounds);
    if opts.strace && !opts.quick {
        body.push_str(&crate::syscalls::section(&opts.dir, &opts.only));
    }
    let doc = format!("{}{body}", header(opts, rounds, start.elapsed().as_secs_f64()));
    println!("{doc}");
    if let Some(out) = &opts.out {
        std::fs::write(out, &doc)?;
        eprintln!("wrote {}", out.display());
    }
    let failed: usize = results.iter().map(|r| r.errors().len()).sum();
    if failed > 0 {
        return Err(io::Error::other(format!("{failed} measurement(s) failed; see the report")));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn result(values: &[[f64; 2]]) -> CaseResult {
        let case = cases(true, None).remove(0);
        let results = values
            .iter()
            .map(|round| {
                (0..case.rows.len())
                    .map(|i| Ok(BTreeMap::from([("spawns_per_s".to_string(), round[i.min(1)])])))
                    .collect()
            })
            .collect();
        CaseResult { case, results }
    }

    #[test]
    fn ratios_are_per_round_medians() {
        // Round ratios 2/1, 3/6, 4/2 = 2, 0.5, 2: median 2, not median(a)/median(b) = 3/2.
        let cr = result(&[[2.0, 1.0], [3.0, 6.0], [4.0, 2.0]]);
        assert_eq!(cr.ratio(0, 1, "spawns_per_s"), 2.0);
        assert_eq!(cr.median(0, "spawns_per_s"), 3.0);
    }

    #[test]
    fn own_ratio_divides_two_columns_of_the_same_row_round_by_round() {
        let case = cases(true, None).into_iter().find(|c| c.scenario == Scenario::ExitLatency).unwrap();
        let target = Target::OwnRatio { metric: "p99_ms", base: "close_ms", factor: 1.05 };
        // Round ratios 2/2, 3/2, 4/4 = 1, 1.5, 1: median 1 for every row.
        let results = [(2.0, 2.0), (3.0, 2.0), (4.0, 4.0)]
            .iter()
            .map(|&(p99, close)| {
                let m = BTreeMap::from([("p99_ms".to_string(), p99), ("close_ms".to_string(), close)]);
                (0..case.rows.len()).map(|_| Ok(m.clone())).collect()
            })
            .collect();
        let cr = CaseResult { case, results };
        let v = verdict(&[], &cr, &target);
        assert_eq!(v.len(), cr.aria_rows().len());
        assert_eq!(
            v[0],
            ("aria-epoll: p99 ms <= 1.05 x closing ms (same row)".into(), "1.000x".into(), Some(true))
        );
    }

    #[test]
    fn every_case_has_an_aria_row_and_known_target_peers() {
        for c in cases(false, None) {
            assert!(c.rows[0].rt.is_aria(), "{}", c.title);
            let has_row = |label: &str| c.rows.iter().any(|r| r.label == label);
            let has_column = |key: &str| c.metrics.iter().any(|m| m.key == key);
            for t in &c.targets {
                let metric = match t {
                    Target::Ratio { peer, metric, .. } => {
                        assert!(has_row(peer), "{}: {peer}", c.title);
                        metric
                    }
                    Target::RowRatio { row, peer, metric, .. } => {
                        assert!(
                            c.rows.iter().any(|r| r.label == *row && r.rt.is_aria()),
                            "{}: {row}",
                            c.title
                        );
                        assert!(has_row(peer), "{}: {peer}", c.title);
                        metric
                    }
                    Target::OwnRatio { base, metric, .. } => {
                        assert!(has_column(base), "{}: {base}", c.title);
                        metric
                    }
                    Target::Peak { peers, metric, group, .. } => {
                        assert!(c.title.starts_with(group), "{}: {group}", c.title);
                        for peer in *peers {
                            assert!(has_row(peer), "{}: {peer}", c.title);
                        }
                        metric
                    }
                    Target::AtMost { metric, .. } => metric,
                };
                assert!(has_column(metric), "{}: {metric}", c.title);
            }
        }
    }

    #[test]
    fn peak_targets_compare_each_rows_best_point_with_the_best_peer_layout() {
        let echo: Vec<Case> = cases(false, None)
            .into_iter()
            .filter(|c| c.scenario == Scenario::Echo && c.title.starts_with("echo: 100 B"))
            .take(2)
            .collect();
        let rows = echo[0].rows.len();
        let aria = echo[0].rows[0].label.clone();
        let index = |l: &str| echo[0].row_index_of(l).unwrap();
        let (a, t, tc) = (0, index("tokio"), index("tokio-ct-per-core"));
        // Point 1: aria 100, tokio 90, tokio-ct-per-core 50; point 2: aria 120, tokio 60,
        // tokio-ct-per-core 100. aria's best 120 over the best tokio layout's 100.
        let values = [[(a, 100.0), (t, 90.0), (tc, 50.0)], [(a, 120.0), (t, 60.0), (tc, 100.0)]];
        let all: Vec<CaseResult> = echo
            .into_iter()
            .zip(values)
            .map(|(case, vals)| {
                let round = (0..rows)
                    .map(|i| {
                        let v = vals.iter().find(|(r, _)| *r == i).map_or(1.0, |(_, v)| *v);
                        Ok(BTreeMap::from([("requests_per_s".to_string(), v)]))
                    })
                    .collect();
                CaseResult { case, results: vec![round] }
            })
            .collect();
        let r = peak_ratio(&all, "echo: 100 B", &aria, &["tokio", "tokio-ct-per-core"], "requests_per_s");
        assert!((r - 1.2).abs() < 1e-9, "{r}");
    }

    #[test]
    fn numbers() {
        assert_eq!(num(1234.5), "1234");
        assert_eq!(num(12.345), "12.35");
        assert_eq!(num(0.5), "0.500");
        assert_eq!(num(f64::NAN), "n/a");
    }
}
