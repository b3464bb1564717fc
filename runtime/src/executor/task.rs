//! A task: a future that lives on one core, with a waker any thread may use.

use super::core;
use super::shared::Shared;
use std::cell::{Cell, UnsafeCell};
use std::future::Future;
use std::mem::ManuallyDrop;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::task::{Context, Poll, RawWaker, RawWakerVTable, Waker};

pub(crate) type BoxFuture = Pin<Box<dyn Future<Output = ()>>>;

/// Not yet in its core's task table.
pub(crate) const UNREGISTERED: usize = usize::MAX;

/// # Invariant
/// `future` is read, polled and dropped only on the thread of the core `owner` names, by that
/// core's run loop (or its shutdown); every other thread only touches the atomics and `owner`.
/// A future is `None` once finished, so the last `Arc` may drop anywhere without running the
/// future's destructor off its core. The one exception is a task built by `spawn_on`, whose
/// future is `Send`, that never reached its core: it may be dropped where the queue drops.
///
/// `next` is read and written only by the local run queue of the core `owner` names, on that
/// core's thread (see [`RunQueue`](super::run_queue::RunQueue)).
pub(crate) struct Task {
    pub(crate) owner: Arc<Shared>,
    pub(crate) scheduled: AtomicBool,
    /// Its `JoinHandle` asked it to stop: its next poll drops the future instead.
    aborted: AtomicBool,
    pub(crate) slot: AtomicUsize,
    /// The next task in the local run queue, while this one is in it.
    pub(super) next: Cell<*const Task>,
    future: UnsafeCell<Option<BoxFuture>>,
}

// SAFETY: by the invariant, the non-thread-safe parts (`future`, `next`) are only used on the
// owning core's thread; the rest is atomics and an `Arc<Shared>` (which is Send + Sync).
unsafe impl Send for Task {}
// SAFETY: as above: shared references from other threads only reach the atomics and `owner`.
unsafe impl Sync for Task {}

impl Task {
    pub(crate) fn new(owner: Arc<Shared>, future: BoxFuture) -> Arc<Task> {
        Arc::new(Task {
            owner,
            scheduled: AtomicBool::new(true),
            aborted: AtomicBool::new(false),
            slot: AtomicUsize::new(UNREGISTERED),
            next: Cell::new(std::ptr::null()),
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
    #[inline(always)]
    pub(crate) unsafe fn poll(self: &Arc<Task>) -> bool {
        // A read-modify-write, not a store: a waker on another thread that raised a flag
        // (`aborted`) and then found `scheduled` still up (so queued nothing) wrote `scheduled`
        // last, and this swap reads that write, so the flag is seen below. A plain store
        // could pass it (store-buffer reordering) and the abort would wait for a later wake.
        self.scheduled.swap(false, Ordering::AcqRel);
        // A waker that borrows this Arc's count: ManuallyDrop never gives it back, and clones
        // of it take counts of their own.
        // SAFETY: the pointer comes from a live Arc that outlives this waker, as `VTABLE`
        // expects (the count it holds is the caller's).
        let waker = ManuallyDrop::new(unsafe { Waker::new(Arc::as_ptr(self).cast(), &VTABLE) });
        let mut cx = Context::from_waker(&waker);
        // SAFETY: on the owning core and not re-entrant (caller's promise), so no other
        // reference to `future` exists.
        let slot = unsafe { &mut *self.future.get() };
        let Some(fut) = slot.as_mut() else {
            return true;
        };
        if self.aborted.load(Ordering::Acquire) {
            // Dropped unpolled: its handle resolves as cancelled (before the future's own
            // destructor runs). Taken out first so a destructor that wakes this task finds it
            // finished.
            drop(slot.take());
            return true;
        }
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

/// The waker of a task: a counted `Arc<Task>` pointer under [`VTABLE`]. Written by hand rather
/// than through `std::task::Wake` so that `wake_by_ref` takes a count only when it queues the
/// task, and `schedule` is one function the wake paths inline.
static VTABLE: RawWakerVTable = RawWakerVTable::new(clone_raw, wake_raw, wake_by_ref_raw, drop_raw);

// SAFETY (all four): `data` is from `Arc::into_raw` of an `Arc<Task>` (by `Task::waker`) and
// holds one count, which `wake_raw` and `drop_raw` consume and the others leave.
unsafe fn clone_raw(data: *const ()) -> RawWaker {
    // SAFETY: as above: the count `data` holds keeps the task alive.
    unsafe { Arc::increment_strong_count(data.cast::<Task>()) };
    RawWaker::new(data, &VTABLE)
}

unsafe fn wake_raw(data: *const ()) {
    // SAFETY: as above: this takes over the waker's count.
    schedule(unsafe { Arc::from_raw(data.cast::<Task>()) });
}

unsafe fn wake_by_ref_raw(data: *const ()) {
    // SAFETY: as above: the waker's count keeps the task alive for this call.
    let task = unsafe { &*data.cast::<Task>() };
    if task.scheduled.swap(true, Ordering::AcqRel) {
        return;
    }
    // SAFETY: as above; the queue gets a count of its own.
    unsafe { Arc::increment_strong_count(task) };
    // SAFETY: the count just taken.
    enqueue(unsafe { Arc::from_raw(task) });
}

unsafe fn drop_raw(data: *const ()) {
    // SAFETY: as above: this gives back the waker's count.
    unsafe { Arc::decrement_strong_count(data.cast::<Task>()) };
}

impl Task {
    /// A waker of this task (a count of its own).
    pub(crate) fn waker(self: &Arc<Task>) -> Waker {
        let data = Arc::into_raw(self.clone()).cast::<()>();
        // SAFETY: `data` is a counted `Arc<Task>` pointer, as `VTABLE` expects.
        unsafe { Waker::new(data, &VTABLE) }
    }
}

/// The task behind `waker`, if it is a task's waker (its count moves to the `Arc`); any
/// other waker is given back.
#[inline]
pub(crate) fn task_of(waker: Waker) -> Result<Arc<Task>, Waker> {
    if !std::ptr::eq(waker.vtable(), &VTABLE) {
        return Err(waker);
    }
    let waker = ManuallyDrop::new(waker);
    // SAFETY: a waker under `VTABLE` holds a counted `Arc<Task>` pointer, whose count moves
    // to the `Arc` (ManuallyDrop keeps the waker from giving it back).
    Ok(unsafe { Arc::from_raw(waker.data().cast::<Task>()) })
}

/// Asks the task behind `waker` (a task's waker) to stop at its next poll, and wakes it.
pub(crate) fn abort(waker: &Waker) {
    if std::ptr::eq(waker.vtable(), &VTABLE) {
        // SAFETY: a waker under `VTABLE` holds a counted `Arc<Task>` pointer, which keeps the
        // task alive while the waker is borrowed.
        let task = unsafe { &*waker.data().cast::<Task>() };
        task.aborted.store(true, Ordering::Release);
    }
    waker.wake_by_ref();
}

/// Puts a task on its core's run queue: the local queue if we are on that core, else its
/// remote queue with an unpark.
#[inline]
pub(crate) fn schedule(task: Arc<Task>) {
    if task.scheduled.swap(true, Ordering::AcqRel) {
        return;
    }
    enqueue(task);
}

/// Queues a task that was not queued (its `scheduled` flag just went up).
#[inline]
fn enqueue(task: Arc<Task>) {
    if let Err(task) = core::push_if_local(task) {
        push_remote(task);
    }
}

/// A wake from a thread other than the task's core's.
#[cold]
#[inline(never)]
fn push_remote(task: Arc<Task>) {
    let owner = task.owner.clone();
    // A core that shut down drops the task at once (see `Shared::push_remote`).
    let _ = owner.push_remote(task);
}
