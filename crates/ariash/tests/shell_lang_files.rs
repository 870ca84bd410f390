//! Files, globs, stdin, streams over pipeline output and log(...) on fd 3.

mod common;

use std::io::Write;
use std::process::Stdio;

use common::{ariash, finish, read, run_script, tempdir, SCRIPT};

#[test]
fn files_are_written_appended_read_and_removed() {
    let dir = tempdir();
    let r = run_script(
        dir.path(),
        "write_file(\"f.txt\", \"one\\n\");\nappend_file(\"f.txt\", \"two\\n\");\n\
         print(read_file(\"f.txt\") == \"one\\ntwo\\n\", exists(\"f.txt\"), is_file(\"f.txt\"), is_dir(\"f.txt\"), is_dir(\".\"));\n\
         int:t = mtime(\"f.txt\");\nprint(t > 1600000000000, now() >= t);\n\
         write_file(\"keep.txt\", \"k\");\nremove_file(\"f.txt\");\nprint(exists(\"f.txt\"), is_file(\"f.txt\"));\n",
    );
    assert_eq!(r.status, 0, "{r:#?}");
    assert_eq!(r.stdout, "true true true false true\ntrue true\nfalse false\n");
    assert_eq!(read(dir.path(), "keep.txt"), "k");
}

#[test]
fn glob_is_sorted_recursive_with_double_star_and_empty_without_match() {
    let dir = tempdir();
    let d = dir.path();
    std::fs::create_dir_all(d.join("g/sub/deep")).unwrap();
    for f in ["g/b.txt", "g/a.txt", "g/sub/c.txt", "g/sub/deep/d.txt", "g/x.log"] {
        std::fs::write(d.join(f), "").unwrap();
    }
    let r = run_script(
        d,
        "print(glob(\"g/*.txt\"));\nprint(glob(\"g/**/*.txt\"));\nprint(len(glob(\"g/*.nomatch\")));\n",
    );
    assert_eq!(r.status, 0, "{r:#?}");
    assert_eq!(r.stdout, "g/a.txt g/b.txt\ng/a.txt g/b.txt g/sub/c.txt g/sub/deep/d.txt\n0\n");
}

#[test]
fn basename_and_dirname() {
    let dir = tempdir();
    let r =
        run_script(dir.path(), "print(basename(\"/a/b/c.txt\"), dirname(\"/a/b/c.txt\"), basename(\"c\"));");
    assert_eq!(r.status, 0, "{r:#?}");
    assert_eq!(r.stdout, "c.txt /a/b c\n");
}

fn run_with_stdin(dir: &std::path::Path, args: &[&str], input: &str) -> common::Run {
    let mut child = ariash(dir).args(args).stdin(Stdio::piped()).spawn().expect("spawn ariash");
    let mut stdin = child.stdin.take().unwrap();
    let input = input.to_string();
    let w = std::thread::spawn(move || {
        let _ = stdin.write_all(input.as_bytes());
    });
    let r = finish(child);
    w.join().unwrap();
    r
}

#[test]
fn read_line_then_lines_of_stdin() {
    let dir = tempdir();
    let r = run_with_stdin(
        dir.path(),
        &[
            "-c",
            "string:a = read_line(); print(\"a=\" + a); for (l in lines_of(stdin)) { print(\"l=\" + l); } \
             print(\"[\" + read_line() + \"]\");",
        ],
        "first\nsecond\nthird\n",
    );
    assert_eq!(r.status, 0, "{r:#?}");
    assert_eq!(r.stdout, "a=first\nl=second\nl=third\n[]\n");
}

#[test]
fn a_script_is_read_from_stdin_with_dash() {
    let dir = tempdir();
    let r = run_with_stdin(dir.path(), &["-", "x", "y z"], "print(\"from stdin\", len(args), args[1]);\n");
    assert_eq!(r.status, 0, "{r:#?}");
    assert_eq!(r.stdout, "from stdin 2 y z\n");
}

#[test]
fn stream_gives_the_lines_of_a_pipeline() {
    let dir = tempdir();
    let r = run_script(dir.path(), "for (l in stream(`seq 3`)) { print(\"got\", l); }\nprint(status());\n");
    assert_eq!(r.status, 0, "{r:#?}");
    assert_eq!(r.stdout, "got 1\ngot 2\ngot 3\n0\n");
}

#[test]
fn break_out_of_a_stream_stops_the_endless_producer() {
    let dir = tempdir();
    let r = run_script(
        dir.path(),
        "int:n = 0;\nfor (l in stream(`sh -c {\"echo $$ > pid; exec yes\"}`)) { n += 1; if (n == 5) { break; } }\n\
         print(\"n\", n);\nstring:pid = trim(read_file(\"pid\"));\n\
         `sh -c {\"kill -0 \" + pid + \" 2>/dev/null && echo alive || echo gone\"}`;\n",
    );
    assert_eq!(r.status, 0, "{r:#?}");
    assert_eq!(r.stdout, "n 5\ngone\n");
}

#[test]
fn log_writes_json_lines_to_fd_3() {
    let dir = tempdir();
    std::fs::write(
        dir.path().join(SCRIPT),
        "log(\"hello\");\nlog(\"warn\", \"careful \\\"q\\\"\");\nprint(\"out\");\n",
    )
    .unwrap();
    let child = std::process::Command::new("sh")
        .current_dir(dir.path())
        .arg("-c")
        .arg(format!("exec \"$0\" {SCRIPT} 3>dbg.jsonl"))
        .arg(env!("CARGO_BIN_EXE_ariash"))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let r = finish(child);
    assert_eq!(r.status, 0, "{r:#?}");
    assert_eq!(r.stdout, "out\n");
    let text = read(dir.path(), "dbg.jsonl");
    let lines: Vec<serde_json::Value> =
        text.lines().map(|l| serde_json::from_str(l).expect("JSON line")).collect();
    assert_eq!(lines.len(), 2, "{text}");
    assert_eq!(lines[0]["level"], "info");
    assert_eq!(lines[0]["msg"], "hello");
    assert_eq!(lines[0]["script"], SCRIPT);
    assert!(lines[0]["ts"].as_u64().is_some_and(|t| t > 1_600_000_000_000), "{text}");
    assert_eq!(lines[1]["level"], "warn");
    assert_eq!(lines[1]["msg"], "careful \"q\"");
}

#[test]
fn log_without_fd_3_is_silent() {
    let dir = tempdir();
    let r = run_script(dir.path(), "log(\"x\");\nprint(\"ok\");\n");
    assert_eq!(r.status, 0, "{r:#?}");
    assert_eq!((r.stdout.as_str(), r.stderr.as_str()), ("ok\n", ""));
}

/// 2 GiB in ~100 KiB lines through a stream loop: ariash's peak RSS stays small.
#[test]
fn two_gib_through_a_stream_keep_the_peak_rss_under_64_mib() {
    let dir = tempdir();
    let r = run_script(
        dir.path(),
        "string:big = pad_left(\"\", 102400, \"a\");\nint:n = 0;\n\
         for (line in stream(`yes {big}` | `head -c 2147483648`)) { n += 1; }\nprint(n);\n\
         for (l in lines(read_file(\"/proc/self/status\"))) { if (starts_with(l, \"VmHWM:\")) { print(l); } }\n",
    );
    assert_eq!(r.status, 0, "{r:#?}");
    let mut lines = r.stdout.lines();
    // 2 GiB / 102,401 bytes per line, the last one partial.
    assert_eq!(lines.next(), Some("20972"), "{}", r.stdout);
    let hwm = lines.next().expect("VmHWM line");
    let kib: u64 = hwm.trim_start_matches("VmHWM:").trim().trim_end_matches("kB").trim().parse().expect("kB");
    assert!(kib < 64 * 1024, "peak RSS {kib} kB");
}
