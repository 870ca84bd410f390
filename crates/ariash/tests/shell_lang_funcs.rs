//! Functions: definitions, calls, recursion, void functions, and parallel(...) over them.

mod common;

use common::{read, run_script, tempdir};

fn stdout_of(text: &str) -> String {
    let dir = tempdir();
    let r = run_script(dir.path(), text);
    assert_eq!(r.status, 0, "{r:#?}");
    r.stdout
}

#[test]
fn functions_return_values_and_recurse() {
    assert_eq!(
        stdout_of(
            "func:add = int(int:a, int:b) { return a + b; }\n\
             func:fact = int(int:n) { if (n <= 1) { return 1; } return n * fact(n - 1); }\n\
             print(add(2, 3), fact(10));\n"
        ),
        "5 3628800\n"
    );
}

#[test]
fn void_functions_take_lists_and_may_return_early() {
    assert_eq!(
        stdout_of(
            "func:greet = void(string:who, [string]:xs) {\n  if (len(xs) == 0) { print(\"none\"); return; }\n  \
             print(\"hi\", who, len(xs));\n}\ngreet(\"bob\", [\"a\", \"b\"]);\n[string]:e = [];\ngreet(\"x\", e);\n"
        ),
        "hi bob 2\nnone\n"
    );
}

#[test]
fn functions_may_be_called_before_their_definition_and_call_each_other() {
    assert_eq!(
        stdout_of(
            "print(even(10), even(7));\n\
             func:even = bool(int:n) { if (n == 0) { return true; } return odd(n - 1); }\n\
             func:odd = bool(int:n) { if (n == 0) { return false; } return even(n - 1); }\n"
        ),
        "true false\n"
    );
}

#[test]
fn parameters_are_copies() {
    assert_eq!(
        stdout_of(
            "func:f = int([int]:xs) { xs = xs + [9]; return len(xs); }\n\
             [int]:v = [1];\nprint(f(v), len(v));\n"
        ),
        "2 1\n"
    );
}

#[test]
fn parallel_returns_results_in_input_order() {
    assert_eq!(
        stdout_of("func:sq = int(int:n) { return n * n; }\nprint(parallel([5, 4, 3, 2, 1], 2, sq));\n"),
        "25 16 9 4 1\n"
    );
}

#[test]
fn parallel_with_a_void_function_runs_each_item() {
    let dir = tempdir();
    let r = run_script(
        dir.path(),
        "func:mark = void(string:s) { write_file(s + \".done\", s); }\nparallel([\"a\", \"b\", \"c\"], 3, mark);\n\
         print(glob(\"*.done\"));\n",
    );
    assert_eq!(r.status, 0, "{r:#?}");
    assert_eq!(r.stdout, "a.done b.done c.done\n");
}

#[test]
fn parallel_runs_at_most_n_at_once() {
    // Each call records itself as running in a marker file, counts the markers present,
    // then waits for a sibling to start (bounded) before removing its marker. With a limit
    // of 2, no call can ever see 3 markers; without the limit the first three would.
    let dir = tempdir();
    let r = run_script(
        dir.path(),
        "func:work = int(string:s) {\n\
           write_file(\"run.\" + s, s);\n\
           int:seen = len(glob(\"run.*\"));\n\
           `sh -c {\"i=0; while [ $i -lt 20 ] && [ $(ls run.* 2>/dev/null | wc -l) -lt 2 ]; do sleep 0.05; i=$((i+1)); done\"}`;\n\
           remove_file(\"run.\" + s);\n\
           append_file(\"seen\", str(seen) + \"\\n\");\n\
           return seen;\n\
         }\n\
         [int]:r = parallel([\"a\", \"b\", \"c\", \"d\", \"e\", \"f\"], 2, work);\n\
         print(len(r));\n",
    );
    assert_eq!(r.status, 0, "{r:#?}");
    assert_eq!(r.stdout, "6\n");
    let seen: Vec<i64> = read(dir.path(), "seen").lines().map(|l| l.parse().unwrap()).collect();
    assert_eq!(seen.len(), 6);
    assert!(seen.iter().all(|&n| (1..=2).contains(&n)), "{seen:?}");
}

#[test]
fn an_error_thrown_inside_parallel_reaches_the_callers_catch() {
    assert_eq!(
        stdout_of(
            "func:f = int(int:n) { if (n == 2) { throw(\"bad \" + str(n)); } return n; }\n\
             try { print(parallel([1, 2, 3], 2, f)); } catch (string:e) { print(\"caught\", e); }\n"
        ),
        "caught bad 2\n"
    );
}

#[test]
fn return_from_inside_a_stream_loop_ends_the_stream() {
    assert_eq!(
        stdout_of(
            "func:first = string() { for (l in stream(`yes`)) { return l; } return \"none\"; }\n\
             print(first(), first());\nfor (l in stream(`seq 3`)) { if (l == \"2\") { continue; } print(l); }\n"
        ),
        "y y\n1\n3\n"
    );
}

#[test]
fn a_function_may_return_a_job() {
    assert_eq!(
        stdout_of(
            "func:start = job() { return `sleep 30` &; }\njob:j = start();\nprint(len(jobs()));\nkill(j);\nprint(wait(j));\n"
        ),
        "1\n143\n"
    );
}

#[test]
fn each_variable_reference_finds_its_own_variable_through_shadowing_recursion_and_catch() {
    // The interpreter remembers where each reference found its variable (interp "Variables");
    // these shapes visit the same references from different depths and scopes.
    let out = stdout_of(
        "int:x = 1; int:total = 0;\n\
         func:depth = int(int:n) { int:x = n * 10; if (n == 0) { return x; } return x + depth(n - 1); }\n\
         func:global = int() { return x + total; }\n\
         func:boom = int(int:n) { int:y = n; [int]:xs = [1]; return xs[y]; }\n\
         int:i = 0;\n\
         while (i < 3) {\n\
           int:x = i + 100;\n\
           { int:x = i + 200; total = total + x; }\n\
           total = total + x;\n\
           for (v in [1, 2]) { int:x = v; total = total + x; }\n\
           try { total = total + boom(5); } catch (string:e) { int:x = 7; total = total + x; }\n\
           i = i + 1;\n\
         }\n\
         print(x, total, depth(3), global());\n",
    );
    // Per iteration: (i+200) + (i+100) + 1 + 2 + 7 = 2i + 310; over i = 0..2: 936.
    assert_eq!(out, "1 936 60 937\n");
}
