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

/// `io_uring_register`: register a ring of provided buffers (`struct io_uring_buf_reg`).
pub const IORING_REGISTER_PBUF_RING: u32 = 22;
/// `io_uring_register`: unregister a ring of provided buffers.
pub const IORING_UNREGISTER_PBUF_RING: u32 = 23;
/// `io_uring_register`: register the ring's own fd, so each enter skips the fd lookup.
pub const IORING_REGISTER_RING_FDS: u32 = 20;
/// `io_uring_register`: unregister registered ring fds.
pub const IORING_UNREGISTER_RING_FDS: u32 = 21;
/// `io_uring_enter`: the fd argument is an index into the registered ring fds.
pub const IORING_ENTER_REGISTERED_RING: u32 = 1 << 4;

/// `struct io_uring_buf_reg`: where a ring of provided buffers lives and its group id.
#[repr(C)]
#[derive(Default)]
pub struct BufReg {
    /// Address of the ring: `ring_entries` × 16-byte `struct io_uring_buf`, page-aligned.
    pub ring_addr: u64,
    /// Entries in the ring, a power of two up to 32768.
    pub ring_entries: u32,
    /// The buffer group id that entries name in `buf_group`.
    pub bgid: u16,
    /// Flags (`IOU_PBUF_RING_MMAP`, …); 0: the ring is the caller's memory.
    pub flags: u16,
    /// Reserved, zero.
    pub resv: [u64; 3],
}

/// `struct io_uring_rsrc_update`: one registered ring fd.
#[repr(C)]
#[derive(Default)]
pub struct RsrcUpdate {
    /// The slot to use (`u32::MAX`: any free one; the kernel writes the chosen slot back).
    pub offset: u32,
    /// Reserved, zero.
    pub resv: u32,
    /// The fd to register.
    pub data: u64,
}

/// `io_uring_register(2)`: `opcode` with `arg` (`nr_args` items). Goes through this layer, so a
/// fault plan can refuse it (how tests simulate a kernel without provided buffer rings).
///
/// # Safety
/// `arg` must be valid for what `opcode` reads and writes; memory it registers (a buffer ring)
/// must stay valid until it is unregistered or the ring is closed.
pub unsafe fn io_uring_register(
    fd: RawFd,
    opcode: u32,
    arg: *mut u8,
    nr_args: u32,
) -> Result<usize, Errno> {
    // SAFETY: the caller guarantees `arg`.
    unsafe {
        super::call::call4(
            nr::IO_URING_REGISTER,
            fd as usize,
            opcode as usize,
            arg as usize,
            nr_args as usize,
        )
    }
}
