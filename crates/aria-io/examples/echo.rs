//! A TCP echo server: `cargo run --release -p aria-io --example echo -- 127.0.0.1:7000`
//! serves on the address given as its only argument, one task per connection, on the
//! default (current-thread) runtime, until killed.
//!
//! Try it with `nc 127.0.0.1 7000`: each line typed comes back.

use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Duration;

use aria_io::net::{TcpListener, TcpStream};

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let addr: SocketAddr = match (args.next(), args.next()) {
        (Some(arg), None) => match arg.parse() {
            Ok(addr) => addr,
            Err(e) => {
                eprintln!("echo: {arg:?} is not a socket address ({e}); expected for example 127.0.0.1:7000");
                return ExitCode::from(2);
            }
        },
        _ => {
            eprintln!("usage: echo ADDRESS:PORT   (for example: echo 127.0.0.1:7000)");
            return ExitCode::from(2);
        }
    };
    let rt = match aria_io::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("echo: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match rt.block_on(serve(addr)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("echo: {addr}: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn serve(addr: SocketAddr) -> std::io::Result<()> {
    let listener = TcpListener::bind(addr).await?;
    eprintln!("echo: listening on {}", listener.local_addr()?);
    loop {
        match listener.accept().await {
            Ok((stream, peer)) => {
                drop(aria_io::spawn(async move {
                    if let Err(e) = echo(stream).await {
                        eprintln!("echo: {peer}: {e}");
                    }
                }));
            }
            // Out of descriptors (EMFILE/ENFILE) or memory: the connection stays queued;
            // retrying at once would spin, so back off a little (tokio#3529).
            Err(e) => {
                eprintln!("echo: accept: {e}");
                aria_io::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
}

/// Sends back everything the peer sends, then closes the write side at its end of file.
async fn echo(stream: TcpStream) -> std::io::Result<()> {
    use futures_util::AsyncWriteExt;
    let (mut reader, mut writer) = stream.into_split();
    futures_util::io::copy(&mut reader, &mut writer).await?;
    writer.close().await
}
