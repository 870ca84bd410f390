//! Large files (64 MiB) through the owned-buffer operations and the whole-file helpers.

mod support;

use aria_io::fs::{self, File, OpenOptions};
use support::run;

const SIZE: usize = 64 * 1024 * 1024;

fn pattern(len: usize) -> Vec<u8> {
    // Not periodic at any power of two: a misplaced chunk cannot compare equal.
    (0..len).map(|i| (i % 251) as u8 ^ (i / 65_521) as u8).collect()
}

#[test]
fn a_64_mib_file_round_trips_through_write_all_and_read_to_end() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big");
    let data = pattern(SIZE);
    run(async {
        let mut f = File::create(&path).await.unwrap();
        let (res, back) = f.write_all_owned(data.clone()).await;
        res.unwrap();
        assert_eq!(back.len(), SIZE);
        f.sync_data().await.unwrap();
        drop(f);

        let mut f = File::open(&path).await.unwrap();
        assert_eq!(f.metadata().await.unwrap().len(), SIZE as u64);
        let mut buf = Vec::new();
        assert_eq!(f.read_to_end(&mut buf).await.unwrap(), SIZE);
        assert!(buf == data, "contents differ");
    });
}

#[test]
fn a_64_mib_file_round_trips_through_the_whole_file_helpers() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big");
    let copy = dir.path().join("copy");
    let data = pattern(SIZE);
    run(async {
        fs::write(&path, data.clone()).await.unwrap();
        let back = fs::read(&path).await.unwrap();
        assert_eq!(back.len(), SIZE);
        assert_eq!(back.capacity(), SIZE, "read sizes its buffer from the metadata");
        assert!(back == data, "contents differ");
        assert_eq!(fs::copy(&path, &copy).await.unwrap(), SIZE as u64);
        assert!(fs::read(&copy).await.unwrap() == data, "copy differs");
    });
}

#[test]
fn large_reads_and_writes_at_offsets_land_in_place() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big");
    let data = pattern(SIZE);
    run(async {
        let mut f = OpenOptions::new().read(true).write(true).create(true).open(&path).await.unwrap();
        // Write the two halves in reverse order at their offsets.
        let half = SIZE / 2;
        f.write_all_at(data[half..].to_vec(), half as u64).await.0.unwrap();
        f.write_all_at(data[..half].to_vec(), 0).await.0.unwrap();
        // Read 8 MiB from the middle in one operation.
        let (n, buf) = f.read_at(Vec::with_capacity(8 << 20), (half - (4 << 20)) as u64).await;
        assert_eq!(n.unwrap(), 8 << 20);
        assert!(buf[..] == data[half - (4 << 20)..half + (4 << 20)], "middle differs");
    });
    assert!(std::fs::read(&path).unwrap() == data);
}
