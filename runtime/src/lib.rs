//! coreloop-runtime: the per-core executor, the operation model, timers, the io_uring and
//! epoll reactors, and the raw syscall layer they stand on.
//!
//! # The layers
//!
//! Dependencies point one way (a test, `tests/layers.rs`, keeps it so):
//!
//! ```text
//! sys  <-  buf, io  <-  op  <-  reactor  <-  executor  <-  (net, fs)
//!                                   ^-- signal      time --^ (beside the executor)
//! ```
//!
//! - [`sys`]: raw syscalls (inline asm), typed wrappers, `Errno`, fault injection.
//! - [`buf`]: buffers whose ownership passes to the kernel and back; [`io`]: the read/write
//!   traits and the loops that finish short transfers (written once for every stream).
//! - [`op`]: one operation per file, described for both reactors (`OpCode`), and the
//!   descriptor every op holds (`SharedFd`).
//! - [`reactor`]: runs ops — the `Op<T>` future, the in-flight table, the blocking pool, the
//!   unpark eventfd, its own "current reactor" — on io_uring or epoll. It wakes only `Waker`s
//!   and never names the executor.
//! - [`executor`]: tasks, wakers, `spawn`/`spawn_on`, the per-core loop and `Runtime`; it
//!   enters its reactor, parks it, takes the wakers it collected and shuts it down.
//! - [`time`]: timers, one timing wheel per core, kept by the executor's core (so `time`
//!   names the executor: it sits beside it, not below).
//! - [`signal`]: signals on a signalfd read through the reactor.
//!
//! Where this departs from the project's design map: the descriptor type (`SharedFd`) lives
//! with the ops, since the ops' contract is what needs it; `io` is its own module beside
//! `buf`, since `net` and `fs` share its loops; and the per-core buffer pool (provided
//! buffers) lives in the reactor, not in `buf`, since it is registered with the core's ring,
//! its buffers are handed out by ring completions, and the ledger gives back the buffers of
//! results no one takes (`reactor::PooledBuf`, `reactor::PooledRead`; see the io module for
//! which reads are cancel-safe).
//!
//! [`sys`] and [`op`] are for `coreloop-net`, `coreloop-fs` and power users: they are not a
//! stable API.
#![deny(missing_docs)]

pub mod buf;
pub mod executor;
pub mod io;
pub mod op;
pub mod reactor;
pub mod signal;
mod sync;
pub mod sys;
#[doc(hidden)]
pub mod testing;
pub mod time;

pub use executor::{
    Builder, CoreInfo, JoinError, JoinHandle, Runtime, buf_pool_stats, core_count, current_core,
    current_reactor, live_tasks, op_latency, reactor_stats, spawn, spawn_blocking, spawn_on,
    yield_now,
};
pub use reactor::{BufPoolStats, OpLatencyStats, PooledBuf, ReactorKind, ReactorStats};
