//! The command line: `ariash FILE [ARGS...]`, `ariash -c TEXT [ARGS...]`, a script on stdin
//! (`ariash - [ARGS...]`, `ariash < FILE`), `--check`, `--help`, `--version`, usage errors,
//! and scripts and arguments ariash refuses to read.

mod common;

use std::ffi::OsStr;
use std::io::Write;
use std::os::unix::ffi::OsStrExt;
use std::process::Stdio;

use common::{ariash, finish, run_c, tempdir, Run};

fn cli(args: &[&str]) -> common::Run {
    let dir = tempdir();
    finish(ariash(dir.path()).args(args).spawn().expect("spawn ariash"))
}

#[test]
fn help_describes_the_usage_and_exits_0() {
    let r = cli(&["--help"]);
    assert_eq!(r.status, 0);
    assert!(r.stdout.contains("Usage: ariash"), "{}", r.stdout);
    assert!(r.stdout.contains("-c <TEXT>"), "{}", r.stdout);
    assert!(r.stdout.contains("args"), "{}", r.stdout);
}

#[test]
fn version_prints_the_crate_version() {
    let r = cli(&["--version"]);
    assert_eq!(r.status, 0);
    assert_eq!(r.stdout.trim(), format!("ariash {}", env!("CARGO_PKG_VERSION")));
}

#[test]
fn check_without_a_script_and_a_terminal_on_stdin_is_a_usage_error_with_status_2() {
    // Without --check, ariash on a terminal starts the REPL (tests/shell_repl.rs).
    let (mut master, mut slave) = (0, 0);
    // SAFETY: openpty writes two new descriptors; the name, termios and size are optional.
    let rc = unsafe {
        libc::openpty(
            &mut master,
            &mut slave,
            std::ptr::null_mut(),
            std::ptr::null_mut(),
            std::ptr::null_mut(),
        )
    };
    assert_eq!(rc, 0, "openpty");
    // SAFETY: both descriptors were just created and are owned by nobody else.
    let (master, slave) = unsafe {
        use std::os::fd::FromRawFd;
        (std::os::fd::OwnedFd::from_raw_fd(master), std::os::fd::OwnedFd::from_raw_fd(slave))
    };
    let dir = tempdir();
    let r = finish(ariash(dir.path()).arg("--check").stdin(slave).spawn().expect("spawn ariash"));
    drop(master);
    assert_eq!(r.status, 2, "{r:#?}");
    assert!(r.stderr.contains("a script FILE, `-` for stdin, or -c TEXT is required"), "{}", r.stderr);
}

/// Runs ariash with `args` and `script` on stdin.
fn with_stdin(args: &[&str], script: &[u8]) -> Run {
    let dir = tempdir();
    let mut child = ariash(dir.path()).args(args).stdin(Stdio::piped()).spawn().expect("spawn ariash");
    let mut stdin = child.stdin.take().expect("stdin piped");
    stdin.write_all(script).expect("write the script");
    drop(stdin);
    finish(child)
}

#[test]
fn a_script_is_read_from_stdin_given_a_dash_or_no_file() {
    let r = with_stdin(&["-", "a", "b c"], b"print(len(args), args[1]);");
    assert_eq!((r.status, r.stdout.as_str()), (0, "2 b c\n"), "{r:#?}");
    let r = with_stdin(&[], b"print(\"piped\");");
    assert_eq!((r.status, r.stdout.as_str()), (0, "piped\n"), "{r:#?}");
    let r = with_stdin(&["--check", "-"], b"run(\"touch\", [\"ran\"]);\nprint(nope);");
    assert_eq!(r.status, 2, "{r:#?}");
    assert!(r.stderr.contains("<stdin>:2:7: unknown variable `nope`"), "{}", r.stderr);
}

#[test]
fn a_script_larger_than_4_mib_is_refused_naming_it_even_if_endless() {
    let r = cli(&["/dev/zero"]);
    assert_eq!(r.status, 2, "{r:#?}");
    assert!(r.stderr.contains("`/dev/zero` is too large: a script may have at most 4 MiB"), "{}", r.stderr);
    let dir = tempdir();
    let zero = std::fs::File::open("/dev/zero").expect("open /dev/zero");
    let r = finish(ariash(dir.path()).arg("-").stdin(zero).spawn().expect("spawn ariash"));
    assert_eq!(r.status, 2, "{r:#?}");
    assert!(r.stderr.contains("`<stdin>` is too large"), "{}", r.stderr);
    // Exactly at the limit is fine; one byte more is not.
    let mut text = " ".repeat((4 << 20) - 9).into_bytes();
    text.extend_from_slice(b"print(1);");
    std::fs::write(dir.path().join("max.ariash"), &text).expect("write");
    text.push(b' ');
    std::fs::write(dir.path().join("over.ariash"), &text).expect("write");
    let r = finish(ariash(dir.path()).arg("max.ariash").spawn().expect("spawn ariash"));
    assert_eq!((r.status, r.stdout.as_str()), (0, "1\n"), "{}", r.stderr);
    let r = finish(ariash(dir.path()).arg("over.ariash").spawn().expect("spawn ariash"));
    assert_eq!(r.status, 2, "{r:#?}");
    assert!(r.stderr.contains("`over.ariash` is too large"), "{}", r.stderr);
}

#[test]
fn an_argument_that_is_not_utf8_is_refused_naming_it() {
    let dir = tempdir();
    let bad = OsStr::from_bytes(b"caf\xe9");
    let r = finish(ariash(dir.path()).args(["-c", "print(args);", "ok"]).arg(bad).spawn().expect("spawn"));
    assert_eq!(r.status, 2, "{r:#?}");
    assert!(r.stderr.contains(r#"argument 2 of the script is not valid UTF-8: "caf\xE9""#), "{}", r.stderr);
    let r =
        finish(ariash(dir.path()).arg("-c").arg(OsStr::from_bytes(b"print(\xff);")).spawn().expect("spawn"));
    assert_eq!(r.status, 2, "{r:#?}");
    assert!(r.stderr.contains(r#"the -c TEXT is not valid UTF-8: "print(\xFF);""#), "{}", r.stderr);
}

#[test]
fn a_script_whose_path_is_not_utf8_runs_and_is_named_lossily() {
    let dir = tempdir();
    let path = OsStr::from_bytes(b"caf\xe9.ariash");
    std::fs::write(dir.path().join(path), "print(\"ran\");\nprint(nope);").expect("write");
    let r = finish(ariash(dir.path()).arg(path).spawn().expect("spawn"));
    assert_eq!(r.status, 2, "{r:#?}");
    assert!(r.stderr.contains("caf\u{fffd}.ariash:2:7: unknown variable"), "{}", r.stderr);
    std::fs::write(dir.path().join(path), "print(\"ran\");").expect("write");
    let r = finish(ariash(dir.path()).arg(path).spawn().expect("spawn"));
    assert_eq!((r.status, r.stdout.as_str()), (0, "ran\n"), "{r:#?}");
}

#[test]
fn a_script_that_is_not_utf8_is_refused_at_its_first_bad_byte() {
    let dir = tempdir();
    std::fs::write(dir.path().join("bad.ariash"), b"print(1);\nprint(\"\xe9\");").expect("write");
    let r = finish(ariash(dir.path()).arg("bad.ariash").spawn().expect("spawn"));
    assert_eq!(r.status, 2, "{r:#?}");
    assert!(r.stderr.contains("bad.ariash:2:8: the script is not valid UTF-8"), "{}", r.stderr);
}

#[test]
fn an_unknown_option_is_a_usage_error_with_status_2() {
    let r = cli(&["--no-such-option"]);
    assert_eq!(r.status, 2);
}

#[test]
fn a_missing_script_file_is_reported_with_status_127() {
    let r = cli(&["does-not-exist.ariash"]);
    assert_eq!(r.status, 127);
    assert!(r.stderr.contains("does-not-exist.ariash"), "{}", r.stderr);
}

#[test]
fn dash_c_takes_script_arguments_too() {
    let dir = tempdir();
    let r = finish(
        ariash(dir.path())
            .args(["-c", "print(args[0], len(args));", "first", "second"])
            .spawn()
            .expect("spawn ariash"),
    );
    assert_eq!(r.stdout, "first 2\n", "{r:#?}");
}

#[test]
fn check_mode_validates_without_running() {
    let dir = tempdir();
    let r = finish(
        ariash(dir.path())
            .args(["--check", "-c", "run(\"touch\", [\"ran\"]);"])
            .spawn()
            .expect("spawn ariash"),
    );
    assert_eq!(r.status, 0, "{r:#?}");
    assert!(!dir.path().join("ran").exists());
}

#[test]
fn colors_are_off_when_stderr_is_not_a_terminal() {
    let dir = tempdir();
    let r = run_c(dir.path(), "int:n = true;");
    assert_eq!(r.status, 2);
    assert!(!r.stderr.contains('\u{1b}'), "{}", r.stderr);
}
