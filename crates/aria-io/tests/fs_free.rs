//! The whole-file helpers and path operations.

mod support;

use aria_io::fs;
use support::run;

#[test]
fn write_then_read_and_read_to_string_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("f");
    run(async {
        fs::write(&path, "first version, longer").await.unwrap();
        fs::write(&path, String::from("second")).await.unwrap(); // truncates
        assert_eq!(fs::read(&path).await.unwrap(), b"second");
        assert_eq!(fs::read_to_string(&path).await.unwrap(), "second");
        fs::write(&path, Vec::new()).await.unwrap();
        assert_eq!(fs::read(&path).await.unwrap(), b"");
    });
}

#[test]
fn read_handles_files_that_report_no_size() {
    run(async {
        let status = fs::read_to_string("/proc/self/status").await.unwrap();
        assert!(status.contains("Pid:"), "{status}");
    });
}

#[test]
fn copy_copies_contents_and_permissions() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    std::fs::write(&a, "copied").unwrap();
    std::fs::set_permissions(&a, std::fs::Permissions::from_mode(0o640)).unwrap();
    run(async {
        assert_eq!(fs::copy(&a, &b).await.unwrap(), 6);
        assert_eq!(fs::read(&b).await.unwrap(), b"copied");
        assert_eq!(fs::metadata(&b).await.unwrap().permissions().mode() & 0o777, 0o640);
    });
}

#[test]
fn create_dir_all_creates_parents_and_accepts_existing_directories() {
    let dir = tempfile::tempdir().unwrap();
    let deep = dir.path().join("a/b/c");
    run(async {
        fs::create_dir_all(&deep).await.unwrap();
        fs::create_dir_all(&deep).await.unwrap();
        assert!(fs::metadata(&deep).await.unwrap().is_dir());
    });
}

#[test]
fn rename_moves_and_replaces_and_remove_file_removes() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    run(async {
        fs::write(&a, "A").await.unwrap();
        fs::write(&b, "B").await.unwrap();
        fs::rename(&a, &b).await.unwrap();
        assert_eq!(fs::read(&b).await.unwrap(), b"A");
        assert_eq!(fs::metadata(&a).await.unwrap_err().kind(), std::io::ErrorKind::NotFound);
        fs::remove_file(&b).await.unwrap();
        assert_eq!(fs::metadata(&b).await.unwrap_err().kind(), std::io::ErrorKind::NotFound);
    });
}

#[test]
fn metadata_follows_symbolic_links_and_symlink_metadata_does_not() {
    let dir = tempfile::tempdir().unwrap();
    let (target, link) = (dir.path().join("target"), dir.path().join("link"));
    std::fs::write(&target, "12345").unwrap();
    std::os::unix::fs::symlink(&target, &link).unwrap();
    run(async {
        let m = fs::metadata(&link).await.unwrap();
        assert!(m.is_file() && m.len() == 5);
        let l = fs::symlink_metadata(&link).await.unwrap();
        assert!(l.is_symlink() && !l.is_file());
        assert_eq!(l.len(), target.as_os_str().len() as u64);
    });
}
