//! The process-wide blocking pool (see the [module docs](super) for the protocol).

use std::collections::VecDeque;
use std::io;
use std::sync::{Condvar, Mutex, MutexGuard, OnceLock};
use std::time::{Duration, Instant};

/// Default bound on the number of threads.
const DEFAULT_MAX_THREADS: usize = 512;
/// Default time an idle thread waits for work before it exits.
const DEFAULT_KEEP_ALIVE: Duration = Duration::from_secs(10);

type Job = Box<dyn FnOnce() + Send>;

pub(super) struct Pool {
    state: Mutex<State>,
    condvar: Condvar,
    max_threads: usize,
    keep_alive: Duration,
}

struct State {
    queue: VecDeque<Job>,
    /// Threads alive (running a job, idle, or about to take one).
    threads: usize,
    /// Threads waiting for work that no submitter has claimed yet.
    idle: usize,
    /// Wake-ups claimed by submitters and not yet consumed by a thread.
    notified: usize,
    /// Number given to the next thread's name.
    next_id: usize,
}

/// The pool, started on first use with the limits from the environment.
pub(super) fn global() -> &'static Pool {
    static POOL: OnceLock<Pool> = OnceLock::new();
    POOL.get_or_init(|| {
        let max_threads = env_number("ARIA_IO_BLOCKING_MAX_THREADS")
            .and_then(|n| usize::try_from(n).ok())
            .filter(|n| *n > 0)
            .unwrap_or(DEFAULT_MAX_THREADS);
        let keep_alive = env_number("ARIA_IO_BLOCKING_KEEP_ALIVE_MS")
            .map(Duration::from_millis)
            .unwrap_or(DEFAULT_KEEP_ALIVE);
        Pool {
            state: Mutex::new(State { queue: VecDeque::new(), threads: 0, idle: 0, notified: 0, next_id: 0 }),
            condvar: Condvar::new(),
            max_threads,
            keep_alive,
        }
    })
}

fn env_number(name: &str) -> Option<u64> {
    std::env::var(name).ok()?.trim().parse().ok()
}

impl Pool {
    fn lock(&self) -> MutexGuard<'_, State> {
        // Jobs run outside the lock and inside catch_unwind: no critical section can panic
        // half-way, so a poisoned lock still guards consistent data.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Queues `job(state)` once a thread is sure to take it; otherwise gives `state` back.
    pub(super) fn submit<S, J>(&'static self, state: S, job: J) -> Result<(), (S, io::Error)>
    where
        S: Send + 'static,
        J: FnOnce(S) + Send + 'static,
    {
        let mut st = self.lock();
        if let Err(e) = self.make_room(&mut st) {
            return Err((state, e));
        }
        st.queue.push_back(Box::new(move || job(state)));
        Ok(())
    }

    /// Makes sure a thread will take the next queued job: claims an idle thread, or starts
    /// one, or (at the bound, or if starting one failed while others live) relies on a busy
    /// thread draining the queue when it finishes.
    fn make_room(&'static self, st: &mut State) -> io::Result<()> {
        if st.idle > 0 {
            st.idle -= 1;
            st.notified += 1;
            self.condvar.notify_one();
            return Ok(());
        }
        if st.threads >= self.max_threads {
            return Ok(());
        }
        let id = st.next_id;
        st.next_id += 1;
        let spawned =
            std::thread::Builder::new().name(format!("aria-io-blocking-{id}")).spawn(move || self.work());
        match spawned {
            Ok(_detached) => {
                st.threads += 1;
                Ok(())
            }
            Err(_) if st.threads > 0 => Ok(()),
            Err(e) => Err(io::Error::new(e.kind(), format!("cannot start a blocking pool thread: {e}"))),
        }
    }

    /// A pool thread: runs jobs, waits for more, exits after the keep-alive.
    fn work(&self) {
        let mut st = self.lock();
        loop {
            while let Some(job) = st.queue.pop_front() {
                drop(st);
                job();
                st = self.lock();
            }
            st.idle += 1;
            let deadline = Instant::now() + self.keep_alive;
            loop {
                let now = Instant::now();
                let timeout = deadline.saturating_duration_since(now);
                st = match self.condvar.wait_timeout(st, timeout) {
                    Ok((guard, _)) => guard,
                    Err(p) => p.into_inner().0,
                };
                if st.notified > 0 {
                    // Claimed by a submitter (which already took us off `idle`).
                    st.notified -= 1;
                    break;
                }
                if Instant::now() >= deadline {
                    st.idle -= 1;
                    st.threads -= 1;
                    return;
                }
            }
        }
    }
}
