//! The reactor current on this thread.
//!
//! The executor makes its core's reactor current for as long as it runs that core
//! ([`Reactor::enter`]); the `Op` future, timers and everything else below the executor find
//! it here, so the reactor never needs the executor. Entering while another reactor is current
//! is refused with a panic: a second loop on the same thread would poll futures that are
//! already being polled.

use super::Reactor;
use std::cell::Cell;
use std::marker::PhantomData;

thread_local! {
    static CURRENT: Cell<*const Reactor> = const { Cell::new(std::ptr::null()) };
}

/// Runs `f` with the reactor current on this thread, if any.
///
/// Always inlined: every op poll comes here, and as a call of its own it moved the op's
/// output (a result and a buffer) through one more frame.
#[inline(always)]
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
