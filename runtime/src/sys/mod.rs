//! The raw syscall layer: every syscall coreloop makes goes through here.
//!
//! - `arch`: `syscall0`..`syscall6` in inline asm, and the syscall numbers.
//! - `call`: the single door (`callN`) that turns a raw return into `Result<usize, Errno>`,
//!   counts it and shows it to the fault plan (feature `fault-injection`).
//! - one file per family of typed wrappers; each wrapper's doc names its syscall and says
//!   whether it retries `EINTR`. Short counts are always returned as they are.
//!
//! Every descriptor this layer creates is close-on-exec, and every socket non-blocking.
//! This module depends on nothing but `core` and `std`'s plain types (no libc).

pub mod addr;
mod arch;
mod call;
pub mod dir;
pub mod epoll;
pub mod errno;
pub mod eventfd;
pub mod fd;
pub mod file;
pub mod io;
pub mod link;
pub mod msg;
pub mod resource;
pub mod sched;
pub mod signal;
pub mod socket;
pub mod sockopt;
pub mod statx;
pub mod timerfd;
pub mod uring;

#[cfg(feature = "fault-injection")]
pub mod fault;
#[cfg(not(feature = "fault-injection"))]
mod fault_off;
pub(crate) use fault::{inherit_plan, last_call_injected, uring_op_fault};
#[cfg(not(feature = "fault-injection"))]
use fault_off as fault;

pub use arch::nr;

/// A seed for randomized tests: `CORELOOP_FAULT_SEED` if set (to replay a failure), else a
/// fresh one. Tests print it so a failure can be replayed.
pub fn seed_hint() -> u64 {
    if let Some(s) = std::env::var("CORELOOP_FAULT_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
    {
        return s;
    }
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    t.as_nanos() as u64 ^ ((sched::getpid() as u64) << 32)
}
pub use call::retry_eintr;
pub use errno::Errno;
pub use fd::OwnedFd;
