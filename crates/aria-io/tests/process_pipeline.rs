//! Pipelines: text and data pipes, redirections, pipefail.

mod support;

use aria_io::os::unix::PipelineChildExt;
use aria_io::process::{Command, Pipeline, Redirect};
use support::{emitted, helper, run};

fn cmd(prog: &str, args: &[&str]) -> Command {
    let mut c = Command::new(prog);
    c.args(args);
    c
}

#[test]
fn yes_into_head_finishes_and_succeeds() {
    run(async {
        let (st, out) =
            Pipeline::new(cmd("yes", &[])).pipe(cmd("head", &["-n", "1"])).output().await.unwrap();
        assert_eq!(out, b"y\n");
        assert_eq!(st.statuses()[0].signal(), Some(13));
        assert!(st.success());
        assert_eq!(st.code(), 0);
    });
}

#[test]
fn false_into_true_fails() {
    run(async {
        let st = Pipeline::new(cmd("false", &[])).pipe(cmd("true", &[])).status().await.unwrap();
        assert!(!st.success());
        assert_eq!(st.code(), 1);
    });
}

#[test]
fn a_broken_pipe_is_a_failure_when_the_reader_failed() {
    run(async {
        let st = Pipeline::new(cmd("yes", &[]))
            .pipe(cmd("sh", &["-c", "head -n 1 >/dev/null; exit 4"]))
            .status()
            .await
            .unwrap();
        assert!(!st.success());
        assert_eq!(st.code(), 4);
        assert_eq!(st.failures(), vec![true, true]);
    });
}

#[test]
fn the_code_is_the_rightmost_failing_stage() {
    run(async {
        let st = Pipeline::new(helper(&["exit", "3"]))
            .pipe(helper(&["exit", "5"]))
            .pipe(cmd("true", &[]))
            .status()
            .await
            .unwrap();
        assert_eq!(st.code(), 5);
    });
}

#[test]
fn a_four_stage_text_pipeline_produces_what_bash_does() {
    run(async {
        let (st, out) = Pipeline::new(cmd("printf", &["b\\na\\nb\\nc\\nb\\n"]))
            .pipe(cmd("sort", &[]))
            .pipe(cmd("uniq", &["-c"]))
            .pipe(cmd("sort", &["-rn"]))
            .output()
            .await
            .unwrap();
        assert!(st.success());
        let bash = std::process::Command::new("bash")
            .args(["-c", "printf 'b\\na\\nb\\nc\\nb\\n' | sort | uniq -c | sort -rn"])
            .output()
            .unwrap();
        assert_eq!(out, bash.stdout);
    });
}

#[test]
fn a_data_pipe_joins_fd_5_to_fd_4_and_leaves_stdout_alone() {
    run(async {
        let (st, out) = Pipeline::new(helper(&["emit", "5", "1000000"]))
            .pipe_data(cmd("sh", &["-c", "wc -c <&4"]))
            .output()
            .await
            .unwrap();
        assert!(st.success());
        assert_eq!(String::from_utf8_lossy(&out).trim(), "1000000");
    });
}

#[test]
fn every_redirection_form_works() {
    let dir = tempfile::tempdir().unwrap();
    let p = |n: &str| dir.path().join(n);
    run(async {
        // > and >>
        Pipeline::new(cmd("echo", &["one"]))
            .redirect(Redirect::Write { fd: 1, path: p("o"), append: false })
            .status()
            .await
            .unwrap();
        Pipeline::new(cmd("echo", &["two"]))
            .redirect(Redirect::Write { fd: 1, path: p("o"), append: true })
            .status()
            .await
            .unwrap();
        // <
        let (_, out) = Pipeline::new(cmd("cat", &[]))
            .redirect(Redirect::Read { fd: 0, path: p("o") })
            .output()
            .await
            .unwrap();
        assert_eq!(out, b"one\ntwo\n");
        // 2> and 2>&1 (left to right: > f 2>&1 sends both to f)
        Pipeline::new(cmd("sh", &["-c", "echo out; echo err >&2"]))
            .redirect(Redirect::Write { fd: 1, path: p("both"), append: false })
            .redirect(Redirect::Dup { fd: 2, from: 1 })
            .status()
            .await
            .unwrap();
        Pipeline::new(cmd("sh", &["-c", "echo err >&2"]))
            .redirect(Redirect::Write { fd: 2, path: p("e"), append: false })
            .status()
            .await
            .unwrap();
        // 3>, 5>, 4<
        Pipeline::new(helper(&["emit", "3", "10"]))
            .redirect(Redirect::Write { fd: 3, path: p("dbg"), append: false })
            .status()
            .await
            .unwrap();
        Pipeline::new(helper(&["emit", "5", "20"]))
            .redirect(Redirect::Write { fd: 5, path: p("bin"), append: false })
            .status()
            .await
            .unwrap();
        let (_, out) = Pipeline::new(cmd("sh", &["-c", "wc -c <&4"]))
            .redirect(Redirect::Read { fd: 4, path: p("bin") })
            .output()
            .await
            .unwrap();
        assert_eq!(String::from_utf8_lossy(&out).trim(), "20");
        // 2>&1 into the pipe to the next stage
        let (_, out) = Pipeline::new(cmd("sh", &["-c", "echo err >&2"]))
            .redirect(Redirect::Dup { fd: 2, from: 1 })
            .pipe(cmd("tr", &["a-z", "A-Z"]))
            .output()
            .await
            .unwrap();
        assert_eq!(out, b"ERR\n");
    });
    let read = |n: &str| std::fs::read_to_string(p(n)).unwrap();
    assert_eq!(read("both"), "out\nerr\n");
    assert_eq!(read("e"), "err\n");
    assert_eq!(std::fs::read(p("dbg")).unwrap().len(), 10);
    assert_eq!(std::fs::read(p("bin")).unwrap().len(), 20);
}

#[test]
fn redirection_errors_name_the_file_and_the_fd() {
    run(async {
        let err = Pipeline::new(cmd("cat", &[]))
            .redirect(Redirect::Read { fd: 0, path: "/no/such/file".into() })
            .spawn()
            .unwrap_err();
        assert!(err.to_string().contains("/no/such/file"), "{err}");
        let err =
            Pipeline::new(cmd("cat", &[])).redirect(Redirect::Dup { fd: 7, from: 1 }).spawn().unwrap_err();
        assert!(err.to_string().contains("fd 7"), "{err}");
    });
}

#[test]
fn a_stage_that_cannot_spawn_fails_the_pipeline_and_the_started_stages_are_reaped() {
    run(async {
        let err = Pipeline::new(helper(&["sleep", "600000"]))
            .pipe(cmd("no-such-prog-aria", &[]))
            .spawn()
            .unwrap_err();
        assert!(err.to_string().contains("no-such-prog-aria"), "{err}");
    });
}

#[test]
fn all_stages_share_one_process_group() {
    run(async {
        let child = Pipeline::new(cmd("sh", &["-c", "ps -o pgid= -p $$"]))
            .pipe(cmd("sh", &["-c", "cat; ps -o pgid= -p $$"]))
            .capture_stdout()
            .spawn()
            .unwrap();
        let pgid = child.pgid();
        let (st, out) = child.wait_with_output().await.unwrap();
        assert!(st.success());
        let groups: Vec<i32> =
            String::from_utf8(out).unwrap().split_whitespace().map(|s| s.parse().unwrap()).collect();
        assert_eq!(groups, vec![pgid, pgid]);
    });
}

#[test]
fn a_tee_stage_sends_the_same_bytes_to_the_next_stage_and_to_a_file() {
    let dir = tempfile::tempdir().unwrap();
    let copy = dir.path().join("copy");
    run(async {
        let size = (12 << 20) + 999;
        let (st, out) = Pipeline::new(helper(&["emit", "1", &size.to_string()]))
            .tee(&copy)
            .pipe(helper(&["cat"]))
            .output()
            .await
            .unwrap();
        assert!(st.success(), "{st}");
        let expected = emitted(size);
        assert!(out == expected, "the next stage got other bytes ({} of {size})", out.len());
        let in_file = std::fs::read(&copy).unwrap();
        assert!(in_file == expected, "the file got other bytes ({} of {size})", in_file.len());
    });
}

#[test]
fn a_tee_on_the_data_plane_copies_stddato_to_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let (copy, out) = (dir.path().join("copy"), dir.path().join("out"));
    run(async {
        let size = 3 << 20;
        let st = Pipeline::new(helper(&["emit", "5", &size.to_string()]))
            .tee(&copy)
            .pipe_data(helper(&["cat-data"]))
            .redirect(Redirect::Write { fd: 5, path: out.clone(), append: false })
            .status()
            .await
            .unwrap();
        assert!(st.success(), "{st}");
        assert!(std::fs::read(&copy).unwrap() == emitted(size));
        assert!(std::fs::read(&out).unwrap() == emitted(size));
    });
}

#[test]
fn a_tee_whose_next_stage_stops_reading_ends_with_a_forgiven_broken_pipe() {
    let dir = tempfile::tempdir().unwrap();
    let copy = dir.path().join("copy");
    run(async {
        // `yes` never ends by itself: only EPIPE, passed on through the tee, stops it.
        let st = Pipeline::new(cmd("yes", &[]))
            .tee(&copy)
            .pipe(cmd("head", &["-c", "10"]))
            .status()
            .await
            .unwrap();
        assert_eq!(st.statuses()[0].signal(), Some(13), "{st}");
        assert!(st.success(), "{st}");
        // The file has what passed to `head`, at least: a prefix of yes's output.
        let got = std::fs::read(&copy).unwrap();
        assert!(got.len() >= 10);
        assert!(got.chunks(2).all(|c| c == b"y\n" || c == b"y"));
    });
}

#[test]
fn a_tee_on_the_last_stage_or_into_a_file_that_cannot_be_opened_is_an_error() {
    run(async {
        let err = Pipeline::new(cmd("true", &[])).tee("/tmp/never-written").spawn().unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
        assert!(!std::path::Path::new("/tmp/never-written").exists());
        let err = Pipeline::new(cmd("true", &[]))
            .tee("/nonexistent-dir/copy")
            .pipe(cmd("true", &[]))
            .spawn()
            .unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::NotFound);
        assert!(err.to_string().contains("/nonexistent-dir/copy"), "{err}");
    });
}

#[test]
fn a_captured_output_can_take_stderr_too() {
    run(async {
        // `capture(`sh -c ...` 2>&1)` in ariash: stderr joins the captured stdout.
        let (st, out) = Pipeline::new(cmd("sh", &["-c", "echo out; echo err >&2"]))
            .redirect(Redirect::Dup { fd: 2, from: 1 })
            .output()
            .await
            .unwrap();
        assert!(st.success());
        assert_eq!(out, b"out\nerr\n");
    });
}
