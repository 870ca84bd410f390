//! The server side of the loopback scenarios (echo, http): this process pins itself to one
//! CPU before any runtime thread starts, listens on a free port of 127.0.0.1 with the
//! listener layout of the runtime, and leaves the other CPU to the scenario's load
//! generator (a separate process). What a server does with a connection is the scenario's
//! [`Handlers`]; the layouts are the same for every scenario:
//!
//! | runtime             | listeners                                                         |
//! |---------------------|-------------------------------------------------------------------|
//! | `aria-epoll`, `aria-uring`, `aria-mt` | one `aria_io::net::TcpListener` accepting in `block_on`, `aria_io::spawn` per connection |
//! | `aria-tpc`          | a listener per core (`TcpSocket` with SO_REUSEPORT, `listen(1024)`), each accepting on its core and spawning there |
//! | `tokio`             | multi-thread runtime (default settings), one `TcpListener`, `tokio::spawn` per connection |
//! | `tokio-ct-per-core` | a current-thread runtime per available CPU on its own thread, each with its own SO_REUSEPORT listener |
//! | others (`monoio`, `compio`) | a per-thread server the scenario brings ([`PerThread`]), one thread per available CPU |
//!
//! Every accepted connection gets TCP_NODELAY before its task starts. "Per available CPU"
//! is counted after the pinning, so with the server on one CPU every per-core layout has one
//! thread (and aria-mt, tokio one worker each).

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::mpsc;
use std::time::Duration;

use crate::measure::raise_nofile;
use crate::runtimes::{self, aria_rt, script_only, unsupported, Runtime};

/// The task serving one connection.
pub type Conn = Pin<Box<dyn Future<Output = ()> + Send>>;

/// What a scenario's server does with each accepted connection, per runtime family.
#[derive(Debug, Clone, Copy)]
pub struct Handlers {
    /// On every aria-io runtime.
    pub aria: fn(aria_io::net::TcpStream) -> Conn,
    /// On both tokio layouts.
    pub tokio: fn(tokio::net::TcpStream) -> Conn,
}

/// Tells [`start`] that one listener listens (or why it could not).
pub type Ready = mpsc::Sender<io::Result<()>>;

/// A server thread of a runtime only one scenario has (echo's monoio, compio): listen on
/// the address with SO_REUSEPORT, report on `Ready`, serve until the process exits.
pub type PerThread = fn(SocketAddr, &Ready) -> io::Result<()>;

/// A started server.
#[derive(Debug, Clone, Copy)]
pub struct Server {
    /// Where it listens.
    pub addr: SocketAddr,
    /// The CPU left to the load generator (the server runs on another one when the affinity
    /// mask has two).
    pub client_cpu: usize,
}

/// Pins this process to its first allowed CPU, starts the server of `rt` on threads of its
/// own (they serve until the process exits) and returns once every listener listens.
/// `other` is the per-thread server for a runtime outside the common layouts.
///
/// # Errors
/// [`unsupported`] for a runtime without a layout, a pinning or listening error, or a
/// server that did not start listening within 10 s.
pub fn start(rt: Runtime, scenario: &str, h: Handlers, other: Option<PerThread>) -> io::Result<Server> {
    raise_nofile()?;
    let cpus = allowed_cpus()?;
    let (server_cpu, client_cpu) = (cpus[0], cpus[1 % cpus.len()]);
    pin(server_cpu)?;
    let threads = std::thread::available_parallelism()?.get();
    let addr = free_port()?;
    let (ready, readies) = mpsc::channel();
    let listeners = spawn(rt, scenario, addr, threads, h, other, ready)?;
    for _ in 0..listeners {
        readies
            .recv_timeout(Duration::from_secs(10))
            .map_err(|_| io::Error::other(format!("the {rt} server did not start listening")))??;
    }
    Ok(Server { addr, client_cpu })
}

/// The CPUs this process may run on, in order (sched_getaffinity(2), through core_affinity).
fn allowed_cpus() -> io::Result<Vec<usize>> {
    let cpus: Vec<usize> =
        core_affinity::get_core_ids().unwrap_or_default().into_iter().map(|c| c.id).collect();
    if cpus.is_empty() {
        return Err(io::Error::other("no CPU in the affinity mask"));
    }
    Ok(cpus)
}

/// Pins the calling thread to `cpu`; called before any other thread of the server starts, so
/// every thread it creates inherits the mask (sched_setaffinity(2), through core_affinity).
fn pin(cpu: usize) -> io::Result<()> {
    if !core_affinity::set_for_current(core_affinity::CoreId { id: cpu }) {
        return Err(io::Error::other(format!("cannot pin the server to CPU {cpu} (sched_setaffinity)")));
    }
    Ok(())
}

/// A free port of 127.0.0.1, found by binding port 0 and closing the socket, so that the
/// listeners of a SO_REUSEPORT group can all bind the same address.
fn free_port() -> io::Result<SocketAddr> {
    std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()
}

/// A server thread's body; its error goes to `Ready`.
type Body = Box<dyn FnOnce(&Ready) -> io::Result<()> + Send>;

/// Starts the threads of `rt`'s layout and returns how many listeners will report on
/// `ready`.
fn spawn(
    rt: Runtime,
    scenario: &str,
    addr: SocketAddr,
    threads: usize,
    h: Handlers,
    other: Option<PerThread>,
    ready: Ready,
) -> io::Result<usize> {
    let thread = |name: String, ready: Ready, body: Body| -> io::Result<()> {
        std::thread::Builder::new().name(name).spawn(move || {
            if let Err(e) = body(&ready) {
                let _ = ready.send(Err(e));
            }
        })?;
        Ok(())
    };
    let one = format!("{scenario}-server");
    let per_thread = |body: &dyn Fn() -> Body| -> io::Result<usize> {
        for i in 0..threads {
            thread(format!("{scenario}-server-{i}"), ready.clone(), body())?;
        }
        Ok(threads)
    };
    match rt {
        // Its cores each report (cores = available parallelism, the runtime's default).
        aria_rt!() if rt == Runtime::AriaTpc => {
            thread(one, ready.clone(), Box::new(move |r| aria_tpc(addr, r, h)))?;
            Ok(threads)
        }
        aria_rt!() => {
            thread(
                one,
                ready.clone(),
                Box::new(move |r| runtimes::aria(rt, aria_serve(addr, r.clone(), h))?),
            )?;
            Ok(1)
        }
        Runtime::Tokio => {
            thread(one, ready.clone(), Box::new(move |r| tokio_mt(addr, r, h)))?;
            Ok(1)
        }
        Runtime::TokioCtPerCore => per_thread(&|| Box::new(move |r| tokio_ct(addr, r, h))),
        Runtime::Monoio | Runtime::Compio => {
            let serve = other.ok_or_else(|| unsupported(scenario, rt))?;
            per_thread(&|| Box::new(move |r| serve(addr, r)))
        }
        Runtime::TokioCt | Runtime::AsyncProcess | Runtime::Std | Runtime::Bash | script_only!() => {
            Err(unsupported(scenario, rt))
        }
    }
}

/// aria (current-thread, multi-thread): one listener on `addr`, accepting until the process
/// exits.
async fn aria_serve(addr: SocketAddr, ready: Ready, h: Handlers) -> io::Result<()> {
    let l = aria_io::net::TcpListener::bind(addr).await?;
    let _ = ready.send(Ok(()));
    aria_accept(l, h).await
}

/// aria-tpc: a listener per core, each bound with SO_REUSEPORT in a task on its core.
fn aria_tpc(addr: SocketAddr, ready: &Ready, h: Handlers) -> io::Result<()> {
    let ready = ready.clone();
    runtimes::aria(Runtime::AriaTpc, async move {
        let handle = aria_io::Handle::current();
        let cores = handle.cores().unwrap_or(1);
        let tasks: Vec<_> = (0..cores)
            .map(|core| {
                let ready = ready.clone();
                handle.spawn_on(core, move || async move {
                    let res = match aria_reuseport_listener(addr) {
                        Ok(l) => {
                            let _ = ready.send(Ok(()));
                            aria_accept(l, h).await
                        }
                        Err(e) => Err(e),
                    };
                    if let Err(e) = res {
                        let _ = ready.send(Err(e));
                    }
                })
            })
            .collect();
        for t in tasks {
            t.await?;
        }
        Ok(())
    })?
}

/// A listener of a SO_REUSEPORT group on `addr`, on the driver of the calling core.
fn aria_reuseport_listener(addr: SocketAddr) -> io::Result<aria_io::net::TcpListener> {
    let s = aria_io::net::TcpSocket::new_v4()?;
    s.set_reuseport(true)?;
    s.bind(addr)?;
    s.listen(1024)
}

/// Accepts on `l`, a task per connection (on aria-tpc, on the accepting core).
async fn aria_accept(l: aria_io::net::TcpListener, h: Handlers) -> io::Result<()> {
    loop {
        let (s, _) = l.accept().await?;
        let _ = s.set_nodelay(true);
        drop(aria_io::spawn((h.aria)(s)));
    }
}

/// tokio: one listener on the multi-thread runtime (default settings).
fn tokio_mt(addr: SocketAddr, ready: &Ready, h: Handlers) -> io::Result<()> {
    runtimes::tokio(true, async {
        let l = tokio::net::TcpListener::bind(addr).await?;
        let _ = ready.send(Ok(()));
        tokio_accept(l, h).await
    })?
}

/// tokio-ct-per-core: this thread's current-thread runtime and SO_REUSEPORT listener.
fn tokio_ct(addr: SocketAddr, ready: &Ready, h: Handlers) -> io::Result<()> {
    runtimes::tokio(false, async {
        let s = tokio::net::TcpSocket::new_v4()?;
        s.set_reuseport(true)?;
        s.bind(addr)?;
        let l = s.listen(1024)?;
        let _ = ready.send(Ok(()));
        tokio_accept(l, h).await
    })?
}

async fn tokio_accept(l: tokio::net::TcpListener, h: Handlers) -> io::Result<()> {
    loop {
        let (s, _) = l.accept().await?;
        let _ = s.set_nodelay(true);
        tokio::spawn((h.tokio)(s));
    }
}
