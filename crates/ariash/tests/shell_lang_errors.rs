//! Checker errors of the new constructs and runtime errors, caught by try/catch or not.

mod common;

use common::{run_c, run_script, tempdir, SCRIPT};

/// Runs a script that must fail the check: status 2, and the stderr without colours.
fn check_error(text: &str) -> String {
    let dir = tempdir();
    std::fs::write(dir.path().join(SCRIPT), text).unwrap();
    let child = common::ariash(dir.path()).env("NO_COLOR", "1").arg(SCRIPT).spawn().unwrap();
    let r = common::finish(child);
    assert_eq!(r.status, 2, "{r:#?}");
    assert_eq!(r.stdout, "", "{r:#?}");
    r.stderr
}

/// The `x file:line:col: message` lines of a diagnostic listing.
fn headlines(stderr: &str) -> Vec<String> {
    stderr.lines().filter_map(|l| l.trim_start().strip_prefix("x ")).map(str::to_string).collect()
}

#[test]
fn wrong_argument_count_for_a_user_function() {
    let e = check_error("func:f = int(int:a) { return a; }\nprint(f(1, 2));\n");
    assert_eq!(headlines(&e), [format!("{SCRIPT}:2:7: `f` takes 1 argument but 2 were given")]);
    assert!(e.contains("usage: f is func(int) -> int"), "{e}");
}

#[test]
fn wrong_argument_type_for_a_user_function() {
    let e = check_error("func:f = int(int:a) { return a; }\nprint(f(\"x\"));\n");
    assert_eq!(headlines(&e), [format!("{SCRIPT}:2:9: argument 1 of `f` (a) must be int, found string")]);
}

#[test]
fn a_function_that_can_end_without_returning() {
    let e = check_error("func:f = int(int:a) { if (a > 0) { return a; } }\n");
    assert_eq!(headlines(&e), [format!("{SCRIPT}:1:48: function `f` can end without returning int")]);
}

#[test]
fn returning_the_wrong_thing() {
    let e = check_error("func:f = void() { return 1; }\n");
    assert_eq!(headlines(&e), [format!("{SCRIPT}:1:26: a void function cannot return a value")]);
    let e = check_error("func:f = int() { return; }\n");
    assert_eq!(headlines(&e), [format!("{SCRIPT}:1:18: this function returns int; `return;` gives nothing")]);
    let e = check_error("func:f = int() { return \"s\"; }\n");
    assert_eq!(headlines(&e), [format!("{SCRIPT}:1:25: the function returns int but the value is string")]);
}

#[test]
fn a_function_defined_twice() {
    let e = check_error("func:f = void() { }\nfunc:f = void() { }\n");
    assert_eq!(headlines(&e), [format!("{SCRIPT}:2:6: function `f` is defined twice")]);
}

#[test]
fn a_function_named_like_a_builtin() {
    let e = check_error("func:len = int() { return 1; }\n");
    assert_eq!(headlines(&e), [format!("{SCRIPT}:1:6: `len` is a builtin function")]);
}

#[test]
fn fn_gets_a_hint_at_the_func_syntax() {
    let e = check_error("fn f() { }\n");
    assert_eq!(headlines(&e), [format!("{SCRIPT}:1:1: `fn` does not define a function in ariash")]);
    assert!(
        e.contains("functions are written func:name = int(string:a, [string]:xs) { ... return n; }"),
        "{e}"
    );
}

#[test]
fn return_outside_a_function() {
    let e = check_error("return 1;\n");
    assert_eq!(headlines(&e), [format!("{SCRIPT}:1:1: `return` outside of a function")]);
}

#[test]
fn a_function_inside_a_block() {
    let e = check_error("if (true) { func:g = void() { } }\n");
    assert_eq!(headlines(&e), [format!("{SCRIPT}:1:13: functions are defined at the top level of a script")]);
}

#[test]
fn an_unknown_function_is_one_error_wherever_it_is_used() {
    for (text, col) in [
        ("frob(1, 2);\nprint(\"x\");\n", 1),
        ("int:n = frob(1) + 2;\n", 9),
        ("string:s = str(frob(2));\n", 16),
        ("[string]:xs = split(frob(3), \",\");\n", 21),
        ("print(len(frob(5)));\n", 11),
        ("for (x in frob(6)) { print(x + 1); }\n", 11),
        ("if (frob(7)) { }\n", 5),
    ] {
        let e = check_error(text);
        assert_eq!(headlines(&e), [format!("{SCRIPT}:1:{col}: unknown function `frob`")], "{text}");
    }
}

fn runtime_error(text: &str) -> String {
    let dir = tempdir();
    std::fs::write(dir.path().join(SCRIPT), text).unwrap();
    let child = common::ariash(dir.path()).env("NO_COLOR", "1").arg(SCRIPT).spawn().unwrap();
    let r = common::finish(child);
    assert_eq!(r.status, 1, "{r:#?}");
    r.stderr
}

#[test]
fn uncaught_runtime_errors_stop_with_status_1_and_a_position() {
    for (text, want) in [
        ("print(\"a\");\nprint(int(\"4x2\"));\n", "2:11: `4x2` is not an integer"),
        ("[int]:xs = [1];\nprint(xs[3]);\n", "2:10: index 3 is out of range for length 1"),
        ("[string:int]:m = [\"a\": 1];\nprint(m[\"b\"]);\n", "2:9: no key `b` in the map"),
        ("\nprint(read_file(\"nope.txt\"));\n", "2:7: cannot read `nope.txt`: no such file or directory"),
        ("\n\n  throw(\"boom\");\n", "3:3: boom"),
        (
            "func:f = int(int:n) { if (n == 0) { throw(\"deep\"); } return f(n - 1); }\nprint(f(2));\n",
            "1:37: deep",
        ),
    ] {
        let e = runtime_error(text);
        assert!(e.contains(&format!("{SCRIPT}:{want}")), "{text}\n{e}");
    }
}

#[test]
fn the_rest_of_the_script_does_not_run_after_an_uncaught_error() {
    let dir = tempdir();
    let r = run_script(dir.path(), "print(\"before\");\nprint(int(\"x\"));\nprint(\"after\");\n");
    assert_eq!(r.status, 1, "{r:#?}");
    assert_eq!(r.stdout, "before\n");
}

#[test]
fn try_catches_runtime_errors_with_their_message() {
    let dir = tempdir();
    let r = run_script(
        dir.path(),
        "try { print(int(\"4x2\")); } catch (string:e) { print(\"caught:\", e); }\n\
         try { [int]:xs = [1]; print(xs[-3]); } catch (string:e) { print(\"caught:\", e); }\n\
         try { [string:int]:m = [\"a\": 1]; print(m[\"b\"]); } catch (string:e) { print(\"caught:\", e); }\n\
         try { print(read_file(\"nope.txt\")); } catch (string:e) { print(\"caught:\", e); }\n\
         try { `no-such-prog-x`; print(\"not here\"); } catch (string:e) { print(\"caught:\", e); }\n\
         try { `false`?; print(\"not here\"); } catch (string:e) { print(\"caught:\", e); }\n\
         try { throw(\"my msg\"); } catch (string:e) { print(\"caught:\", e); }\n\
         func:f = int(int:n) { if (n == 0) { throw(\"deep\"); } return f(n - 1); }\n\
         try { print(f(3)); } catch (string:e) { print(\"caught:\", e); }\n\
         try { print(\"ok\"); } catch (string:e) { print(\"never\"); }\n\
         `true`;\nprint(\"end\");\n",
    );
    assert_eq!(r.status, 0, "{r:#?}");
    assert_eq!(
        r.stdout,
        "caught: `4x2` is not an integer\ncaught: index -3 is out of range for length 1\n\
         caught: no key `b` in the map\ncaught: cannot read `nope.txt`: no such file or directory\n\
         caught: failed to spawn `no-such-prog-x`: program not found in PATH\n\
         caught: pipeline failed with status 1\ncaught: my msg\ncaught: deep\nok\nend\n"
    );
}

#[test]
fn a_caught_error_leaves_the_variables_of_the_script_usable() {
    let dir = tempdir();
    let r = run_c(
        dir.path(),
        "int:n = 1; try { n = 2; n = int(\"z\"); n = 3; } catch (string:e) { n += 10; } print(n);",
    );
    assert_eq!(r.status, 0, "{r:#?}");
    assert_eq!(r.stdout, "12\n");
}

#[test]
fn command_literal_syntax_errors() {
    for (text, want) in [
        ("``;\n", "1:1: empty command literal"),
        ("`echo $HOME`;\n", "1:7: `$` in a command literal"),
        ("string:s = \"x\";\n`echo {...s}`;\n", "2:11: `{...}` splices a list, found string"),
    ] {
        let e = check_error(text);
        assert_eq!(headlines(&e), [format!("{SCRIPT}:{want}")], "{text}");
    }
}

#[test]
fn a_void_function_has_no_value() {
    let e = check_error("func:v = void() { }\nint:x = v();\n");
    assert_eq!(headlines(&e), [format!("{SCRIPT}:2:9: `x` is int but the value is nothing")]);
}

#[test]
fn more_runtime_errors_are_caught() {
    let dir = tempdir();
    let r = run_script(
        dir.path(),
        "[job]:js = [];\ntry { job:j = wait_any(js); } catch (string:e) { print(e); }\n\
         try { write_file(\"nodir/x\", \"a\"); } catch (string:e) { print(e); }\n\
         try { remove_file(\"nope\"); } catch (string:e) { print(e); }\n\
         try { print(format(\"{} {}\", 1)); } catch (string:e) { print(e); }\n\
         int:z = 0;\ntry { print(1 / z); } catch (string:e) { print(e); }\n\
         func:f = int(int:n) { return f(n + 1); }\ntry { print(f(0)); } catch (string:e) { print(e); }\n",
    );
    assert_eq!(r.status, 0, "{r:#?}");
    assert_eq!(
        r.stdout,
        "wait_any: the list of jobs is empty\ncannot write `nodir/x`: no such file or directory\n\
         cannot remove `nope`: no such file or directory\nformat: more {} than values\ndivision by zero\n\
         function calls nested too deeply\n"
    );
}
