//! coreloop-runtime: the per-core executor, the operation model, timers, the io_uring and
//! epoll reactors, and the raw syscall layer they stand on. See `DESIGN.md` for the map.

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
    Builder, CoreInfo, JoinError, JoinHandle, Runtime, core_count, current_core, current_reactor,
    live_tasks, reactor_stats, spawn, spawn_blocking, spawn_on, yield_now,
};
pub use reactor::{ReactorKind, ReactorStats};
