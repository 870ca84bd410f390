//! Job values: `&`, wait, wait_any, jobs, kill, bare `wait`, timeout and sleep.

mod common;

use common::{run_c, run_script, tempdir, SCRIPT};

#[test]
fn wait_gives_a_jobs_status_and_kill_gives_a_signal_status() {
    let dir = tempdir();
    let r = run_script(
        dir.path(),
        "job:q = `sh -c \"exit 7\"` &;\nprint(wait(q));\n\
         job:j = `sleep 30` &;\nkill(j);\nprint(\"term\", wait(j));\n\
         job:k = `sleep 30` &;\nkill(k, \"INT\");\nprint(\"int\", wait(k));\n",
    );
    assert_eq!(r.status, 0, "{r:#?}");
    assert_eq!(r.stdout, "7\nterm 143\nint 130\n");
}

#[test]
fn wait_any_returns_the_job_that_finished_first() {
    let dir = tempdir();
    let r = run_script(
        dir.path(),
        "job:slow = `sleep 30` &;\njob:fast = `sh -c \"exit 4\"` &;\n\
         job:first = wait_any([slow, fast]);\nprint(wait(first));\nprint(len(jobs()));\n\
         kill(slow);\nwait(slow);\nprint(len(jobs()));\n",
    );
    assert_eq!(r.status, 0, "{r:#?}");
    assert_eq!(r.stdout, "4\n1\n0\n");
}

#[test]
fn jobs_lists_the_running_ones() {
    let dir = tempdir();
    let r = run_script(
        dir.path(),
        "print(len(jobs()));\njob:a = `sleep 30` &;\njob:b = `sleep 30` &;\nprint(len(jobs()));\n\
         for (j in jobs()) { kill(j); }\nprint(wait(a), wait(b), len(jobs()));\n",
    );
    assert_eq!(r.status, 0, "{r:#?}");
    assert_eq!(r.stdout, "0\n2\n143 143 0\n");
}

#[test]
fn bare_wait_reports_each_failed_job_when_several_failed() {
    let dir = tempdir();
    let r = run_script(
        dir.path(),
        "`sh -c \"exit 2\"` &;\n`sh -c \"exit 5\"` &;\n`true` &;\nwait;\nprint(\"status\", status());\n\
         `true` &;\nwait;\nprint(\"status\", status());\n",
    );
    assert_eq!(r.status, 0, "{r:#?}");
    assert_eq!(r.stdout, "status 5\nstatus 0\n");
    assert_eq!(
        r.stderr,
        format!(
            "ariash: {SCRIPT}:1:1: job %1 failed with status 2: `sh -c \"exit 2\"`\n\
             ariash: {SCRIPT}:2:1: job %2 failed with status 5: `sh -c \"exit 5\"`\n"
        )
    );
}

#[test]
fn bare_wait_with_one_failed_job_prints_no_job_line() {
    let dir = tempdir();
    let r = run_c(dir.path(), "`sh -c \"exit 2\"` &; `true` &; wait; print(status());");
    assert_eq!(r.status, 2, "{r:#?}");
    assert_eq!(r.stdout, "2\n");
    assert_eq!(r.stderr, "");
}

#[test]
fn wait_question_mark_stops_the_script_on_failure() {
    let dir = tempdir();
    let r = run_script(dir.path(), "`sh -c \"exit 6\"` &;\nwait?;\nprint(\"not reached\");\n");
    assert_eq!(r.status, 6, "{r:#?}");
    assert_eq!(r.stdout, "");
    assert!(r.stderr.contains("failed with status 6"), "{}", r.stderr);
}

#[test]
fn timeout_stops_a_pipeline_with_status_124() {
    let dir = tempdir();
    let r = run_script(
        dir.path(),
        "timeout(200ms, `sleep 30`);\nprint(\"timeout\", status());\n\
         timeout(30s, `sh -c \"exit 3\"`);\nprint(\"in time\", status());\n",
    );
    assert_eq!(r.stdout, "timeout 124\nin time 3\n", "{r:#?}");
    assert_eq!(r.status, 3, "{r:#?}");
}

#[test]
fn timeout_kills_a_program_that_ignores_sigterm() {
    let dir = tempdir();
    let r = run_script(
        dir.path(),
        "timeout(200ms, `sh -c {\"trap '' TERM; sleep 30 & wait; sleep 30\"}`);\nprint(status());\n",
    );
    assert_eq!(r.stdout, "124\n", "{r:#?}");
}

#[test]
fn sleep_and_now() {
    let dir = tempdir();
    let r = run_c(dir.path(), "int:a = now(); sleep(20ms); int:b = now(); print(b >= a, a > 1600000000000);");
    assert_eq!(r.status, 0, "{r:#?}");
    assert_eq!(r.stdout, "true true\n");
}

#[test]
fn timeout_covers_a_whole_pipeline() {
    let dir = tempdir();
    let r = run_c(dir.path(), "timeout(200ms, `yes` | `cat` > \"/dev/null\"); print(status());");
    assert_eq!(r.stdout, "124\n", "{r:#?}");
    assert_eq!(r.status, 124, "{r:#?}");
}

#[test]
fn a_timed_out_pipeline_under_question_mark_is_caught() {
    let dir = tempdir();
    let r = run_c(dir.path(), "try { timeout(200ms, `sleep 30`)?; } catch (string:e) { print(e); }");
    assert_eq!(r.stdout, "pipeline failed with status 124\n", "{r:#?}");
}
