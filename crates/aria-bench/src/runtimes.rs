//! The runtimes under comparison and how each one is started.
//!
//! | name            | what runs the scenario                                                   |
//! |-----------------|--------------------------------------------------------------------------|
//! | `aria-epoll`    | `aria_io::Runtime` (current-thread) on the epoll backend                 |
//! | `aria-uring`    | `aria_io::Runtime` (current-thread) on the io_uring backend              |
//! | `aria-mt`       | `aria_io::Runtime` multi-thread, workers = available parallelism,       |
//! |                 | default backend                                                          |
//! | `aria-mt1`      | `aria_io::Runtime` multi-thread with 1 worker (scaling baseline)         |
//! | `aria-tpc`      | `aria_io::Runtime` thread-per-core, cores = available parallelism,       |
//! |                 | default backend; `block_on`'s spawns go to the cores in turn             |
//! | `tokio`         | tokio multi-thread runtime with default settings                          |
//! | `tokio-ct`      | tokio current-thread runtime (extra row where aria is compared to it)    |
//! | `tokio-ct-per-core` | a tokio current-thread runtime per available CPU, each on its own    |
//! |                 | thread, a listener per thread (SO_REUSEPORT); echo and http only         |
//! | `monoio`        | monoio 0.2 (default FusionDriver: io_uring, legacy epoll fallback), a    |
//! |                 | runtime per available CPU; echo only                                     |
//! | `compio`        | compio 0.19 (io_uring driver), a runtime per available CPU; echo only    |
//! | `async-process` | async-process on async-executor + async-io (smol's parts), one thread    |
//! | `std`           | std::process with a thread per waiting child, std::io::copy              |
//! | `bash`          | `bash -c` (pipelines, and the ash scenarios' peer)                       |
//! | `ariash`        | the `ariash` binary next to this executable (or `$ARIASH`), `-c SCRIPT`; |
//! |                 | the ash scenarios only (the aria row of their tables)                    |
//! | `dash`, `fish`  | `dash -c` / `fish -c`, when installed; the ash scenarios only            |
//! | `python3`       | the interpreter `python3` on PATH resolves to (`sys.executable`, past    |
//! |                 | pyenv's shims), `-c SCRIPT`; the ash scenarios only                      |

use std::fmt;
use std::future::Future;
use std::io;
use std::path::PathBuf;

/// The pattern of every aria-io runtime, for the scenarios' `match rt` arms:
/// `aria_rt!() => runtimes::aria(rt, ...)`. Adding an aria-io runtime is one edit here, and
/// the matches stay exhaustive.
macro_rules! aria_rt {
    () => {
        $crate::runtimes::Runtime::AriaEpoll
            | $crate::runtimes::Runtime::AriaUring
            | $crate::runtimes::Runtime::AriaMt
            | $crate::runtimes::Runtime::AriaMt1
            | $crate::runtimes::Runtime::AriaTpc
    };
}
pub(crate) use aria_rt;

/// A runtime (or baseline) a scenario can run on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Runtime {
    /// aria-io on its epoll backend.
    AriaEpoll,
    /// aria-io on its io_uring backend.
    AriaUring,
    /// aria-io's multi-thread runtime, default workers and backend.
    AriaMt,
    /// aria-io's multi-thread runtime with one worker.
    AriaMt1,
    /// aria-io's thread-per-core runtime, default cores and backend.
    AriaTpc,
    /// tokio, multi-thread, default settings.
    Tokio,
    /// tokio, current-thread.
    TokioCt,
    /// tokio, a current-thread runtime per available CPU (echo and http only).
    TokioCtPerCore,
    /// monoio, a runtime per available CPU (echo only).
    Monoio,
    /// compio, a runtime per available CPU (echo only).
    Compio,
    /// async-process / async-executor / async-io.
    AsyncProcess,
    /// Blocking std with threads.
    Std,
    /// `bash -c` (pipelines, ash scenarios).
    Bash,
    /// The ariash script runner, built on aria-io (ash scenarios).
    Ariash,
    /// `dash -c` (ash scenarios).
    Dash,
    /// `fish -c` (ash scenarios).
    Fish,
    /// `python3 -c` (ash scenarios).
    Python3,
}

impl Runtime {
    /// The name used by `--runtime` and in the tables.
    pub fn name(self) -> &'static str {
        match self {
            Runtime::AriaEpoll => "aria-epoll",
            Runtime::AriaUring => "aria-uring",
            Runtime::AriaMt => "aria-mt",
            Runtime::AriaMt1 => "aria-mt1",
            Runtime::AriaTpc => "aria-tpc",
            Runtime::Tokio => "tokio",
            Runtime::TokioCt => "tokio-ct",
            Runtime::TokioCtPerCore => "tokio-ct-per-core",
            Runtime::Monoio => "monoio",
            Runtime::Compio => "compio",
            Runtime::AsyncProcess => "async-process",
            Runtime::Std => "std",
            Runtime::Bash => "bash",
            Runtime::Ariash => "ariash",
            Runtime::Dash => "dash",
            Runtime::Fish => "fish",
            Runtime::Python3 => "python3",
        }
    }

    /// Parses a `--runtime` value (`aria` is accepted for `aria-epoll`, `uring` for
    /// `aria-uring`, `mt` for `aria-mt`, `tpc` for `aria-tpc`, `smol` for `async-process`).
    ///
    /// # Errors
    /// An unknown name.
    pub fn parse(s: &str) -> io::Result<Runtime> {
        match s {
            "aria" | "aria-epoll" => Ok(Runtime::AriaEpoll),
            "uring" | "aria-uring" => Ok(Runtime::AriaUring),
            "mt" | "aria-mt" => Ok(Runtime::AriaMt),
            "aria-mt1" => Ok(Runtime::AriaMt1),
            "tpc" | "aria-tpc" => Ok(Runtime::AriaTpc),
            "tokio" => Ok(Runtime::Tokio),
            "tokio-ct" => Ok(Runtime::TokioCt),
            "tokio-ct-per-core" => Ok(Runtime::TokioCtPerCore),
            "monoio" => Ok(Runtime::Monoio),
            "compio" => Ok(Runtime::Compio),
            "async-process" | "smol" => Ok(Runtime::AsyncProcess),
            "std" => Ok(Runtime::Std),
            "bash" => Ok(Runtime::Bash),
            "ariash" => Ok(Runtime::Ariash),
            "dash" => Ok(Runtime::Dash),
            "fish" => Ok(Runtime::Fish),
            "python3" => Ok(Runtime::Python3),
            _ => Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("unknown runtime `{s}` (aria-epoll, aria-uring, aria-mt, aria-mt1, aria-tpc, tokio, tokio-ct, tokio-ct-per-core, monoio, compio, async-process, std, bash, ariash, dash, fish, python3)"),
            )),
        }
    }

    /// Whether this is one of aria-io's backends, or ariash (the shell built on it): the rows
    /// whose ratios to the peers are printed and checked against the targets.
    pub fn is_aria(self) -> bool {
        matches!(self, aria_rt!() | Runtime::Ariash)
    }
}

impl fmt::Display for Runtime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The error for a scenario that has no implementation on a runtime.
pub fn unsupported(scenario: &str, rt: Runtime) -> io::Error {
    io::Error::new(io::ErrorKind::Unsupported, format!("scenario `{scenario}` does not run on `{rt}`"))
}

/// Runs `fut` on a fresh aria-io runtime: current-thread with the backend of `rt`
/// (`aria-epoll` or `aria-uring`, forced with `Builder::backend` whatever `ARIA_IO_BACKEND`
/// says), multi-thread (`aria-mt`: default workers and backend; `aria-mt1`: one worker), or
/// thread-per-core (`aria-tpc`: default cores and backend).
///
/// # Errors
/// The runtime's creation error (`Unsupported` when io_uring is not available).
pub fn aria<F: Future>(rt: Runtime, fut: F) -> io::Result<F::Output> {
    let rt = match rt {
        Runtime::AriaMt => aria_io::Builder::new_multi_thread().build()?,
        Runtime::AriaMt1 => aria_io::Builder::new_multi_thread().worker_threads(1).build()?,
        Runtime::AriaTpc => aria_io::Builder::new_thread_per_core().build()?,
        Runtime::AriaUring => {
            aria_io::Builder::new_current_thread().backend(aria_io::BackendKind::IoUring).build()?
        }
        _ => aria_io::Builder::new_current_thread().backend(aria_io::BackendKind::Epoll).build()?,
    };
    Ok(rt.block_on(fut))
}

/// Runs `fut` on a fresh tokio runtime: multi-thread with default settings, or
/// current-thread.
///
/// # Errors
/// The runtime's creation error.
pub fn tokio<F: Future>(multi_thread: bool, fut: F) -> io::Result<F::Output> {
    let rt = if multi_thread {
        tokio::runtime::Runtime::new()?
    } else {
        tokio::runtime::Builder::new_current_thread().enable_all().build()?
    };
    Ok(rt.block_on(fut))
}

/// The executor of the `async-process` runtime, run by [`smol`] on the calling thread.
pub static EXECUTOR: async_executor::Executor<'static> = async_executor::Executor::new();

/// Runs `fut` with async-io's `block_on` driving [`EXECUTOR`] on the calling thread (what
/// `smol::block_on` plus a global executor amounts to).
pub fn smol<F: Future>(fut: F) -> F::Output {
    async_io::block_on(EXECUTOR.run(fut))
}

/// The peers that only the loopback scenarios run on (`tokio-ct-per-core`: echo and http;
/// monoio, compio: echo), for the other scenarios' `match rt` arms:
/// `echo_only!() => return Err(unsupported(..))`.
macro_rules! echo_only {
    () => {
        $crate::runtimes::Runtime::TokioCtPerCore
            | $crate::runtimes::Runtime::Monoio
            | $crate::runtimes::Runtime::Compio
    };
}
pub(crate) use echo_only;

/// The script interpreters only the ash scenarios run on (bash, which the pipeline scenario
/// also runs, is not one), for the other scenarios' `match rt` arms:
/// `script_only!() => return Err(unsupported(..))`.
macro_rules! script_only {
    () => {
        $crate::runtimes::Runtime::Ariash
            | $crate::runtimes::Runtime::Dash
            | $crate::runtimes::Runtime::Fish
            | $crate::runtimes::Runtime::Python3
    };
}
pub(crate) use script_only;

/// The program that runs the ash scenarios' scripts for `rt`: `$ARIASH`, else the `ariash`
/// built next to this executable (release with `scripts/bench.sh`, debug with `--quick`);
/// bash, dash and fish from PATH; for python3, the interpreter that `python3` on PATH
/// reports as `sys.executable`, so a pyenv shim (a shell script) is not timed with it.
///
/// # Errors
/// `NotFound` when the program is not installed (or ariash not built), `Unsupported` for a
/// runtime that is not a script interpreter.
pub fn interpreter(rt: Runtime) -> io::Result<PathBuf> {
    let missing = |what: &str| {
        io::Error::new(io::ErrorKind::NotFound, format!("{what} is not installed (not on PATH)"))
    };
    match rt {
        Runtime::Ariash => match std::env::var_os("ARIASH") {
            Some(path) => Ok(PathBuf::from(path)),
            None => helper_path("ariash").map_err(|_| {
                io::Error::new(
                    io::ErrorKind::NotFound,
                    "ariash is not built next to aria-bench: `cargo build --release -p ariash` \
                     (scripts/bench.sh does), or set ARIASH to its path",
                )
            }),
        },
        Runtime::Bash | Runtime::Dash | Runtime::Fish => {
            crate::scenarios::http::on_path(rt.name()).ok_or_else(|| missing(rt.name()))
        }
        Runtime::Python3 => {
            let shim = crate::scenarios::http::on_path("python3").ok_or_else(|| missing("python3"))?;
            let out = std::process::Command::new(&shim)
                .args(["-c", "import sys; print(sys.executable)"])
                .stderr(std::process::Stdio::null())
                .output()?;
            let exe = String::from_utf8_lossy(&out.stdout).trim().to_string();
            Ok(if out.status.success() && !exe.is_empty() { PathBuf::from(exe) } else { shim })
        }
        _ => Err(unsupported("ash", rt)),
    }
}

/// Tokio's multi-thread or current-thread runtime, for scenarios that take both.
pub fn tokio_flavor(rt: Runtime) -> bool {
    rt == Runtime::Tokio
}

/// The path of `bench-writer`, built next to the running executable.
///
/// # Errors
/// If the executable's path cannot be found or `bench-writer` is not next to it.
pub fn writer_path() -> io::Result<PathBuf> {
    helper_path("bench-writer")
}

/// The path of the helper binary `name` (`bench-writer`, `bench-echo-client`), built next to
/// the running executable.
///
/// # Errors
/// If the executable's path cannot be found or `name` is not next to it.
pub fn helper_path(name: &str) -> io::Result<PathBuf> {
    let exe = std::env::current_exe()?;
    let dir = exe.parent().ok_or_else(|| io::Error::other("the executable has no directory"))?;
    let w = dir.join(name);
    if !w.exists() {
        return Err(io::Error::new(
            io::ErrorKind::NotFound,
            format!("{} not found: build it with `cargo build -p aria-bench --bins`", w.display()),
        ));
    }
    Ok(w)
}
