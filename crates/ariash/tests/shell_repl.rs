//! The interactive REPL, driven through a pseudo-terminal.

mod common;

use common::pty::{dirs, p, start};

#[test]
fn the_prompt_appears_and_ctrl_d_on_an_empty_line_exits_with_status_0() {
    let (dir, home) = dirs();
    let pty = start(&dir, &home);
    pty.send("\x04");
    assert_eq!(pty.wait_exit(), 0);
}

#[test]
fn variables_and_functions_persist_across_lines() {
    let (dir, home) = dirs();
    let pty = start(&dir, &home);
    pty.line(&p(&dir), "int:n = 20");
    pty.line(&p(&dir), "func:twice = int(int:x) { return 2 * x; }");
    pty.line(&p(&dir), "int:n = 10"); // a new declaration shadows the earlier one
    pty.line(&p(&dir), "n = n * 2");
    pty.send("print(f\"got {twice(n) + 2}\")\r");
    pty.wait_for("got 42");
    pty.send("exit(0)\r");
    assert_eq!(pty.wait_exit(), 0);
}

#[test]
fn an_error_is_shown_and_the_repl_goes_on() {
    let (dir, home) = dirs();
    let pty = start(&dir, &home);
    pty.line(&p(&dir), "print(nope)");
    pty.wait_for("nope");
    pty.line(&p(&dir), "int:z = int(\"x\")");
    pty.wait_for("[1]> ");
    pty.line(&p(&dir), "print(z)");
    pty.wait_for("unknown variable `z`");
    pty.send("print(\"still here\")\r");
    pty.wait_for("\nstill here\n");
    pty.send("exit(0)\r");
    assert_eq!(pty.wait_exit(), 0);
}

#[test]
fn an_open_brace_continues_the_input_on_the_next_line() {
    let (dir, home) = dirs();
    let pty = start(&dir, &home);
    pty.send("if (true) {\r");
    pty.send("print(\"inside\");\r");
    pty.send("}\r");
    pty.wait_for("\ninside\n");
    pty.send("exit(0)\r");
    assert_eq!(pty.wait_exit(), 0);
}

#[test]
fn history_persists_across_two_sessions_and_up_recalls_it() {
    let (dir, home) = dirs();
    let pty = start(&dir, &home);
    pty.send("print(\"remembered\" + \"!\")\r");
    pty.wait_for("remembered!");
    pty.send("\x04");
    assert_eq!(pty.wait_exit(), 0);
    let history = std::fs::read_to_string(home.path().join("history")).expect("history file");
    assert!(history.contains("\"status\":0") && history.contains("remembered"), "{history}");

    let pty = start(&dir, &home);
    pty.send("\x1b[A");
    pty.wait_for("> print(\"remembered\" + \"!\")");
    pty.send("\r");
    pty.wait_for("remembered!\n");
    pty.send("exit(0)\r");
    assert_eq!(pty.wait_exit(), 0);
}

#[test]
fn tab_completes_a_program_name_and_a_path() {
    let (dir, home) = dirs();
    std::fs::create_dir(dir.path().join("sub")).expect("mkdir");
    std::fs::write(dir.path().join("sub/zebra-file.txt"), "").expect("write");
    let pty = start(&dir, &home);
    pty.send("`printen\t");
    pty.wait_for("`printenv");
    pty.send("\x15"); // Ctrl-U: clear the line
    pty.send("`ls ./sub/zeb\t");
    pty.wait_for("./sub/zebra-file.txt");
    pty.send("`\r");
    pty.wait_for("zebra-file.txt\n");
    pty.send("exit(0)\r");
    assert_eq!(pty.wait_exit(), 0);
}

#[test]
fn a_bare_command_runs_as_a_pipeline_of_command_literals() {
    let (dir, home) = dirs();
    let pty = start(&dir, &home);
    pty.send("echo hi | tr a-z A-Z\r");
    pty.wait_for("HI");
    pty.send("exit(0)\r");
    assert_eq!(pty.wait_exit(), 0);
}

#[test]
fn exit_3_leaves_with_status_3() {
    let (dir, home) = dirs();
    let pty = start(&dir, &home);
    pty.send("exit(3)\r");
    assert_eq!(pty.wait_exit(), 3);
}

#[test]
fn a_script_on_stdin_that_is_not_a_terminal_still_runs() {
    let (dir, _home) = dirs();
    let script = dir.path().join("s.ariash");
    std::fs::write(&script, "print(\"from a file\");").expect("write");
    let file = std::fs::File::open(&script).expect("open");
    let mut cmd = common::ariash(dir.path());
    let r = common::finish(cmd.stdin(file).spawn().expect("spawn"));
    assert_eq!(r.status, 0, "{r:#?}");
    assert_eq!(r.stdout, "from a file\n");
}

#[test]
fn a_failed_checked_pipeline_ends_the_line_not_the_repl() {
    let (dir, home) = dirs();
    let pty = start(&dir, &home);
    pty.line(&p(&dir), "`false`?; print(\"not reached\")");
    pty.wait_for("pipeline failed with status 1");
    pty.wait_for("[1]> ");
    pty.send("print(\"still here\")\r");
    pty.wait_for("\nstill here\n");
    assert!(!pty.contents().contains("\nnot reached"), "{}", pty.contents());
    pty.send("exit(4)\r");
    assert_eq!(pty.wait_exit(), 4);
}

#[test]
fn lines_typed_while_a_line_runs_all_run_after_it() {
    let (dir, home) = dirs();
    let pty = start(&dir, &home);
    pty.send("print(\"wait\" + \"ing\"); while (!exists(\"gate\")) { sleep(20ms); }\r");
    pty.wait_for("\nwaiting");
    // Typed while the loop runs: the terminal holds them until the editor reads again.
    pty.send(
        "print(\"first\" + \" ahead\")\rprint(\"second\" + \" ahead\")\rprint(\"third\" + \" ahead\")\r",
    );
    std::fs::write(dir.path().join("gate"), "").expect("gate");
    pty.wait_for("\nfirst ahead\n");
    pty.wait_for("\nsecond ahead\n");
    pty.wait_for("\nthird ahead\n");
}

#[test]
fn a_partial_line_typed_while_a_line_runs_is_handed_to_the_editor() {
    let (dir, home) = dirs();
    let pty = start(&dir, &home);
    pty.send("print(\"wait\" + \"ing\"); while (!exists(\"gate\")) { sleep(20ms); }\r");
    pty.wait_for("\nwaiting");
    // No Enter yet: the editor gets the text and the line is finished there.
    pty.send("print(\"half\" + \" typed");
    std::fs::write(dir.path().join("gate"), "").expect("gate");
    pty.wait_for("> print(\"half\" + \" typed");
    pty.send(" ahead\")\r");
    pty.wait_for("\nhalf typed ahead\n");
}
