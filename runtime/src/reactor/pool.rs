//! The blocking pool: a few threads shared by every core, for work that has no readiness
//! (regular files on the epoll reactor, ops io_uring lacks) and for `spawn_blocking`. An op's
//! result goes back to the reactor of the core that started it, through its [`Unparker`].

use super::in_flight::OpKey;
use super::unpark::Unparker;
use crate::op::OpCode;
use crate::sys::Errno;
use std::collections::VecDeque;
use std::io;
use std::ptr::NonNull;
use std::sync::{Arc, Condvar, Mutex, OnceLock};
use std::time::Duration;

/// The most threads the pool runs at once.
const MAX_THREADS: usize = 32;
/// An idle thread exits after this long.
const IDLE: Duration = Duration::from_secs(10);

/// A job runs its work and returns what delivers the result. The worker counts itself
/// available *before* delivering: the caller may submit its next job the instant it sees the
/// result, and must then find a worker about to look at the queue rather than start a thread.
pub(crate) type Job = Box<dyn FnOnce() -> Deliver + Send>;
pub(crate) type Deliver = Box<dyn FnOnce() + Send>;

struct Pool {
    state: Mutex<PoolState>,
    work: Condvar,
}

struct PoolState {
    queue: VecDeque<Job>,
    threads: usize,
    /// Workers not running a job and not yet claimed by a submitter: waiting for a job, or
    /// about to look at the queue.
    idle: usize,
    /// Idle workers a submitter has claimed (and notified) for a queued job.
    claimed: usize,
}

impl PoolState {
    /// A worker that was counted idle takes a job: it settles a claim if there is one, else
    /// leaves the idle count.
    fn take_as_idle(&mut self) -> Option<Job> {
        let job = self.queue.pop_front()?;
        if self.claimed > 0 {
            self.claimed -= 1;
        } else {
            self.idle -= 1;
        }
        Some(job)
    }
}

fn pool() -> &'static Pool {
    static POOL: OnceLock<Pool> = OnceLock::new();
    POOL.get_or_init(|| Pool {
        state: Mutex::new(PoolState {
            queue: VecDeque::new(),
            threads: 0,
            idle: 0,
            claimed: 0,
        }),
        work: Condvar::new(),
    })
}

/// Queues `job`. Fails (and drops the job) only if no pool thread exists and none can be
/// made: the job would wait forever.
pub(crate) fn execute(job: Job) -> io::Result<()> {
    let p = pool();
    let mut s = p.state.lock().unwrap_or_else(|e| e.into_inner());
    s.queue.push_back(job);
    if s.idle > 0 {
        // Claim an idle worker for this job, so the next job does not count on it too.
        s.idle -= 1;
        s.claimed += 1;
        p.work.notify_one();
        return Ok(());
    }
    if s.threads < MAX_THREADS {
        s.threads += 1;
        let spawned = std::thread::Builder::new()
            .name("coreloop-blocking".into())
            .spawn(worker);
        if let Err(e) = spawned {
            s.threads -= 1;
            if s.threads == 0 {
                // No thread will ever take the job: say so rather than hang its caller.
                s.queue.pop_back();
                return Err(io::Error::new(
                    e.kind(),
                    format!("coreloop: no blocking-pool thread could be started: {e}"),
                ));
            }
            // Otherwise the job waits for a running thread.
        }
    }
    Ok(())
}

fn worker() {
    crate::sys::inherit_plan(true);
    let p = pool();
    let mut s = p.state.lock().unwrap_or_else(|e| e.into_inner());
    // A new worker was spawned for a queued job and is not counted idle: it takes a job
    // without touching the counts. If another worker took that job first, it becomes idle.
    let mut next = s.queue.pop_front();
    if next.is_none() {
        s.idle += 1;
    }
    loop {
        let job = match next.take() {
            Some(job) => job,
            None => {
                // Idle: wait for a job (a claim, or one found on the way), or time out.
                loop {
                    if let Some(job) = s.take_as_idle() {
                        break job;
                    }
                    let (guard, timeout) = p
                        .work
                        .wait_timeout(s, IDLE)
                        .unwrap_or_else(|e| e.into_inner());
                    s = guard;
                    if timeout.timed_out() && s.queue.is_empty() {
                        // A claim that found no job (another worker took it) is ours to drop.
                        if s.claimed > 0 {
                            s.claimed -= 1;
                        } else {
                            s.idle -= 1;
                        }
                        s.threads -= 1;
                        return;
                    }
                }
            }
        };
        drop(s);
        // A job never unwinds into the pool: ops return errors, closures are caught.
        let deliver = job();
        // Count ourselves idle before delivering: the caller may submit its next job the
        // instant it sees this result, and should find us rather than start a thread.
        p.state.lock().unwrap_or_else(|e| e.into_inner()).idle += 1;
        deliver();
        s = p.state.lock().unwrap_or_else(|e| e.into_inner());
    }
}

/// A raw pointer to an op that a pool thread may use.
struct OpPtr(*mut ());

// SAFETY: the op behind it (from `Box::into_raw`) is left alone by its core while in flight,
// and its `call` touches only plain data (the `OpCode` contract for pool ops); it is turned
// back into a `Box` only after the completion this job sends.
unsafe impl Send for OpPtr {}

/// # Safety
/// `p` must point to a live `T` that no one else uses during the call.
unsafe fn call_op<T: OpCode>(p: *mut ()) -> Result<usize, Errno> {
    // SAFETY: the caller's promise.
    unsafe { (*p.cast::<T>()).call() }
}

/// Runs `op.call()` on a pool thread; the result comes back to `unparker`'s core under `key`.
///
/// # Safety
/// `op` must come from `Box::into_raw` and stay untouched (not read, moved or freed) until
/// the completion for `key` has been taken from `unparker`.
pub(crate) unsafe fn run_op<T: OpCode>(
    op: NonNull<T>,
    key: OpKey,
    unparker: &Arc<Unparker>,
) -> io::Result<()> {
    let ptr = OpPtr(op.as_ptr().cast());
    let call: unsafe fn(*mut ()) -> Result<usize, Errno> = call_op::<T>;
    let unparker = unparker.clone();
    execute(Box::new(move || {
        let ptr = ptr;
        // SAFETY: see OpPtr: the op is alive and untouched by its core until this completion
        // is delivered.
        let res = unsafe { call(ptr.0) };
        Box::new(move || unparker.push_completion(key, res))
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state(queue: usize, idle: usize, claimed: usize) -> PoolState {
        let mut q: VecDeque<Job> = VecDeque::new();
        for _ in 0..queue {
            q.push_back(Box::new(|| -> Deliver { Box::new(|| {}) }));
        }
        PoolState {
            queue: q,
            threads: idle + claimed,
            idle,
            claimed,
        }
    }

    #[test]
    fn a_worker_taking_a_job_settles_a_claim_first() {
        // A submitter claimed one idle worker for its job; another idle worker takes the job
        // first: the claim is settled, and the claimed worker is idle again when it wakes.
        let mut s = state(1, 1, 1);
        assert!(s.take_as_idle().is_some());
        assert_eq!((s.idle, s.claimed), (1, 0));
    }

    #[test]
    fn a_worker_taking_a_job_unclaimed_leaves_the_idle_count() {
        let mut s = state(1, 2, 0);
        assert!(s.take_as_idle().is_some());
        assert_eq!((s.idle, s.claimed), (1, 0));
    }

    #[test]
    fn no_job_no_change() {
        let mut s = state(0, 2, 1);
        assert!(s.take_as_idle().is_none());
        assert_eq!((s.idle, s.claimed), (2, 1));
    }
}
