//! The reactor: one per core, never shared.
//!
//! # The contract
//!
//! Both reactors ([`uring`] and [`epoll`]) promise the same five things; the executor relies
//! on nothing else.
//!
//! 1. **Start.** [`Driver::start`] takes an op (see `op`) and either finishes it now
//!    (`Started::Done`, readiness path, fd was ready), parks its waker until the fd is ready
//!    (`Started::Waiting`), or puts it in flight under a key (`Started::InFlight`): queued on
//!    the ring, or running on the blocking pool. An in-flight op's memory is not touched by
//!    the core until its completion is delivered.
//! 2. **Submission is batched.** Nothing queued is lost, and nothing is submitted op by op:
//!    queued entries reach the kernel at the next `park`/`poll` (or early, if the queue fills).
//! 3. **Park.** [`Driver::park`] submits what is queued, then waits until at least one
//!    completion or readiness event, a cross-thread unpark, or the deadline, whichever comes
//!    first (`None`: no deadline; zero: do not wait). A signal interrupting the wait is a
//!    spurious return, not an error. Every completion and readiness event it collects wakes
//!    its op's waker — after the call returns, through [`Driver::take_wakeups`], so no waker
//!    runs while the driver is borrowed.
//! 4. **Unpark.** Any thread may wake a parked core by writing its eventfd; the reactor keeps
//!    that eventfd watched (epoll: registered; io_uring: a read kept armed on the ring). The
//!    executor writes it only when the core has said it is parked.
//! 5. **Abandon.** [`Driver::abandon`] takes the data of an op whose future was dropped while
//!    in flight, asks the kernel to cancel it (io_uring), and frees the data when the op's
//!    last completion arrives; a produced fd is closed then.
//!
//! Each reactor counts what it does ([`ReactorStats`]).

pub mod epoll;
mod fallback;
pub mod uring;

pub(crate) use fallback::report_fallback;
pub use fallback::{Choice, ReactorKind, set_fallback_hook};

use crate::op::{Abandoned, InFlight, Mode, OpCode, Orphan};
use crate::sys::Errno;
use std::os::fd::RawFd;
use std::task::{Context, Waker};
use std::time::Duration;

/// What a reactor has done on one core since it started.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ReactorStats {
    /// Syscalls the reactor made to submit or wait: `io_uring_enter` or `epoll_pwait`
    /// (and `epoll_ctl`).
    pub reactor_syscalls: u64,
    /// Syscalls made by ops on the readiness path (`call` attempts), including ones that
    /// returned `EAGAIN`.
    pub op_syscalls: u64,
    /// Attempts that returned `EAGAIN` (wasted syscalls).
    pub eagain: u64,
    /// io_uring entries submitted.
    pub submitted: u64,
    /// io_uring completions, or blocking-pool completions, delivered.
    pub completions: u64,
    /// epoll readiness events delivered.
    pub events: u64,
    /// Cross-thread unparks received.
    pub unparks: u64,
    /// Times the core blocked waiting (a park with a non-zero timeout).
    pub parks: u64,
    /// Times io_uring's CQ overflowed and the kept completions had to be flushed.
    pub cq_overflows: u64,
    /// Ops whose future was dropped while the kernel (or the pool) held them.
    pub abandoned: u64,
}

impl ReactorStats {
    /// All the syscalls the core made for I/O: reactor plus op attempts.
    pub fn syscalls(&self) -> u64 {
        self.reactor_syscalls + self.op_syscalls
    }
}

// One per core, made once and never moved: boxing the larger variant would only add a
// pointer chase to every op.
#[allow(clippy::large_enum_variant)]
pub(crate) enum Backend {
    Uring(uring::UringReactor),
    Epoll(epoll::EpollReactor),
}

/// How [`Driver::start`] left an op.
pub(crate) enum Started {
    Done(Result<usize, Errno>),
    Waiting,
    InFlight(u64),
}

/// A core's reactor: the backend, its in-flight table, and the wakers it has to wake.
pub(crate) struct Driver {
    pub(crate) backend: Backend,
    pub(crate) ops: InFlight,
    pub(crate) stats: ReactorStats,
    wakeups: Vec<Waker>,
    pool: crate::executor::pool::PoolHandle,
}

impl Driver {
    pub(crate) fn new(backend: Backend, pool: crate::executor::pool::PoolHandle) -> Driver {
        Driver {
            backend,
            ops: InFlight::new(),
            stats: ReactorStats::default(),
            wakeups: Vec::new(),
            pool,
        }
    }

    pub(crate) fn kind(&self) -> ReactorKind {
        match self.backend {
            Backend::Uring(_) => ReactorKind::Uring,
            Backend::Epoll(_) => ReactorKind::Epoll,
        }
    }

    pub(crate) fn start<T: OpCode>(&mut self, op: &mut T, cx: &mut Context<'_>) -> Started {
        match &mut self.backend {
            Backend::Uring(r) if op.uring_supported() => {
                let key = self.ops.insert(cx.waker(), true);
                let entry = op.sqe();
                #[cfg(debug_assertions)]
                uring::assert_points_outside(&entry, op);
                r.push(
                    entry.user_data(key),
                    &mut self.stats,
                    &mut self.ops,
                    &mut self.wakeups,
                );
                Started::InFlight(key)
            }
            Backend::Uring(_) => self.start_on_pool(op, cx),
            Backend::Epoll(r) => match op.mode() {
                Mode::Readiness { fd, interest, full } => {
                    match r.attempt(fd, interest, full, || op.call(), cx, &mut self.stats) {
                        Some(res) => Started::Done(res),
                        None => Started::Waiting,
                    }
                }
                Mode::Now => {
                    self.stats.op_syscalls += 1;
                    Started::Done(op.call())
                }
                Mode::Blocking => self.start_on_pool(op, cx),
            },
        }
    }

    /// Whether [`start`](Driver::start) will hand `op` to the blocking pool (which uses it
    /// through a pointer, so it must not move).
    pub(crate) fn runs_on_pool<T: OpCode>(&self, op: &T) -> bool {
        match &self.backend {
            Backend::Uring(_) => !op.uring_supported(),
            Backend::Epoll(_) => matches!(op.mode(), Mode::Blocking),
        }
    }

    fn start_on_pool<T: OpCode>(&mut self, op: &mut T, cx: &mut Context<'_>) -> Started {
        let key = self.ops.insert(cx.waker(), false);
        self.pool.run_op(op, key);
        Started::InFlight(key)
    }

    pub(crate) fn abandon(&mut self, key: u64, op: Box<dyn Orphan>) {
        if let Abandoned::InFlight { on_ring } = self.ops.abandon(key, op) {
            self.stats.abandoned += 1;
            // The blocking pool cannot be interrupted: the op finishes and its data is freed
            // when the pool's completion is delivered. Only a ring entry is worth cancelling.
            if let (true, Backend::Uring(r)) = (on_ring, &mut self.backend) {
                r.cancel(key, &mut self.stats, &mut self.ops, &mut self.wakeups);
            }
        }
    }

    /// A completion from the blocking pool.
    pub(crate) fn complete(&mut self, key: u64, res: Result<usize, Errno>) {
        self.stats.completions += 1;
        if let Some(w) = self.ops.complete(key, res) {
            self.wakeups.push(w);
        }
    }

    pub(crate) fn park(&mut self, timeout: Option<Duration>) -> std::io::Result<()> {
        if timeout != Some(Duration::ZERO) {
            self.stats.parks += 1;
        }
        match &mut self.backend {
            Backend::Uring(r) => r.park(timeout, &mut self.stats, &mut self.ops, &mut self.wakeups),
            Backend::Epoll(r) => r.park(timeout, &mut self.stats, &mut self.wakeups),
        }
    }

    /// Whether wakers are waiting to be delivered.
    pub(crate) fn has_wakeups(&self) -> bool {
        !self.wakeups.is_empty()
    }

    /// The wakers that the last park or completions collected.
    pub(crate) fn take_wakeups(&mut self, into: &mut Vec<Waker>) {
        into.append(&mut self.wakeups);
    }

    /// `fd` is about to be closed: forget its registration.
    pub(crate) fn forget(&mut self, fd: RawFd) {
        if let Backend::Epoll(r) = &mut self.backend {
            r.forget(fd, &mut self.wakeups);
        }
    }

    /// Asks the kernel to cancel every op in flight (shutdown). Their completions still
    /// come, through `park`; ops on the blocking pool finish on their own.
    pub(crate) fn cancel_all(&mut self) {
        if let Backend::Uring(r) = &mut self.backend {
            for key in self.ops.ring_keys() {
                r.cancel(key, &mut self.stats, &mut self.ops, &mut self.wakeups);
            }
        }
    }
}
