//! The surface a `tokio::process` user ports to: std `Stdio` values, files as streams, the
//! child's pipe ends as descriptors, pipelines with a written stdin and per-stage stderr.

mod support;

use std::os::fd::{AsFd, AsRawFd};

use aria_io::process::{Command, Pipeline, Stdio};
use futures_util::io::AsyncReadExt;
use support::run;

#[test]
fn std_stdio_values_mean_what_they_mean_in_std() {
    run(async {
        // piped(): collected.
        let mut c = Command::new("echo");
        c.arg("piped").stdout(std::process::Stdio::piped());
        let out = c.output().await.unwrap();
        assert_eq!(out.stdout, b"piped\n");
        // null(): nothing reaches the pipe we would otherwise read.
        let mut c = Command::new("sh");
        c.args(["-c", "echo to-null; echo to-err >&2"])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped());
        let out = c.output().await.unwrap();
        assert_eq!(out.stdout, b"");
        assert_eq!(out.stderr, b"to-err\n");
        // A std::fs::File turned into a std Stdio.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out");
        let file = std::fs::File::create(&path).unwrap();
        let mut c = Command::new("echo");
        c.arg("into-file").stdout(std::process::Stdio::from(file));
        assert!(c.status().await.unwrap().success());
        assert_eq!(std::fs::read(&path).unwrap(), b"into-file\n");
        // Streams 3-5 other than inherited cannot go through std: refused, not ignored.
        let mut c = Command::new("true");
        c.stdout(std::process::Stdio::null()).stddbg(Stdio::piped());
        let err = c.spawn().unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::Unsupported, "{err}");
        assert!(err.to_string().contains("`true`"), "{err}");
    });
}

#[test]
fn a_std_stdio_command_still_reports_a_missing_program_and_is_waited_for() {
    run(async {
        let mut c = Command::new("no-such-program-aria");
        c.stdout(std::process::Stdio::null());
        let err = c.status().await.unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::NotFound);
        let mut c = Command::new("sh");
        c.args(["-c", "exit 7"]).stdin(std::process::Stdio::null());
        assert_eq!(c.status().await.unwrap().code(), Some(7));
    });
}

#[test]
fn an_aria_file_can_be_a_stream_at_its_position() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("in");
    std::fs::write(&path, "skip:rest\n").unwrap();
    run(async {
        let mut f = aria_io::fs::File::open(&path).await.unwrap();
        let mut skip = [0u8; 5];
        f.read_exact(&mut skip).await.unwrap();
        let mut c = Command::new("cat");
        c.stdin(f);
        let out = c.output().await.unwrap();
        // The futures-io read filled the file's buffer past "skip:"; the child starts at the
        // file position, which is after what the buffer read.
        assert!(b"skip:rest\n".ends_with(&out.stdout), "{:?}", out.stdout);
    });
}

#[test]
fn child_pipe_ends_are_descriptors_and_convert_to_owned_fds() {
    run(async {
        let mut c = Command::new("cat");
        c.stdin(Stdio::piped()).stdout(Stdio::piped());
        let mut child = c.spawn().unwrap();
        let stdin = child.stdin.take().unwrap();
        let stdout = child.stdout.take().unwrap();
        assert!(stdin.as_raw_fd() >= 0 && stdout.as_fd().as_raw_fd() >= 0);
        // Back to plain blocking descriptors, as std files.
        let mut w = std::fs::File::from(stdin.into_owned_fd().unwrap());
        let mut r = std::fs::File::from(stdout.into_owned_fd().unwrap());
        std::io::Write::write_all(&mut w, b"owned\n").unwrap();
        drop(w);
        let mut got = String::new();
        std::io::Read::read_to_string(&mut r, &mut got).unwrap();
        assert_eq!(got, "owned\n");
        assert!(child.wait().await.unwrap().success());
    });
}

#[test]
fn a_pipelines_first_stdin_is_written_and_each_stages_stderr_is_read() {
    run(async {
        let mut first = Command::new("sh");
        first.args(["-c", "echo first-err >&2; cat"]).stdin(Stdio::piped()).stderr(Stdio::piped());
        let mut second = Command::new("sh");
        second.args(["-c", "echo second-err >&2; tr a-z A-Z"]).stderr(Stdio::piped());
        let mut p = Pipeline::new(first).pipe(second).capture_stdout().spawn().unwrap();
        let mut stdin = p.take_stdin().expect("first stage stdin piped");
        let mut err0 = p.take_stderr(0).unwrap();
        let mut err1 = p.take_stderr(1).unwrap();
        assert!(p.take_stderr(2).is_none());
        let errs = aria_io::spawn(async move {
            let (mut a, mut b) = (String::new(), String::new());
            err0.read_to_string(&mut a).await.unwrap();
            err1.read_to_string(&mut b).await.unwrap();
            (a, b)
        });
        stdin.write_all(b"hello pipeline\n").await.unwrap();
        stdin.close().await.unwrap();
        let (status, out) = p.wait_with_output().await.unwrap();
        assert!(status.success(), "{status}");
        assert_eq!(out, b"HELLO PIPELINE\n");
        assert_eq!(errs.await.unwrap(), ("first-err\n".to_string(), "second-err\n".to_string()));
    });
}

#[test]
fn tokio_spelled_aids_work_as_tokio_code_uses_them() {
    run(async {
        // `let s: std::process::Stdio = child.stdout.take().unwrap().try_into()?`, then a
        // std Command reads it: the descriptor is blocking again, so std's child can use it.
        let mut c = Command::new("printf");
        c.arg("through std\n").stdout(Stdio::piped());
        let mut first = c.spawn().unwrap();
        let out: std::process::Stdio = first.stdout.take().unwrap().try_into().unwrap();
        let second = std::process::Command::new("cat").stdin(out).output().unwrap();
        assert_eq!(second.stdout, b"through std\n");
        assert!(first.wait().await.unwrap().success());

        // A writer converts the same way, and `shutdown` closes it as tokio's does.
        let mut c = Command::new("cat");
        c.stdin(Stdio::piped()).stdout(Stdio::piped());
        let mut child = c.spawn().unwrap();
        let mut stdin = child.stdin.take().unwrap();
        stdin.write_all(b"x").await.unwrap();
        stdin.shutdown().await.unwrap();
        assert_eq!(stdin.write_all(b"y").await.unwrap_err().kind(), std::io::ErrorKind::NotConnected);
        let out = child.wait_with_output().await.unwrap();
        assert_eq!(out.stdout, b"x");

        let (_r, w) = aria_io::io::pipe().unwrap();
        let _: std::process::Stdio = w.try_into().unwrap();

        // `tokio::time::error::Elapsed` and `tokio::signal::unix::SignalKind` paths.
        let e: aria_io::time::error::Elapsed =
            aria_io::time::timeout(std::time::Duration::ZERO, std::future::pending::<()>())
                .await
                .unwrap_err();
        assert_eq!(e.to_string(), "deadline has elapsed");
        assert_eq!(aria_io::signal::unix::SignalKind::hangup().as_raw(), libc::SIGHUP);
    });
}
