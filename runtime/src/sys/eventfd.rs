//! eventfd: a counter the kernel can poll, used to wake a parked core.

use super::arch::nr;
use super::call::call2;
use super::errno::Errno;
use super::fd::OwnedFd;
use super::io;
use std::os::fd::RawFd;

/// Close-on-exec (always added).
pub const EFD_CLOEXEC: u32 = 0o2000000;
/// Non-blocking reads and writes.
pub const EFD_NONBLOCK: u32 = 0o4000;
/// Each read takes 1 from the counter instead of all of it.
pub const EFD_SEMAPHORE: u32 = 1;

/// `eventfd2(initial, EFD_CLOEXEC | flags)`.
pub fn eventfd(initial: u32, flags: u32) -> Result<OwnedFd, Errno> {
    // SAFETY: no pointers.
    let fd = unsafe {
        call2(
            nr::EVENTFD2,
            initial as usize,
            (EFD_CLOEXEC | flags) as usize,
        )
    }?;
    // SAFETY: a new descriptor that only we hold.
    Ok(unsafe { OwnedFd::from_raw(fd as RawFd) })
}

/// `write(2)` of 8 bytes: adds `n` to the counter. Retries `EINTR`.
pub fn eventfd_write(fd: RawFd, n: u64) -> Result<(), Errno> {
    io::write(fd, &n.to_ne_bytes()).map(drop)
}

/// Wakes whoever watches `fd`: adds 1, and makes sure it was added. A real `EAGAIN` means the
/// counter is already at its maximum, so the watcher is awake anyway; a failure the fault plan
/// made up (tests only) is made again, since a lost wake-up is never a legitimate outcome.
pub fn eventfd_signal(fd: RawFd) {
    loop {
        match eventfd_write(fd, 1) {
            Ok(()) => return,
            Err(_) if super::last_call_injected() => continue,
            Err(_) => return,
        }
    }
}

/// `read(2)` of 8 bytes: takes the counter and resets it. Retries `EINTR`.
pub fn eventfd_read(fd: RawFd) -> Result<u64, Errno> {
    let mut b = [0u8; 8];
    io::read(fd, &mut b)?;
    Ok(u64::from_ne_bytes(b))
}
