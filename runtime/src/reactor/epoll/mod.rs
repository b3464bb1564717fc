//! The epoll reactor: readiness, edge-triggered.
//!
//! - One epoll fd per core (`EPOLL_CLOEXEC`). An fd is registered once, the first time an op
//!   waits on it, for both directions (`EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET`), and is
//!   forgotten just before it is closed (the kernel drops a closed file from the set itself).
//! - Readiness is kept per fd ([`io_state::IoState`]): a bit per direction, a tick that counts
//!   events, and a registration generation carried in the event's data, so an event for a
//!   closed fd whose number was reused is recognised and dropped. An op tries its syscall
//!   while its direction is marked ready; `EAGAIN` clears the bit — but only if no event came
//!   since the op read the tick, so no edge is ever lost.
//! - Cross-thread unparks arrive on an eventfd registered under a reserved token.
//! - Timers: the wait's own timeout, rounded *up* to the next millisecond so nothing fires
//!   early. It is computed for each wait from the core's next deadline; nothing has to be
//!   re-armed when that deadline changes.

mod io_state;

use super::ReactorStats;
use crate::op::Interest;
use crate::sys::epoll::{self as ep, EpollEvent};
use crate::sys::{Errno, OwnedFd, eventfd};
use io_state::IoStates;
use std::io;
use std::os::fd::RawFd;
use std::task::{Context, Waker};
use std::time::Duration;

/// The data of the unpark eventfd's events.
const UNPARK_TOKEN: u64 = u64::MAX;

pub(crate) struct EpollReactor {
    epfd: OwnedFd,
    unpark_fd: RawFd,
    states: IoStates,
    events: Vec<EpollEvent>,
}

impl EpollReactor {
    /// `unpark_fd` is the core's eventfd; the reactor watches it but does not own it.
    pub(crate) fn new(unpark_fd: RawFd, events: usize) -> io::Result<EpollReactor> {
        let epfd = ep::epoll_create()?;
        ep::epoll_ctl(
            epfd.raw(),
            ep::EPOLL_CTL_ADD,
            unpark_fd,
            ep::EPOLLIN | ep::EPOLLET,
            UNPARK_TOKEN,
        )?;
        Ok(EpollReactor {
            epfd,
            unpark_fd,
            states: IoStates::new(),
            events: vec![EpollEvent::default(); events.max(16)],
        })
    }

    /// Tries `call` while `fd` is ready for `interest`. `None`: the waker is kept until the
    /// next edge.
    pub(crate) fn attempt(
        &mut self,
        fd: RawFd,
        interest: Interest,
        full: usize,
        mut call: impl FnMut() -> Result<usize, Errno>,
        cx: &mut Context<'_>,
        stats: &mut ReactorStats,
    ) -> Option<Result<usize, Errno>> {
        loop {
            let state = match self.states.get_or_register(self.epfd.raw(), fd, stats) {
                Ok(s) => s,
                Err(e) => return Some(Err(e)),
            };
            if !state.is_ready(interest) {
                state.add_waker(interest, cx.waker());
                return None;
            }
            let tick = state.tick();
            stats.op_syscalls += 1;
            let res = call();
            let state = self.states.get(fd).expect("registered above");
            match res {
                Err(Errno::EAGAIN) => {
                    stats.eagain += 1;
                    state.clear(interest, tick);
                }
                Ok(n) if n < full => {
                    state.clear_short(interest, tick);
                    return Some(Ok(n));
                }
                other => return Some(other),
            }
        }
    }

    pub(crate) fn park(
        &mut self,
        timeout: Option<Duration>,
        stats: &mut ReactorStats,
        wakeups: &mut Vec<Waker>,
    ) -> io::Result<()> {
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

    pub(crate) fn forget(&mut self, fd: RawFd, wakeups: &mut Vec<Waker>) {
        self.states.forget(fd, wakeups);
    }
}
