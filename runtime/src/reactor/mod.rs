//! The reactor: one per core, never shared. **Unstable** beyond [`ReactorKind`],
//! [`ReactorStats`], [`Choice`] and [`set_fallback_hook`].
//!
//! # The contract
//!
//! Both backends ([`uring`] and [`epoll`]) promise the same things; the executor relies on
//! nothing else, and the reactor never names the executor: it owns everything an op needs
//! while in flight (the in-flight table, the blocking pool's completions, the unpark eventfd,
//! its own "current reactor" thread-local) and wakes only [`Waker`]s.
//!
//! 1. **Start.** The [`Op`] future starts an op through the current reactor: it finishes now
//!    (readiness path, fd was ready), waits for readiness, or goes in flight under an
//!    `OpKey`: queued on the ring, or running on the blocking pool. An
//!    in-flight op's memory and descriptor are not touched by the core until its completion
//!    is delivered.
//! 2. **Submission is batched.** Nothing queued is lost, and nothing is submitted op by op:
//!    queued entries reach the kernel at the next park (or early, if the queue fills). A
//!    submission the kernel keeps refusing fails its op with the kernel's error; it never
//!    spins.
//! 3. **Park.** `Reactor::park` submits what is queued, then waits until at least one
//!    completion or readiness event, a cross-thread unpark, or the deadline, whichever comes
//!    first. It never blocks while wakers are undelivered or another thread has queued work.
//!    Every completion it collects wakes its op's waker — after the call returns, through
//!    `Reactor::take_wakeups`, so no waker and no user `Drop` runs inside the reactor.
//! 4. **Unpark.** Any thread may wake a parked core (`Unparker`); the
//!    eventfd is watched by the backend (epoll: registered; io_uring: a read kept armed).
//! 5. **Abandon.** An op future dropped while in flight hands its data to the reactor, which
//!    asks the kernel to cancel it (io_uring) and releases the data — buffers, the descriptor
//!    reference, any descriptor the op produced — when its last completion arrives, outside
//!    every borrow.
//! 6. **One core.** An op in flight resolves only on the reactor that started it; polled
//!    anywhere else (another thread, another runtime, no runtime) it panics rather than hand
//!    back memory the kernel still writes. Entering a reactor on a thread that is already
//!    inside one is refused.
//!
//! Each reactor counts what it does ([`ReactorStats`]).

mod acceptor;
mod buf_pool;
mod current;
pub mod epoll;
mod fallback;
pub(crate) mod in_flight;
mod latency;
mod multishot;
mod op_future;
pub(crate) mod pool;
mod pooled_read;
pub(crate) mod unpark;
pub mod uring;

pub use acceptor::Acceptor;
pub use buf_pool::{BufPoolStats, MAX_BUFFERS, PoolSettings, PooledBuf};
pub use current::Entered;
pub(crate) use current::with_current;
pub use fallback::{Choice, ReactorKind, set_fallback_hook};
pub use latency::OpLatencyStats;
pub use multishot::{Multishot, Shot};
pub use op_future::Op;
pub use pooled_read::{PooledRead, ReadPooled};

use crate::op::{Mode, OpCode, SharedFd};
use crate::sys::Errno;
use buf_pool::BufPool;
use in_flight::{Abandoned, Completed, InFlight, MultiPoll, OpKey, Orphan, Release, Runs};
use std::cell::{Cell, RefCell};
use std::io;
use std::marker::PhantomData;
use std::ptr::NonNull;
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll, Waker};
use std::time::Duration;
use unpark::Unparker;

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
    /// Times a task used up its budget of ops and was made to yield.
    pub budget_yields: u64,
}

impl ReactorStats {
    /// All the syscalls the core made for I/O: reactor plus op attempts.
    pub fn syscalls(&self) -> u64 {
        self.reactor_syscalls + self.op_syscalls
    }

    /// What was done since `before` (an earlier reading of the same reactor).
    pub fn since(&self, before: &ReactorStats) -> ReactorStats {
        ReactorStats {
            reactor_syscalls: self
                .reactor_syscalls
                .saturating_sub(before.reactor_syscalls),
            op_syscalls: self.op_syscalls.saturating_sub(before.op_syscalls),
            eagain: self.eagain.saturating_sub(before.eagain),
            submitted: self.submitted.saturating_sub(before.submitted),
            completions: self.completions.saturating_sub(before.completions),
            events: self.events.saturating_sub(before.events),
            unparks: self.unparks.saturating_sub(before.unparks),
            parks: self.parks.saturating_sub(before.parks),
            cq_overflows: self.cq_overflows.saturating_sub(before.cq_overflows),
            abandoned: self.abandoned.saturating_sub(before.abandoned),
            budget_yields: self.budget_yields.saturating_sub(before.budget_yields),
        }
    }
}

/// How the reactor of a core is set up.
#[derive(Clone, Debug)]
pub struct Settings {
    /// io_uring submission queue entries.
    pub ring_entries: u32,
    /// io_uring completion queue entries (`None`: twice `ring_entries`).
    pub cq_entries: Option<u32>,
    /// Events one epoll wait collects at most.
    pub epoll_events: usize,
    /// Whether to record per-op latency histograms (see `OpLatencyStats`).
    pub op_latency: bool,
    /// The core's pool of read buffers (made on the first pooled read).
    pub pool: PoolSettings,
}

// One per core, made once and never moved: boxing the larger variant would only add a
// pointer chase to every op.
#[allow(clippy::large_enum_variant)]
enum Backend {
    Uring(uring::UringBackend),
    Epoll(epoll::EpollBackend),
}

/// What the backends record while they work: the in-flight table, the counters, the wakers
/// to deliver and the orphans to release once the borrow ends.
pub(crate) struct Ledger {
    pub(crate) ops: InFlight,
    pub(crate) stats: ReactorStats,
    pub(crate) wakeups: Vec<Waker>,
    pub(crate) released: Vec<Release>,
    /// The core's read buffers, once a pooled read made them.
    pub(crate) pool: Option<Rc<BufPool>>,
}

impl Ledger {
    /// A completion for `key` (from the ring, with its flags, or the pool, with none).
    #[inline]
    pub(crate) fn complete(&mut self, key: OpKey, res: Result<usize, Errno>, flags: u32) {
        self.stats.completions += 1;
        let buffer = io_uring::cqueue::buffer_select(flags);
        if let Some(id) = buffer {
            self.picked(id);
        }
        match self.ops.complete(key, res, flags) {
            Completed::Wake(Some(w)) => self.wakeups.push(w),
            Completed::Wake(None) => {}
            Completed::Release(r) => {
                self.released.push(r);
                if let Some(id) = buffer {
                    self.give_back(id);
                }
            }
            Completed::Unknown => {
                if let Some(id) = buffer {
                    self.give_back(id);
                }
            }
        }
    }

    /// The kernel picked pool buffer `id` for a completion (every multishot recv's data).
    #[inline]
    fn picked(&mut self, id: u16) {
        match &self.pool {
            Some(p) => p.picked_by_kernel(id),
            None => unreachable!("the kernel picks buffers only from a registered pool"),
        }
    }

    /// Pool buffer `id` will never reach the user: back to the pool, and the reads waiting for
    /// one are woken (after the borrow, with the other wakers).
    #[cold]
    fn give_back(&mut self, id: u16) {
        if let Some(p) = &self.pool {
            if p.put_back(id) {
                self.wakeups.append(&mut p.take_waiters());
            }
        }
    }
}

struct State {
    backend: Backend,
    ledger: Ledger,
}

/// An abandon that came while the reactor was borrowed: its key, its op, and whether it is
/// multishot.
type Deferred = (OpKey, Box<dyn Orphan>, bool);

/// How an op's start went.
enum Started {
    /// Finished at once (readiness path).
    Done(Result<usize, Errno>),
    /// Waiting for readiness; the waker is kept.
    Waiting,
    /// Queued on the ring under this key.
    OnRing(OpKey),
    /// To be run on the blocking pool: the caller gives it a fixed address first.
    ToPool,
}

static NEXT_ID: AtomicU64 = AtomicU64::new(1);

/// Ops one task poll may start before it must yield (see [`Reactor::reset_budget`]).
const BUDGET_PER_POLL: u32 = 128;

/// One core's reactor. `!Send` and `!Sync`: it belongs to the thread that made it.
pub struct Reactor {
    id: u64,
    kind: ReactorKind,
    state: RefCell<State>,
    /// Ops abandoned while `state` was borrowed (their future dropped by code the reactor
    /// itself ran): handled at the next park.
    deferred: RefCell<Vec<Deferred>>,
    /// Whether `deferred` may hold something (spares a borrow per park).
    has_deferred: Cell<bool>,
    unparker: Arc<Unparker>,
    /// Per-op latency histograms, when asked for.
    latency: Option<RefCell<latency::OpLatency>>,
    /// Ops the task being polled may still start (see `reset_budget`).
    budget: Cell<u32>,
    /// How the core's buffer pool is made, on the first pooled read.
    pool_settings: PoolSettings,
    _not_send: PhantomData<*const ()>,
}

impl Reactor {
    /// Builds a reactor of `kind`, falling back from io_uring to epoll for `Auto` (the
    /// returned [`Choice`] says which runs, and why).
    pub(crate) fn build(
        kind: ReactorKind,
        settings: &Settings,
        unparker: Arc<Unparker>,
    ) -> io::Result<(Reactor, Choice)> {
        let (backend, choice) = match kind {
            ReactorKind::Epoll => (Self::epoll(&unparker, settings)?, Choice::new(kind, None)),
            ReactorKind::Uring | ReactorKind::Auto => {
                match uring::build(settings.ring_entries, settings.cq_entries, unparker.fd()) {
                    Ok(r) => (Backend::Uring(r), Choice::new(kind, None)),
                    Err(refusal) if kind == ReactorKind::Uring => {
                        let msg = format!(
                            "coreloop: io_uring was asked for but refused: {}",
                            refusal.reason
                        );
                        return Err(match refusal.errno {
                            Some(e) => io::Error::new(io::Error::from(e).kind(), msg),
                            None => io::Error::new(io::ErrorKind::Unsupported, msg),
                        });
                    }
                    Err(refusal) => {
                        let reason =
                            format!("io_uring unavailable, using epoll: {}", refusal.reason);
                        let choice = Choice::new(kind, Some(reason));
                        fallback::report_fallback(&choice);
                        (Self::epoll(&unparker, settings)?, choice)
                    }
                }
            }
        };
        let reactor = Reactor {
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
            kind: choice.running,
            state: RefCell::new(State {
                backend,
                ledger: Ledger {
                    ops: InFlight::new(),
                    stats: ReactorStats::default(),
                    wakeups: Vec::new(),
                    released: Vec::new(),
                    pool: None,
                },
            }),
            deferred: RefCell::new(Vec::new()),
            has_deferred: Cell::new(false),
            unparker,
            latency: settings
                .op_latency
                .then(|| RefCell::new(latency::OpLatency::new())),
            budget: Cell::new(BUDGET_PER_POLL),
            pool_settings: settings.pool,
            _not_send: PhantomData,
        };
        Ok((reactor, choice))
    }

    fn epoll(unparker: &Unparker, settings: &Settings) -> io::Result<Backend> {
        Ok(Backend::Epoll(epoll::EpollBackend::new(
            unparker.fd(),
            settings.epoll_events,
        )?))
    }

    /// Unique across every reactor of the process.
    pub(crate) fn id(&self) -> u64 {
        self.id
    }

    /// The backend that runs.
    pub fn kind(&self) -> ReactorKind {
        self.kind
    }

    /// What this reactor has done so far (`None` only while the reactor is busy, i.e. when
    /// asked from code it runs itself).
    pub fn stats(&self) -> Option<ReactorStats> {
        self.state.try_borrow().ok().map(|s| s.ledger.stats)
    }

    /// The io_uring set-up, if it runs io_uring.
    pub fn uring_setup(&self) -> Option<uring::Setup> {
        match &self.state.borrow().backend {
            Backend::Uring(r) => Some(r.setup().clone()),
            Backend::Epoll(_) => None,
        }
    }

    /// Whether ops time themselves (per-op latency is on).
    #[inline]
    pub(crate) fn latency_on(&self) -> bool {
        self.latency.is_some()
    }

    /// An op of `kind` that started at `since` resolved now.
    pub(crate) fn record_latency(&self, kind: &'static str, since: std::time::Instant) {
        if let Some(l) = &self.latency {
            l.borrow_mut().record(kind, since.elapsed());
        }
    }

    /// The per-op latency recorded so far, if it is on.
    pub fn op_latency(&self) -> Option<Vec<OpLatencyStats>> {
        self.latency.as_ref().map(|l| l.borrow().summary())
    }

    /// Gives the task about to be polled a fresh op budget (the executor calls it before
    /// every poll).
    ///
    /// A task whose ops keep completing at once (a connection that always has data on
    /// epoll) would never return to the executor, and timers and other tasks on its core
    /// would starve. So every task poll may start `BUDGET_PER_POLL` ops; an op polled with the
    /// budget spent returns `Pending` and wakes its task at once, which yields to the rest of
    /// the core (as tokio's cooperative budget does).
    #[inline]
    pub fn reset_budget(&self) {
        self.budget.set(BUDGET_PER_POLL);
    }

    /// Spends one op of the budget; false if it was already spent.
    #[inline]
    pub(crate) fn spend_budget(&self) -> bool {
        let left = self.budget.get();
        if left == 0 {
            return false;
        }
        self.budget.set(left - 1);
        true
    }

    /// Whether the task being polled has spent its op budget (and was made to yield).
    #[inline]
    pub(crate) fn budget_spent(&self) -> bool {
        self.budget.get() == 0
    }

    /// The budget is spent: count it, wake the task so it runs again after the others.
    #[cold]
    pub(crate) fn budget_yield<O>(&self, cx: &mut Context<'_>) -> Poll<O> {
        self.budget.set(0);
        if let Ok(mut s) = self.state.try_borrow_mut() {
            s.ledger.stats.budget_yields += 1;
        }
        cx.waker().wake_by_ref();
        Poll::Pending
    }

    /// Starts `op`: finishes it, parks its waker until readiness, queues it on the ring, or
    /// says it must go to the pool.
    #[inline]
    fn start<T: OpCode>(&self, op: &mut T, cx: &mut Context<'_>) -> Started {
        let mut state = self.state.borrow_mut();
        let State { backend, ledger } = &mut *state;
        match backend {
            Backend::Uring(r) => {
                if T::RETRY_EINTR {
                    if let Some(e) = crate::sys::uring_op_fault() {
                        // The fault plan fails this op without submitting it (tests only).
                        return Started::Done(Err(e));
                    }
                }
                let Some(entry) = op.uring_entry() else {
                    return Started::ToPool;
                };
                #[cfg(debug_assertions)]
                uring::assert_points_outside(&entry, op);
                let key = ledger.ops.insert(cx.waker(), Runs::Ring);
                match r.push(entry.user_data(key.to_user_data()), ledger) {
                    Ok(()) => Started::OnRing(key),
                    Err(e) => {
                        ledger.ops.remove_unsubmitted(key);
                        Started::Done(Err(e))
                    }
                }
            }
            Backend::Epoll(r) => match op.mode() {
                Mode::Readiness {
                    fd,
                    interest,
                    drained_below,
                } => {
                    let attempt = match r.register(fd, &mut ledger.stats) {
                        Ok(()) => epoll::Attempt {
                            fd: fd.raw(),
                            interest,
                            drained_below,
                        },
                        Err(e) => return Started::Done(Err(e)),
                    };
                    match r.attempt(attempt, || op.call(), cx, &mut ledger.stats) {
                        Some(res) => Started::Done(res),
                        None => Started::Waiting,
                    }
                }
                Mode::Now => {
                    ledger.stats.op_syscalls += 1;
                    Started::Done(op.call())
                }
                Mode::Blocking => Started::ToPool,
            },
        }
    }

    /// The readiness path without an op (epoll only): tries `call` while `fd` is ready for
    /// `interest`, else keeps the waker until the next edge. For readers whose state outlives
    /// one call (pooled reads), which need no op to own anything between polls.
    #[inline]
    pub(crate) fn poll_ready_call(
        &self,
        fd: &SharedFd,
        interest: crate::op::Interest,
        drained_below: Option<usize>,
        call: impl FnMut() -> Result<usize, Errno>,
        cx: &mut Context<'_>,
    ) -> Poll<Result<usize, Errno>> {
        let mut state = self.state.borrow_mut();
        let State { backend, ledger } = &mut *state;
        let Backend::Epoll(r) = backend else {
            return Poll::Ready(Err(Errno::EOPNOTSUPP));
        };
        if let Err(e) = r.register(fd, &mut ledger.stats) {
            return Poll::Ready(Err(e));
        }
        let at = epoll::Attempt {
            fd: fd.raw(),
            interest,
            drained_below,
        };
        match r.attempt(at, call, cx, &mut ledger.stats) {
            Some(res) => Poll::Ready(res),
            None => Poll::Pending,
        }
    }

    /// Hands `op` (from `Box::into_raw`) to the blocking pool under a new key.
    ///
    /// # Safety
    /// As [`pool::run_op`]: `op` stays untouched until its completion is taken.
    unsafe fn start_on_pool<T: OpCode>(
        &self,
        op: NonNull<T>,
        cx: &mut Context<'_>,
    ) -> io::Result<OpKey> {
        let key = self
            .state
            .borrow_mut()
            .ledger
            .ops
            .insert(cx.waker(), Runs::Pool);
        // SAFETY: the caller's promise.
        let res = unsafe { pool::run_op(op, key, &self.unparker) };
        if res.is_err() {
            self.state.borrow_mut().ledger.ops.remove_unsubmitted(key);
        }
        res.map(|()| key)
    }

    /// The future of an op in flight polls.
    #[inline]
    fn poll_op(&self, key: OpKey, cx: &mut Context<'_>) -> Poll<Result<usize, Errno>> {
        let (poll, old_waker) = self.state.borrow_mut().ledger.ops.poll(key, cx);
        drop(old_waker);
        poll
    }

    /// The future of an op in flight was dropped: keep its data until its last completion.
    fn abandon(&self, key: OpKey, op: Box<dyn Orphan>) {
        let Ok(mut state) = self.state.try_borrow_mut() else {
            // Dropped by code the reactor runs (a waker's destructor): do it at the next park.
            self.deferred.borrow_mut().push((key, op, false));
            self.has_deferred.set(true);
            return;
        };
        let State { backend, ledger } = &mut *state;
        match ledger.ops.abandon(key, op) {
            Abandoned::Release(r) => ledger.released.push(r),
            Abandoned::InFlight(runs) => {
                ledger.stats.abandoned += 1;
                // The blocking pool cannot be interrupted: the op finishes and its data is
                // released when the pool's completion is delivered. Only a ring entry is worth
                // cancelling.
                if let (Runs::Ring, Backend::Uring(r)) = (runs, backend) {
                    r.cancel(key, ledger);
                }
            }
        }
        drop(state);
        self.release_orphans();
    }

    /// Arms multishot op `op` on the ring (io_uring only).
    fn start_multi<T: OpCode>(&self, op: &mut T, cx: &mut Context<'_>) -> Result<OpKey, Errno> {
        let mut state = self.state.borrow_mut();
        let State { backend, ledger } = &mut *state;
        let Backend::Uring(r) = backend else {
            return Err(Errno::EOPNOTSUPP);
        };
        if let Some(e) = crate::sys::uring_op_fault() {
            return Err(e);
        }
        let entry = op
            .uring_entry()
            .expect("a multishot op always has a ring entry");
        #[cfg(debug_assertions)]
        uring::assert_points_outside(&entry, op);
        let key = ledger.ops.insert_multi(cx.waker());
        match r.push(entry.user_data(key.to_user_data()), ledger) {
            Ok(()) => Ok(key),
            Err(e) => {
                ledger.ops.remove_unsubmitted(key);
                Err(e)
            }
        }
    }

    /// The owner of multishot op `key` polls for its next result.
    fn poll_multi(&self, key: OpKey, cx: &mut Context<'_>) -> MultiPoll {
        let (poll, old_waker) = self.state.borrow_mut().ledger.ops.poll_multi(key, cx);
        drop(old_waker);
        poll
    }

    /// The owner of multishot op `key` let go of it: cancel it, give back what its untaken
    /// results carry, and keep its data until its last completion.
    fn abandon_multi(&self, key: OpKey, op: Box<dyn Orphan>) {
        let Ok(mut state) = self.state.try_borrow_mut() else {
            self.deferred.borrow_mut().push((key, op, true));
            self.has_deferred.set(true);
            return;
        };
        let State { backend, ledger } = &mut *state;
        let (flags, abandoned) = ledger.ops.abandon_multi(key, op);
        for f in flags {
            if let Some(id) = io_uring::cqueue::buffer_select(f) {
                ledger.give_back(id);
            }
        }
        match abandoned {
            Abandoned::Release(r) => ledger.released.push(r),
            Abandoned::InFlight(_) => {
                ledger.stats.abandoned += 1;
                if let Backend::Uring(r) = backend {
                    r.cancel(key, ledger);
                }
            }
        }
        let wakeups = std::mem::take(&mut ledger.wakeups);
        drop(state);
        // Reads that waited for one of the buffers given back: they are this core's tasks,
        // woken outside the borrow.
        for w in wakeups {
            w.wake();
        }
        self.release_orphans();
    }

    /// The core's buffer pool, made on first use: a provided-buffer ring on io_uring (or a
    /// free list, with the reason, if the kernel refuses it), a free list on epoll.
    pub(crate) fn buf_pool(&self) -> io::Result<Rc<BufPool>> {
        let mut state = self.state.borrow_mut();
        if let Some(p) = &state.ledger.pool {
            return Ok(p.clone());
        }
        let pool = match &state.backend {
            Backend::Uring(r) => match BufPool::with_kernel_ring(self.pool_settings, r.ring_fd()) {
                Ok(p) => p,
                Err(reason) => BufPool::with_free_list(self.pool_settings, Some(reason))?,
            },
            Backend::Epoll(_) => BufPool::with_free_list(self.pool_settings, None)?,
        };
        let pool = Rc::new(pool);
        state.ledger.pool = Some(pool.clone());
        Ok(pool)
    }

    /// What the core's buffer pool holds and has done (`None` before the first pooled read).
    pub fn buf_pool_stats(&self) -> Option<BufPoolStats> {
        let state = self.state.try_borrow().ok()?;
        state.ledger.pool.as_ref().map(|p| p.stats())
    }

    fn run_deferred(&self) {
        if !self.has_deferred.replace(false) {
            return;
        }
        loop {
            let next = self.deferred.borrow_mut().pop();
            let Some((key, op, multi)) = next else { break };
            if multi {
                self.abandon_multi(key, op);
            } else {
                self.abandon(key, op);
            }
        }
    }

    /// Frees the orphans whose last completion arrived, outside every borrow.
    fn release_orphans(&self) {
        loop {
            let dead = std::mem::take(&mut self.state.borrow_mut().ledger.released);
            if dead.is_empty() {
                return;
            }
            for (op, res) in dead {
                op.release(&res);
            }
        }
    }

    /// Takes the blocking pool's completions into the table.
    fn take_pool_completions(&self, ledger: &mut Ledger) {
        while let Some((key, res)) = self.unparker.pop_completion() {
            ledger.complete(key, res, 0);
        }
    }

    /// Submits what is queued and waits for completions or readiness, up to `timeout`
    /// (`None`: no limit; zero: do not wait). It does not block if wakers are undelivered,
    /// pool completions are queued, or `more_work()` (the caller's own cross-thread queues,
    /// checked after the core has said it parks) is true.
    pub(crate) fn park(
        &self,
        timeout: Option<Duration>,
        more_work: impl FnOnce() -> bool,
    ) -> io::Result<()> {
        self.run_deferred();
        let mut state = self.state.borrow_mut();
        let State { backend, ledger } = &mut *state;
        self.take_pool_completions(ledger);
        let may_block = timeout != Some(Duration::ZERO) && ledger.wakeups.is_empty();
        let blocking = may_block && self.unparker.prepare_park(more_work);
        let timeout = if blocking {
            ledger.stats.parks += 1;
            timeout
        } else {
            Some(Duration::ZERO)
        };
        let res = match backend {
            Backend::Uring(r) => r.park(timeout, ledger),
            Backend::Epoll(r) => r.park(timeout, ledger),
        };
        if blocking {
            self.unparker.end_park();
        }
        self.take_pool_completions(ledger);
        res
    }

    /// Moves the wakers the last park collected into `into`, and releases the orphans whose
    /// last completion arrived. Call it with no borrow held: orphans' destructors run here.
    pub(crate) fn take_wakeups(&self, into: &mut Vec<Waker>) {
        into.append(&mut self.state.borrow_mut().ledger.wakeups);
        self.release_orphans();
    }

    /// How many ops the kernel or the pool still holds.
    pub(crate) fn in_kernel(&self) -> usize {
        self.state.borrow().ledger.ops.in_kernel()
    }

    /// Asks the kernel to cancel every op in flight on the ring (shutdown). Their completions
    /// still come, through `park`; ops on the blocking pool finish on their own.
    pub(crate) fn cancel_all(&self) {
        self.run_deferred();
        let mut state = self.state.borrow_mut();
        let State { backend, ledger } = &mut *state;
        if let Backend::Uring(r) = backend {
            for key in ledger.ops.ring_keys() {
                r.cancel(key, ledger);
            }
        }
    }

    /// Gives up on the ops still in flight without freeing their memory (shutdown timed out).
    pub(crate) fn leak_all(&self) {
        let mut state = self.state.borrow_mut();
        if let Some(p) = &state.ledger.pool {
            p.leak();
        }
        state.ledger.ops.leak_all();
    }
}

impl Drop for Reactor {
    fn drop(&mut self) {
        // Whatever is in flight now outlives the reactor: leak it rather than free memory the
        // kernel or a pool thread may still use. (The executor waits for it first.)
        if let Ok(mut s) = self.state.try_borrow_mut() {
            if s.ledger.ops.in_kernel() > 0 {
                // An op it gave up on may still pick and write pool buffers.
                if let Some(p) = &s.ledger.pool {
                    p.leak();
                }
            }
            s.ledger.ops.leak_all();
        }
        self.release_orphans();
    }
}

#[cfg(test)]
mod tests {
    /// A reactor belongs to one thread: if `Reactor` were `Send`, the call below would be
    /// ambiguous and this test would not compile.
    #[test]
    fn reactor_is_not_send() {
        trait AmbiguousIfSend<A> {
            fn some_item() {}
        }
        impl<T: ?Sized> AmbiguousIfSend<()> for T {}
        struct Invalid;
        impl<T: ?Sized + Send> AmbiguousIfSend<Invalid> for T {}
        <super::Reactor as AmbiguousIfSend<_>>::some_item();
    }
}
