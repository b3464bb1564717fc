//! `Sleep`: a future that is ready once the clock reaches its deadline.

use super::wheel::TimerId;
use crate::executor::core;
use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

/// Waits until `deadline`. Needs a coreloop runtime on the thread that polls it.
pub struct Sleep {
    deadline: Instant,
    /// The core whose map holds the timer, and its id there.
    registered: Option<(u64, TimerId)>,
    _not_send: PhantomData<*const ()>,
}

/// Sleeps for `duration`. A duration too long to represent (`Duration::MAX`) sleeps for
/// about thirty years: in practice, forever.
///
/// # Examples
///
/// ```
/// use coreloop_runtime::{Runtime, time::sleep};
/// use std::time::{Duration, Instant};
///
/// let rt = Runtime::new()?;
/// rt.block_on(async {
///     let start = Instant::now();
///     sleep(Duration::from_millis(10)).await;
///     assert!(start.elapsed() >= Duration::from_millis(10));
/// });
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn sleep(duration: Duration) -> Sleep {
    sleep_until(deadline_after(Instant::now(), duration))
}

/// `now + d`, or about thirty years from `now` if that cannot be represented.
pub(crate) fn deadline_after(now: Instant, d: Duration) -> Instant {
    const FAR: Duration = Duration::from_secs(86_400 * 365 * 30);
    now.checked_add(d.min(FAR))
        .or_else(|| now.checked_add(FAR))
        .unwrap_or(now)
}

/// Sleeps until `deadline`.
pub fn sleep_until(deadline: Instant) -> Sleep {
    Sleep {
        deadline,
        registered: None,
        _not_send: PhantomData,
    }
}

impl Sleep {
    /// When the sleep completes.
    pub fn deadline(&self) -> Instant {
        self.deadline
    }

    /// True once the deadline has passed (whether or not the sleep was polled since).
    pub fn is_elapsed(&self) -> bool {
        Instant::now() >= self.deadline
    }

    /// Moves the deadline (the timer is re-inserted on the next poll).
    pub fn reset(&mut self, deadline: Instant) {
        self.cancel();
        self.deadline = deadline;
    }

    /// Removes the timer from the map of the core that holds it, if that core is current. (On
    /// any other core the id names another timer; a timer left on a core that is not current
    /// fires once, spuriously, and is gone.)
    fn cancel(&mut self) {
        if let Some((core_id, id)) = self.registered.take() {
            // The waker is dropped after the borrow: a foreign waker's drop is user code.
            let waker = core::with_current(|core| {
                (core.id() == core_id)
                    .then(|| core.timers.borrow_mut().remove(id))
                    .flatten()
            });
            drop(waker);
        }
    }
}

impl Unpin for Sleep {}

impl Future for Sleep {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let deadline = self.deadline;
        let registered = self.registered;
        // Wakers replaced or removed here are dropped after the borrow (a foreign waker's
        // drop is user code).
        let mut old_waker = None;
        // `None`: due; `Some(None)`: due, but the task must yield first; else where it is set.
        let now_registered = core::with_current(|core| {
            let mut timers = core.timers.borrow_mut();
            let here = |r: Option<(u64, TimerId)>| r.filter(|&(core_id, _)| core_id == core.id());
            // The clock as the core last read it is never ahead of the real one: past it,
            // the deadline has passed. Not past it, a sleep about to be set asks the clock if
            // the deadline may have passed since (a zero or already-passed deadline is done
            // at once, not a tick later).
            let due = timers.now() >= deadline
                || registered.is_none()
                    && timers.may_have_passed(deadline)
                    && timers.read_clock() >= deadline;
            if due {
                // A task that spent its op budget yields here too (as tokio's timers do):
                // else a loop of `timeout`s whose op was refused for the budget would never
                // give the core back, and the op never run.
                if crate::reactor::with_current(|r| r.budget_spent()).unwrap_or(false) {
                    return Some(None);
                }
                old_waker = here(registered).and_then(|(_, id)| timers.remove(id));
                return None;
            }
            if let Some((core_id, id)) = here(registered) {
                if let Some(w) = timers.waker_mut(id) {
                    if !w.will_wake(cx.waker()) {
                        old_waker = Some(std::mem::replace(w, cx.waker().clone()));
                    }
                    return Some(Some((core_id, id)));
                }
            }
            // Not yet in a wheel, fired already (a wake-up that came early cannot be told
            // from a late poll), or in another core's: set it here.
            Some(Some((core.id(), timers.insert(deadline, cx.waker().clone()))))
        })
        .expect("coreloop: sleep and timeout need a coreloop runtime on this thread (Runtime::block_on)");
        drop(old_waker);
        match now_registered {
            None => {
                self.registered = None;
                Poll::Ready(())
            }
            // Due, but the task must yield first (its registration, if any, stays).
            Some(None) => {
                cx.waker().wake_by_ref();
                Poll::Pending
            }
            Some(registered) => {
                self.registered = registered;
                Poll::Pending
            }
        }
    }
}

impl Drop for Sleep {
    fn drop(&mut self) {
        self.cancel();
    }
}
