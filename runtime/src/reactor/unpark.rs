//! Waking a parked core from any thread, and the queue of blocking-pool completions.
//!
//! # The protocol
//!
//! The core, before it blocks, sets `parked`, then (SeqCst fence) looks at every queue that
//! other threads push to — the pool completions here, and whatever the caller checks (the
//! executor's remote queue) — and blocks only if all are empty. A producer pushes, then (SeqCst
//! fence) takes `parked` down and writes the eventfd if it was set. Either the core sees the
//! push, or the producer sees that the core parked: no wake-up is lost, and the eventfd is
//! written at most once per park.

use crate::sync::{AtomicBool, Queue, eventfd_signal, fence};
use crate::sys::{Errno, OwnedFd, eventfd};
use std::io;
use std::os::fd::RawFd;
use std::sync::atomic::Ordering;

use super::in_flight::OpKey;

/// The part of a core's reactor that other threads may reach.
pub(crate) struct Unparker {
    /// Set by the core just before it blocks; whoever takes it down writes the eventfd.
    parked: AtomicBool,
    eventfd: OwnedFd,
    /// Results of ops the blocking pool ran for this core.
    completions: Queue<(OpKey, Result<usize, Errno>)>,
}

impl Unparker {
    pub(crate) fn new() -> io::Result<Unparker> {
        Ok(Unparker {
            parked: AtomicBool::new(false),
            eventfd: eventfd::eventfd(0, eventfd::EFD_NONBLOCK)?,
            completions: Queue::new(),
        })
    }

    /// The eventfd the reactor watches.
    pub(crate) fn fd(&self) -> RawFd {
        self.eventfd.raw()
    }

    /// Wakes the core if (and only if) it is parked.
    pub(crate) fn unpark(&self) {
        // Pairs with the fence in `prepare_park`: either the core sees what was queued, or we
        // see that it parked.
        fence(Ordering::SeqCst);
        if self.parked.load(Ordering::Relaxed) && self.parked.swap(false, Ordering::AcqRel) {
            eventfd_signal(self.eventfd.raw());
        }
    }

    /// A pool thread delivers an op's result.
    pub(crate) fn push_completion(&self, key: OpKey, res: Result<usize, Errno>) {
        self.completions.push((key, res));
        self.unpark();
    }

    pub(crate) fn pop_completion(&self) -> Option<(OpKey, Result<usize, Errno>)> {
        self.completions.pop()
    }

    /// The core is about to block. Returns false if anything arrived meanwhile (pool
    /// completions, or `more_work()` of the caller), in which case it must not block.
    pub(crate) fn prepare_park(&self, more_work: impl FnOnce() -> bool) -> bool {
        self.parked.store(true, Ordering::Relaxed);
        fence(Ordering::SeqCst);
        if !self.completions.is_empty() || more_work() {
            self.parked.store(false, Ordering::Relaxed);
            return false;
        }
        true
    }

    /// The core is awake again.
    pub(crate) fn end_park(&self) {
        self.parked.store(false, Ordering::Relaxed);
    }
}
