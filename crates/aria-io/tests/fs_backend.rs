//! Which mechanism performs file operations: native io_uring operations start no blocking
//! pool thread; on epoll the pool does the work (alone in its binary: it counts threads).

mod support;

use aria_io::fs::{self, File, OpenOptions};
use aria_io::BackendKind;

/// Pool threads alive, by their kernel name (`aria-io-blocking-N` truncated to 15 bytes).
fn pool_threads() -> usize {
    std::fs::read_dir("/proc/self/task")
        .unwrap()
        .filter_map(|t| std::fs::read_to_string(t.ok()?.path().join("comm")).ok())
        .filter(|comm| comm.trim_end() == "aria-io-blockin")
        .count()
}

#[test]
fn native_operations_on_io_uring_start_no_pool_thread_and_epoll_uses_the_pool() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("f");
    let moved = dir.path().join("g");
    let rt = support::runtime();
    let backend = rt.backend();
    rt.block_on(async {
        let mut f = OpenOptions::new().read(true).write(true).create(true).open(&path).await.unwrap();
        f.write_all_owned(b"native".to_vec()).await.0.unwrap();
        f.write_at(b"N".to_vec(), 0).await.0.unwrap();
        let (_, buf) = f.read_at(Vec::with_capacity(8), 0).await;
        assert_eq!(buf, b"Native");
        f.sync_all().await.unwrap();
        f.sync_data().await.unwrap();
        assert_eq!(f.metadata().await.unwrap().len(), 6);
        drop(f);
        let mut f = File::open(&path).await.unwrap();
        let (_, buf) = f.read_owned(Vec::with_capacity(8)).await;
        assert_eq!(buf, b"Native");
        fs::rename(&path, &moved).await.unwrap();
        assert!(fs::metadata(&moved).await.unwrap().is_file());
        fs::remove_file(&moved).await.unwrap();
    });
    match backend {
        BackendKind::IoUring => assert_eq!(pool_threads(), 0, "a file operation fell back to the pool"),
        _ => assert!(pool_threads() > 0, "readiness backends perform file operations on the pool"),
    }
}
