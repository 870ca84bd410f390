//! The command line: `ariash FILE [ARGS...]`, `ariash -c TEXT [ARGS...]`, `--check`,
//! `--help`, `--version`, and usage errors.

mod common;

use common::{ariash, finish, run_c, tempdir};

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
fn no_script_is_a_usage_error_with_status_2() {
    let r = cli(&[]);
    assert_eq!(r.status, 2);
    assert!(r.stderr.contains("FILE or -c TEXT"), "{}", r.stderr);
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
