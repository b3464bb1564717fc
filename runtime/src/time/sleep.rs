//! `Sleep`: a future that is ready once the clock reaches its deadline.

use crate::executor::context;
use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

/// Waits until `deadline`. Needs a coreloop runtime on the thread that polls it.
pub struct Sleep {
    deadline: Instant,
    /// The timer's id, while it is in the core's map.
    id: Option<u64>,
    _not_send: PhantomData<*const ()>,
}

/// Sleeps for `duration`.
pub fn sleep(duration: Duration) -> Sleep {
    sleep_until(Instant::now() + duration)
}

/// Sleeps until `deadline`.
pub fn sleep_until(deadline: Instant) -> Sleep {
    Sleep {
        deadline,
        id: None,
        _not_send: PhantomData,
    }
}

impl Sleep {
    pub fn deadline(&self) -> Instant {
        self.deadline
    }

    pub fn is_elapsed(&self) -> bool {
        Instant::now() >= self.deadline
    }

    /// Moves the deadline (the timer is re-inserted on the next poll).
    pub fn reset(&mut self, deadline: Instant) {
        self.cancel();
        self.deadline = deadline;
    }

    fn cancel(&mut self) {
        if let Some(id) = self.id.take() {
            let deadline = self.deadline;
            context::with_current(|core| core.timers.borrow_mut().remove(deadline, id));
        }
    }
}

impl Unpin for Sleep {}

impl Future for Sleep {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if Instant::now() >= self.deadline {
            self.cancel();
            return Poll::Ready(());
        }
        let deadline = self.deadline;
        let id = self.id;
        let new_id = context::with_current(|core| {
            let mut timers = core.timers.borrow_mut();
            match id {
                Some(id) => {
                    timers.update(deadline, id, cx.waker());
                    id
                }
                None => timers.insert(deadline, cx.waker().clone()),
            }
        })
        .expect("coreloop: sleep and timeout need a coreloop runtime on this thread (Runtime::block_on)");
        self.id = Some(new_id);
        Poll::Pending
    }
}

impl Drop for Sleep {
    fn drop(&mut self) {
        self.cancel();
    }
}
