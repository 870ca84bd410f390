//! # aria-io
//!
//! An async I/O runtime for Linux whose first-class job is orchestrating operating-system
//! processes: spawning them without `fork`, waiting for them without races, wiring their
//! streams into pipelines, and running everything around that (files, pipes, sockets,
//! timers, signals, channels) on the same runtime.
//!
//! # Where to start
//!
//! Build a [`Runtime`] and [`block_on`](Runtime::block_on) a future, or put
//! `#[aria_io::main]` on an `async fn main`. Then [`process::Command`] runs one program and
//! [`process::Pipeline`] several:
//!
//! ```
//! use aria_io::process::{Command, Pipeline};
//!
//! let rt = aria_io::Runtime::new()?; // current-thread; see `Builder` for the others
//! rt.block_on(async {
//!     // One program: its output, read while it is waited for.
//!     let out = Command::new("echo").arg("hello").output().await?;
//!     assert!(out.status.success());
//!     assert_eq!(out.stdout, b"hello\n");
//!
//!     // A pipeline (stdout to stdin), with pipefail.
//!     let mut head = Command::new("head");
//!     head.args(["-n", "2"]);
//!     let (status, out) = Pipeline::new(Command::new("yes")).pipe(head).output().await?;
//!     assert!(status.success()); // yes died of SIGPIPE because head was done: not a failure
//!     assert_eq!(out, b"y\ny\n");
//!     Ok::<_, std::io::Error>(())
//! })?;
//! # Ok::<_, std::io::Error>(())
//! ```
//!
//! Coming from `tokio::process`? The [`process`](process#coming-from-tokioprocess) module
//! docs map tokio's API onto this crate's, in their section "Coming from tokio::process".
//!
//! # What is in the crate
//!
//! - **Three schedulers**, chosen with the [`Builder`] (see [`RuntimeFlavor`]):
//!   current-thread ([`Runtime::new`], [`Builder::new_current_thread`]: every task on the
//!   thread inside `block_on`), multi-thread ([`Builder::new_multi_thread`]: worker threads
//!   with work-stealing local run queues and a LIFO slot, sharing one driver) and
//!   thread-per-core ([`Builder::new_thread_per_core`]: one current-thread scheduler and one
//!   driver per core, each on its own thread, optionally pinned; tasks stay on their core,
//!   [`task::spawn_local`] takes futures that are not `Send`, [`Handle::spawn_on`] sends work
//!   to a given core).
//! - **Three driver backends** behind one completion-shaped contract (see [the
//!   driver](#the-driver)): io_uring and epoll, chosen automatically, and the poll(2)
//!   fallback, forced like the others (see [`BackendKind`]). kqueue and IOCP are planned.
//! - **Processes** ([`process`]): [`Command`](process::Command) spawns with clone3(2) and
//!   gets a pidfd back atomically (posix_spawn(3) and pidfd_open(2) where clone3 is
//!   refused), so waiting ([`Child::wait`](process::Child::wait)) and signalling can never
//!   reach a recycled pid; six standard streams per child (stdin, stdout, stderr, stddbg,
//!   stddati, stddato: fds 0-5) and no other descriptor; [`Pipeline`](process::Pipeline)s
//!   joined by text (`|`, stdout to stdin) and data (`|*`, fd 5 to fd 4) pipes, with
//!   [redirections](process::Redirect), tee to a file, one process group per pipeline and
//!   pipefail ([`PipelineStatus`](process::PipelineStatus)); `output()` that reads every
//!   pipe while it waits; children dropped without a wait are reaped in the background.
//! - **Files** ([`fs`]): [`File`](fs::File), [`OpenOptions`](fs::OpenOptions) and whole-file
//!   helpers, as io_uring operations where the kernel has them, else on the blocking pool.
//! - **Pipes and copying** ([`io`]): [`pipe`](io::pipe), [`PipeReader`](io::PipeReader) and
//!   [`PipeWriter`](io::PipeWriter) (the `futures-io` traits plus owned-buffer operations);
//!   [`copy`](io::copy()), which moves bytes between pipes and files with splice(2), and
//!   [`copy_bidirectional`](io::copy_bidirectional).
//! - **Networking** ([`net`]): [`TcpListener`](net::TcpListener),
//!   [`TcpStream`](net::TcpStream) (split halves, owned-buffer `read_owned`/`write_owned` as
//!   io_uring `RECV`/`SEND`), the [`TcpSocket`](net::TcpSocket) builder (`SO_REUSEPORT`
//!   listeners per core on thread-per-core), [`UdpSocket`](net::UdpSocket), Unix-domain
//!   streams, listeners and datagrams with descriptor passing (`SCM_RIGHTS`) and peer
//!   credentials ([`net::unix`]), and [`lookup_host`](net::lookup_host), which resolves names
//!   on the blocking pool. Every stream implements the `futures-io` traits.
//! - **hyper** (`aria_io::hyper`, feature `hyper`): hyper 1.x's I/O, executor and timer traits
//!   on this runtime, so hyper's HTTP/1 and HTTP/2 clients and servers run on it.
//! - **Time** ([`time`]): [`sleep`](time::sleep), [`timeout`](time::timeout),
//!   [`interval`](time::interval) on a hierarchical timer wheel with 1 ms resolution.
//! - **Signals** ([`signal`]): [`signal`](signal::signal) and [`ctrl_c`](signal::ctrl_c),
//!   through signalfd(2); every delivery reaches every listener in the process.
//! - **Tasks** ([`task`], and [`spawn`] at the root): [`JoinHandle`] (abort; a panic comes
//!   back as a [`JoinError`]), [`JoinSet`], [`task_local!`](crate::task_local),
//!   [`yield_now`].
//! - **Synchronization** ([`sync`]): mpsc, oneshot, broadcast and watch channels, `Mutex`,
//!   `RwLock`, `Semaphore`, `Notify`, `Barrier`; runtime-agnostic and cancellation-safe.
//! - **A blocking pool** ([`blocking`]): [`spawn_blocking`](blocking::spawn_blocking) runs
//!   blocking work on one process-wide pool of threads started on demand.
//! - **A Rayon bridge** (`aria_io::rayon`, feature `rayon`): `compute` and `par_map` hand
//!   CPU-bound work to Rayon's pool and await the result.
//! - **Macros** (feature `macros`, on by default): `#[aria_io::main]` and `#[aria_io::test]`
//!   run an `async fn` on a fresh runtime, current-thread unless told otherwise
//!   (`flavor = "multi_thread"` or `"thread_per_core"`, `worker_threads = N`):
//!
//! ```
//! #[aria_io::main]
//! async fn main() -> std::io::Result<()> {
//!     let out = aria_io::process::Command::new("echo").arg("hi").output().await?;
//!     assert_eq!(out.stdout, b"hi\n");
//!     Ok(())
//! }
//! ```
//!
//! # Map of the modules
//!
//! | module | for |
//! |---|---|
//! | crate root | [`Runtime`], [`Builder`], [`Handle`], [`spawn`], [`BackendKind`], [`RuntimeFlavor`], the macros |
//! | [`process`] | [`Command`](process::Command), [`Child`](process::Child), [`Pipeline`](process::Pipeline), [`Stdio`](process::Stdio), [`ExitStatus`](process::ExitStatus) |
//! | [`io`] | pipes, [`copy`](io::copy()), [`copy_bidirectional`](io::copy_bidirectional) |
//! | [`fs`] | files and whole-file operations |
//! | [`net`] | TCP, UDP, Unix-domain sockets, name lookup |
//! | `hyper` (feature `hyper`) | hyper 1.x on this runtime |
//! | [`time`] | sleeping, timeouts, intervals |
//! | [`signal`] | Unix signals as streams, Ctrl-C |
//! | [`task`] | spawning, join handles, task-local values |
//! | [`sync`] | channels, locks, semaphores, notification |
//! | [`blocking`] | the blocking thread pool |
//! | `rayon` (feature `rayon`) | CPU-bound work on Rayon's pool |
//! | [`stdio`] | for programs run *by* a runtime like this one: their streams 3-5 |
//!
//! # Platform support
//!
//! Linux only today (on other systems the crate does not compile): kernel 5.4 or later
//! (pidfd_open(2), waitid(2) with `P_PIDFD`) and glibc 2.34 or later
//! (`posix_spawn_file_actions_addclosefrom_np`).
//!
//! - **Spawning** uses clone3(2) (`CLONE_PIDFD`, `CLONE_CLEAR_SIGHAND`) on Linux 5.9 or
//!   later (for close_range(2)) on x86_64 and aarch64. Where the kernel is older, a seccomp
//!   filter refuses clone3, or on other architectures, it falls back to posix_spawn(3) and
//!   pidfd_open(2), which waits for the child's `execve` and cannot change its uid, gid or
//!   groups. `ARIA_IO_SPAWN=posix_spawn` forces the fallback.
//! - **io_uring** needs Linux 5.19 or later (the driver probes for the opcodes it needs when
//!   it sets up a ring); process exits are pidfd readiness on both backends. When io_uring is unavailable (an old kernel,
//!   `/proc/sys/kernel/io_uring_disabled`, seccomp), the runtime uses epoll, unless io_uring
//!   was forced, which is then an error.
//!
//! # The driver
//!
//! Each runtime has a driver (one per core on thread-per-core) that owns the kernel's event
//! queue, the timer wheel, the signalfd and the children to reap, and that the scheduler
//! turns when it has no task to run. Operations are submitted to the driver and complete
//! with a result; they own their buffers while in flight, so dropping a future
//! mid-operation never lets the kernel write into freed memory, on either backend:
//!
//! - **io_uring**: an operation is a submission the kernel completes (a pipe read, a file
//!   write, a splice, a process exit). A dropped one is cancelled with
//!   `IORING_OP_ASYNC_CANCEL`, and its buffers are freed only when its completion arrives.
//!   An operation whose opcode the kernel lacks takes the epoll path below, with the
//!   readiness of a registered descriptor reported by `IORING_OP_POLL_ADD`.
//! - **epoll**: an operation on a registered descriptor (a pipe, a pidfd) is a non-blocking
//!   system call, retried when epoll reports the descriptor ready; a file or path operation
//!   of [`fs`] runs on the [blocking pool](blocking), which owns it until its system call
//!   returns.
//!
//! The public API and its results are the same on both. Choose with
//! [`Builder::backend`] or `ARIA_IO_BACKEND=uring|epoll`; [`Runtime::backend`] says which
//! one a runtime uses.

#![deny(unsafe_op_in_unsafe_fn, unused_must_use)]
#![warn(missing_docs, missing_debug_implementations, unreachable_pub, clippy::undocumented_unsafe_blocks)]

pub mod blocking;
pub(crate) mod driver;
pub mod fs;
#[cfg(feature = "hyper")]
pub mod hyper;
pub mod io;
mod loom;
pub mod net;
pub mod os;
pub mod process;
#[cfg(feature = "rayon")]
pub mod rayon;
pub(crate) mod runtime;
pub mod signal;
pub mod stdio;
pub mod sync;
pub(crate) mod sys;
pub mod task;
pub mod time;

pub use driver::BackendKind;
pub use runtime::{spawn, yield_now, Builder, Handle, Runtime, RuntimeFlavor};
pub use task::{JoinError, JoinHandle, JoinSet};

/// The README's examples, compiled and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../../../README.md")]
struct ReadmeDoctests;

#[cfg(feature = "macros")]
pub use aria_io_macros::{main, test};
