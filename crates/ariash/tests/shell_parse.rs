//! Parse and type errors: reported with file:line:col, the source line, a caret and a hint;
//! exit status 2; and nothing runs (the script's first statement would create a marker).

mod common;

use common::{run_c, run_script, tempdir, SCRIPT};

/// Runs `body` after a statement that would create the file `ran`, and checks the error is
/// reported at `loc` (LINE:COL in the script, where `body` starts on line 2) with `hint`.
fn rejects(body: &str, loc: &str, hint: &str) {
    let dir = tempdir();
    let text = format!("run(\"touch\", [\"ran\"]);\n{body}\n");
    let r = run_script(dir.path(), &text);
    assert_eq!(r.status, 2, "expected status 2 for {body:?}: {r:#?}");
    let at = format!("{SCRIPT}:{loc}");
    assert!(r.stderr.contains(&at), "no `{at}` in:\n{}", r.stderr);
    assert!(r.stderr.contains('^'), "no caret in:\n{}", r.stderr);
    assert!(r.stderr.contains(hint), "no hint `{hint}` in:\n{}", r.stderr);
    assert!(!dir.path().join("ran").exists(), "the script ran although it has an error");
    assert_eq!(r.stdout, "");
}

#[test]
fn an_unterminated_string_is_reported_at_its_opening_quote() {
    rejects("print(\"abc);", "2:7", "add a closing `\"`");
}

#[test]
fn an_unknown_escape_is_rejected() {
    rejects("print(\"a\\qb\");", "2:9", "valid escapes are");
}

#[test]
fn an_unexpected_token_is_reported() {
    rejects("print(1 +);", "2:10", "an expression is missing here");
    rejects("int:x = = 3;", "2:9", "a value is a literal");
}

#[test]
fn a_missing_semicolon_points_after_the_statement() {
    rejects("int:n = 1\nprint(n);", "2:10", "add `;`");
}

#[test]
fn an_unknown_variable_suggests_a_close_name() {
    rejects("string:name = \"x\";\nprint(nmae);", "3:7", "did you mean `name`?");
}

#[test]
fn an_unknown_variable_without_a_close_name_suggests_declaring_it() {
    rejects("total = 1;", "2:1", "declare it first");
}

#[test]
fn assigning_a_string_to_an_int_is_a_type_error() {
    rejects("int:n = \"three\";", "2:9", "convert with int(...)");
}

#[test]
fn adding_an_int_to_a_string_is_a_type_error() {
    rejects("string:s = \"n=\" + 1;", "2:17", "str(");
}

#[test]
fn comparing_a_bool_with_an_int_is_a_type_error() {
    rejects("bool:b = true == 1;", "2:15", "same type");
}

#[test]
fn redeclaring_in_the_same_scope_is_rejected() {
    rejects("int:n = 1;\nint:n = 2;", "3:5", "already declared");
}

#[test]
fn an_unknown_function_suggests_a_builtin() {
    rejects("prnt(\"x\");", "2:1", "did you mean `print`?");
}

#[test]
fn a_wrong_argument_count_shows_the_usage() {
    rejects("setenv(\"A\");", "2:1", "usage: setenv(name, value)");
    rejects("run();", "2:1", "usage: run(program)");
}

#[test]
fn break_outside_a_loop_is_rejected() {
    rejects("break;", "2:1", "can only be used inside a while or for loop");
}

#[test]
fn continue_outside_a_loop_is_rejected() {
    rejects("if (true) { continue; }", "2:13", "can only be used inside");
}

#[test]
fn a_redirection_fd_above_five_is_rejected() {
    rejects("run(\"true\") 12> \"x\";", "2:13", "fds 0 to 5");
}

#[test]
fn a_redirection_fd_separated_from_its_operator_is_rejected() {
    rejects("run(\"true\") 2 > \"x\";", "2:13", "without a space");
}

#[test]
fn a_dup_redirection_needs_an_fd_number() {
    rejects("run(\"true\") 2>&x;", "2:16", "2>&1");
}

#[test]
fn a_redirection_target_must_be_a_string() {
    rejects("run(\"true\") > 3;", "2:15", "convert with str(...)");
}

#[test]
fn a_condition_must_be_a_bool_or_a_pipeline() {
    rejects("if (1) { }", "2:5", "compare explicitly");
}

#[test]
fn run_arguments_must_be_a_list() {
    rejects("run(\"echo\", \"hi\");", "2:13", "arguments are a list");
}

#[test]
fn an_unclosed_block_points_at_its_brace() {
    rejects("while (true) {", "2:14", "add a matching `}`");
}

#[test]
fn a_dollar_sign_gets_a_hint_about_variables() {
    rejects("print($x);", "2:7", "without `$`");
}

#[test]
fn question_mark_inside_a_pipeline_is_rejected() {
    rejects("run(\"a\")? | run(\"b\");", "2:1", "move the `?`");
}

#[test]
fn only_run_stages_can_be_piped() {
    rejects("print(\"x\") | run(\"cat\");", "2:1", "pipes connect programs");
}

#[test]
fn only_pipelines_can_run_in_the_background() {
    rejects("print(\"x\") &;", "2:1", "run(\"prog\", [args]) &;");
}

#[test]
fn an_expression_without_effect_is_rejected() {
    rejects("1 + 2;", "2:1", "statements are calls");
}

#[test]
fn a_for_loop_needs_a_list() {
    rejects("for (x in 3) { }", "2:11", "loop over a list");
}

#[test]
fn printing_a_pipeline_suggests_capture() {
    rejects("print(run(\"ls\"));", "2:7", "capture(...)");
}

#[test]
fn an_integer_literal_too_large_is_rejected() {
    rejects("int:n = 99999999999999999999;", "2:9", "the largest int");
}

#[test]
fn a_misspelled_type_gets_a_declaration_hint() {
    rejects("str:x = \"a\";", "2:4", "declarations are written TYPE:name");
}

#[test]
fn every_type_error_is_reported_not_just_the_first() {
    let dir = tempdir();
    let r = run_script(dir.path(), "int:a = \"x\";\nstring:b = 1;\nprint(c);\n");
    assert_eq!(r.status, 2);
    for loc in ["1:9", "2:12", "3:7"] {
        assert!(r.stderr.contains(&format!("{SCRIPT}:{loc}")), "missing {loc} in:\n{}", r.stderr);
    }
}

#[test]
fn errors_in_a_dash_c_script_are_located_in_command() {
    let dir = tempdir();
    let r = run_c(dir.path(), "run(\"touch\", [\"ran\"]); int:n = true;");
    assert_eq!(r.status, 2);
    assert!(r.stderr.contains("<command>:1:32"), "{}", r.stderr);
    assert!(!dir.path().join("ran").exists());
}

#[test]
fn the_library_api_parses_and_checks_without_running() {
    let ok = ariash::Source::new("t", "[string]:xs = [\"a\"]; xs = xs + [\"b\"];");
    assert!(ariash::compile(&ok).is_ok());
    let bad = ariash::Source::new("t", "int:n = \"x\";");
    let diags = ariash::compile(&bad).expect_err("type error");
    assert_eq!(diags[0].code, "ariash::check::type_mismatch");
    assert!(diags[0].render(&bad).contains("t:1:9"));
}

#[test]
fn a_long_script_path_is_printed_whole() {
    let dir = tempdir();
    let deep = dir
        .path()
        .join("a-rather-long-directory-name-to-push-the-location-past-any-terminal-width")
        .join("and-another-one-for-good-measure");
    std::fs::create_dir_all(&deep).expect("mkdir");
    let path = deep.join("script.ariash");
    std::fs::write(&path, "int:n = \"x\";\n").expect("write");
    let r = common::finish(common::ariash(dir.path()).arg(&path).spawn().expect("spawn ariash"));
    assert_eq!(r.status, 2);
    let at = format!("{}:1:9", path.display());
    assert!(r.stderr.contains(&at), "no `{at}` in:\n{}", r.stderr);
}
