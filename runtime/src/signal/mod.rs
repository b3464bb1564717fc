//! Signals on signalfd, read through the reactor, on both reactors and from every core:
//! [`ctrl_c`] and [`unix::signal`].
//!
//! # How it works
//!
//! The process has **one** signalfd, made the first time a signal is asked for; its mask is
//! the union of the signals any listener has asked for. Every listener (a [`unix::Signal`])
//! that waits keeps a read of that signalfd in flight on its own core's reactor (io_uring or
//! epoll, like any other read). Whichever read gets a signal **distributes** it: each signal
//! number has a process-wide counter, the reader bumps it and wakes every listener of that
//! signal on every core (their wakers route to their own cores). So one `kill` reaches every
//! listener on every core, exactly as many times as the kernel delivered it, coalesced when
//! several arrive before a listener looks (as tokio does).
//!
//! # The mask: block before threads start
//!
//! A signal is read from a signalfd only while it is **blocked**, and the mask is per thread,
//! inherited by threads when they are spawned. A process-directed signal (`kill`, Ctrl-C)
//! goes to any thread that does not block it, and its default action (terminate, for SIGINT
//! and SIGTERM) then runs there instead of reaching the signalfd. So:
//!
//! - call [`block`] with every signal the program will listen for **at the top of `main`,
//!   before any other thread is spawned** (before `Runtime::build`, before any thread pool):
//!   every thread spawned afterwards inherits the mask;
//! - [`unix::signal`] also blocks its signal on the calling thread, which is enough for a
//!   program whose only thread is the one core, but not for signals sent to a process with
//!   other threads that do not block them.
//!
//! One limit: a listener dropped at the very moment its read takes a signal from the signalfd
//! (on io_uring, the read completes while being cancelled) loses that one delivery for every
//! listener. Keep listeners for the life of what they guard, as a shutdown listener is.
//!
//! A blocked signal stays blocked after the listeners are dropped (it is then read and
//! counted by any later listener's signalfd read, or stays pending): unblocking is the
//! program's choice, as it is the program's choice to block.
//!
//! ```no_run
//! use coreloop_runtime::signal::{self, unix::SignalKind};
//!
//! fn main() -> std::io::Result<()> {
//!     // Before any thread exists: every core inherits the mask.
//!     signal::block(&[SignalKind::interrupt(), SignalKind::terminate()])?;
//!     let rt = coreloop_runtime::Runtime::builder().cores(2).build()?;
//!     rt.run(|_core| async {
//!         let mut term = signal::unix::signal(SignalKind::terminate())?;
//!         term.recv().await; // every core's listener gets each SIGTERM
//!         Ok::<(), std::io::Error>(())
//!     })?;
//!     Ok(())
//! }
//! ```

mod registry;
pub mod unix;

use std::io;
use unix::SignalKind;

/// Resolves when the process receives SIGINT (Ctrl-C) after the call. Each call listens
/// anew; keep a [`unix::Signal`] of [`SignalKind::interrupt`] to receive every one.
///
/// See the [module docs](self) for the mask that must be set up first in a program with
/// several threads.
pub async fn ctrl_c() -> io::Result<()> {
    let mut sig = unix::signal(SignalKind::interrupt())?;
    match sig.recv().await {
        Some(()) => Ok(()),
        None => Err(io::Error::other("the signalfd read failed")),
    }
}

/// Blocks `kinds` on the calling thread and adds them to the process's signalfd: call it at
/// the top of `main`, before any thread is spawned, so that every thread inherits the mask
/// and the signals reach the signalfd instead of their default action.
pub fn block(kinds: &[SignalKind]) -> io::Result<()> {
    for kind in kinds {
        registry::enable(kind.as_raw())?;
    }
    Ok(())
}
