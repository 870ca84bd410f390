//! Running scripts: values, control flow, pipelines, redirections, jobs, builtins and the
//! exit status, with ordinary system tools as the programs.

mod common;

use common::{read, run_c, run_script, run_script_with, tempdir, SCRIPT};

fn stdout_of(text: &str) -> String {
    let dir = tempdir();
    let r = run_script(dir.path(), text);
    assert_eq!(r.status, 0, "{r:#?}");
    r.stdout
}

// ---- values ----

#[test]
fn variables_and_arithmetic_follow_precedence() {
    let out = stdout_of("int:n = 3;\nn = n * 2 + 1;\nprint(n, n % 4, -n / 2, (1 + 2) * 3, 10 - 2 - 3);\n");
    assert_eq!(out, "7 3 -3 9 5\n");
}

#[test]
fn the_smallest_int_can_be_written_as_a_literal() {
    assert_eq!(
        stdout_of("int:m = -9223372036854775808;\nprint(m, m == -9223372036854775807 - 1, m + 1);"),
        "-9223372036854775808 true -9223372036854775807\n"
    );
    let dir = tempdir();
    let r = run_c(dir.path(), "int:m = -9223372036854775808; print(-m);");
    assert_eq!(r.status, 1, "{r:#?}");
    assert!(r.stderr.contains("integer overflow"), "{}", r.stderr);
    let r = run_c(dir.path(), "print(1 - 9223372036854775808);");
    assert_eq!(r.status, 2, "{r:#?}");
    assert!(r.stderr.contains("the smallest -9223372036854775808"), "{}", r.stderr);
}

#[test]
fn compound_assignment_updates_the_variable() {
    assert_eq!(stdout_of("int:n = 5; n += 2; n *= 3; string:s = \"a\"; s += \"b\"; print(n, s);"), "21 ab\n");
}

#[test]
fn string_escapes_are_decoded() {
    assert_eq!(stdout_of(r#"print("a\tb\\c\"d\n");"#), "a\tb\\c\"d\n\n");
}

#[test]
fn strings_concatenate_and_convert() {
    assert_eq!(
        stdout_of(
            "string:name = \"x\"; name = name + \"-suffix\"; int:n = int(\" 12 \"); \
             print(name, str(n + 1), str(true), len(name));"
        ),
        "x-suffix 13 true 8\n"
    );
}

#[test]
fn lists_concatenate_append_index_and_measure() {
    assert_eq!(
        stdout_of(
            "[string]:xs = [\"a\", \"b\"]; xs = xs + [\"c\"]; [string]:ys = []; ys = ys + xs; \
             print(ys, len(ys), ys[2]);"
        ),
        "a b c 3 c\n"
    );
}

#[test]
fn a_hundred_thousand_appends_to_a_string_and_a_list_build_them_whole() {
    // Each append copied the whole value (quadratic: minutes for the list); the test checks
    // the result only, the hang guard being the only clock.
    let out = stdout_of(
        "string:s = \"\";\n[string]:xs = [];\nstring:t = \"<\";\nint:i = 0;\n\
         while (i < 100000) {\n\
           s = s + \"0123456789\";\n\
           xs = xs + [str(i % 10)];\n\
           t += str(i % 7) + \",\";\n\
           i += 1;\n\
         }\n\
         print(len(s), len(xs), len(t), xs[99999], s == s + \"\");\n\
         int:sum = 0;\nfor (x in xs) { sum += int(x); }\nprint(sum, xs[12345] == str(12345 % 10));",
    );
    assert_eq!(out, "1000000 100000 200001 9 true\n450000 true\n");
}

#[test]
fn appending_to_a_copy_leaves_the_original_alone() {
    assert_eq!(
        stdout_of(
            "[string]:xs = [\"a\"];\n[string]:ys = xs;\nys = ys + [\"b\"];\nxs += [\"c\"];\n\
             string:s = \"x\";\nstring:t = s;\nt = t + \"y\" + t;\ns = s + s;\n\
             for (x in xs) { xs = xs + [x]; }\nprint(xs, \"|\", ys, \"|\", s, t);"
        ),
        "a c a c | a b | xx xyx\n"
    );
}

#[test]
fn comparisons_work_on_ints_strings_and_bools() {
    assert_eq!(
        stdout_of(
            "print(1 < 2, 2 <= 2, 3 > 4, \"a\" < \"b\", \"x\" == \"x\", true != false, !true, \
             true && false, false || true);"
        ),
        "true true false true true true false false true\n"
    );
}

#[test]
fn declarations_without_initializer_take_the_zero_value() {
    assert_eq!(
        stdout_of("int:n; string:s; bool:b; [string]:xs; print(n, s == \"\", b, len(xs));"),
        "0 true false 0\n"
    );
}

#[test]
fn inner_blocks_may_shadow_outer_variables() {
    assert_eq!(stdout_of("int:n = 1; { int:n = 2; print(n); } print(n);"), "2\n1\n");
}

// ---- control flow ----

#[test]
fn if_else_if_and_else_pick_one_branch() {
    let text = "for (n in [\"1\", \"2\", \"3\"]) {\n\
                int:i = int(n);\n\
                if (i == 1) { print(\"one\"); } else if (i == 2) { print(\"two\"); } else { print(\"many\"); }\n\
                }";
    assert_eq!(stdout_of(text), "one\ntwo\nmany\n");
}

#[test]
fn while_loops_honour_break_and_continue() {
    let text = "int:n = 0; while (n < 10) { n = n + 1; if (n % 2 == 0) { continue; } \
                if (n > 7) { break; } print(n); }";
    assert_eq!(stdout_of(text), "1\n3\n5\n7\n");
}

#[test]
fn a_pipeline_in_a_condition_is_its_success() {
    let dir = tempdir();
    std::fs::write(dir.path().join("present"), "").expect("write");
    let r = run_script(
        dir.path(),
        "for (f in [\"present\", \"absent\"]) {\n\
         if (run(\"test\", [\"-f\", f])) { print(f, \"yes\"); } else { print(f, \"no\"); }\n\
         }\n\
         bool:ok = run(\"true\") && !run(\"false\");\nprint(ok);",
    );
    assert_eq!(r.stdout, "present yes\nabsent no\ntrue\n", "{r:#?}");
}

#[test]
fn logical_operators_short_circuit_pipelines() {
    let dir = tempdir();
    let r = run_script(
        dir.path(),
        "run(\"false\") && run(\"touch\", [\"no\"]);\nrun(\"true\") || run(\"touch\", [\"no2\"]);\nrun(\"false\") || run(\"touch\", [\"yes\"]);",
    );
    assert_eq!(r.status, 0, "{r:#?}");
    assert!(!dir.path().join("no").exists());
    assert!(!dir.path().join("no2").exists());
    assert!(dir.path().join("yes").exists());
}

#[test]
fn script_arguments_are_the_args_list() {
    let dir = tempdir();
    let r = run_script_with(
        dir.path(),
        "print(len(args)); for (a in args) { print(a); }",
        &["x", "y z", "--flag"],
    );
    assert_eq!(r.stdout, "3\nx\ny z\n--flag\n", "{r:#?}");
}

// ---- arguments and pipes ----

#[test]
fn an_argument_with_shell_metacharacters_reaches_the_child_verbatim() {
    let dir = tempdir();
    let r = run_script(
        dir.path(),
        "string:x = \"foo; rm -rf / $HOME `id` *\";\nrun(\"printf\", [\"%s\\n\", x]);\n\
         run(\"sh\", [\"-c\", \"echo $#\", \"sh\", x]);",
    );
    assert_eq!(r.stdout, "foo; rm -rf / $HOME `id` *\n1\n", "{r:#?}");
}

#[test]
fn a_list_variable_can_be_the_argument_list_and_literals_mix_variables() {
    let dir = tempdir();
    let r = run_script(
        dir.path(),
        "[string]:xs = [\"a b\", \"c\"];\nrun(\"printf\", [\"<%s>\"] + xs);\nstring:v = \"d\";\n\
         run(\"printf\", [\"<%s>\", v, \"e\" + v]);\nrun(\"printf\", [\"\\n\"]);",
    );
    assert_eq!(r.stdout, "<a b><c><d><ed>\n", "{r:#?}");
}

#[test]
fn a_text_pipe_connects_stdout_to_stdin_across_three_stages() {
    assert_eq!(
        stdout_of("run(\"printf\", [\"b\\na\\nc\\n\"]) | run(\"sort\") | run(\"head\", [\"-n\", \"2\"]);"),
        "a\nb\n"
    );
}

#[test]
fn a_data_pipe_connects_fd_5_to_fd_4() {
    assert_eq!(
        stdout_of("run(\"sh\", [\"-c\", \"printf abc >&5\"]) |* run(\"sh\", [\"-c\", \"cat <&4\"]);"),
        "abc"
    );
}

#[test]
fn yes_into_head_succeeds() {
    let dir = tempdir();
    let r = run_script(dir.path(), "run(\"yes\") | run(\"head\", [\"-n\", \"1\"])?;\nprint(status());");
    assert_eq!((r.status, r.stdout.as_str()), (0, "y\n0\n"), "{r:#?}");
}

#[test]
fn false_into_true_fails() {
    let dir = tempdir();
    let r = run_script(dir.path(), "run(\"false\") | run(\"true\");");
    assert_eq!(r.status, 1, "{r:#?}");
}

#[test]
fn the_status_is_that_of_the_rightmost_failing_stage() {
    let dir = tempdir();
    let r = run_script(
        dir.path(),
        "run(\"sh\", [\"-c\", \"exit 3\"]) | run(\"sh\", [\"-c\", \"cat >/dev/null; exit 4\"]) | run(\"true\");",
    );
    assert_eq!(r.status, 4, "{r:#?}");
}

#[test]
fn a_stage_killed_by_a_signal_has_status_128_plus_the_signal() {
    let dir = tempdir();
    let r = run_script(dir.path(), "run(\"sh\", [\"-c\", \"kill -TERM $$\"]);");
    assert_eq!(r.status, 143, "{r:#?}");
}

// ---- redirections ----

#[test]
fn output_redirections_truncate_and_append() {
    let dir = tempdir();
    let r = run_script(
        dir.path(),
        "run(\"echo\", [\"one\"]) > \"f\";\nrun(\"echo\", [\"two\"]) > \"f\";\n\
         run(\"echo\", [\"three\"]) >> \"f\";\nstring:name = \"g\";\n\
         run(\"echo\", [\"x\"]) 1> name + \".txt\";",
    );
    assert_eq!(r.status, 0, "{r:#?}");
    assert_eq!(read(dir.path(), "f"), "two\nthree\n");
    assert_eq!(read(dir.path(), "g.txt"), "x\n");
}

#[test]
fn input_redirection_feeds_stdin() {
    let dir = tempdir();
    std::fs::write(dir.path().join("in"), "hello\n").expect("write");
    let r = run_script(dir.path(), "run(\"tr\", [\"a-z\", \"A-Z\"]) < \"in\";");
    assert_eq!(r.stdout, "HELLO\n", "{r:#?}");
}

#[test]
fn stderr_redirects_to_a_file_and_to_stdout() {
    let dir = tempdir();
    let r = run_script(
        dir.path(),
        "run(\"sh\", [\"-c\", \"echo out; echo err >&2\"]) 2> \"e\";\n\
         run(\"sh\", [\"-c\", \"echo both >&2\"]) > \"o\" 2>&1;",
    );
    assert_eq!(r.stdout, "out\n", "{r:#?}");
    assert_eq!(read(dir.path(), "e"), "err\n");
    assert_eq!(read(dir.path(), "o"), "both\n");
}

#[test]
fn redirections_apply_per_stage() {
    let dir = tempdir();
    let r = run_script(
        dir.path(),
        "run(\"sh\", [\"-c\", \"echo data; echo oops >&2\"]) 2> \"e\" | run(\"tr\", [\"a-z\", \"A-Z\"]) > \"o\";",
    );
    assert_eq!(r.status, 0, "{r:#?}");
    assert_eq!(read(dir.path(), "e"), "oops\n");
    assert_eq!(read(dir.path(), "o"), "DATA\n");
}

#[test]
fn extended_streams_redirect_to_files() {
    let dir = tempdir();
    std::fs::write(dir.path().join("in.bin"), "binary-in").expect("write");
    let r = run_script(
        dir.path(),
        "run(\"sh\", [\"-c\", \"echo '{\\\"level\\\":1}' >&3\"]) 3> \"dbg.jsonl\";\n\
         run(\"sh\", [\"-c\", \"printf out >&5\"]) 5> \"out.bin\";\n\
         run(\"sh\", [\"-c\", \"cat <&4\"]) 4< \"in.bin\";",
    );
    assert_eq!(r.status, 0, "{r:#?}");
    assert_eq!(read(dir.path(), "dbg.jsonl"), "{\"level\":1}\n");
    assert_eq!(read(dir.path(), "out.bin"), "out");
    assert_eq!(r.stdout, "binary-in");
}

#[test]
fn a_missing_input_file_fails_the_pipeline_with_status_1_and_names_the_file() {
    let dir = tempdir();
    let r = run_script(dir.path(), "run(\"cat\") < \"missing.txt\";\nprint(status());");
    assert_eq!(r.stdout, "1\n", "{r:#?}");
    assert!(r.stderr.contains("missing.txt"), "{}", r.stderr);
    assert!(r.stderr.contains(&format!("{SCRIPT}:1:1")), "{}", r.stderr);
}

// ---- ? and exit status ----

#[test]
fn question_mark_stops_the_script_with_the_pipeline_status() {
    let dir = tempdir();
    let r = run_script(
        dir.path(),
        "run(\"true\")?;\nrun(\"sh\", [\"-c\", \"exit 3\"])?;\nrun(\"touch\", [\"after\"]);",
    );
    assert_eq!(r.status, 3, "{r:#?}");
    assert!(!dir.path().join("after").exists());
    assert!(r.stderr.contains(&format!("{SCRIPT}:2:1")), "{}", r.stderr);
}

#[test]
fn question_mark_covers_the_whole_pipeline() {
    let dir = tempdir();
    let r = run_script(dir.path(), "run(\"false\") | run(\"true\")?;\nrun(\"touch\", [\"after\"]);");
    assert_eq!(r.status, 1, "{r:#?}");
    assert!(!dir.path().join("after").exists());
}

#[test]
fn exit_sets_the_status_and_stops() {
    let dir = tempdir();
    let r = run_script(dir.path(), "exit(3);\nrun(\"touch\", [\"after\"]);");
    assert_eq!(r.status, 3);
    assert!(!dir.path().join("after").exists());
}

#[test]
fn the_status_is_that_of_the_last_pipeline() {
    let dir = tempdir();
    assert_eq!(run_c(dir.path(), "run(\"false\");").status, 1);
    assert_eq!(run_c(dir.path(), "run(\"false\"); run(\"true\");").status, 0);
    assert_eq!(run_c(dir.path(), "print(\"no pipeline\");").status, 0);
    assert_eq!(run_c(dir.path(), "run(\"sh\", [\"-c\", \"exit 7\"]); exit();").status, 7);
}

#[test]
fn a_program_that_does_not_exist_is_named_and_gives_127() {
    let dir = tempdir();
    let r = run_script(
        dir.path(),
        "run(\"ariash-no-such-program\");\nprint(status());\nrun(\"true\") | run(\"ariash-no-such-program\");",
    );
    assert_eq!(r.status, 127, "{r:#?}");
    assert_eq!(r.stdout, "127\n");
    assert!(r.stderr.contains("ariash: "), "{}", r.stderr);
    assert!(r.stderr.contains("ariash-no-such-program"), "{}", r.stderr);
    assert!(r.stderr.contains(&format!("{SCRIPT}:1:1")), "{}", r.stderr);
    assert!(r.stderr.contains(&format!("{SCRIPT}:3:15")), "{}", r.stderr);
}

#[test]
fn a_file_that_is_not_executable_gives_126() {
    let dir = tempdir();
    std::fs::write(dir.path().join("plain"), "not a program").expect("write");
    let r = run_script(dir.path(), "run(\"./plain\");");
    assert_eq!(r.status, 126, "{r:#?}");
    assert!(r.stderr.contains("plain"), "{}", r.stderr);
}

#[test]
fn a_runtime_error_is_located_and_exits_1() {
    let dir = tempdir();
    let r = run_script(dir.path(), "int:z = 0;\nprint(1 / z);");
    assert_eq!(r.status, 1, "{r:#?}");
    assert!(r.stderr.contains("division by zero"), "{}", r.stderr);
    assert!(r.stderr.contains(&format!("{SCRIPT}:2:7")), "{}", r.stderr);
    let r = run_script(dir.path(), "int:n = int(\"twelve\");");
    assert_eq!(r.status, 1, "{r:#?}");
    assert!(r.stderr.contains("`twelve` is not an integer"), "{}", r.stderr);
}

// ---- jobs ----

#[test]
fn background_jobs_run_concurrently_and_wait_collects_them() {
    let dir = tempdir();
    // The reader only finishes once the writer, started after it, has produced the fifo data:
    // this needs both to run at the same time.
    let r = run_script(
        dir.path(),
        "run(\"mkfifo\", [\"fifo\"])?;\n\
         run(\"sh\", [\"-c\", \"cat fifo > got\"]) &;\n\
         run(\"sh\", [\"-c\", \"echo hello > fifo\"]) &;\n\
         wait;\nprint(status());\nrun(\"cat\", [\"got\"]);",
    );
    assert_eq!(r.stdout, "0\nhello\n", "{r:#?}");
}

#[test]
fn wait_reports_a_failed_job_and_wait_question_stops() {
    let dir = tempdir();
    let r = run_script(
        dir.path(),
        "run(\"sh\", [\"-c\", \"exit 5\"]) &;\nrun(\"true\") &;\nwait;\nprint(status());\n\
         run(\"sh\", [\"-c\", \"exit 6\"]) &;\nwait?;\nprint(\"not reached\");",
    );
    assert_eq!(r.status, 6, "{r:#?}");
    assert_eq!(r.stdout, "5\n");
}

#[test]
fn a_background_job_whose_program_is_missing_is_a_failed_job_for_wait() {
    let dir = tempdir();
    let r = run_script(
        dir.path(),
        "run(\"ariash-no-such-program\") &;\nrun(\"true\") &;\nwait;\nprint(status());\n\
         run(\"ariash-no-such-program\") &;\nrun(\"true\") &;\nwait?;\nprint(\"not reached\");",
    );
    assert_eq!(r.status, 127, "{r:#?}");
    assert_eq!(r.stdout, "127\n");
    assert!(
        r.stderr.contains(&format!("{SCRIPT}:1:1: failed to spawn `ariash-no-such-program`")),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr.contains(&format!("{SCRIPT}:5:1: failed to spawn `ariash-no-such-program`")),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains(&format!("{SCRIPT}:5:1: stopping")), "{}", r.stderr);
}

#[test]
fn a_background_job_whose_redirection_fails_names_its_program_and_fails_wait() {
    let dir = tempdir();
    let r = run_script(dir.path(), "run(\"cat\") < \"missing.txt\" &;\nwait;\nprint(status());");
    assert_eq!((r.status, r.stdout.as_str()), (1, "1\n"), "{r:#?}");
    assert!(r.stderr.contains(&format!("{SCRIPT}:1:1: cannot start `cat`: ")), "{}", r.stderr);
    assert!(r.stderr.contains("missing.txt"), "{}", r.stderr);
}

#[test]
fn background_jobs_that_run_out_of_file_descriptors_are_failed_jobs_for_wait() {
    // Each started job holds descriptors until it is waited for, so 40 jobs cannot all start
    // under a limit of 20.
    let dir = tempdir();
    let script = "int:i = 0; while (i < 40) { run(\"true\") &; i += 1; } wait; print(status());";
    let mut cmd = std::process::Command::new("sh");
    cmd.args(["-c", "ulimit -n 20 && exec \"$0\" -c \"$1\"", env!("CARGO_BIN_EXE_ariash"), script])
        .current_dir(dir.path())
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let r = common::finish(cmd.spawn().expect("spawn sh"));
    assert_ne!(r.stdout, "0\n", "{r:#?}");
    assert!(r.stderr.contains("`true`: Too many open files"), "{}", r.stderr);
}

#[test]
fn background_jobs_still_running_at_the_end_are_waited_for() {
    let dir = tempdir();
    let r = run_script(dir.path(), "run(\"sh\", [\"-c\", \"sleep 0.2; touch late\"]) &;");
    assert_eq!(r.status, 0, "{r:#?}");
    assert!(dir.path().join("late").exists());
}

// ---- builtins ----

#[test]
fn capture_returns_stdout_without_trailing_newlines() {
    assert_eq!(
        stdout_of(
            "string:s = capture(run(\"uname\", [\"-s\"]));\nprint(\"[\" + s + \"]\");\n\
             string:t = capture(run(\"printf\", [\"a\\n\\nb\\n\\n\"]));\nprint(len(t));"
        ),
        "[Linux]\n4\n"
    );
}

#[test]
fn capture_of_a_pipeline_sets_the_status() {
    let dir = tempdir();
    let r = run_script(
        dir.path(),
        "string:s = capture(run(\"sh\", [\"-c\", \"echo partial; exit 2\"]));\nprint(s, status());",
    );
    assert_eq!(r.stdout, "partial 2\n", "{r:#?}");
    assert_eq!(r.status, 2);
}

#[test]
fn print_output_stays_in_order_with_child_output() {
    assert_eq!(
        stdout_of("print(\"a\");\nrun(\"echo\", [\"b\"]);\nprint(\"c\");\nrun(\"echo\", [\"d\"]);"),
        "a\nb\nc\nd\n"
    );
}

#[test]
fn env_and_setenv_reach_children() {
    let dir = tempdir();
    let r = run_script(
        dir.path(),
        "print(env(\"ARIASH_TEST_UNSET\") == \"\");\nsetenv(\"ARIASH_TEST_K\", \"v 1\");\n\
         print(env(\"ARIASH_TEST_K\"));\nrun(\"sh\", [\"-c\", \"echo \\\"$ARIASH_TEST_K\\\"\"]);\n\
         unsetenv(\"ARIASH_TEST_K\");\nrun(\"sh\", [\"-c\", \"echo \\\"[${ARIASH_TEST_K-unset}]\\\"\"]);\n\
         print(env(\"HOME\") != \"\");",
    );
    assert_eq!(r.stdout, "true\nv 1\nv 1\n[unset]\ntrue\n", "{r:#?}");
}

#[test]
fn cd_changes_the_directory_of_later_runs() {
    let dir = tempdir();
    std::fs::create_dir(dir.path().join("sub")).expect("mkdir");
    let r = run_script(
        dir.path(),
        "cd(\"sub\");\nrun(\"touch\", [\"here\"]);\nrun(\"echo\", [\"x\"]) > \"redirected\";\nprint(exists(\"here\"));",
    );
    assert_eq!(r.stdout, "true\n", "{r:#?}");
    assert!(dir.path().join("sub/here").exists());
    assert!(dir.path().join("sub/redirected").exists());
}

#[test]
fn cd_to_a_missing_directory_is_a_runtime_error_naming_it() {
    let dir = tempdir();
    let r = run_script(dir.path(), "print(\"before\");\ncd(\"nowhere\");\nprint(\"after\");");
    assert_eq!(r.status, 1, "{r:#?}");
    assert_eq!(r.stdout, "before\n");
    assert!(r.stderr.contains("nowhere"), "{}", r.stderr);
    assert!(r.stderr.contains(&format!("{SCRIPT}:2:1")), "{}", r.stderr);
}

#[test]
fn exists_reports_files() {
    let dir = tempdir();
    std::fs::write(dir.path().join("f"), "").expect("write");
    let r = run_script(dir.path(), "print(exists(\"f\"), exists(\"g\"));");
    assert_eq!(r.stdout, "true false\n");
}

#[test]
fn indexing_out_of_range_is_a_runtime_error() {
    let dir = tempdir();
    let r = run_script(dir.path(), "[string]:xs = [\"a\"];\nprint(xs[3]);");
    assert_eq!(r.status, 1, "{r:#?}");
    assert!(r.stderr.contains("out of range"), "{}", r.stderr);
}

#[test]
fn a_shebang_line_is_ignored() {
    assert_eq!(stdout_of("#!/usr/bin/env ariash\nprint(\"ok\");"), "ok\n");
}

#[test]
fn an_input_fd_can_be_duplicated_from_another() {
    let dir = tempdir();
    std::fs::write(dir.path().join("in"), "via fd 4\n").expect("write");
    let r = run_script(dir.path(), "run(\"cat\") 4< \"in\" 0<&4;");
    assert_eq!(r.stdout, "via fd 4\n", "{r:#?}");
}

#[test]
fn fds_six_to_nine_are_rejected_before_anything_runs() {
    // Every child has exactly the six streams 0-5, so `7> f` is a check-time error.
    let dir = tempdir();
    let r = run_script(
        dir.path(),
        "run(\"touch\", [\"ran\"]); run(\"sh\", [\"-c\", \"echo seven >&7\"]) 7> \"f\";",
    );
    assert_eq!(r.status, 2, "{r:#?}");
    assert!(r.stderr.contains("streams 0 to 5"), "{r:#?}");
    assert!(!dir.path().join("ran").exists());
}

#[test]
fn printing_into_a_closed_pipe_stops_quietly_with_141() {
    use std::io::BufRead;
    let dir = tempdir();
    let mut child = common::ariash(dir.path())
        .args(["-c", "while (true) { print(\"y\"); }"])
        .spawn()
        .expect("spawn ariash");
    let stdout = child.stdout.take().expect("stdout piped");
    let mut first = String::new();
    std::io::BufReader::new(stdout).read_line(&mut first).expect("read a line");
    assert_eq!(first, "y\n");
    // The reader is dropped here; the loop's next print fails with EPIPE.
    let r = common::finish(child);
    assert_eq!(r.status, 141, "{r:#?}");
    assert_eq!(r.stderr, "");
}

#[test]
fn stderr_joins_stdout_into_a_pipe() {
    assert_eq!(
        stdout_of("run(\"sh\", [\"-c\", \"echo oops >&2\"]) 2>&1 | run(\"tr\", [\"a-z\", \"A-Z\"]);"),
        "OOPS\n"
    );
}
