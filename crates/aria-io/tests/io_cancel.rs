//! Cancellation: dropping a future with an operation in flight never lets the kernel write
//! into freed memory, and never loses data that was not read.

mod support;

use std::time::Duration;

use aria_io::time::timeout;
use support::run;

#[test]
fn a_dropped_in_flight_read_does_not_corrupt_memory_or_lose_data() {
    run(async {
        let (mut r, mut w) = aria_io::io::pipe().unwrap();
        // Thousands of reads on an empty pipe, each dropped while waiting.
        for i in 0..5000 {
            let buf = Vec::with_capacity(4096 + i % 7);
            let res = timeout(Duration::ZERO, r.read_owned(buf)).await;
            assert!(res.is_err(), "nothing was written, so every read must still be pending");
        }
        // Fill freshly allocated memory with a pattern; a stray kernel write into a freed
        // buffer would corrupt these.
        let canaries: Vec<Vec<u8>> = (0..1000).map(|_| vec![0x5Au8; 4096]).collect();
        w.write_all(b"hello").await.unwrap();
        let (n, buf) = r.read_owned(Vec::with_capacity(64)).await;
        assert_eq!(n.unwrap(), 5);
        assert_eq!(buf, b"hello");
        assert!(canaries.iter().all(|c| c.iter().all(|b| *b == 0x5A)));
    });
}

#[test]
fn a_dropped_async_read_loses_no_bytes() {
    use futures_util::io::AsyncReadExt;
    run(async {
        let (mut r, mut w) = aria_io::io::pipe().unwrap();
        let mut small = [0u8; 3];
        assert!(timeout(Duration::ZERO, r.read(&mut small)).await.is_err());
        w.write_all(b"abcdef").await.unwrap();
        drop(w);
        let mut all = Vec::new();
        r.read_to_end(&mut all).await.unwrap();
        assert_eq!(all, b"abcdef");
    });
}

#[test]
fn a_runtime_dropped_with_reads_in_flight_frees_everything() {
    let rt = support::runtime();
    let (r, w) = rt.block_on(async { aria_io::io::pipe().unwrap() });
    let h = rt.spawn(async move {
        let mut r = r;
        r.read_owned(Vec::with_capacity(1 << 16)).await
    });
    rt.block_on(aria_io::yield_now());
    drop(rt);
    drop(w);
    let rt2 = support::runtime();
    assert!(rt2.block_on(h).unwrap_err().is_cancelled());
}

#[test]
fn writes_to_a_closed_pipe_fail_with_broken_pipe_instead_of_killing_the_process() {
    run(async {
        let (r, mut w) = aria_io::io::pipe().unwrap();
        drop(r);
        let err = w.write_all(b"x").await.unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::BrokenPipe);
    });
}

#[test]
fn copy_moves_every_byte_between_pipes() {
    run(async {
        let (mut r1, mut w1) = aria_io::io::pipe().unwrap();
        let (mut r2, mut w2) = aria_io::io::pipe().unwrap();
        let data: Vec<u8> = (0..1_000_000u32).map(|i| (i % 249) as u8).collect();
        let writer = aria_io::spawn({
            let data = data.clone();
            async move { w1.write_all(&data).await }
        });
        let reader = aria_io::spawn(async move {
            let mut got = Vec::new();
            r2.read_to_end(&mut got).await.map(|_| got)
        });
        let n = aria_io::io::copy(&mut r1, &mut w2).await.unwrap();
        drop(w2);
        writer.await.unwrap().unwrap();
        assert_eq!(n, data.len() as u64);
        assert_eq!(reader.await.unwrap().unwrap(), data);
    });
}

#[test]
fn a_runtime_dropped_with_hundreds_of_reads_in_flight_never_lets_the_kernel_write_into_freed_memory() {
    let rt = support::runtime();
    let mut writers = Vec::new();
    let mut handles = Vec::new();
    for _ in 0..300 {
        let (mut r, w) = rt.block_on(async { aria_io::io::pipe() }).unwrap();
        writers.push(w);
        handles.push(rt.spawn(async move { r.read_owned(Vec::with_capacity(64 * 1024)).await }));
    }
    // Let every task submit its read (and the driver hand it to the kernel).
    rt.block_on(aria_io::time::sleep(Duration::from_millis(5)));
    drop(rt);
    // Data written now must not land in the dropped buffers: the tasks (and their read ends)
    // are gone, and no read may still be in flight holding a read end open in the kernel, so
    // every write fails with EPIPE.
    let canaries: Vec<Vec<u8>> = (0..300).map(|_| vec![0x5Au8; 64 * 1024]).collect();
    for w in writers {
        use std::io::Write;
        let mut f = std::fs::File::from(w.into_owned_fd().unwrap());
        let err = f.write_all(b"late data").unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::BrokenPipe);
    }
    let rt2 = support::runtime();
    for h in handles {
        assert!(rt2.block_on(h).unwrap_err().is_cancelled());
    }
    assert!(canaries.iter().all(|c| c.iter().all(|b| *b == 0x5A)));
}

#[test]
fn waiting_on_an_io_object_whose_runtime_is_gone_is_an_error_not_a_hang() {
    let rt = support::runtime();
    let (mut r, _w) = rt.block_on(async { aria_io::io::pipe() }).unwrap();
    drop(rt);
    let rt2 = support::runtime();
    let err = rt2.block_on(async { r.read_owned(Vec::with_capacity(16)).await.0 }).unwrap_err();
    assert!(err.to_string().contains("shut down"), "{err}");
}
