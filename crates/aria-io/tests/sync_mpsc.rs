//! mpsc channels: ordering, backpressure, close semantics, cancellation, and producers and
//! consumers on other threads and other executors.

mod support;

use std::future::Future;
use std::pin::pin;
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};
use std::time::Duration;

use aria_io::sync::mpsc::{self, SendError, TryRecvError, TrySendError};
use aria_io::time::timeout;
use support::{run, run_current_thread};

/// A plain executor: polls `f` on this thread, parking between polls.
fn block_on<F: Future>(f: F) -> F::Output {
    struct Unpark(std::thread::Thread);
    impl Wake for Unpark {
        fn wake(self: Arc<Self>) {
            self.0.unpark();
        }
    }
    let waker = Waker::from(Arc::new(Unpark(std::thread::current())));
    let mut f = pin!(f);
    loop {
        if let Poll::Ready(v) = f.as_mut().poll(&mut Context::from_waker(&waker)) {
            return v;
        }
        std::thread::park();
    }
}

#[test]
fn messages_from_one_sender_arrive_in_order() {
    run(async {
        let (tx, mut rx) = mpsc::channel(4);
        aria_io::spawn(async move {
            for i in 0..100 {
                tx.send(i).await.unwrap();
            }
        });
        for i in 0..100 {
            assert_eq!(rx.recv().await, Some(i));
        }
        assert_eq!(rx.recv().await, None);
    });
}

#[test]
fn a_full_channel_holds_senders_back_until_the_receiver_drains() {
    run_current_thread(async {
        let (tx, mut rx) = mpsc::channel(2);
        let producer = aria_io::spawn(async move {
            for i in 0..10 {
                tx.send(i).await.unwrap();
            }
        });
        for _ in 0..5 {
            aria_io::yield_now().await;
        }
        assert_eq!(rx.len(), 2, "the producer must wait once two messages are queued");
        assert!(!producer.is_finished());
        let mut got = Vec::new();
        while let Some(v) = rx.recv().await {
            got.push(v);
            assert!(rx.len() <= 2);
        }
        assert_eq!(got, (0..10).collect::<Vec<_>>());
        producer.await.unwrap();
    });
}

#[test]
fn senders_waiting_for_room_are_served_first_come_first_served() {
    // One thread, so each sender waits before the next one is spawned.
    run_current_thread(async {
        let (tx, mut rx) = mpsc::channel(1);
        tx.send(0).await.unwrap();
        for id in 1..=5 {
            let tx = tx.clone();
            aria_io::spawn(async move { tx.send(id).await.unwrap() });
            aria_io::yield_now().await; // let it queue before the next one starts
        }
        drop(tx);
        let mut got = Vec::new();
        while let Some(v) = rx.recv().await {
            got.push(v);
        }
        assert_eq!(got, [0, 1, 2, 3, 4, 5]);
    });
}

#[test]
fn recv_returns_none_only_after_every_sender_is_gone_and_the_queue_is_drained() {
    run(async {
        let (tx, mut rx) = mpsc::channel(8);
        let tx2 = tx.clone();
        tx.send(1).await.unwrap();
        drop(tx);
        assert_eq!(rx.try_recv(), Ok(1));
        assert_eq!(rx.try_recv(), Err(TryRecvError::Empty), "tx2 is still alive");
        aria_io::spawn(async move {
            aria_io::time::sleep(Duration::from_millis(5)).await;
            tx2.send(2).await.unwrap();
        });
        assert_eq!(rx.recv().await, Some(2));
        assert_eq!(rx.recv().await, None);
        assert_eq!(rx.try_recv(), Err(TryRecvError::Disconnected));
    });
}

#[test]
fn a_send_to_a_dropped_receiver_hands_the_value_back() {
    run(async {
        let (tx, rx) = mpsc::channel(1);
        tx.send(String::from("queued")).await.unwrap();
        let waiting = {
            let tx = tx.clone();
            aria_io::spawn(async move { tx.send(String::from("waiting")).await })
        };
        aria_io::yield_now().await;
        drop(rx);
        assert_eq!(waiting.await.unwrap(), Err(SendError(String::from("waiting"))));
        assert_eq!(tx.send(String::from("late")).await, Err(SendError(String::from("late"))));
        assert_eq!(tx.try_send(String::from("try")), Err(TrySendError::Closed(String::from("try"))));
        assert!(tx.is_closed());
    });
}

#[test]
fn sender_closed_completes_when_the_receiver_closes_and_queued_messages_remain() {
    run(async {
        let (tx, mut rx) = mpsc::channel(4);
        tx.send(1).await.unwrap();
        let watcher = {
            let tx = tx.clone();
            aria_io::spawn(async move { tx.closed().await })
        };
        aria_io::yield_now().await;
        assert!(!watcher.is_finished());
        rx.close();
        watcher.await.unwrap();
        assert!(tx.send(2).await.is_err());
        assert_eq!(rx.recv().await, Some(1));
        assert_eq!(rx.recv().await, None, "closed and drained, although a sender is alive");
    });
}

#[test]
fn a_send_cancelled_while_waiting_for_room_enqueues_nothing_and_keeps_capacity() {
    run(async {
        let (tx, mut rx) = mpsc::channel(1);
        tx.send(1).await.unwrap();
        for i in 0..100 {
            assert!(timeout(Duration::ZERO, tx.send(100 + i)).await.is_err());
        }
        assert_eq!(rx.recv().await, Some(1));
        assert_eq!(rx.try_recv(), Err(TryRecvError::Empty), "no cancelled send was enqueued");
        assert_eq!(tx.capacity(), 1, "no slot leaked to a cancelled send");
        tx.try_send(2).unwrap();
        assert_eq!(rx.recv().await, Some(2));
    });
}

#[test]
fn receives_cancelled_by_timeouts_lose_no_message() {
    run(async {
        let (tx, mut rx) = mpsc::unbounded_channel();
        let producer = std::thread::spawn(move || {
            for i in 0..2000u32 {
                tx.send(i).unwrap();
                if i % 64 == 0 {
                    std::thread::sleep(Duration::from_micros(200));
                }
            }
        });
        let mut got = Vec::new();
        loop {
            match timeout(Duration::from_micros(50), rx.recv()).await {
                Ok(Some(v)) => got.push(v),
                Ok(None) => break,
                Err(_) => continue, // cancelled mid-wait
            }
        }
        producer.join().unwrap();
        assert_eq!(got, (0..2000).collect::<Vec<_>>());
    });
}

#[test]
fn senders_on_std_threads_wake_a_receiver_on_the_runtime() {
    run(async {
        let (tx, mut rx) = mpsc::channel(16);
        let threads: Vec<_> = (0..4u32)
            .map(|t| {
                let tx = tx.clone();
                std::thread::spawn(move || {
                    for i in 0..1000u32 {
                        tx.blocking_send((t, i)).unwrap();
                    }
                })
            })
            .collect();
        drop(tx);
        let mut next = [0u32; 4];
        while let Some((t, i)) = rx.recv().await {
            assert_eq!(next[t as usize], i, "messages of one thread stay in order");
            next[t as usize] += 1;
        }
        assert_eq!(next, [1000; 4]);
        for t in threads {
            t.join().unwrap();
        }
    });
}

#[test]
fn unbounded_senders_on_std_threads_wake_a_receiver_on_the_runtime() {
    run(async {
        let (tx, mut rx) = mpsc::unbounded_channel();
        let threads: Vec<_> = (0..4u64)
            .map(|t| {
                let tx = tx.clone();
                std::thread::spawn(move || {
                    for i in 0..1000 {
                        tx.send(t * 1000 + i).unwrap();
                    }
                })
            })
            .collect();
        drop(tx);
        let mut buf = Vec::new();
        while rx.recv_many(&mut buf, 64).await > 0 {}
        buf.sort();
        assert_eq!(buf, (0..4000).collect::<Vec<_>>());
        for t in threads {
            t.join().unwrap();
        }
    });
}

#[test]
fn a_receiver_on_a_plain_thread_executor_gets_messages_from_runtime_tasks() {
    let (tx, mut rx) = mpsc::channel(2);
    let runtime = std::thread::spawn(move || {
        run(async move {
            for i in 0..50 {
                let tx = tx.clone();
                aria_io::spawn(async move { tx.send(i).await.unwrap() }).await.unwrap();
            }
        })
    });
    let got = block_on(async {
        let mut got = Vec::new();
        while let Some(v) = rx.recv().await {
            got.push(v);
        }
        got
    });
    runtime.join().unwrap();
    assert_eq!(got, (0..50).collect::<Vec<_>>());
}

#[test]
fn receivers_are_streams() {
    use futures_util::StreamExt;
    run(async {
        let (tx, rx) = mpsc::unbounded_channel();
        for i in 0..3 {
            tx.send(i).unwrap();
        }
        drop(tx);
        assert_eq!(rx.collect::<Vec<_>>().await, [0, 1, 2]);
    });
}

#[test]
fn blocking_recv_inside_the_runtime_panics_instead_of_deadlocking() {
    let result = std::panic::catch_unwind(|| {
        run(async {
            let (_tx, mut rx) = mpsc::channel::<u8>(1);
            rx.blocking_recv()
        })
    });
    assert!(result.is_err());
}
