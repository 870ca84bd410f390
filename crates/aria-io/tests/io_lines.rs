//! `io::LineDrainer`: whole lines whatever the write sizes, a bounded queue, backpressure,
//! dropping the oldest lines, lines longer than the capacity, and a child's stddbg.

mod support;

use aria_io::io::{pipe, LineDrainer, Overflow};
use aria_io::process::{Command, Stdio};
use support::run;

fn line(stream: usize, i: usize) -> String {
    format!("{{\"stream\":{stream},\"n\":{i},\"pad\":\"{}\"}}", "x".repeat(i % 23))
}

/// The bytes of `lines` lines of `stream`, each with its newline.
fn text(stream: usize, lines: usize) -> Vec<u8> {
    (0..lines).flat_map(|i| format!("{}\n", line(stream, i)).into_bytes()).collect()
}

#[test]
fn lines_arrive_whole_and_in_order_whatever_the_write_sizes() {
    run(async {
        let (reader, mut writer) = pipe().unwrap();
        let drainer = LineDrainer::new(100, Overflow::Backpressure);
        let pump = aria_io::spawn(drainer.clone().pump(reader));
        let bytes = text(0, 500);
        let writing = aria_io::spawn(async move {
            // Writes of 1 to 37 bytes, cutting lines anywhere.
            let mut at = 0;
            let mut size = 1;
            while at < bytes.len() {
                let end = (at + size).min(bytes.len());
                writer.write_all(&bytes[at..end]).await.unwrap();
                at = end;
                size = size % 37 + 1;
            }
        });
        let mut got = Vec::new();
        while let Some(l) = drainer.next_line().await {
            assert!(drainer.queued_bytes() <= 100);
            got.push(String::from_utf8(l).unwrap());
        }
        writing.await.unwrap();
        pump.await.unwrap().unwrap();
        let want: Vec<String> = (0..500).map(|i| line(0, i)).collect();
        assert_eq!(got, want);
        assert_eq!(drainer.dropped(), 0);
    });
}

#[test]
fn backpressure_stops_reading_until_lines_are_taken_and_loses_none() {
    run(async {
        let (reader, mut writer) = pipe().unwrap();
        let drainer = LineDrainer::new(256, Overflow::Backpressure);
        let pump = aria_io::spawn(drainer.clone().pump(reader));
        // More than the pipe (64 KiB) and the queue hold together: the writer can only
        // finish if the taker below makes room.
        let bytes = text(1, 20_000);
        let total = bytes.len();
        assert!(total > 300 * 1024);
        let writing = aria_io::spawn(async move { writer.write_all(&bytes).await.unwrap() });
        let mut n = 0;
        while let Some(l) = drainer.next_line().await {
            assert_eq!(String::from_utf8(l).unwrap(), line(1, n));
            assert!(drainer.queued_bytes() <= 256);
            n += 1;
        }
        writing.await.unwrap();
        pump.await.unwrap().unwrap();
        assert_eq!(n, 20_000);
    });
}

#[test]
fn a_hundred_streams_of_a_thousand_lines_are_each_drained_whole() {
    run(async {
        let mut drainers = Vec::new();
        let mut tasks = Vec::new();
        for s in 0..100 {
            let (reader, mut writer) = pipe().unwrap();
            let drainer = LineDrainer::new(4096, Overflow::Backpressure);
            tasks.push(aria_io::spawn(drainer.clone().pump(reader)));
            let bytes = text(s, 1000);
            aria_io::spawn(async move { writer.write_all(&bytes).await.unwrap() });
            drainers.push(drainer);
        }
        let mut next = vec![0usize; 100];
        let mut open = 100;
        while open > 0 {
            open = 0;
            for (s, d) in drainers.iter().enumerate() {
                for l in d.take_all() {
                    assert_eq!(String::from_utf8(l).unwrap(), line(s, next[s]));
                    next[s] += 1;
                }
                if !(d.is_closed() && d.queued_bytes() == 0) {
                    open += 1;
                }
            }
            aria_io::yield_now().await;
        }
        for t in tasks {
            t.await.unwrap().unwrap();
        }
        assert!(next.iter().all(|&n| n == 1000), "{next:?}");
    });
}

#[test]
fn drop_oldest_keeps_the_latest_lines_without_stalling_the_writer() {
    run(async {
        let (reader, mut writer) = pipe().unwrap();
        let drainer = LineDrainer::new(1000, Overflow::DropOldest);
        let pump = aria_io::spawn(drainer.clone().pump(reader));
        // Nobody takes lines while the writer runs: it must still finish.
        writer.write_all(&text(2, 10_000)).await.unwrap();
        drop(writer);
        pump.await.unwrap().unwrap();
        let kept: Vec<String> =
            drainer.take_all().into_iter().map(|l| String::from_utf8(l).unwrap()).collect();
        assert!(!kept.is_empty());
        let bytes: usize = kept.iter().map(|l| l.len() + 1).sum();
        assert!(bytes <= 1000);
        let first = 10_000 - kept.len();
        let want: Vec<String> = (first..10_000).map(|i| line(2, i)).collect();
        assert_eq!(kept, want);
        assert_eq!(drainer.dropped(), first as u64);
    });
}

#[test]
fn a_line_longer_than_the_capacity_is_cut_and_the_next_one_is_whole() {
    run(async {
        let (reader, mut writer) = pipe().unwrap();
        let drainer = LineDrainer::new(16, Overflow::Backpressure);
        let pump = aria_io::spawn(drainer.clone().pump(reader));
        writer.write_all(format!("short\n{}\nafter\nlast", "y".repeat(100)).as_bytes()).await.unwrap();
        drop(writer);
        let mut got = Vec::new();
        while let Some(l) = drainer.next_line().await {
            got.push(String::from_utf8(l).unwrap());
        }
        pump.await.unwrap().unwrap();
        assert_eq!(got, ["short", &"y".repeat(15), "after", "last"]);
        assert_eq!(drainer.truncated(), 1);
    });
}

#[test]
fn a_childs_stddbg_telemetry_is_drained_line_by_line() {
    run(async {
        let mut child = Command::new("sh")
            .arg("-c")
            .arg("for i in 1 2 3; do printf '{\"n\":%s}\\n' $i >&3; done")
            .stddbg(Stdio::piped())
            .spawn()
            .unwrap();
        let stddbg = child.stddbg.take().unwrap();
        let drainer = LineDrainer::new(1024, Overflow::Backpressure);
        let pump = aria_io::spawn(drainer.clone().pump(stddbg));
        let mut got = Vec::new();
        while let Some(l) = drainer.next_line().await {
            got.push(String::from_utf8(l).unwrap());
        }
        pump.await.unwrap().unwrap();
        assert!(child.wait().await.unwrap().success());
        assert_eq!(got, ["{\"n\":1}", "{\"n\":2}", "{\"n\":3}"]);
    });
}
