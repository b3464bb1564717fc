//! io_uring: the hot `io_uring_enter` call, and a fault-injection point for ring set-up.
//!
//! The `io-uring` crate creates, maps and probes the ring (set-up is the one place coreloop
//! lets a syscall bypass this layer); every enter goes through here, so it is counted and can
//! be failed like any other call.

use super::arch::nr;
use super::call::call6;
use super::errno::Errno;
use std::os::fd::RawFd;

/// `io_uring_enter`: wait for `min_complete` completions.
pub const IORING_ENTER_GETEVENTS: u32 = 1 << 0;
/// `io_uring_enter`: `arg` is a [`GeteventsArg`] (a timeout), not a signal mask.
pub const IORING_ENTER_EXT_ARG: u32 = 1 << 3;

/// `struct io_uring_getevents_arg`.
#[repr(C)]
#[derive(Default)]
pub struct GeteventsArg {
    /// Pointer to a signal mask to set while waiting; 0 for none.
    pub sigmask: u64,
    /// Size of that mask, in bytes.
    pub sigmask_sz: u32,
    /// Minimum wait, in microseconds, before returning with fewer completions (kernel 6.12+; 0 for
    /// none).
    pub min_wait_usec: u32,
    /// Pointer to a [`KernelTimespec`] bounding the wait; 0 for none.
    pub ts: u64,
}

/// `struct __kernel_timespec`.
#[repr(C)]
#[derive(Default, Clone, Copy)]
pub struct KernelTimespec {
    /// Seconds.
    pub tv_sec: i64,
    /// Nanoseconds, 0..1_000_000_000.
    pub tv_nsec: i64,
}

/// `io_uring_enter(2)`: submits `to_submit` entries and, with `IORING_ENTER_GETEVENTS`, waits
/// for `min_complete` completions. `EINTR` is returned as is: entries may already have been
/// consumed, so the caller, who knows the ring state, decides.
///
/// # Safety
/// `fd` must be an io_uring whose queued entries point only to memory that stays valid until
/// their completions arrive; `arg` must be null or valid for `arg_size` bytes.
pub unsafe fn io_uring_enter(
    fd: RawFd,
    to_submit: u32,
    min_complete: u32,
    flags: u32,
    arg: *const u8,
    arg_size: usize,
) -> Result<usize, Errno> {
    // SAFETY: the caller guarantees the ring's entries and `arg`.
    unsafe {
        call6(
            nr::IO_URING_ENTER,
            fd as usize,
            to_submit as usize,
            min_complete as usize,
            flags as usize,
            arg as usize,
            arg_size,
        )
    }
}

/// The fault-injection point for ring set-up: consults the thread's fault plan for
/// `io_uring_setup` without making the call (the `io-uring` crate makes it). Returns the
/// injected errno, if any. Without the feature this is always `Ok`.
pub fn setup_gate() -> Result<(), Errno> {
    match super::fault::intercept(nr::IO_URING_SETUP, &mut []) {
        Some(e) => Err(e),
        None => Ok(()),
    }
}
