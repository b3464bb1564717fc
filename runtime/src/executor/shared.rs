//! The part of a core that other threads may reach: its remote queue, its `block_on` flag and
//! its reactor's [`Unparker`].

use super::task::{Task, UNREGISTERED};
use crate::reactor::unpark::Unparker;
use crate::sync::{AtomicBool, Queue, fence};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

static NEXT_ID: AtomicU64 = AtomicU64::new(1);

pub(crate) struct Shared {
    /// Unique across all cores of all runtimes in the process.
    pub(crate) id: u64,
    /// This core's index in its runtime.
    pub(crate) index: usize,
    remote: Queue<Arc<Task>>,
    /// The block_on future was woken.
    pub(crate) main_woken: AtomicBool,
    /// The core has shut down (or is shutting down): nothing sent here will run.
    closed: AtomicBool,
    pub(crate) unparker: Arc<Unparker>,
}

impl Shared {
    pub(crate) fn new(index: usize, unparker: Arc<Unparker>) -> Arc<Shared> {
        Arc::new(Shared {
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
            index,
            remote: Queue::new(),
            main_woken: AtomicBool::new(false),
            closed: AtomicBool::new(false),
            unparker,
        })
    }

    /// Sends a task (new, or woken on another thread) to this core. Returns false if the core
    /// has shut down before it could take the task: the task was dropped here, at once.
    ///
    /// Dropping a task off its core is sound then: a task still queued after its core closed
    /// either has no future left (the core dropped it, on its own thread) or never reached
    /// its core (a `spawn_on` task, whose future is `Send`); its `JoinHandle` resolves as
    /// cancelled. Nothing stays queued, so no task keeps this `Shared` (and its eventfd) alive
    /// through its `owner` field.
    ///
    /// False means exactly that this task never reached its core: the core may take a task
    /// (and run it) just before it closes, after the push, so seeing `closed` is not enough:
    /// the task must be among those this call drained. (Found by the loom model
    /// `loom_push_remote_vs_close`: `spawn_on` reported "shut down" for a future that ran.)
    /// Tasks are told apart by address; the one caller that reads the result, `spawn_on`,
    /// holds a waker of its task, so that address cannot be reused meanwhile.
    pub(crate) fn push_remote(&self, task: Arc<Task>) -> bool {
        let ours = Arc::as_ptr(&task);
        self.remote.push(task);
        // Pairs with the fence in `close`: either the core's last drain sees this task, or we
        // see that it closed.
        fence(Ordering::SeqCst);
        if self.closed.load(Ordering::Relaxed) {
            let mut dropped_ours = false;
            while let Some(t) = self.remote.pop() {
                dropped_ours |= Arc::as_ptr(&t) == ours;
                if t.slot.load(Ordering::Relaxed) == UNREGISTERED {
                    // SAFETY: never registered on its core, so it never reached it: a
                    // `spawn_on` task, whose future is `Send`; popped here, so no other
                    // thread sees it. Dropping the future resolves its JoinHandle (cancelled)
                    // even while the handle keeps the task itself alive.
                    unsafe { t.drop_future() };
                }
            }
            return !dropped_ours;
        }
        self.unparker.unpark();
        true
    }

    pub(crate) fn pop_remote(&self) -> Option<Arc<Task>> {
        self.remote.pop()
    }

    pub(crate) fn has_remote(&self) -> bool {
        !self.remote.is_empty()
    }

    /// Marks the core shut down; after this, pushes drop their task (see `push_remote`).
    pub(crate) fn close(&self) {
        self.closed.store(true, Ordering::Relaxed);
        fence(Ordering::SeqCst);
    }

    pub(crate) fn is_closed(&self) -> bool {
        self.closed.load(Ordering::Acquire)
    }

    /// Wakes the core's `block_on` future from any thread.
    pub(crate) fn wake_main(&self) {
        self.main_woken.store(true, Ordering::Release);
        self.unparker.unpark();
    }
}
