//! What the scenarios measure about the benchmark process itself: CPU time (getrusage), the
//! thread count and peak RSS (/proc/self/status), allocations (a counting global allocator),
//! and small statistics helpers.

use std::alloc::{GlobalAlloc, Layout, System};
use std::io;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

/// A global allocator that forwards to [`System`] and, while counting is switched on, adds up
/// the number and the bytes of allocations (reallocations count as one allocation of the
/// new size minus the old one, so growing a buffer counts only the growth).
#[derive(Debug)]
pub struct CountingAlloc;

static COUNTING: AtomicBool = AtomicBool::new(false);
static ALLOCS: AtomicU64 = AtomicU64::new(0);
static BYTES: AtomicU64 = AtomicU64::new(0);

// SAFETY: every method forwards to `System` with the caller's arguments unchanged; the
// counters are plain atomics and never allocate.
unsafe impl GlobalAlloc for CountingAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count(layout.size() as u64);
        // SAFETY: forwarded contract.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        count(layout.size() as u64);
        // SAFETY: forwarded contract.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded contract.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count(new_size.saturating_sub(layout.size()) as u64);
        // SAFETY: forwarded contract.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[inline]
fn count(bytes: u64) {
    if COUNTING.load(Ordering::Relaxed) {
        ALLOCS.fetch_add(1, Ordering::Relaxed);
        BYTES.fetch_add(bytes, Ordering::Relaxed);
    }
}

/// Allocation counters at one instant.
#[derive(Debug, Clone, Copy)]
pub struct AllocSnapshot {
    /// Number of allocations (and growing reallocations) so far.
    pub allocs: u64,
    /// Bytes allocated so far.
    pub bytes: u64,
}

/// Switches allocation counting on or off (off by default, so the other scenarios pay one
/// relaxed load per allocation and no shared-counter traffic).
pub fn set_alloc_counting(on: bool) {
    COUNTING.store(on, Ordering::SeqCst);
}

/// The allocation counters now.
pub fn alloc_snapshot() -> AllocSnapshot {
    AllocSnapshot { allocs: ALLOCS.load(Ordering::SeqCst), bytes: BYTES.load(Ordering::SeqCst) }
}

/// User plus system CPU time of this process (every thread, getrusage(RUSAGE_SELF)).
pub fn cpu_time() -> Duration {
    let (user, system) = rusage_split(libc::RUSAGE_SELF);
    user + system
}

/// User CPU time of this process alone (every thread, getrusage(RUSAGE_SELF) `ru_utime`): the
/// runtime's and the program's own work, without the kernel's.
pub fn user_cpu_time() -> Duration {
    rusage_split(libc::RUSAGE_SELF).0
}

/// User plus system CPU time of this process's reaped children (getrusage(RUSAGE_CHILDREN)).
pub fn children_cpu_time() -> Duration {
    rusage(libc::RUSAGE_CHILDREN)
}

fn rusage(who: libc::c_int) -> Duration {
    let (user, system) = rusage_split(who);
    user + system
}

/// (user, system) CPU time of getrusage(2)'s `who`.
fn rusage_split(who: libc::c_int) -> (Duration, Duration) {
    // SAFETY: rusage is plain old data; getrusage fills it.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: `ru` is valid for writes; `who` is RUSAGE_SELF or RUSAGE_CHILDREN.
    unsafe { libc::getrusage(who, &mut ru) };
    let tv = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
    (tv(ru.ru_utime), tv(ru.ru_stime))
}

/// A field of /proc/self/status (`Threads`, `VmHWM` in KiB...), as a number.
///
/// # Errors
/// If the file cannot be read or has no such field.
pub fn proc_status(field: &str) -> io::Result<u64> {
    let text = std::fs::read_to_string("/proc/self/status")?;
    text.lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .ok_or_else(|| io::Error::other(format!("no {field} in /proc/self/status")))
}

/// The number of threads of this process.
pub fn thread_count() -> io::Result<u64> {
    proc_status("Threads")
}

/// Peak resident set size of this process, in bytes.
pub fn peak_rss() -> io::Result<u64> {
    Ok(proc_status("VmHWM")? * 1024)
}

/// Raises the soft RLIMIT_NOFILE to the hard limit (thousands of children each hold a few
/// descriptors in the parent). Returns the new soft limit.
pub fn raise_nofile() -> io::Result<u64> {
    // SAFETY: rlimit is plain old data; getrlimit fills it.
    let mut rl: libc::rlimit = unsafe { std::mem::zeroed() };
    // SAFETY: `rl` is valid for writes.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut rl) } != 0 {
        return Err(io::Error::last_os_error());
    }
    if rl.rlim_cur < rl.rlim_max {
        rl.rlim_cur = rl.rlim_max;
        // SAFETY: `rl` is a valid rlimit with soft <= hard.
        if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &rl) } != 0 {
            return Err(io::Error::last_os_error());
        }
    }
    Ok(rl.rlim_cur)
}

/// The `q` quantile (0.0-1.0) of `sorted` by the nearest-rank method; 0 when empty.
pub fn quantile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = (q * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// The median of `values` (mean of the two middle values for an even count); NaN when empty.
pub fn median(values: &[f64]) -> f64 {
    let mut v: Vec<f64> = values.iter().copied().filter(|x| !x.is_nan()).collect();
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

/// A small deterministic pseudo-random generator (xorshift64*), so every runtime gets the
/// same sequence without a dependency.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator from a non-zero seed.
    pub fn new(seed: u64) -> Rng {
        Rng(seed.max(1))
    }

    /// The next value, uniform in `0..bound` (bound > 0).
    pub fn below(&mut self, bound: u64) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D) % bound
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_and_medians() {
        let v: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(quantile(&v, 0.5), 50.0);
        assert_eq!(quantile(&v, 0.99), 99.0);
        assert_eq!(quantile(&v, 1.0), 100.0);
        assert_eq!(median(&[3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&[4.0, 1.0, 2.0, 3.0]), 2.5);
        assert!(median(&[]).is_nan());
    }

    #[test]
    fn proc_status_fields() {
        assert!(thread_count().unwrap() >= 1);
        assert!(peak_rss().unwrap() > 0);
    }
}
