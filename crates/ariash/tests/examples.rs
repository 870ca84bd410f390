//! The example scripts on real input, checked against the same pipelines run by bash.

use std::path::PathBuf;
use std::process::Command;

fn example(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../examples").join(name)
}

fn bash(script: &str) -> Vec<u8> {
    let out = Command::new("bash").args(["-c", script]).output().expect("bash runs");
    assert!(out.status.success(), "bash failed: {}", String::from_utf8_lossy(&out.stderr));
    out.stdout
}

#[test]
fn wordfreq_prints_what_bash_prints_for_the_same_pipeline() {
    let out = Command::new(env!("CARGO_BIN_EXE_ariash")).arg(example("wordfreq.ash")).output().unwrap();
    assert!(out.status.success(), "ariash failed: {}", String::from_utf8_lossy(&out.stderr));
    let expected = bash(
        "export LC_ALL=C; find /usr/share/doc -type f -name '*.gz' -print0 | xargs -0 zcat -f \
         | tr -cs A-Za-z '\\n' | tr A-Z a-z | sort | uniq -c | sort -rn | head -n 20",
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&expected));
    assert_eq!(out.stdout.iter().filter(|b| **b == b'\n').count(), 20);
}

#[test]
fn dataplane_hash_equals_bash_tar_into_sha256sum_and_telemetry_goes_to_files() {
    let logs = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_ariash"))
        .arg(example("dataplane.ash"))
        .arg("/usr/share")
        .arg(logs.path())
        .output()
        .unwrap();
    assert!(out.status.success(), "ariash failed: {}", String::from_utf8_lossy(&out.stderr));
    let stdout = String::from_utf8(out.stdout).unwrap();
    let expected = String::from_utf8(bash("tar --sort=name -C /usr/share -cf - man | sha256sum")).unwrap();
    let expected_hash = expected.split_whitespace().next().unwrap();
    let bytes = String::from_utf8(bash("tar --sort=name -C /usr/share -cf - man | wc -c")).unwrap();
    let line = stdout.lines().find(|l| l.starts_with("sha256 ")).expect("a sha256 line");
    assert_eq!(line, format!("sha256 {expected_hash} bytes {}", bytes.trim()));
    // Human text from both stages reached stdout; binary data did not.
    assert!(stdout.contains("producer: packing"));
    assert!(stdout.contains("consumer: hashing"));
    assert!(stdout.len() < 4096);
    // Each stage's stddbg went to its own file, one JSON line each.
    let producer = std::fs::read_to_string(logs.path().join("dataplane.producer.jsonl")).unwrap();
    let consumer = std::fs::read_to_string(logs.path().join("dataplane.consumer.jsonl")).unwrap();
    assert_eq!(producer.trim(), r#"{"stage":"producer","event":"start","dir":"man"}"#);
    assert!(consumer.contains(expected_hash), "{consumer}");
    assert_eq!(consumer.lines().count(), 1);
}

/// Runs an example with `args` in `dir`; its output, whatever the status.
fn ariash_in(dir: &std::path::Path, name: &str, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_ariash"))
        .arg(example(name))
        .args(args)
        .current_dir(dir)
        .env("LC_ALL", "C")
        .output()
        .expect("ariash runs")
}

/// Runs a bash script with `args` ($1, $2, ...) in `dir`; its output, whatever the status.
fn bash_in(dir: &std::path::Path, script: &str, args: &[&str]) -> std::process::Output {
    Command::new("bash")
        .args(["-c", script, "bash"])
        .args(args)
        .current_dir(dir)
        .env("LC_ALL", "C")
        .output()
        .expect("bash runs")
}

fn sh(dir: &std::path::Path, script: &str) {
    let out = bash_in(dir, script, &[]);
    assert!(out.status.success(), "set-up failed: {}", String::from_utf8_lossy(&out.stderr));
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn compress_logs_gzips_what_find_mtime_gzip_does() {
    let tmp = tempfile::tempdir().unwrap();
    // Two identical trees, one for each shell: old and new logs, a name with spaces, a
    // directory matching the pattern, a non-matching old file.
    for side in ["a", "b"] {
        sh(
            tmp.path(),
            &format!(
                "mkdir -p {side}/dir.log && cd {side} && echo one > old.log && echo two > 'my app.log' \
                 && echo three > new.log && echo four > old.txt && echo five > recent.log \
                 && touch -d '30 days ago' old.log 'my app.log' old.txt dir.log \
                 && touch -d '2 days ago' recent.log"
            ),
        );
    }
    let ours = ariash_in(tmp.path(), "compress_logs.ash", &["a", "*.log", "7"]);
    assert!(ours.status.success(), "ariash failed: {}", text(&ours.stderr));
    let theirs = bash_in(
        tmp.path(),
        r#"n=0
        while IFS= read -r f; do
            gzip -- "$f" && echo "compressed $f" && n=$((n + 1))
        done < <(find "$1" -mindepth 1 -maxdepth 1 -type f -name "$2" -mtime +"$3" | sort)
        echo "$n file(s) compressed""#,
        &["b", "*.log", "7"],
    );
    assert!(theirs.status.success(), "bash failed: {}", text(&theirs.stderr));
    assert_eq!(text(&ours.stdout).replace("a/", "X/"), text(&theirs.stdout).replace("b/", "X/"));
    assert!(text(&ours.stdout).contains("compressed a/my app.log\n"));
    let listing =
        |side: &str| text(&bash_in(tmp.path(), &format!("ls -A {side}; zcat {side}/*.gz"), &[]).stdout);
    assert_eq!(listing("a"), listing("b"));
    assert!(listing("a").contains("old.log.gz"));
    // Bad usage: status 2 and a message.
    let bad = ariash_in(tmp.path(), "compress_logs.ash", &["a", "*.log", "seven"]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(text(&bad.stderr).contains("DAYS"), "{}", text(&bad.stderr));
}

#[test]
fn parallel_tests_reports_what_xargs_p_reports() {
    let tmp = tempfile::tempdir().unwrap();
    sh(
        tmp.path(),
        r#"mkdir t && cd t
        for i in 01 02 03 04 05 06 07 08; do printf '#!/bin/sh\nsleep 0.0%s\necho ok %s\n' "${i#0}" "$i" > "pass $i"; done
        printf '#!/bin/sh\necho checking\necho broken >&2\nexit 3\n' > fail_a
        printf '#!/bin/sh\nexit 1\n' > fail_b
        printf '#!/bin/sh\nkill -TERM $$\n' > killed
        chmod +x *
        printf 'not a test\n' > README"#,
    );
    let ours = ariash_in(tmp.path(), "parallel_tests.ash", &["t", "3"]);
    assert_eq!(ours.status.code(), Some(1), "stderr: {}", text(&ours.stderr));
    let theirs = bash_in(
        tmp.path(),
        r#"res=$(mktemp -d)
        for t in "$1"/*; do [ -f "$t" ] && [ -x "$t" ] && printf '%s\0' "$t"; done |
            RES=$res xargs -0 -n 1 -P "$2" bash -c '
                n=$(basename "$1"); out=$("$1" 2>&1); s=$?
                if [ $s -eq 0 ]; then echo "PASS $n"; else
                    echo "FAIL $n (status $s)"; [ -n "$out" ] && printf "%s\n" "$out" | sed "s/^/    /"
                fi > "$RES/$n"' bash
        cat "$res"/*
        failed=$(grep -c '^FAIL' "$res"/* | awk -F: '{s += $NF} END {print s}')
        total=$(ls "$res" | wc -l)
        echo "$((total - failed)) passed, $failed failed"
        rm -r "$res"
        [ "$failed" -eq 0 ]"#,
        &["t", "3"],
    );
    assert_eq!(theirs.status.code(), Some(1));
    assert_eq!(text(&ours.stdout), text(&theirs.stdout));
    let out = text(&ours.stdout);
    assert!(out.contains("FAIL fail_a (status 3)\n    checking\n    broken\n"), "{out}");
    assert!(out.contains("FAIL killed (status 143)\n"), "{out}");
    assert!(out.ends_with("8 passed, 3 failed\n"), "{out}");
}

#[test]
fn git_authors_counts_what_sort_uniq_counts() {
    let tmp = tempfile::tempdir().unwrap();
    sh(
        tmp.path(),
        r#"git init -q repo && cd repo
        for a in Alice Bob Alice 'Carol Jones' Bob Alice dave Eve Eve 'Bob' Zed; do
            git -c user.name="$a" -c user.email=x@example.com -c commit.gpgsign=false \
                commit -q --allow-empty -m "by $a"
        done"#,
    );
    let ours = ariash_in(tmp.path(), "git_authors.ash", &["repo"]);
    assert!(ours.status.success(), "ariash failed: {}", text(&ours.stderr));
    let theirs =
        bash_in(tmp.path(), "git -C \"$1\" log --format=%an | sort | uniq -c | sort -k1,1nr -k2", &["repo"]);
    assert_eq!(text(&ours.stdout), text(&theirs.stdout));
    assert!(
        text(&ours.stdout).starts_with("      3 Alice\n      3 Bob\n      2 Eve\n"),
        "{}",
        text(&ours.stdout)
    );
    // Not a repository: git's failure stops the script with git's status.
    let bad = ariash_in(tmp.path(), "git_authors.ash", &["no-such-repo"]);
    assert!(!bad.status.success());
}

/// A command that fails (status 3) the first `fails` times it runs, counting in `count`.
const FLAKY: &str = "#!/bin/sh\nn=$(cat count 2>/dev/null || echo 0); n=$((n + 1)); echo $n > count\n\
                     echo \"attempt $n\"\n[ $n -gt \"$1\" ] || exit 3\necho done\n";

#[test]
fn retry_backs_off_and_exits_like_a_bash_retry_loop() {
    let bash_retry = r#"max=$1; delay=$2; shift 2; attempt=1
        until "$@"; do
            s=$?
            if [ $attempt -ge $max ]; then echo "retry: giving up after $attempt attempts (status $s)" >&2; exit $s; fi
            echo "retry: attempt $attempt of $max failed (status $s), retrying in ${delay}ms" >&2
            sleep "$(printf '0.%03d' "$delay")"; delay=$((delay * 2)); attempt=$((attempt + 1))
        done"#;
    // (attempts allowed, failures before success)
    for (max, fails) in [("5", "2"), ("3", "5"), ("1", "0")] {
        let mut outs = Vec::new();
        for side in ["a", "b"] {
            let tmp = tempfile::tempdir().unwrap();
            std::fs::write(tmp.path().join("flaky"), FLAKY).unwrap();
            sh(tmp.path(), "chmod +x flaky");
            let out = if side == "a" {
                ariash_in(tmp.path(), "retry.ash", &[max, "10ms", "./flaky", fails])
            } else {
                bash_in(tmp.path(), bash_retry, &[max, "10", "./flaky", fails])
            };
            let runs = std::fs::read_to_string(tmp.path().join("count")).unwrap();
            outs.push((out.status.code(), text(&out.stdout), text(&out.stderr), runs));
        }
        assert_eq!(outs[0], outs[1], "max {max}, fails {fails}");
    }
    // An attempt that hangs is stopped by RETRY_TIMEOUT with status 124.
    let tmp = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_ariash"))
        .arg(example("retry.ash"))
        .args(["2", "1ms", "sleep", "30"])
        .env("RETRY_TIMEOUT", "50ms")
        .current_dir(tmp.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(124), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("giving up after 2 attempts (status 124)"));
}

#[test]
fn config_reader_prints_what_a_bash_read_loop_prints() {
    let tmp = tempfile::tempdir().unwrap();
    let config = "# a comment\n  name = demo  \n\n; another comment\n[server]\nport=8080\n\
                  host = example.com = alias\nbogus line\n = no key\n[db]\n\tuser =  admin\t\n\
                  url = postgres://h/db?x=1\n[broken\nname = again\nempty =\nlast = no newline";
    std::fs::write(tmp.path().join("app.conf"), config).unwrap();
    let ours = ariash_in(tmp.path(), "config_reader.ash", &["app.conf"]);
    let theirs = bash_in(
        tmp.path(),
        r#"trim() { local s=$1; s=${s#"${s%%[![:space:]]*}"}; printf '%s' "${s%"${s##*[![:space:]]}"}"; }
        declare -A conf; section=; n=0; bad=0
        while IFS= read -r raw || [ -n "$raw" ]; do
            n=$((n + 1)); line=$(trim "$raw")
            case $line in ''|'#'*|';'*) continue;; esac
            if [[ $line == '['* ]]; then
                inner=$(trim "${line:1:${#line}-2}")
                if [[ $line != *']' || -z $inner ]]; then
                    echo "$1:$n: bad section header: $line" >&2; bad=$((bad + 1))
                else section=$inner; fi
                continue
            fi
            key=$(trim "${line%%=*}")
            if [[ $line != *=* || -z $key ]]; then
                echo "$1:$n: expected key = value: $line" >&2; bad=$((bad + 1)); continue
            fi
            [ -n "$section" ] && key="$section.$key"
            conf[$key]=$(trim "${line#*=}")
        done < "$1"
        for k in "${!conf[@]}"; do printf '%s=%s\n' "$k" "${conf[$k]}"; done | sort -t= -k1,1
        [ $bad -eq 0 ]"#,
        &["app.conf"],
    );
    assert_eq!(text(&ours.stdout), text(&theirs.stdout));
    assert_eq!(text(&ours.stderr), text(&theirs.stderr));
    assert_eq!(ours.status.code(), Some(1));
    assert_eq!(theirs.status.code(), Some(1));
    assert!(text(&ours.stdout).contains("server.host=example.com = alias\n"));
    assert!(text(&ours.stderr).contains("app.conf:8: expected key = value: bogus line\n"));
    // The same from stdin.
    let stdin = Command::new(env!("CARGO_BIN_EXE_ariash"))
        .arg(example("config_reader.ash"))
        .arg("-")
        .stdin(std::fs::File::open(tmp.path().join("app.conf")).unwrap())
        .output()
        .unwrap();
    assert_eq!(text(&stdin.stdout), text(&ours.stdout));
    assert_eq!(text(&stdin.stderr), text(&ours.stderr).replace("app.conf:", "-:"));
}

#[test]
fn capture_takes_stderr_with_2_to_1_as_bash_command_substitution_does() {
    let out = Command::new(env!("CARGO_BIN_EXE_ariash"))
        .args(["-c", r#"print("[" + capture(`sh -c "echo out; echo err >&2"` 2>&1) + "]");"#])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), text(&bash("echo \"[$(sh -c 'echo out; echo err >&2' 2>&1)]\"")));
}
