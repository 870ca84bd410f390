//! Ports of tokio::process programs (issue #10). Above each test, the tokio original's key
//! lines; the test is the same program written against aria-io, changing the imports and, where
//! tokio's surface has no counterpart yet, the fewest lines possible (each such line is marked
//! `PORT:`). The sixth program, Ctrl-C with a grace period, lives in `tokio_port_ctrl_c.rs`:
//! it changes what SIGINT does to the whole test process.

mod support;

use std::collections::BTreeSet;
use std::io;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

// tokio: `use tokio::process::Command; use std::process::Stdio;`
use aria_io::process::{Command, ExitStatus, Stdio};
// tokio: `use tokio::io::{AsyncBufReadExt, BufReader};` (futures-io's traits instead of
// tokio's; a pipe's `write_all`, `read_to_end` and `close` are inherent, no import needed)
use aria_io::os::unix::{ChildExt, CommandExt};
use futures_util::io::{AsyncBufReadExt, BufReader};
use futures_util::TryStreamExt;
use support::run;

// 1. Stream a child's stdout line by line, as it arrives, while reading its stderr.
//
// tokio:
//     let mut child = Command::new("sh").arg("-c").arg(SCRIPT)
//         .stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn()?;
//     let mut stdin = child.stdin.take().unwrap();
//     let stderr = child.stderr.take().unwrap();
//     let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
//     let errors = tokio::spawn(async move {
//         let mut lines = BufReader::new(stderr).lines();
//         while let Some(line) = lines.next_line().await? { tx.send(line).unwrap(); }
//         Ok::<_, io::Error>(())
//     });
//     let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
//     while let Some(line) = lines.next_line().await? {
//         let err = rx.recv().await;           // its stderr line, read while the child runs
//         stdin.write_all(b"go\n").await?;     // let the child go on
//     }
//     errors.await??;
//     let status = child.wait().await?;
//
// The child waits for "go" after each pair of lines, so the test can only finish if both
// streams are delivered line by line while the child is still running.
const STREAMING_SCRIPT: &str = "for i in 1 2 3; do echo out$i; echo err$i >&2; read go || exit 9; done";

#[test]
fn stdout_lines_stream_as_they_arrive_while_stderr_is_read_concurrently() {
    run(async {
        let mut child = Command::new("sh")
            .arg("-c")
            .arg(STREAMING_SCRIPT)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stdin = child.stdin.take().unwrap();
        let stderr = child.stderr.take().unwrap();
        let (tx, mut rx) = aria_io::sync::mpsc::unbounded_channel();
        let errors = aria_io::spawn(async move {
            let mut lines = BufReader::new(stderr).lines();
            // PORT: tokio's `lines.next_line().await?`; futures' `Lines` is a `Stream`.
            while let Some(line) = lines.try_next().await? {
                tx.send(line).unwrap();
            }
            Ok::<_, io::Error>(())
        });
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let mut seen = Vec::new();
        while let Some(line) = lines.try_next().await.unwrap() {
            let err = rx.recv().await.expect("the stderr line of the same round");
            seen.push((line, err));
            stdin.write_all(b"go\n").await.unwrap();
        }
        errors.await.unwrap().unwrap();
        assert_eq!(rx.recv().await, None, "no stderr line beyond the three rounds");
        let status = child.wait().await.unwrap();
        assert!(status.success(), "{status}");
        let expected: Vec<(String, String)> =
            (1..=3).map(|i| (format!("out{i}"), format!("err{i}"))).collect();
        assert_eq!(seen, expected);
    });
}

// 2. Time out a child and kill its whole process group.
//
// tokio:
//     let mut child = Command::new("sh").arg("-c").arg(SCRIPT)
//         .process_group(0).kill_on_drop(true).stdout(Stdio::piped()).spawn()?;
//     let pgid = child.id().unwrap() as i32;
//     match tokio::time::timeout(Duration::from_millis(200), child.wait()).await {
//         Ok(status) => status?,
//         Err(_elapsed) => {
//             unsafe { libc::killpg(pgid, libc::SIGKILL) };
//             child.wait().await?
//         }
//     };
//
// The shell starts two background sleeps (printing their pids) and waits for them, so the
// timeout always expires; killing only the shell would leave both sleeps running.
const GROUP_SCRIPT: &str = "sleep 600 & echo $!; sleep 600 & echo $!; wait";

#[test]
fn a_timed_out_child_is_killed_with_its_whole_process_group() {
    run(async {
        let mut child = Command::new("sh")
            .arg("-c")
            .arg(GROUP_SCRIPT)
            .process_group(0)
            .kill_on_drop(true)
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let pgid = child.id().unwrap() as i32;
        assert_eq!(child.pgid(), Some(pgid));
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        let mut sleepers = Vec::new();
        for _ in 0..2 {
            let mut line = String::new();
            stdout.read_line(&mut line).await.unwrap();
            sleepers.push(line.trim().parse::<u32>().expect("a background pid"));
        }
        for &pid in &sleepers {
            assert_eq!(process_group_of(pid), Some(pgid), "background pid {pid} is in the child's group");
        }
        let members = live_members_of_group(pgid);
        for pid in sleepers.iter().copied().chain([pgid as u32]) {
            assert!(members.contains(&pid), "{pid} missing from group {pgid}: {members:?}");
        }

        let status = match aria_io::time::timeout(Duration::from_millis(200), child.wait()).await {
            Ok(status) => panic!("the shell waits for two `sleep 600`s, yet wait returned {status:?}"),
            Err(_elapsed) => {
                // PORT: tokio's `unsafe { libc::killpg(pgid, libc::SIGKILL) }` compiles as it is;
                // the port uses the safe method, which refuses a child without its own group.
                child.signal_group(libc::SIGKILL).unwrap();
                child.wait().await.unwrap()
            }
        };
        assert_eq!(status.signal(), Some(libc::SIGKILL), "{status}");
        assert_eq!(child.id(), None, "reaped");

        // Every member of the group dies: the sleeps held the stdout pipe, so end of file
        // comes only once the last one is dead; /proc agrees.
        let mut rest = String::new();
        let eof = futures_util::io::AsyncReadExt::read_to_string(&mut stdout, &mut rest);
        aria_io::time::timeout(GONE_BOUND, eof).await.expect("a group member still holds stdout").unwrap();
        assert_eq!(rest, "");
        for &pid in &sleepers {
            until(|| is_dead(pid), || format!("background sleep {pid} survived the group's SIGKILL")).await;
        }
        until(
            || live_members_of_group(pgid).is_empty(),
            || format!("group {pgid} still has live members: {:?}", live_members_of_group(pgid)),
        )
        .await;
    });
}

/// How long a SIGKILLed process may take to die: generous, a bound rather than a wait.
const GONE_BOUND: Duration = Duration::from_secs(60);

/// Polls `done` until it holds, failing with `why` after [`GONE_BOUND`].
async fn until(mut done: impl FnMut() -> bool, why: impl FnOnce() -> String) {
    let deadline = std::time::Instant::now() + GONE_BOUND;
    while !done() {
        assert!(std::time::Instant::now() < deadline, "{}", why());
        aria_io::time::sleep(Duration::from_millis(5)).await;
    }
}

/// Fields 5 (process group) and 3 (state) of `/proc/PID/stat`; `None` once the process is
/// gone.
fn stat_of(pid: u32) -> Option<(char, i32)> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // `pid (comm) state ppid pgrp ...`: the command name may hold spaces and parentheses.
    let after_comm = &stat[stat.rfind(')')? + 1..];
    let mut fields = after_comm.split_whitespace();
    let state = fields.next()?.chars().next()?;
    let _ppid = fields.next()?;
    let pgrp = fields.next()?.parse().ok()?;
    Some((state, pgrp))
}

fn process_group_of(pid: u32) -> Option<i32> {
    stat_of(pid).map(|(_, pgrp)| pgrp)
}

/// Gone, or a zombie: dead, waiting for its parent (the sleeps' parent is now whoever
/// adopts orphans here, which may not reap them promptly).
fn is_dead(pid: u32) -> bool {
    matches!(stat_of(pid), None | Some(('Z' | 'X', _)))
}

/// The pids of the processes of group `pgid` that are not dead.
fn live_members_of_group(pgid: i32) -> BTreeSet<u32> {
    let mut members = BTreeSet::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Some(pid) = entry.file_name().to_str().and_then(|s| s.parse::<u32>().ok()) else { continue };
        if let Some((state, pgrp)) = stat_of(pid) {
            if pgrp == pgid && !matches!(state, 'Z' | 'X') {
                members.insert(pid);
            }
        }
    }
    members
}

// 3. Run 200 commands, at most 8 at a time.
//
// tokio:
//     let limit = Arc::new(tokio::sync::Semaphore::new(8));
//     let mut set = tokio::task::JoinSet::new();
//     for i in 0..200 {
//         let limit = limit.clone();
//         set.spawn(async move {
//             let _permit = limit.acquire_owned().await.unwrap();
//             let out = Command::new("sh").arg("-c").arg(SCRIPT).arg("sh").arg(i.to_string())
//                 .output().await?;
//             Ok::<_, io::Error>((i, out))
//         });
//     }
//     while let Some(res) = set.join_next().await { let (i, out) = res??; ... }
const JOBS: usize = 200;
const LIMIT: usize = 8;

#[test]
fn two_hundred_commands_run_at_most_eight_at_a_time() {
    run(async {
        let limit = Arc::new(aria_io::sync::Semaphore::new(LIMIT));
        let running = Arc::new(AtomicUsize::new(0));
        let most = Arc::new(AtomicUsize::new(0));
        let mut set = aria_io::JoinSet::new();
        for i in 0..JOBS {
            let (limit, running, most) = (limit.clone(), running.clone(), most.clone());
            set.spawn(async move {
                let _permit = limit.acquire_owned().await.unwrap();
                let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                most.fetch_max(now, Ordering::SeqCst);
                let out = Command::new("sh")
                    .arg("-c")
                    .arg("echo job $1; echo err $1 >&2; exit $(($1 % 5))")
                    .arg("sh")
                    .arg(i.to_string())
                    .output()
                    .await;
                running.fetch_sub(1, Ordering::SeqCst);
                Ok::<_, io::Error>((i, out?))
            });
        }
        let mut done = BTreeSet::new();
        while let Some(res) = set.join_next().await {
            let (i, out) = res.unwrap().unwrap();
            assert_eq!(out.status.code(), Some((i % 5) as i32), "job {i}: {}", out.status);
            assert_eq!(String::from_utf8(out.stdout).unwrap(), format!("job {i}\n"));
            assert_eq!(String::from_utf8(out.stderr).unwrap(), format!("err {i}\n"));
            assert!(done.insert(i), "job {i} reported twice");
        }
        assert_eq!(done, (0..JOBS).collect::<BTreeSet<_>>());
        let most = most.load(Ordering::SeqCst);
        assert!((1..=LIMIT).contains(&most), "{most} commands ran at once, the limit is {LIMIT}");
        assert_eq!(running.load(Ordering::SeqCst), 0);
        assert_eq!(limit.available_permits(), LIMIT);
    });
}

// 4. 10 MB through `sort`.
//
// tokio:
//     let mut child = Command::new("sort").env("LC_ALL", "C")
//         .stdin(Stdio::piped()).stdout(Stdio::piped()).spawn()?;
//     let mut stdin = child.stdin.take().unwrap();
//     let mut stdout = child.stdout.take().unwrap();
//     let writer = tokio::spawn(async move { stdin.write_all(&input).await?; drop(stdin); Ok::<_, io::Error>(()) });
//     let reader = tokio::spawn(async move { let mut out = Vec::new(); stdout.read_to_end(&mut out).await?; Ok::<_, io::Error>(out) });
//     writer.await??;
//     let sorted = reader.await??;
//     let status = child.wait().await?;
/// The tokio program, ported: `?` and `??` read as they do with tokio.
async fn sort_through_child(input: Arc<Vec<u8>>) -> io::Result<(Vec<u8>, ExitStatus)> {
    let mut child =
        Command::new("sort").env("LC_ALL", "C").stdin(Stdio::piped()).stdout(Stdio::piped()).spawn()?;
    let mut stdin = child.stdin.take().unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let writer = aria_io::spawn(async move {
        stdin.write_all(&input).await?;
        drop(stdin);
        Ok::<_, io::Error>(())
    });
    let reader = aria_io::spawn(async move {
        let mut out = Vec::new();
        stdout.read_to_end(&mut out).await?;
        Ok::<_, io::Error>(out)
    });
    writer.await??;
    let sorted = reader.await??;
    let status = child.wait().await?;
    Ok((sorted, status))
}

#[test]
fn ten_megabytes_go_through_sort_written_and_read_by_two_tasks() {
    run(async {
        let input = Arc::new(random_lines(10 << 20));
        let (sorted, status) = sort_through_child(input.clone()).await.unwrap();
        assert!(status.success(), "{status}");
        let mut lines: Vec<&[u8]> = input.split_inclusive(|&b| b == b'\n').collect();
        lines.sort_unstable();
        let expected = lines.concat();
        assert_eq!(sorted.len(), expected.len());
        assert!(sorted == expected, "sort's output differs from the lines sorted bytewise");
    });
}

/// At least `bytes` bytes of newline-terminated lines of 1-40 letters and digits, upper and
/// lower case mixed (so a locale other than C would order them differently).
fn random_lines(bytes: usize) -> Vec<u8> {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = move || {
        state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (state >> 33) as usize
    };
    let mut out = Vec::with_capacity(bytes + 64);
    while out.len() < bytes {
        let len = 1 + next() % 40;
        out.extend((0..len).map(|_| ALPHABET[next() % ALPHABET.len()]));
        out.push(b'\n');
    }
    out
}

// 5. Pipe one child into another by hand.
//
// tokio:
//     let mut producer = Command::new("sh").arg("-c").arg("echo hello world; seq 1 50000")
//         .stdout(Stdio::piped()).spawn()?;
//     let pipe: Stdio = producer.stdout.take().unwrap().try_into()?;
//     let upper = Command::new("tr").arg("a-z").arg("A-Z")
//         .stdin(pipe).stdout(Stdio::piped()).spawn()?;
//     let out = upper.wait_with_output().await?;
//     let status = producer.wait().await?;
#[test]
fn one_childs_stdout_is_the_next_childs_stdin() {
    run(async {
        let mut producer = Command::new("sh")
            .arg("-c")
            .arg("echo hello world; seq 1 50000")
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        // PORT: tokio's `let pipe: Stdio = stdout.try_into()?;` does not compile: with
        // `From<PipeReader> for Stdio` the conversion's error is `Infallible`, which `?` cannot
        // turn into an `io::Error` (and std's `Stdio`, tokio's target, has no such conversion).
        let pipe = Stdio::from(producer.stdout.take().unwrap());
        let upper =
            Command::new("tr").arg("a-z").arg("A-Z").stdin(pipe).stdout(Stdio::piped()).spawn().unwrap();
        let out = upper.wait_with_output().await.unwrap();
        let status = producer.wait().await.unwrap();
        assert!(status.success(), "{status}");
        assert!(out.status.success(), "{}", out.status);
        let mut expected = String::from("HELLO WORLD\n");
        for i in 1..=50000 {
            expected.push_str(&format!("{i}\n"));
        }
        assert_eq!(out.stdout.len(), expected.len());
        assert!(out.stdout == expected.as_bytes(), "tr's output is not the producer's, upper-cased");
    });
}

// 7. A futures-io crate on a child's pipes.
//
// tokio (through tokio-util's compat layer):
//     use tokio_util::compat::{TokioAsyncReadCompatExt, TokioAsyncWriteCompatExt};
//     let mut stdin = child.stdin.take().unwrap().compat_write();
//     let stdout = child.stdout.take().unwrap().compat();
//     let feed = async { futures::io::copy(Cursor::new(&input), &mut stdin).await?; stdin.close().await };
//     let collect = futures::io::BufReader::new(stdout).lines().try_collect::<Vec<String>>();
//     let ((), lines) = futures::future::try_join(feed, collect).await?;
//
// aria-io's pipes implement futures-io themselves: the port drops `.compat()`.
#[test]
fn futures_io_copy_and_lines_drive_cat_through_its_pipes() {
    run(async {
        let input: String = (0..20_000).map(|i| format!("line {i} of the futures-io round trip\n")).collect();
        let mut child = Command::new("cat").stdin(Stdio::piped()).stdout(Stdio::piped()).spawn().unwrap();
        let mut stdin = child.stdin.take().unwrap();
        let stdout = child.stdout.take().unwrap();
        let feed = async {
            let n =
                futures_util::io::copy(futures_util::io::Cursor::new(input.as_bytes()), &mut stdin).await?;
            futures_util::io::AsyncWriteExt::close(&mut stdin).await?;
            Ok::<_, io::Error>(n)
        };
        let collect = BufReader::new(stdout).lines().try_collect::<Vec<String>>();
        // Both on this one task: more than a pipe's worth of data, so neither can finish alone.
        let (copied, lines) = futures_util::future::try_join(feed, collect).await.unwrap();
        assert_eq!(copied, input.len() as u64);
        assert_eq!(lines, input.lines().collect::<Vec<_>>());
        let status = child.wait().await.unwrap();
        assert!(status.success(), "{status}");
    });
}

// 7, continued: a generic futures-io function (as an ecosystem crate would offer) writing to
// one child's stdin, and futures-io's `copy` into a `Vec` reading its stdout.
//
// tokio:
//     write_report(&mut child.stdin.take().unwrap().compat_write(), 3000).await?;  // then closes
//     let mut out = Vec::new();
//     futures::io::copy(child.stdout.take().unwrap().compat(), &mut out).await?;
async fn write_report<W: futures_util::io::AsyncWrite + Unpin>(mut w: W, rows: usize) -> io::Result<()> {
    use futures_util::io::AsyncWriteExt;
    for row in 0..rows {
        w.write_all(format!("row {row}: {}\n", "x".repeat(row % 50)).as_bytes()).await?;
    }
    w.flush().await?;
    w.close().await
}

#[test]
fn a_generic_futures_io_writer_feeds_wc_and_copy_collects_its_count() {
    run(async {
        const ROWS: usize = 3000;
        let mut child = Command::new("wc")
            .arg("-l")
            .env("LC_ALL", "C")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        write_report(child.stdin.take().unwrap(), ROWS).await.unwrap();
        let mut out = Vec::new();
        let n = futures_util::io::copy(child.stdout.take().unwrap(), &mut out).await.unwrap();
        assert_eq!(n, out.len() as u64);
        assert_eq!(String::from_utf8(out).unwrap().trim(), ROWS.to_string());
        let status = child.wait().await.unwrap();
        assert!(status.success(), "{status}");
    });
}
