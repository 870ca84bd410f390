//! Hierarchical timer wheel.
//!
//! A pure data structure: it never reads a clock, makes a syscall or wakes
//! anything. Time is an integer number of milliseconds ("ticks") since the
//! wheel was created, supplied by the caller through [`Wheel::advance`].
//!
//! # Structure
//!
//! Entries live in a [`Slab`]; a [`TimerKey`] is the slab index. The wheel has
//! [`NUM_LEVELS`] levels of 64 slots; a slot of level `L` covers `64^L` ticks,
//! so a whole level covers `64^(L+1)` ticks (its *window*). Every slot is the
//! head of a doubly linked list threaded through the slab entries (`prev` /
//! `next` keys), so insertion and removal are O(1). Each level keeps a `u64`
//! occupancy bitmap (bit `s` set iff slot `s` is non-empty), which lets
//! [`Wheel::next_expiration`] find the earliest occupied slot of a level with
//! one rotation and one `trailing_zeros`. A separate *due* list holds entries
//! inserted (or reset) with a deadline `<= elapsed`; they fire on the next
//! `advance`.
//!
//! An entry with deadline `d > elapsed` is placed using its *placement key*
//! `p = min(d, elapsed + MAX_AHEAD)`: level `L` is the highest 6-bit group in
//! which `elapsed ^ p` differs (capped to the top level), slot is
//! `(p >> 6L) & 63`. Only the placement is clamped: the entry keeps its real
//! deadline and never fires before it; a far entry is simply re-placed each
//! time its top-level slot comes up (about every two years of ticks).
//!
//! `advance(now)` repeatedly takes the occupied slot with the earliest start
//! tick, sets `elapsed` to that tick, fires the slot's entries whose deadline
//! is `<= elapsed` and re-places the others (they land on lower levels, since
//! their deadline is now less than one slot width ahead), until the next slot
//! start is `> now`; then it sets `elapsed = now`. Each entry cascades at most
//! once per level (plus once per `MAX_AHEAD` for clamped entries), hence
//! amortised O(1) work per entry.
//!
//! # Invariants
//!
//! * Every entry is in exactly one place: a wheel slot list, the due list, or
//!   no list at all once fired (until it is removed).
//! * A level's occupancy bit for slot `s` is set iff that slot's list is
//!   non-empty.
//! * Every occupied slot's start tick (computed in the current window of its
//!   level, or the next window for a wrapped top-level slot) is `> elapsed`
//!   and `<=` the deadline of every entry in it. Consequently slot `s` equal
//!   to `elapsed`'s own digit is never occupied below the top level, and the
//!   starts of occupied slots strictly increase with the level.
//! * Every entry with deadline `<= elapsed` has been fired (or is on the due
//!   list, which `advance` drains first).

use slab::Slab;

/// Key of an entry (index into a slab). Stable until removed.
pub(crate) type TimerKey = usize;

/// Number of levels in the wheel.
const NUM_LEVELS: usize = 6;

/// Number of slots per level; each slot index is one 6-bit digit of a tick.
const SLOTS: usize = 64;

/// Maximum placement distance ahead of `elapsed`; later deadlines are placed
/// as if they were due at `elapsed + MAX_AHEAD` (but keep their real deadline).
const MAX_AHEAD: u64 = (1 << (6 * NUM_LEVELS)) - 1;

/// Where an entry currently lives.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Location {
    /// In the list of slot `slot` of level `level`.
    Slot {
        /// Level index (`0..NUM_LEVELS`).
        level: u8,
        /// Slot index (`0..SLOTS`).
        slot: u8,
    },
    /// In the due list: fires on the next `advance`.
    Due,
    /// Already fired; not in any list.
    Fired,
}

/// One timer entry stored in the slab.
struct Entry<T> {
    /// Real deadline in ticks (never clamped).
    deadline: u64,
    /// Which list (if any) the entry is linked into.
    location: Location,
    /// Previous entry in the same list.
    prev: Option<TimerKey>,
    /// Next entry in the same list.
    next: Option<TimerKey>,
    /// The user payload.
    payload: T,
}

/// One level of the wheel: 64 list heads and an occupancy bitmap.
struct Level {
    /// Bit `s` is set iff `heads[s]` is `Some`.
    occupied: u64,
    /// Head of each slot's doubly linked list.
    heads: [Option<TimerKey>; SLOTS],
}

/// A hierarchical timer wheel storing a payload `T` per entry.
pub(crate) struct Wheel<T> {
    /// Entry storage; keys are slab indices.
    entries: Slab<Entry<T>>,
    /// The levels, finest first.
    levels: [Level; NUM_LEVELS],
    /// Head of the list of entries due immediately.
    due: Option<TimerKey>,
    /// Current position in ticks.
    elapsed: u64,
}

/// Number of low bits of a tick below the slot digit of `level`.
fn shift(level: usize) -> u32 {
    6 * level as u32
}

/// Level at which an entry with placement key `p > elapsed` goes.
fn level_for(elapsed: u64, p: u64) -> usize {
    let significant = 63 - ((elapsed ^ p) | 63).leading_zeros() as usize;
    (significant / 6).min(NUM_LEVELS - 1)
}

impl<T> Wheel<T> {
    /// Creates an empty wheel positioned at tick 0.
    pub(crate) fn new() -> Self {
        Wheel {
            entries: Slab::new(),
            levels: std::array::from_fn(|_| Level { occupied: 0, heads: [None; SLOTS] }),
            due: None,
            elapsed: 0,
        }
    }

    /// Current position (ticks): everything with deadline <= elapsed has been
    /// returned by `advance`.
    #[cfg_attr(not(test), allow(dead_code))]
    pub(crate) fn elapsed(&self) -> u64 {
        self.elapsed
    }

    /// Inserts an entry due at `deadline` (ticks). O(1). If
    /// `deadline <= elapsed()` the entry fires on the next `advance`.
    pub(crate) fn insert(&mut self, deadline: u64, payload: T) -> TimerKey {
        let key = self.entries.insert(Entry {
            deadline,
            location: Location::Fired,
            prev: None,
            next: None,
            payload,
        });
        self.place(key);
        key
    }

    /// Removes an entry (pending or fired) and returns its payload. O(1).
    ///
    /// # Panics
    ///
    /// Panics if `key` is not a live entry.
    pub(crate) fn remove(&mut self, key: TimerKey) -> T {
        self.unlink(key);
        self.entries.remove(key).payload
    }

    /// Access to an entry's payload (e.g. to update a stored waker).
    pub(crate) fn get_mut(&mut self, key: TimerKey) -> Option<&mut T> {
        self.entries.get_mut(key).map(|e| &mut e.payload)
    }

    /// Changes an existing entry's deadline in O(1) (unlink + re-place). A
    /// fired entry is re-armed (it is no longer reported as fired).
    ///
    /// # Panics
    ///
    /// Panics if `key` is not a live entry.
    pub(crate) fn reset(&mut self, key: TimerKey, deadline: u64) {
        self.unlink(key);
        self.entries[key].deadline = deadline;
        self.place(key);
    }

    /// The earliest tick at which `advance` could return something, or `None`
    /// if nothing is pending. Never later than the earliest pending deadline
    /// (it may be earlier: the start of a higher-level slot whose entries then
    /// cascade down). O(levels).
    pub(crate) fn next_expiration(&self) -> Option<u64> {
        if self.due.is_some() {
            return Some(self.elapsed);
        }
        (0..NUM_LEVELS).filter_map(|level| self.next_slot(level).map(|(_, start)| start)).min()
    }

    /// Advances to `now` (a `now < elapsed` is treated as `elapsed`) and calls
    /// `fire(key, &mut payload)` exactly once for every pending entry whose
    /// deadline is `<= now`. Fired entries stay in the slab until `remove`d.
    pub(crate) fn advance(&mut self, now: u64, mut fire: impl FnMut(TimerKey, &mut T)) {
        let now = now.max(self.elapsed);
        while let Some(key) = self.due {
            self.unlink(key);
            self.fire_entry(key, &mut fire);
        }
        // By the invariants the lowest non-empty level holds the earliest slot.
        let earliest = |w: &Self| (0..NUM_LEVELS).find_map(|l| w.next_slot(l).map(|(s, t)| (l, s, t)));
        while let Some((level, slot, start)) = earliest(self).filter(|&(_, _, t)| t <= now) {
            debug_assert!(start > self.elapsed);
            self.elapsed = start;
            let lvl = &mut self.levels[level];
            let mut cursor = lvl.heads[slot].take();
            lvl.occupied &= !(1 << slot);
            while let Some(key) = cursor {
                let entry = &mut self.entries[key];
                cursor = entry.next;
                entry.prev = None;
                entry.next = None;
                if entry.deadline <= start {
                    self.fire_entry(key, &mut fire);
                } else {
                    self.place(key);
                }
            }
        }
        self.elapsed = now;
    }

    /// Whether `key` is a live entry that has fired (and not been reset).
    pub(crate) fn is_fired(&self, key: TimerKey) -> bool {
        self.entries.get(key).is_some_and(|e| e.location == Location::Fired)
    }

    /// Number of entries in the slab (pending + fired-not-removed).
    #[cfg_attr(not(test), allow(dead_code))]
    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }

    /// Marks an unlinked entry fired and reports it.
    fn fire_entry(&mut self, key: TimerKey, fire: &mut impl FnMut(TimerKey, &mut T)) {
        let entry = &mut self.entries[key];
        entry.location = Location::Fired;
        fire(key, &mut entry.payload);
    }

    /// Earliest occupied slot of `level` and its start tick, if any.
    ///
    /// Slots are scanned in time order starting just after `elapsed`'s own
    /// digit; a slot whose start in the current window is `<= elapsed` can
    /// only be a wrapped top-level slot, so it belongs to the next window.
    fn next_slot(&self, level: usize) -> Option<(usize, u64)> {
        let occupied = self.levels[level].occupied;
        if occupied == 0 {
            return None;
        }
        let shift = shift(level);
        let own = ((self.elapsed >> shift) as usize) & (SLOTS - 1);
        let first = (own + 1) & (SLOTS - 1);
        let slot = (first + occupied.rotate_right(first as u32).trailing_zeros() as usize) & (SLOTS - 1);
        let window = 1u64 << (shift + 6);
        let mut start = (self.elapsed & !(window - 1)) + ((slot as u64) << shift);
        if start <= self.elapsed {
            debug_assert_eq!(level, NUM_LEVELS - 1);
            start = start.saturating_add(window);
        }
        Some((slot, start))
    }

    /// Links an unlinked entry into the due list or the right wheel slot.
    fn place(&mut self, key: TimerKey) {
        let elapsed = self.elapsed;
        let entry = &mut self.entries[key];
        let (location, head) = if entry.deadline <= elapsed {
            (Location::Due, &mut self.due)
        } else {
            let p = entry.deadline.min(elapsed.saturating_add(MAX_AHEAD));
            let level = level_for(elapsed, p);
            let slot = ((p >> shift(level)) as usize) & (SLOTS - 1);
            let lvl = &mut self.levels[level];
            lvl.occupied |= 1 << slot;
            let location = Location::Slot { level: level as u8, slot: slot as u8 };
            (location, &mut lvl.heads[slot])
        };
        entry.location = location;
        entry.prev = None;
        entry.next = head.replace(key);
        if let Some(next) = entry.next {
            self.entries[next].prev = Some(key);
        }
    }

    /// Unlinks an entry from whatever list it is in (no-op if fired) and
    /// marks it fired so that it is in no list.
    fn unlink(&mut self, key: TimerKey) {
        let entry = &mut self.entries[key];
        let (prev, next, location) = (entry.prev.take(), entry.next.take(), entry.location);
        entry.location = Location::Fired;
        if let Some(next) = next {
            self.entries[next].prev = prev;
        }
        if let Some(prev) = prev {
            self.entries[prev].next = next;
            return;
        }
        // `key` was the head of its list.
        match location {
            Location::Fired => {}
            Location::Due => self.due = next,
            Location::Slot { level, slot } => {
                let lvl = &mut self.levels[level as usize];
                lvl.heads[slot as usize] = next;
                if next.is_none() {
                    lvl.occupied &= !(1 << slot);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Tiny xorshift64 PRNG.
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }

        /// A value in `0..n` (n > 0).
        fn below(&mut self, n: u64) -> u64 {
            self.next() % n
        }

        /// A distance with a roughly log-uniform magnitude up to 2^`bits`.
        fn distance(&mut self, bits: u64) -> u64 {
            let b = self.below(bits + 1);
            self.next() & ((1u64 << b) - 1)
        }
    }

    /// Advances and returns the fired keys.
    fn fired(wheel: &mut Wheel<u64>, now: u64) -> Vec<TimerKey> {
        let mut out = Vec::new();
        wheel.advance(now, |k, _| out.push(k));
        out
    }

    /// Checks that one entry `dist` ticks ahead of `origin` fires exactly at
    /// its deadline, both by one direct advance and by following
    /// `next_expiration`.
    fn check_single(origin: u64, dist: u64) {
        let d = origin + dist;
        // Direct: advance to d - 1 (nothing), then d (fires).
        let mut w = Wheel::new();
        w.advance(origin, |_, _| panic!("empty wheel fired"));
        let k = w.insert(d, 7);
        if dist > 0 {
            assert!(fired(&mut w, d - 1).is_empty(), "early, dist {dist}");
            assert!(!w.is_fired(k));
        }
        assert_eq!(fired(&mut w, d), vec![k], "dist {dist}");
        assert!(w.is_fired(k));
        assert_eq!(w.next_expiration(), None);
        assert_eq!(w.remove(k), 7);
        assert_eq!(w.len(), 0);

        // Following next_expiration.
        let mut w = Wheel::new();
        w.advance(origin, |_, _| {});
        let k = w.insert(d, 7);
        let mut steps = 0;
        while !w.is_fired(k) {
            let ne = w.next_expiration().expect("pending entry");
            assert!(ne <= d && ne >= w.elapsed(), "ne {ne} d {d}");
            let got = fired(&mut w, ne);
            assert_eq!(got.is_empty(), ne < d);
            steps += 1;
            assert!(steps < 1000, "no progress, dist {dist}");
        }
        assert_eq!(w.elapsed(), d);
    }

    #[test]
    fn single_entry_at_various_distances() {
        let small = [0, 1, 2, 63, 64, 65, 127, 4095, 4096, 4097, 262_143, 262_144];
        let big = [1 << 30, (1 << 30) + 1, MAX_AHEAD - 1, MAX_AHEAD, MAX_AHEAD + 1];
        let dists = small.into_iter().chain(big).chain([(1 << 36) + 12_345, 1 << 38]);
        let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
        for dist in dists {
            check_single(0, dist);
            check_single(1, dist);
            check_single(4095, dist);
            check_single(rng.below(1 << 40), dist);
        }
    }

    #[test]
    fn beyond_max_is_never_early() {
        let mut w = Wheel::new();
        let k = w.insert(u64::MAX, ());
        let ne = w.next_expiration().unwrap();
        assert!(ne <= MAX_AHEAD);
        w.advance(1 << 37, |_, _| panic!("fired early"));
        assert!(!w.is_fired(k));
        let ne = w.next_expiration().unwrap();
        assert!(ne > 1 << 37 && ne <= (1 << 37) + MAX_AHEAD);
        w.remove(k);
        assert_eq!(w.next_expiration(), None);
    }

    #[test]
    fn insert_in_the_past_fires_on_next_advance() {
        let mut w = Wheel::new();
        w.advance(1000, |_, _| {});
        let a = w.insert(1000, 1);
        let b = w.insert(3, 2);
        assert_eq!(w.next_expiration(), Some(1000));
        let mut got = fired(&mut w, 0); // now < elapsed is treated as elapsed
        got.sort_unstable();
        assert_eq!(got, vec![a, b]);
        assert_eq!(w.elapsed(), 1000);
        assert!(fired(&mut w, 5000).is_empty());
    }

    #[test]
    fn remove_before_fire() {
        let mut w = Wheel::new();
        let keys: Vec<_> = (0..10).map(|i| w.insert(100 + i % 3, i)).collect();
        for &k in keys.iter().step_by(2) {
            assert_eq!(w.remove(k), k as u64);
        }
        let due = w.insert(0, 99);
        assert_eq!(w.remove(due), 99);
        let mut got = fired(&mut w, 200);
        got.sort_unstable();
        let expect: Vec<_> = keys.iter().copied().skip(1).step_by(2).collect();
        assert_eq!(got, expect);
        assert_eq!(w.len(), 5);
        assert_eq!(w.next_expiration(), None);
    }

    #[test]
    fn reset_earlier_and_later() {
        let mut w = Wheel::new();
        let a = w.insert(5000, 1);
        let b = w.insert(10, 2);
        w.reset(a, 20); // earlier
        w.reset(b, 300_000); // later
        *w.get_mut(b).unwrap() = 3;
        assert_eq!(fired(&mut w, 19), Vec::<TimerKey>::new());
        assert_eq!(fired(&mut w, 20), vec![a]);
        assert!(fired(&mut w, 299_999).is_empty());
        // Re-arm a fired entry.
        w.reset(a, 299_999);
        assert!(!w.is_fired(a));
        assert_eq!(fired(&mut w, 299_999), vec![a]);
        let mut seen = Vec::new();
        w.advance(1 << 20, |k, p| seen.push((k, *p)));
        assert_eq!(seen, vec![(b, 3)]);
        // Reset into the past.
        w.reset(b, 0);
        assert_eq!(w.next_expiration(), Some(1 << 20));
        assert_eq!(fired(&mut w, 1 << 20), vec![b]);
    }

    /// Random inserts, removes, resets and advances checked against a model.
    fn random_run(seed: u64, ops: usize, max_bits: u64) {
        let mut rng = Rng(seed);
        let mut w: Wheel<u64> = Wheel::new();
        // Model: key -> (deadline, fired).
        let mut model: std::collections::HashMap<TimerKey, (u64, bool)> = Default::default();
        let mut live: Vec<TimerKey> = Vec::new();
        for _ in 0..ops {
            let elapsed = w.elapsed();
            match rng.below(10) {
                0..=4 => {
                    let d = (elapsed + rng.distance(max_bits)).saturating_sub(rng.below(3));
                    let k = w.insert(d, d);
                    assert!(model.insert(k, (d, false)).is_none());
                    live.push(k);
                }
                5 if !live.is_empty() => {
                    let k = live.swap_remove(rng.below(live.len() as u64) as usize);
                    let (d, _) = model.remove(&k).unwrap();
                    assert_eq!(w.remove(k), d);
                }
                6 if !live.is_empty() => {
                    let k = live[rng.below(live.len() as u64) as usize];
                    let d = elapsed + rng.distance(max_bits);
                    w.reset(k, d);
                    *w.get_mut(k).unwrap() = d;
                    model.insert(k, (d, false));
                }
                _ => {
                    let min = model.values().filter(|e| !e.1).map(|e| e.0).min();
                    let ne = w.next_expiration();
                    assert_eq!(ne.is_some(), min.is_some());
                    if let (Some(ne), Some(min)) = (ne, min) {
                        assert!(ne <= min.max(elapsed) && ne >= elapsed, "ne {ne} min {min}");
                    }
                    let now = match (rng.below(3), ne) {
                        (0, Some(ne)) => ne,
                        _ => elapsed + rng.distance(max_bits),
                    };
                    w.advance(now, |k, p| {
                        let e = model.get_mut(&k).expect("fired unknown key");
                        assert!(!e.1, "fired twice");
                        assert!(e.0 <= now, "fired early: {} > {now}", e.0);
                        assert_eq!(*p, e.0);
                        e.1 = true;
                    });
                    for (k, e) in &model {
                        assert!(e.1 || e.0 > now, "late: {k} due {} now {now}", e.0);
                        assert_eq!(w.is_fired(*k), e.1);
                    }
                    if Some(now) == ne {
                        assert!(!matches!(w.next_expiration(), Some(n) if n <= now), "no progress");
                    }
                }
            }
            assert_eq!(w.len(), model.len());
        }
    }

    #[test]
    fn random_entries_fire_exactly_once_and_on_time() {
        for (seed, bits) in [(1, 8), (2, 14), (3, 24), (4, 38), (5, 40), (6, 20)] {
            random_run(0x2545_F491_4F6C_DD1D ^ seed, 4000, bits);
        }
    }

    #[test]
    fn one_million_entries() {
        let mut rng = Rng(0xDEAD_BEEF_CAFE_F00D);
        let mut w = Wheel::new();
        let mut deadlines = Vec::with_capacity(1_000_000);
        for _ in 0..1_000_000 {
            let d = rng.distance(32);
            deadlines.push(d);
            w.insert(d, ());
        }
        let max = deadlines.iter().copied().max().unwrap();
        let mut count = 0usize;
        let mut now = 0;
        while now < max {
            now += 1 + rng.distance(28);
            w.advance(now, |k, _| {
                assert!(deadlines[k] <= now);
                count += 1;
            });
        }
        assert_eq!(count, 1_000_000);
        assert_eq!(w.len(), 1_000_000);
        assert_eq!(w.next_expiration(), None);
    }
}
