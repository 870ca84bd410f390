//! `io::copy` and `io::copy_bidirectional`: splice between pipes, between pipes and files,
//! between files through an intermediate pipe, the buffered fallback, end of file, errors and
//! copies dropped mid-transfer.

mod support;

use std::time::Duration;

use aria_io::fs::{File, OpenOptions};
use aria_io::process::Stdio;
use aria_io::time::timeout;
use support::{emitted, helper, run};

fn pattern(n: usize) -> Vec<u8> {
    (0..n).map(|i| (i % 251) as u8).collect()
}

#[test]
fn copy_moves_a_childs_stdout_into_another_childs_stdin_byte_for_byte() {
    run(async {
        let size = 20 << 20;
        let mut producer = helper(&["emit", "1", &size.to_string()]);
        producer.stdout(Stdio::piped());
        let mut producer = producer.spawn().unwrap();
        let mut consumer = helper(&["cat"]);
        consumer.stdin(Stdio::piped()).stdout(Stdio::piped());
        let mut consumer = consumer.spawn().unwrap();
        let mut from = producer.stdout.take().unwrap();
        let mut to = consumer.stdin.take().unwrap();
        let mut back = consumer.stdout.take().unwrap();
        let collector = aria_io::spawn(async move {
            let mut got = Vec::new();
            back.read_to_end(&mut got).await.map(|_| got)
        });
        let n = aria_io::io::copy(&mut from, &mut to).await.unwrap();
        drop(to);
        assert_eq!(n, size as u64);
        // The helper writes a 64 KiB block of the pattern over and over.
        let expected = pattern(64 * 1024).repeat(size / (64 * 1024));
        let got = collector.await.unwrap().unwrap();
        assert_eq!(got.len(), expected.len());
        assert!(got == expected, "the bytes differ");
        assert!(producer.wait().await.unwrap().success());
        assert!(consumer.wait().await.unwrap().success());
    });
}

#[test]
fn copy_into_a_pipe_whose_reader_is_gone_reports_broken_pipe() {
    run(async {
        let mut producer = helper(&["emit", "1", "10000000"]);
        producer.stdout(Stdio::piped());
        let mut producer = producer.spawn().unwrap();
        let (from_end, mut to) = aria_io::io::pipe().unwrap();
        drop(from_end);
        let mut from = producer.stdout.take().unwrap();
        let err = aria_io::io::copy(&mut from, &mut to).await.unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::BrokenPipe);
        drop(from);
        producer.wait().await.unwrap();
    });
}

#[test]
fn copy_between_non_pipe_types_uses_the_buffered_path() {
    use futures_util::io::Cursor;
    run(async {
        let data = pattern(300_000);
        let mut src = Cursor::new(data.clone());
        let mut dst = Cursor::new(Vec::new());
        let n = aria_io::io::copy(&mut src, &mut dst).await.unwrap();
        assert_eq!(n, data.len() as u64);
        assert_eq!(dst.into_inner(), data);
    });
}

/// A checksum that tells apart reordered, lost or duplicated blocks (FNV-1a, 64 bits).
fn fnv(data: &[u8]) -> u64 {
    data.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| (h ^ u64::from(*b)).wrapping_mul(0x100_0000_01b3))
}

fn assert_same(got: &[u8], expected: &[u8]) {
    assert_eq!(got.len(), expected.len(), "lengths differ");
    assert_eq!(fnv(got), fnv(expected), "the bytes differ");
}

/// A child writing `n` bytes of the pattern on its stdout, and that stdout.
fn emitter(n: usize) -> (aria_io::process::Child, aria_io::io::PipeReader) {
    let mut c = helper(&["emit", "1", &n.to_string()]);
    c.stdout(Stdio::piped());
    let mut child = c.spawn().unwrap();
    let out = child.stdout.take().unwrap();
    (child, out)
}

#[test]
fn copy_splices_a_childs_stdout_into_a_file_at_its_position() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("out");
    run(async {
        let size = (24 << 20) + 12345;
        let (mut child, mut from) = emitter(size);
        let mut file = File::create(&path).await.unwrap();
        // The copy starts at the file position, after what was written before.
        file.write_all_owned(b"head:".to_vec()).await.0.unwrap();
        let n = aria_io::io::copy(&mut from, &mut file).await.unwrap();
        assert_eq!(n, size as u64);
        // ...and leaves the position after the bytes copied.
        file.write_all_owned(b":tail".to_vec()).await.0.unwrap();
        assert!(child.wait().await.unwrap().success());
        drop(file);
        let got = aria_io::fs::read(&path).await.unwrap();
        assert_eq!(&got[..5], b"head:");
        assert_eq!(&got[got.len() - 5..], b":tail");
        assert_same(&got[5..got.len() - 5], &emitted(size));
    });
}

#[test]
fn copy_splices_a_file_into_a_childs_stdin_from_its_position() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("in");
    let data = emitted((20 << 20) + 777);
    std::fs::write(&path, &data).unwrap();
    run(async {
        let mut c = helper(&["cat"]);
        c.stdin(Stdio::piped()).stdout(Stdio::piped());
        let mut child = c.spawn().unwrap();
        let mut to = child.stdin.take().unwrap();
        let mut back = child.stdout.take().unwrap();
        let collector = aria_io::spawn(async move {
            let mut got = Vec::new();
            back.read_to_end(&mut got).await.map(|_| got)
        });
        let mut file = File::open(&path).await.unwrap();
        let (res, _) = file.read_owned(Vec::with_capacity(1000)).await;
        assert_eq!(res.unwrap(), 1000);
        let n = aria_io::io::copy(&mut file, &mut to).await.unwrap();
        assert_eq!(n, data.len() as u64 - 1000);
        // The file position is at the end: nothing more to read.
        assert_eq!(file.read_owned(Vec::with_capacity(16)).await.0.unwrap(), 0);
        drop(to);
        assert_same(&collector.await.unwrap().unwrap(), &data[1000..]);
        assert!(child.wait().await.unwrap().success());
    });
}

#[test]
fn copy_between_two_files_goes_through_an_intermediate_pipe_and_moves_both_positions() {
    let dir = tempfile::tempdir().unwrap();
    let (src_path, dst_path) = (dir.path().join("src"), dir.path().join("dst"));
    let data = emitted((9 << 20) + 4099);
    std::fs::write(&src_path, &data).unwrap();
    run(async {
        for round in 0..3 {
            let mut src = File::open(&src_path).await.unwrap();
            let (res, _) = src.read_owned(Vec::with_capacity(10)).await;
            assert_eq!(res.unwrap(), 10);
            let mut dst = File::create(&dst_path).await.unwrap();
            dst.write_all_owned(b"0123".to_vec()).await.0.unwrap();
            let n = aria_io::io::copy(&mut src, &mut dst).await.unwrap();
            assert_eq!(n, data.len() as u64 - 10, "round {round}");
            assert_eq!(src.read_owned(Vec::with_capacity(16)).await.0.unwrap(), 0);
            dst.write_all_owned(b"end".to_vec()).await.0.unwrap();
            drop(dst);
            let got = std::fs::read(&dst_path).unwrap();
            assert_eq!(&got[..4], b"0123");
            assert_eq!(&got[got.len() - 3..], b"end");
            assert_same(&got[4..got.len() - 3], &data[10..]);
        }
    });
}

#[test]
fn copy_into_a_file_opened_for_append_falls_back_to_buffers_and_appends() {
    let dir = tempfile::tempdir().unwrap();
    let (src_path, dst_path) = (dir.path().join("src"), dir.path().join("dst"));
    let data = emitted(3 << 20);
    std::fs::write(&src_path, &data).unwrap();
    std::fs::write(&dst_path, b"first|").unwrap();
    run(async {
        // splice(2) refuses a destination opened with O_APPEND (EINVAL): from a file, bytes
        // already moved into the intermediate pipe must not be lost on the way to buffers.
        let mut src = File::open(&src_path).await.unwrap();
        let mut dst = OpenOptions::new().append(true).open(&dst_path).await.unwrap();
        let n = aria_io::io::copy(&mut src, &mut dst).await.unwrap();
        assert_eq!(n, data.len() as u64);
        drop(dst);
        // From a pipe: the bytes taken into the intermediate pipe before the refusal go to
        // the buffered path first.
        let (mut child, mut from) = emitter(1 << 20);
        let mut dst = OpenOptions::new().append(true).open(&dst_path).await.unwrap();
        let n = aria_io::io::copy(&mut from, &mut dst).await.unwrap();
        assert_eq!(n, 1 << 20);
        assert!(child.wait().await.unwrap().success());
        drop(dst);
        let got = std::fs::read(&dst_path).unwrap();
        assert_eq!(&got[..6], b"first|");
        assert_same(&got[6..6 + data.len()], &data);
        assert_same(&got[6 + data.len()..], &emitted(1 << 20));
    });
}

#[test]
fn copy_of_an_empty_source_is_zero_bytes_on_every_path() {
    let dir = tempfile::tempdir().unwrap();
    let (empty, dst_path) = (dir.path().join("empty"), dir.path().join("dst"));
    std::fs::write(&empty, b"").unwrap();
    run(async {
        let mut dst = File::create(&dst_path).await.unwrap();
        assert_eq!(aria_io::io::copy(&mut File::open(&empty).await.unwrap(), &mut dst).await.unwrap(), 0);
        let (mut r, w) = aria_io::io::pipe().unwrap();
        drop(w);
        assert_eq!(aria_io::io::copy(&mut r, &mut dst).await.unwrap(), 0);
        let (r, mut w) = aria_io::io::pipe().unwrap();
        assert_eq!(aria_io::io::copy(&mut File::open(&empty).await.unwrap(), &mut w).await.unwrap(), 0);
        drop((w, r));
        drop(dst);
        assert_eq!(std::fs::metadata(&dst_path).unwrap().len(), 0);
    });
}

#[test]
fn copy_from_a_file_into_a_pipe_whose_reader_is_gone_reports_broken_pipe() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("src");
    std::fs::write(&path, emitted(4 << 20)).unwrap();
    run(async {
        let (from_end, mut to) = aria_io::io::pipe().unwrap();
        drop(from_end);
        let mut file = File::open(&path).await.unwrap();
        let err = aria_io::io::copy(&mut file, &mut to).await.unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::BrokenPipe, "{err}");
    });
}

#[test]
fn copy_into_a_closed_pipe_writer_is_not_connected() {
    run(async {
        let (_r, mut to) = aria_io::io::pipe().unwrap();
        to.close().await.unwrap();
        let (mut from, mut w) = aria_io::io::pipe().unwrap();
        w.write_all(b"x").await.unwrap();
        drop(w);
        let err = aria_io::io::copy(&mut from, &mut to).await.unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::NotConnected);
    });
}

#[test]
fn a_copy_into_a_file_dropped_mid_transfer_and_resumed_loses_and_reorders_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("out");
    run(async {
        let size = 48 << 20;
        let (mut child, mut from) = emitter(size);
        let mut file = File::create(&path).await.unwrap();
        let mut dropped = 0;
        let mut total = 0;
        loop {
            // Splices in flight when the copy is dropped still land in the file, at its
            // position, before the next copy's first one (the file waits for them).
            match timeout(Duration::from_millis(3), aria_io::io::copy(&mut from, &mut file)).await {
                Ok(n) => {
                    total += n.unwrap();
                    break;
                }
                Err(_) => dropped += 1,
            }
        }
        assert!(dropped > 0, "no copy was dropped mid-transfer: the test tests nothing");
        assert!(total < size as u64);
        assert!(child.wait().await.unwrap().success());
        let len = file.metadata().await.unwrap().len();
        drop(file);
        assert_eq!(len, size as u64);
        assert_same(&std::fs::read(&path).unwrap(), &emitted(size));
    });
}

/// Issue #10: the pipe-to-file copy runs on a pool thread; dropping it must stop that
/// thread from taking bytes before the drop returns, and the file must wait for (and then
/// keep) the one delivery that was in progress.
#[test]
fn a_pipe_to_file_copy_dropped_while_the_producer_writes_stops_taking_from_the_pipe() {
    use futures_util::future::{select, Either};
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("out");
    run(async {
        let size = 48 << 20;
        let (mut child, mut from) = emitter(size);
        let mut file = File::create(&path).await.unwrap();
        let on_disk = |path: &std::path::Path| std::fs::metadata(path).unwrap().len();
        {
            // Drop the copy once some megabytes went through, the producer still writing.
            let copy = std::pin::pin!(aria_io::io::copy(&mut from, &mut file));
            let started = std::pin::pin!(async {
                while on_disk(&path) < 2 << 20 {
                    aria_io::time::sleep(Duration::from_millis(1)).await;
                }
            });
            if let Either::Left((res, _)) = select(copy, started).await {
                panic!("the copy ended before it could be dropped: {res:?}");
            }
        }
        let at_drop = on_disk(&path);
        // The file's next operation waits for the delivery that was in progress (at most the
        // intermediate pipe's 1 MiB, taken from the pipe before the drop)...
        let settled = file.metadata().await.unwrap().len();
        assert!(settled >= at_drop && settled - at_drop <= 1 << 20, "{at_drop} -> {settled}");
        // ...after which nothing writes into it, though the pipe has data to take.
        aria_io::time::sleep(Duration::from_millis(30)).await;
        assert_eq!(on_disk(&path), settled, "the file grew after the copy was dropped");
        // The caller reads the rest, while the producer writes it: no byte taken by the
        // dropped copy is missing, duplicated or reordered.
        let mut rest = Vec::new();
        from.read_to_end(&mut rest).await.unwrap();
        assert!(child.wait().await.unwrap().success());
        assert!(!rest.is_empty(), "the producer had finished: the test tests nothing");
        let mut got = std::fs::read(&path).unwrap();
        got.extend_from_slice(&rest);
        assert_same(&got, &emitted(size));
    });
}

#[test]
fn a_file_to_file_copy_dropped_mid_transfer_leaves_no_stale_bytes_for_the_next_copy() {
    let dir = tempfile::tempdir().unwrap();
    let (src_path, dst_path) = (dir.path().join("src"), dir.path().join("dst"));
    let data = emitted(32 << 20);
    std::fs::write(&src_path, &data).unwrap();
    run(async {
        let mut dropped = 0;
        for _ in 0..20 {
            let mut src = File::open(&src_path).await.unwrap();
            let mut dst = File::create(&dst_path).await.unwrap();
            dropped += timeout(Duration::from_micros(500), aria_io::io::copy(&mut src, &mut dst))
                .await
                .is_err() as usize;
        }
        assert!(dropped > 0, "no copy was dropped mid-transfer: the test tests nothing");
        // A dropped copy's intermediate pipe may hold bytes: it must not be reused.
        for _ in 0..3 {
            let mut src = File::open(&src_path).await.unwrap();
            let mut dst = File::create(&dst_path).await.unwrap();
            assert_eq!(aria_io::io::copy(&mut src, &mut dst).await.unwrap(), data.len() as u64);
            drop(dst);
            assert_same(&std::fs::read(&dst_path).unwrap(), &data);
        }
    });
}

#[test]
fn copy_bidirectional_relays_two_pipe_pairs_and_closes_each_writer_at_end_of_file() {
    use aria_io::io::{copy_bidirectional, pipe, Duplex};
    run(async {
        let (a_data, b_data) =
            (emitted((5 << 20) + 3), emitted(3 << 20).into_iter().rev().collect::<Vec<_>>());
        // Side A reads what `a_feed` writes and writes into `a_out`, read back by `a_seen`;
        // the same for B.
        let (a_in, a_feed) = pipe().unwrap();
        let (a_seen, a_out) = pipe().unwrap();
        let (b_in, b_feed) = pipe().unwrap();
        let (b_seen, b_out) = pipe().unwrap();
        let feed = |mut w: aria_io::io::PipeWriter, data: Vec<u8>| {
            aria_io::spawn(async move { w.write_all(&data).await })
        };
        let collect = |mut r: aria_io::io::PipeReader| {
            aria_io::spawn(async move {
                let mut got = Vec::new();
                r.read_to_end(&mut got).await.map(|_| got)
            })
        };
        let (fa, fb) = (feed(a_feed, a_data.clone()), feed(b_feed, b_data.clone()));
        let (seen_by_a, seen_by_b) = (collect(a_seen), collect(b_seen));
        let mut a = Duplex::new(a_in, a_out);
        let mut b = Duplex::new(b_in, b_out);
        let (a_to_b, b_to_a) = copy_bidirectional(&mut a, &mut b).await.unwrap();
        assert_eq!((a_to_b, b_to_a), (a_data.len() as u64, b_data.len() as u64));
        fa.await.unwrap().unwrap();
        fb.await.unwrap().unwrap();
        // Each collector ends only because the relay closed the writer it reads from.
        assert_same(&seen_by_b.await.unwrap().unwrap(), &a_data);
        assert_same(&seen_by_a.await.unwrap().unwrap(), &b_data);
    });
}

#[test]
fn copy_bidirectional_on_other_types_uses_buffers_and_counts_both_ways() {
    use aria_io::io::{copy_bidirectional, Duplex};
    use futures_util::io::Cursor;
    run(async {
        let (x, y) = (pattern(200_000), pattern(70_001));
        let mut a = Duplex::new(Cursor::new(x.clone()), Cursor::new(Vec::new()));
        let mut b = Duplex::new(Cursor::new(y.clone()), Cursor::new(Vec::new()));
        let (a_to_b, b_to_a) = copy_bidirectional(&mut a, &mut b).await.unwrap();
        assert_eq!((a_to_b, b_to_a), (x.len() as u64, y.len() as u64));
        assert_eq!(b.into_parts().1.into_inner(), x);
        assert_eq!(a.into_parts().1.into_inner(), y);
    });
}
