//! The language's values: command literals, f/raw/multi-line strings, maps, slices,
//! durations and the text builtins.

mod common;

use common::{read, run_script, tempdir};

fn stdout_of(text: &str) -> String {
    let dir = tempdir();
    let r = run_script(dir.path(), text);
    assert_eq!(r.status, 0, "{r:#?}");
    assert_eq!(r.stderr, "", "{r:#?}");
    r.stdout
}

#[test]
fn command_literal_pieces_stay_one_argument_and_lists_splice() {
    let out = stdout_of(
        "string:dir = \"a b\";\n[string]:xs = [\"x y\", \"z\"];\n[string]:none = [];\n\
         `printf [%s] {dir} {...xs} {...none} 'q r' \"s t\" pre{dir}post`;\nprint();\n",
    );
    assert_eq!(out, "[a b][x y][z][q r][s t][prea bpost]\n");
}

#[test]
fn an_empty_splice_adds_no_argument() {
    let out = stdout_of("[string]:none = [];\n`sh -c {\"echo $#\"} zero {...none}`;\n");
    assert_eq!(out, "0\n");
}

#[test]
fn command_literals_compose_with_pipes_and_redirections() {
    let dir = tempdir();
    let r = run_script(
        dir.path(),
        "`echo hello` | `tr a-z A-Z` > \"out.txt\";\n`printf 'x\\ny\\n'` | `sort -r`;\n\
         print(capture(`echo {\"cap tured\"}`));\n",
    );
    assert_eq!(r.status, 0, "{r:#?}");
    assert_eq!(read(dir.path(), "out.txt"), "HELLO\n");
    assert_eq!(r.stdout, "y\nx\ncap tured\n");
}

#[test]
fn f_strings_interpolate_and_double_braces_are_literal() {
    assert_eq!(
        stdout_of("int:n = 3;\nstring:w = \"x\";\nprint(f\"n={n} {{literal}} {w + w}-{n * 2}\");"),
        "n=3 {literal} xx-6\n"
    );
}

#[test]
fn raw_strings_keep_backslashes() {
    assert_eq!(stdout_of("print(r\"\\d+\\n\", len(r\"\\t\"));"), "\\d+\\n 2\n");
}

#[test]
fn triple_quoted_strings_are_dedented() {
    let out = stdout_of(
        "string:m = \"\"\"\n    line one\n      indented\n    end\n    \"\"\";\nprint(m);\n\
         string:t = \"\"\"\n    a\n    b\n    \"\"\";\nprint(t == \"a\\nb\");\n",
    );
    assert_eq!(out, "line one\n  indented\nend\ntrue\n");
}

#[test]
fn maps_keep_insertion_order_and_update_in_place() {
    let out = stdout_of(
        "[string:int]:m = [\"a\": 1, \"b\": 2];\nm[\"k\"] = 2;\nm[\"k\"] += 1;\nm[\"a\"] = 9;\n\
         print(keys(m), values(m), has(m, \"k\"), has(m, \"zz\"), len(m));\n\
         for (k in m) { print(k, m[k]); }\n[string:int]:e = [:];\nprint(len(e));\n",
    );
    assert_eq!(out, "a b k 9 2 3 true false 3\na 9\nb 2\nk 3\n0\n");
}

#[test]
fn slices_of_strings_and_lists_take_negative_indices_from_the_end() {
    assert_eq!(
        stdout_of(
            "string:s = \"abcdef\";\nprint(s[1:3], s[-2:], s[:2], s[-3:-1]);\n\
             [int]:ns = [1, 2, 3, 4, 5];\nprint(ns[1:3], \"|\", ns[-2:], \"|\", len(ns[:0]));"
        ),
        "bc ef ab de\n2 3 | 4 5 | 0\n"
    );
}

#[test]
fn durations_print_compare_and_convert() {
    assert_eq!(
        stdout_of(
            "duration:d = 500ms;\nprint(d, 2s, 1m, 1h, d + 2s, 2s > d);\n\
             duration:e = 2s;\nprint(e / 1ms, e * 2, 250ms * 4, 90s, 1500ms);"
        ),
        "500ms 2s 1m 1h 2.5s true\n2000 4s 1s 1m30s 1.5s\n"
    );
}

#[test]
fn string_builtins() {
    let out = stdout_of(
        "print(split(\"a,b,,c\", \",\"), len(split(\"a,b,,c\", \",\")), lines(\"x\\ny\\n\"), len(lines(\"x\\ny\\n\")));\n\
         print(join([\"a\", \"b\"], \"-\"), \"[\" + trim(\"  t \\n\") + \"]\", replace(\"aXbX\", \"X\", \"y\"), \
         contains(\"abc\", \"bc\"), contains([\"a\"], \"b\"));\n\
         print(starts_with(\"abc\", \"ab\"), ends_with(\"abc\", \"b\"), find(\"abc\", \"c\"), find(\"abc\", \"z\"), \
         upper(\"aB\"), lower(\"aB\"));\n\
         print(\"[\" + pad_left(\"7\", 3) + \"]\", \"[\" + pad_right(7, 3, \"*\") + \"]\", pad_left(5, 3, \"0\"), \
         format(\"{}-{}\", \"a\", 3));\n\
         print(sort([3, 1, 2]), sort([\"b\", \"a\"]), reverse([1, 2, 3]), reverse(\"abc\"), len(\"h\u{e9}llo\"), \
         str(5) + \"x\", int(\"-42\") + 1);\n",
    );
    assert_eq!(
        out,
        "a b  c 4 x y 2\na-b [t] ayby true false\ntrue false 2 -1 AB ab\n[  7] [7**] 005 a-3\n\
         1 2 3 a b 3 2 1 cba 5 5x -41\n"
    );
}

#[test]
fn eprint_writes_to_stderr_only() {
    let dir = tempdir();
    let r = run_script(dir.path(), "eprint(\"to err\", 1);\nprint(\"out\");\n");
    assert_eq!(r.status, 0, "{r:#?}");
    assert_eq!(r.stdout, "out\n");
    assert_eq!(r.stderr, "to err 1\n");
}

#[test]
fn command_literal_quoting_escapes_and_single_quoted_braces() {
    let out = stdout_of("`printf \"<%s>\" a\\ b \"c\\\"d\" '{x}' \"{1+1}\"`;\nprint();\n");
    assert_eq!(out, "<a b><c\"d><{x}><2>\n");
}

#[test]
fn maps_with_int_keys_and_list_values_print_as_key_value_pairs() {
    assert_eq!(
        stdout_of(
            "[int:string]:m = [2: \"b\", 1: \"a\"];\nprint(m, keys(m));\n\
             [string:[int]]:mm = [\"x\": [1, 2]];\nprint(mm[\"x\"][1], has([\"a\": 1], \"a\"), len([:]));\n"
        ),
        "2=b 1=a 2 1\n2 true 0\n"
    );
}

#[test]
fn slices_and_reverse_count_characters_not_bytes() {
    assert_eq!(
        stdout_of("string:s = \"h\u{e9}llo\";\nprint(s[1:3], reverse(s), upper(s));"),
        "\u{e9}l oll\u{e9}h H\u{c9}LLO\n"
    );
}

#[test]
fn a_while_loop_mixing_plain_statements_and_pipelines_keeps_every_update() {
    // The body switches between the synchronous path (assignments) and the async one
    // (`if`, `run`) in the middle of iterations, over more than one yield interval.
    let out = stdout_of(
        "int:i = 0; int:n = 0; string:s = \"\";\n\
         while (i < 300) {\n  i = i + 1;\n  if (i % 2 == 0) { continue; }\n  run(\"true\");\n\
           n = n + 1;\n  s = s + \"x\";\n  if (i > 250) { break; }\n}\nprint(i, n, len(s));\n",
    );
    assert_eq!(out, "251 126 126\n");
}

#[test]
fn integer_comparisons_and_overflow_in_a_loop_condition() {
    let dir = tempdir();
    let r = run_script(
        dir.path(),
        "int:i = 9223372036854775806; int:k = 0;\nwhile (i + 1 > 0) { i = i + 1; k = k + 1; }\nprint(k);\n",
    );
    assert_eq!(r.status, 1, "{r:#?}");
    assert!(r.stderr.contains("integer overflow"), "{r:#?}");
}
