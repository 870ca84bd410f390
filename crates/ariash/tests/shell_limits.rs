//! Limits on what a script may be: how deeply it nests. Nothing here may abort ariash: a
//! script is accepted by both `--check` and a run, or refused by both with
//! `ariash::parse::too_deep` at FILE:LINE:COL and status 2 before anything runs.
//!
//! For every shape of nesting, the deepest script the library accepts is found (in this test
//! thread, whose stack is small: parsing and checking run on the script stack, and the tree
//! is dropped here), then run by the binary in a debug build, where stack frames are largest;
//! one level more, and a hundred thousand levels, are refused.

mod common;

use ariash::stack::MAX_DEPTH;
use common::{ariash, finish, tempdir, Run, SCRIPT};

/// The first line of every script: it leaves a marker showing whether the script ran.
const MARKER: &str = "run(\"touch\", [\"ran\"]);\n";

/// Whether the library accepts `text` (parse and check).
fn accepts(text: &str) -> bool {
    ariash::compile(&ariash::Source::new(SCRIPT, text)).is_ok()
}

/// The largest `n` for which `make(n)` is accepted.
fn deepest(make: fn(usize) -> String) -> usize {
    assert!(accepts(&make(1)), "the shallowest script is refused:\n{}", make(1));
    assert!(!accepts(&make(2 * MAX_DEPTH + 2)), "no limit");
    let (mut ok, mut refused) = (1, 2 * MAX_DEPTH + 2);
    while refused - ok > 1 {
        let mid = (ok + refused) / 2;
        if accepts(&make(mid)) {
            ok = mid;
        } else {
            refused = mid;
        }
    }
    ok
}

fn ariash_on(text: &str, check: bool) -> (Run, bool) {
    let dir = tempdir();
    std::fs::write(dir.path().join(SCRIPT), format!("{MARKER}{text}")).expect("write script");
    let mut cmd = ariash(dir.path());
    if check {
        cmd.arg("--check");
    }
    let run = finish(cmd.arg(SCRIPT).spawn().expect("spawn ariash"));
    (run, dir.path().join("ran").exists())
}

fn refused(text: &str) {
    for check in [true, false] {
        let (r, ran) = ariash_on(text, check);
        assert_eq!(r.status, 2, "check={check}: {r:#?}");
        assert!(r.stderr.contains("ariash::parse::too_deep"), "{}", r.stderr);
        assert!(r.stderr.contains(&format!("nests more than {MAX_DEPTH} levels")), "{}", r.stderr);
        // Located after the marker line.
        assert!(location_line(&r.stderr).is_some_and(|line| line >= 2), "{}", r.stderr);
        assert!(!ran, "the script ran although it was refused");
    }
}

/// The line of the first `SCRIPT:LINE:COL` in `stderr`.
fn location_line(stderr: &str) -> Option<usize> {
    let (_, rest) = stderr.split_once(&format!("{SCRIPT}:"))?;
    let (line, rest) = rest.split_once(':')?;
    let col: String = rest.chars().take_while(char::is_ascii_digit).collect();
    if col.is_empty() {
        return None;
    }
    line.parse().ok()
}

/// The deepest script of a shape checks and runs with the expected status and output; one
/// level more, and 100,000 levels, are refused.
fn at_and_past_the_limit(make: fn(usize) -> String, expect: fn(usize) -> (Option<i32>, String)) {
    let n = deepest(make);
    // No shape costs more than 4 levels per step.
    assert!(n >= MAX_DEPTH / 5, "only {n} levels accepted");
    let (status, stdout) = expect(n);
    let (r, ran) = ariash_on(&make(n), true);
    assert_eq!((r.status, r.stderr.as_str(), ran), (0, "", false), "--check at {n}: {r:#?}");
    let (r, ran) = ariash_on(&make(n), false);
    assert!(r.status < 128, "killed by a signal at {n} levels: {r:#?}");
    if let Some(status) = status {
        assert_eq!(r.status, status, "at {n} levels: {r:#?}");
        assert_eq!(r.stdout, stdout, "at {n} levels: {r:#?}");
    }
    assert!(ran);
    refused(&make(n + 1));
    refused(&make(100_000));
}

fn ok(stdout: impl Into<String>) -> (Option<i32>, String) {
    (Some(0), stdout.into())
}

macro_rules! nesting {
    ($($name:ident: $make:expr => $expect:expr;)*) => {$(
        #[test]
        fn $name() {
            at_and_past_the_limit($make, $expect);
        }
    )*};
}

nesting! {
    nesting_parentheses: |n| format!("int:x = {}1{};\nprint(x);", "(".repeat(n), ")".repeat(n))
        => |_| ok("1\n");
    nesting_blocks: |n| format!("{}print(1);{}", "{".repeat(n), "}".repeat(n))
        => |_| ok("1\n");
    nesting_if_blocks: |n| format!("{}print(1);{}", "if (true) { ".repeat(n), "}".repeat(n))
        => |_| ok("1\n");
    nesting_while_loops: |n| format!("{}exit(0);{}", "while (true) { ".repeat(n), "}".repeat(n))
        => |_| ok("");
    nesting_for_loops: |n| format!("{}print(x);{}", "for (x in [7]) { ".repeat(n), "}".repeat(n))
        => |_| ok("7\n");
    nesting_else_if_chains: |n| format!("{}{{ print(1); }}", "if (false) {} else ".repeat(n))
        => |_| ok("1\n");
    nesting_not: |n| format!("bool:b = {}true;\nprint(b);", "!".repeat(n))
        => |n| ok(format!("{}\n", n % 2 == 0));
    nesting_negation: |n| format!("int:x = {}1;\nprint(x);", "-".repeat(n))
        => |n| ok(if n % 2 == 0 { "1\n" } else { "-1\n" });
    nesting_list_brackets: |n| format!("print(len({}{}));", "[".repeat(n), "]".repeat(n))
        => |_| ok("1\n");
    nesting_list_types: |n| format!("{}int{}:x;\nprint(len(x));", "[".repeat(n), "]".repeat(n))
        => |_| ok("0\n");
    nesting_plus_chains: |n| format!("int:x = {};\nprint(x);", vec!["1"; n].join(" + "))
        => |n| ok(format!("{n}\n"));
    nesting_right_nested_plus: |n| format!("int:x = {}1{};\nprint(x);", "1 + (".repeat(n), ")".repeat(n))
        => |n| ok(format!("{}\n", n + 1));
    nesting_string_concatenation: |n| format!("string:s = {};\nprint(len(s));", vec!["\"ab\""; n].join(" + "))
        => |n| ok(format!("{}\n", 2 * n));
    nesting_compound_assignment: |n| format!("int:x = 1;\nx += {};\nprint(x);", vec!["1"; n].join(" + "))
        => |n| ok(format!("{}\n", n + 1));
    nesting_and_chains: |n| format!("bool:a = true;\nbool:b = {};\nprint(b);", vec!["a"; n].join(" && "))
        => |_| ok("true\n");
    nesting_or_chains: |n| format!("bool:a = false;\nbool:b = {};\nprint(b);", vec!["a"; n].join(" || "))
        => |_| ok("false\n");
    nesting_comparisons: |n| format!("bool:b = {}true{};\nprint(b);", "(".repeat(n), " == true)".repeat(n))
        => |_| ok("true\n");
    nesting_index_chains: |n| format!("[int]:xs = [0];\nprint({}0{});", "xs[".repeat(n), "]".repeat(n))
        => |_| ok("0\n");
    nesting_calls: |n| format!("print({}1{});", "str(".repeat(n), ")".repeat(n))
        => |_| ok("1\n");
    nesting_calls_in_run_arguments: |n| format!("run(\"echo\", [{}1{}]);", "str(".repeat(n), ")".repeat(n))
        => |_| ok("1\n");
    nesting_captures: |n| format!("print({}\"x\"{});", "capture(run(\"echo\", [".repeat(n), "]))".repeat(n))
        => |_| ok("x\n");
    nesting_pipe_chains: |n| format!("run(\"echo\", [\"p\"]){};", " | run(\"cat\")".repeat(n))
        // Several hundred stages may exceed the open file limit; the status is then 1.
        => |_| (None, String::new());
    nesting_redirection_chains: |n| format!("run(\"echo\", [\"r\"]){};", " > \"/dev/null\"".repeat(n))
        => |_| ok("");
    nesting_redirection_targets: |n| format!("run(\"true\") > {}\"/dev/null\"{};", "(".repeat(n), ")".repeat(n))
        => |_| ok("");
    nesting_not_of_pipelines: |n| format!("{}run(\"true\");", "!".repeat(n))
        => |_| ok("");
    nesting_chains_inside_blocks: |n| format!("{}int:x = {};\nprint(x);{}", "{ ".repeat(100), vec!["1"; n].join(" + "), "}".repeat(100))
        => |n| ok(format!("{n}\n"));
}

#[test]
fn a_script_at_the_limit_compiles_and_drops_on_a_small_stack() {
    let make = |n| format!("int:x = {};\nprint(x);", vec!["1"; n].join(" + "));
    let text = make(deepest(make));
    let handle = std::thread::Builder::new()
        .stack_size(256 << 10)
        .spawn(move || {
            let script = ariash::compile(&ariash::Source::new(SCRIPT, text)).expect("compiles");
            drop(script);
        })
        .expect("spawn thread");
    handle.join().expect("no overflow");
}
