//! Resource limits: `prlimit64`.

use super::arch::nr;
use super::call::call4;
use super::errno::Errno;

/// CPU time, in seconds.
pub const RLIMIT_CPU: u32 = 0;
/// Largest file the process may create, in bytes.
pub const RLIMIT_FSIZE: u32 = 1;
/// Data segment size, in bytes.
pub const RLIMIT_DATA: u32 = 2;
/// Main thread's stack size, in bytes.
pub const RLIMIT_STACK: u32 = 3;
/// Core dump size, in bytes.
pub const RLIMIT_CORE: u32 = 4;
/// Number of processes (threads) for the real user.
pub const RLIMIT_NPROC: u32 = 6;
/// One more than the highest descriptor number the process may open.
pub const RLIMIT_NOFILE: u32 = 7;
/// Locked memory, in bytes (older kernels charge io_uring rings to it).
pub const RLIMIT_MEMLOCK: u32 = 8;
/// Address space size, in bytes.
pub const RLIMIT_AS: u32 = 9;

/// "No limit".
pub const RLIM_INFINITY: u64 = u64::MAX;

/// `struct rlimit64`: the soft limit (`cur`, enforced) and the hard limit (`max`, the
/// ceiling an unprivileged process may raise `cur` to).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Rlimit {
    /// The soft limit, which the kernel enforces.
    pub cur: u64,
    /// The hard limit: the most `cur` may be raised to without privilege.
    pub max: u64,
}

/// `prlimit64(2)` on process `pid` (0 for the caller): sets `new` if given, and returns the
/// limit as it was before.
pub fn prlimit64(pid: i32, resource: u32, new: Option<&Rlimit>) -> Result<Rlimit, Errno> {
    let mut old = Rlimit::default();
    let new = new.map_or(std::ptr::null(), |n| n as *const Rlimit);
    // SAFETY: new is null or a readable Rlimit, old a writable one, for the whole call.
    unsafe {
        call4(
            nr::PRLIMIT64,
            pid as usize,
            resource as usize,
            new as usize,
            &mut old as *mut Rlimit as usize,
        )
    }?;
    Ok(old)
}

/// `prlimit64(2)` on the calling process, reading only: its limit for `resource`.
pub fn getrlimit(resource: u32) -> Result<Rlimit, Errno> {
    prlimit64(0, resource, None)
}

/// `prlimit64(2)` on the calling process: sets its limit for `resource`.
pub fn setrlimit(resource: u32, limit: &Rlimit) -> Result<(), Errno> {
    prlimit64(0, resource, Some(limit)).map(drop)
}
