//! epoll: `epoll_create1`, `epoll_ctl`, `epoll_pwait`.

use super::arch::nr;
use super::call::{call1, call4, call6};
use super::errno::Errno;
use super::fd::OwnedFd;
use std::os::fd::RawFd;

pub const EPOLLIN: u32 = 0x001;
pub const EPOLLPRI: u32 = 0x002;
pub const EPOLLOUT: u32 = 0x004;
pub const EPOLLERR: u32 = 0x008;
pub const EPOLLHUP: u32 = 0x010;
pub const EPOLLRDHUP: u32 = 0x2000;
pub const EPOLLET: u32 = 1 << 31;
pub const EPOLL_CLOEXEC: u32 = 0o2000000;

pub const EPOLL_CTL_ADD: u32 = 1;
pub const EPOLL_CTL_DEL: u32 = 2;
pub const EPOLL_CTL_MOD: u32 = 3;

/// `struct epoll_event`: packed on x86_64, as the kernel lays it out there.
#[repr(C, packed)]
#[derive(Clone, Copy, Default)]
pub struct EpollEvent {
    pub events: u32,
    pub data: u64,
}

impl EpollEvent {
    pub fn new(events: u32, data: u64) -> EpollEvent {
        EpollEvent { events, data }
    }
    pub fn events(&self) -> u32 {
        self.events
    }
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
