//! hyper 1.x on aria-io (the `hyper` feature): HTTP/1 and HTTP/2 between hyper's own server
//! and client, under the flavour and backend of the run.

mod support;

use std::convert::Infallible;

use aria_io::hyper::{HyperExecutor, HyperIo, HyperTimer};
use aria_io::net::unix::UnixStream;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::{Request, Response};
use support::run;

/// Answers every request with its method, path and body length, echoing the body.
async fn echo(req: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    let head = format!("{} {} ", req.method(), req.uri().path());
    let body = req.into_body().collect().await.map(|b| b.to_bytes()).unwrap_or_default();
    let mut out = head.into_bytes();
    out.extend_from_slice(&body);
    Ok(Response::new(Full::new(Bytes::from(out))))
}

fn request(path: &str, body: &'static [u8]) -> Request<Full<Bytes>> {
    Request::post(path).body(Full::new(Bytes::from_static(body))).unwrap()
}

#[test]
fn http1_requests_round_trip_and_keep_the_connection_alive() {
    run(async {
        let (server_end, client_end) = UnixStream::pair().unwrap();
        let server = aria_io::spawn(async move {
            hyper::server::conn::http1::Builder::new()
                .timer(HyperTimer::new())
                .serve_connection(HyperIo::new(server_end), hyper::service::service_fn(echo))
                .await
        });
        let (mut sender, conn) =
            hyper::client::conn::http1::handshake(HyperIo::new(client_end)).await.unwrap();
        let driver = aria_io::spawn(conn);
        // A body larger than one read, so the reads go through hyper's growing buffer.
        let big: &'static [u8] = Box::leak(vec![b'x'; 300 * 1024].into_boxed_slice());
        for (path, body) in [("/a", &b"one"[..]), ("/b", &b""[..]), ("/big", big)] {
            // As hyper documents: wait until the connection can take the next request (on
            // a multi-thread runtime the connection task may still be finishing the last).
            sender.ready().await.unwrap();
            let res = sender.send_request(request(path, body)).await.unwrap();
            assert!(res.status().is_success());
            let got = res.into_body().collect().await.unwrap().to_bytes();
            let mut want = format!("POST {path} ").into_bytes();
            want.extend_from_slice(body);
            assert_eq!(got.len(), want.len(), "{path}");
            assert!(got[..] == want[..], "{path}: body differs");
        }
        drop(sender);
        driver.await.unwrap().unwrap();
        server.await.unwrap().unwrap();
    });
}

#[test]
fn http2_through_hyper_utils_auto_builder_with_the_runtimes_executor() {
    run(async {
        let (server_end, client_end) = UnixStream::pair().unwrap();
        let server = aria_io::spawn(async move {
            hyper_util::server::conn::auto::Builder::new(HyperExecutor::new())
                .serve_connection(HyperIo::new(server_end), hyper::service::service_fn(echo))
                .await
                .map_err(|e| (peer_closed(&*e), format!("{e:?}")))
        });
        let (mut sender, conn) = hyper::client::conn::http2::Builder::new(HyperExecutor::new())
            .timer(HyperTimer::new())
            .handshake(HyperIo::new(client_end))
            .await
            .unwrap();
        let driver = aria_io::spawn(conn);
        // Several streams at once on one connection.
        let mut pending = Vec::new();
        for i in 0..8 {
            let fut = sender.send_request(request(&format!("/s{i}"), b"h2"));
            pending.push(aria_io::spawn(async move {
                let res = fut.await.unwrap();
                assert_eq!(res.version(), hyper::Version::HTTP_2);
                res.into_body().collect().await.unwrap().to_bytes()
            }));
        }
        for (i, p) in pending.into_iter().enumerate() {
            assert_eq!(&p.await.unwrap()[..], format!("POST /s{i} h2").as_bytes());
        }
        drop(sender);
        driver.await.unwrap().unwrap();
        // The client closes the connection once its last sender is gone; an HTTP/2 server
        // still writing then (a GOAWAY, a flush) sees the peer gone, which hyper reports as
        // an I/O error. Anything else is a failure.
        match server.await.unwrap() {
            Ok(()) => {}
            Err((true, _)) => {}
            Err((false, e)) => panic!("the HTTP/2 server failed: {e}"),
        }
    });
}

/// Whether `e` (or an error it was caused by) is the peer having closed the connection.
fn peer_closed(e: &(dyn std::error::Error + 'static)) -> bool {
    let mut cur = Some(e);
    while let Some(err) = cur {
        if let Some(io) = err.downcast_ref::<std::io::Error>() {
            return matches!(io.kind(), std::io::ErrorKind::BrokenPipe | std::io::ErrorKind::ConnectionReset);
        }
        cur = err.source();
    }
    false
}

#[test]
fn the_timer_sleeps_and_resets_on_the_runtimes_wheel() {
    use hyper::rt::Timer;
    use std::time::{Duration, Instant};
    run(async {
        let timer = HyperTimer::new();
        let start = Instant::now();
        let mut sleep = timer.sleep(Duration::from_secs(3600));
        timer.reset(&mut sleep, Instant::now() + Duration::from_millis(5));
        sleep.await;
        // Only that the reset took effect: far less than the hour first asked for.
        assert!(start.elapsed() < Duration::from_secs(3000));
    });
}

#[test]
fn hyper_client_and_server_over_tcp_loopback_with_many_connections() {
    use aria_io::net::{TcpListener, TcpStream};
    run(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = aria_io::spawn(async move {
            let http = hyper_util::server::conn::auto::Builder::new(HyperExecutor::new());
            let mut conns = Vec::new();
            for _ in 0..16 {
                let (stream, _) = listener.accept().await.unwrap();
                let http = http.clone();
                conns.push(aria_io::spawn(async move {
                    http.serve_connection(HyperIo::new(stream), hyper::service::service_fn(echo))
                        .await
                        .map_err(|e| e.to_string())
                }));
            }
            for c in conns {
                c.await.unwrap().unwrap();
            }
        });
        let mut clients = Vec::new();
        for i in 0..16 {
            clients.push(aria_io::spawn(async move {
                let stream = TcpStream::connect(addr).await.unwrap();
                let (mut sender, conn) =
                    hyper::client::conn::http1::handshake(HyperIo::new(stream)).await.unwrap();
                let driver = aria_io::spawn(conn);
                for j in 0..4 {
                    let path = format!("/c{i}/r{j}");
                    sender.ready().await.unwrap();
                    let res = sender.send_request(request(&path, b"tcp")).await.unwrap();
                    let got = res.into_body().collect().await.unwrap().to_bytes();
                    assert_eq!(&got[..], format!("POST {path} tcp").as_bytes());
                }
                drop(sender);
                driver.await.unwrap().unwrap();
            }));
        }
        for c in clients {
            c.await.unwrap();
        }
        server.await.unwrap();
    });
}

/// Sends `body` to `path` over `sender` and checks the echo.
async fn round_trip<B>(sender: &mut hyper::client::conn::http1::SendRequest<Full<Bytes>>, path: &str, body: B)
where
    B: Into<Bytes>,
{
    let body: Bytes = body.into();
    sender.ready().await.unwrap();
    let req = Request::post(path).body(Full::new(body.clone())).unwrap();
    let res = sender.send_request(req).await.unwrap();
    let got = res.into_body().collect().await.unwrap().to_bytes();
    let mut want = format!("POST {path} ").into_bytes();
    want.extend_from_slice(&body);
    assert!(got == want[..], "{path}: {} bytes back, {} expected", got.len(), want.len());
}

#[test]
fn tcp_and_unix_streams_serve_hyper_directly_with_bodies_larger_than_its_buffer() {
    use aria_io::net::{TcpListener, TcpStream};
    run(async {
        // 1 MiB of a pattern that shows a byte out of place.
        let big: Vec<u8> = (0..1 << 20).map(|i: u32| (i % 251) as u8).collect();
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = aria_io::spawn(async move {
            let (stream, _) = listener.accept().await.unwrap();
            hyper::server::conn::http1::Builder::new()
                .timer(HyperTimer::new())
                .serve_connection(stream, hyper::service::service_fn(echo))
                .await
                .map_err(|e| e.to_string())
        });
        let stream = TcpStream::connect(addr).await.unwrap();
        let (mut sender, conn) = hyper::client::conn::http1::handshake(stream).await.unwrap();
        let driver = aria_io::spawn(conn);
        round_trip(&mut sender, "/small", Bytes::from_static(b"tcp")).await;
        round_trip(&mut sender, "/big", big.clone()).await;
        round_trip(&mut sender, "/after", Bytes::from_static(b"still in step")).await;
        drop(sender);
        driver.await.unwrap().unwrap();
        server.await.unwrap().unwrap();

        let (server_end, client_end) = UnixStream::pair().unwrap();
        let server = aria_io::spawn(async move {
            hyper::server::conn::http1::Builder::new()
                .serve_connection(server_end, hyper::service::service_fn(echo))
                .await
                .map_err(|e| e.to_string())
        });
        let (mut sender, conn) = hyper::client::conn::http1::handshake(client_end).await.unwrap();
        let driver = aria_io::spawn(conn);
        round_trip(&mut sender, "/unix", big).await;
        drop(sender);
        driver.await.unwrap().unwrap();
        server.await.unwrap().unwrap();
    });
}
