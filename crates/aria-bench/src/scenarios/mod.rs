//! One module per scenario. Each exposes `run(runtime, &Params) -> io::Result<Metrics>`,
//! measuring inside a fresh process (the orchestrator starts one per measurement).

pub mod ash_loop;
pub mod ash_prompt;
pub mod ash_spawn;
pub mod ash_startup;
pub mod channel;
pub mod echo;
pub mod exit_latency;
pub mod fanout;
pub mod http;
pub mod idle;
pub mod output;
pub mod par_map;
pub mod pipe_copy;
pub mod pipeline;
pub mod server;
pub mod shell;
pub mod spawn;
pub mod tasks;
pub mod timers;
pub mod yield_;

use std::future::Future;
use std::io;
use std::path::PathBuf;
use std::pin::Pin;
use std::time::{Duration, Instant};

use crate::runtimes::{self, aria_rt, unsupported, Runtime, EXECUTOR};

/// The numbers one measurement produces, in display order.
pub type Metrics = Vec<(&'static str, f64)>;

/// What a measurement is asked to do.
#[derive(Debug, Clone)]
pub struct Params {
    /// The scenario's size: a count of children, tasks, messages or connections (http), loop
    /// iterations (ash-loop), spawns (ash-spawn), runs (ash-startup, ash-prompt) or background
    /// jobs (ash-idle), or a number of bytes.
    pub size: u64,
    /// Scenario-specific variant: `native`/`portable` (yield, channel), `text`/`data`
    /// (pipeline), `SIZExCONNS[@RATE]` or `fixed` (echo), `uring` (ash-startup).
    pub variant: Option<String>,
    /// How long the idle scenario watches the children, echo's measuring window, wrk's
    /// duration (http, rounded up to whole seconds), and how long ash-idle watches the REPL.
    pub window: Duration,
    /// Where scenarios write their files (pipe-copy).
    pub dir: PathBuf,
}

/// The scenarios, in table order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scenario {
    /// Spawn and wait for trivial children, at most 64 alive.
    Spawn,
    /// Time from closing the stdins of N `cat`s until each wait returns.
    ExitLatency,
    /// CPU and threads while waiting on sleeping children.
    Idle,
    /// Collecting stdout and stderr with `output()`.
    Output,
    /// Copying a child's stdout into a file.
    PipeCopy,
    /// Multi-stage pipelines.
    Pipeline,
    /// Spawning and joining empty tasks.
    Tasks,
    /// Ping-pong between two tasks.
    Yield,
    /// Many sleeps with random deadlines.
    Timers,
    /// One producer, one consumer over a bounded channel.
    Channel,
    /// N tasks sleep 1 ms and send on a channel; the main task receives.
    Fanout,
    /// A CPU-bound parallel map (Rayon bridge, spawn_blocking chunks, sequential).
    ParMap,
    /// Ping-pong over loopback TCP against a load generator in another process.
    Echo,
    /// A hyper hello-world server against wrk in another process.
    Http,
    /// A 1,000,000-iteration integer loop in ariash against bash, dash, fish and python3.
    AshLoop,
    /// Sequential `run("true")` in ariash against `/bin/true` from bash, dash and fish.
    AshSpawn,
    /// `ariash -c 'exit(0);'` against `bash -c 'exit 0'` and the others.
    AshStartup,
    /// The interactive shell's time to its first prompt, against `bash -i` and `fish -i`.
    AshPrompt,
    /// The idle REPL with hundreds of background jobs: wake-ups, CPU, notice latency.
    AshIdle,
}

impl Scenario {
    /// Every scenario, in table order.
    pub const ALL: [Scenario; 19] = [
        Scenario::Spawn,
        Scenario::ExitLatency,
        Scenario::Idle,
        Scenario::Output,
        Scenario::PipeCopy,
        Scenario::Pipeline,
        Scenario::Tasks,
        Scenario::Yield,
        Scenario::Timers,
        Scenario::Channel,
        Scenario::Fanout,
        Scenario::ParMap,
        Scenario::Echo,
        Scenario::Http,
        Scenario::AshLoop,
        Scenario::AshSpawn,
        Scenario::AshStartup,
        Scenario::AshPrompt,
        Scenario::AshIdle,
    ];

    /// The subcommand name.
    pub fn name(self) -> &'static str {
        match self {
            Scenario::Spawn => "spawn",
            Scenario::ExitLatency => "exit-latency",
            Scenario::Idle => "idle",
            Scenario::Output => "output",
            Scenario::PipeCopy => "pipe-copy",
            Scenario::Pipeline => "pipeline",
            Scenario::Tasks => "tasks",
            Scenario::Yield => "yield",
            Scenario::Timers => "timers",
            Scenario::Channel => "channel",
            Scenario::Fanout => "fanout",
            Scenario::ParMap => "par-map",
            Scenario::Echo => "echo",
            Scenario::Http => "http",
            Scenario::AshLoop => "ash-loop",
            Scenario::AshSpawn => "ash-spawn",
            Scenario::AshStartup => "ash-startup",
            Scenario::AshPrompt => "ash-prompt",
            Scenario::AshIdle => "ash-idle",
        }
    }

    /// Parses a subcommand name.
    pub fn parse(s: &str) -> Option<Scenario> {
        Scenario::ALL.into_iter().find(|sc| sc.name() == s)
    }

    /// The size used when `--size` is not given.
    pub fn default_size(self) -> u64 {
        const MIB: u64 = 1 << 20;
        match self {
            Scenario::Spawn => 2000,
            Scenario::ExitLatency => 2000,
            Scenario::Idle => 200,
            Scenario::Output => 256 * MIB,
            Scenario::PipeCopy => 2048 * MIB,
            Scenario::Pipeline => 200 * MIB,
            Scenario::Tasks => 1_000_000,
            Scenario::Yield => 1_000_000,
            Scenario::Timers => 1_000_000,
            Scenario::Channel => 10_000_000,
            Scenario::Fanout => 10_000,
            Scenario::ParMap => 1_000_000,
            Scenario::Echo => 0,
            Scenario::Http => 64,
            Scenario::AshLoop => 1_000_000,
            Scenario::AshSpawn => 20_000,
            Scenario::AshStartup => 300,
            Scenario::AshPrompt => 50,
            Scenario::AshIdle => 500,
        }
    }

    /// Runs one measurement.
    ///
    /// # Errors
    /// A runtime the scenario does not support, or whatever the scenario hit.
    pub fn run(self, rt: Runtime, p: &Params) -> io::Result<Metrics> {
        match self {
            Scenario::Spawn => spawn::run(rt, p),
            Scenario::ExitLatency => exit_latency::run(rt, p),
            Scenario::Idle => idle::run(rt, p),
            Scenario::Output => output::run(rt, p),
            Scenario::PipeCopy => pipe_copy::run(rt, p),
            Scenario::Pipeline => pipeline::run(rt, p),
            Scenario::Tasks => tasks::run(rt, p),
            Scenario::Yield => yield_::run(rt, p),
            Scenario::Timers => timers::run(rt, p),
            Scenario::Channel => channel::run(rt, p),
            Scenario::Fanout => fanout::run(rt, p),
            Scenario::ParMap => par_map::run(rt, p),
            Scenario::Echo => echo::run(rt, p),
            Scenario::Http => http::run(rt, p),
            Scenario::AshLoop => ash_loop::run(rt, p),
            Scenario::AshSpawn => ash_spawn::run(rt, p),
            Scenario::AshStartup => ash_startup::run(rt, p),
            Scenario::AshPrompt => ash_prompt::run_prompt(rt, p),
            Scenario::AshIdle => ash_prompt::run_idle(rt, p),
        }
    }
}

/// Seconds as a float.
pub fn secs(d: Duration) -> f64 {
    d.as_secs_f64()
}

/// Bytes to MiB.
pub fn mib(bytes: u64) -> f64 {
    bytes as f64 / (1u64 << 20) as f64
}

/// An error for a child that did not exit successfully.
pub fn check_status(ok: bool, what: &str, status: &dyn std::fmt::Display) -> io::Result<()> {
    if ok {
        Ok(())
    } else {
        Err(io::Error::other(format!("{what} failed: {status}")))
    }
}

/// The variant of `p`, or `default`.
pub fn variant<'a>(p: &'a Params, default: &'a str) -> &'a str {
    p.variant.as_deref().unwrap_or(default)
}

/// A task of the two-task scenarios (yield, channel): built once, spawned on any runtime.
pub type Task<T> = Pin<Box<dyn Future<Output = T> + Send>>;

/// Where aria-tpc puts the two tasks of [`spawn_pair`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Placement {
    /// Both on core 0, as a program places two tasks that talk.
    SameCore,
    /// On cores 0 and 1: every wake-up crosses threads.
    CrossCore,
}

/// Spawns `a` and `b` on a fresh runtime `rt` (aria-io's, tokio's, or smol's executor) from
/// its main task (on aria-tpc, on the cores `placement` says, with `Handle::spawn_on`),
/// awaits both, and returns the time from before the spawns until both finished, with `b`'s
/// output.
///
/// # Errors
/// The runtime's creation error, a task that panicked, or [`unsupported`] for `std` and
/// `bash`.
pub fn spawn_pair<T: Send + 'static>(
    rt: Runtime,
    scenario: &str,
    a: Task<()>,
    b: Task<T>,
    placement: Placement,
) -> io::Result<(Duration, T)> {
    match rt {
        aria_rt!() => runtimes::aria(rt, async {
            let t0 = Instant::now();
            let (a, b) = if rt == Runtime::AriaTpc {
                // (Plain spawns from block_on would go to the cores in turn.)
                let h = aria_io::Handle::current();
                let core_b = match placement {
                    Placement::SameCore => 0,
                    Placement::CrossCore => 1 % h.cores().unwrap_or(1),
                };
                (h.spawn_on(0, move || a), h.spawn_on(core_b, move || b))
            } else {
                (aria_io::spawn(a), aria_io::spawn(b))
            };
            a.await?;
            let out = b.await?;
            Ok((t0.elapsed(), out))
        })?,
        Runtime::Tokio | Runtime::TokioCt => runtimes::tokio(runtimes::tokio_flavor(rt), async {
            let t0 = Instant::now();
            let (a, b) = (tokio::spawn(a), tokio::spawn(b));
            a.await?;
            let out = b.await?;
            Ok((t0.elapsed(), out))
        })?,
        Runtime::AsyncProcess => Ok(runtimes::smol(async {
            let t0 = Instant::now();
            let (a, b) = (EXECUTOR.spawn(a), EXECUTOR.spawn(b));
            a.await;
            let out = b.await;
            (t0.elapsed(), out)
        })),
        Runtime::Std | Runtime::Bash | runtimes::echo_only!() | runtimes::script_only!() => {
            Err(unsupported(scenario, rt))
        }
    }
}
