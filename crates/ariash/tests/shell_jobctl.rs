//! Job control in the REPL, driven through a pseudo-terminal that is ariash's controlling
//! terminal (fish's tests/pexpects fg.py, sigint.py, job_summary.py and tty_ownership.py are
//! the model). Every wait is for something the screen shows, never for a time.

mod common;

use common::pty::{dirs, p, start, Pty};

/// A job that prints `tag` in capitals and its pid once it runs (a foreground one then holds
/// the terminal: it is handed over before the program starts), then sleeps. The capitals
/// tell the job's output from the echo of the typed line.
fn announced(tag: &str) -> String {
    format!("run(\"sh\", [\"-c\", \"echo {tag} $$ | tr a-z A-Z; exec sleep 100\"])")
}

/// Waits for the pid a job announced with `tag` (see [`announced`]) and returns it: the
/// whole line, up to its end, so that a pid received in two pieces is not cut.
fn pid_after(pty: &Pty, tag: &str) -> i32 {
    let tag = format!("{} ", tag.to_uppercase());
    let start = std::time::Instant::now();
    loop {
        let text = pty.transcript();
        if let Some(at) = text.find(&tag) {
            let rest = &text[at + tag.len()..];
            let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
            if !digits.is_empty() && rest[digits.len()..].starts_with("\r\n") {
                return digits.parse().expect("pid");
            }
        }
        assert!(start.elapsed() < common::HANG_GUARD, "no {tag:?} line:\n{}", pty.contents());
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

/// Starts a job that announces itself (see [`announced`]) in the foreground, stops it with
/// Ctrl-Z, waits for the prompt that follows (status 148, one job) and returns its pid.
fn stop_a_job(pty: &Pty) -> i32 {
    pty.send(&format!("{}\r", announced("running")));
    let pid = pid_after(pty, "running");
    pty.send("\x1a");
    pty.wait_for("[148] (1 job)> ");
    pid
}

/// The state letter of process `pid` in /proc (`S`, `T` for stopped, `Z` for a zombie), or
/// `None` once it is gone.
fn state(pid: i32) -> Option<String> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    Some(stat.rsplit(')').next()?.split_whitespace().next()?.to_string())
}

/// Whether process `pid` still runs (a zombie has ended).
fn alive(pid: i32) -> bool {
    state(pid).is_some_and(|s| s != "Z")
}

/// Waits until process `pid` is gone (reaped by whoever is its parent).
fn wait_gone(pid: i32) {
    let start = std::time::Instant::now();
    while alive(pid) {
        assert!(start.elapsed() < common::HANG_GUARD, "process {pid} never went away");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

fn kill(pid: i32, signo: i32) {
    // SAFETY: kill takes plain integers.
    unsafe { libc::kill(pid, signo) };
}

#[test]
fn ctrl_z_stops_the_foreground_job_and_jobs_shows_it_stopped() {
    let (dir, home) = dirs();
    let pty = start(&dir, &home);
    let pid = stop_a_job(&pty);
    pty.wait_for("[1]  Stopped (SIGTSTP)");
    pty.line(&p(&dir), "jobs");
    pty.wait_for_count("[1]  Stopped (SIGTSTP)", 2);
    assert!(alive(pid));
    kill(pid, libc::SIGKILL);
}

#[test]
fn fg_continues_the_stopped_job_and_ctrl_c_ends_it_with_status_130() {
    let (dir, home) = dirs();
    let pty = start(&dir, &home);
    pty.send(
        "run(\"sh\", [\"-c\", \"trap 'echo continued | tr a-z A-Z' CONT; echo running | tr a-z A-Z; while :; do sleep 1; done\"])\r",
    );
    pty.wait_for("RUNNING");
    pty.send("\x1a");
    pty.wait_for("(1 job)> ");
    pty.send("fg\r");
    pty.wait_for("CONTINUED");
    pty.send("\x03");
    pty.wait_for("[130]> ");
    pty.line(&p(&dir), "jobs");
    assert!(!pty.contents().contains("[1]  Running"), "{}", pty.contents());
}

#[test]
fn ctrl_c_ends_the_foreground_job_and_leaves_three_background_jobs_running() {
    let (dir, home) = dirs();
    let pty = start(&dir, &home);
    for n in 1..=3 {
        pty.line(&p(&dir), "sleep 100 &");
        pty.wait_for(&format!("[{n}] "));
    }
    pty.send(&format!("{}\r", announced("front")));
    pid_after(&pty, "front");
    pty.send("\x03");
    pty.wait_for("[130] (3 jobs)> ");
    pty.line(&p(&dir), "jobs");
    for n in 1..=3 {
        pty.wait_for(&format!("[{n}]  Running"));
    }
}

#[test]
fn ctrl_c_interrupts_a_loop_running_in_ariash_itself_and_keeps_the_session() {
    let (dir, home) = dirs();
    let pty = start(&dir, &home);
    pty.send("int:i = 0; while (true) { i = i + 1; if (i == 1000) { print(\"loop\" + \"ing\"); } }\r");
    pty.wait_for("\nlooping");
    pty.send("\x03");
    pty.wait_for("[130]> ");
    pty.send("print(f\"i is {i > 999}\")\r");
    pty.wait_for("i is true");
}

#[test]
fn bg_continues_a_stopped_job_in_the_background() {
    let (dir, home) = dirs();
    let pty = start(&dir, &home);
    let pid = stop_a_job(&pty);
    pty.line(&p(&dir), "bg");
    pty.wait_for("[1]  run(\"sh\"");
    pty.line(&p(&dir), "jobs");
    pty.wait_for("[1]  Running");
    // Running means not stopped: the kernel says so too.
    assert_ne!(state(pid).as_deref(), Some("T"));
    kill(pid, libc::SIGKILL);
    pty.wait_for("[1]  Done (status 137)");
}

#[test]
fn the_shells_terminal_modes_come_back_after_a_job_that_changed_them_is_killed() {
    let (dir, home) = dirs();
    let pty = start(&dir, &home);
    pty.send("run(\"sh\", [\"-c\", \"stty -echo -icanon; echo raw $$ | tr a-z A-Z; exec sleep 100\"])\r");
    let pid = pid_after(&pty, "raw");
    kill(pid, libc::SIGKILL);
    pty.wait_for("[137]> ");
    // Prints MODES-BROKEN when echo or canonical input is still off, else MODES-RESTORED (in
    // capitals, unlike the echo of the typed line).
    pty.send(
        "run(\"sh\", [\"-c\", \"if stty -a | tr ' ;' '\\\\n\\\\n' | grep -qx -e -echo -e -icanon; \
         then echo modes-broken; else echo modes-restored; fi | tr a-z A-Z\"])\r",
    );
    pty.wait_for("MODES-");
    assert!(pty.contents().contains("MODES-RESTORED"), "{}", pty.contents());
}

#[test]
fn a_cat_reads_the_terminal_in_the_foreground_and_stops_on_sigttin_in_the_background() {
    let (dir, home) = dirs();
    let pty = start(&dir, &home);
    pty.line(&p(&dir), "cat &");
    pty.wait_for("Stopped (SIGTTIN)");
    pty.send("fg\r");
    pty.wait_for("> fg\ncat");
    pty.send("echoed-by-cat\r");
    pty.wait_for_count("echoed-by-cat", 2);
    pty.keys(&p(&dir), "\x04");
    pty.line(&p(&dir), "jobs");
    assert_eq!(pty.contents().matches("Stopped (SIGTTIN)").count(), 1, "{}", pty.contents());
}

#[test]
fn finished_background_jobs_are_announced_above_the_prompt_even_fifty_at_once() {
    let (dir, home) = dirs();
    let pty = start(&dir, &home);
    pty.line(&p(&dir), "sleep 0 &");
    pty.wait_for("[1]  Done                sleep 0");
    // Fifty jobs that end together, while a line is being edited: the notices go above it
    // and the line is kept.
    pty.send(
        "int:k = 0; while (k < 50) { run(\"sh\", [\"-c\", \"while [ ! -e gate ]; do sleep 0.05; done\"]) &; k = k + 1; }\r",
    );
    pty.wait_for("(50 jobs)> ");
    pty.send("print(\"half");
    pty.wait_for("(50 jobs)> print(\"half");
    std::fs::write(dir.path().join("gate"), "").expect("gate");
    pty.wait_for_count("Done", 51);
    pty.wait_for("> print(\"half");
    pty.send(" a line\")\r");
    pty.wait_for("\nhalf a line\n");
}

#[test]
fn exit_with_stopped_jobs_warns_once_then_leaves_and_hangs_them_up() {
    let (dir, home) = dirs();
    let pty = start(&dir, &home);
    let pid = stop_a_job(&pty);
    pty.send("exit(3)\r");
    pty.wait_for("there are stopped jobs");
    pty.send("exit(3)\r");
    assert_eq!(pty.wait_exit(), 3);
    // SIGHUP then SIGCONT: the stopped job ends.
    wait_gone(pid);
}

#[test]
fn sighup_hangs_up_every_job_but_disowned_ones_and_leaves() {
    let (dir, home) = dirs();
    let pty = start(&dir, &home);
    pty.line(&p(&dir), &format!("{} &", announced("first")));
    let first = pid_after(&pty, "first");
    pty.line(
        &p(&dir),
        "run(\"sh\", [\"-c\", \"trap '' HUP; echo second $$ | tr a-z A-Z; exec sleep 100\"]) &",
    );
    let second = pid_after(&pty, "second");
    pty.line(&p(&dir), &format!("{} &", announced("third")));
    let third = pid_after(&pty, "third");
    pty.line(&p(&dir), "disown %3");
    pty.signal(libc::SIGHUP);
    assert_eq!(pty.wait_exit(), 129);
    wait_gone(first);
    // The second ignores the hang-up; the third was disowned and never got it.
    assert!(alive(second) && alive(third));
    kill(second, libc::SIGKILL);
    kill(third, libc::SIGKILL);
}

#[test]
fn job_numbers_are_reused_once_their_jobs_are_gone() {
    let (dir, home) = dirs();
    let pty = start(&dir, &home);
    pty.line(&p(&dir), "sleep 0 &");
    pty.wait_for("[1]  Done");
    pty.line(&p(&dir), "sleep 100 &");
    pty.line(&p(&dir), "jobs -l");
    pty.wait_for("[1]  Running");
    pty.wait_for(")\n");
    let screen = pty.contents();
    let at = screen.find("(process group ").expect("jobs -l") + "(process group ".len();
    let pgid: i32 =
        screen[at..].chars().take_while(char::is_ascii_digit).collect::<String>().parse().expect("pgid");
    pty.line(&p(&dir), "fg %2");
    pty.wait_for("fg: %2: no such job");
    pty.line(&p(&dir), "disown %1");
    pty.line(&p(&dir), "jobs");
    assert_eq!(pty.contents().matches("Running").count(), 1, "{}", pty.contents());
    // Disowned: nobody else will end it.
    kill(pgid, libc::SIGKILL);
}

#[test]
fn watch_shows_a_pane_per_job_with_its_latest_telemetry_lines() {
    let (dir, home) = dirs();
    let script =
        "i=0; while [ $i -lt $2 ]; do echo \"{\\\"job\\\":\\\"$1\\\",\\\"n\\\":$i}\" >&3; i=$((i+1)); done\n\
                  while [ ! -e gate ]; do sleep 0.05; done\n";
    std::fs::write(dir.path().join("tele.sh"), script).expect("script");
    let pty = start(&dir, &home);
    pty.line(&p(&dir), "sh tele.sh alpha 12 &");
    pty.line(&p(&dir), "sh tele.sh beta 3 &");
    let prompts = pty.count_lines(&p(&dir));
    pty.send("watch\r");
    pty.wait_for("  {\"job\":\"alpha\",\"n\":11}");
    pty.wait_for("  {\"job\":\"beta\",\"n\":2}");
    // Both jobs end, so the view ends by itself once it has shown everything.
    std::fs::write(dir.path().join("gate"), "").expect("gate");
    pty.wait_prompts(&p(&dir), prompts + 1);
    let screen = pty.contents();
    for want in [
        "── [1] Done  sh tele.sh alpha 12 (12 lines)",
        "  {\"job\":\"alpha\",\"n\":11}",
        "── [2] Done  sh tele.sh beta 3 (3 lines)",
        "  {\"job\":\"beta\",\"n\":0}",
        "  {\"job\":\"beta\",\"n\":2}",
    ] {
        assert!(screen.contains(want), "{want:?} missing:\n{screen}");
    }
    // Only the latest lines of the busy job are kept.
    assert!(!screen.contains("\"n\":0}\n  {\"job\":\"alpha\""), "{screen}");
    pty.line(&p(&dir), "jobs -w");
    pty.wait_for("no background job to watch");
}

#[test]
fn watch_never_shows_a_torn_line_while_twenty_jobs_write_as_fast_as_they_can() {
    let (dir, home) = dirs();
    let script = "i=0; while :; do echo \"{\\\"job\\\":$1,\\\"n\\\":$i,\\\"pad\\\":\\\"0123456789abcdef\\\"}\" >&3; i=$((i+1)); done\n";
    std::fs::write(dir.path().join("fast.sh"), script).expect("script");
    let pty = start(&dir, &home);
    pty.send("int:k = 0; while (k < 20) { run(\"sh\", [\"fast.sh\", f\"{k}\"]) &; k = k + 1; }\r");
    pty.wait_for("(20 jobs)> ");
    pty.send("watch\r");
    // 30 rows: 14 panes of a title and a row fit, with the note and the prompt.
    pty.wait_for("watch: the first 14 of 20 jobs");
    pty.wait_for("── [14] Running");
    pty.wait_for_count("\"pad\"", 50);
    pty.keys(&p(&dir), "\x03");
    // The last frame is whole: every row of it is a title or one complete line.
    let screen = pty.contents();
    let rows: Vec<&str> = screen.lines().skip_while(|l| !l.starts_with("── [1] ")).collect();
    let frame: Vec<&str> = rows.iter().take_while(|l| !l.starts_with(&p(&dir))).copied().collect();
    assert_eq!(frame.iter().filter(|l| l.starts_with("── [")).count(), 14, "{screen}");
    for row in frame.iter().filter(|l| !l.starts_with("── [") && !l.trim().is_empty() && !l.starts_with("^C"))
    {
        let line = row.trim_start();
        let ok = line.starts_with("{\"job\":")
            && line.ends_with(",\"pad\":\"0123456789abcdef\"}")
            && line.matches('{').count() == 1;
        assert!(ok, "torn row {row:?} in:\n{screen}");
    }
}
