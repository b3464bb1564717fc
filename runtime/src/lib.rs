//! coreloop-runtime: the per-core executor, the operation model, timers, the io_uring and
//! epoll reactors, and the raw syscall layer they stand on. See `DESIGN.md` for the map.

pub mod sys;
