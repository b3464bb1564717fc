//! Fault injection (feature `fault-injection`; release builds never enable it).
//!
//! Each thread may carry a [`Plan`]: a seeded list of [`Rule`]s. Before every syscall the
//! layer makes on that thread, the first rule that matches the syscall number may
//!
//! - fail the call with an errno **without making it** (no side effect happens), or
//! - shorten its length argument before the real call (`read`, `write`, `pread64`, `pwrite64`,
//!   `sendto`, `recvfrom`: the byte count; `readv`, `writev`, `preadv`, `pwritev`: the iovec
//!   count, down to one), so the kernel really moves fewer bytes and the stream stays intact.
//!   Never on datagram or seqpacket sockets: a short count there would cut a message, which
//!   the kernel never does.
//!
//! The layer also counts every call per thread and per number ([`calls`]), so tests can see
//! that each call of a round trip passed through it. A [`PlanGuard`] removes the plan when
//! dropped and, if the thread is panicking, prints the seed so the failure can be replayed.

use super::arch::nr;
use super::errno::Errno;
use std::cell::{Cell, RefCell};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

/// What a matching rule does to a call.
#[derive(Clone, Copy, Debug)]
pub enum Action {
    /// Fail the call with this errno, without making it.
    Fail(Errno),
    /// Shorten the length argument to a random value in `1..=len` (a short count). Rules with
    /// this action match only syscalls that have a length argument.
    Short,
}

/// One rule of a plan.
#[derive(Clone, Debug)]
pub struct Rule {
    syscalls: Vec<usize>,
    action: Action,
    per_million: u32,
    remaining: Option<u64>,
}

impl Rule {
    /// A rule for these syscall numbers (see `sys::nr`); an empty list matches every syscall.
    pub fn new(syscalls: &[usize], action: Action) -> Rule {
        Rule {
            syscalls: syscalls.to_vec(),
            action,
            per_million: 1_000_000,
            remaining: None,
        }
    }

    /// Applies to a matching call with this probability (0.0..=1.0), drawn from the seed.
    pub fn probability(mut self, p: f64) -> Rule {
        self.per_million = (p.clamp(0.0, 1.0) * 1_000_000.0) as u32;
        self
    }

    /// Applies at most `n` times, then stops matching.
    pub fn times(mut self, n: u64) -> Rule {
        self.remaining = Some(n);
        self
    }
}

/// A seeded set of rules for one thread.
#[derive(Clone, Debug)]
pub struct Plan {
    seed: u64,
    rules: Vec<Rule>,
    /// Taken on from the process plan: pauses while any thread has paused its own.
    inherited: bool,
}

impl Plan {
    /// An empty plan whose random choices (which calls fail, how short a count is) follow `seed`.
    pub fn new(seed: u64) -> Plan {
        Plan {
            seed,
            rules: Vec::new(),
            inherited: false,
        }
    }

    /// Adds `rule`; rules are tried in order.
    pub fn rule(mut self, rule: Rule) -> Plan {
        self.rules.push(rule);
        self
    }

    /// The seed: print it to replay a failure.
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// Installs the plan on the current thread until the guard drops.
    pub fn install(self) -> PlanGuard {
        let seed = self.seed;
        RNG.with(|r| r.set(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1));
        PLAN.with(|p| *p.borrow_mut() = Some(self));
        PlanGuard { seed }
    }
}

/// Removes the thread's plan on drop; prints the seed if the thread is panicking.
#[must_use = "the plan is removed when the guard drops"]
pub struct PlanGuard {
    seed: u64,
}

impl PlanGuard {
    /// The installed plan's seed.
    pub fn seed(&self) -> u64 {
        self.seed
    }
}

impl Drop for PlanGuard {
    fn drop(&mut self) {
        PLAN.with(|p| p.borrow_mut().take());
        if std::thread::panicking() {
            eprintln!("fault injection: the failing run used seed {}", self.seed);
        }
    }
}

/// Takes the thread's plan away until the guard drops: for a test step that checks the exact
/// result of one syscall, which a plan may legitimately change.
pub fn pause() -> Paused {
    GLOBAL_PAUSES.fetch_add(1, Ordering::SeqCst);
    Paused {
        plan: PLAN.with(|p| p.borrow_mut().take()),
    }
}

/// The plan every other thread that makes syscalls for coreloop takes on (the cores of a
/// multi-core runtime, the blocking pool's threads), each with its own seed derived from this
/// one. `None` removes it (threads that already took it keep theirs).
pub fn set_process_plan(plan: Option<Plan>) {
    *PROCESS_PLAN.lock().unwrap_or_else(|e| e.into_inner()) = plan;
}

/// A thread that works for coreloop (a core, a pool thread) calls this when it starts: it takes
/// on the process plan, if one is set. Its faults pause while any thread has paused its own
/// plan ([`pause`]), since that thread's exact step may run here. A blocking-pool thread
/// (`blocking`) keeps only the `EINTR` rules: its calls are blocking calls on regular files,
/// for which `EAGAIN` or a short count are not something the kernel does.
pub(crate) fn inherit_plan(blocking: bool) {
    static THREADS: AtomicU64 = AtomicU64::new(1);
    let template = PROCESS_PLAN
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .clone();
    if let Some(mut plan) = template {
        let n = THREADS.fetch_add(1, Ordering::Relaxed);
        plan.seed ^= n.wrapping_mul(0x9E37_79B9_7F4A_7C15);
        plan.inherited = true;
        if blocking {
            plan.rules
                .retain(|r| matches!(r.action, Action::Fail(Errno::EINTR)));
        }
        let seed = plan.seed;
        let _ = RNG.try_with(|r| r.set(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1));
        let _ = PLAN.try_with(|p| *p.borrow_mut() = Some(plan));
    }
}

static PROCESS_PLAN: Mutex<Option<Plan>> = Mutex::new(None);
/// How many `pause` guards are alive in the process.
static GLOBAL_PAUSES: AtomicUsize = AtomicUsize::new(0);

/// Puts the paused plan back on drop.
#[must_use = "the plan comes back when the guard drops"]
pub struct Paused {
    plan: Option<Plan>,
}

impl Drop for Paused {
    fn drop(&mut self) {
        GLOBAL_PAUSES.fetch_sub(1, Ordering::SeqCst);
        if let Some(plan) = self.plan.take() {
            let _ = PLAN.try_with(|p| *p.borrow_mut() = Some(plan));
        }
    }
}

/// A seed for a test: `CORELOOP_FAULT_SEED` if set (to replay a failure), else fresh.
pub fn seed_from_env() -> u64 {
    super::seed_hint()
}

/// How many times this thread made syscall `nr` through the layer.
pub fn calls(nr: usize) -> u64 {
    COUNTS.with(|c| c.borrow().get(nr).copied().unwrap_or(0))
}

/// How many times this thread had a call failed or shortened by its plan.
pub fn injected() -> u64 {
    INJECTED.with(|c| c.get())
}

/// Sets this thread's call counts to zero.
pub fn reset_calls() {
    COUNTS.with(|c| c.borrow_mut().iter_mut().for_each(|n| *n = 0));
    INJECTED.with(|c| c.set(0));
}

const MAX_NR: usize = 512;

/// Not a syscall: the number a plan's rule names to fault io_uring ops themselves. An op the
/// plan fails this way is not submitted; the reactor reports the errno as the op's result
/// (the kernel really did nothing, as for a faulted syscall).
pub const URING_OP: usize = MAX_NR - 1;

/// Asks the thread's plan whether an io_uring op about to be submitted fails instead.
pub(crate) fn uring_op_fault() -> Option<Errno> {
    intercept(URING_OP, &mut [0])
}

thread_local! {
    static PLAN: RefCell<Option<Plan>> = const { RefCell::new(None) };
    static RNG: Cell<u64> = const { Cell::new(1) };
    static COUNTS: RefCell<Vec<u64>> = RefCell::new(vec![0; MAX_NR]);
    static INJECTED: Cell<u64> = const { Cell::new(0) };
    static LAST_INJECTED: Cell<bool> = const { Cell::new(false) };
}

/// Whether this thread's most recent syscall through the layer was failed or shortened by the
/// plan. Such a result did not come from the kernel, so it says nothing about readiness: the
/// epoll reactor does not clear an fd's readiness on an injected `EAGAIN` or short count
/// (that would wait for an edge the kernel has no reason to send).
pub(crate) fn last_call_injected() -> bool {
    LAST_INJECTED.try_with(|c| c.get()).unwrap_or(false)
}

fn next_random() -> u64 {
    RNG.with(|r| {
        // xorshift64*: small, seeded, good enough to pick faults.
        let mut x = r.get();
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        r.set(x);
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    })
}

/// Which argument is the length that [`Action::Short`] may shorten, if the call has one.
fn length_arg(n: usize) -> Option<usize> {
    match n {
        nr::READ | nr::WRITE | nr::PREAD64 | nr::PWRITE64 | nr::SENDTO | nr::RECVFROM => Some(2),
        nr::READV | nr::WRITEV | nr::PREADV | nr::PWRITEV => Some(2),
        _ => None,
    }
}

/// Whether `fd` is a datagram or seqpacket socket, whose messages a short count would cut:
/// the kernel never returns a short count there, so neither does the plan. Asked with a raw
/// syscall that the plan does not see.
fn keeps_messages(fd: usize) -> bool {
    const SOL_SOCKET: usize = 1;
    const SO_TYPE: usize = 3;
    const SOCK_STREAM: i32 = 1;
    let mut ty: i32 = 0;
    let mut len: u32 = 4;
    // SAFETY: ty and len are live locals of the sizes getsockopt writes.
    let r = unsafe {
        super::arch::syscall5(
            nr::GETSOCKOPT,
            fd,
            SOL_SOCKET,
            SO_TYPE,
            &mut ty as *mut i32 as usize,
            &mut len as *mut u32 as usize,
        )
    };
    r == 0 && ty != SOCK_STREAM
}

pub(crate) fn intercept(n: usize, args: &mut [usize]) -> Option<Errno> {
    // try_with: a syscall made while thread-locals are being torn down is simply not counted.
    let _ = COUNTS.try_with(|c| {
        if let Some(slot) = c.borrow_mut().get_mut(n) {
            *slot += 1;
        }
    });
    let _ = LAST_INJECTED.try_with(|c| c.set(false));
    let action = PLAN
        .try_with(|p| {
            let mut p = p.borrow_mut();
            let plan = p.as_mut()?;
            if plan.inherited && GLOBAL_PAUSES.load(Ordering::Relaxed) > 0 {
                return None;
            }
            for rule in plan.rules.iter_mut() {
                if !rule.syscalls.is_empty() && !rule.syscalls.contains(&n) {
                    continue;
                }
                if matches!(rule.action, Action::Short) && length_arg(n).is_none() {
                    continue;
                }
                if matches!(rule.action, Action::Short) && keeps_messages(args[0]) {
                    continue;
                }
                if rule.remaining == Some(0) {
                    continue;
                }
                if (next_random() % 1_000_000) as u32 >= rule.per_million {
                    continue;
                }
                if let Some(r) = rule.remaining.as_mut() {
                    *r -= 1;
                }
                return Some(rule.action);
            }
            None
        })
        .ok()
        .flatten()?;
    let _ = INJECTED.try_with(|c| c.set(c.get() + 1));
    let _ = LAST_INJECTED.try_with(|c| c.set(true));
    match action {
        Action::Fail(e) => Some(e),
        Action::Short => {
            let i = length_arg(n)?;
            let len = args[i];
            if len > 1 {
                args[i] = 1 + (next_random() as usize % len);
            }
            None
        }
    }
}
