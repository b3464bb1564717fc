//! A task: a future that lives on one core, with a waker any thread may use.

use super::core;
use super::shared::Shared;
use std::cell::UnsafeCell;
use std::future::Future;
use std::mem::ManuallyDrop;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::task::{Context, Poll, Wake, Waker};

pub(crate) type BoxFuture = Pin<Box<dyn Future<Output = ()>>>;

/// Not yet in its core's task table.
pub(crate) const UNREGISTERED: usize = usize::MAX;

/// # Invariant
/// `future` is read, polled and dropped only on the thread of the core `owner` names, by that
/// core's run loop (or its shutdown); every other thread only touches the atomics and `owner`.
/// A future is `None` once finished, so the last `Arc` may drop anywhere without running the
/// future's destructor off its core. The one exception is a task built by `spawn_on`, whose
/// future is `Send`, that never reached its core: it may be dropped where the queue drops.
pub(crate) struct Task {
    pub(crate) owner: Arc<Shared>,
    pub(crate) scheduled: AtomicBool,
    pub(crate) slot: AtomicUsize,
    future: UnsafeCell<Option<BoxFuture>>,
}

// SAFETY: by the invariant, the non-thread-safe part (`future`) is only used on the owning
// core's thread; the rest is atomics and an `Arc<Shared>` (which is Send + Sync).
unsafe impl Send for Task {}
// SAFETY: as above: shared references from other threads only reach the atomics and `owner`.
unsafe impl Sync for Task {}

impl Task {
    pub(crate) fn new(owner: Arc<Shared>, future: BoxFuture) -> Arc<Task> {
        Arc::new(Task {
            owner,
            scheduled: AtomicBool::new(true),
            slot: AtomicUsize::new(UNREGISTERED),
            future: UnsafeCell::new(Some(future)),
        })
    }

    /// Whether the future is still there.
    ///
    /// # Safety
    /// Only on the owning core's thread (see the invariant).
    pub(crate) unsafe fn is_live(&self) -> bool {
        // SAFETY: the caller is on the owning core, the only place `future` is touched.
        unsafe { (*self.future.get()).is_some() }
    }

    /// Polls the task once. Returns true when it finished (its future is gone).
    ///
    /// # Safety
    /// Only on the owning core's thread, and not re-entrantly.
    pub(crate) unsafe fn poll(self: &Arc<Task>) -> bool {
        self.scheduled.store(false, Ordering::Release);
        // A waker that borrows this Arc's count: ManuallyDrop never gives it back, and clones
        // of it take counts of their own.
        // SAFETY: the pointer comes from a live Arc that outlives this waker.
        let waker = ManuallyDrop::new(Waker::from(unsafe { Arc::from_raw(Arc::as_ptr(self)) }));
        let mut cx = Context::from_waker(&waker);
        // SAFETY: on the owning core and not re-entrant (caller's promise), so no other
        // reference to `future` exists.
        let slot = unsafe { &mut *self.future.get() };
        let Some(fut) = slot.as_mut() else {
            return true;
        };
        if let Poll::Ready(()) = fut.as_mut().poll(&mut cx) {
            *slot = None;
            return true;
        }
        false
    }

    /// Drops the future (shutdown or abort).
    ///
    /// # Safety
    /// Only on the owning core's thread, or — for a task that never reached its core (sent by
    /// `spawn_on`, whose future is `Send`, and never registered there) — on the one thread
    /// that took it out of the queue, which no other thread will see it from.
    pub(crate) unsafe fn drop_future(&self) {
        // SAFETY: the caller is on the owning core; take it out first so a destructor that
        // wakes this task finds it finished.
        let fut = unsafe { (*self.future.get()).take() };
        drop(fut);
    }
}

impl Wake for Task {
    fn wake(self: Arc<Self>) {
        schedule(self);
    }

    fn wake_by_ref(self: &Arc<Self>) {
        schedule(self.clone());
    }
}

/// Puts a task on its core's run queue: the local queue if we are on that core, else its
/// remote queue with an unpark.
pub(crate) fn schedule(task: Arc<Task>) {
    if task.scheduled.swap(true, Ordering::AcqRel) {
        return;
    }
    let mut task = Some(task);
    core::with_current(|core| {
        if core.shared.id == task.as_ref().expect("not taken yet").owner.id {
            core.push_local(task.take().expect("not taken yet"));
        }
    });
    if let Some(task) = task {
        let owner = task.owner.clone();
        // A core that shut down drops the task at once (see `Shared::push_remote`).
        let _ = owner.push_remote(task);
    }
}
