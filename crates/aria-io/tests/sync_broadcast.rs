//! broadcast: fan-out, lagging receivers, closing, cancellation.

mod support;

use std::time::Duration;

use aria_io::sync::broadcast::{self, RecvError, TryRecvError};
use aria_io::time::timeout;
use support::run;

#[test]
fn every_receiver_sees_every_value_in_order() {
    run(async {
        let (tx, rx) = broadcast::channel(128); // room for everything: nobody lags
        let mut receivers = vec![rx];
        receivers.extend((0..3).map(|_| tx.subscribe()));
        let tasks: Vec<_> = receivers
            .into_iter()
            .map(|mut rx| {
                aria_io::spawn(async move {
                    let mut got = Vec::new();
                    loop {
                        match rx.recv().await {
                            Ok(v) => got.push(v),
                            Err(RecvError::Closed) => break got,
                            Err(e) => panic!("{e} after {got:?}"),
                        }
                    }
                })
            })
            .collect();
        for i in 0..100 {
            assert_eq!(tx.send(i).unwrap(), 4);
            if i % 8 == 0 {
                aria_io::yield_now().await;
            }
        }
        drop(tx);
        for t in tasks {
            assert_eq!(t.await.unwrap(), (0..100).collect::<Vec<_>>());
        }
    });
}

#[test]
fn a_lagging_receiver_is_told_how_many_values_it_missed() {
    run(async {
        let (tx, mut rx) = broadcast::channel(4);
        for i in 0..10 {
            tx.send(i).unwrap();
        }
        assert_eq!(rx.recv().await, Err(RecvError::Lagged(6)));
        for i in 6..10 {
            assert_eq!(rx.recv().await, Ok(i));
        }
        assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    });
}

#[test]
fn recv_reports_closed_after_the_last_sender_drops_and_values_are_drained() {
    run(async {
        let (tx, mut rx) = broadcast::channel(4);
        let tx2 = tx.clone();
        tx.send(1).unwrap();
        drop(tx);
        let waiter = aria_io::spawn(async move { (rx.recv().await, rx.recv().await, rx.recv().await) });
        aria_io::yield_now().await;
        tx2.send(2).unwrap();
        drop(tx2);
        assert_eq!(waiter.await.unwrap(), (Ok(1), Ok(2), Err(RecvError::Closed)));
    });
}

#[test]
fn a_receiver_only_sees_values_sent_after_it_subscribed() {
    let (tx, _rx) = broadcast::channel(4);
    tx.send("before").unwrap();
    let mut late = tx.subscribe();
    tx.send("after").unwrap();
    assert_eq!(late.try_recv(), Ok("after"));
    assert_eq!(late.try_recv(), Err(TryRecvError::Empty));
}

#[test]
fn receives_cancelled_by_timeouts_lose_no_value() {
    run(async {
        let (tx, mut rx) = broadcast::channel(1024);
        let producer = std::thread::spawn(move || {
            for i in 0..500u32 {
                tx.send(i).unwrap();
                if i % 32 == 0 {
                    std::thread::sleep(Duration::from_micros(300));
                }
            }
        });
        let mut got = Vec::new();
        loop {
            match timeout(Duration::from_micros(50), rx.recv()).await {
                Ok(Ok(v)) => got.push(v),
                Ok(Err(e)) => {
                    assert_eq!(e, RecvError::Closed);
                    break;
                }
                Err(_) => continue,
            }
        }
        producer.join().unwrap();
        assert_eq!(got, (0..500).collect::<Vec<_>>());
    });
}

#[test]
fn send_fails_once_every_receiver_is_gone() {
    let (tx, rx) = broadcast::channel(2);
    drop(rx);
    assert_eq!(tx.receiver_count(), 0);
    assert!(tx.send(1).is_err());
}
