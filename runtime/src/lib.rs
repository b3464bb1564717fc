//! coreloop-runtime: the per-core executor, the operation model, timers, the io_uring and
//! epoll reactors, and the raw syscall layer they stand on.
//!
//! Layers depend one way, each only on those below it: [`sys`] ← [`buf`] ← [`op`] ←
//! [`reactor`] ← [`executor`]; [`time`] uses the executor's per-core timers, [`signal`] and
//! [`io`] use ops. Each module's docs open with the contract it keeps. [`sys`] and [`op`] are
//! for `coreloop-net`, `coreloop-fs` and power users: they are not a stable API.
#![deny(missing_docs)]

pub mod buf;
pub mod executor;
pub mod io;
pub mod op;
pub mod reactor;
pub mod signal;
pub mod sys;
#[doc(hidden)]
pub mod testing;
pub mod time;

pub use executor::{
    Builder, CoreInfo, JoinError, JoinHandle, Runtime, core_count, current_core, current_reactor,
    live_tasks, reactor_stats, spawn, spawn_blocking, spawn_on, yield_now,
};
pub use reactor::{ReactorKind, ReactorStats};
