//! `File` round trips: every operation, on whichever backend `ARIA_IO_BACKEND` selects.

mod support;

use std::os::unix::fs::PermissionsExt;
use std::time::{Duration, SystemTime};

use aria_io::fs::{self, File, OpenOptions};
use support::run;

#[test]
fn written_bytes_read_back_through_read_and_read_to_end() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("f");
    run(async {
        let mut f = File::create(&path).await.unwrap();
        let (n, buf) = f.write_owned(b"hello ".to_vec()).await;
        assert_eq!(n.unwrap(), 6);
        assert_eq!(buf, b"hello ", "the buffer comes back unchanged");
        let (res, _) = f.write_all_owned(b"world".to_vec()).await;
        res.unwrap();
        drop(f);

        let mut f = File::open(&path).await.unwrap();
        let (n, buf) = f.read_owned(Vec::with_capacity(3)).await;
        assert_eq!(n.unwrap(), 3);
        assert_eq!(buf, b"hel");
        let (n, buf) = f.read_owned(buf).await;
        assert_eq!(n.unwrap(), 0, "no spare capacity: nothing read");
        assert_eq!(buf, b"hel");
        let mut rest = b">".to_vec();
        assert_eq!(f.read_to_end(&mut rest).await.unwrap(), 8);
        assert_eq!(rest, b">lo world");
        let (n, _) = f.read_owned(Vec::with_capacity(10)).await;
        assert_eq!(n.unwrap(), 0, "end of file");
    });
}

#[test]
fn read_at_and_write_at_use_offsets_and_leave_the_position_alone() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("f");
    run(async {
        let mut f = OpenOptions::new().read(true).write(true).create(true).open(&path).await.unwrap();
        f.write_all_owned(b"0123456789".to_vec()).await.0.unwrap();
        let (n, _) = f.write_at(b"abc".to_vec(), 2).await;
        assert_eq!(n.unwrap(), 3);
        f.write_all_at(b"Z".to_vec(), 20).await.0.unwrap();
        let (n, buf) = f.read_at(Vec::with_capacity(4), 1).await;
        assert_eq!(n.unwrap(), 4);
        assert_eq!(buf, b"1abc");
        // The position is still at 10, after the first write_all.
        let mut rest = Vec::new();
        f.read_to_end(&mut rest).await.unwrap();
        assert_eq!(rest, b"\0\0\0\0\0\0\0\0\0\0Z", "the gap reads as zeros");
        let (n, _) = f.read_at(Vec::with_capacity(4), 1000).await;
        assert_eq!(n.unwrap(), 0, "past the end");
    });
    assert_eq!(std::fs::read(&path).unwrap(), b"01abc56789\0\0\0\0\0\0\0\0\0\0Z");
}

#[test]
fn read_to_string_reads_utf8_and_refuses_anything_else() {
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("good");
    let bad = dir.path().join("bad");
    std::fs::write(&good, "héllo").unwrap();
    std::fs::write(&bad, b"ok\xff").unwrap();
    run(async {
        let mut s = String::from("> ");
        File::open(&good).await.unwrap().read_to_string(&mut s).await.unwrap();
        assert_eq!(s, "> héllo");
        let mut s = String::from("kept");
        let err = File::open(&bad).await.unwrap().read_to_string(&mut s).await.unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::InvalidData);
        assert_eq!(s, "kept");
    });
}

#[test]
fn set_len_truncates_and_extends_with_zeros() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("f");
    run(async {
        let mut f = OpenOptions::new().read(true).write(true).create(true).open(&path).await.unwrap();
        f.write_all_owned(b"abcdef".to_vec()).await.0.unwrap();
        f.set_len(3).await.unwrap();
        assert_eq!(f.metadata().await.unwrap().len(), 3);
        f.set_len(5).await.unwrap();
        let (_, buf) = f.read_at(Vec::with_capacity(16), 0).await;
        assert_eq!(buf, b"abc\0\0");
    });
}

#[test]
fn sync_all_and_sync_data_succeed_after_writes() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("f");
    run(async {
        let mut f = File::create(&path).await.unwrap();
        f.write_all_owned(vec![7u8; 100_000]).await.0.unwrap();
        f.sync_data().await.unwrap();
        f.write_all_owned(vec![8u8; 10]).await.0.unwrap();
        f.sync_all().await.unwrap();
    });
    assert_eq!(std::fs::metadata(&path).unwrap().len(), 100_010);
}

#[test]
fn metadata_reports_size_type_permissions_and_times() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("f");
    run(async {
        let before = SystemTime::now() - Duration::from_secs(5);
        let mut f = OpenOptions::new().write(true).create_new(true).mode(0o600).open(&path).await.unwrap();
        f.write_all_owned(vec![1u8; 1234]).await.0.unwrap();
        let m = f.metadata().await.unwrap();
        assert_eq!(m.len(), 1234);
        assert!(m.is_file() && !m.is_dir() && !m.is_symlink());
        assert_eq!(m.permissions().mode() & 0o777, 0o600);
        assert_eq!(m.mode() & 0o777, 0o600);
        assert!(m.modified().unwrap() >= before);
        assert!(m.nlink() >= 1 && m.ino() != 0 && m.blksize() > 0);
        let std_meta = std::fs::metadata(&path).unwrap();
        use std::os::unix::fs::MetadataExt;
        assert_eq!(
            (m.ino(), m.dev(), m.uid(), m.gid()),
            (std_meta.ino(), std_meta.dev(), std_meta.uid(), std_meta.gid())
        );
        let d = fs::metadata(dir.path()).await.unwrap();
        assert!(d.is_dir() && !d.is_file());
    });
}

#[test]
fn open_options_follow_std_semantics() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("f");
    run(async {
        // create_new refuses an existing file.
        File::create_new(&path).await.unwrap();
        let err = File::create_new(&path).await.unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::AlreadyExists);
        // append always writes at the end.
        fs::write(&path, "ab").await.unwrap();
        let mut f = OpenOptions::new().append(true).open(&path).await.unwrap();
        f.write_all_owned(b"cd".to_vec()).await.0.unwrap();
        drop(f);
        assert_eq!(fs::read(&path).await.unwrap(), b"abcd");
        // truncate empties it; without create, a missing file is an error.
        OpenOptions::new().write(true).truncate(true).open(&path).await.unwrap();
        assert_eq!(fs::metadata(&path).await.unwrap().len(), 0);
        let missing = dir.path().join("missing");
        let err = OpenOptions::new().write(true).open(&missing).await.unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::NotFound);
        // Combinations std refuses.
        for opts in [
            OpenOptions::new().clone(),
            OpenOptions::new().read(true).truncate(true).clone(),
            OpenOptions::new().read(true).create(true).clone(),
            OpenOptions::new().append(true).truncate(true).clone(),
        ] {
            let err = opts.open(&path).await.unwrap_err();
            assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput, "{opts:?}");
        }
    });
}

#[test]
fn a_file_remembers_its_path_and_exposes_its_descriptor() {
    use std::os::fd::AsRawFd;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("f");
    run(async {
        let f = File::create(&path).await.unwrap();
        assert_eq!(f.path(), path);
        let fd = f.as_raw_fd();
        assert!(fd > 2);
        let flags = std::fs::read_to_string(format!("/proc/self/fdinfo/{fd}")).unwrap();
        let flags = flags.lines().find(|l| l.starts_with("flags:")).unwrap().to_string();
        let octal = u32::from_str_radix(flags.trim_start_matches("flags:").trim(), 8).unwrap();
        assert_ne!(octal & libc_o_cloexec(), 0, "descriptors are close-on-exec");
        assert!(format!("{f:?}").contains("path"));
    });
}

/// `O_CLOEXEC` on Linux (x86, arm, riscv...).
fn libc_o_cloexec() -> u32 {
    0o2000000
}

#[test]
fn file_operations_work_outside_a_runtime_through_the_blocking_pool() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("f");
    // A foreign executor: a minimal block_on that parks the thread.
    let data = block_on(async {
        fs::write(&path, "outside").await.unwrap();
        fs::read(&path).await.unwrap()
    });
    assert_eq!(data, b"outside");
}

fn block_on<F: std::future::Future>(f: F) -> F::Output {
    use std::sync::Arc;
    use std::task::{Context, Poll, Wake};
    struct Unpark(std::thread::Thread);
    impl Wake for Unpark {
        fn wake(self: Arc<Self>) {
            self.0.unpark();
        }
    }
    let waker = Arc::new(Unpark(std::thread::current())).into();
    let mut cx = Context::from_waker(&waker);
    let mut f = std::pin::pin!(f);
    loop {
        if let Poll::Ready(v) = f.as_mut().poll(&mut cx) {
            return v;
        }
        std::thread::park();
    }
}

#[test]
fn files_options_metadata_and_blocking_handles_are_send_and_sync() {
    fn send_sync<T: Send + Sync>() {}
    send_sync::<File>();
    send_sync::<OpenOptions>();
    send_sync::<fs::Metadata>();
    send_sync::<aria_io::blocking::BlockingJoinHandle<Vec<u8>>>();
}
