//! `Interval`: ticks at a fixed period.

use super::sleep::{Sleep, deadline_after, sleep_until};
use std::future::poll_fn;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

/// What an interval does when ticks were missed (the task was busy past one or more).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum MissedTickBehavior {
    /// Fire the missed ticks at once, one after the other, to catch up.
    #[default]
    Burst,
    /// Start the period again from now: the next tick is one period after this one fired.
    Delay,
    /// Drop the missed ticks: the next tick is the next multiple of the period from the start.
    Skip,
}

/// Ticks every `period`, the first tick at once.
pub struct Interval {
    sleep: Sleep,
    period: Duration,
    missed: MissedTickBehavior,
}

/// An interval whose first tick is now.
///
/// # Panics
/// If `period` is zero.
///
/// # Examples
///
/// ```
/// use coreloop_runtime::{Runtime, time::interval};
/// use std::time::Duration;
///
/// let rt = Runtime::new()?;
/// rt.block_on(async {
///     let mut ticks = interval(Duration::from_millis(5));
///     let first = ticks.tick().await; // at once
///     let second = ticks.tick().await; // one period later
///     assert_eq!(second - first, Duration::from_millis(5));
/// });
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn interval(period: Duration) -> Interval {
    interval_at(Instant::now(), period)
}

/// An interval whose first tick is at `start`.
///
/// # Panics
/// If `period` is zero.
pub fn interval_at(start: Instant, period: Duration) -> Interval {
    assert!(!period.is_zero(), "interval period must be non-zero");
    Interval {
        sleep: sleep_until(start),
        period,
        missed: MissedTickBehavior::default(),
    }
}

impl Interval {
    /// Sets what happens to ticks missed while the task was busy (default
    /// [`MissedTickBehavior::Burst`]).
    pub fn set_missed_tick_behavior(&mut self, b: MissedTickBehavior) {
        self.missed = b;
    }

    /// The time between ticks.
    pub fn period(&self) -> Duration {
        self.period
    }

    /// Waits for the next tick; returns its scheduled time.
    pub async fn tick(&mut self) -> Instant {
        poll_fn(|cx| self.poll_tick(cx)).await
    }

    /// Polls for the next tick, for use inside a hand-written `poll`: `Ready` with the tick's
    /// scheduled time, or `Pending` with `cx`'s waker registered.
    pub fn poll_tick(&mut self, cx: &mut Context<'_>) -> Poll<Instant> {
        if Pin::new(&mut self.sleep).poll(cx).is_pending() {
            return Poll::Pending;
        }
        let scheduled = self.sleep.deadline();
        let now = Instant::now();
        let period = self.period;
        let regular = deadline_after(scheduled, period);
        let next = if now > regular {
            match self.missed {
                MissedTickBehavior::Burst => regular,
                MissedTickBehavior::Delay => deadline_after(now, period),
                MissedTickBehavior::Skip => {
                    // The first multiple of the period after `now`, in u128 nanoseconds so no
                    // count of missed ticks truncates or overflows.
                    let behind = (now - scheduled).as_nanos() / period.as_nanos();
                    let ahead = period.as_nanos().saturating_mul(behind + 1);
                    let ahead = Duration::from_nanos(ahead.min(u64::MAX as u128) as u64);
                    deadline_after(scheduled, ahead)
                }
            }
        } else {
            regular
        };
        self.sleep.reset(next);
        Poll::Ready(scheduled)
    }
}

use std::future::Future;
