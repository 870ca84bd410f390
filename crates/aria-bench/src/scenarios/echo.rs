//! `echo`: ping-pong over loopback. This process is the server, pinned to one CPU before any
//! runtime thread starts; `bench-echo-client` (a separate process, pinned to another CPU)
//! opens the connections and runs them in closed loop, or at a fixed total rate. Reports
//! requests/s, p50/p99 latency per request as the client saw it, and the server's CPU over
//! the client's window (getrusage(RUSAGE_SELF), every thread of this process) as a percentage
//! of one core and as microseconds per request, and the user-space part of that CPU per
//! request (`ru_utime`: the runtime's and the server's own work; the rest is the kernel's).
//!
//! Variant: `SIZExCONNS` (`100x16`, `1024x256`; the default is `100x16`), optionally
//! `@RATE` for a fixed total rate in requests/s (`100x16@20000`); `fixed` is
//! [`FIXED`]. A `:futures-io` suffix (`100x16:futures-io`) makes the aria servers echo
//! through the `futures-io` traits (`read` into a buffer, `write_all` of a slice) instead of
//! the owned-buffer operations. `--window-ms` is the client's measuring window (after a warm-up of a tenth of
//! it, at most 1 s).
//!
//! Every server reads into a buffer of [`BUF`] bytes and writes what it read back, until end
//! of file, with TCP_NODELAY on the accepted connections; one task per connection. The
//! listeners, the pinning and the free port are [`super::server`]'s, shared with the http
//! scenario; monoio and compio are echo's own.
//!
//! | runtime             | server                                                            |
//! |---------------------|-------------------------------------------------------------------|
//! | `aria-epoll`, `aria-uring`, `aria-mt` | one `aria_io::net::TcpListener`, a task per connection, `read_owned` / `write_all_owned` |
//! | `aria-tpc`          | a listener per core (`TcpSocket` with SO_REUSEPORT, `listen(1024)`), each accepting on its core |
//! | `tokio`             | multi-thread runtime, one `TcpListener`, `tokio::spawn` per connection |
//! | `tokio-ct-per-core` | a current-thread runtime per available CPU on its own thread, each with its own SO_REUSEPORT listener |
//! | `monoio`            | a runtime per available CPU (FusionDriver: io_uring, legacy epoll fallback), `bind_with_config` with reuse_port, owned-buffer I/O |
//! | `compio`            | a runtime per available CPU (io_uring), `TcpSocket` with SO_REUSEPORT, owned-buffer I/O |
//!
//! "Per available CPU" is counted after the pinning, so with the server on one CPU every
//! per-core layout has one thread (and aria-mt, tokio one worker each).

use std::io::{self, BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Command, Stdio};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use super::server::{self, Conn, Handlers, PerThread, Ready};
use super::{secs, variant, Metrics, Params};
use crate::measure::{cpu_time, user_cpu_time};
use crate::runtimes::{helper_path, unsupported, Runtime};

/// The read buffer of every server.
pub const BUF: usize = 4096;

/// The fixed-load point: 100-byte messages over 16 connections at 80,000 requests/s, about
/// half of tokio's peak on the 2-core machine the suite was set up on.
pub const FIXED: &str = "100x16@80000";

/// What the client is asked to do.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Load {
    size: usize,
    conns: usize,
    rate: Option<f64>,
    /// The aria servers echo through `futures-io` rather than the owned-buffer operations.
    futures_io: bool,
}

impl Load {
    fn parse(v: &str) -> io::Result<Load> {
        let bad = || {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("echo variant `{v}` (SIZExCONNS[@RATE] or fixed)"),
            )
        };
        let (v, futures_io) = match v.strip_suffix(":futures-io") {
            Some(v) => (v, true),
            None => (v, false),
        };
        let v = if v == "fixed" { FIXED } else { v };
        let (point, rate) = match v.split_once('@') {
            Some((p, r)) => (p, Some(r.parse::<f64>().map_err(|_| bad())?)),
            None => (v, None),
        };
        let (size, conns) = point.split_once('x').ok_or_else(bad)?;
        let size: usize = size.parse().map_err(|_| bad())?;
        let conns: usize = conns.parse().map_err(|_| bad())?;
        if size == 0 || conns == 0 {
            return Err(bad());
        }
        Ok(Load { size, conns, rate, futures_io })
    }
}

/// Runs the scenario.
///
/// # Errors
/// An unknown variant or runtime, a server that could not listen, or a failed client.
pub fn run(rt: Runtime, p: &Params) -> io::Result<Metrics> {
    let load = Load::parse(variant(p, "100x16"))?;
    if load.futures_io && !rt.is_aria() {
        return Err(unsupported("echo (futures-io)", rt));
    }
    let handlers = Handlers {
        aria: if load.futures_io { aria::conn_futures_io } else { aria::conn },
        tokio: tokio_conn,
    };
    let other: Option<PerThread> = match rt {
        Runtime::Monoio => Some(monoio),
        Runtime::Compio => Some(compio),
        _ => None,
    };
    let server::Server { addr, client_cpu } = server::start(rt, "echo", handlers, other)?;
    let mut args = vec![
        "--addr".to_string(),
        addr.to_string(),
        "--conns".into(),
        load.conns.to_string(),
        "--size".into(),
        load.size.to_string(),
        "--duration-ms".into(),
        p.window.as_millis().to_string(),
        "--cpu".into(),
        client_cpu.to_string(),
    ];
    if let Some(r) = load.rate {
        args.extend(["--rate".into(), r.to_string()]);
    }
    let mut child = Command::new(helper_path("bench-echo-client")?)
        .args(&args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .spawn()?;
    let out = child.stdout.take().ok_or_else(|| io::Error::other("no stdout"))?;
    let (mut from, mut to) = (None, None);
    let mut report = None;
    for line in BufReader::new(out).lines() {
        let line = line?;
        let mark = || (Instant::now(), cpu_time(), SystemTime::now(), user_cpu_time());
        match line.trim() {
            "start" => from = Some(mark()),
            "stop" => to = Some(mark()),
            l if l.starts_with('{') => {
                report = Some(serde_json::from_str::<serde_json::Value>(l).map_err(io::Error::other)?)
            }
            _ => {}
        }
    }
    let st = child.wait()?;
    super::check_status(st.success(), "bench-echo-client", &st)?;
    let (Some(from), Some(to), Some(report)) = (from, to, report) else {
        return Err(io::Error::other("bench-echo-client printed no start, stop or result"));
    };
    let get =
        |k: &str| report[k].as_f64().ok_or_else(|| io::Error::other(format!("client result without {k}")));
    let requests = get("requests")?;
    let wall = secs(to.0 - from.0);
    let cpu = secs(to.1.saturating_sub(from.1));
    let user = secs(to.3.saturating_sub(from.3));
    let unix = |t: SystemTime| t.duration_since(UNIX_EPOCH).map_or(0.0, |d| d.as_secs_f64());
    Ok(vec![
        ("requests_per_s", get("requests_per_s")?),
        ("p50_us", get("p50_us")?),
        ("p99_us", get("p99_us")?),
        ("cpu_pct", cpu / wall * 100.0),
        ("cpu_us_per_req", cpu * 1e6 / requests.max(1.0)),
        ("user_us_per_req", user * 1e6 / requests.max(1.0)),
        ("client_cpu_pct", get("client_cpu_pct")?),
        ("requests", requests),
        ("server_threads", crate::measure::thread_count()? as f64),
        ("window_start_unix", unix(from.2)),
        ("window_end_unix", unix(to.2)),
    ])
}

mod aria {
    use aria_io::net::TcpStream;

    use super::{Conn, BUF};

    /// Echoes through the `futures-io` traits.
    pub(super) fn conn_futures_io(mut s: TcpStream) -> Conn {
        Box::pin(async move {
            use futures_lite::{AsyncReadExt, AsyncWriteExt};
            let mut buf = vec![0u8; BUF];
            while let Ok(n @ 1..) = s.read(&mut buf).await {
                if s.write_all(&buf[..n]).await.is_err() {
                    return;
                }
            }
        })
    }

    /// Echoes with the owned-buffer operations (IORING_OP_RECV/SEND on io_uring, no copy).
    pub(super) fn conn(mut s: TcpStream) -> Conn {
        Box::pin(async move {
            let mut buf = Vec::with_capacity(BUF);
            loop {
                buf.clear();
                let (res, b) = s.read_owned(buf).await;
                buf = b;
                if !matches!(res, Ok(n) if n > 0) {
                    return;
                }
                let (res, b) = s.write_all_owned(buf).await;
                buf = b;
                if res.is_err() {
                    return;
                }
            }
        })
    }
}

/// tokio (both layouts): reads into a buffer and writes it back.
fn tokio_conn(mut s: tokio::net::TcpStream) -> Conn {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    Box::pin(async move {
        let mut buf = vec![0u8; BUF];
        while let Ok(n @ 1..) = s.read(&mut buf).await {
            if s.write_all(&buf[..n]).await.is_err() {
                return;
            }
        }
    })
}

/// monoio: this thread's runtime (FusionDriver: io_uring when the kernel has it, else the
/// legacy epoll driver) and a listener with monoio's default options (SO_REUSEPORT on,
/// backlog 1024).
fn monoio(addr: SocketAddr, ready: &Ready) -> io::Result<()> {
    use monoio::io::{AsyncReadRent, AsyncWriteRentExt};
    let mut rt = monoio::RuntimeBuilder::<monoio::FusionDriver>::new().build()?;
    rt.block_on(async {
        let opts = monoio::net::ListenerOpts::new().reuse_port(true).backlog(1024);
        let l = monoio::net::TcpListener::bind_with_config(addr, &opts)?;
        let _ = ready.send(Ok(()));
        loop {
            let (mut s, _) = l.accept().await?;
            monoio::spawn(async move {
                let _ = s.set_nodelay(true);
                let mut buf = Vec::with_capacity(BUF);
                loop {
                    buf.clear();
                    let (res, b) = s.read(buf).await;
                    buf = b;
                    if !matches!(res, Ok(n) if n > 0) {
                        return;
                    }
                    let (res, b) = s.write_all(buf).await;
                    buf = b;
                    if res.is_err() {
                        return;
                    }
                }
            });
        }
    })
}

/// compio: this thread's runtime (io_uring driver) and a SO_REUSEPORT listener.
fn compio(addr: SocketAddr, ready: &Ready) -> io::Result<()> {
    use compio::io::{AsyncRead, AsyncWriteExt};
    use compio::BufResult;
    compio::runtime::Runtime::new()?.block_on(async {
        let s = compio::net::TcpSocket::new_v4().await?;
        s.set_reuseport(true)?;
        s.bind(addr).await?;
        let l = s.listen(1024).await?;
        let _ = ready.send(Ok(()));
        loop {
            let (mut s, _) = l.accept().await?;
            compio::runtime::spawn(async move {
                let _ = s.set_nodelay(true);
                let mut buf = Vec::with_capacity(BUF);
                loop {
                    buf.clear();
                    let BufResult(res, b) = s.read(buf).await;
                    buf = b;
                    if !matches!(res, Ok(n) if n > 0) {
                        return;
                    }
                    let BufResult(res, b) = s.write_all(buf).await;
                    buf = b;
                    if res.is_err() {
                        return;
                    }
                }
            })
            .detach();
        }
    })
}

#[cfg(test)]
mod tests {
    use super::Load;

    #[test]
    fn variants_name_size_connections_and_rate() {
        let load = |size, conns, rate, futures_io| Load { size, conns, rate, futures_io };
        assert_eq!(Load::parse("100x16").unwrap(), load(100, 16, None, false));
        assert_eq!(Load::parse("1024x256@5000").unwrap(), load(1024, 256, Some(5000.0), false));
        assert_eq!(Load::parse("100x1:futures-io").unwrap(), load(100, 1, None, true));
        assert_eq!(Load::parse("fixed:futures-io").unwrap(), load(100, 16, Some(80000.0), true));
        assert_eq!(Load::parse("fixed").unwrap(), Load::parse(super::FIXED).unwrap());
        assert!(Load::parse("100").is_err());
        assert!(Load::parse("0x1").is_err());
    }
}
