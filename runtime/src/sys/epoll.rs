//! epoll: `epoll_create1`, `epoll_ctl`, `epoll_pwait`.

use super::arch::nr;
use super::call::{call1, call4, call6};
use super::errno::Errno;
use super::fd::OwnedFd;
use std::os::fd::RawFd;

/// Readable.
pub const EPOLLIN: u32 = 0x001;
/// Urgent (out-of-band) data to read.
pub const EPOLLPRI: u32 = 0x002;
/// Writable.
pub const EPOLLOUT: u32 = 0x004;
/// Error condition (always reported, need not be asked for).
pub const EPOLLERR: u32 = 0x008;
/// Hang-up: both directions closed (always reported).
pub const EPOLLHUP: u32 = 0x010;
/// The peer shut down its writing side.
pub const EPOLLRDHUP: u32 = 0x2000;
/// Edge-triggered: report a change of readiness once, not while it lasts.
pub const EPOLLET: u32 = 1 << 31;
/// `epoll_create1` flag: close-on-exec.
pub const EPOLL_CLOEXEC: u32 = 0o2000000;

/// `epoll_ctl`: register a descriptor.
pub const EPOLL_CTL_ADD: u32 = 1;
/// `epoll_ctl`: deregister a descriptor.
pub const EPOLL_CTL_DEL: u32 = 2;
/// `epoll_ctl`: change a registration's events or data.
pub const EPOLL_CTL_MOD: u32 = 3;

/// `struct epoll_event`: packed on x86_64, as the kernel lays it out there.
#[repr(C, packed)]
#[derive(Clone, Copy, Default)]
pub struct EpollEvent {
    /// `EPOLL*` bits: asked for on registration, reported by a wait.
    pub events: u32,
    /// The caller's tag, handed back with each event.
    pub data: u64,
}

impl EpollEvent {
    /// An event with these `EPOLL*` bits and this tag.
    pub fn new(events: u32, data: u64) -> EpollEvent {
        EpollEvent { events, data }
    }
    /// The `EPOLL*` bits (read by value: the struct is packed).
    pub fn events(&self) -> u32 {
        self.events
    }
    /// The caller's tag (read by value: the struct is packed).
    pub fn data(&self) -> u64 {
        self.data
    }
}

/// `epoll_create1(EPOLL_CLOEXEC)`.
pub fn epoll_create() -> Result<OwnedFd, Errno> {
    // SAFETY: no pointers.
    let fd = unsafe { call1(nr::EPOLL_CREATE1, EPOLL_CLOEXEC as usize) }?;
    // SAFETY: a new descriptor that only we hold.
    Ok(unsafe { OwnedFd::from_raw(fd as RawFd) })
}

/// `epoll_ctl(2)`. Not retried: epoll_ctl does not fail with `EINTR`.
pub fn epoll_ctl(epfd: RawFd, op: u32, fd: RawFd, events: u32, data: u64) -> Result<(), Errno> {
    let mut ev = EpollEvent::new(events, data);
    let ptr = if op == EPOLL_CTL_DEL {
        std::ptr::null_mut()
    } else {
        &mut ev as *mut EpollEvent
    };
    // SAFETY: ev lives across the call; the kernel only reads it.
    unsafe {
        call4(
            nr::EPOLL_CTL,
            epfd as usize,
            op as usize,
            fd as usize,
            ptr as usize,
        )
    }
    .map(drop)
}

/// `epoll_pwait(2)` with no signal mask. `timeout_ms < 0` waits forever.
///
/// `EINTR` is returned as `Ok(0)`, not retried: a signal interrupting a wait is a spurious
/// wake-up, and the caller recomputes its timeout before waiting again.
pub fn epoll_wait(epfd: RawFd, events: &mut [EpollEvent], timeout_ms: i32) -> Result<usize, Errno> {
    let max = events.len().min(i32::MAX as usize);
    // SAFETY: events is writable for `max` entries; a null sigmask leaves the mask alone.
    let r = unsafe {
        call6(
            nr::EPOLL_PWAIT,
            epfd as usize,
            events.as_mut_ptr() as usize,
            max,
            timeout_ms as isize as usize,
            0,
            8,
        )
    };
    match r {
        Err(Errno::EINTR) => Ok(0),
        other => other,
    }
}
