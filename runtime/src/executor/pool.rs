//! The blocking pool: a few shared threads for work that has no readiness (regular files on
//! the epoll reactor) and for `spawn_blocking`. Results go back to the calling core.

use super::join::{JoinError, JoinHandle, JoinInner};
use super::shared::Shared;
use crate::op::OpCode;
use crate::sys::Errno;
use std::collections::VecDeque;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Arc, Condvar, Mutex, OnceLock};
use std::time::Duration;

/// The most threads the pool runs at once.
const MAX_THREADS: usize = 32;
/// An idle thread exits after this long.
const IDLE: Duration = Duration::from_secs(10);

type Job = Box<dyn FnOnce() + Send>;

struct Pool {
    state: Mutex<PoolState>,
    work: Condvar,
}

struct PoolState {
    queue: VecDeque<Job>,
    threads: usize,
    idle: usize,
}

fn pool() -> &'static Pool {
    static POOL: OnceLock<Pool> = OnceLock::new();
    POOL.get_or_init(|| Pool {
        state: Mutex::new(PoolState {
            queue: VecDeque::new(),
            threads: 0,
            idle: 0,
        }),
        work: Condvar::new(),
    })
}

fn execute(job: Job) {
    let p = pool();
    let mut s = p.state.lock().unwrap_or_else(|e| e.into_inner());
    s.queue.push_back(job);
    if s.idle > 0 {
        p.work.notify_one();
        return;
    }
    if s.threads < MAX_THREADS {
        s.threads += 1;
        let spawned = std::thread::Builder::new()
            .name("coreloop-blocking".into())
            .spawn(worker);
        if spawned.is_err() {
            // No thread could be made: the job waits for a running thread, if there is one.
            s.threads -= 1;
        }
    }
}

fn worker() {
    let p = pool();
    let mut s = p.state.lock().unwrap_or_else(|e| e.into_inner());
    loop {
        if let Some(job) = s.queue.pop_front() {
            drop(s);
            // A job never unwinds into the pool: ops return errors, closures are caught.
            job();
            s = p.state.lock().unwrap_or_else(|e| e.into_inner());
            continue;
        }
        s.idle += 1;
        let (next, timeout) = p
            .work
            .wait_timeout(s, IDLE)
            .unwrap_or_else(|e| e.into_inner());
        s = next;
        s.idle -= 1;
        if timeout.timed_out() && s.queue.is_empty() {
            s.threads -= 1;
            return;
        }
    }
}

/// A raw pointer to an op that a pool thread may use.
struct OpPtr(*mut ());

// SAFETY: the op behind it is left alone by its core while in flight and its `call` touches only
// plain data (the `OpCode` contract for blocking ops); the op outlives the job because its
// data stays in the future or the in-flight table until the completion this job sends.
unsafe impl Send for OpPtr {}

/// # Safety
/// `p` must point to a live `T` that no one else uses during the call.
unsafe fn call_op<T: OpCode>(p: *mut ()) -> Result<usize, Errno> {
    // SAFETY: the caller's promise.
    unsafe { (*p.cast::<T>()).call() }
}

/// The pool as one core sees it: completions come back to that core.
pub(crate) struct PoolHandle {
    shared: Arc<Shared>,
}

impl PoolHandle {
    pub(crate) fn new(shared: Arc<Shared>) -> PoolHandle {
        PoolHandle { shared }
    }

    /// Runs `op.call()` on a pool thread; the result comes back to this core under `key`.
    pub(crate) fn run_op<T: OpCode>(&self, op: &mut T, key: u64) {
        let ptr = OpPtr((op as *mut T).cast());
        let call: unsafe fn(*mut ()) -> Result<usize, Errno> = call_op::<T>;
        let shared = self.shared.clone();
        execute(Box::new(move || {
            let ptr = ptr;
            // SAFETY: see OpPtr: the op is alive and untouched by its core until this
            // completion is delivered.
            let res = unsafe { call(ptr.0) };
            shared.push_completion(key, res);
        }));
    }
}

/// Runs `f` on the blocking pool; the handle resolves on the calling core (or anywhere).
/// A panic in `f` comes back as `JoinError::Panicked`.
pub fn spawn_blocking<F, T>(f: F) -> JoinHandle<T>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    let inner = JoinInner::new();
    let done = inner.clone();
    execute(Box::new(move || {
        let r = catch_unwind(AssertUnwindSafe(f)).map_err(JoinError::Panicked);
        done.finish(r);
    }));
    JoinHandle::new(inner, None)
}
