//! `Runtime` and its `Builder`.

use super::core::Core;
use super::shared::Shared;
use crate::reactor::unpark::Unparker;
use crate::reactor::{Choice, PoolSettings, Reactor, ReactorKind, Settings, uring};
use crate::sys::sched::{self, CpuSet};
use std::future::Future;
use std::io;
use std::marker::PhantomData;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::Poll;
use std::time::Duration;

/// What a core is told when [`Runtime::run`] starts it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CoreInfo {
    /// 0-based index of this core in the runtime.
    pub index: usize,
    /// How many cores the runtime runs.
    pub cores: usize,
    /// The CPU this core is pinned to, if pinning was asked for.
    pub cpu: Option<usize>,
    /// The reactor this core runs (under `auto`, each core falls back on its own, and says
    /// why through the fallback hook).
    pub reactor: ReactorKind,
}

/// Settings for a [`Runtime`].
///
/// # Examples
///
/// ```
/// use coreloop_runtime::{ReactorKind, Runtime};
///
/// // `CORELOOP_REACTOR=uring|epoll|auto` overrides the reactor chosen here.
/// let rt = Runtime::builder().cores(2).reactor(ReactorKind::Auto).build()?;
/// // The thread-per-core idiom: one copy of the future per core, outputs in core order.
/// let cores = rt.run(|core| async move { (core.index, core.cores) })?;
/// assert_eq!(cores, [(0, 2), (1, 2)]);
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct Builder {
    cores: usize,
    per_cpu: bool,
    pin: bool,
    reactor: ReactorKind,
    ring_entries: u32,
    cq_entries: Option<u32>,
    epoll_events: usize,
    shutdown_timeout: Duration,
    env_override: bool,
    op_latency: bool,
    pool: PoolSettings,
}

impl Default for Builder {
    fn default() -> Builder {
        Builder {
            cores: 1,
            per_cpu: false,
            pin: false,
            reactor: ReactorKind::Auto,
            ring_entries: 256,
            cq_entries: None,
            epoll_events: 1024,
            shutdown_timeout: Duration::from_secs(5),
            env_override: true,
            op_latency: false,
            pool: PoolSettings::default(),
        }
    }
}

impl Builder {
    /// How many cores [`Runtime::run`] starts (default 1; 1..=1024). See
    /// [`one_core_per_cpu`](Builder::one_core_per_cpu) for as many as there are CPUs.
    ///
    /// Only [`Runtime::run`] starts them: [`Runtime::block_on`] runs core 0 alone, on the
    /// calling thread, so [`spawn_on`](crate::spawn_on) from it reaches no other core.
    pub fn cores(mut self, n: usize) -> Builder {
        self.cores = n;
        self.per_cpu = false;
        self
    }

    /// One core per CPU this process may run on (its affinity mask, `sched_getaffinity`:
    /// what `taskset` or a cgroup cpuset allows, not every CPU of the machine), counted when
    /// the runtime is built. The thread-per-core counterpart of tokio's default
    /// `worker_threads`. Overrides [`cores`](Builder::cores), and is overridden by it.
    ///
    /// ```
    /// let rt = coreloop_runtime::Runtime::builder().one_core_per_cpu().build().unwrap();
    /// assert!(rt.cores() >= 1);
    /// ```
    pub fn one_core_per_cpu(mut self) -> Builder {
        self.per_cpu = true;
        self
    }

    /// Pin core `i` to the `i`-th CPU this process may run on (default off).
    pub fn pin(mut self, on: bool) -> Builder {
        self.pin = on;
        self
    }

    /// Which reactor to run (default `Auto`). `CORELOOP_REACTOR` overrides it.
    pub fn reactor(mut self, kind: ReactorKind) -> Builder {
        self.reactor = kind;
        self
    }

    /// io_uring submission queue entries per core (a power of two, 1..=32768; default 256).
    pub fn ring_entries(mut self, n: u32) -> Builder {
        self.ring_entries = n;
        self
    }

    /// io_uring completion queue entries per core (a power of two, at least `ring_entries`;
    /// default twice `ring_entries`).
    pub fn cq_entries(mut self, n: u32) -> Builder {
        self.cq_entries = Some(n);
        self
    }

    /// How many events one epoll wait collects at most (default 1024).
    pub fn epoll_events(mut self, n: usize) -> Builder {
        self.epoll_events = n;
        self
    }

    /// How long shutting a core down waits for the kernel to finish in-flight ops (default 5 s).
    pub fn shutdown_timeout(mut self, d: Duration) -> Builder {
        self.shutdown_timeout = d;
        self
    }

    /// Records per-op latency (start to completion, per op kind, per core) in HDR histograms,
    /// read with [`op_latency`](crate::op_latency) (default off: then it costs one branch
    /// per op). `CORELOOP_OP_LATENCY=1` turns it on too, unless
    /// [`env_override`](Builder::env_override) is off.
    pub fn op_latency(mut self, on: bool) -> Builder {
        self.op_latency = on;
        self
    }

    /// Each core's pool of read buffers for pooled reads (`TcpStream::read_pooled`): `buffers`
    /// buffers of `buf_size` bytes (default 512 of 4 KiB; 1..=32,768 buffers). The pool is made
    /// on a core's first pooled read, so a program that never reads that way pays nothing. A
    /// pooled read returns at most `buf_size` bytes; when every buffer is taken, reads wait
    /// for one to come back (counted in `BufPoolStats::exhausted`).
    pub fn buf_pool(mut self, buffers: usize, buf_size: usize) -> Builder {
        self.pool = PoolSettings { buffers, buf_size };
        self
    }

    /// Whether `CORELOOP_REACTOR` may override [`reactor`](Builder::reactor) (default true;
    /// tests that must run one reactor turn it off).
    pub fn env_override(mut self, on: bool) -> Builder {
        self.env_override = on;
        self
    }

    /// Checks the settings, decides the reactor (trying io_uring for `uring`/`auto`), and sets
    /// up core 0 on this thread for [`Runtime::block_on`].
    fn settings(&self) -> Settings {
        Settings {
            ring_entries: self.ring_entries,
            cq_entries: self.cq_entries,
            epoll_events: self.epoll_events,
            op_latency: self.op_latency,
            pool: self.pool,
        }
    }

    /// Builds the runtime and core 0's reactor on this thread; the other cores' threads start
    /// with [`Runtime::run`]. `CORELOOP_REACTOR`, if set, overrides the reactor chosen here.
    ///
    /// # Errors
    /// `InvalidInput` for a setting out of range (`cores`, `ring_entries`, `cq_entries`,
    /// `epoll_events`), a bad `CORELOOP_REACTOR`, or pinning more cores than the process may
    /// use CPUs; otherwise the error from setting up the reactor (with `uring` asked for, the
    /// kernel's refusal, explained; `auto` falls back to epoll instead).
    pub fn build(mut self) -> io::Result<Runtime> {
        let invalid = |msg: String| io::Error::new(io::ErrorKind::InvalidInput, msg);
        if self.per_cpu {
            self.cores = sched::sched_getaffinity(0)?.count().clamp(1, 1024);
        }
        if self.cores == 0 || self.cores > 1024 {
            return Err(invalid(format!(
                "cores must be 1..=1024, not {} (one_core_per_cpu() asks for one per CPU)",
                self.cores
            )));
        }
        if !self.ring_entries.is_power_of_two() || self.ring_entries > 32768 {
            return Err(invalid(format!(
                "ring_entries must be a power of two up to 32768, not {}",
                self.ring_entries
            )));
        }
        if let Some(cq) = self.cq_entries {
            if !cq.is_power_of_two() || cq < self.ring_entries || cq > 65536 {
                return Err(invalid(format!(
                    "cq_entries must be a power of two from ring_entries ({}) to 65536, not {cq}",
                    self.ring_entries
                )));
            }
        }
        self.pool.validate()?;
        if self.epoll_events == 0 {
            return Err(invalid("epoll_events must be at least 1".into()));
        }
        if self.env_override {
            if let Some(kind) = ReactorKind::from_env()? {
                self.reactor = kind;
            }
            if std::env::var_os("CORELOOP_OP_LATENCY").is_some_and(|v| v != "0" && !v.is_empty()) {
                self.op_latency = true;
            }
        }
        let cpus = if self.pin {
            let allowed: Vec<usize> = sched::sched_getaffinity(0)?.cpus().collect();
            if allowed.len() < self.cores {
                return Err(invalid(format!(
                    "pinning {} cores needs as many CPUs, but this process may use {} ({allowed:?})",
                    self.cores,
                    allowed.len()
                )));
            }
            Some(allowed)
        } else {
            None
        };
        let unparker = Arc::new(Unparker::new()?);
        let shared = Shared::new(0, unparker.clone());
        let siblings: Arc<[Arc<Shared>]> = Arc::from(vec![shared.clone()]);
        let (reactor, choice) = Reactor::build(self.reactor, &self.settings(), unparker)?;
        let decided = choice.running;
        let core = Core::new(shared, siblings, reactor, self.shutdown_timeout);
        Ok(Runtime {
            cfg: self,
            decided,
            choice,
            core,
            cpus,
            _not_send: PhantomData,
        })
    }
}

/// A coreloop runtime: core 0 on the thread that built it (for [`block_on`](Runtime::block_on)),
/// and [`run`](Runtime::run) for one copy of a future per core.
///
/// # Examples
///
/// ```
/// use coreloop_runtime::{Runtime, spawn};
///
/// let rt = Runtime::new()?; // one core, io_uring if the kernel allows it, else epoll
/// let answer = rt.block_on(async {
///     let task = spawn(async { 40 + 2 });
///     task.await.expect("the task did not panic")
/// });
/// assert_eq!(answer, 42);
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct Runtime {
    cfg: Builder,
    decided: ReactorKind,
    choice: Choice,
    core: Core,
    cpus: Option<Vec<usize>>,
    _not_send: PhantomData<*const ()>,
}

impl Runtime {
    /// A [`Builder`] with the defaults: one core, reactor `auto`, no pinning.
    pub fn builder() -> Builder {
        Builder::default()
    }

    /// A one-core runtime with the default settings (`auto` reactor).
    pub fn new() -> io::Result<Runtime> {
        Builder::default().build()
    }

    /// How many cores [`run`](Runtime::run) starts ([`block_on`](Runtime::block_on) runs
    /// core 0 alone).
    pub fn cores(&self) -> usize {
        self.cfg.cores
    }

    /// The reactor this runtime runs (after any fallback).
    pub fn reactor(&self) -> ReactorKind {
        self.decided
    }

    /// What was asked for, what runs, and why.
    pub fn choice(&self) -> &Choice {
        &self.choice
    }

    /// The io_uring set-up of core 0, if it runs io_uring.
    pub fn uring_setup(&self) -> Option<uring::Setup> {
        self.core.reactor.uring_setup()
    }

    /// Runs `fut` on this thread (core 0) until it finishes, with every task it spawns.
    /// Tasks still alive afterwards stay on the core for the next `block_on`.
    ///
    /// Core 0 runs alone here, whatever [`Builder::cores`] says: the other cores are threads
    /// that only [`run`](Runtime::run) starts (and stops when it returns). So inside
    /// `block_on`, [`spawn_on`](crate::spawn_on)`(0, ..)` works and `spawn_on(1, ..)` fails
    /// with an error that says so; to send work between cores, do it inside `run`.
    pub fn block_on<F: Future>(&self, fut: F) -> F::Output {
        match self.core.block_on(fut) {
            Ok(v) => v,
            // The reactor itself failed (its wait returned an error that is not EINTR): the
            // core cannot go on.
            Err(e) => panic!("coreloop: the reactor failed: {e}"),
        }
    }

    /// What core 0's reactor has done so far.
    pub fn stats(&self) -> crate::reactor::ReactorStats {
        self.core.reactor.stats().unwrap_or_default()
    }

    /// Starts one thread per core, each with its own reactor, runs `f(info)` on every core
    /// and returns the outputs in core order. A core whose future finishes early keeps
    /// running its tasks (and whatever `spawn_on` sends it) until every core's future has
    /// finished.
    ///
    /// A core that fails — cannot start (pinning or reactor set-up refused) or panics — stops
    /// the whole runtime at once: the other cores drop their futures and tasks, and the error
    /// names the failed core and why. (Use [`try_run`](Runtime::try_run) to stop as well when
    /// a core's future returns an error.)
    ///
    /// # Panics
    /// If called from inside a coreloop runtime (it would block that core).
    pub fn run<F, Fut>(&self, f: F) -> io::Result<Vec<Fut::Output>>
    where
        F: Fn(CoreInfo) -> Fut + Send + Sync,
        Fut: Future,
        Fut::Output: Send,
    {
        self.run_cores(f, |_| None)
    }

    /// As [`run`](Runtime::run), for futures that return a `Result`: the first core whose
    /// future returns an error stops every core, and that error (with its core) is returned.
    pub fn try_run<F, Fut, T, E>(&self, f: F) -> io::Result<Vec<T>>
    where
        F: Fn(CoreInfo) -> Fut + Send + Sync,
        Fut: Future<Output = Result<T, E>>,
        T: Send,
        E: std::fmt::Display + Send,
    {
        let outs = self.run_cores(f, |out: &Result<T, E>| {
            out.as_ref().err().map(|e| e.to_string())
        })?;
        outs.into_iter()
            .enumerate()
            .map(|(i, r)| r.map_err(|e| io::Error::other(format!("core {i}: {e}"))))
            .collect()
    }

    fn run_cores<F, Fut>(
        &self,
        f: F,
        failed: impl Fn(&Fut::Output) -> Option<String> + Sync,
    ) -> io::Result<Vec<Fut::Output>>
    where
        F: Fn(CoreInfo) -> Fut + Send + Sync,
        Fut: Future,
        Fut::Output: Send,
    {
        assert!(
            crate::executor::core::with_current(|_| ()).is_none(),
            "coreloop: cannot start a runtime from within a runtime (Runtime::run was called \
             from a core's thread); run it from a thread of its own"
        );
        let n = self.cfg.cores;
        let unparkers: Vec<Arc<Unparker>> = (0..n)
            .map(|_| Unparker::new().map(Arc::new))
            .collect::<io::Result<_>>()?;
        let siblings: Arc<[Arc<Shared>]> = unparkers
            .iter()
            .enumerate()
            .map(|(i, u)| Shared::new(i, u.clone()))
            .collect::<Vec<_>>()
            .into();
        let f = &f;
        let failed = &failed;
        let barrier = &Barrier::new(n);
        let stop = &Stop::new(siblings.clone());
        let cfg = &self.cfg;
        let settings = &self.cfg.settings();
        // Every core asks for what core 0 was asked for, and falls back on its own under auto.
        let kind = cfg.reactor;
        std::thread::scope(|scope| {
            let mut handles = Vec::with_capacity(n);
            for (i, unparker) in unparkers.into_iter().enumerate() {
                let siblings = siblings.clone();
                let cpu = self.cpus.as_ref().map(|c| c[i]);
                let spawned = std::thread::Builder::new()
                    .name(format!("coreloop-core-{i}"))
                    .spawn_scoped(scope, move || -> Result<Fut::Output, String> {
                        // However this core ends, it counts as arrived, so no other core waits
                        // for it forever.
                        let arrival = barrier.arriving();
                        crate::sys::inherit_plan(false);
                        let start = || -> io::Result<Core> {
                            if let Some(cpu) = cpu {
                                let mut set = CpuSet::new();
                                set.set(cpu);
                                sched::sched_setaffinity(0, &set)?;
                            }
                            let shared = siblings[i].clone();
                            let (reactor, _) = Reactor::build(kind, settings, unparker)?;
                            Ok(Core::new(shared, siblings, reactor, cfg.shutdown_timeout))
                        };
                        let core = match start() {
                            Ok(core) => core,
                            Err(e) => {
                                let msg = format!("core {i} could not start: {e}");
                                stop.fail(msg.clone());
                                return Err(msg);
                            }
                        };
                        let info = CoreInfo {
                            index: i,
                            cores: n,
                            cpu,
                            reactor: core.reactor.kind(),
                        };
                        let ran = catch_unwind(AssertUnwindSafe(|| {
                            core.block_on(async {
                                let out = stop.unless_stopped(f(info)).await?;
                                if let Some(why) = failed(&out) {
                                    stop.fail(format!("core {i}: {why}"));
                                    return Some(out);
                                }
                                arrival.arrive();
                                stop.unless_stopped(arrival.wait()).await?;
                                Some(out)
                            })
                        }));
                        let out = match ran {
                            Ok(Ok(Some(out))) => Ok(out),
                            Ok(Ok(None)) => Err(format!("core {i} stopped: {}", stop.reason())),
                            Ok(Err(e)) => Err(format!("core {i}: the reactor failed: {e}")),
                            Err(p) => Err(format!("core {i} panicked: {}", panic_message(&*p))),
                        };
                        if let Err(msg) = &out {
                            stop.fail(msg.clone());
                        }
                        drop(core);
                        out
                    });
                match spawned {
                    Ok(h) => handles.push(h),
                    Err(e) => {
                        stop.fail(format!("core {i}: no thread could be started: {e}"));
                        // The cores not started count as arrived.
                        for _ in i..n {
                            barrier.arrive_one();
                        }
                        break;
                    }
                }
            }
            let results: Vec<_> = handles
                .into_iter()
                .map(|h| h.join().unwrap_or_else(|p| Err(panic_message(&*p))))
                .collect();
            if let Some(first) = stop.first_failure() {
                return Err(io::Error::other(first));
            }
            results
                .into_iter()
                .collect::<Result<Vec<_>, String>>()
                .map_err(io::Error::other)
        })
    }
}

fn panic_message(p: &(dyn std::any::Any + Send)) -> String {
    p.downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| p.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "(non-string panic payload)".into())
}

/// Stops every core of [`Runtime::run`] at once when one fails: it wakes every core's
/// `block_on` future, which sees the flag.
struct Stop {
    stopped: AtomicBool,
    first: Mutex<Option<String>>,
    cores: Arc<[Arc<Shared>]>,
}

impl Stop {
    fn new(cores: Arc<[Arc<Shared>]>) -> Stop {
        Stop {
            stopped: AtomicBool::new(false),
            first: Mutex::new(None),
            cores,
        }
    }

    /// Records the first failure and wakes every core's `block_on` future.
    fn fail(&self, why: String) {
        {
            let mut first = self.first.lock().unwrap_or_else(|e| e.into_inner());
            if first.is_none() {
                *first = Some(why);
            }
            self.stopped.store(true, Ordering::Release);
        }
        for core in self.cores.iter() {
            core.wake_main();
        }
    }

    fn first_failure(&self) -> Option<String> {
        self.first.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    fn reason(&self) -> String {
        self.first_failure()
            .unwrap_or_else(|| "the runtime stopped".into())
    }

    /// `fut`'s output, or `None` once the runtime is stopped. Only for a core's `block_on`
    /// future, which `fail` wakes.
    async fn unless_stopped<T>(&self, fut: impl Future<Output = T>) -> Option<T> {
        let mut fut = std::pin::pin!(fut);
        std::future::poll_fn(|cx| {
            if self.stopped.load(Ordering::Acquire) {
                return Poll::Ready(None);
            }
            fut.as_mut().poll(cx).map(Some)
        })
        .await
    }
}

/// Keeps every core of [`Runtime::run`] up until all their futures have finished.
struct Barrier {
    state: std::sync::Mutex<(usize, Vec<std::task::Waker>)>,
}

impl Barrier {
    fn new(n: usize) -> Barrier {
        Barrier {
            state: std::sync::Mutex::new((n, Vec::new())),
        }
    }

    fn arrive(&self) {
        let wakers = {
            let mut s = self.state.lock().unwrap_or_else(|e| e.into_inner());
            s.0 = s.0.saturating_sub(1);
            if s.0 > 0 {
                return;
            }
            std::mem::take(&mut s.1)
        };
        for w in wakers {
            w.wake();
        }
    }

    /// A guard that arrives when dropped (a core that failed), unless [`Arrival::arrive`]
    /// arrived first.
    fn arriving(&self) -> Arrival<'_> {
        Arrival {
            barrier: self,
            arrived: std::cell::Cell::new(false),
        }
    }
}

struct Arrival<'a> {
    barrier: &'a Barrier,
    arrived: std::cell::Cell<bool>,
}

impl Barrier {
    /// A core that never started counts as arrived.
    fn arrive_one(&self) {
        self.arrive();
    }
}

impl Arrival<'_> {
    /// This core's future finished.
    fn arrive(&self) {
        if !self.arrived.replace(true) {
            self.barrier.arrive();
        }
    }

    /// Waits for every other core's future to finish.
    async fn wait(&self) {
        std::future::poll_fn(|cx| {
            let mut s = self.barrier.state.lock().unwrap_or_else(|e| e.into_inner());
            if s.0 == 0 {
                return std::task::Poll::Ready(());
            }
            s.1.push(cx.waker().clone());
            std::task::Poll::Pending
        })
        .await
    }
}

impl Drop for Arrival<'_> {
    fn drop(&mut self) {
        if !self.arrived.get() {
            self.barrier.arrive();
        }
    }
}
