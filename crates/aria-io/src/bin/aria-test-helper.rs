//! A tiny multi-purpose program for aria-io's process tests, so they do not depend on the
//! quirks of system tools. `aria-test-helper MODE [ARGS...]`:
//!
//! - `argv ARG...`: prints each argument followed by a NUL byte
//! - `fds`: prints the numbers of its open descriptors, space-separated
//! - `emit FD BYTES`: writes BYTES bytes (a repeating pattern) to FD (1-5)
//! - `interleave BYTES CHUNK`: writes BYTES bytes to each of stdout and stderr, alternating
//!   chunks of CHUNK bytes
//! - `exit CODE`: exits with CODE
//! - `sleep MS`: sleeps MS milliseconds
//! - `cat`: copies stdin to stdout; `cat-data`: copies fd 4 to fd 5
//! - `wait-stdin`: reads stdin until end of file, then exits 0
//! - `grandchild MS`: starts `aria-test-helper sleep MS` with the same stdout, prints its pid
//!   and exits 0 at once
//! - `pid-file PATH MS`: writes its pid to PATH, then sleeps MS milliseconds
//! - `abort`: dies of SIGABRT
//! - `backend`: prints the backend a default runtime picks (or the error)
//! - `signals SIGNO COUNT`: on an aria-io runtime, listens for SIGNO (twice, two streams),
//!   prints `ready`, and prints `got N` after each of COUNT deliveries seen by both streams
//! - `stdio-async [closed]`: on an aria-io runtime, wraps stddati as a `PipeReader` and stddbg
//!   and stddato as `PipeWriter`s, copies stddati to stdout and to stddato, and writes
//!   `{"bytes":N}` and a newline to stddbg; with `closed`, first checks that fds 3-5 are not
//!   open (the caller closed them), so the streams are `/dev/null`
//! - `signals-cores SIGNO COUNT`: the same on a 2-core thread-per-core runtime, with one
//!   listener on each core and one in `block_on`, SIGNO blocked in every thread (so each
//!   delivery is read by one core's signalfd); prints `missed N` if a listener has not seen
//!   delivery N within 10 s

use aria_io::os::unix::{ChildExt, CommandExt, PipelineChildExt, PipelineExt};
use std::io::{self, Read, Write};
use std::process::ExitCode;
use std::time::Duration;

fn pattern(n: usize) -> Vec<u8> {
    (0..n).map(|i| (i % 251) as u8).collect()
}

fn writer(fd: u32) -> io::Result<Box<dyn Write>> {
    Ok(match fd {
        1 => Box::new(io::stdout().lock()),
        2 => Box::new(io::stderr().lock()),
        3 => Box::new(aria_io::stdio::stddbg()?),
        4 => Box::new(aria_io::stdio::stddati()?),
        5 => Box::new(aria_io::stdio::stddato()?),
        _ => return Err(io::Error::new(io::ErrorKind::InvalidInput, "fd must be 1-5")),
    })
}

fn num<T: std::str::FromStr>(args: &[String], i: usize) -> io::Result<T> {
    args.get(i)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, format!("argument {i} must be a number")))
}

fn run(args: &[String]) -> io::Result<u8> {
    let mode = args.first().map(String::as_str).unwrap_or("");
    match mode {
        "argv" => {
            let mut out = io::stdout().lock();
            for a in &args[1..] {
                out.write_all(a.as_bytes())?;
                out.write_all(b"\0")?;
            }
        }
        "fds" => {
            let mut fds: Vec<i32> = std::fs::read_dir("/proc/self/fd")?
                .filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
                .collect();
            fds.sort();
            // The directory stream itself is one of them and is closed by now.
            fds.retain(|fd| std::fs::metadata(format!("/proc/self/fd/{fd}")).is_ok());
            let s: Vec<String> = fds.iter().map(i32::to_string).collect();
            println!("{}", s.join(" "));
        }
        "emit" => {
            let fd: u32 = num(args, 1)?;
            let bytes: usize = num(args, 2)?;
            let chunk = pattern(64 * 1024);
            let mut w = writer(fd)?;
            let mut left = bytes;
            while left > 0 {
                let n = left.min(chunk.len());
                w.write_all(&chunk[..n])?;
                left -= n;
            }
            w.flush()?;
        }
        "interleave" => {
            let bytes: usize = num(args, 1)?;
            let chunk_len: usize = num(args, 2)?;
            let chunk = pattern(chunk_len);
            let (mut out, mut err) = (io::stdout().lock(), io::stderr().lock());
            let mut left = bytes;
            while left > 0 {
                let n = left.min(chunk_len);
                out.write_all(&chunk[..n])?;
                err.write_all(&chunk[..n])?;
                left -= n;
            }
        }
        "exit" => return num::<u8>(args, 1),
        "sleep" => std::thread::sleep(Duration::from_millis(num(args, 1)?)),
        "cat" => {
            io::copy(&mut io::stdin().lock(), &mut io::stdout().lock())?;
        }
        "cat-data" => {
            io::copy(&mut aria_io::stdio::stddati()?, &mut aria_io::stdio::stddato()?)?;
        }
        "wait-stdin" => {
            io::stdin().lock().read_to_end(&mut Vec::new())?;
        }
        "grandchild" => {
            let ms: u64 = num(args, 1)?;
            let me = std::env::current_exe()?;
            let gc = std::process::Command::new(me).args(["sleep", &ms.to_string()]).spawn()?;
            println!("{}", gc.id());
        }
        "pid-file" => {
            std::fs::write(&args[1], std::process::id().to_string())?;
            std::thread::sleep(Duration::from_millis(num(args, 2)?));
        }
        "abort" => std::process::abort(),
        "backend-multi-thread" => match aria_io::Builder::new_multi_thread().worker_threads(1).build() {
            Ok(rt) => println!("{}", rt.backend()),
            Err(e) => {
                println!("error: {e}");
                return Ok(2);
            }
        },
        "backend" => match aria_io::Runtime::new() {
            Ok(rt) => println!("{}", rt.backend()),
            Err(e) => {
                println!("error: {e}");
                return Ok(2);
            }
        },
        "signals" => {
            let signo: i32 = num(args, 1)?;
            let count: usize = num(args, 2)?;
            let rt = aria_io::Runtime::new()?;
            rt.block_on(async {
                let kind = aria_io::signal::SignalKind::from_raw(signo);
                let mut a = aria_io::signal::signal(kind)?;
                let mut b = aria_io::signal::signal(kind)?;
                println!("ready");
                for n in 1..=count {
                    a.recv().await;
                    b.recv().await;
                    println!("got {n}");
                }
                Ok::<_, io::Error>(())
            })?;
        }
        "signals-cores" => return signals_on_cores(num(args, 1)?, num(args, 2)?),
        "stdio-async" => stdio_async(args.get(1).map(String::as_str) == Some("closed"))?,
        "job-signals" => job_signals()?,
        "tty-foreground" => tty_foreground(args.get(1).map(String::as_str).unwrap_or(""))?,
        "tty-foreground-pipeline" => tty_foreground_pipeline(args.get(1).map(String::as_str).unwrap_or(""))?,
        "tty-pgrp" => {
            let tty = std::fs::OpenOptions::new()
                .read(true)
                .write(true)
                .open(args.get(1).map(String::as_str).unwrap_or(""))?;
            let fg = aria_io::process::terminal::foreground_group(&tty)?;
            let line = format!("child fg={fg} pgrp={}", aria_io::process::terminal::getpgrp());
            println!("{line}");
            if args.get(2).map(String::as_str) == Some("cat") {
                io::copy(&mut io::stdin().lock(), &mut io::stdout().lock())?;
            }
        }
        "tty-terminal" => tty_terminal(args.get(1).map(String::as_str).unwrap_or(""))?,
        _ => return Err(io::Error::new(io::ErrorKind::InvalidInput, format!("unknown mode `{mode}`"))),
    }
    Ok(0)
}

/// `stdio-async`: see the module docs.
fn stdio_async(closed: bool) -> io::Result<()> {
    use aria_io::io::{PipeReader, PipeWriter};
    use aria_io::stdio::{stddati, stddato, stddbg};
    if closed {
        if let Some(fd) = (3..=5).find(|fd| std::path::Path::new(&format!("/proc/self/fd/{fd}")).exists()) {
            return Err(io::Error::other(format!("fd {fd} is open; the caller was to close fds 3-5")));
        }
    }
    aria_io::Runtime::new()?.block_on(async {
        let mut data_in = PipeReader::from_owned_fd(stddati()?.into())?;
        let mut data_out = PipeWriter::from_owned_fd(stddato()?.into())?;
        let mut dbg = PipeWriter::from_owned_fd(stddbg()?.into())?;
        let mut data = Vec::new();
        data_in.read_to_end(&mut data).await?;
        io::stdout().lock().write_all(&data)?;
        data_out.write_all(&data).await?;
        dbg.write_all(format!("{{\"bytes\":{}}}\n", data.len()).as_bytes()).await
    })
}

/// `signals-cores`: see the module docs.
fn signals_on_cores(signo: i32, count: usize) -> io::Result<u8> {
    use aria_io::signal::{signal, SignalKind};
    let kind = SignalKind::from_raw(signo);
    // Listening once on a throwaway runtime blocks SIGNO in this thread before the cores
    // start, so every thread inherits the mask: each delivery is then read by one core's
    // signalfd, never caught by the fallback handler.
    aria_io::Runtime::new()?.block_on(async { signal(kind).map(drop) })?;
    let rt = aria_io::Builder::new_thread_per_core().worker_threads(2).build()?;
    rt.block_on(async move {
        let mut main = signal(kind)?;
        let (got, mut deliveries) = aria_io::sync::mpsc::unbounded_channel::<usize>();
        let (ready, mut readies) = aria_io::sync::mpsc::unbounded_channel::<io::Result<()>>();
        for core in 0..2 {
            let (got, ready) = (got.clone(), ready.clone());
            drop(aria_io::Handle::current().spawn_on(core, move || async move {
                let mut s = match signal(kind) {
                    Ok(s) => s,
                    Err(e) => return drop(ready.send(Err(e))),
                };
                let _ = ready.send(Ok(()));
                while s.recv().await.is_some() {
                    if got.send(core).is_err() {
                        break;
                    }
                }
            }));
        }
        for _ in 0..2 {
            readies.recv().await.unwrap_or_else(|| Err(io::Error::other("a core stopped")))?;
        }
        println!("ready");
        let guard = Duration::from_secs(10);
        for n in 1..=count {
            let mut seen = [false; 2];
            let all = async {
                main.recv().await;
                while seen.contains(&false) {
                    match deliveries.recv().await {
                        Some(core) => seen[core] = true,
                        None => break,
                    }
                }
            };
            if aria_io::time::timeout(guard, all).await.is_err() {
                println!("missed {n} (cores seen: {seen:?})");
                return Ok(1);
            }
            println!("got {n}");
        }
        Ok(0)
    })
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args) {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("aria-test-helper: {e}");
            ExitCode::from(101)
        }
    }
}

/// Opens the terminal `path` (a session leader without a controlling terminal acquires it),
/// exercises `aria_io::process::terminal` on it and prints `fg=<pgid> pgrp=<pgid>` then `ok`.
fn tty_terminal(path: &str) -> io::Result<()> {
    use aria_io::process::terminal;
    let tty = std::fs::OpenOptions::new().read(true).write(true).open(path)?;
    terminal::wait_until_foreground(&tty)?;
    let saved = terminal::ignore_job_control_signals()?;
    terminal::become_group_leader()?;
    terminal::set_foreground_group(&tty, terminal::getpgrp())?;
    let modes = terminal::Modes::save(&tty)?;
    modes.restore(&tty)?;
    saved.restore()?;
    println!("fg={} pgrp={}", terminal::foreground_group(&tty)?, terminal::getpgrp());
    println!("ok");
    Ok(())
}

/// Takes the terminal `path` as a session leader, spawns `tty-pgrp` in the foreground of it
/// and prints the child's report, then `job=<pgid> fg=<pgid>` after the child exited.
fn tty_foreground(path: &str) -> io::Result<()> {
    use std::os::fd::AsRawFd;
    let tty = std::fs::OpenOptions::new().read(true).write(true).open(path)?;
    let exe = std::env::current_exe()?;
    aria_io::Runtime::new()?.block_on(async {
        let mut child = aria_io::process::Command::new(&exe)
            .args(["tty-pgrp", path])
            .foreground(tty.as_raw_fd())
            .spawn()?;
        let pgid = child.pgid().unwrap_or(-1);
        let status = child.wait().await?;
        let fg = aria_io::process::terminal::foreground_group(&tty)?;
        println!("job={pgid} fg={fg} ok={}", status.success());
        Ok::<_, io::Error>(())
    })
}

/// `job-signals`: ignores the job-control signals, then prints the `SigIgn` mask of
/// `/proc/self/status` for itself (`shell ...`), for a child spawned then (`child ...`) and
/// for one spawned after restoring them (`after ...`).
fn job_signals() -> io::Result<()> {
    let ignored = |who: &str| -> io::Result<String> {
        let path = format!("/proc/{who}/status");
        let status = std::fs::read_to_string(path)?;
        let line = status.lines().find(|l| l.starts_with("SigIgn:")).unwrap_or("SigIgn: ?");
        Ok(line.trim_start_matches("SigIgn:").trim().to_string())
    };
    let child = || -> io::Result<String> {
        aria_io::Runtime::new()?.block_on(async {
            let out = aria_io::process::Command::new("sh")
                .args(["-c", "grep SigIgn: /proc/self/status"])
                .stdout(aria_io::process::Stdio::piped())
                .output()
                .await?;
            Ok(String::from_utf8_lossy(&out.stdout).trim_start_matches("SigIgn:").trim().to_string())
        })
    };
    let saved = aria_io::process::terminal::ignore_job_control_signals()?;
    println!("shell {}", ignored("self")?);
    println!("child {}", child()?);
    saved.restore()?;
    println!("after {}", child()?);
    Ok(())
}

/// As `tty-foreground` with a two-stage pipeline of `tty-pgrp` (prints `job=<pgid> fg=<pgid>
/// ok=<bool>` after both exited).
fn tty_foreground_pipeline(path: &str) -> io::Result<()> {
    use std::os::fd::AsRawFd;
    let tty = std::fs::OpenOptions::new().read(true).write(true).open(path)?;
    let exe = std::env::current_exe()?;
    aria_io::Runtime::new()?.block_on(async {
        let stage = |then: &str| {
            let mut c = aria_io::process::Command::new(&exe);
            c.args(["tty-pgrp", path, then]);
            c
        };
        // The last stage relays the first one's report after its own.
        let mut job = aria_io::process::Pipeline::new(stage("-"))
            .pipe(stage("cat"))
            .foreground(tty.as_raw_fd())
            .spawn()?;
        let pgid = job.pgid();
        let status = job.wait().await?;
        let fg = aria_io::process::terminal::foreground_group(&tty)?;
        println!("job={pgid} fg={fg} ok={}", status.success());
        Ok::<_, io::Error>(())
    })
}
