//! The epoll backend of the reactor: readiness, edge-triggered.
//!
//! - One epoll fd per core (`EPOLL_CLOEXEC`). A descriptor is registered once, the first time
//!   an op waits on it, for both directions (`EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET`).
//!   Nothing is done when it closes: the kernel drops a closed file from the set itself, and
//!   the state kept for its number is replaced when a descriptor with another identity
//!   ([`SharedFd::id`]) shows up under that number. A descriptor taken out of its `SharedFd`
//!   (`into_owned`, to move it to another core) is removed from the set (`EPOLL_CTL_DEL`), so
//!   it stops waking this core.
//! - Readiness is kept per fd (`IoState`): a bit per direction, a tick that counts
//!   events, and a registration generation carried in the event's data, so an event for a
//!   closed fd whose number was reused is recognised and dropped. An op tries its syscall
//!   while its direction is marked ready; `EAGAIN` clears the bit — but only if no event came
//!   since the op read the tick, so no edge is ever lost.
//! - A descriptor epoll refuses (a regular file) is always ready; if its syscall still says
//!   `EAGAIN`, that is the op's result (`WouldBlock`), never a retry loop.
//! - Cross-thread unparks arrive on an eventfd registered under a reserved token.
//! - Timers: the wait's own timeout, rounded *up* to the next millisecond so nothing fires
//!   early. It is computed for each wait from the core's next deadline; nothing has to be
//!   re-armed when that deadline changes.

mod io_state;

use super::{Ledger, ReactorStats};
use crate::op::{Interest, SharedFd};
use crate::sys::epoll::{self as ep, EpollEvent};
use crate::sys::{Errno, OwnedFd, eventfd};
use io_state::IoStates;
use std::io;
use std::os::fd::RawFd;
use std::rc::Rc;
use std::task::Context;
use std::time::Duration;

/// The data of the unpark eventfd's events.
const UNPARK_TOKEN: u64 = u64::MAX;

/// One readiness attempt: the op's descriptor (registered first, with [`EpollBackend::register`]),
/// direction, and when a short result proves the descriptor drained (see
/// `op::Mode::Readiness`).
pub(crate) struct Attempt {
    pub(crate) fd: RawFd,
    pub(crate) interest: Interest,
    pub(crate) drained_below: Option<usize>,
}

pub(crate) struct EpollBackend {
    /// Shared weakly with every `SharedFd` added to the set, so taking one out can remove it.
    epfd: Rc<OwnedFd>,
    unpark_fd: RawFd,
    states: IoStates,
    events: Vec<EpollEvent>,
}

impl EpollBackend {
    /// `unpark_fd` is the core's eventfd; the reactor watches it but does not own it.
    pub(crate) fn new(unpark_fd: RawFd, events: usize) -> io::Result<EpollBackend> {
        let epfd = ep::epoll_create()?;
        ep::epoll_ctl(
            epfd.raw(),
            ep::EPOLL_CTL_ADD,
            unpark_fd,
            ep::EPOLLIN | ep::EPOLLET,
            UNPARK_TOKEN,
        )?;
        Ok(EpollBackend {
            epfd: Rc::new(epfd),
            unpark_fd,
            states: IoStates::new(),
            events: vec![EpollEvent::default(); events.max(16)],
        })
    }

    /// Makes sure `fd` (by identity) is in the set, with fresh state if its number was
    /// reused.
    #[inline]
    pub(crate) fn register(
        &mut self,
        fd: &SharedFd,
        stats: &mut ReactorStats,
    ) -> Result<(), Errno> {
        self.states.get_or_register(&self.epfd, fd, stats).map(drop)
    }

    /// Tries `call` while the descriptor is ready for the attempt's interest. `None`: the
    /// waker is kept until the next edge.
    #[inline]
    pub(crate) fn attempt(
        &mut self,
        at: Attempt,
        mut call: impl FnMut() -> Result<usize, Errno>,
        cx: &mut Context<'_>,
        stats: &mut ReactorStats,
    ) -> Option<Result<usize, Errno>> {
        let Attempt {
            fd,
            interest,
            drained_below,
        } = at;
        let full = drained_below.unwrap_or(0);
        // `call` touches only the op, so the state can be held across it.
        let state = self.states.get(fd).expect("registered first");
        loop {
            if !state.is_ready(interest) {
                state.add_waker(interest, cx.waker());
                return None;
            }
            let tick = state.tick();
            stats.op_syscalls += 1;
            let res = call();
            // A result the fault plan made up (tests only) tells nothing about readiness.
            let from_kernel = !crate::sys::last_call_injected();
            match res {
                Err(Errno::EAGAIN) => {
                    stats.eagain += 1;
                    if state.always_ready() && from_kernel {
                        // epoll cannot watch this descriptor, so no edge will ever come: the
                        // caller gets `WouldBlock` rather than a loop that never ends.
                        return Some(Err(Errno::EAGAIN));
                    }
                    if from_kernel {
                        state.clear(interest, tick);
                    }
                }
                Ok(n) if n < full => {
                    if from_kernel {
                        state.clear_short(interest, tick);
                    }
                    return Some(Ok(n));
                }
                other => return Some(other),
            }
        }
    }

    pub(crate) fn park(
        &mut self,
        timeout: Option<Duration>,
        ledger: &mut Ledger,
    ) -> io::Result<()> {
        let Ledger { stats, wakeups, .. } = ledger;
        let ms = match timeout {
            None => -1,
            // Round up: a wait must never end before the deadline it was asked for.
            Some(d) => d.as_nanos().div_ceil(1_000_000).min(i32::MAX as u128) as i32,
        };
        stats.reactor_syscalls += 1;
        let n = ep::epoll_wait(self.epfd.raw(), &mut self.events, ms)?;
        for ev in &self.events[..n] {
            let (events, data) = (ev.events(), ev.data());
            if data == UNPARK_TOKEN {
                stats.unparks += 1;
                // Reset the counter so it can never saturate; its value does not matter.
                let _ = eventfd::eventfd_read(self.unpark_fd);
                stats.reactor_syscalls += 1;
                continue;
            }
            stats.events += 1;
            self.states.dispatch(data, events, wakeups);
        }
        Ok(())
    }
}
