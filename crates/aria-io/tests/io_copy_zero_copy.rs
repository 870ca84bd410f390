//! `io::copy` between descriptors moves the bytes inside the kernel: the process's own
//! read(2)/write(2) byte counters (`rchar`/`wchar` in /proc/self/io, which splice(2) does not
//! add to) barely move while megabytes are copied. The buffered path would add every byte.
//!
//! This file holds one test on purpose: the counters are per process, and other tests running
//! at the same time would add their own reads and writes.

mod support;

use aria_io::fs::File;
use aria_io::process::Stdio;
use support::{emitted, helper, run};

const SIZE: usize = 16 << 20;
/// What the copy itself may add: the runtime's own small reads and writes (eventfds, a
/// signalfd, a pidfd's exit), far below the size copied.
const SLACK: u64 = (SIZE / 16) as u64;

/// `rchar + wchar` of this process.
fn user_space_bytes() -> u64 {
    let io = std::fs::read_to_string("/proc/self/io").expect("/proc/self/io");
    io.lines()
        .filter_map(|l| l.strip_prefix("rchar: ").or_else(|| l.strip_prefix("wchar: ")))
        .map(|v| v.trim().parse::<u64>().expect("a counter"))
        .sum()
}

/// Runs `copy` and checks it moved `SIZE` bytes with less than `SLACK` through read/write.
async fn assert_zero_copy<F: std::future::Future<Output = std::io::Result<u64>>>(what: &str, copy: F) {
    let before = user_space_bytes();
    let n = copy.await.unwrap_or_else(|e| panic!("{what}: {e}"));
    let through_user_space = user_space_bytes() - before;
    assert_eq!(n, SIZE as u64, "{what}: bytes copied");
    assert!(
        through_user_space < SLACK,
        "{what}: {through_user_space} of {SIZE} bytes went through read/write instead of splice"
    );
}

#[test]
fn copies_between_pipes_and_files_move_no_bytes_through_user_space() {
    run(async {
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = (dir.path().join("a"), dir.path().join("b"));

        // Pipe to file.
        let mut producer = helper(&["emit", "1", &SIZE.to_string()]);
        let mut producer = producer.stdout(Stdio::piped()).spawn().unwrap();
        let mut from = producer.stdout.take().unwrap();
        let mut file = File::create(&a).await.unwrap();
        assert_zero_copy("pipe to file", aria_io::io::copy(&mut from, &mut file)).await;
        assert!(producer.wait().await.unwrap().success());
        drop(file);

        // File to file (through an intermediate pipe).
        let mut src = File::open(&a).await.unwrap();
        let mut dst = File::create(&b).await.unwrap();
        assert_zero_copy("file to file", aria_io::io::copy(&mut src, &mut dst)).await;
        drop(dst);

        // File to pipe, and pipe to pipe: a child's stdout into another child's stdin; the
        // last child writes what it got to a file of its own.
        let mut cat = helper(&["cat"]);
        let out = std::fs::File::create(dir.path().join("c")).unwrap();
        let mut cat =
            cat.stdin(Stdio::piped()).stdout(Stdio::from(std::os::fd::OwnedFd::from(out))).spawn().unwrap();
        let mut to_cat = cat.stdin.take().unwrap();
        let mut src = File::open(&b).await.unwrap();
        assert_zero_copy("file to pipe", aria_io::io::copy(&mut src, &mut to_cat)).await;
        drop(to_cat);
        assert!(cat.wait().await.unwrap().success());

        let mut producer = helper(&["emit", "1", &SIZE.to_string()]);
        let mut producer = producer.stdout(Stdio::piped()).spawn().unwrap();
        let mut cat = helper(&["cat"]);
        let out = std::fs::File::create(dir.path().join("d")).unwrap();
        let mut cat =
            cat.stdin(Stdio::piped()).stdout(Stdio::from(std::os::fd::OwnedFd::from(out))).spawn().unwrap();
        let (mut from, mut to) = (producer.stdout.take().unwrap(), cat.stdin.take().unwrap());
        assert_zero_copy("pipe to pipe", aria_io::io::copy(&mut from, &mut to)).await;
        drop(to);
        assert!(producer.wait().await.unwrap().success());
        assert!(cat.wait().await.unwrap().success());

        // And the bytes are the ones emitted, at every hop.
        let expected = emitted(SIZE);
        for name in ["a", "b", "c", "d"] {
            let got = std::fs::read(dir.path().join(name)).unwrap();
            assert!(got == expected, "file {name} differs from what was emitted");
        }
    });
}
