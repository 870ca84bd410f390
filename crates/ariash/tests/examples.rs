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
