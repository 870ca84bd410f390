//! Errors name the path and the action, and keep the OS error's kind and code.

mod support;

use std::error::Error;
use std::io::ErrorKind;

use aria_io::fs::{self, File, OpenOptions};
use support::run;

fn os_code(e: &std::io::Error) -> Option<i32> {
    e.source()?.downcast_ref::<std::io::Error>()?.raw_os_error()
}

#[test]
fn opening_a_missing_file_names_the_path() {
    run(async {
        let err = File::open("/nonexistent-aria-io/y").await.unwrap_err();
        assert_eq!(
            err.to_string(),
            "cannot open `/nonexistent-aria-io/y`: No such file or directory (os error 2)"
        );
        assert_eq!(err.kind(), ErrorKind::NotFound);
        assert_eq!(os_code(&err), Some(2));
    });
}

#[test]
fn reading_a_directory_names_the_path() {
    let dir = tempfile::tempdir().unwrap();
    run(async {
        let mut f = File::open(dir.path()).await.unwrap();
        let (res, buf) = f.read_owned(Vec::with_capacity(8)).await;
        let err = res.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::IsADirectory);
        assert_eq!(
            err.to_string(),
            format!("cannot read `{}`: Is a directory (os error 21)", dir.path().display())
        );
        assert_eq!(buf.capacity(), 8, "the buffer comes back on error");
        let err = fs::read(dir.path()).await.unwrap_err();
        assert!(err.to_string().starts_with(&format!("cannot read `{}`", dir.path().display())), "{err}");
    });
}

#[test]
fn writing_to_a_read_only_file_names_the_path() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ro");
    std::fs::write(&path, "x").unwrap();
    run(async {
        let mut f = File::open(&path).await.unwrap();
        let (res, _) = f.write_owned(b"y".to_vec()).await;
        let err = res.unwrap_err();
        assert_eq!(os_code(&err), Some(9), "EBADF");
        assert!(err.to_string().starts_with(&format!("cannot write `{}`", path.display())), "{err}");
        let err = f.set_len(0).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput);
        assert!(err.to_string().starts_with(&format!("cannot truncate `{}`", path.display())), "{err}");
    });
}

#[test]
fn free_functions_name_their_paths() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing");
    let other = dir.path().join("other");
    let shown = missing.display().to_string();
    run(async {
        let cases: Vec<(std::io::Error, String)> = vec![
            (fs::read(&missing).await.unwrap_err(), format!("cannot open `{shown}`")),
            (fs::read_to_string(&missing).await.unwrap_err(), format!("cannot open `{shown}`")),
            (fs::metadata(&missing).await.unwrap_err(), format!("cannot stat `{shown}`")),
            (fs::symlink_metadata(&missing).await.unwrap_err(), format!("cannot stat `{shown}`")),
            (fs::remove_file(&missing).await.unwrap_err(), format!("cannot remove `{shown}`")),
            (
                fs::rename(&missing, &other).await.unwrap_err(),
                format!("cannot rename `{shown}` to `{}`", other.display()),
            ),
            (
                fs::copy(&missing, &other).await.unwrap_err(),
                format!("cannot copy `{shown}` to `{}`", other.display()),
            ),
            (fs::write(dir.path().join("no/such/dir"), "x").await.unwrap_err(), "cannot open `".to_string()),
        ];
        for (err, prefix) in cases {
            assert_eq!(err.kind(), ErrorKind::NotFound, "{err}");
            assert!(err.to_string().starts_with(&prefix), "{err:?} should start with {prefix:?}");
            assert!(err.to_string().ends_with("No such file or directory (os error 2)"), "{err}");
        }
        let file = dir.path().join("file");
        fs::write(&file, "x").await.unwrap();
        let err = fs::create_dir_all(file.join("sub")).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::NotADirectory);
        assert!(err.to_string().starts_with("cannot create directory `"), "{err}");
    });
}

#[test]
fn invalid_paths_and_options_are_refused_with_the_path() {
    run(async {
        let err = File::open("bad\0path").await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput);
        let err = OpenOptions::new().open("/tmp").await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput);
        assert!(err.to_string().starts_with("cannot open `/tmp`: "), "{err}");
    });
}
