//! `http`: a hyper 1.x hello-world server loaded by [wrk]. This process is the server,
//! pinned to one CPU before any runtime thread starts (the listeners of
//! [`super::server`], as echo's); wrk runs pinned to the other CPU,
//! `taskset -c CPU wrk -t1 -cCONNS -dSECSs --latency http://127.0.0.1:PORT/`. Reports wrk's
//! requests/s and the 50 % and 99 % lines of its latency distribution, the server's CPU over
//! wrk's run (getrusage(RUSAGE_SELF), every thread of this process) as a percentage of one
//! core and as microseconds per request, and wrk's own CPU (getrusage(RUSAGE_CHILDREN)). A
//! socket error in wrk's count (connect, read, write, timeout: none is expected from a
//! keep-alive server on loopback) or a response other than 2xx or 3xx fails the measurement.
//!
//! `--size` is the number of connections (default 64); `--window-ms` wrk's duration, rounded
//! up to whole seconds (wrk takes seconds), at least 1 s. wrk has no warm-up: its run
//! includes opening the connections. The full run (`aria-bench --all`) measures 64 and 256
//! connections for [`HTTP_WINDOW_MS`](crate::report::HTTP_WINDOW_MS) (3 s) each: 2 points x
//! 6 rows x 3 rounds x about 3.3 s is about 2 minutes. `--quick` runs 64 connections for
//! 1 s, and skips the scenario with a note when wrk is not installed.
//!
//! wrk is the Debian package `wrk` (`apt-get install -y wrk`; `scripts/bench.sh` installs it
//! when it is missing and apt-get works). Without it every measurement fails with an error
//! saying so.
//!
//! Every server is hyper's HTTP/1.1 connection (`hyper::server::conn::http1`, keep-alive on,
//! hyper's defaults, the runtime's timer so that the default 30 s header read timeout
//! applies) answering every request with `200 OK` and the body `Hello, world!`; one task per
//! connection, TCP_NODELAY on every accepted connection.
//!
//! | runtime             | server                                                            |
//! |---------------------|-------------------------------------------------------------------|
//! | `aria-epoll`, `aria-uring`, `aria-mt` | one `aria_io::net::TcpListener`, `aria_io::spawn` per connection; the `TcpStream` itself (it implements hyper's `Read` and `Write`), `HyperTimer` |
//! | `aria-tpc`          | a listener per core (`aria_io::net::TcpSocket` with SO_REUSEPORT, `listen(1024)`), each accepting and spawning on its core |
//! | `tokio`             | multi-thread runtime, one `TcpListener`, `tokio::spawn` per connection; hyper-util's `TokioIo`, `TokioTimer` |
//! | `tokio-ct-per-core` | a current-thread runtime per available CPU on its own thread, each with its own SO_REUSEPORT listener |
//!
//! With the server on one CPU every per-core layout has one thread, and aria-mt and tokio
//! one worker each.
//!
//! [wrk]: https://github.com/wg/wrk

use std::convert::Infallible;
use std::io;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Instant;

use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};

use super::server::{self, Conn, Handlers};
use super::{secs, Metrics, Params};
use crate::measure::{children_cpu_time, cpu_time};
use crate::runtimes::Runtime;

/// The body of every response.
pub const BODY: &[u8] = b"Hello, world!";

/// The servers' connection handlers.
const HANDLERS: Handlers = Handlers { aria: aria_conn, tokio: tokio_conn };

async fn hello(_req: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    Ok(Response::new(Full::new(Bytes::from_static(BODY))))
}

/// aria-io: hyper on the `TcpStream` itself, with aria-io's timer.
fn aria_conn(s: aria_io::net::TcpStream) -> Conn {
    use aria_io::hyper::HyperTimer;
    Box::pin(async move {
        // A client that goes away mid-request is not the server's error.
        let _ = http1::Builder::new().timer(HyperTimer::new()).serve_connection(s, service_fn(hello)).await;
    })
}

/// tokio: hyper over hyper-util's `TokioIo`, with its `TokioTimer`.
fn tokio_conn(s: tokio::net::TcpStream) -> Conn {
    use hyper_util::rt::{TokioIo, TokioTimer};
    Box::pin(async move {
        let _ = http1::Builder::new()
            .timer(TokioTimer::new())
            .serve_connection(TokioIo::new(s), service_fn(hello))
            .await;
    })
}

/// `name` found in a directory of `PATH`, as a shell would run it.
pub fn on_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path).map(|d| d.join(name)).find(|p| p.is_file())
}

/// The error for a machine without wrk.
fn no_wrk() -> io::Error {
    io::Error::new(
        io::ErrorKind::NotFound,
        "wrk not found on PATH: the http scenario's load generator; install it with \
         `apt-get install -y wrk` (scripts/bench.sh does so when it is missing and apt-get works)",
    )
}

/// Runs the scenario.
///
/// # Errors
/// wrk or taskset missing, an unsupported runtime, a server that could not listen, a failed
/// wrk run or output that cannot be read, or responses other than 2xx / 3xx.
pub fn run(rt: Runtime, p: &Params) -> io::Result<Metrics> {
    let conns = p.size;
    if conns == 0 {
        return Err(io::Error::new(io::ErrorKind::InvalidInput, "http: --size (connections) must be > 0"));
    }
    let duration_s = (p.window.as_millis().div_ceil(1000)).max(1);
    let wrk = on_path("wrk").ok_or_else(no_wrk)?;
    let srv = server::start(rt, "http", HANDLERS, None)?;
    let url = format!("http://{}/", srv.addr);
    let (t0, cpu0, child0) = (Instant::now(), cpu_time(), children_cpu_time());
    let out = Command::new("taskset")
        .arg("-c")
        .arg(srv.client_cpu.to_string())
        .arg(&wrk)
        .args(["-t1", &format!("-c{conns}"), &format!("-d{duration_s}s"), "--latency", &url])
        .stdin(Stdio::null())
        .output()
        .map_err(|e| io::Error::new(e.kind(), format!("cannot run `taskset` (util-linux) for wrk: {e}")))?;
    let wall = secs(t0.elapsed());
    let cpu = secs(cpu_time().saturating_sub(cpu0));
    let wrk_cpu = secs(children_cpu_time().saturating_sub(child0));
    let text = String::from_utf8_lossy(&out.stdout);
    if !out.status.success() {
        return Err(io::Error::other(format!(
            "wrk failed ({}): {} {}",
            out.status,
            text.trim(),
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    let r = WrkReport::parse(&text)
        .map_err(|e| io::Error::other(format!("{e}; wrk printed:\n{}", text.trim())))?;
    if r.non_2xx_3xx > 0.0 || r.socket_errors > 0.0 {
        let errors = text.lines().find(|l| l.contains("Socket errors:")).map_or("", str::trim);
        return Err(io::Error::other(format!(
            "in {} requests, wrk saw {} socket error(s) ({errors}) and {} response(s) other than 2xx or 3xx",
            r.requests, r.socket_errors, r.non_2xx_3xx,
        )));
    }
    Ok(vec![
        ("requests_per_s", r.requests_per_s),
        ("p50_us", r.p50_us),
        ("p99_us", r.p99_us),
        ("cpu_pct", cpu / wall * 100.0),
        ("cpu_us_per_req", cpu * 1e6 / r.requests.max(1.0)),
        ("client_cpu_pct", wrk_cpu / wall * 100.0),
        ("requests", r.requests),
        ("server_threads", crate::measure::thread_count()? as f64),
    ])
}

/// What this scenario reads from wrk's output.
#[derive(Debug, Clone, PartialEq)]
struct WrkReport {
    requests_per_s: f64,
    requests: f64,
    p50_us: f64,
    p99_us: f64,
    /// connect + read + write + timeout (0 when wrk prints no `Socket errors` line).
    socket_errors: f64,
    /// `Non-2xx or 3xx responses` (0 when wrk prints no such line).
    non_2xx_3xx: f64,
}

impl WrkReport {
    /// Parses the output of `wrk --latency`.
    fn parse(text: &str) -> Result<WrkReport, String> {
        let (mut rps, mut requests, mut p50, mut p99) = (None, None, None, None);
        let (mut socket_errors, mut non_2xx_3xx) = (0.0, 0.0);
        let number =
            |s: &str| s.trim().parse::<f64>().map_err(|_| format!("not a number in wrk's output: `{s}`"));
        for line in text.lines().map(str::trim) {
            if let Some(v) = line.strip_prefix("Requests/sec:") {
                rps = Some(number(v)?);
            } else if let Some(v) = line.strip_prefix("50%") {
                p50 = Some(duration_us(v.trim())?);
            } else if let Some(v) = line.strip_prefix("99%") {
                p99 = Some(duration_us(v.trim())?);
            } else if let Some((n, _)) = line.split_once(" requests in ") {
                requests = Some(number(n)?);
            } else if let Some(v) = line.strip_prefix("Socket errors:") {
                // connect 0, read 0, write 0, timeout 0
                for part in v.split(',') {
                    let n = part.split_whitespace().last().ok_or_else(|| format!("wrk: `{line}`"))?;
                    socket_errors += number(n)?;
                }
            } else if let Some(v) = line.strip_prefix("Non-2xx or 3xx responses:") {
                non_2xx_3xx = number(v)?;
            }
        }
        let missing = |what: &str| format!("no {what} in wrk's output");
        Ok(WrkReport {
            requests_per_s: rps.ok_or_else(|| missing("Requests/sec"))?,
            requests: requests.ok_or_else(|| missing("`N requests in` line"))?,
            p50_us: p50.ok_or_else(|| missing("50% latency (was --latency given?)"))?,
            p99_us: p99.ok_or_else(|| missing("99% latency (was --latency given?)"))?,
            socket_errors,
            non_2xx_3xx,
        })
    }
}

/// A wrk duration (`812.00us`, `1.23ms`, `2.00s`, `1.50m`, `1.00h`) in microseconds.
fn duration_us(s: &str) -> Result<f64, String> {
    let split = s
        .find(|c: char| c.is_ascii_alphabetic())
        .ok_or_else(|| format!("wrk duration without a unit: `{s}`"))?;
    let (n, unit) = s.split_at(split);
    let n: f64 = n.parse().map_err(|_| format!("wrk duration: `{s}`"))?;
    let scale = match unit {
        "us" => 1.0,
        "ms" => 1e3,
        "s" => 1e6,
        "m" => 60e6,
        "h" => 3600e6,
        _ => return Err(format!("wrk duration with an unknown unit: `{s}`")),
    };
    Ok(n * scale)
}

#[cfg(test)]
mod tests {
    use super::{duration_us, WrkReport};

    const OUTPUT: &str = "\
Running 3s test @ http://127.0.0.1:40000/
  1 threads and 64 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency   612.34us  101.20us   5.10ms   91.00%
    Req/Sec   104.50k     3.20k  110.00k    80.00%
  Latency Distribution
     50%  590.00us
     75%  640.00us
     90%  700.00us
     99%    1.21ms
  312000 requests in 3.00s, 27.38MB read
  Socket errors: connect 0, read 2, write 0, timeout 1
Requests/sec: 103999.87
Transfer/sec:      9.13MB
";

    #[test]
    fn reads_rate_latency_and_errors() {
        let r = WrkReport::parse(OUTPUT).unwrap();
        assert_eq!(r.requests_per_s, 103999.87);
        assert_eq!(r.requests, 312000.0);
        assert_eq!(r.p50_us, 590.0);
        assert!((r.p99_us - 1210.0).abs() < 1e-9, "{}", r.p99_us);
        assert_eq!(r.socket_errors, 3.0);
        assert_eq!(r.non_2xx_3xx, 0.0);
        let bad =
            OUTPUT.replace("Requests/sec: 103999.87\n", "  Non-2xx or 3xx responses: 7\nRequests/sec: 1\n");
        assert_eq!(WrkReport::parse(&bad).unwrap().non_2xx_3xx, 7.0);
        assert!(WrkReport::parse(&OUTPUT.replace("     99%    1.21ms\n", "")).is_err());
    }

    #[test]
    fn durations_in_every_unit() {
        assert_eq!(duration_us("812.00us").unwrap(), 812.0);
        assert!((duration_us("1.23ms").unwrap() - 1230.0).abs() < 1e-9);
        assert_eq!(duration_us("2.00s").unwrap(), 2e6);
        assert_eq!(duration_us("1.50m").unwrap(), 90e6);
        assert!(duration_us("3.0").is_err());
        assert!(duration_us("3.0xs").is_err());
    }
}
