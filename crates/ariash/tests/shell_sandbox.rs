//! The fuzzing sandbox (`ariash::run_sandboxed`, used by the `run_stubbed` fuzz target):
//! nothing is spawned or touched outside, and every script stops.

use ariash::Source;

/// Compiles `text` on this thread and runs it in the sandbox with `fuel`.
fn sandboxed(text: &str, fuel: u64) -> i32 {
    let source = Source::new("sandbox.ash", text);
    let script = ariash::compile(&source).unwrap_or_else(|d| panic!("{}", ariash::diag::render(&d, &source)));
    // The test thread's stack is small; the script stack holds any accepted script.
    ariash::stack::on_script_stack(|| ariash::run_sandboxed(&source, &script, fuel))
        .expect("script thread")
        .expect("runtime")
}

#[test]
fn an_endless_loop_runs_out_of_fuel() {
    assert_eq!(sandboxed("while (true) {}", 1_000), 1);
    assert_eq!(sandboxed("int:i = 0; while (true) { i += 1; }", 1_000), 1);
    assert_eq!(sandboxed("int:i = 0; while (i < 10) { i += 1; } exit(i);", 1_000), 10);
}

#[test]
fn pipelines_are_not_spawned_and_succeed_unless_the_program_is_false() {
    let dir = tempfile::tempdir().expect("temp dir");
    let marker = dir.path().join("spawned");
    let marker = marker.to_str().expect("UTF-8 temp path");
    let text = format!(
        "run(\"touch\", [\"{marker}\"]); run(\"sh\", [\"-c\", \"touch {marker}\"]) &; wait?; \
         run(\"true\") > \"{marker}\"; if (!run(\"false\")) {{ exit(status() + 40); }}"
    );
    assert_eq!(sandboxed(&text, 1_000), 41);
    assert!(!std::path::Path::new(marker).exists(), "the sandbox spawned or redirected");
    assert_eq!(sandboxed("run(\"false\")?; exit(3);", 1_000), 1);
    assert_eq!(sandboxed("run(\"false\") &; wait?; exit(3);", 1_000), 1);
    assert_eq!(sandboxed("run(\"false\") &; wait; exit(status() + 5);", 1_000), 6);
}

#[test]
fn captured_output_is_empty_and_the_outside_world_is_not_seen() {
    let text = "string:s = capture(run(\"echo\", [\"x\"])); cd(\"/nonexistent\"); \
                if (s == \"\" && !exists(\"/\") && env(\"PATH\") == \"\") { exit(7); }";
    assert_eq!(sandboxed(text, 1_000), 7);
    assert_eq!(sandboxed("setenv(\"K\", \"v\"); if (env(\"K\") == \"v\") { exit(8); }", 1_000), 8);
}

#[test]
fn doubling_a_string_stops_at_the_sandbox_limit() {
    assert_eq!(sandboxed("string:s = \"ab\"; while (true) { s = s + s; }", 1_000_000), 1);
    assert_eq!(sandboxed("[int]:xs = [1]; while (true) { xs += xs; }", 1_000_000), 1);
}

#[test]
fn f_strings_and_conversions_to_text_stop_at_the_sandbox_limit() {
    // Doubling through an f-string: 2^18 bytes after 17 rounds, past the limit.
    let doubling = "string:s = \"ab\"; int:i = 0; while (i < 17) { s = f\"{s}{s}\"; i += 1; } exit(7);";
    assert_eq!(sandboxed(doubling, 1_000_000), 1);
    // Two strings of 60,000 bytes, each within the limit, converted to one text.
    let two = "[string]:xs = [pad_left(\"\", 60000, \"a\")]; xs = xs + xs;";
    for convert in [
        "string:t = join(xs, \"\");",
        "string:t = str(xs);",
        "string:t = f\"{xs}\";",
        "string:t = format(\"{}\", xs);",
        "print(xs);",
        "`echo {...xs}`;",
        "run(\"echo\", xs);",
    ] {
        assert_eq!(sandboxed(&format!("{two} {convert} exit(7);"), 1_000), 1, "{convert}");
        assert_eq!(sandboxed(&format!("{two} xs = [xs[0]]; {convert} exit(7);"), 1_000), 7, "{convert}");
    }
}

#[test]
fn replace_is_refused_before_it_makes_a_text_past_the_sandbox_limit() {
    // 60,000 matches, each replaced by 60,000 bytes: 3.6 GB if made.
    let text = "string:s = pad_left(\"\", 60000, \"a\"); string:t = replace(s, \"a\", s); exit(7);";
    let started = std::time::Instant::now();
    assert_eq!(sandboxed(text, 1_000), 1);
    assert!(started.elapsed() < std::time::Duration::from_secs(1), "{:?}", started.elapsed());
    assert_eq!(sandboxed("string:s = replace(\"abc\", \"b\", \"xyz\"); exit(len(s));", 1_000), 5);
}

#[test]
fn doubling_a_list_element_or_map_value_stops_at_the_sandbox_limit() {
    let map = "[string:string]:m = [\"a\": \"ab\"]; int:i = 0; while (i < 17) { m[\"a\"] += m[\"a\"]; i += 1; } exit(7);";
    assert_eq!(sandboxed(map, 1_000_000), 1);
    let list = "[string]:xs = [\"ab\"]; int:i = 0; while (i < 17) { xs[0] += xs[0]; i += 1; } exit(7);";
    assert_eq!(sandboxed(list, 1_000_000), 1);
    let nested = "[[int]]:xs = [[1]]; int:i = 0; while (i < 17) { xs[0] = xs[0] + xs[0]; i += 1; } exit(7);";
    assert_eq!(sandboxed(nested, 1_000_000), 1);
    assert_eq!(sandboxed("[string:string]:m = [:]; m[\"k\"] += \"v\"; exit(len(m[\"k\"]) + 6);", 1_000), 7);
}

#[test]
fn every_parallel_call_costs_fuel() {
    // A parallel over 65,536 items that recurses: each level used to copy the interpreter
    // 65,536 times before any call spent fuel (minutes and gigabytes).
    let text = "[int]:xs = [1, 1, 1, 1, 1, 1, 1, 1]; int:i = 0; while (i < 13) { xs += xs; i += 1; } \
                func:f = int(int:n) { return len(parallel(xs, 100000, f)); } exit(f(1));";
    let started = std::time::Instant::now();
    assert_eq!(sandboxed(text, 5_000), 1);
    assert!(started.elapsed() < std::time::Duration::from_secs(10), "{:?}", started.elapsed());
    let squares = "func:sq = int(int:n) { return n * n; } [int]:r = parallel([1, 2, 3], 2, sq); exit(r[2]);";
    assert_eq!(sandboxed(squares, 1_000), 9);
    assert_eq!(sandboxed(squares, 5), 1);
}
