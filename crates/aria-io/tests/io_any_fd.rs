//! `PipeReader` and `PipeWriter` over any stream descriptor, not only pipes: regular files and
//! `/dev/null`, which epoll refuses (issue #10), read and write like pipes on every backend;
//! the extra standard streams (`stdio::stddati` and friends) wrapped as pipes work whether
//! fds 3-5 are open or not; a descriptor that is no stream is refused with an error naming
//! it.

mod support;

use std::fs::File;
use std::io::{Read, Seek, SeekFrom, Write};
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::fs::OpenOptionsExt;

use aria_io::io::{PipeReader, PipeWriter};
use aria_io::process::{Command, Stdio};
use futures_util::io::{AsyncReadExt, AsyncWriteExt};
use support::{helper, run, HELPER};

fn pattern(n: usize) -> Vec<u8> {
    (0..n).map(|i| (i % 251) as u8).collect()
}

fn dev_null(write: bool) -> OwnedFd {
    std::fs::OpenOptions::new().read(!write).write(write).open("/dev/null").expect("open /dev/null").into()
}

/// An unnamed temporary file holding `content`, positioned at its start, and a second handle
/// on the same open file (sharing its position) to check what was written through the first.
fn temp_file(content: &[u8]) -> (OwnedFd, File) {
    let mut f = tempfile::tempfile().expect("tempfile");
    f.write_all(content).unwrap();
    f.seek(SeekFrom::Start(0)).unwrap();
    let other = f.try_clone().unwrap();
    (f.into(), other)
}

#[test]
fn issue_10_a_pipe_reader_over_dev_null_reads_end_of_file() {
    run(async {
        let mut r = PipeReader::from_owned_fd(dev_null(false)).expect("wrap /dev/null");
        let (res, buf) = r.read_owned(Vec::with_capacity(64)).await;
        assert_eq!(res.expect("read_owned"), 0);
        assert!(buf.is_empty());
        let mut all = Vec::new();
        assert_eq!(r.read_to_end(&mut all).await.expect("read_to_end"), 0);
        assert!(all.is_empty());
        let mut b = [0u8; 64];
        assert_eq!(AsyncReadExt::read(&mut r, &mut b).await.expect("AsyncRead"), 0);
    });
}

#[test]
fn issue_10_a_pipe_reader_over_a_regular_file_reads_it_exactly_in_several_reads() {
    run(async {
        let content = pattern(300 * 1024 + 7);
        let (fd, _) = temp_file(&content);
        let mut r = PipeReader::from_owned_fd(fd).expect("wrap a regular file");
        let mut got = Vec::new();
        // An owned read of 1000 bytes: a regular file gives all of them.
        let (res, buf) = r.read_owned(Vec::with_capacity(1000)).await;
        assert_eq!(res.expect("read_owned"), 1000);
        got.extend_from_slice(&buf);
        // A borrowed read through futures-io (the readiness path).
        let mut b = vec![0u8; 4096];
        let n = AsyncReadExt::read(&mut r, &mut b).await.expect("AsyncRead");
        assert_eq!(n, 4096);
        got.extend_from_slice(&b[..n]);
        // The rest, then end of file for every kind of read.
        let rest = r.read_to_end(&mut got).await.expect("read_to_end");
        assert_eq!(rest, content.len() - 1000 - 4096);
        assert!(got == content, "the bytes read differ from the file's");
        let (res, _) = r.read_owned(Vec::with_capacity(16)).await;
        assert_eq!(res.expect("read_owned at end of file"), 0);
        assert_eq!(AsyncReadExt::read(&mut r, &mut b).await.expect("AsyncRead at end of file"), 0);
    });
}

#[test]
fn reading_a_large_regular_file_to_its_end_lets_other_tasks_run() {
    // One thread: the other task can only run if read_to_end yields (a file, unlike a pipe,
    // never runs dry before its end).
    support::run_current_thread(async {
        let content = pattern(24 << 20);
        let (fd, _) = temp_file(&content);
        let mut r = PipeReader::from_owned_fd(fd).expect("wrap a regular file");
        let ran = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let flag = ran.clone();
        let other = aria_io::spawn(async move { flag.store(true, std::sync::atomic::Ordering::SeqCst) });
        let mut got = Vec::new();
        r.read_to_end(&mut got).await.expect("read_to_end");
        assert!(ran.load(std::sync::atomic::Ordering::SeqCst), "no other task ran during the read");
        assert!(got == content, "the bytes read differ from the file's");
        other.await.unwrap();
    });
}

#[test]
fn issue_10_a_pipe_writer_over_a_regular_file_writes_exactly_what_was_written() {
    run(async {
        let (fd, mut check) = temp_file(b"");
        let mut w = PipeWriter::from_owned_fd(fd).expect("wrap a regular file");
        let big = pattern(200 * 1024);
        w.write_all(b"first line\n").await.expect("write_all");
        let mut owned = big.clone();
        while !owned.is_empty() {
            let (res, buf) = w.write_owned(owned).await;
            let n = res.expect("write_owned");
            assert!(n > 0, "write_owned wrote nothing");
            owned = buf[n..].to_vec();
        }
        AsyncWriteExt::write_all(&mut w, b"last line\n").await.expect("AsyncWrite");
        AsyncWriteExt::flush(&mut w).await.expect("flush");
        w.close().await.expect("close");
        let mut expected = b"first line\n".to_vec();
        expected.extend_from_slice(&big);
        expected.extend_from_slice(b"last line\n");
        let mut got = Vec::new();
        check.seek(SeekFrom::Start(0)).unwrap();
        check.read_to_end(&mut got).unwrap();
        assert!(got == expected, "the file holds {} bytes, not the {} written", got.len(), expected.len());
    });
}

#[test]
fn issue_10_a_pipe_writer_over_dev_null_accepts_every_write() {
    run(async {
        let mut w = PipeWriter::from_owned_fd(dev_null(true)).expect("wrap /dev/null");
        w.write_all(b"{\"event\":\"start\"}\n").await.expect("write_all");
        let (res, buf) = w.write_owned(pattern(100_000)).await;
        assert_eq!(res.expect("write_owned"), buf.len());
        let n = AsyncWriteExt::write(&mut w, b"abc").await.expect("AsyncWrite");
        assert_eq!(n, 3);
        w.close().await.expect("close");
    });
}

#[test]
fn pipes_keep_working_next_to_files() {
    run(async {
        let (mut r, mut w) = aria_io::io::pipe().expect("pipe");
        // The writer is dropped (closed) at the end of its task: the reader then sees end of
        // file.
        let writer = aria_io::spawn(async move { w.write_all(&pattern(256 * 1024)).await });
        let mut got = Vec::new();
        r.read_to_end(&mut got).await.expect("read_to_end");
        writer.await.expect("join").expect("write_all");
        assert!(got == pattern(256 * 1024));
    });
}

/// Whether this process was given none of fds 3-5 (the usual case under the test harness):
/// each is closed, or close-on-exec, as every descriptor this process opens itself is (other
/// tests running in parallel may hold those numbers).
fn fds_3_to_5_not_given() -> bool {
    (3..=5).all(|fd| match std::fs::read_to_string(format!("/proc/self/fdinfo/{fd}")) {
        Err(_) => true,
        Ok(info) => info
            .lines()
            .find_map(|l| l.strip_prefix("flags:"))
            .and_then(|flags| u32::from_str_radix(flags.trim(), 8).ok())
            .is_some_and(|flags| flags & libc::O_CLOEXEC as u32 != 0),
    })
}

#[test]
fn issue_10_stdio_streams_wrapped_as_pipes_work_in_this_process_without_fds_3_to_5() {
    if !fds_3_to_5_not_given() {
        // Whatever they are, they are not ours to read or write: the child tests below
        // cover this case with descriptors they control.
        eprintln!("the test process was given fds 3-5: nothing to check here");
        return;
    }
    run(async {
        let mut data_in = PipeReader::from_owned_fd(aria_io::stdio::stddati().unwrap().into())
            .expect("stddati as a PipeReader");
        let mut data_out = PipeWriter::from_owned_fd(aria_io::stdio::stddato().unwrap().into())
            .expect("stddato as a PipeWriter");
        let mut dbg = PipeWriter::from_owned_fd(aria_io::stdio::stddbg().unwrap().into())
            .expect("stddbg as a PipeWriter");
        let mut got = Vec::new();
        assert_eq!(data_in.read_to_end(&mut got).await.expect("read stddati"), 0);
        data_out.write_all(b"data").await.expect("write stddato");
        dbg.write_all(b"{\"ok\":true}\n").await.expect("write stddbg");
    });
}

#[test]
fn issue_10_stdio_streams_wrapped_as_pipes_work_in_a_child_whose_fds_3_to_5_are_closed() {
    run(async {
        // The shell closes fds 3-5 before it runs the helper, which checks they are closed.
        let mut c = Command::new("/bin/sh");
        c.args(["-c", r#"exec "$0" stdio-async closed 3>&- 4<&- 5>&-"#, HELPER]);
        c.stdout(Stdio::piped()).stderr(Stdio::piped());
        let out = c.output().await.expect("run the helper");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "helper failed: {:?}: {stderr}", out.status);
        assert!(out.stdout.is_empty(), "stddati was /dev/null, yet read {:?}", out.stdout);
    });
}

#[test]
fn issue_10_a_child_reads_a_regular_file_given_as_stddati_through_a_pipe_reader() {
    run(async {
        let dir = tempfile::tempdir().unwrap();
        let input = dir.path().join("in.bin");
        let output = dir.path().join("out.bin");
        let content = pattern(150 * 1024 + 3);
        std::fs::write(&input, &content).unwrap();
        let mut c = helper(&["stdio-async"]);
        c.stddati(File::open(&input).unwrap())
            .stddato(File::create(&output).unwrap())
            .stddbg(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let out = c.output().await.expect("run the helper");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "helper failed: {:?}: {stderr}", out.status);
        assert!(
            out.stdout == content,
            "stdout: {} bytes, not the file's {}",
            out.stdout.len(),
            content.len()
        );
        assert_eq!(String::from_utf8_lossy(&out.stddbg), format!("{{\"bytes\":{}}}\n", content.len()));
        assert!(std::fs::read(&output).unwrap() == content, "stddato (a regular file) differs");
    });
}

#[test]
fn issue_10_a_child_given_dev_null_as_stdio_streams_reads_nothing_and_writes_everywhere() {
    run(async {
        let mut c = helper(&["stdio-async"]);
        c.stddati(Stdio::null())
            .stddato(Stdio::null())
            .stddbg(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let out = c.output().await.expect("run the helper");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "helper failed: {:?}: {stderr}", out.status);
        assert!(out.stdout.is_empty());
    });
}

#[test]
fn a_pipe_reader_over_a_directory_is_refused_with_an_error_naming_the_descriptor() {
    run(async {
        #[allow(unused_mut)]
        let mut cases = vec![("O_DIRECTORY", libc::O_DIRECTORY)];
        #[cfg(target_os = "linux")]
        cases.push(("O_PATH", libc::O_PATH | libc::O_DIRECTORY));
        for (what, flags) in cases {
            let dir = std::fs::OpenOptions::new().read(true).custom_flags(flags).open("/").unwrap();
            let raw = dir.as_raw_fd();
            let err = PipeReader::from_owned_fd(dir.into()).expect_err(what);
            let msg = err.to_string();
            assert!(
                msg.contains(&format!("fd {raw}")) && msg.contains("register"),
                "{what}: the error names neither the descriptor nor the operation: {msg}"
            );
        }
    });
}

#[test]
fn a_pipe_reader_outside_a_runtime_is_an_error_not_a_panic() {
    let err = PipeReader::from_owned_fd(dev_null(false)).expect_err("outside a runtime");
    assert!(!err.to_string().is_empty());
}

#[test]
fn io_copy_from_dev_null_or_a_file_wrapped_as_a_pipe_takes_the_buffered_path() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("src");
    std::fs::write(&path, b"file contents\n").unwrap();
    run(async {
        // /dev/null -> pipe: nothing, and no EINVAL from splice.
        let null = std::fs::File::open("/dev/null").unwrap();
        let mut from_null = aria_io::io::PipeReader::from_owned_fd(null.into()).unwrap();
        let (mut r, mut w) = aria_io::io::pipe().unwrap();
        assert_eq!(aria_io::io::copy(&mut from_null, &mut w).await.unwrap(), 0);
        // A file wrapped as a PipeReader -> a pipe: its bytes.
        let file = std::fs::File::open(&path).unwrap();
        let mut from_file = aria_io::io::PipeReader::from_owned_fd(file.into()).unwrap();
        assert_eq!(aria_io::io::copy(&mut from_file, &mut w).await.unwrap(), 14);
        w.close().await.unwrap();
        let mut got = Vec::new();
        r.read_to_end(&mut got).await.unwrap();
        assert_eq!(got, b"file contents\n");
    });
}
