//! A dropped open never leaks the descriptor the kernel may still open for it (alone in its
//! binary: it counts the process's descriptors).

mod support;

use std::time::Duration;

use aria_io::fs::File;
use aria_io::time::{sleep, timeout};
use support::run;

fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd").unwrap().count()
}

#[test]
fn dropped_opens_close_the_descriptors_they_open() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("f");
    std::fs::write(&path, "x").unwrap();
    run(async {
        // Warm up: the runtime's own descriptors, the pool, the io_uring probe.
        drop(File::open(&path).await.unwrap());
        let before = open_fds();
        let mut dropped = 0;
        for _ in 0..1000 {
            dropped += timeout(Duration::ZERO, File::open(&path)).await.is_err() as usize;
        }
        assert!(dropped > 0, "no open was dropped in flight: the test tests nothing");
        // The kernel (or the pool) performs the dropped opens after this point: give it time
        // to, then wait for every descriptor to be closed again.
        sleep(Duration::from_millis(200)).await;
        for _ in 0..1000 {
            if open_fds() <= before {
                return;
            }
            sleep(Duration::from_millis(5)).await;
        }
        panic!("{} descriptors leaked", open_fds() - before);
    });
}
