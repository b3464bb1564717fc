//! [`CoreSleep`]: a sleep that is `Send + Sync`, built from safe parts.
//!
//! coreloop's `time::Sleep` is `!Send`: its timer lives in one core's timer map. hyper wants
//! sleeps it can store in `Send + Sync` state. So a `CoreSleep` holds only a deadline and an
//! `Arc<Mutex<_>>`; the first poll spawns a small timer task on the core that polls it (the
//! registration happens there, on that core's own timer map), and that task sets `fired` and
//! wakes the sleeper's waker (a `Waker` is `Send + Sync`, and coreloop routes a wake from any
//! thread to the owning core). Dropping the sleep cancels the task, which then removes its
//! timer at once instead of lingering until the deadline.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};
use std::time::Instant;

/// A `Send + Sync` sleep until a deadline, for hyper's [`Timer`](hyper::rt::Timer).
///
/// # Panics
/// When first polled on a thread that is not a coreloop core (before its deadline).
#[derive(Debug)]
pub struct CoreSleep {
    deadline: Instant,
    /// Shared with the timer task, once it is spawned.
    shared: Option<Arc<Mutex<Shared>>>,
}

#[derive(Debug, Default)]
struct Shared {
    /// The deadline passed (set by the timer task).
    fired: bool,
    /// The sleep was dropped: the timer task should end.
    cancelled: bool,
    /// Woken when the deadline passes.
    sleeper: Option<Waker>,
    /// Woken when the sleep is dropped.
    timer_task: Option<Waker>,
}

fn lock(m: &Mutex<Shared>) -> MutexGuard<'_, Shared> {
    // The lock guards plain flags and wakers: a panic while holding it leaves them usable.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl CoreSleep {
    /// A sleep until `deadline`.
    pub fn until(deadline: Instant) -> CoreSleep {
        CoreSleep {
            deadline,
            shared: None,
        }
    }

    /// When it is ready.
    pub fn deadline(&self) -> Instant {
        self.deadline
    }
}

impl Future for CoreSleep {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if Instant::now() >= self.deadline {
            return Poll::Ready(());
        }
        let deadline = self.deadline;
        let shared = self.shared.get_or_insert_with(|| {
            let shared = Arc::new(Mutex::new(Shared::default()));
            drop(coreloop_runtime::spawn(TimerTask {
                sleep: coreloop_runtime::time::sleep_until(deadline),
                shared: shared.clone(),
            }));
            shared
        });
        let mut s = lock(shared);
        if s.fired {
            return Poll::Ready(());
        }
        match &mut s.sleeper {
            Some(w) if w.will_wake(cx.waker()) => {}
            slot => *slot = Some(cx.waker().clone()),
        }
        Poll::Pending
    }
}

impl Drop for CoreSleep {
    fn drop(&mut self) {
        if let Some(shared) = &self.shared {
            let task = {
                let mut s = lock(shared);
                s.cancelled = true;
                s.sleeper = None;
                s.timer_task.take()
            };
            if let Some(w) = task {
                w.wake();
            }
        }
    }
}

impl ::hyper::rt::Sleep for CoreSleep {}

/// Runs on the core that first polled the sleep: waits on that core's timer, then wakes the
/// sleeper; ends early when the sleep is dropped.
struct TimerTask {
    sleep: coreloop_runtime::time::Sleep,
    shared: Arc<Mutex<Shared>>,
}

impl Future for TimerTask {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        {
            let mut s = lock(&self.shared);
            if s.cancelled {
                return Poll::Ready(());
            }
            s.timer_task = Some(cx.waker().clone());
        }
        if Pin::new(&mut self.sleep).poll(cx).is_pending() {
            return Poll::Pending;
        }
        let sleeper = {
            let mut s = lock(&self.shared);
            s.fired = true;
            s.timer_task = None;
            s.sleeper.take()
        };
        if let Some(w) = sleeper {
            w.wake();
        }
        Poll::Ready(())
    }
}
