//! `Runtime` and its `Builder`.

use super::context::Core;
use super::pool::PoolHandle;
use super::shared::Shared;
use crate::reactor::{Backend, Choice, Driver, ReactorKind, epoll::EpollReactor, uring};
use crate::sys::sched::{self, CpuSet};
use std::future::Future;
use std::io;
use std::marker::PhantomData;
use std::sync::Arc;
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
}

/// Settings for a [`Runtime`].
#[derive(Clone, Debug)]
pub struct Builder {
    cores: usize,
    pin: bool,
    reactor: ReactorKind,
    ring_entries: u32,
    cq_entries: Option<u32>,
    epoll_events: usize,
    shutdown_timeout: Duration,
    env_override: bool,
}

impl Default for Builder {
    fn default() -> Builder {
        Builder {
            cores: 1,
            pin: false,
            reactor: ReactorKind::Auto,
            ring_entries: 256,
            cq_entries: None,
            epoll_events: 1024,
            shutdown_timeout: Duration::from_secs(5),
            env_override: true,
        }
    }
}

impl Builder {
    /// How many cores [`Runtime::run`] starts (default 1).
    pub fn cores(mut self, n: usize) -> Builder {
        self.cores = n;
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

    /// Whether `CORELOOP_REACTOR` may override [`reactor`](Builder::reactor) (default true;
    /// tests that must run one reactor turn it off).
    pub fn env_override(mut self, on: bool) -> Builder {
        self.env_override = on;
        self
    }

    /// Checks the settings, decides the reactor (trying io_uring for `uring`/`auto`), and sets
    /// up core 0 on this thread for [`Runtime::block_on`].
    pub fn build(mut self) -> io::Result<Runtime> {
        let invalid = |msg: String| io::Error::new(io::ErrorKind::InvalidInput, msg);
        if self.cores == 0 || self.cores > 1024 {
            return Err(invalid(format!(
                "cores must be 1..=1024, not {}",
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
        if self.epoll_events == 0 {
            return Err(invalid("epoll_events must be at least 1".into()));
        }
        if self.env_override {
            if let Some(kind) = ReactorKind::from_env()? {
                self.reactor = kind;
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
        let shared = Shared::new(0)?;
        let siblings: Arc<[Arc<Shared>]> = Arc::from(vec![shared.clone()]);
        let (driver, choice) = make_driver(&self, self.reactor, &shared)?;
        let decided = choice.running;
        let core = Core::new(shared, siblings, driver, self.shutdown_timeout);
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

/// Builds a core's reactor of `kind`, falling back from io_uring for `Auto`.
fn make_driver(
    cfg: &Builder,
    kind: ReactorKind,
    shared: &Arc<Shared>,
) -> io::Result<(Driver, Choice)> {
    let pool = PoolHandle::new(shared.clone());
    let epoll = |reason: Option<String>| -> io::Result<(Driver, Choice)> {
        let r = EpollReactor::new(shared.unpark_fd.raw(), cfg.epoll_events)?;
        let choice = Choice {
            requested: kind,
            running: ReactorKind::Epoll,
            reason,
        };
        Ok((
            Driver::new(Backend::Epoll(r), PoolHandle::new(shared.clone())),
            choice,
        ))
    };
    match kind {
        ReactorKind::Epoll => epoll(None),
        ReactorKind::Uring | ReactorKind::Auto => {
            match uring::build(cfg.ring_entries, cfg.cq_entries, shared.unpark_fd.raw()) {
                Ok(r) => {
                    let choice = Choice {
                        requested: kind,
                        running: ReactorKind::Uring,
                        reason: None,
                    };
                    Ok((Driver::new(Backend::Uring(r), pool), choice))
                }
                Err(refusal) if kind == ReactorKind::Uring => {
                    let msg = format!(
                        "coreloop: io_uring was asked for but refused: {}",
                        refusal.reason
                    );
                    Err(match refusal.errno {
                        Some(e) => io::Error::new(io::Error::from(e).kind(), msg),
                        None => io::Error::new(io::ErrorKind::Unsupported, msg),
                    })
                }
                Err(refusal) => {
                    let (driver, choice) = epoll(Some(format!(
                        "io_uring unavailable, using epoll: {}",
                        refusal.reason
                    )))?;
                    crate::reactor::report_fallback(&choice);
                    Ok((driver, choice))
                }
            }
        }
    }
}

/// A coreloop runtime: core 0 on the thread that built it (for [`block_on`](Runtime::block_on)),
/// and [`run`](Runtime::run) for one copy of a future per core.
pub struct Runtime {
    cfg: Builder,
    decided: ReactorKind,
    choice: Choice,
    core: Core,
    cpus: Option<Vec<usize>>,
    _not_send: PhantomData<*const ()>,
}

impl Runtime {
    pub fn builder() -> Builder {
        Builder::default()
    }

    /// A one-core runtime with the default settings (`auto` reactor).
    pub fn new() -> io::Result<Runtime> {
        Builder::default().build()
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
        match &self.core.driver.borrow().backend {
            Backend::Uring(r) => Some(r.setup().clone()),
            Backend::Epoll(_) => None,
        }
    }

    /// Runs `fut` on this thread (core 0) until it finishes, with every task it spawns.
    /// Tasks still alive afterwards stay on the core for the next `block_on`.
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
        self.core.driver.borrow().stats
    }

    /// Starts one thread per core, each with its own reactor, runs `f(info)` on every core
    /// and returns the outputs in core order. A core whose future finishes early keeps
    /// running its tasks (and whatever `spawn_on` sends it) until every core's future has
    /// finished. A panic on a core is reported as an error that names the core and the
    /// message.
    pub fn run<F, Fut>(&self, f: F) -> io::Result<Vec<Fut::Output>>
    where
        F: Fn(CoreInfo) -> Fut + Send + Sync,
        Fut: Future,
        Fut::Output: Send,
    {
        let n = self.cfg.cores;
        let shared: Vec<Arc<Shared>> = (0..n).map(Shared::new).collect::<io::Result<_>>()?;
        let siblings: Arc<[Arc<Shared>]> = Arc::from(shared);
        let f = &f;
        let barrier = &Barrier::new(n);
        let cfg = &self.cfg;
        let decided = self.decided;
        std::thread::scope(|scope| {
            let handles: Vec<_> = (0..n)
                .map(|i| {
                    let siblings = siblings.clone();
                    let cpu = self.cpus.as_ref().map(|c| c[i]);
                    std::thread::Builder::new()
                        .name(format!("coreloop-core-{i}"))
                        .spawn_scoped(scope, move || -> io::Result<Fut::Output> {
                            if let Some(cpu) = cpu {
                                let mut set = CpuSet::new();
                                set.set(cpu);
                                sched::sched_setaffinity(0, &set)?;
                            }
                            let shared = siblings[i].clone();
                            // Every core runs what core 0 decided: no second fallback message.
                            let (driver, _) = make_driver(cfg, decided, &shared)?;
                            let core = Core::new(shared, siblings, driver, cfg.shutdown_timeout);
                            // However this core's future ends, it counts as arrived, so no
                            // other core waits for it forever.
                            let arrival = barrier.arriving();
                            core.block_on(async {
                                let out = f(CoreInfo {
                                    index: i,
                                    cores: n,
                                    cpu,
                                })
                                .await;
                                arrival.arrive_and_wait().await;
                                out
                            })
                        })
                })
                .collect::<io::Result<_>>()?;
            let mut out = Vec::with_capacity(n);
            let mut failures = Vec::new();
            for (i, h) in handles.into_iter().enumerate() {
                match h.join() {
                    Ok(Ok(v)) => out.push(v),
                    Ok(Err(e)) => failures.push(format!("core {i}: {e}")),
                    Err(p) => {
                        let msg = p
                            .downcast_ref::<&str>()
                            .map(|s| s.to_string())
                            .or_else(|| p.downcast_ref::<String>().cloned())
                            .unwrap_or_else(|| "(non-string panic payload)".into());
                        failures.push(format!("core {i} panicked: {msg}"));
                    }
                }
            }
            if failures.is_empty() {
                Ok(out)
            } else {
                Err(io::Error::other(failures.join("; ")))
            }
        })
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

    /// A guard that arrives when dropped (a core whose future panicked), unless
    /// [`Arrival::arrive_and_wait`] arrived first.
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

impl Arrival<'_> {
    async fn arrive_and_wait(&self) {
        self.arrived.set(true);
        self.barrier.arrive();
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
