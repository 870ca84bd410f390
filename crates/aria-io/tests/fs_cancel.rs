//! Cancellation: dropping a file operation mid-flight never lets the kernel (or a pool
//! thread) write into freed memory, and never lets a later operation on the same file
//! overtake it.

mod support;

use std::time::Duration;

use aria_io::fs::{File, OpenOptions};
use aria_io::time::timeout;
use support::run;

fn pattern(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i % 241) as u8).collect()
}

#[test]
fn dropped_in_flight_reads_leave_memory_and_the_file_intact() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("f");
    let data = pattern(1 << 20);
    std::fs::write(&path, &data).unwrap();
    run(async {
        let mut f = File::open(&path).await.unwrap();
        let mut dropped = 0;
        for i in 0..2000 {
            let buf = Vec::with_capacity(64 * 1024 + i % 13);
            let res = timeout(Duration::ZERO, f.read_at(buf, (i * 4099 % (1 << 20)) as u64)).await;
            dropped += res.is_err() as usize;
        }
        assert!(dropped > 0, "no read was dropped in flight: the test tests nothing");
        // Fresh allocations likely reuse freed buffers: a stray write would show here.
        let canaries: Vec<Vec<u8>> = (0..500).map(|_| vec![0x5Au8; 64 * 1024]).collect();
        let (n, buf) = f.read_at(Vec::with_capacity(2 << 20), 0).await;
        assert_eq!(n.unwrap(), 1 << 20);
        assert!(buf == data, "the file reads back unchanged");
        assert!(canaries.iter().all(|c| c.iter().all(|b| *b == 0x5A)), "a canary was overwritten");
    });
}

#[test]
fn a_dropped_read_at_the_file_position_either_happened_or_did_not() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("f");
    // 10-byte records "000000042\n": a read of 10 bytes returns one whole record only if
    // the position is a multiple of 10.
    let data: String = (0..10_000).map(|k| format!("{k:09}\n")).collect();
    std::fs::write(&path, &data).unwrap();
    run(async {
        let mut f = File::open(&path).await.unwrap();
        for _ in 0..500 {
            let _ = timeout(Duration::ZERO, f.read_owned(Vec::with_capacity(10))).await;
        }
        // Each dropped read moved the position by 10 bytes or not at all.
        let (n, buf) = f.read_owned(Vec::with_capacity(10)).await;
        assert_eq!(n.unwrap(), 10);
        let record = std::str::from_utf8(&buf).unwrap();
        assert!(record.ends_with('\n') && record[..9].parse::<u32>().is_ok(), "{record:?}");
    });
}

#[test]
fn dropped_in_flight_writes_are_never_overtaken_by_later_ones() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("f");
    run(async {
        let mut f = OpenOptions::new().read(true).write(true).create(true).open(&path).await.unwrap();
        for i in 0..300 {
            let old = vec![b'a' + (i % 20) as u8; 256 * 1024];
            let _ = timeout(Duration::ZERO, f.write_at(old, 0)).await;
        }
        f.write_all_at(vec![b'Z'; 256 * 1024], 0).await.0.unwrap();
        let (_, buf) = f.read_at(Vec::with_capacity(256 * 1024), 0).await;
        assert!(buf.iter().all(|b| *b == b'Z'), "an older, dropped write landed after the last one");
    });
}

#[test]
fn dropped_writes_at_the_file_position_are_whole_or_absent() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("f");
    run(async {
        let mut f = File::create(&path).await.unwrap();
        for i in 0..200u8 {
            let _ = timeout(Duration::ZERO, f.write_owned(vec![i; 1000])).await;
        }
        f.write_all_owned(b"end".to_vec()).await.0.unwrap();
        f.sync_all().await.unwrap();
    });
    let contents = std::fs::read(&path).unwrap();
    assert!(contents.ends_with(b"end"));
    let body = &contents[..contents.len() - 3];
    assert_eq!(body.len() % 1000, 0, "each dropped write is all or nothing for a regular file");
    let mut last = None;
    for chunk in body.chunks(1000) {
        assert!(chunk.iter().all(|b| *b == chunk[0]), "a chunk mixes two writes");
        assert!(last < Some(chunk[0]), "the writes landed out of order");
        last = Some(chunk[0]);
    }
}

#[test]
fn a_runtime_dropped_with_file_operations_in_flight_frees_everything() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("f");
    std::fs::write(&path, pattern(16 << 20)).unwrap();
    let rt = support::runtime();
    let p = path.clone();
    let h = rt.spawn(async move {
        let mut f = File::open(&p).await.unwrap();
        loop {
            let (res, _) = f.read_at(Vec::with_capacity(16 << 20), 0).await;
            res.unwrap();
        }
    });
    rt.block_on(async {
        aria_io::time::sleep(Duration::from_millis(20)).await;
    });
    drop(rt);
    let rt2 = support::runtime();
    assert!(rt2.block_on(h).unwrap_err().is_cancelled());
    assert_eq!(std::fs::read(&path).unwrap(), pattern(16 << 20));
}
