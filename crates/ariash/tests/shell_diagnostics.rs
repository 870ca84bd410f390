//! How diagnostics are shown whatever the script holds: very long lines, control characters,
//! non-ASCII text, and very many errors.

mod common;

use common::{run_c, run_script, tempdir, SCRIPT};

#[test]
fn an_error_past_column_65535_is_shown_on_a_shortened_line() {
    let dir = tempdir();
    let text = format!("int:x = 1;{}@\nprint(x);\n", " ".repeat(70_000));
    let r = run_script(dir.path(), &text);
    assert_eq!(r.status, 2, "{}", r.stderr);
    assert!(r.stderr.contains(&format!("{SCRIPT}:1:70011: unexpected character `@`")), "{}", r.stderr);
    assert!(r.stderr.contains(&format!("[{SCRIPT}:1:70011]")), "{}", r.stderr);
    assert!(r.stderr.contains('…'), "{}", r.stderr);
    assert!(r.stderr.contains('^'), "{}", r.stderr);
    assert!(r.stderr.lines().all(|l| l.chars().count() < 400), "{}", r.stderr);
}

#[test]
fn a_long_span_on_a_long_line_is_cut_to_what_is_shown() {
    let dir = tempdir();
    // The whole 100,000-character list is the offending span.
    let items = vec!["\"a\""; 25_000].join(",");
    let r = run_script(dir.path(), &format!("int:x = [{items}];\n"));
    assert_eq!(r.status, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains(&format!("{SCRIPT}:1:9: `x` is int but the value is [string]")),
        "{}",
        r.stderr
    );
    assert!(r.stderr.lines().all(|l| l.chars().count() < 400), "{}", r.stderr);
}

#[test]
fn control_characters_in_the_source_are_shown_as_symbols_and_escaped_in_messages() {
    let dir = tempdir();
    let r = run_script(dir.path(), "print(1);\0\n");
    assert_eq!(r.status, 2, "{}", r.stderr);
    assert!(!r.stderr.contains('\0'), "{:?}", r.stderr);
    assert!(r.stderr.contains(&format!("{SCRIPT}:1:10: unexpected character `\\0`")), "{}", r.stderr);
    assert!(r.stderr.contains("print(1);\u{2400}"), "{}", r.stderr);
}

#[test]
fn control_characters_from_values_are_escaped_in_runtime_errors() {
    let dir = tempdir();
    let r = run_c(dir.path(), "cd(\"\u{1b}[2Jnowhere\");");
    assert_eq!(r.status, 1, "{}", r.stderr);
    assert!(!r.stderr.contains('\u{1b}'), "{:?}", r.stderr);
    assert!(r.stderr.contains("`\\u{1b}[2Jnowhere`"), "{}", r.stderr);
    let r = run_c(dir.path(), "run(\"no-such\u{1b}]0;program\u{7}\");");
    assert_eq!(r.status, 127, "{}", r.stderr);
    assert!(!r.stderr.contains('\u{1b}') && !r.stderr.contains('\u{7}'), "{:?}", r.stderr);
    assert!(r.stderr.contains("no-such\\u{1b}]0;program\\u{7}"), "{}", r.stderr);
}

#[test]
fn the_column_in_the_excerpt_heading_counts_characters_like_the_message() {
    let dir = tempdir();
    let r = run_script(dir.path(), "string:s = \"café\"; int:n = s;\n");
    assert_eq!(r.status, 2, "{}", r.stderr);
    assert!(r.stderr.contains(&format!("{SCRIPT}:1:28: ")), "{}", r.stderr);
    assert!(r.stderr.contains(&format!("[{SCRIPT}:1:28]")), "{}", r.stderr);
}

#[test]
fn only_the_first_hundred_errors_are_shown_with_a_count_of_the_rest() {
    let dir = tempdir();
    let r = run_script(dir.path(), &"print(nope);\n".repeat(150));
    assert_eq!(r.status, 2, "{}", r.stderr);
    assert_eq!(r.stderr.matches("unknown variable `nope`").count(), 100, "{}", r.stderr);
    assert!(r.stderr.contains(&format!("{SCRIPT}:101:7: 50 more errors not shown")), "{}", r.stderr);
}

/// The write end of a pipe whose read end is already closed.
fn closed_pipe() -> std::os::fd::OwnedFd {
    use std::os::fd::FromRawFd;
    let mut fds = [0; 2];
    // SAFETY: pipe writes two new descriptors into the array.
    assert_eq!(unsafe { libc::pipe(fds.as_mut_ptr()) }, 0);
    // SAFETY: both descriptors were just created and are owned by nobody else: the read end
    // is closed, and the write end moves into the OwnedFd.
    unsafe {
        libc::close(fds[0]);
        std::os::fd::OwnedFd::from_raw_fd(fds[1])
    }
}

#[test]
fn a_stderr_that_cannot_be_written_is_not_a_panic() {
    let dir = tempdir();
    // A check error, a runtime error, and a spawn failure then exit.
    for (script, want) in
        [("print(nope);", 2), ("int:z = 0; print(1 / z);", 1), ("run(\"no-such-program\"); exit(5);", 5)]
    {
        let full = std::fs::OpenOptions::new().write(true).open("/dev/full").expect("open /dev/full");
        for sink in [std::process::Stdio::from(closed_pipe()), std::process::Stdio::from(full)] {
            let status =
                common::ariash(dir.path()).stderr(sink).args(["-c", script]).status().expect("run ariash");
            assert_eq!(status.code(), Some(want), "{script}");
        }
    }
}
