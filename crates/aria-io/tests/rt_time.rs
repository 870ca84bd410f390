//! Timers: sleep, sleep_until, timeout, interval. Assertions are about ordering and "never
//! early", not about speed.

mod support;

use std::time::{Duration, Instant};

use aria_io::time::{interval, sleep, sleep_until, timeout, MissedTickBehavior};
use support::run;

#[test]
fn sleep_never_completes_early() {
    run(async {
        for ms in [0u64, 1, 2, 5, 17, 64, 65, 100] {
            let start = Instant::now();
            sleep(Duration::from_millis(ms)).await;
            assert!(start.elapsed() >= Duration::from_millis(ms), "{ms} ms sleep woke early");
        }
    });
}

#[test]
fn sleeps_complete_in_deadline_order() {
    run(async {
        let order = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let mut hs = Vec::new();
        for ms in [50u64, 10, 30, 20, 40] {
            let o = order.clone();
            hs.push(aria_io::spawn(async move {
                sleep(Duration::from_millis(ms)).await;
                o.lock().unwrap().push(ms);
            }));
        }
        for h in hs {
            h.await.unwrap();
        }
        assert_eq!(*order.lock().unwrap(), vec![10, 20, 30, 40, 50]);
    });
}

#[test]
fn sleep_until_a_past_deadline_completes() {
    run(async {
        sleep_until(Instant::now() - Duration::from_secs(1)).await;
    });
}

#[test]
fn timeout_returns_the_value_or_elapsed() {
    run(async {
        assert_eq!(timeout(Duration::from_secs(60), async { 5 }).await, Ok(5));
        let r = timeout(Duration::from_millis(10), sleep(Duration::from_secs(3600))).await;
        assert!(r.is_err());
    });
}

#[test]
fn ten_thousand_timers_all_fire() {
    run(async {
        let hs: Vec<_> = (0..10_000u64)
            .map(|i| aria_io::spawn(async move { sleep(Duration::from_millis(i % 97)).await }))
            .collect();
        for h in hs {
            h.await.unwrap();
        }
    });
}

#[test]
fn dropping_a_sleep_cancels_its_timer() {
    run(async {
        for _ in 0..1000 {
            let s = sleep(Duration::from_secs(3600));
            let _ = timeout(Duration::ZERO, s).await;
        }
        sleep(Duration::from_millis(1)).await;
    });
}

#[test]
fn interval_ticks_at_the_period_and_first_tick_is_immediate() {
    run(async {
        let start = Instant::now();
        let mut iv = interval(Duration::from_millis(10));
        let first = iv.tick().await;
        assert!(first <= Instant::now());
        for k in 1..=5u32 {
            let t = iv.tick().await;
            assert_eq!(t, first + Duration::from_millis(10) * k);
            assert!(Instant::now() >= t);
        }
        assert!(start.elapsed() >= Duration::from_millis(50));
        iv.set_missed_tick_behavior(MissedTickBehavior::Skip);
    });
}

#[test]
fn sleep_reset_moves_the_deadline() {
    run(async {
        let start = Instant::now();
        let mut s = Box::pin(sleep(Duration::from_secs(3600)));
        let _ = timeout(Duration::ZERO, s.as_mut()).await; // registers the timer
        s.as_mut().reset(Instant::now() + Duration::from_millis(20));
        s.await;
        assert!(start.elapsed() >= Duration::from_millis(20));
    });
}
