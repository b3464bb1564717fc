//! The per-core executor.
//!
//! One thread per core, one [`Core`](context::Core) per thread: a local run queue, a table of
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

pub(crate) mod context;
mod join;
pub(crate) mod pool;
mod runtime;
mod shared;
mod task;

pub use join::{JoinError, JoinHandle};
pub use pool::spawn_blocking;
pub use runtime::{Builder, CoreInfo, Runtime};

use crate::reactor::{ReactorKind, ReactorStats};
use join::{JoinInner, TaskFuture};
use std::future::Future;
use std::io;
use std::sync::atomic::Ordering;
use std::task::{Context, Poll, Waker};

/// Spawns a task on the current core. The future may be `!Send`: it never leaves this core.
///
/// # Panics
/// Outside a coreloop runtime.
pub fn spawn<F>(fut: F) -> JoinHandle<F::Output>
where
    F: Future + 'static,
    F::Output: 'static,
{
    context::with_current(|core| core.spawn(fut))
        .expect("coreloop::spawn needs a coreloop runtime on this thread (Runtime::block_on)")
}

/// Spawns a task on core `index` of the current runtime (see [`Runtime::run`]). The future is
/// sent there and runs there only.
///
/// Fails if there is no runtime on this thread, no such core, or that core has shut down.
pub fn spawn_on<F>(index: usize, fut: F) -> io::Result<JoinHandle<F::Output>>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    let target = context::with_current(|core| core.siblings.get(index).cloned())
        .ok_or_else(context::no_runtime_error)?
        .ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("spawn_on: this runtime has no core {index}"),
            )
        })?;
    if target.closed.load(Ordering::Acquire) {
        return Err(io::Error::new(
            io::ErrorKind::BrokenPipe,
            format!("spawn_on: core {index} has shut down"),
        ));
    }
    let join = JoinInner::new();
    let task = task::Task::new(target.clone(), Box::pin(TaskFuture::new(fut, join.clone())));
    let waker = Waker::from(task.clone());
    target.push_remote(task);
    Ok(JoinHandle::new(join, Some(waker)))
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
    context::with_current(|core| core.shared.index)
}

/// How many cores the current runtime has.
pub fn core_count() -> Option<usize> {
    context::with_current(|core| core.siblings.len())
}

/// The reactor the current core runs.
pub fn current_reactor() -> Option<ReactorKind> {
    context::with_current(|core| core.driver.borrow().kind())
}

/// What the current core's reactor has done so far.
pub fn reactor_stats() -> Option<ReactorStats> {
    context::with_current(|core| core.driver.borrow().stats)
}

/// How many tasks are alive on the current core.
pub fn live_tasks() -> Option<usize> {
    context::with_current(|core| core.live_tasks())
}

/// `fd` is about to be closed: the current core's reactor forgets it. Types that own a
/// descriptor used with ops call this from their drop, before closing it.
pub fn forget_fd(fd: std::os::fd::RawFd) {
    context::forget_fd(fd);
}
