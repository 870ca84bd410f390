//! A hyper HTTP server on aria-io:
//! `cargo run --release -p aria-io --features hyper --example hello_hyper -- 127.0.0.1:8080`
//! answers every request with `200 OK` and the body `Hello, world!`, until killed. HTTP/1.1
//! with keep-alive, and HTTP/2 (prior knowledge, `curl --http2-prior-knowledge`) through
//! hyper-util's auto builder.
//!
//! The runtime is the multi-thread one (a worker per CPU); each connection is a task.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Duration;

use aria_io::hyper::HyperExecutor;
use aria_io::net::TcpListener;
use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::{Request, Response};

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let addr: SocketAddr = match (args.next(), args.next()) {
        (Some(arg), None) => {
            match arg.parse() {
                Ok(addr) => addr,
                Err(e) => {
                    eprintln!("hello_hyper: {arg:?} is not a socket address ({e}); expected for example 127.0.0.1:8080");
                    return ExitCode::from(2);
                }
            }
        }
        _ => {
            eprintln!("usage: hello_hyper ADDRESS:PORT   (for example: hello_hyper 127.0.0.1:8080)");
            return ExitCode::from(2);
        }
    };
    let rt = match aria_io::Builder::new_multi_thread().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("hello_hyper: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match rt.block_on(serve(addr)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("hello_hyper: {addr}: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn hello(_req: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    Ok(Response::new(Full::new(Bytes::from_static(b"Hello, world!"))))
}

async fn serve(addr: SocketAddr) -> std::io::Result<()> {
    let listener = TcpListener::bind(addr).await?;
    eprintln!("hello_hyper: listening on http://{}", listener.local_addr()?);
    let http = hyper_util::server::conn::auto::Builder::new(HyperExecutor::new());
    loop {
        let (stream, _) = match listener.accept().await {
            Ok(conn) => conn,
            // Out of descriptors or memory: the connection stays queued; retrying at once
            // would spin (tokio#3529), so back off a little.
            Err(e) => {
                eprintln!("hello_hyper: accept: {e}");
                aria_io::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let http = http.clone();
        drop(aria_io::spawn(async move {
            // A client that goes away mid-request is not the server's error.
            let _ = http.serve_connection(stream, hyper::service::service_fn(hello)).await;
        }));
    }
}
