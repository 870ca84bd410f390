//! watch: change notification, latest-value semantics, closing, cancellation, threads.

mod support;

use std::time::Duration;

use aria_io::sync::watch;
use aria_io::time::timeout;
use support::run;

#[test]
fn changed_wakes_a_waiting_receiver() {
    run(async {
        let (tx, mut rx) = watch::channel(0);
        let observer = aria_io::spawn(async move {
            rx.changed().await.unwrap();
            *rx.borrow_and_update()
        });
        aria_io::yield_now().await;
        assert!(!observer.is_finished());
        tx.send(5).unwrap();
        assert_eq!(observer.await.unwrap(), 5);
    });
}

#[test]
fn a_slow_receiver_sees_only_the_latest_value() {
    run(async {
        let (tx, mut rx) = watch::channel(0);
        for i in 1..=10 {
            tx.send(i).unwrap();
        }
        rx.changed().await.unwrap();
        assert_eq!(*rx.borrow_and_update(), 10);
        assert!(timeout(Duration::from_millis(5), rx.changed()).await.is_err(), "ten sends, one change");
    });
}

#[test]
fn every_receiver_is_notified_of_each_change() {
    run(async {
        let (tx, rx) = watch::channel(String::new());
        let observers: Vec<_> = (0..4)
            .map(|_| {
                let mut rx = rx.clone();
                aria_io::spawn(async move {
                    rx.changed().await.unwrap();
                    rx.borrow().clone()
                })
            })
            .collect();
        aria_io::yield_now().await;
        tx.send_modify(|s| s.push_str("edited"));
        for o in observers {
            assert_eq!(o.await.unwrap(), "edited");
        }
    });
}

#[test]
fn send_if_modified_notifies_only_when_it_modified() {
    run(async {
        let (tx, mut rx) = watch::channel(1);
        assert!(!tx.send_if_modified(|v| std::mem::replace(v, 1) != 1));
        assert!(timeout(Duration::from_millis(5), rx.changed()).await.is_err());
        assert!(tx.send_if_modified(|v| std::mem::replace(v, 2) != 2));
        rx.changed().await.unwrap();
        assert_eq!(*rx.borrow(), 2);
    });
}

#[test]
fn changed_fails_once_the_sender_is_dropped_and_everything_was_seen() {
    run(async {
        let (tx, mut rx) = watch::channel(0);
        let observer = aria_io::spawn(async move {
            let mut seen = Vec::new();
            while rx.changed().await.is_ok() {
                seen.push(*rx.borrow_and_update());
            }
            seen
        });
        aria_io::yield_now().await;
        tx.send(1).unwrap();
        aria_io::yield_now().await;
        tx.send(2).unwrap();
        drop(tx);
        let seen = observer.await.unwrap();
        assert_eq!(seen.last(), Some(&2), "the last value is seen before the error");
    });
}

#[test]
fn a_cancelled_changed_misses_no_change() {
    run(async {
        let (tx, mut rx) = watch::channel(0);
        assert!(timeout(Duration::ZERO, rx.changed()).await.is_err());
        tx.send(1).unwrap();
        assert!(timeout(Duration::ZERO, std::future::pending::<()>()).await.is_err());
        assert_eq!(timeout(Duration::ZERO, rx.changed()).await, Ok(Ok(())));
    });
}

#[test]
fn sender_closed_completes_when_every_receiver_is_dropped() {
    run(async {
        let (tx, rx) = watch::channel(());
        let rx2 = rx.clone();
        let closer = aria_io::spawn(async move {
            aria_io::time::sleep(Duration::from_millis(5)).await;
            drop((rx, rx2));
        });
        tx.closed().await;
        assert!(tx.is_closed());
        assert!(tx.send(()).is_err());
        closer.await.unwrap();
    });
}

#[test]
fn a_sender_on_a_std_thread_wakes_a_receiver_on_the_runtime() {
    run(async {
        let (tx, mut rx) = watch::channel(0u32);
        let t = std::thread::spawn(move || {
            for i in 1..=1000 {
                tx.send_replace(i);
            }
        });
        let mut last = 0;
        while rx.changed().await.is_ok() {
            let v = *rx.borrow_and_update();
            assert!(v > last, "values only move forward");
            last = v;
        }
        assert_eq!(last, 1000);
        t.join().unwrap();
    });
}
