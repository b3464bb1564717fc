//! A core's timers: a hierarchical timing wheel of millisecond ticks.
//!
//! Six levels of 64 slots: level 0 has one slot per millisecond, each level above slots 64
//! times wider (level 5: about 2.2 years a turn). A timer sits in the lowest level whose span
//! still tells its deadline from the wheel's position (`elapsed`), in the slot its deadline
//! falls in; it moves down a level each time the wheel reaches its slot, until it fires.
//! Timers live in a slab and each slot is a doubly linked list through it, so insert and
//! cancel are O(1) (a timeout that never fires, the common case, costs a slab insert and a
//! remove, no search, no allocation once the slab has grown).
//!
//! A timer never fires early: a deadline is rounded *up* to its tick, and a timer fires only
//! once the clock, rounded *down*, has reached that tick. It may fire up to a tick (1 ms)
//! late. Deadlines beyond the top level's turn (only `Duration::MAX`-like sleeps) wait in the
//! top level and are looked at again each time the wheel passes their slot.

use slab::Slab;
use std::task::Waker;
use std::time::{Duration, Instant};

const LEVELS: usize = 6;
/// Slots per level (a power of two: slot numbers are bit fields of the tick).
const SLOTS: usize = 64;
const SLOT_BITS: u32 = SLOTS.trailing_zeros();
/// The farthest tick from `elapsed` the levels can place exactly.
const MAX_SPAN: u64 = (1 << (SLOT_BITS as usize * LEVELS)) - 1;
/// One tick.
const TICK: Duration = Duration::from_millis(1);
/// "No entry" in the slots' links.
const NIL: u32 = u32::MAX;

struct Entry {
    /// The deadline's tick (rounded up).
    when: u64,
    /// Which timer this is: slab slots are reused, sequence numbers are not.
    seq: u64,
    /// Where it is linked: `level * SLOTS + slot`.
    at: u16,
    prev: u32,
    next: u32,
    waker: Waker,
}

#[derive(Clone, Copy)]
struct List {
    head: u32,
    tail: u32,
}

/// One timer of one `Timers`: its slab slot, and a sequence number no other timer there has.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct TimerId {
    key: u32,
    seq: u64,
}

/// A core's timers. Ids name one timer (`insert`), never another one later.
pub(crate) struct Timers {
    /// Tick 0.
    start: Instant,
    /// The tick the wheel has fired up to (inclusive).
    elapsed: u64,
    /// The clock as last read by `fire`: never later than the real clock.
    now: Instant,
    entries: Slab<Entry>,
    /// Per level, one bit per non-empty slot.
    occupied: [u64; LEVELS],
    slots: [[List; SLOTS]; LEVELS],
    next_seq: u64,
}

impl Timers {
    pub(crate) fn new() -> Timers {
        let now = Instant::now();
        Timers {
            start: now,
            elapsed: 0,
            now,
            entries: Slab::new(),
            occupied: [0; LEVELS],
            slots: [[List {
                head: NIL,
                tail: NIL,
            }; SLOTS]; LEVELS],
            next_seq: 0,
        }
    }

    /// The clock as the timers last read it (at most as late as `Instant::now()`): a deadline
    /// at or before it has passed, without a clock read.
    #[inline]
    pub(crate) fn now(&self) -> Instant {
        self.now
    }

    /// Whether `deadline`, later than `now()`, may have passed by the real clock. While
    /// timers are set, `now()` is read at every look at them (every loop turn), so a
    /// deadline more than a tick after it is taken as not passed: at worst it fires at the
    /// next look, which a timer may anyway (up to a tick late). Without timers `now()` may be
    /// old: ask the clock.
    #[inline]
    pub(crate) fn may_have_passed(&self, deadline: Instant) -> bool {
        self.is_empty() || deadline <= self.now + TICK
    }

    /// Reads the clock (and keeps the reading for `now`).
    pub(crate) fn read_clock(&mut self) -> Instant {
        self.now = self.now.max(Instant::now());
        self.now
    }

    /// Whether no timer is set (then the clock need not be read).
    #[inline]
    pub(crate) fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Sets a timer; its id is what `update` and `remove` take.
    pub(crate) fn insert(&mut self, deadline: Instant, waker: Waker) -> TimerId {
        self.next_seq += 1;
        let seq = self.next_seq;
        // Already due (by the clock last read) fires at the next look, not in the past.
        let when = self.tick_ceil(deadline).max(self.elapsed + 1);
        let key = self.entries.insert(Entry {
            when,
            seq,
            at: 0,
            prev: NIL,
            next: NIL,
            waker,
        });
        let key = u32::try_from(key).expect("fewer than 2^32 timers");
        self.link(key);
        TimerId { key, seq }
    }

    /// The waker of a timer, if it is still set (to replace it).
    pub(crate) fn waker_mut(&mut self, id: TimerId) -> Option<&mut Waker> {
        self.entry_mut(id).map(|e| &mut e.waker)
    }

    /// Cancels a timer, if it is still set; its waker is handed back, for the caller to drop
    /// outside its borrow of the timers.
    pub(crate) fn remove(&mut self, id: TimerId) -> Option<Waker> {
        self.entry_mut(id)?;
        let key = id.key;
        self.unlink(key);
        Some(self.entries.remove(key as usize).waker)
    }

    /// When the next slot is due: the earliest deadline, or (for a timer in an upper level)
    /// an earlier moment at which it moves down a level. `None` without timers.
    pub(crate) fn next_deadline(&self) -> Option<Instant> {
        let (tick, _, _) = self.next_expiration()?;
        Some(self.start + Duration::from_millis(tick))
    }

    /// Moves the wakers of every timer due now into `out`; reads the clock only if a timer is
    /// set.
    #[inline]
    pub(crate) fn fire_due(&mut self, out: &mut Vec<Waker>) {
        if !self.is_empty() {
            self.fire(Instant::now(), out);
        }
    }

    /// Moves the wakers of every timer due at `now` into `out`, in deadline order (to the
    /// tick; timers set for one tick in one slot, in the order they were set).
    pub(crate) fn fire(&mut self, now: Instant, out: &mut Vec<Waker>) {
        self.now = self.now.max(now);
        let now_tick = self.tick_floor(now);
        while let Some((tick, level, slot)) = self.next_expiration() {
            if tick > now_tick {
                break;
            }
            // Every slot before this one is empty: the wheel moves to it, and its timers
            // fire or move down.
            self.elapsed = tick;
            let mut key = self.take_slot(level, slot);
            while key != NIL {
                let next = self.entries[key as usize].next;
                // Due at this slot's start (always so in level 0), or moves down a level to
                // the slot of its own tick, which this loop reaches in order.
                if self.entries[key as usize].when <= tick {
                    out.push(self.entries.remove(key as usize).waker);
                } else {
                    self.link(key);
                }
                key = next;
            }
        }
        self.elapsed = self.elapsed.max(now_tick);
    }

    fn entry_mut(&mut self, id: TimerId) -> Option<&mut Entry> {
        self.entries
            .get_mut(id.key as usize)
            .filter(|e| e.seq == id.seq)
    }

    /// `deadline` in ticks, rounded up.
    fn tick_ceil(&self, deadline: Instant) -> u64 {
        let d = deadline.saturating_duration_since(self.start);
        let ms = d.as_secs() * 1000 + u64::from(d.subsec_nanos().div_ceil(1_000_000));
        ms.min(u64::MAX >> 1)
    }

    /// `now` in ticks, rounded down.
    fn tick_floor(&self, now: Instant) -> u64 {
        let d = now.saturating_duration_since(self.start);
        (d.as_secs() * 1000 + u64::from(d.subsec_millis())).min(u64::MAX >> 1)
    }

    /// The level and slot for tick `when` (later than `elapsed`): the lowest level where
    /// `when` and `elapsed` differ, clamped to the top for deadlines beyond its turn.
    fn place(&self, when: u64) -> (usize, usize) {
        let masked = ((self.elapsed ^ when) | (SLOTS as u64 - 1)).min(MAX_SPAN - 1);
        let level = ((63 - masked.leading_zeros()) / SLOT_BITS) as usize;
        let slot = (when >> (level as u32 * SLOT_BITS)) as usize % SLOTS;
        (level, slot)
    }

    /// The next slot with timers: its start tick, level and slot. The lowest level with any
    /// timer has the earliest: a level holds only ticks after its position (`elapsed`'s slot
    /// there) and within its current turn, except the far deadlines the top level keeps in
    /// any slot, which are looked at again whenever their slot comes round.
    fn next_expiration(&self) -> Option<(u64, usize, usize)> {
        let level = self.occupied.iter().position(|&o| o != 0)?;
        let shift = level as u32 * SLOT_BITS;
        let pos = (self.elapsed >> shift) as usize % SLOTS;
        // The first occupied slot after `pos`, going round (`pos` itself last).
        let from = (pos + 1) % SLOTS;
        let slot = (from
            + self.occupied[level]
                .rotate_right(from as u32)
                .trailing_zeros() as usize)
            % SLOTS;
        let level_span = 1u64 << (shift + SLOT_BITS);
        let mut tick = (self.elapsed & !(level_span - 1)) + ((slot as u64) << shift);
        if slot <= pos {
            // Round the corner: the slot's next turn.
            tick += level_span;
        }
        Some((tick, level, slot))
    }

    /// Links timer `key` at the tail of the slot its deadline falls in now.
    fn link(&mut self, key: u32) {
        let (level, slot) = self.place(self.entries[key as usize].when);
        let list = &mut self.slots[level][slot];
        let tail = list.tail;
        if tail == NIL {
            list.head = key;
        } else {
            self.entries[tail as usize].next = key;
        }
        list.tail = key;
        let e = &mut self.entries[key as usize];
        e.at = (level * SLOTS + slot) as u16;
        e.prev = tail;
        e.next = NIL;
        self.occupied[level] |= 1 << slot;
    }

    /// Takes timer `key` out of its slot's list.
    fn unlink(&mut self, key: u32) {
        let Entry { at, prev, next, .. } = self.entries[key as usize];
        let (level, slot) = (at as usize / SLOTS, at as usize % SLOTS);
        if prev == NIL {
            self.slots[level][slot].head = next;
        } else {
            self.entries[prev as usize].next = next;
        }
        if next == NIL {
            self.slots[level][slot].tail = prev;
        } else {
            self.entries[next as usize].prev = prev;
        }
        if self.slots[level][slot].head == NIL {
            self.occupied[level] &= !(1 << slot);
        }
    }

    /// Empties a slot; returns the head of its list (still linked through `next`).
    fn take_slot(&mut self, level: usize, slot: usize) -> u32 {
        self.occupied[level] &= !(1 << slot);
        std::mem::replace(
            &mut self.slots[level][slot],
            List {
                head: NIL,
                tail: NIL,
            },
        )
        .head
    }
}

#[cfg(test)]
mod tests {
    use super::Timers;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::task::{Wake, Waker};
    use std::time::{Duration, Instant};

    /// A waker that records its number into a shared log when woken.
    struct Tag(usize, Arc<std::sync::Mutex<Vec<usize>>>, AtomicUsize);
    impl Wake for Tag {
        fn wake(self: Arc<Self>) {
            self.2.fetch_add(1, Ordering::Relaxed);
            self.1.lock().unwrap().push(self.0);
        }
    }

    fn tagged(n: usize, log: &Arc<std::sync::Mutex<Vec<usize>>>) -> Waker {
        Waker::from(Arc::new(Tag(n, log.clone(), AtomicUsize::new(0))))
    }

    fn fire_all(t: &mut Timers, now: Instant) -> usize {
        let mut out = Vec::new();
        t.fire(now, &mut out);
        let n = out.len();
        out.into_iter().for_each(Waker::wake);
        n
    }

    use super::TICK;

    #[test]
    fn fires_in_deadline_order_ties_by_insertion() {
        let log = Arc::new(std::sync::Mutex::new(Vec::new()));
        let mut t = Timers::new();
        let base = t.start;
        let ms = |n| base + Duration::from_millis(n);
        t.insert(ms(30), tagged(3, &log));
        t.insert(ms(10), tagged(1, &log));
        t.insert(ms(20), tagged(2, &log));
        t.insert(ms(10), tagged(11, &log));
        assert_eq!(t.next_deadline(), Some(ms(10)));
        assert_eq!(fire_all(&mut t, ms(20)), 3);
        assert_eq!(*log.lock().unwrap(), [1, 11, 2]);
        assert_eq!(t.next_deadline(), Some(ms(30)));
    }

    #[test]
    fn a_timer_never_fires_early_and_fires_within_a_tick_of_its_deadline() {
        let log = Arc::new(std::sync::Mutex::new(Vec::new()));
        let mut t = Timers::new();
        let d = Instant::now() + Duration::from_millis(5);
        t.insert(d, tagged(1, &log));
        assert!(t.next_deadline().unwrap() >= d);
        assert_eq!(fire_all(&mut t, d - Duration::from_nanos(1)), 0);
        assert_eq!(fire_all(&mut t, d + TICK), 1);
        assert_eq!(t.next_deadline(), None);
        assert_eq!(fire_all(&mut t, d + Duration::from_secs(1)), 0);
    }

    #[test]
    fn remove_takes_only_its_own_timer() {
        let log = Arc::new(std::sync::Mutex::new(Vec::new()));
        let mut t = Timers::new();
        let d = Instant::now();
        let a = t.insert(d, tagged(1, &log));
        let b = t.insert(d, tagged(2, &log));
        assert_ne!(a, b);
        t.remove(a);
        // Removing again does nothing, and a reused slot is not taken by an old id.
        t.remove(a);
        let c = t.insert(d, tagged(3, &log));
        t.remove(a);
        assert_ne!(a, c);
        assert_eq!(fire_all(&mut t, d + TICK), 2);
        assert_eq!(*log.lock().unwrap(), [2, 3]);
        assert!(t.is_empty());
    }

    #[test]
    fn only_a_live_timer_has_a_waker_to_replace() {
        let log = Arc::new(std::sync::Mutex::new(Vec::new()));
        let mut t = Timers::new();
        let d = Instant::now();
        let id = t.insert(d, tagged(1, &log));
        *t.waker_mut(id).expect("set") = tagged(2, &log);
        assert!(
            t.waker_mut(super::TimerId {
                seq: id.seq + 1,
                ..id
            })
            .is_none()
        );
        assert_eq!(fire_all(&mut t, d + TICK), 1);
        assert_eq!(*log.lock().unwrap(), [2]);
        assert!(t.waker_mut(id).is_none());
        assert!(t.remove(id).is_none());
    }

    /// Deadlines spread over every level (and beyond the top one) fire in order, none early,
    /// each within a tick, while the clock moves in uneven steps; cancelled ones never fire.
    #[test]
    fn every_level_fires_in_order_and_never_early() {
        let mut t = Timers::new();
        let base = t.start;
        let fired = Arc::new(std::sync::Mutex::new(Vec::new()));
        let mut set = Vec::new();
        // Deadlines in ms from 1 ms to ~4 years, with sub-millisecond parts, some cancelled.
        let mut ms = 1u64;
        let mut i = 0usize;
        while ms < 4 * 365 * 86_400_000 {
            let d =
                base + Duration::from_millis(ms) + Duration::from_micros((i as u64 * 37) % 1000);
            let id = t.insert(d, tagged(i, &fired));
            if i % 5 == 3 {
                t.remove(id);
            } else {
                set.push((d, i));
            }
            ms = ms * 5 / 4 + 1;
            i += 1;
        }
        set.sort();
        let mut now = base;
        let mut step = Duration::from_micros(300);
        while !t.is_empty() {
            // Jump to the next slot (as a parked core would), or by `step`.
            let next = t.next_deadline().expect("timers are set");
            now = if next > now + step { next } else { now + step };
            step = step * 3 / 2;
            let mut out = Vec::new();
            t.fire(now, &mut out);
            let n = out.len();
            out.into_iter().for_each(Waker::wake);
            let got = fired.lock().unwrap().clone();
            for &i in &got[got.len() - n..] {
                let d = set.iter().find(|(_, j)| *j == i).expect("a set timer").0;
                assert!(d <= now, "timer {i} fired early");
            }
            for (d, i) in &set {
                assert!(
                    got.contains(i) || *d + TICK > now,
                    "timer {i} is more than a tick late"
                );
            }
        }
        let got = fired.lock().unwrap().clone();
        let want: Vec<usize> = set.iter().map(|(_, i)| *i).collect();
        assert_eq!(got, want, "every live timer fires once, in deadline order");
    }

    /// Timers set while the clock runs (as on a core: every insert relative to a moved
    /// wheel), some cancelled: each live one fires once, never early, at most a tick late.
    #[test]
    fn timers_set_while_the_clock_runs_fire_on_time() {
        let mut t = Timers::new();
        let base = t.start;
        let fired = Arc::new(std::sync::Mutex::new(Vec::new()));
        let mut live: Vec<(Instant, usize, super::TimerId)> = Vec::new();
        let mut rng = 0x2545_f491_4f6c_dd1du64;
        let mut next = move || {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            rng
        };
        let mut now = base;
        let mut seen = 0;
        for i in 0..20_000usize {
            // Deadlines from now to ~20 s ahead, skewed short, with sub-ms parts.
            let ahead = Duration::from_micros(next() % (1 << (next() % 25)));
            let id = t.insert(now + ahead, tagged(i, &fired));
            live.push((now + ahead, i, id));
            if next() % 4 == 0 {
                let k = (next() % live.len() as u64) as usize;
                let (_, _, id) = live.swap_remove(k);
                t.remove(id);
            }
            if next() % 8 == 0 {
                now += Duration::from_micros(next() % 5_000);
                let mut out = Vec::new();
                t.fire(now, &mut out);
                out.into_iter().for_each(Waker::wake);
                let got = fired.lock().unwrap().clone();
                for &j in &got[seen..] {
                    let at = live
                        .iter()
                        .position(|&(_, k, _)| k == j)
                        .expect("live, once");
                    assert!(live[at].0 <= now, "timer {j} fired early");
                    live.swap_remove(at);
                }
                seen = got.len();
                for &(d, j, _) in &live {
                    assert!(d + TICK > now, "timer {j} is more than a tick late");
                }
            }
        }
        assert_eq!(t.entries.len(), live.len());
    }
}
