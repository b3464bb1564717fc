//! What the example servers share: one `SO_REUSEPORT` listener per core, an accept loop that
//! rides out `EMFILE`, graceful shutdown on SIGINT/SIGTERM read from a signalfd on the
//! reactor, and the reactor's counters printed on SIGUSR1 and at exit.
//!
//! The counters line (stderr) is for programs (`reactor_ab` parses it):
//! `stats reactor=uring cores=1 reactor_syscalls=… op_syscalls=… eagain=… submitted=…
//! completions=… events=… unparks=… parks=…`, summed over the cores.

use crate::args::Args;
use crate::shutdown::{Either, Shutdown, select};
use coreloop::net::{TcpListener, TcpStream};
use coreloop::signal::unix::{Signal, SignalKind};
use coreloop::signal::{self};
use coreloop::{ReactorKind, ReactorStats, Runtime};
use std::cell::Cell;
use std::future::Future;
use std::io::{self, Write as _};
use std::rc::Rc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The flags every example server takes.
pub struct ServerOpts {
    /// `--addr`: where to listen (127.0.0.1:8080; port 0 picks one for all cores).
    pub addr: String,
    /// `--cores N`: how many cores, each with its own listener (1).
    pub cores: usize,
    /// `--reactor uring|epoll|auto` (auto).
    pub reactor: ReactorKind,
    /// `--pin`: pin each core's thread to a CPU.
    pub pin: bool,
    /// `--grace` (5s): how long shutdown waits for connections to finish what they are doing.
    pub grace: Duration,
}

impl ServerOpts {
    /// Reads the flags; exits with a message on a bad value.
    pub fn from_args(args: &Args) -> ServerOpts {
        let reactor =
            ReactorKind::parse(args.raw("--reactor").unwrap_or("auto")).unwrap_or_else(|e| {
                eprintln!("--reactor: {e}");
                std::process::exit(2)
            });
        ServerOpts {
            addr: args.raw("--addr").unwrap_or("127.0.0.1:8080").to_string(),
            cores: args.get("--cores", 1),
            reactor,
            pin: args.switch("--pin"),
            grace: args.duration("--grace", Duration::from_secs(5)),
        }
    }
}

/// Runs `handler` for every connection on every core until SIGINT or SIGTERM, then stops
/// accepting, waits (up to the grace period) for open connections to finish, prints the
/// counters and returns. `make_handler` runs once on each core.
pub fn run<M, H, Fut>(name: &str, opts: &ServerOpts, make_handler: M) -> io::Result<()>
where
    M: Fn(Arc<Shutdown>) -> H + Send + Sync,
    H: Fn(TcpStream) -> Fut + 'static,
    Fut: Future<Output = ()> + 'static,
{
    // Blocked here, before any core thread exists, so every thread inherits the mask and
    // the signals wait in coreloop's signalfd instead of killing the process.
    signal::block(&[
        SignalKind::interrupt(),
        SignalKind::terminate(),
        SignalKind::user_defined1(),
    ])?;

    let rt = Runtime::builder()
        .cores(opts.cores)
        .pin(opts.pin)
        .reactor(opts.reactor)
        .build()?;
    // The first listener is bound here so that port 0 becomes one real port that every
    // core's listener then shares.
    let first = TcpListener::builder(opts.addr.as_str())
        .reuse_port(true)
        .listen()?;
    let addr = first.local_addr()?;
    let first = Mutex::new(Some(first.into_std()?));
    println!(
        "{name} listening on {addr} (reactor {}, {} core{}{})",
        rt.reactor(),
        opts.cores,
        if opts.cores == 1 { "" } else { "s" },
        if opts.pin { ", pinned" } else { "" }
    );
    io::stdout().flush()?;

    let shutdown = Arc::new(Shutdown::new());
    let grace = opts.grace;
    let stats = rt.run(|info| {
        let shutdown = shutdown.clone();
        let first = first.lock().unwrap_or_else(|e| e.into_inner()).take();
        // Core 0 listens, from before its first connection: its listeners hold their
        // descriptors, so signals are heard even once connections use up the limit.
        let signals = if info.index == 0 {
            Some(Signals::new())
        } else {
            None
        };
        let handler = make_handler(shutdown.clone());
        async move {
            let listener = match first {
                Some(l) => TcpListener::from_std(l),
                None => TcpListener::builder(addr).reuse_port(true).listen(),
            };
            let listener = match listener {
                Ok(l) => l,
                Err(e) => {
                    eprintln!("core {}: listening on {addr}: {e}", info.index);
                    shutdown.trigger();
                    return coreloop::reactor_stats().unwrap_or_default();
                }
            };
            match signals {
                Some(Ok(signals)) => {
                    coreloop::spawn(watch_signals(signals, shutdown.clone()));
                }
                Some(Err(e)) => eprintln!("listening for signals: {e}"),
                None => {}
            }
            accept_loop(listener, &shutdown, grace, handler).await;
            coreloop::reactor_stats().unwrap_or_default()
        }
    })?;
    eprintln!("{}", stats_line(rt.reactor(), &stats));
    Ok(())
}

/// Accepts until `shutdown`, spawning `handler` per connection; then waits up to `grace` for
/// the connections to end. Returns how many connections it accepted.
pub async fn accept_loop<H, Fut>(
    listener: TcpListener,
    shutdown: &Shutdown,
    grace: Duration,
    handler: H,
) -> usize
where
    H: Fn(TcpStream) -> Fut,
    Fut: Future<Output = ()> + 'static,
{
    let live = Rc::new(Cell::new(0usize));
    let mut accepted = 0;
    let mut stop = std::pin::pin!(shutdown.wait());
    loop {
        match select(listener.accept(), stop.as_mut()).await {
            Either::Left(Ok((stream, _))) => {
                accepted += 1;
                live.set(live.get() + 1);
                // The handler's future is the task (an `async` wrapper would keep a second copy
                // of it: every connection's memory counts).
                coreloop::spawn(Counted {
                    conn: handler(stream),
                    _live: LiveGuard(live.clone()),
                });
            }
            Either::Left(Err(e)) if out_of_resources(&e) => {
                // Out of descriptors or memory: the pending connection stays queued; give
                // the open ones a moment to close, then try again.
                coreloop::time::sleep(Duration::from_millis(10)).await;
            }
            // The connection went away before we took it (ECONNABORTED, …): next.
            Either::Left(Err(_)) => {}
            Either::Right(()) => break,
        }
    }
    drop(listener);
    let until = Instant::now() + grace;
    while live.get() > 0 && Instant::now() < until {
        coreloop::time::sleep(Duration::from_millis(5)).await;
    }
    accepted
}

struct LiveGuard(Rc<Cell<usize>>);

/// A connection's future and the guard that counts it live until the task ends.
struct Counted<F> {
    conn: F,
    _live: LiveGuard,
}

impl<F: Future> Future for Counted<F> {
    type Output = F::Output;

    fn poll(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<F::Output> {
        // SAFETY: `conn` is pinned structurally: it is never moved out of a pinned `Counted`
        // (no method hands it out, and `Counted` has no `Drop` that could move it).
        unsafe { self.map_unchecked_mut(|c| &mut c.conn) }.poll(cx)
    }
}

impl Drop for LiveGuard {
    fn drop(&mut self) {
        self.0.set(self.0.get() - 1);
    }
}

fn out_of_resources(e: &io::Error) -> bool {
    const EMFILE: i32 = 24;
    const ENFILE: i32 = 23;
    const ENOBUFS: i32 = 105;
    const ENOMEM: i32 = 12;
    matches!(e.raw_os_error(), Some(EMFILE | ENFILE | ENOBUFS | ENOMEM))
}

/// The signals the servers act on: SIGINT and SIGTERM stop them, SIGUSR1 prints counters.
struct Signals {
    int: Signal,
    term: Signal,
    usr1: Signal,
}

impl Signals {
    fn new() -> io::Result<Signals> {
        Ok(Signals {
            int: signal::unix::signal(SignalKind::interrupt())?,
            term: signal::unix::signal(SignalKind::terminate())?,
            usr1: signal::unix::signal(SignalKind::user_defined1())?,
        })
    }

    /// The next signal: `Some(true)` to stop, `Some(false)` for SIGUSR1, `None` if reading
    /// the signalfd failed.
    async fn next(&mut self) -> Option<bool> {
        std::future::poll_fn(|cx| {
            for (sig, stop) in [
                (&mut self.usr1, false),
                (&mut self.term, true),
                (&mut self.int, true),
            ] {
                if let std::task::Poll::Ready(got) = sig.poll_recv(cx) {
                    return std::task::Poll::Ready(got.map(|()| stop));
                }
            }
            std::task::Poll::Pending
        })
        .await
    }
}

/// SIGUSR1 prints the counters (and per-op latency, when recorded); SIGINT/SIGTERM start the
/// shutdown.
async fn watch_signals(mut signals: Signals, shutdown: Arc<Shutdown>) {
    loop {
        match signals.next().await {
            Some(false) => {
                let stats = all_core_stats().await;
                let kind = coreloop::current_reactor().unwrap_or(ReactorKind::Auto);
                eprintln!("{}", stats_line(kind, &stats));
                for (core, lat) in all_core_op_latency().await.iter().enumerate() {
                    if let Some(lat) = lat {
                        eprintln!("{}", op_latency_line(kind, core, lat));
                    }
                }
            }
            Some(true) => {
                eprintln!("signal: shutting down");
                shutdown.trigger();
                return;
            }
            None => {
                eprintln!("reading the signalfd failed");
                return;
            }
        }
    }
}

/// Every core's counters, asked of each core on that core (from inside `Runtime::run`).
pub async fn all_core_stats() -> Vec<ReactorStats> {
    let n = coreloop::core_count().unwrap_or(1);
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        let stats = match coreloop::spawn_on(i, async { coreloop::reactor_stats() }) {
            Ok(h) => h.await.ok().flatten(),
            Err(_) => None,
        };
        out.push(stats.unwrap_or_default());
    }
    out
}

/// Every core's per-op latency (when the runtime records it: `CORELOOP_OP_LATENCY=1`).
async fn all_core_op_latency() -> Vec<Option<Vec<coreloop::OpLatencyStats>>> {
    let n = coreloop::core_count().unwrap_or(1);
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        let lat = match coreloop::spawn_on(i, async { coreloop::op_latency() }) {
            Ok(h) => h.await.ok().flatten(),
            Err(_) => None,
        };
        out.push(lat);
    }
    out
}

/// One core's per-op latency as a line: `oplat reactor=uring core=0 recv=count/p50/p99/p999/max
/// send=…` (nanoseconds), which `coreloop-bench` reads.
pub fn op_latency_line(kind: ReactorKind, core: usize, lat: &[coreloop::OpLatencyStats]) -> String {
    let mut line = format!("oplat reactor={kind} core={core}");
    for s in lat {
        line.push_str(&format!(
            " {}={}/{}/{}/{}/{}",
            s.kind, s.count, s.p50_ns, s.p99_ns, s.p999_ns, s.max_ns
        ));
    }
    line
}

/// The counters line, summed over `per_core`.
pub fn stats_line(kind: ReactorKind, per_core: &[ReactorStats]) -> String {
    let mut t = ReactorStats::default();
    for s in per_core {
        t.reactor_syscalls += s.reactor_syscalls;
        t.op_syscalls += s.op_syscalls;
        t.eagain += s.eagain;
        t.submitted += s.submitted;
        t.completions += s.completions;
        t.events += s.events;
        t.unparks += s.unparks;
        t.parks += s.parks;
    }
    format!(
        "stats reactor={kind} cores={} reactor_syscalls={} op_syscalls={} eagain={} submitted={} completions={} events={} unparks={} parks={}",
        per_core.len(),
        t.reactor_syscalls,
        t.op_syscalls,
        t.eagain,
        t.submitted,
        t.completions,
        t.events,
        t.unparks,
        t.parks
    )
}
