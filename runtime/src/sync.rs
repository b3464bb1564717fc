//! The synchronization primitives of the cross-thread protocols (park/unpark in
//! [`reactor::unpark`](crate::reactor::unpark), the remote queue and shutdown in
//! `executor::shared`), named once so that the loom model checker can replace them.
//!
//! Normally these are `std`'s atomics and crossbeam's `SegQueue`. Under `--cfg loom` (only for
//! the model tests: `RUSTFLAGS="--cfg loom" cargo test -p coreloop-runtime --lib --release
//! loom`) the atomics and fences are loom's, which explores every interleaving and every
//! outcome the memory model allows, and the queue is a loom `Mutex<VecDeque>`: `SegQueue` is
//! not loom-aware, and what the protocols need of it (a push is seen by a later `pop` or
//! `is_empty` in the order the fences set) a mutex gives too. The code that uses them is the
//! same in both builds.
//!
//! The unpark eventfd stays a real eventfd in the models (its write is a non-blocking
//! syscall), but the kernel orders a write before the read that sees it, which loom cannot
//! know: under loom, [`eventfd_signal`] also bumps a loom counter with `Release`, which the
//! models read with an `AcqRel` read-modify-write when they take a wake-up from the eventfd.

#[cfg(not(loom))]
pub(crate) use std::sync::atomic::{AtomicBool, fence};

#[cfg(loom)]
pub(crate) use loom::sync::atomic::{AtomicBool, fence};

/// Writes 1 to the unpark eventfd.
#[cfg(not(loom))]
pub(crate) use crate::sys::eventfd::eventfd_signal;

#[cfg(loom)]
pub(crate) use self::model::{EVENTFD_WRITES, eventfd_signal};

/// A multi-producer queue: `push`, `pop`, `is_empty`.
#[cfg(not(loom))]
pub(crate) type Queue<T> = crossbeam_queue::SegQueue<T>;

#[cfg(loom)]
pub(crate) use self::model::Queue;

#[cfg(loom)]
mod model {
    use loom::sync::Mutex;
    use loom::sync::atomic::AtomicUsize;
    use std::collections::VecDeque;
    use std::os::fd::RawFd;
    use std::sync::atomic::Ordering::AcqRel;
    use std::sync::atomic::Ordering::Acquire;

    loom::lazy_static! {
        /// Eventfd writes, for the happens-before edge from a write to the read that sees it.
        pub(crate) static ref EVENTFD_WRITES: AtomicUsize = AtomicUsize::new(0);
    }

    pub(crate) fn eventfd_signal(fd: RawFd) {
        crate::sys::eventfd::eventfd_signal(fd);
        EVENTFD_WRITES.fetch_add(1, std::sync::atomic::Ordering::Release);
    }

    /// `SegQueue`'s interface, no stronger than `SegQueue`: a push is made visible by a
    /// read-modify-write of a counter, and emptiness is decided by plain loads of the counters
    /// (as `SegQueue::is_empty` and the empty case of `pop` load its head and tail indices),
    /// so a push and a later check on another thread are ordered only by what the protocol
    /// itself adds (its fences). A queue behind one mutex would order every push with every
    /// check and hide a missing fence. The mutex below only holds the items.
    pub(crate) struct Queue<T> {
        items: Mutex<VecDeque<T>>,
        pushed: AtomicUsize,
        popped: AtomicUsize,
    }

    impl<T> Queue<T> {
        pub(crate) fn new() -> Queue<T> {
            Queue {
                items: Mutex::new(VecDeque::new()),
                pushed: AtomicUsize::new(0),
                popped: AtomicUsize::new(0),
            }
        }

        pub(crate) fn push(&self, value: T) {
            self.items.lock().unwrap().push_back(value);
            self.pushed.fetch_add(1, AcqRel);
        }

        pub(crate) fn pop(&self) -> Option<T> {
            if self.is_empty() {
                return None;
            }
            let value = self.items.lock().unwrap().pop_front();
            if value.is_some() {
                self.popped.fetch_add(1, AcqRel);
            }
            value
        }

        pub(crate) fn is_empty(&self) -> bool {
            self.popped.load(Acquire) == self.pushed.load(Acquire)
        }
    }
}
