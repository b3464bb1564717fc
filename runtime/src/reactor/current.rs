//! The reactor current on this thread, and the cooperative op budget.
//!
//! The executor makes its core's reactor current for as long as it runs that core
//! ([`Reactor::enter`]); the `Op` future, timers and everything else below the executor find
//! it here, so the reactor never needs the executor. Entering while another reactor is current
//! is refused with a panic: a second loop on the same thread would poll futures that are
//! already being polled.
//!
//! **Budget.** A task whose ops keep completing at once (a connection that always has data on
//! epoll) would never return to the executor, and timers and other tasks on its core would
//! starve. So every task poll gets a budget of [`Budget::PER_POLL`] ops; an op polled with
//! the budget spent returns `Pending` and wakes its task at once, which yields to the rest of
//! the core (as tokio's cooperative budget does). The executor resets the budget before each
//! poll.

use super::Reactor;
use std::cell::Cell;
use std::marker::PhantomData;

thread_local! {
    static CURRENT: Cell<*const Reactor> = const { Cell::new(std::ptr::null()) };
    static BUDGET: Cell<u32> = const { Cell::new(Budget::PER_POLL) };
}

/// Runs `f` with the reactor current on this thread, if any.
pub(crate) fn with_current<R>(f: impl FnOnce(&Reactor) -> R) -> Option<R> {
    let ptr = CURRENT.try_with(|c| c.get()).ok()?;
    if ptr.is_null() {
        return None;
    }
    // SAFETY: CURRENT is set only by `Reactor::enter`, whose guard outlives every use on this
    // thread (it borrows the reactor) and resets it on drop.
    Some(f(unsafe { &*ptr }))
}

/// Keeps a reactor current on this thread until dropped.
#[must_use = "the reactor stays current only while the guard lives"]
pub struct Entered<'a> {
    prev: *const Reactor,
    _reactor: PhantomData<&'a Reactor>,
}

impl Reactor {
    /// Makes this reactor current on this thread.
    ///
    /// # Panics
    /// If another reactor (a coreloop runtime) is already running on this thread: a runtime
    /// cannot be started from inside another.
    pub fn enter(&self) -> Entered<'_> {
        let prev = CURRENT.with(|c| c.get());
        assert!(
            prev.is_null(),
            "coreloop: cannot start a runtime from within a runtime (block_on or run was called \
             on a thread that is already running a coreloop core, e.g. from inside a task); \
             spawn the future instead, or run the second runtime on its own thread"
        );
        CURRENT.with(|c| c.set(self));
        Entered {
            prev,
            _reactor: PhantomData,
        }
    }

    /// Makes this reactor current even if another one is (to shut it down from wherever it
    /// is dropped); the previous one is current again when the guard drops.
    pub(crate) fn enter_for_shutdown(&self) -> Entered<'_> {
        let prev = CURRENT.with(|c| c.replace(self));
        Entered {
            prev,
            _reactor: PhantomData,
        }
    }
}

impl Drop for Entered<'_> {
    fn drop(&mut self) {
        let _ = CURRENT.try_with(|c| c.set(self.prev));
    }
}

/// The cooperative op budget of the task being polled (see the module docs).
pub struct Budget;

impl Budget {
    /// Ops a task may complete in one poll before it must yield.
    pub const PER_POLL: u32 = 128;

    /// Gives the task about to be polled a fresh budget.
    pub fn reset() {
        let _ = BUDGET.try_with(|b| b.set(Budget::PER_POLL));
    }
}

/// Spends one unit of the budget; false if it was already spent (the op must yield).
pub(crate) fn budget() -> bool {
    BUDGET
        .try_with(|b| {
            let left = b.get();
            if left == 0 {
                return false;
            }
            b.set(left - 1);
            true
        })
        .unwrap_or(true)
}
