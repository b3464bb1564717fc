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
    readers: Wakers,
    writers: Wakers,
}

/// The tasks waiting for one direction of one fd: nearly always one, kept inline (no heap
/// allocation per connection for it); more go to a list.
#[derive(Default)]
struct Wakers {
    first: Option<Waker>,
    more: Vec<Waker>,
}

impl Wakers {
    fn add(&mut self, waker: &Waker) {
        match &self.first {
            None => self.first = Some(waker.clone()),
            Some(w) if w.will_wake(waker) => {}
            Some(_) => {
                if !self.more.iter().any(|w| w.will_wake(waker)) {
                    self.more.push(waker.clone());
                }
            }
        }
    }

    /// Moves every waker into `into`.
    fn take_into(&mut self, into: &mut Vec<Waker>) {
        into.extend(self.first.take());
        into.append(&mut self.more);
    }
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
        list.add(waker);
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
    #[inline]
    pub(super) fn get_or_register(
        &mut self,
        epoll: &Rc<OwnedFd>,
        shared: &SharedFd,
        stats: &mut ReactorStats,
    ) -> Result<&mut IoState, Errno> {
        // The common case, once per op: this descriptor is registered already.
        let i = shared.raw() as usize;
        if matches!(self.by_fd.get(i), Some(Some(s)) if s.fd_id == shared.id()) {
            return Ok(self.by_fd[i].as_mut().expect("matched above"));
        }
        self.register_new(epoll, shared, stats)
    }

    #[cold]
    fn register_new(
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
                readers: Wakers::default(),
                writers: Wakers::default(),
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
            state.readers.take_into(wakeups);
        }
        if events & (ep::EPOLLOUT | ep::EPOLLHUP | ep::EPOLLERR) != 0 {
            state.ready |= WRITABLE;
            state.writers.take_into(wakeups);
        }
    }
}

#[cfg(test)]
impl IoStates {
    /// A registered state for `fd`, as `get_or_register` makes it, without epoll.
    fn insert_registered(&mut self, fd: RawFd, fd_id: u64, always_ready: bool) -> u64 {
        let i = fd as usize;
        if i >= self.by_fd.len() {
            self.by_fd.resize_with(i + 1, || None);
        }
        self.next_generation = self.next_generation.wrapping_add(1);
        let generation = self.next_generation;
        self.by_fd[i] = Some(IoState {
            fd_id,
            generation,
            tick: 0,
            ready: READABLE | WRITABLE,
            hup: 0,
            always_ready,
            readers: Wakers::default(),
            writers: Wakers::default(),
        });
        fd as u32 as u64 | (generation as u64) << 32
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::task::Wake;

    struct Count(AtomicUsize);
    impl Wake for Count {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::Relaxed);
        }
    }

    fn waker() -> (Arc<Count>, Waker) {
        let c = Arc::new(Count(AtomicUsize::new(0)));
        (c.clone(), Waker::from(c))
    }

    const FD: RawFd = 5;

    fn drained(states: &mut IoStates, data: u64) {
        // Both directions drained: clear them with the current tick.
        let s = states.get(FD).unwrap();
        let t = s.tick();
        s.clear(Interest::Readable, t);
        s.clear(Interest::Writable, t);
        let _ = data;
    }

    #[test]
    fn a_fresh_registration_is_ready_both_ways() {
        let mut states = IoStates::new();
        states.insert_registered(FD, 1, false);
        let s = states.get(FD).unwrap();
        assert!(s.is_ready(Interest::Readable) && s.is_ready(Interest::Writable));
        assert!(!s.always_ready());
        assert!(states.get(FD + 1).is_none());
    }

    #[test]
    fn eagain_clears_readiness_only_if_no_event_since_the_tick() {
        let mut states = IoStates::new();
        let data = states.insert_registered(FD, 1, false);
        let tick = states.get(FD).unwrap().tick();
        // An edge arrives between the attempt (which read `tick`) and its EAGAIN.
        let mut wakeups = Vec::new();
        states.dispatch(data, ep::EPOLLIN, &mut wakeups);
        let s = states.get(FD).unwrap();
        s.clear(Interest::Readable, tick);
        assert!(
            s.is_ready(Interest::Readable),
            "an event since the tick must keep it ready"
        );
        // No event since: the EAGAIN clears it, only in its own direction.
        let tick = s.tick();
        s.clear(Interest::Readable, tick);
        assert!(!s.is_ready(Interest::Readable));
        assert!(s.is_ready(Interest::Writable));
    }

    #[test]
    fn events_set_readiness_and_wake_the_right_direction() {
        let mut states = IoStates::new();
        let data = states.insert_registered(FD, 1, false);
        drained(&mut states, data);
        let (reads, rw) = waker();
        let (writes, ww) = waker();
        let s = states.get(FD).unwrap();
        s.add_waker(Interest::Readable, &rw);
        s.add_waker(Interest::Writable, &ww);
        let mut wakeups = Vec::new();
        states.dispatch(data, ep::EPOLLIN, &mut wakeups);
        assert_eq!(wakeups.len(), 1);
        wakeups.drain(..).for_each(Waker::wake);
        assert_eq!(reads.0.load(Ordering::Relaxed), 1);
        assert_eq!(writes.0.load(Ordering::Relaxed), 0);
        let s = states.get(FD).unwrap();
        assert!(s.is_ready(Interest::Readable) && !s.is_ready(Interest::Writable));
        states.dispatch(data, ep::EPOLLOUT, &mut wakeups);
        wakeups.drain(..).for_each(Waker::wake);
        assert_eq!(writes.0.load(Ordering::Relaxed), 1);
        assert!(states.get(FD).unwrap().is_ready(Interest::Writable));
    }

    #[test]
    #[cfg_attr(
        miri,
        ignore = "Waker::will_wake compares vtable pointers, which Miri may duplicate"
    )]
    fn the_same_waker_is_kept_once() {
        let mut states = IoStates::new();
        let data = states.insert_registered(FD, 1, false);
        drained(&mut states, data);
        let (_reads, rw) = waker();
        let s = states.get(FD).unwrap();
        s.add_waker(Interest::Readable, &rw);
        s.add_waker(Interest::Readable, &rw.clone());
        let mut wakeups = Vec::new();
        states.dispatch(data, ep::EPOLLIN, &mut wakeups);
        assert_eq!(wakeups.len(), 1);
    }

    #[test]
    fn a_short_result_does_not_clear_while_a_hang_up_is_pending() {
        let mut states = IoStates::new();
        let data = states.insert_registered(FD, 1, false);
        drained(&mut states, data);
        let mut wakeups = Vec::new();
        states.dispatch(data, ep::EPOLLIN | ep::EPOLLRDHUP, &mut wakeups);
        let s = states.get(FD).unwrap();
        let tick = s.tick();
        s.clear_short(Interest::Readable, tick);
        assert!(
            s.is_ready(Interest::Readable),
            "the end of stream is still to be read"
        );
        // An EAGAIN clears both the readiness and the pending hang-up ...
        s.clear(Interest::Readable, tick);
        assert!(!s.is_ready(Interest::Readable));
        // ... after which a short result clears again.
        states.dispatch(data, ep::EPOLLIN, &mut wakeups);
        let s = states.get(FD).unwrap();
        let tick = s.tick();
        s.clear_short(Interest::Readable, tick);
        assert!(!s.is_ready(Interest::Readable));
        // A short result with no hang-up but an event since the tick keeps it too.
        let tick = s.tick();
        states.dispatch(data, ep::EPOLLIN, &mut wakeups);
        let s = states.get(FD).unwrap();
        s.clear_short(Interest::Readable, tick);
        assert!(s.is_ready(Interest::Readable));
    }

    #[test]
    fn hup_and_err_mark_both_directions_rdhup_only_reads() {
        let mut states = IoStates::new();
        let data = states.insert_registered(FD, 1, false);
        drained(&mut states, data);
        let mut wakeups = Vec::new();
        states.dispatch(data, ep::EPOLLRDHUP, &mut wakeups);
        let s = states.get(FD).unwrap();
        assert!(s.is_ready(Interest::Readable) && !s.is_ready(Interest::Writable));
        let t = s.tick();
        s.clear(Interest::Readable, t);
        states.dispatch(data, ep::EPOLLHUP, &mut wakeups);
        let s = states.get(FD).unwrap();
        assert!(s.is_ready(Interest::Readable) && s.is_ready(Interest::Writable));
        let t = s.tick();
        s.clear_short(Interest::Writable, t);
        assert!(
            s.is_ready(Interest::Writable),
            "hang-up pending for writes too"
        );
        drained(&mut states, data);
        states.dispatch(data, ep::EPOLLERR, &mut wakeups);
        let s = states.get(FD).unwrap();
        assert!(s.is_ready(Interest::Readable) && s.is_ready(Interest::Writable));
    }

    #[test]
    fn an_event_with_a_stale_generation_is_dropped() {
        let mut states = IoStates::new();
        let old = states.insert_registered(FD, 1, false);
        // The number is reused by another descriptor: a new registration, a new generation.
        let new = states.insert_registered(FD, 2, false);
        assert_ne!(old, new);
        drained(&mut states, new);
        let (reads, rw) = waker();
        states.get(FD).unwrap().add_waker(Interest::Readable, &rw);
        let tick = states.get(FD).unwrap().tick();
        let mut wakeups = Vec::new();
        states.dispatch(old, ep::EPOLLIN | ep::EPOLLHUP, &mut wakeups);
        assert!(wakeups.is_empty());
        let s = states.get(FD).unwrap();
        assert_eq!(s.tick(), tick, "a stale event does not count as an event");
        assert!(!s.is_ready(Interest::Readable) && !s.is_ready(Interest::Writable));
        assert_eq!(reads.0.load(Ordering::Relaxed), 0);
        // Events for numbers never registered are dropped too.
        states.dispatch(FD as u64 + 100, ep::EPOLLIN, &mut wakeups);
        assert!(wakeups.is_empty());
    }

    #[test]
    fn always_ready_never_clears() {
        let mut states = IoStates::new();
        states.insert_registered(FD, 1, true);
        let s = states.get(FD).unwrap();
        let t = s.tick();
        s.clear(Interest::Readable, t);
        s.clear_short(Interest::Writable, t);
        assert!(s.always_ready());
        assert!(s.is_ready(Interest::Readable) && s.is_ready(Interest::Writable));
    }

    #[test]
    fn the_tick_wraps() {
        let mut states = IoStates::new();
        let data = states.insert_registered(FD, 1, false);
        states.get(FD).unwrap().tick = u32::MAX;
        let mut wakeups = Vec::new();
        states.dispatch(data, ep::EPOLLIN, &mut wakeups);
        assert_eq!(states.get(FD).unwrap().tick(), 0);
        let s = states.get(FD).unwrap();
        s.clear(Interest::Readable, u32::MAX);
        assert!(
            s.is_ready(Interest::Readable),
            "the wrapped tick still tells an event came"
        );
    }
}
