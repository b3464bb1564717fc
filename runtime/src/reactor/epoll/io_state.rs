//! Per-fd readiness for the epoll reactor, indexed by fd number.

use super::super::ReactorStats;
use crate::op::{Interest, SharedFd};
use crate::sys::epoll as ep;
use crate::sys::{Errno, OwnedFd};
use std::os::fd::RawFd;
use std::rc::Rc;
use std::task::Waker;

/// What an epoll event carries: the descriptor's number and the generation of its
/// registration, so an event for a number that has since been registered again (a closed
/// descriptor whose number was reused) is recognised and dropped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct FdToken {
    fd: u32,
    generation: u32,
}

impl FdToken {
    /// As the event's 64-bit data.
    pub(super) fn to_data(self) -> u64 {
        self.fd as u64 | (self.generation as u64) << 32
    }

    pub(super) fn from_data(data: u64) -> FdToken {
        FdToken {
            fd: data as u32,
            generation: (data >> 32) as u32,
        }
    }
}

const READABLE: u8 = 1;
const WRITABLE: u8 = 2;

/// Readiness of one registered fd.
pub(super) struct IoState {
    /// The identity of the descriptor this state is for ([`SharedFd::id`]): a descriptor with
    /// the same number and another identity is a new one.
    fd_id: u64,
    /// Registration generation, carried in the event data next to the fd.
    generation: u32,
    /// Counts events; an `EAGAIN` only clears readiness if no event came since the attempt.
    tick: u32,
    ready: u8,
    /// Directions for which a hang-up or error was reported (`EPOLLRDHUP`/`EPOLLHUP`/
    /// `EPOLLERR`) and no `EAGAIN` seen since. A short read then does *not* prove the fd
    /// drained: the end of stream (or the error) is still there to read, and its edge has
    /// already been spent. Only an `EAGAIN` clears it.
    hup: u8,
    /// Set when epoll refuses the fd (regular files): it is always ready.
    always_ready: bool,
    readers: Vec<Waker>,
    writers: Vec<Waker>,
}

fn bit(interest: Interest) -> u8 {
    match interest {
        Interest::Readable => READABLE,
        Interest::Writable => WRITABLE,
    }
}

impl IoState {
    pub(super) fn is_ready(&self, interest: Interest) -> bool {
        self.always_ready || self.ready & bit(interest) != 0
    }

    /// Set when epoll refuses the descriptor: no edge will ever come for it.
    pub(super) fn always_ready(&self) -> bool {
        self.always_ready
    }

    pub(super) fn tick(&self) -> u32 {
        self.tick
    }

    /// Clears readiness for `interest` unless an event arrived after `tick` was read.
    pub(super) fn clear(&mut self, interest: Interest, tick: u32) {
        if self.tick == tick && !self.always_ready {
            self.ready &= !bit(interest);
            self.hup &= !bit(interest);
        }
    }

    /// A short transfer suggests the fd is drained: clears readiness as `clear` does,
    /// unless a hang-up or error is pending for `interest` (the next attempt must see it).
    pub(super) fn clear_short(&mut self, interest: Interest, tick: u32) {
        if self.hup & bit(interest) == 0 {
            self.clear(interest, tick);
        }
    }

    pub(super) fn add_waker(&mut self, interest: Interest, waker: &Waker) {
        let list = match interest {
            Interest::Readable => &mut self.readers,
            Interest::Writable => &mut self.writers,
        };
        if !list.iter().any(|w| w.will_wake(waker)) {
            list.push(waker.clone());
        }
    }
}

pub(super) struct IoStates {
    by_fd: Vec<Option<IoState>>,
    next_generation: u32,
}

impl IoStates {
    pub(super) fn new() -> IoStates {
        IoStates {
            by_fd: Vec::new(),
            next_generation: 0,
        }
    }

    pub(super) fn get(&mut self, fd: RawFd) -> Option<&mut IoState> {
        self.by_fd.get_mut(fd as usize)?.as_mut()
    }

    /// The state of `fd`, registering it with epoll the first time this descriptor (by
    /// identity, not number) is seen. A fresh registration starts out ready both ways: the
    /// first attempt finds out, and epoll reports any readiness that exists at registration
    /// as an edge.
    pub(super) fn get_or_register(
        &mut self,
        epoll: &Rc<OwnedFd>,
        shared: &SharedFd,
        stats: &mut ReactorStats,
    ) -> Result<&mut IoState, Errno> {
        let (epfd, fd) = (epoll.raw(), shared.raw());
        if fd < 0 {
            return Err(Errno::EBADF);
        }
        let i = fd as usize;
        if i >= self.by_fd.len() {
            self.by_fd.resize_with((i + 1).next_power_of_two(), || None);
        }
        // A state kept for a descriptor that has since closed: its number was reused. No op
        // can be waiting on the old one (ops keep their descriptor open), so it just goes.
        if self.by_fd[i]
            .as_ref()
            .is_some_and(|s| s.fd_id != shared.id())
        {
            self.by_fd[i] = None;
        }
        if self.by_fd[i].is_none() {
            self.next_generation = self.next_generation.wrapping_add(1);
            let generation = self.next_generation;
            let data = FdToken {
                fd: fd as u32,
                generation,
            }
            .to_data();
            let events = ep::EPOLLIN | ep::EPOLLOUT | ep::EPOLLRDHUP | ep::EPOLLET;
            stats.reactor_syscalls += 1;
            let always_ready = match ep::epoll_ctl(epfd, ep::EPOLL_CTL_ADD, fd, events, data) {
                Ok(()) => false,
                // Still in the set under this number: the same open file wrapped again after
                // its DEL failed, or a dup of a descriptor already in the set. Re-arm it with
                // the new generation.
                Err(Errno::EEXIST) => {
                    stats.reactor_syscalls += 1;
                    ep::epoll_ctl(epfd, ep::EPOLL_CTL_MOD, fd, events, data)?;
                    false
                }
                // A regular file or directory: epoll has nothing to say about it, and every
                // attempt on it completes (or fails) without waiting.
                Err(Errno::EPERM) => true,
                Err(e) => return Err(e),
            };
            if !always_ready {
                shared.note_epoll_set(epoll);
            }
            self.by_fd[i] = Some(IoState {
                fd_id: shared.id(),
                generation,
                tick: 0,
                ready: READABLE | WRITABLE,
                hup: 0,
                always_ready,
                readers: Vec::new(),
                writers: Vec::new(),
            });
        }
        Ok(self.by_fd[i].as_mut().expect("set above"))
    }

    /// Applies one epoll event.
    pub(super) fn dispatch(&mut self, data: u64, events: u32, wakeups: &mut Vec<Waker>) {
        let token = FdToken::from_data(data);
        let Some(Some(state)) = self.by_fd.get_mut(token.fd as usize) else {
            return;
        };
        if state.generation != token.generation {
            return;
        }
        state.tick = state.tick.wrapping_add(1);
        if events & (ep::EPOLLRDHUP | ep::EPOLLHUP | ep::EPOLLERR) != 0 {
            state.hup |= READABLE;
        }
        if events & (ep::EPOLLHUP | ep::EPOLLERR) != 0 {
            state.hup |= WRITABLE;
        }
        if events & (ep::EPOLLIN | ep::EPOLLRDHUP | ep::EPOLLHUP | ep::EPOLLERR | ep::EPOLLPRI) != 0
        {
            state.ready |= READABLE;
            wakeups.append(&mut state.readers);
        }
        if events & (ep::EPOLLOUT | ep::EPOLLHUP | ep::EPOLLERR) != 0 {
            state.ready |= WRITABLE;
            wakeups.append(&mut state.writers);
        }
    }
}
