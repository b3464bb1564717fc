//! The core: what one thread owns to run tasks, timers and a reactor, and its loop.

use super::join::{JoinHandle, JoinInner, TaskFuture};
use super::shared::Shared;
use super::task::{Task, UNREGISTERED};
use crate::reactor::Driver;
use crate::time::Timers;
use slab::Slab;
use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::future::Future;
use std::io;
use std::os::fd::RawFd;
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
    pub(crate) driver: RefCell<Driver>,
    pub(crate) timers: RefCell<Timers>,
    run_queue: RefCell<VecDeque<Arc<Task>>>,
    tasks: RefCell<Slab<Arc<Task>>>,
    wake_buf: RefCell<Vec<Waker>>,
    shutdown_timeout: Duration,
}

thread_local! {
    static CURRENT: Cell<*const Core> = const { Cell::new(std::ptr::null()) };
    /// Descriptors closed on this thread while no core was current (between two `block_on`s
    /// of a runtime whose core lives here). The next `block_on` forgets them before anything
    /// else runs, so a new descriptor that reuses a number starts clean.
    static DEFERRED_FORGETS: RefCell<Vec<RawFd>> = const { RefCell::new(Vec::new()) };
}

/// `fd` is about to be closed: the current core's reactor forgets it, or, with no core current,
/// the next `block_on` on this thread does. (`IoFd` is `!Send`, so it is always dropped on the
/// thread of the core that may know it.)
pub(crate) fn forget_fd(fd: RawFd) {
    if with_current(|core| core.driver.borrow_mut().forget(fd)).is_none() {
        let _ = DEFERRED_FORGETS.try_with(|d| d.borrow_mut().push(fd));
    }
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

pub(crate) fn no_runtime_error() -> io::Error {
    io::Error::other(
        "coreloop: this needs a coreloop runtime running on this thread (Runtime::block_on)",
    )
}

/// Makes a core current on this thread until dropped.
struct Enter {
    prev: *const Core,
}

impl Enter {
    fn new(core: &Core) -> Enter {
        let prev = CURRENT.with(|c| c.replace(core as *const Core));
        Enter { prev }
    }
}

impl Drop for Enter {
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
        self.shared.main_woken.store(true, Ordering::Release);
        let here = with_current(|c| c.shared.id == self.shared.id).unwrap_or(false);
        if !here {
            self.shared.unpark();
        }
    }
}

impl Core {
    pub(crate) fn new(
        shared: Arc<Shared>,
        siblings: Arc<[Arc<Shared>]>,
        driver: Driver,
        shutdown_timeout: Duration,
    ) -> Core {
        Core {
            shared,
            siblings,
            driver: RefCell::new(driver),
            timers: RefCell::new(Timers::new()),
            run_queue: RefCell::new(VecDeque::new()),
            tasks: RefCell::new(Slab::new()),
            wake_buf: RefCell::new(Vec::new()),
            shutdown_timeout,
        }
    }

    pub(crate) fn id(&self) -> u64 {
        self.shared.id
    }

    pub(crate) fn push_local(&self, task: Arc<Task>) {
        self.run_queue.borrow_mut().push_back(task);
    }

    pub(crate) fn spawn<F>(&self, fut: F) -> JoinHandle<F::Output>
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        let join = JoinInner::new();
        let task = Task::new(
            self.shared.clone(),
            Box::pin(TaskFuture::new(fut, join.clone())),
        );
        let waker = Waker::from(task.clone());
        self.register(&task);
        self.push_local(task);
        JoinHandle::new(join, Some(waker))
    }

    fn register(&self, task: &Arc<Task>) {
        let slot = self.tasks.borrow_mut().insert(task.clone());
        task.slot.store(slot, Ordering::Relaxed);
    }

    /// Takes in what other threads sent: tasks (new or woken) and pool completions.
    fn drain_remote(&self) {
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
        let mut driver = self.driver.borrow_mut();
        let mut completed = false;
        while let Some((key, res)) = self.shared.pop_completion() {
            driver.complete(key, res);
            completed = true;
        }
        drop(driver);
        if completed {
            // Wake their ops now: a park that follows sees an empty completion queue and
            // could otherwise sleep with these wakers undelivered.
            self.wake_ready();
        }
    }

    fn run_task(&self, task: Arc<Task>) {
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
        // Never block while wakers collected earlier (pool completions, or completions an SQ-full
        // submit drained mid-poll) are still undelivered.
        let may_block = timeout != Some(Duration::ZERO) && !self.driver.borrow().has_wakeups();
        let blocking = may_block && self.shared.prepare_park();
        let timeout = if blocking {
            timeout
        } else {
            Some(Duration::ZERO)
        };
        let res = self.driver.borrow_mut().park(timeout);
        if blocking {
            self.shared.end_park();
        }
        self.drain_remote();
        self.wake_ready();
        res
    }

    /// Wakes the reactor's and the timers' wakers, outside any borrow.
    fn wake_ready(&self) {
        let mut buf = std::mem::take(&mut *self.wake_buf.borrow_mut());
        self.driver.borrow_mut().take_wakeups(&mut buf);
        self.timers.borrow_mut().fire(Instant::now(), &mut buf);
        for w in buf.drain(..) {
            w.wake();
        }
        *self.wake_buf.borrow_mut() = buf;
    }

    /// Runs `fut` to completion on this core, with every task spawned here.
    pub(crate) fn block_on<F: Future>(&self, fut: F) -> io::Result<F::Output> {
        let _enter = Enter::new(self);
        let deferred = DEFERRED_FORGETS.with(|d| std::mem::take(&mut *d.borrow_mut()));
        for fd in deferred {
            self.driver.borrow_mut().forget(fd);
        }
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
                if let Poll::Ready(v) = fut.as_mut().poll(&mut cx) {
                    return Ok(v);
                }
            }
            self.drain_remote();
            let mut polled = 0;
            loop {
                let next = self.run_queue.borrow_mut().pop_front();
                let Some(task) = next else { break };
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
            let busy = !self.run_queue.borrow().is_empty()
                || self.shared.main_woken.load(Ordering::Relaxed);
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

    fn fire_timers(&self) {
        let mut buf = std::mem::take(&mut *self.wake_buf.borrow_mut());
        self.timers.borrow_mut().fire(Instant::now(), &mut buf);
        for w in buf.drain(..) {
            w.wake();
        }
        *self.wake_buf.borrow_mut() = buf;
    }

    /// How many tasks are alive on this core.
    pub(crate) fn live_tasks(&self) -> usize {
        self.tasks.borrow().len()
    }
}

impl Drop for Core {
    fn drop(&mut self) {
        let _enter = Enter::new(self);
        self.shared.closed.store(true, Ordering::Release);
        // Drop every task's future here, on its own thread; their in-flight ops are handed to
        // the driver, which cancels them.
        let tasks: Vec<Arc<Task>> = self.tasks.borrow_mut().drain().collect();
        for task in tasks {
            // SAFETY: these tasks belong to this core, on whose thread we are.
            unsafe { task.drop_future() };
        }
        self.run_queue.borrow_mut().clear();
        while let Some(task) = self.shared.pop_remote() {
            // SAFETY: as above: tasks in our remote queue are ours.
            unsafe { task.drop_future() };
        }
        // Wait (bounded) for the kernel and the pool to finish with every op still in flight.
        let deadline = Instant::now() + self.shutdown_timeout;
        self.driver.borrow_mut().cancel_all();
        while self.driver.borrow().ops.len() > 0 && Instant::now() < deadline {
            let _ = self.turn(Some(Duration::from_millis(10)));
        }
        if self.driver.borrow().ops.len() > 0 {
            self.driver.borrow_mut().ops.leak_all();
        }
        self.wake_buf.borrow_mut().clear();
    }
}
