//! The core: what one thread owns to run tasks and timers over its reactor, and its loop.
//!
//! The executor only runs tasks: it enters its reactor, parks it, takes the wakers it
//! collected and shuts it down. Everything an op needs in flight is the reactor's.

use super::join::{JoinHandle, JoinInner, TaskFuture};
use super::run_queue::RunQueue;
use super::shared::Shared;
use super::task::{self, Task, UNREGISTERED};
use crate::reactor::Reactor;
use crate::time::Timers;
use slab::Slab;
use std::cell::{Cell, RefCell};
use std::future::Future;
use std::io;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::task::{Context, Poll, Wake, Waker};
use std::time::{Duration, Instant};

/// Polls (tasks and the `block_on` future) between two non-blocking looks at the reactor, so
/// a busy core still sees I/O — and a core that yields a lot does not pay a syscall per yield.
const EVENT_INTERVAL: u32 = 61;
/// Task polls before the loop looks at the remote queue and the main future again.
const BUDGET: u32 = 256;

pub(crate) struct Core {
    pub(crate) shared: Arc<Shared>,
    pub(crate) siblings: Arc<[Arc<Shared>]>,
    pub(crate) reactor: Reactor,
    pub(crate) timers: RefCell<Timers>,
    run_queue: RunQueue,
    tasks: RefCell<Slab<Arc<Task>>>,
    wake_buf: RefCell<Vec<Waker>>,
    shutdown_timeout: Duration,
}

thread_local! {
    static CURRENT: Cell<*const Core> = const { Cell::new(std::ptr::null()) };
}

/// Runs `f` with the current thread's core, if a runtime is running on it.
pub(crate) fn with_current<R>(f: impl FnOnce(&Core) -> R) -> Option<R> {
    let ptr = CURRENT.try_with(|c| c.get()).ok()?;
    if ptr.is_null() {
        return None;
    }
    // SAFETY: CURRENT is set only by `Enter`, which points it at a core that outlives the guard
    // and resets it on drop; we are on that core's thread.
    Some(f(unsafe { &*ptr }))
}

/// Queues `task` on the current thread's core if that core owns it; gives it back otherwise.
#[inline]
pub(crate) fn push_if_local(task: Arc<Task>) -> Result<(), Arc<Task>> {
    let ptr = CURRENT.try_with(Cell::get).unwrap_or(std::ptr::null());
    // SAFETY: as in `with_current`: a non-null CURRENT points at the core running here.
    match unsafe { ptr.as_ref() } {
        // Two live `Shared`s never share an address, and the task's `owner` keeps its alive.
        Some(core) if std::ptr::eq(Arc::as_ptr(&core.shared), Arc::as_ptr(&task.owner)) => {
            core.push_local(task);
            Ok(())
        }
        _ => Err(task),
    }
}

pub(crate) fn no_runtime_error() -> io::Error {
    io::Error::other(
        "coreloop: this needs a coreloop runtime running on this thread (Runtime::block_on)",
    )
}

/// Makes a core (and its reactor) current on this thread until dropped.
struct Enter<'a> {
    prev: *const Core,
    _reactor: crate::reactor::Entered<'a>,
}

impl<'a> Enter<'a> {
    /// For running the core: refused (panic) if any runtime already runs on this thread.
    fn run(core: &'a Core) -> Enter<'a> {
        let reactor = core.reactor.enter();
        let prev = CURRENT.with(|c| c.replace(core as *const Core));
        Enter {
            prev,
            _reactor: reactor,
        }
    }

    /// For shutting the core down wherever it is dropped (no user future is polled).
    fn shutdown(core: &'a Core) -> Enter<'a> {
        let reactor = core.reactor.enter_for_shutdown();
        let prev = CURRENT.with(|c| c.replace(core as *const Core));
        Enter {
            prev,
            _reactor: reactor,
        }
    }
}

impl Drop for Enter<'_> {
    fn drop(&mut self) {
        let _ = CURRENT.try_with(|c| c.set(self.prev));
    }
}

/// Wakes the `block_on` future.
struct MainWaker {
    shared: Arc<Shared>,
}

impl Wake for MainWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        let here = with_current(|c| c.shared.id == self.shared.id).unwrap_or(false);
        if here {
            self.shared.main_woken.store(true, Ordering::Release);
        } else {
            self.shared.wake_main();
        }
    }
}

impl Core {
    pub(crate) fn new(
        shared: Arc<Shared>,
        siblings: Arc<[Arc<Shared>]>,
        reactor: Reactor,
        shutdown_timeout: Duration,
    ) -> Core {
        Core {
            shared,
            siblings,
            reactor,
            timers: RefCell::new(Timers::new()),
            run_queue: RunQueue::new(),
            tasks: RefCell::new(Slab::new()),
            wake_buf: RefCell::new(Vec::new()),
            shutdown_timeout,
        }
    }

    pub(crate) fn id(&self) -> u64 {
        self.shared.id
    }

    #[inline]
    pub(crate) fn push_local(&self, task: Arc<Task>) {
        self.run_queue.push(task);
    }

    pub(crate) fn spawn<F>(&self, fut: F) -> JoinHandle<F::Output>
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        let join = JoinInner::new();
        let fut = TaskFuture::new(fut, join.clone());
        if self.shared.is_closed() {
            // Spawned by a destructor while the core shuts down: it will never run. Dropped
            // here, on its core; its handle resolves as cancelled.
            drop(fut);
            return JoinHandle::new(join, None);
        }
        let task = Task::new(self.shared.clone(), Box::pin(fut));
        let waker = task.waker();
        self.register(&task);
        self.push_local(task);
        JoinHandle::new(join, Some(waker))
    }

    fn register(&self, task: &Arc<Task>) {
        let slot = self.tasks.borrow_mut().insert(task.clone());
        task.slot.store(slot, Ordering::Relaxed);
    }

    /// Takes in the tasks other threads sent (new, or woken there).
    fn drain_remote(&self) {
        // An empty queue is cheaper to ask than to pop from.
        if !self.shared.has_remote() {
            return;
        }
        while let Some(task) = self.shared.pop_remote() {
            // SAFETY: this task's owner is this core, and we are on its thread.
            if !unsafe { task.is_live() } {
                continue;
            }
            if task.slot.load(Ordering::Relaxed) == UNREGISTERED {
                self.register(&task);
            }
            self.push_local(task);
        }
    }

    #[inline(always)]
    fn run_task(&self, task: Arc<Task>) {
        self.reactor.reset_budget();
        // SAFETY: tasks in this core's run queue are owned by this core, and the loop polls
        // one at a time.
        if unsafe { task.poll() } {
            let slot = task.slot.swap(UNREGISTERED, Ordering::Relaxed);
            if slot != UNREGISTERED {
                self.tasks.borrow_mut().try_remove(slot);
            }
        }
    }

    /// Looks at the reactor (waiting up to `timeout`) and wakes what it and the timers found.
    fn turn(&self, timeout: Option<Duration>) -> io::Result<()> {
        let shared = &self.shared;
        let res = self.reactor.park(timeout, || {
            shared.has_remote() || shared.main_woken.load(Ordering::Relaxed)
        });
        self.drain_remote();
        self.wake_ready();
        res
    }

    /// Wakes the reactor's and the timers' wakers, outside any borrow.
    fn wake_ready(&self) {
        self.wake_all(|buf| {
            self.reactor.take_wakeups(buf);
            self.timers.borrow_mut().fire_due(buf);
        });
    }

    /// Wakes the timers that are due (no syscall, and no clock read without timers).
    fn fire_timers(&self) {
        if !self.timers.borrow().is_empty() {
            self.wake_all(|buf| self.timers.borrow_mut().fire_due(buf));
        }
    }

    /// Wakes what `collect` puts in the buffer, once its borrows have ended.
    fn wake_all(&self, collect: impl FnOnce(&mut Vec<Waker>)) {
        let mut buf = std::mem::take(&mut *self.wake_buf.borrow_mut());
        collect(&mut buf);
        for w in buf.drain(..) {
            match task::task_of(w) {
                // Most wakers are this core's tasks': queued here, with no call through the
                // waker's vtable and no look at the thread-local.
                Ok(task) if std::ptr::eq(&*task.owner, &*self.shared) => {
                    if !task.scheduled.swap(true, Ordering::AcqRel) {
                        self.push_local(task);
                    }
                }
                Ok(task) => task::schedule(task),
                Err(w) => w.wake(),
            }
        }
        *self.wake_buf.borrow_mut() = buf;
    }

    /// Runs `fut` to completion on this core, with every task spawned here.
    ///
    /// # Panics
    /// If a coreloop runtime already runs on this thread (a `block_on` from inside a task).
    pub(crate) fn block_on<F: Future>(&self, fut: F) -> io::Result<F::Output> {
        let _enter = Enter::run(self);
        let main_waker = Waker::from(Arc::new(MainWaker {
            shared: self.shared.clone(),
        }));
        let mut cx = Context::from_waker(&main_waker);
        let mut fut = std::pin::pin!(fut);
        self.shared.main_woken.store(true, Ordering::Release);
        // Polls since the reactor was last looked at: the fairness bound.
        let mut since_turn = 0u32;
        loop {
            if self.shared.main_woken.swap(false, Ordering::AcqRel) {
                since_turn += 1;
                self.reactor.reset_budget();
                if let Poll::Ready(v) = fut.as_mut().poll(&mut cx) {
                    return Ok(v);
                }
            }
            self.drain_remote();
            let mut polled = 0;
            loop {
                let Some(task) = self.run_queue.pop() else {
                    break;
                };
                self.run_task(task);
                polled += 1;
                since_turn += 1;
                if since_turn >= EVENT_INTERVAL {
                    self.turn(Some(Duration::ZERO))?;
                    since_turn = 0;
                }
                if polled >= BUDGET || self.shared.main_woken.load(Ordering::Relaxed) {
                    break;
                }
            }
            let busy = !self.run_queue.is_empty() || self.shared.main_woken.load(Ordering::Relaxed);
            if busy && since_turn < EVENT_INTERVAL {
                // More to run and the reactor was looked at recently: only due timers, which
                // cost no syscall.
                self.fire_timers();
                continue;
            }
            let timeout = if busy {
                Some(Duration::ZERO)
            } else {
                self.timers
                    .borrow()
                    .next_deadline()
                    .map(|d| d.saturating_duration_since(Instant::now()))
            };
            self.turn(timeout)?;
            since_turn = 0;
        }
    }

    /// How many tasks are alive on this core.
    pub(crate) fn live_tasks(&self) -> usize {
        self.tasks.borrow().len()
    }

    /// Drops every task's future on this thread, including tasks that destructors spawn or
    /// wake meanwhile, and everything other threads sent.
    fn drop_tasks(&self) {
        loop {
            let tasks: Vec<Arc<Task>> = self.tasks.borrow_mut().drain().collect();
            let queued: Vec<Arc<Task>> = std::iter::from_fn(|| self.run_queue.pop()).collect();
            let mut remote = Vec::new();
            while let Some(t) = self.shared.pop_remote() {
                remote.push(t);
            }
            if tasks.is_empty() && queued.is_empty() && remote.is_empty() {
                return;
            }
            for task in tasks.iter().chain(&queued).chain(&remote) {
                // SAFETY: these tasks belong to this core, on whose thread we are.
                unsafe { task.drop_future() };
            }
        }
    }
}

impl Drop for Core {
    fn drop(&mut self) {
        let _enter = Enter::shutdown(self);
        self.shared.close();
        // Drop every task's future here, on its own thread; their in-flight ops are handed to
        // the reactor, which cancels them.
        self.drop_tasks();
        // Wait (bounded) for the kernel and the pool to finish with every op still in flight;
        // ops that completed already need no waiting.
        let deadline = Instant::now() + self.shutdown_timeout;
        self.reactor.cancel_all();
        while self.reactor.in_kernel() > 0 && Instant::now() < deadline {
            let _ = self.turn(Some(Duration::from_millis(10)));
        }
        if self.reactor.in_kernel() > 0 {
            self.reactor.leak_all();
        }
        // Wakes during the wait may have queued (future-less) tasks.
        self.drop_tasks();
        self.wake_buf.borrow_mut().clear();
    }
}
