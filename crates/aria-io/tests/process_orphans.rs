//! Dropped children are reaped whether or not the driver turns: a spawn/drop loop that never
//! yields keeps descriptors proportional to the children alive. A test binary of its own: it
//! lowers the process's descriptor limit and counts open descriptors.

mod support;

use support::{helper, run};

fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd").unwrap().count()
}

fn set_nofile(soft: libc::rlim_t) -> libc::rlim_t {
    let mut lim = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: plain rlimit calls on a valid structure.
    unsafe {
        assert_eq!(libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim), 0);
        let old = lim.rlim_cur;
        lim.rlim_cur = soft.min(lim.rlim_max);
        assert_eq!(libc::setrlimit(libc::RLIMIT_NOFILE, &lim), 0);
        old
    }
}

#[test]
fn a_spawn_and_drop_loop_that_never_yields_stays_under_256_descriptors() {
    let old = set_nofile(256);
    run(async {
        // 2,000 children, each dropped at once without being waited for, and no await in the
        // loop: the driver never turns. Each spawn reaps the earlier orphans that have exited.
        for i in 0..2000 {
            let child = helper(&["exit", "0"]).spawn().unwrap_or_else(|e| panic!("spawn {i}: {e}"));
            drop(child);
        }
        assert!(open_fds() < 200, "{} descriptors open after the loop", open_fds());
    });
    set_nofile(old);
}
