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
use coreloop::unstable::op::{Position, SharedFd, read::Read};
use coreloop::unstable::reactor::Op;
use coreloop::unstable::sys::signal::{self, SIG_BLOCK, SIGINT, SIGTERM, SIGUSR1, SigSet};
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
    // the signals wait in the signalfd instead of killing the process.
    let mask = SigSet::of(&[SIGINT, SIGTERM, SIGUSR1]);
    signal::rt_sigprocmask(SIG_BLOCK, Some(&mask)).map_err(io::Error::from)?;

    // Made now, not on the core: once connections use up the descriptor limit a signalfd
    // could no longer be created, and the blocked signals would go unheard.
    let sigfd = signal::signalfd(&mask, signal::SFD_NONBLOCK).map_err(io::Error::from)?;
    let sigfd = Mutex::new(Some(sigfd));

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
        let sigfd = if info.index == 0 {
            sigfd.lock().unwrap_or_else(|e| e.into_inner()).take()
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
            if let Some(fd) = sigfd {
                coreloop::spawn(watch_signals(SharedFd::new(fd), shutdown.clone()));
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
                let guard = LiveGuard(live.clone());
                let conn = handler(stream);
                coreloop::spawn(async move {
                    conn.await;
                    drop(guard);
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

/// Reads the signalfd on this core's reactor: SIGUSR1 prints the counters, SIGINT/SIGTERM
/// start the shutdown.
async fn watch_signals(fd: SharedFd, shutdown: Arc<Shutdown>) {
    let info_len = size_of::<signal::SignalfdSiginfo>();
    let mut buf = Vec::with_capacity(info_len);
    loop {
        buf.clear();
        let (res, back) = Op::new(Read::new(&fd, buf, Position::Stream)).await;
        buf = back;
        match res {
            Ok(n) if n == info_len => {}
            Ok(_) => continue,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => {
                eprintln!("reading the signalfd: {e}");
                return;
            }
        }
        // ssi_signo is the record's first field.
        let signo = u32::from_ne_bytes([buf[0], buf[1], buf[2], buf[3]]);
        if signo == SIGUSR1 {
            let stats = all_core_stats().await;
            let kind = coreloop::current_reactor().unwrap_or(ReactorKind::Auto);
            eprintln!("{}", stats_line(kind, &stats));
            for (core, lat) in all_core_op_latency().await.iter().enumerate() {
                if let Some(lat) = lat {
                    eprintln!("{}", op_latency_line(kind, core, lat));
                }
            }
            continue;
        }
        eprintln!("signal {signo}: shutting down");
        shutdown.trigger();
        return;
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
