//! timerfd and clocks: `timerfd_create`, `timerfd_settime`, `timerfd_gettime`,
//! `clock_gettime`.
//!
//! A timerfd becomes readable when it expires; reading it returns (and resets) the number of
//! expirations since the last read, an 8-byte count.

use super::arch::nr;
use super::call::{call2, call4};
use super::errno::Errno;
use super::fd::OwnedFd;
use super::io;
use std::os::fd::RawFd;
use std::time::Duration;

/// Wall-clock time; jumps when the clock is set.
pub const CLOCK_REALTIME: u32 = 0;
/// Monotonic time since boot, not counting suspend.
pub const CLOCK_MONOTONIC: u32 = 1;
/// Monotonic time since boot, counting suspend.
pub const CLOCK_BOOTTIME: u32 = 7;

/// `timerfd_create`: close-on-exec (always added).
pub const TFD_CLOEXEC: u32 = 0o2000000;
/// `timerfd_create`: non-blocking reads.
pub const TFD_NONBLOCK: u32 = 0o4000;
/// `timerfd_settime`: `it_value` is an absolute time on the timer's clock.
pub const TFD_TIMER_ABSTIME: u32 = 1;
/// `timerfd_settime` on a `CLOCK_REALTIME` absolute timer: fail reads with `ECANCELED` when
/// the clock is set.
pub const TFD_TIMER_CANCEL_ON_SET: u32 = 2;

/// `struct timespec` (`struct __kernel_timespec` on 64-bit).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct Timespec {
    /// Seconds.
    pub tv_sec: i64,
    /// Nanoseconds, 0..1_000_000_000.
    pub tv_nsec: i64,
}

impl Timespec {
    /// A duration as a timespec (seconds saturate at `i64::MAX`).
    pub fn from_duration(d: Duration) -> Timespec {
        Timespec {
            tv_sec: i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
            tv_nsec: i64::from(d.subsec_nanos()),
        }
    }

    /// This timespec as a duration; `None` if it is negative or malformed.
    pub fn as_duration(&self) -> Option<Duration> {
        let secs = u64::try_from(self.tv_sec).ok()?;
        let nanos = u32::try_from(self.tv_nsec)
            .ok()
            .filter(|&n| n < 1_000_000_000)?;
        Some(Duration::new(secs, nanos))
    }
}

/// `struct itimerspec`: the first expiry (`it_value`; zero disarms) and the period
/// (`it_interval`; zero fires once).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Itimerspec {
    /// The period after the first expiry; zero fires once.
    pub it_interval: Timespec,
    /// The first expiry; zero disarms.
    pub it_value: Timespec,
}

/// `timerfd_create(2)` on `clock`; `TFD_CLOEXEC` is always added, `flags` may add
/// `TFD_NONBLOCK`.
pub fn timerfd_create(clock: u32, flags: u32) -> Result<OwnedFd, Errno> {
    // SAFETY: timerfd_create takes no pointers.
    let fd = unsafe {
        call2(
            nr::TIMERFD_CREATE,
            clock as usize,
            (flags | TFD_CLOEXEC) as usize,
        )
    }?;
    // SAFETY: a new descriptor that only we hold.
    Ok(unsafe { OwnedFd::from_raw(fd as RawFd) })
}

/// `timerfd_settime(2)`: arms (or with a zero `it_value` disarms) the timer; returns the
/// previous setting. Not retried: it does not report `EINTR`.
pub fn timerfd_settime(fd: RawFd, flags: u32, new: &Itimerspec) -> Result<Itimerspec, Errno> {
    let mut old = Itimerspec::default();
    // SAFETY: new is readable and old writable as one Itimerspec each, for the whole call.
    unsafe {
        call4(
            nr::TIMERFD_SETTIME,
            fd as usize,
            flags as usize,
            new as *const Itimerspec as usize,
            &mut old as *mut Itimerspec as usize,
        )
    }?;
    Ok(old)
}

/// `timerfd_gettime(2)`: time left until the next expiry, and the period.
pub fn timerfd_gettime(fd: RawFd) -> Result<Itimerspec, Errno> {
    let mut cur = Itimerspec::default();
    // SAFETY: cur is writable as one Itimerspec for the whole call.
    unsafe {
        call2(
            nr::TIMERFD_GETTIME,
            fd as usize,
            &mut cur as *mut Itimerspec as usize,
        )
    }?;
    Ok(cur)
}

/// `read(2)` of 8 bytes: the expiration count, which the read resets. `EAGAIN` on a non-blocking
/// timerfd that has not expired. Retries `EINTR`.
pub fn timerfd_read(fd: RawFd) -> Result<u64, Errno> {
    let mut b = [0u8; 8];
    io::read(fd, &mut b)?;
    Ok(u64::from_ne_bytes(b))
}

/// `clock_gettime(2)` as a real syscall (not the vDSO): the time on `clock`.
pub fn clock_gettime(clock: u32) -> Result<Timespec, Errno> {
    let mut ts = Timespec::default();
    // SAFETY: ts is writable as one Timespec for the whole call.
    unsafe {
        call2(
            nr::CLOCK_GETTIME,
            clock as usize,
            &mut ts as *mut Timespec as usize,
        )
    }?;
    Ok(ts)
}
