//! oneshot: delivery, the two ways of closing, cancellation, other threads.

mod support;

use std::time::Duration;

use aria_io::sync::oneshot::{self, TryRecvError};
use aria_io::time::timeout;
use support::run;

#[test]
fn the_value_reaches_a_receiver_in_another_task() {
    run(async {
        let (tx, rx) = oneshot::channel();
        let receiver = aria_io::spawn(rx);
        aria_io::yield_now().await;
        tx.send(vec![1, 2, 3]).unwrap();
        assert_eq!(receiver.await.unwrap(), Ok(vec![1, 2, 3]));
    });
}

#[test]
fn dropping_the_sender_completes_the_receiver_with_an_error() {
    run(async {
        let (tx, rx) = oneshot::channel::<u8>();
        let receiver = aria_io::spawn(rx);
        aria_io::yield_now().await;
        drop(tx);
        assert!(receiver.await.unwrap().is_err());
    });
}

#[test]
fn send_hands_the_value_back_when_the_receiver_is_gone() {
    let (tx, rx) = oneshot::channel();
    drop(rx);
    assert!(tx.is_closed());
    assert_eq!(tx.send("unwanted"), Err("unwanted"));
}

#[test]
fn sender_closed_completes_when_the_receiver_is_dropped() {
    run(async {
        let (mut tx, rx) = oneshot::channel::<u8>();
        let producer = aria_io::spawn(async move {
            tx.closed().await;
            tx.is_closed()
        });
        aria_io::time::sleep(Duration::from_millis(5)).await;
        assert!(!producer.is_finished());
        drop(rx);
        assert!(producer.await.unwrap());
    });
}

#[test]
fn a_receive_cancelled_by_a_timeout_leaves_the_value_for_the_next_await() {
    run(async {
        let (tx, mut rx) = oneshot::channel();
        assert!(timeout(Duration::ZERO, &mut rx).await.is_err());
        assert!(timeout(Duration::from_millis(2), &mut rx).await.is_err());
        tx.send(7).unwrap();
        assert_eq!(timeout(Duration::from_secs(5), &mut rx).await, Ok(Ok(7)));
        assert_eq!(rx.try_recv(), Err(TryRecvError::Closed), "the value was received once");
    });
}

#[test]
fn a_value_sent_from_a_std_thread_wakes_the_runtime() {
    run(async {
        let (tx, rx) = oneshot::channel();
        let t = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(10));
            tx.send(std::thread::current().id()).unwrap();
        });
        let id = rx.await.unwrap();
        assert_eq!(id, t.thread().id());
        t.join().unwrap();
    });
}

#[test]
fn a_std_thread_blocks_on_a_value_sent_by_a_runtime_task() {
    let (tx, rx) = oneshot::channel();
    let waiter = std::thread::spawn(move || rx.blocking_recv());
    run(async move {
        aria_io::time::sleep(Duration::from_millis(5)).await;
        tx.send(42).unwrap();
    });
    assert_eq!(waiter.join().unwrap(), Ok(42));
}
