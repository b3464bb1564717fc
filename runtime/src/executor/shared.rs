//! The part of a core that other threads may reach: its remote queue, its completion queue
//! (from the blocking pool) and its unpark eventfd.

use super::task::Task;
use crate::sys::{Errno, OwnedFd, eventfd};
use crossbeam_queue::SegQueue;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering, fence};

static NEXT_ID: AtomicU64 = AtomicU64::new(1);

pub(crate) struct Shared {
    /// Unique across all cores of all runtimes in the process.
    pub(crate) id: u64,
    /// This core's index in its runtime.
    pub(crate) index: usize,
    remote: SegQueue<Arc<Task>>,
    completions: SegQueue<(u64, Result<usize, Errno>)>,
    /// Set by the core just before it blocks; whoever takes it down writes the eventfd.
    parked: AtomicBool,
    /// The block_on future was woken.
    pub(crate) main_woken: AtomicBool,
    /// The core has shut down: nothing sent here will run.
    pub(crate) closed: AtomicBool,
    pub(crate) unpark_fd: OwnedFd,
}

impl Shared {
    pub(crate) fn new(index: usize) -> std::io::Result<Arc<Shared>> {
        Ok(Arc::new(Shared {
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
            index,
            remote: SegQueue::new(),
            completions: SegQueue::new(),
            parked: AtomicBool::new(false),
            main_woken: AtomicBool::new(false),
            closed: AtomicBool::new(false),
            unpark_fd: eventfd::eventfd(0, eventfd::EFD_NONBLOCK)?,
        }))
    }

    pub(crate) fn push_remote(&self, task: Arc<Task>) {
        self.remote.push(task);
        self.unpark();
    }

    pub(crate) fn pop_remote(&self) -> Option<Arc<Task>> {
        self.remote.pop()
    }

    pub(crate) fn push_completion(&self, key: u64, res: Result<usize, Errno>) {
        self.completions.push((key, res));
        self.unpark();
    }

    pub(crate) fn pop_completion(&self) -> Option<(u64, Result<usize, Errno>)> {
        self.completions.pop()
    }

    /// Wakes the core if (and only if) it is parked: the eventfd is written once per park.
    pub(crate) fn unpark(&self) {
        // Pairs with the fence in `prepare_park`: either the core sees what we queued, or we
        // see that it parked.
        fence(Ordering::SeqCst);
        if self.parked.load(Ordering::Relaxed) && self.parked.swap(false, Ordering::AcqRel) {
            let _ = eventfd::eventfd_write(self.unpark_fd.raw(), 1);
        }
    }

    /// The core is about to block. Returns false if something arrived meanwhile, in which
    /// case it must not block.
    pub(crate) fn prepare_park(&self) -> bool {
        self.parked.store(true, Ordering::Relaxed);
        fence(Ordering::SeqCst);
        if !self.remote.is_empty()
            || !self.completions.is_empty()
            || self.main_woken.load(Ordering::Relaxed)
        {
            self.parked.store(false, Ordering::Relaxed);
            return false;
        }
        true
    }

    pub(crate) fn end_park(&self) {
        self.parked.store(false, Ordering::Relaxed);
    }
}
