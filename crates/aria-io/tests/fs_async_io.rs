//! `futures-io` traits on `File`, through its internal buffer. `File`'s owned-buffer methods
//! are named `read_owned`/`write_owned`/`write_all_owned`, so the extension traits' methods
//! are called unqualified here, as a user who imports them would.

mod support;

use futures_util::io::{AsyncReadExt, AsyncWriteExt};

use aria_io::fs::{self, File, OpenOptions};
use support::run;

#[test]
fn async_write_then_async_read_round_trips() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("f");
    let data: Vec<u8> = (0..5_000_000u32).map(|i| (i % 253) as u8).collect();
    run(async {
        let mut f = File::create(&path).await.unwrap();
        // Many small writes, then one larger than the internal buffer.
        for chunk in data[..100_000].chunks(777) {
            f.write_all(chunk).await.unwrap();
        }
        f.write_all(&data[100_000..]).await.unwrap();
        f.flush().await.unwrap();
        f.close().await.unwrap();
        assert_eq!(f.metadata().await.unwrap().len(), data.len() as u64);

        let mut f = File::open(&path).await.unwrap();
        let mut small = [0u8; 10];
        f.read_exact(&mut small).await.unwrap();
        assert_eq!(small, data[..10]);
        let mut rest = Vec::new();
        f.read_to_end(&mut rest).await.unwrap();
        assert!(rest[..] == data[10..], "contents differ");
        assert_eq!(f.read(&mut small).await.unwrap(), 0, "end of file");
    });
}

#[test]
fn writing_after_a_buffered_read_writes_where_the_reader_stopped() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("f");
    std::fs::write(&path, "0123456789").unwrap();
    run(async {
        let mut f = OpenOptions::new().read(true).write(true).open(&path).await.unwrap();
        let mut three = [0u8; 3];
        f.read_exact(&mut three).await.unwrap(); // reads ahead past 3 internally
        assert_eq!(&three, b"012");
        f.write_all(b"XY").await.unwrap();
        f.flush().await.unwrap();
        // The owned-buffer API continues from the same position.
        let (n, buf) = f.read_owned(Vec::with_capacity(16)).await;
        assert_eq!(n.unwrap(), 5);
        assert_eq!(buf, b"56789");
    });
    assert_eq!(std::fs::read(&path).unwrap(), b"012XY56789");
}

#[test]
fn owned_operations_after_a_buffered_read_start_at_the_logical_position() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("f");
    std::fs::write(&path, "abcdefgh").unwrap();
    run(async {
        let mut f = File::open(&path).await.unwrap();
        let mut two = [0u8; 2];
        f.read_exact(&mut two).await.unwrap();
        let mut rest = Vec::new();
        f.read_to_end(&mut rest).await.unwrap();
        assert_eq!(rest, b"cdefgh");
    });
}

#[test]
fn futures_copy_between_files_works() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    let data: Vec<u8> = (0..3_000_000u32).map(|i| (i * 7 % 256) as u8).collect();
    std::fs::write(&a, &data).unwrap();
    run(async {
        let src = File::open(&a).await.unwrap();
        let mut dst = File::create(&b).await.unwrap();
        let n = futures_util::io::copy(src, &mut dst).await.unwrap();
        assert_eq!(n, data.len() as u64);
        dst.flush().await.unwrap();
    });
    assert!(std::fs::read(&b).unwrap() == data);
}

#[test]
fn unflushed_async_writes_still_reach_the_file_when_it_is_dropped() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("f");
    run(async {
        let mut f = File::create(&path).await.unwrap();
        let n = f.write(b"not flushed").await.unwrap();
        assert_eq!(n, 11);
        drop(f);
        for _ in 0..2000 {
            if fs::read(&path).await.unwrap() == b"not flushed" {
                return;
            }
            aria_io::time::sleep(std::time::Duration::from_millis(5)).await;
        }
        panic!("the buffered write never reached the file");
    });
}

#[test]
fn a_failed_buffered_write_is_reported_once_by_write_or_flush() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ro");
    std::fs::write(&path, "x").unwrap();
    run(async {
        let mut f = File::open(&path).await.unwrap(); // read-only
                                                      // The write is accepted into the buffer unless the kernel refuses it at once; then
                                                      // the error comes from the write, else from the flush.
        let write = f.write(b"y").await;
        let flush = f.flush().await;
        let err = match (write, flush) {
            (Err(e), Ok(())) | (Ok(1), Err(e)) => e,
            other => panic!("expected exactly one error, got {other:?}"),
        };
        assert!(err.to_string().starts_with("cannot write `"), "{err}");
        f.flush().await.unwrap();
    });
}

#[test]
fn the_futures_extension_traits_are_callable_unqualified_on_pipes() {
    run(async {
        let (mut r, mut w) = aria_io::io::pipe().unwrap();
        w.write_all(b"ecosystem").await.unwrap();
        w.flush().await.unwrap();
        w.close().await.unwrap();
        let mut first = [0u8; 3];
        let n = r.read(&mut first).await.unwrap();
        assert!(n > 0 && first[..n] == b"eco"[..n]);
        let mut rest = Vec::new();
        r.read_to_end(&mut rest).await.unwrap();
        let mut all = first[..n].to_vec();
        all.extend(rest);
        assert_eq!(all, b"ecosystem");
    });
}
