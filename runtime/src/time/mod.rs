//! Timers: `sleep`, `sleep_until`, `timeout`, `interval`.
//!
//! Each core keeps one timing wheel of millisecond ticks (`Timers`, in `wheel`): insert and
//! cancel are O(1), a dropped timer is removed at once and costs nothing later. The reactor's
//! wait is bounded by the next slot's deadline. A timer never fires early: a sleep is done
//! only once the clock has reached its deadline, however it was woken; it may fire up to a
//! tick (1 ms) late. A sleep compares its deadline with the clock as its core last read it
//! (at every look at the timers), and reads the clock itself only when it is about to set its
//! timer and the deadline is within a tick of that reading (or no timer is set, so the
//! reading may be old): a zero or already-passed deadline is done at once, and neither a
//! woken sleep nor a timeout seconds away costs a clock read.

mod interval;
mod sleep;
mod timeout;
mod wheel;

pub use interval::{Interval, MissedTickBehavior, interval, interval_at};
pub use sleep::{Sleep, sleep, sleep_until};
pub use timeout::{Elapsed, Timeout, timeout, timeout_at};

pub(crate) use wheel::Timers;
