//! Timers: `sleep`, `sleep_until`, `timeout`, `interval`.
//!
//! Each core keeps one ordered map of deadlines (`Timers`): insert and cancel are O(log n), a
//! dropped timer is removed at once and costs nothing later. The reactor's wait is bounded by
//! the earliest deadline. A timer never fires early: a sleep is done only once the clock has
//! reached its deadline, however it was woken.

mod interval;
mod sleep;
mod timeout;

pub use interval::{Interval, MissedTickBehavior, interval, interval_at};
pub use sleep::{Sleep, sleep, sleep_until};
pub use timeout::{Elapsed, Timeout, timeout, timeout_at};

use std::collections::BTreeMap;
use std::task::Waker;
use std::time::Instant;

/// A core's timers, ordered by deadline (ties by insertion).
pub(crate) struct Timers {
    map: BTreeMap<(Instant, u64), Waker>,
    next_id: u64,
}

impl Timers {
    pub(crate) fn new() -> Timers {
        Timers {
            map: BTreeMap::new(),
            next_id: 0,
        }
    }

    pub(crate) fn insert(&mut self, deadline: Instant, waker: Waker) -> u64 {
        self.next_id += 1;
        self.map.insert((deadline, self.next_id), waker);
        self.next_id
    }

    /// Replaces the waker of a timer, if it is still there.
    pub(crate) fn update(&mut self, deadline: Instant, id: u64, waker: &Waker) {
        if let Some(w) = self.map.get_mut(&(deadline, id)) {
            if !w.will_wake(waker) {
                *w = waker.clone();
            }
        }
    }

    pub(crate) fn remove(&mut self, deadline: Instant, id: u64) {
        self.map.remove(&(deadline, id));
    }

    pub(crate) fn next_deadline(&self) -> Option<Instant> {
        self.map.first_key_value().map(|((d, _), _)| *d)
    }

    /// Whether no timer is set (then the clock need not be read).
    #[inline]
    pub(crate) fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    /// Moves the wakers of every timer due now into `out`; reads the clock only if a timer is
    /// set.
    #[inline]
    pub(crate) fn fire_due(&mut self, out: &mut Vec<Waker>) {
        if !self.is_empty() {
            self.fire(Instant::now(), out);
        }
    }

    /// Moves the wakers of every timer due at `now` into `out`.
    pub(crate) fn fire(&mut self, now: Instant, out: &mut Vec<Waker>) {
        while let Some(entry) = self.map.first_entry() {
            if entry.key().0 > now {
                break;
            }
            out.push(entry.remove());
        }
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

    #[test]
    fn fires_in_deadline_order_ties_by_insertion() {
        let log = Arc::new(std::sync::Mutex::new(Vec::new()));
        let mut t = Timers::new();
        let base = Instant::now();
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
    fn a_timer_never_fires_early_and_fires_at_its_deadline() {
        let log = Arc::new(std::sync::Mutex::new(Vec::new()));
        let mut t = Timers::new();
        let d = Instant::now() + Duration::from_millis(5);
        t.insert(d, tagged(1, &log));
        assert_eq!(fire_all(&mut t, d - Duration::from_nanos(1)), 0);
        assert_eq!(fire_all(&mut t, d), 1);
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
        t.remove(d, a);
        // Removing again, or with the wrong deadline, does nothing.
        t.remove(d, a);
        t.remove(d + Duration::from_millis(1), b);
        assert_eq!(fire_all(&mut t, d), 1);
        assert_eq!(*log.lock().unwrap(), [2]);
    }

    #[test]
    fn update_replaces_the_waker_of_a_live_timer_only() {
        let log = Arc::new(std::sync::Mutex::new(Vec::new()));
        let mut t = Timers::new();
        let d = Instant::now();
        let id = t.insert(d, tagged(1, &log));
        t.update(d, id, &tagged(2, &log));
        // A timer that is gone is not brought back.
        t.update(d, id + 1, &tagged(3, &log));
        assert_eq!(fire_all(&mut t, d), 1);
        assert_eq!(*log.lock().unwrap(), [2]);
        t.update(d, id, &tagged(4, &log));
        assert_eq!(fire_all(&mut t, d), 0);
    }
}
