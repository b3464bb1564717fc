//! The per-core executor.
//!
//! One thread per core, one `Core` per thread: a local run queue, a table of
//! its live tasks, its timers and its reactor. Tasks spawned with [`spawn`] stay on their core
//! and may be `!Send`. Work crosses cores only through [`spawn_on`]: the task goes into the
//! target core's remote queue (lock-free, `crossbeam-queue`), and the target's eventfd is
//! written only if that core is parked.
//!
//! Wakers are `Send + Sync`. A wake on the task's own core pushes it on the local queue; a
//! wake from any other thread goes through the owner's remote queue. No thread but the owner
//! ever touches a task's future.
//!
//! Fairness: after every 61 task polls the core looks at its reactor without blocking, and
//! after 256 it looks at its remote queue and its `block_on` future again.

pub(crate) mod core;
mod join;
mod run_queue;
mod runtime;
mod shared;
mod task;

#[cfg(all(test, loom))]
mod loom_tests;

pub use join::{JoinError, JoinHandle};
pub use runtime::{Builder, CoreInfo, Runtime};

use crate::reactor::{ReactorKind, ReactorStats};
use join::{JoinInner, TaskFuture};
use std::future::Future;
use std::io;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::task::{Context, Poll};

/// Spawns a task on the current core. The future may be `!Send`: it never leaves this core.
///
/// # Panics
/// Outside a coreloop runtime.
///
/// # Examples
///
/// ```
/// use coreloop_runtime::{Runtime, spawn};
/// use std::rc::Rc;
///
/// let rt = Runtime::new()?;
/// rt.block_on(async {
///     // `!Send` state is fine: the task never leaves this core.
///     let shared = Rc::new(21);
///     let handle = spawn({
///         let shared = Rc::clone(&shared);
///         async move { *shared * 2 }
///     });
///     assert_eq!(handle.await.unwrap(), 42);
/// });
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn spawn<F>(fut: F) -> JoinHandle<F::Output>
where
    F: Future + 'static,
    F::Output: 'static,
{
    core::with_current(|core| core.spawn(fut))
        .expect("coreloop::spawn needs a coreloop runtime on this thread (Runtime::block_on)")
}

/// Spawns a task on core `index` of the current runtime (see [`Runtime::run`]). The future is
/// sent there and runs there only.
///
/// Fails if there is no runtime on this thread, no such core, or that core has shut down.
/// Inside [`Runtime::block_on`] only core 0 runs (the other cores of
/// [`Builder::cores`](crate::Builder::cores) are started by [`Runtime::run`] alone), so there
/// `spawn_on(0, ..)` works and any other index is an `InvalidInput` error that says so.
///
/// # Examples
///
/// ```
/// use coreloop_runtime::{Runtime, current_core, spawn_on};
///
/// let rt = Runtime::builder().cores(2).build()?;
/// let out = rt.run(|core| async move {
///     if core.index != 0 {
///         return None;
///     }
///     // Core 0 sends a `Send` future to core 1 and awaits its output here.
///     let handle = spawn_on(1, async { current_core() }).expect("core 1 is running");
///     handle.await.expect("the task did not panic")
/// })?;
/// assert_eq!(out, [Some(1), None]);
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn spawn_on<F>(index: usize, fut: F) -> io::Result<JoinHandle<F::Output>>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    let target = core::with_current(|core| core.siblings.get(index).cloned())
        .ok_or_else(core::no_runtime_error)?
        .ok_or_else(|| no_such_core(index))?;
    let closed = || {
        io::Error::new(
            io::ErrorKind::BrokenPipe,
            format!("spawn_on: core {index} has shut down"),
        )
    };
    if target.is_closed() {
        return Err(closed());
    }
    let join = JoinInner::new();
    let task = task::Task::new(target.clone(), Box::pin(TaskFuture::new(fut, join.clone())));
    let waker = task.waker();
    if !target.push_remote(task) {
        // It closed meanwhile: the task was dropped (its handle would say cancelled).
        return Err(closed());
    }
    Ok(JoinHandle::new(join, Some(waker)))
}

/// The error of a `spawn_on` to a core that is not running here: out of range, or any core
/// but 0 from `block_on`, which runs core 0 alone.
fn no_such_core(index: usize) -> io::Error {
    let running = core::with_current(|core| core.siblings.len()).unwrap_or(0);
    let msg = if running == 1 {
        format!(
            "spawn_on: no core {index} is running: Runtime::block_on runs core 0 alone \
             (Builder::cores(n) starts n cores only inside Runtime::run); spawn_on other \
             cores from inside Runtime::run"
        )
    } else {
        format!("spawn_on: this runtime runs cores 0..{running}, not core {index}")
    };
    io::Error::new(io::ErrorKind::InvalidInput, msg)
}

/// Lets the other tasks of this core run before this one goes on.
pub async fn yield_now() {
    let mut yielded = false;
    std::future::poll_fn(|cx: &mut Context<'_>| {
        if yielded {
            return Poll::Ready(());
        }
        yielded = true;
        cx.waker().wake_by_ref();
        Poll::Pending
    })
    .await
}

/// The index of the current core in its runtime, if a runtime runs on this thread.
pub fn current_core() -> Option<usize> {
    core::with_current(|core| core.shared.index)
}

/// How many cores the current runtime has.
pub fn core_count() -> Option<usize> {
    core::with_current(|core| core.siblings.len())
}

/// The reactor the current core runs.
pub fn current_reactor() -> Option<ReactorKind> {
    core::with_current(|core| core.reactor.kind())
}

/// What the current core's reactor has done so far.
pub fn reactor_stats() -> Option<ReactorStats> {
    core::with_current(|core| core.reactor.stats()).flatten()
}

/// What the current core's buffer pool (for pooled reads) holds and has done; `None` outside
/// a runtime or before the core's first pooled read.
pub fn buf_pool_stats() -> Option<crate::reactor::BufPoolStats> {
    core::with_current(|core| core.reactor.buf_pool_stats()).flatten()
}

/// The per-op latency the current core's reactor has recorded (percentiles per op kind), if
/// it records it ([`Builder::op_latency`] or `CORELOOP_OP_LATENCY=1`).
pub fn op_latency() -> Option<Vec<crate::reactor::OpLatencyStats>> {
    core::with_current(|core| core.reactor.op_latency()).flatten()
}

/// How many tasks are alive on the current core.
pub fn live_tasks() -> Option<usize> {
    core::with_current(|core| core.live_tasks())
}

/// Runs `f` on the blocking pool (threads shared by every core, for work that would block a
/// core); the handle resolves on the calling core (or anywhere). A panic in `f` comes back as
/// `JoinError::Panicked`. If no pool thread exists and none can be started, `f` runs here, on
/// the calling thread, rather than never.
pub fn spawn_blocking<F, T>(f: F) -> JoinHandle<T>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    let inner = JoinInner::new();
    let done = inner.clone();
    let f = std::sync::Arc::new(std::sync::Mutex::new(Some(f)));
    let job_f = f.clone();
    let queued = crate::reactor::pool::execute(Box::new(move || {
        let f = job_f.lock().unwrap_or_else(|e| e.into_inner()).take();
        let r = match f {
            Some(f) => catch_unwind(AssertUnwindSafe(f)).map_err(JoinError::Panicked),
            None => Err(JoinError::Cancelled),
        };
        Box::new(move || done.finish(r))
    }));
    if queued.is_err() {
        if let Some(f) = f.lock().unwrap_or_else(|e| e.into_inner()).take() {
            inner.finish(catch_unwind(AssertUnwindSafe(f)).map_err(JoinError::Panicked));
        }
    }
    JoinHandle::new(inner, None)
}
