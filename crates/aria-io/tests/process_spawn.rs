//! Spawning: the six streams, arguments, environment, working directory, spawn errors.

mod support;

use aria_io::process::{Command, Stdio};
use support::{helper, run, HELPER};

#[test]
fn a_child_sees_exactly_fds_0_to_5_open() {
    run(async {
        let out = helper(&["fds"]).output().await.unwrap();
        assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "0 1 2 3 4 5");
    });
}

#[test]
fn a_child_sees_exactly_fds_0_to_5_when_every_stream_is_piped() {
    run(async {
        let mut c = helper(&["fds"]);
        for fd in 0..6 {
            c.stdio(fd, Stdio::piped());
        }
        let out = c.output().await.unwrap();
        assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "0 1 2 3 4 5");
    });
}

#[test]
fn an_argument_with_shell_metacharacters_reaches_the_child_verbatim() {
    run(async {
        let tricky = ["; rm -rf /", "a b  c", "$HOME", "`id`", "'\"", "", "\\n", "*"];
        let mut c = helper(&["argv"]);
        c.args(tricky);
        let out = c.output().await.unwrap();
        let got: Vec<&[u8]> = out.stdout.split(|b| *b == 0).collect();
        let want: Vec<&[u8]> = tricky.iter().map(|s| s.as_bytes()).chain([&b""[..]]).collect();
        assert_eq!(got, want);
    });
}

#[test]
fn environment_can_be_set_removed_and_cleared() {
    run(async {
        let mut c = Command::new("sh");
        c.args(["-c", "echo \"$A|${B-unset}|${HOME-nohome}\""])
            .env("A", "1")
            .env_remove("B")
            .env("B", "2")
            .env_remove("B");
        let out = c.output().await.unwrap();
        assert_eq!(
            String::from_utf8_lossy(&out.stdout),
            "1|unset|".to_string() + &std::env::var("HOME").unwrap_or("nohome".into()) + "\n"
        );

        let mut c = Command::new("/bin/sh");
        c.args(["-c", "echo \"${HOME-none} $X\""]).env_clear().env("X", "y");
        let out = c.output().await.unwrap();
        assert_eq!(out.stdout, b"none y\n");
    });
}

#[test]
fn current_dir_sets_the_childs_working_directory() {
    let dir = tempfile::tempdir().unwrap();
    run(async {
        let mut c = Command::new("pwd");
        c.current_dir(dir.path());
        let out = c.output().await.unwrap();
        let got = std::path::PathBuf::from(String::from_utf8(out.stdout).unwrap().trim());
        assert_eq!(got.canonicalize().unwrap(), dir.path().canonicalize().unwrap());
    });
}

#[test]
fn a_missing_program_is_an_error_naming_it() {
    run(async {
        let err = Command::new("no-such-program-aria").spawn().unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::NotFound);
        assert!(err.to_string().contains("`no-such-program-aria`"), "{err}");
        let spawn_err = aria_io::process::SpawnError::from_io(&err).expect("a SpawnError inside");
        assert_eq!(spawn_err.program(), "no-such-program-aria");
        let err = Command::new("/nonexistent/prog").spawn().unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::NotFound);
        assert!(err.to_string().contains("/nonexistent/prog"), "{err}");
    });
}

#[test]
fn a_non_executable_program_is_permission_denied() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("script");
    std::fs::write(&file, "#!/bin/sh\necho hi\n").unwrap();
    run(async {
        let err = Command::new(&file).spawn().unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::PermissionDenied, "{err}");
        assert!(err.to_string().contains("script"), "{err}");
    });
}

#[test]
fn a_bad_working_directory_is_an_error_naming_program_and_directory() {
    run(async {
        let mut c = Command::new("true");
        c.current_dir("/no/such/dir");
        let err = c.spawn().unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("`true`") && msg.contains("/no/such/dir"), "{msg}");
    });
}

#[test]
fn a_nul_byte_in_an_argument_is_invalid_input() {
    run(async {
        let mut c = Command::new("true");
        c.arg("a\0b");
        assert_eq!(c.spawn().unwrap_err().kind(), std::io::ErrorKind::InvalidInput);
    });
}

#[test]
fn spawning_outside_a_runtime_is_an_error_not_a_panic() {
    let err = Command::new("true").spawn().unwrap_err();
    assert!(err.to_string().contains("runtime"), "{err}");
}

#[test]
fn exit_status_reports_code_signal_and_display() {
    run(async {
        let st = helper(&["exit", "3"]).status().await.unwrap();
        assert_eq!((st.code(), st.signal(), st.success()), (Some(3), None, false));
        assert_eq!(st.to_string(), "exit status: 3");
        let st = helper(&["abort"]).status().await.unwrap();
        assert_eq!(st.signal(), Some(libc_sigabrt()));
        assert!(st.to_string().starts_with("signal: 6 (SIGABRT)"), "{st}");
        assert_eq!(st.shell_code(), 134);
    });
}

fn libc_sigabrt() -> i32 {
    6
}

#[test]
fn every_output_stream_is_collected_and_stddati_is_readable() {
    run(async {
        let mut c = helper(&["emit", "3", "1000"]);
        c.stddbg(Stdio::piped());
        let out = c.output().await.unwrap();
        assert_eq!(out.stddbg.len(), 1000);

        let mut c = helper(&["emit", "5", "70000"]);
        c.stddato(Stdio::piped());
        let out = c.output().await.unwrap();
        assert_eq!(out.stddato.len(), 70000);

        // Feed stddati (fd 4) and read it back from stddato (fd 5).
        let mut c = helper(&["cat-data"]);
        c.stddati(Stdio::piped()).stddato(Stdio::piped());
        let mut child = c.spawn().unwrap();
        let mut input = child.stddati.take().unwrap();
        let mut reader = child.stddato.take().unwrap();
        let data: Vec<u8> = (0..300_000u32).map(|i| (i % 253) as u8).collect();
        let writer = aria_io::spawn({
            let data = data.clone();
            async move {
                input.write_all(&data).await.unwrap();
            }
        });
        let mut got = Vec::new();
        reader.read_to_end(&mut got).await.unwrap();
        writer.await.unwrap();
        assert_eq!(got, data);
        assert!(child.wait().await.unwrap().success());
    });
}

#[test]
fn a_file_can_be_a_childs_stream() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("out.txt");
    run(async {
        let f = std::fs::File::create(&path).unwrap();
        let mut c = helper(&["argv", "x"]);
        c.stdout(f);
        assert!(c.status().await.unwrap().success());
    });
    assert_eq!(std::fs::read(&path).unwrap(), b"x\0");
}

#[test]
fn the_helper_path_is_absolute() {
    assert!(std::path::Path::new(HELPER).is_absolute());
}
