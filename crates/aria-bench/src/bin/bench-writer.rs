//! The child program of the output, pipe-copy and pipeline scenarios: the same for every
//! runtime, so only the parent differs.
//!
//! ```text
//! bench-writer interleave BYTES CHUNK   BYTES to stdout and BYTES to stderr, CHUNK at a time, alternating
//! bench-writer emit FD BYTES [CHUNK]    BYTES of data to descriptor FD (default chunk 128 KiB)
//! bench-writer text BYTES               BYTES of lines of lowercase words to stdout
//! bench-writer sink FD                  reads FD to end of file and prints the byte count
//! ```
// The suite runs on Linux only (see Cargo.toml): elsewhere this binary is empty.
#![cfg_attr(not(target_os = "linux"), no_main)]
#![cfg(target_os = "linux")]

use std::io::{self, Write};
use std::os::fd::RawFd;
use std::process::ExitCode;

fn write_all(fd: RawFd, mut data: &[u8]) -> io::Result<()> {
    while !data.is_empty() {
        // SAFETY: `data` is valid for reads of its length for the whole call.
        let n = unsafe { libc::write(fd, data.as_ptr().cast(), data.len()) };
        if n < 0 {
            let e = io::Error::last_os_error();
            if e.kind() == io::ErrorKind::Interrupted {
                continue;
            }
            return Err(e);
        }
        data = &data[n as usize..];
    }
    Ok(())
}

fn parse(arg: Option<&String>, what: &str) -> io::Result<u64> {
    let s = arg.ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, format!("missing {what}")))?;
    s.parse().map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, format!("bad {what}: {s}")))
}

/// Writes `bytes` to `fd` from `block`, repeating it.
fn emit(fd: RawFd, bytes: u64, block: &[u8]) -> io::Result<()> {
    let mut left = bytes;
    while left > 0 {
        let n = left.min(block.len() as u64) as usize;
        write_all(fd, &block[..n])?;
        left -= n as u64;
    }
    Ok(())
}

/// 64 KiB of newline-terminated lines of pseudo-random words, ending on a line boundary.
fn text_block() -> Vec<u8> {
    const WORDS: [&str; 16] = [
        "alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel", "india", "juliet", "kilo",
        "lima", "mike", "november", "oscar", "papa",
    ];
    let mut out = Vec::with_capacity(64 * 1024);
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    while out.len() < 64 * 1024 - 100 {
        for w in 0..8 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            if w > 0 {
                out.push(b' ');
            }
            out.extend_from_slice(WORDS[(x % 16) as usize].as_bytes());
        }
        out.push(b'\n');
    }
    out
}

fn run(args: &[String]) -> io::Result<()> {
    match args.first().map(String::as_str) {
        Some("interleave") => {
            let bytes = parse(args.get(1), "BYTES")?;
            let chunk = parse(args.get(2), "CHUNK")?.max(1) as usize;
            let block = vec![b'x'; chunk];
            let mut left = bytes;
            while left > 0 {
                let n = left.min(chunk as u64) as usize;
                write_all(1, &block[..n])?;
                write_all(2, &block[..n])?;
                left -= n as u64;
            }
            Ok(())
        }
        Some("emit") => {
            let fd = parse(args.get(1), "FD")? as RawFd;
            let bytes = parse(args.get(2), "BYTES")?;
            let chunk = if args.len() > 3 { parse(args.get(3), "CHUNK")? } else { 128 * 1024 };
            emit(fd, bytes, &vec![b'd'; chunk.max(1) as usize])
        }
        Some("text") => {
            let bytes = parse(args.get(1), "BYTES")?;
            let block = text_block();
            // Whole blocks, so the output is whole lines.
            let blocks = bytes.div_ceil(block.len() as u64);
            emit(1, blocks * block.len() as u64, &block)
        }
        Some("sink") => {
            let fd = parse(args.get(1), "FD")? as RawFd;
            let mut buf = vec![0u8; 256 * 1024];
            let mut total: u64 = 0;
            loop {
                // SAFETY: `buf` is valid for writes of its length.
                let n = unsafe { libc::read(fd, buf.as_mut_ptr().cast(), buf.len()) };
                if n < 0 {
                    let e = io::Error::last_os_error();
                    if e.kind() == io::ErrorKind::Interrupted {
                        continue;
                    }
                    return Err(e);
                }
                if n == 0 {
                    break;
                }
                total += n as u64;
            }
            writeln!(io::stdout(), "{total}")
        }
        _ => Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "usage: bench-writer interleave BYTES CHUNK | emit FD BYTES [CHUNK] | text BYTES | sink FD",
        )),
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => ExitCode::from(141),
        Err(e) => {
            eprintln!("bench-writer: {e}");
            ExitCode::from(2)
        }
    }
}
