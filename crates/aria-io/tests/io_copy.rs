//! `io::copy`: splice between pipes, the buffered fallback, and error reporting.

mod support;

use aria_io::process::Stdio;
use support::{helper, run};

fn pattern(n: usize) -> Vec<u8> {
    (0..n).map(|i| (i % 251) as u8).collect()
}

#[test]
fn copy_moves_a_childs_stdout_into_another_childs_stdin_byte_for_byte() {
    run(async {
        let size = 20 << 20;
        let mut producer = helper(&["emit", "1", &size.to_string()]);
        producer.stdout(Stdio::piped());
        let mut producer = producer.spawn().unwrap();
        let mut consumer = helper(&["cat"]);
        consumer.stdin(Stdio::piped()).stdout(Stdio::piped());
        let mut consumer = consumer.spawn().unwrap();
        let mut from = producer.stdout.take().unwrap();
        let mut to = consumer.stdin.take().unwrap();
        let mut back = consumer.stdout.take().unwrap();
        let collector = aria_io::spawn(async move {
            let mut got = Vec::new();
            back.read_to_end(&mut got).await.map(|_| got)
        });
        let n = aria_io::io::copy(&mut from, &mut to).await.unwrap();
        drop(to);
        assert_eq!(n, size as u64);
        // The helper writes a 64 KiB block of the pattern over and over.
        let expected = pattern(64 * 1024).repeat(size / (64 * 1024));
        let got = collector.await.unwrap().unwrap();
        assert_eq!(got.len(), expected.len());
        assert!(got == expected, "the bytes differ");
        assert!(producer.wait().await.unwrap().success());
        assert!(consumer.wait().await.unwrap().success());
    });
}

#[test]
fn copy_into_a_pipe_whose_reader_is_gone_reports_broken_pipe() {
    run(async {
        let mut producer = helper(&["emit", "1", "10000000"]);
        producer.stdout(Stdio::piped());
        let mut producer = producer.spawn().unwrap();
        let (mut to, from_end) = aria_io::io::pipe().unwrap();
        drop(from_end);
        let mut from = producer.stdout.take().unwrap();
        let err = aria_io::io::copy(&mut from, &mut to).await.unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::BrokenPipe);
        drop(from);
        producer.wait().await.unwrap();
    });
}

#[test]
fn copy_between_non_pipe_types_uses_the_buffered_path() {
    use futures_util::io::Cursor;
    run(async {
        let data = pattern(300_000);
        let mut src = Cursor::new(data.clone());
        let mut dst = Cursor::new(Vec::new());
        let n = aria_io::io::copy(&mut src, &mut dst).await.unwrap();
        assert_eq!(n, data.len() as u64);
        assert_eq!(dst.into_inner(), data);
    });
}
