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
