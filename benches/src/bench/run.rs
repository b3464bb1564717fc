//! A session: for each case, rounds of every server in turn (A B C A B C …), then one
//! `perf stat` run per server if perf works; a progress line per run; the raw record.

use super::cli::{PerfMode, Plan};
use super::load::{self, Event, FailKind};
use super::procfs::{self, Machine};
use super::report::{GroupRecord, Outcome, Report, RunRecord, Sample, warnings};
use super::server::Server;
use super::spec::{Case, Variant};
use indicatif::{ProgressBar, ProgressStyle};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// `--load-only ADDR`: the load alone against a server that is already running, and its
/// result as one line for scripts: `result ops=… secs=… ops_per_sec=… p50_us=… p99_us=…
/// p999_us=… failed_conns=…`. A wrong answer, or no answer at all, is an error.
pub fn load_only(addr: SocketAddr, case: &Case) -> Result<String, String> {
    procfs::raise_fd_limit();
    // Nobody samples the server here: the window's events go nowhere.
    let (tx, _rx) = mpsc::channel();
    let r = load::run(addr, case, None, tx);
    match &r.failure {
        Some((FailKind::WrongAnswer, msg)) => return Err(format!("answered wrongly: {msg}")),
        Some((_, msg)) if r.ops == 0 => return Err(msg.clone()),
        _ if r.ops == 0 => return Err(format!("no answer within {:.1} s", case.secs + 1.0)),
        _ => {}
    }
    let us = |q: f64| r.hist.value_at_quantile(q) as f64 / 1000.0;
    Ok(format!(
        "result ops={} secs={:.3} ops_per_sec={:.0} p50_us={:.1} p99_us={:.1} p999_us={:.1} failed_conns={}",
        r.ops,
        r.secs,
        r.ops as f64 / r.secs,
        us(0.5),
        us(0.99),
        us(0.999),
        r.failed_conns
    ))
}

/// Runs the plan; `command_line` is recorded in the report.
pub fn run_session(plan: &Plan, command_line: Vec<String>) -> Report {
    procfs::raise_fd_limit();
    // The tool's own work (reading /proc, perf) stays off the server CPUs too.
    if let Some(cpu) = plan.load_cpu {
        let _ = procfs::pin_current_thread(&[cpu]);
    }
    let perf = match plan.perf {
        PerfMode::Off => false,
        PerfMode::Auto | PerfMode::On => {
            let ok = perf_works();
            if !ok && plan.perf == PerfMode::On {
                eprintln!(
                    "coreloop-bench: perf stat cannot count syscalls here; syscalls/op (perf) will be n/a"
                );
            }
            ok
        }
    };
    let machine = Machine::probe(plan.server_cpus.clone(), plan.load_cpu, perf);
    let work = std::env::temp_dir().join(format!("coreloop-bench-{}", std::process::id()));
    let _ = std::fs::create_dir_all(&work);

    let per_case = |g: &super::spec::Group| g.variants.len() * (plan.rounds + perf as usize);
    let total: usize = plan
        .groups
        .iter()
        .map(|g| g.cases.len() * per_case(g))
        .sum();
    let pb = ProgressBar::new(total as u64);
    pb.set_style(
        ProgressStyle::with_template("[{pos}/{len}] {wide_msg} ~{eta} left")
            .expect("a valid template"),
    );
    let say = |line: String| {
        if pb.is_hidden() {
            eprintln!("{line}");
        } else {
            pb.println(line);
        }
    };

    let mut runs = vec![];
    // A server that failed to start is not started again for the same case.
    let mut refused: HashMap<(usize, String, String), String> = HashMap::new();
    for (gi, g) in plan.groups.iter().enumerate() {
        for case in &g.cases {
            let key = case.key();
            let mut order: Vec<(usize, bool)> = (0..plan.rounds).map(|r| (r, false)).collect();
            if perf {
                order.push((plan.rounds, true));
            }
            for (round, perf_run) in order {
                for v in &g.variants {
                    pb.set_message(format!(
                        "{} · {key} · {}",
                        v.name,
                        if perf_run {
                            "perf run".to_string()
                        } else {
                            format!("round {}/{}", round + 1, plan.rounds)
                        }
                    ));
                    let rk = (gi, key.clone(), v.name.clone());
                    let outcome = match refused.get(&rk) {
                        Some(reason) => Outcome::Failed {
                            reason: reason.clone(),
                        },
                        None => {
                            let mut c = case.clone();
                            if perf_run {
                                c.secs = plan.perf_secs;
                            }
                            let o = run_one(plan, v, &c, perf_run, &work);
                            if let Err(Failure::Start(reason)) = &o {
                                refused.insert(rk, reason.clone());
                            }
                            match o {
                                Ok(s) => Outcome::Ok(Box::new(s)),
                                Err(Failure::Start(r) | Failure::Run(r)) => {
                                    Outcome::Failed { reason: r }
                                }
                            }
                        }
                    };
                    say(progress_line(&key, v, round, perf_run, &outcome));
                    pb.inc(1);
                    runs.push(RunRecord {
                        group: gi,
                        case: key.clone(),
                        server: v.name.clone(),
                        round,
                        perf_run,
                        outcome,
                    });
                }
            }
        }
    }
    pb.finish_and_clear();
    let _ = std::fs::remove_dir_all(&work);
    Report {
        command_line,
        machine,
        groups: plan
            .groups
            .iter()
            .map(|g| GroupRecord {
                baseline: g.baseline.clone(),
                variants: g.variants.clone(),
                cases: g.cases.clone(),
            })
            .collect(),
        runs,
    }
}

fn progress_line(key: &str, v: &Variant, round: usize, perf_run: bool, o: &Outcome) -> String {
    let what = if perf_run {
        "perf ".to_string()
    } else {
        format!("r{} ", round + 1)
    };
    match o {
        Outcome::Ok(s) if perf_run => format!(
            "  {what} {:<16} {key:<24} syscalls/op {}",
            v.name,
            s.perf_syscalls_per_op
                .map_or("n/a".into(), |x| format!("{x:.3}"))
        ),
        Outcome::Ok(s) => format!(
            "  {what} {:<16} {key:<24} {:>9.0} ops/s  {:>6.2}+{:<6.2} µs CPU/op  p99 {:>8.0} µs{}",
            v.name,
            s.ops_per_sec,
            s.user_us_per_op,
            s.sys_us_per_op,
            s.p99_us,
            if s.warnings.is_empty() {
                String::new()
            } else {
                format!("  ({})", s.warnings.join("; "))
            }
        ),
        Outcome::Failed { reason } => format!("  {what} {:<16} {key:<24} FAILED: {reason}", v.name),
    }
}

enum Failure {
    /// The server did not get to accepting: not tried again for this case.
    Start(String),
    Run(String),
}

fn run_one(
    plan: &Plan,
    v: &Variant,
    case: &Case,
    perf: bool,
    work: &Path,
) -> Result<Sample, Failure> {
    let srv = Server::start(
        v,
        &plan.host,
        plan.cores,
        plan.server_cpus.as_deref(),
        work,
        Duration::from_secs_f64(plan.start_timeout),
    )
    .map_err(Failure::Start)?;
    measure(plan, srv, case, perf, work).map_err(Failure::Run)
}

fn measure(
    plan: &Plan,
    mut srv: Server,
    case: &Case,
    perf: bool,
    work: &Path,
) -> Result<Sample, String> {
    let pid = srv.pid;
    let rss_idle = procfs::tree_usage(pid).rss_kib;
    let own0 = srv.coreloop_syscalls();
    let perf_out = work.join("perf.txt");
    let perf_child = if perf {
        start_perf(pid, &perf_out)
    } else {
        None
    };

    let (tx, rx) = mpsc::channel();
    let addr = srv.addr;
    let load_case = case.clone();
    let load_cpu = plan.load_cpu;
    let load = std::thread::spawn(move || load::run(addr, &load_case, load_cpu, tx));

    // The window: sample everything at its start and its end.
    let started = matches!(rx.recv(), Ok(Event::Started));
    let busy0 = procfs::cpu_busy_ticks(plan.server_cpus.as_deref());
    let (u0, res0, steal0, self0, t0) = (
        procfs::tree_usage(pid),
        procfs::res_interrupts(plan.server_cpus.as_deref()),
        procfs::steal_ticks(),
        procfs::self_ticks(),
        Instant::now(),
    );
    let mut rss_loaded = None;
    let mut event_objects = None;
    if started {
        // Memory with every connection open, near the end of the window.
        if let Err(mpsc::RecvTimeoutError::Timeout) =
            rx.recv_timeout(Duration::from_secs_f64(case.secs * 0.8))
        {
            let mid = procfs::tree_usage(pid);
            rss_loaded = Some(mid.rss_kib);
            event_objects = procfs::event_objects(&mid.pids);
            let _ = rx.recv();
        }
    }
    let (u1, res1, steal1, self1, wall) = (
        procfs::tree_usage(pid),
        procfs::res_interrupts(plan.server_cpus.as_deref()),
        procfs::steal_ticks(),
        procfs::self_ticks(),
        t0.elapsed().as_secs_f64(),
    );
    let busy1 = procfs::cpu_busy_ticks(plan.server_cpus.as_deref());
    let result = load
        .join()
        .map_err(|_| "the load generator panicked".to_string())?;
    let perf_count = perf_child.and_then(|c| stop_perf(c, &perf_out));
    let own1 = srv.coreloop_syscalls();
    let op_latency = srv.coreloop_op_latency();
    let died = srv.exited();
    let (reactor, ring_flags) = srv.reported_reactor();
    let tail = srv.output_tail();
    srv.stop();

    if let Some(status) = died {
        return Err(format!("died mid-run ({status}){tail}"));
    }
    if let Some((kind, msg)) = &result.failure {
        match kind {
            FailKind::WrongAnswer => return Err(format!("answered wrongly: {msg}")),
            FailKind::Connect => return Err(format!("refused the load's connections: {msg}")),
            FailKind::Closed if result.ops == 0 => return Err(msg.clone()),
            FailKind::Closed => {}
        }
    }
    if result.ops == 0 {
        return Err(format!("no answer within {:.1} s", case.secs + 1.0));
    }

    let ops = result.ops as f64;
    let tick_us = 1e6 / procfs::clock_ticks_per_sec();
    let (steal_d, all_d) = (steal1.0 - steal0.0, (steal1.1 - steal0.1).max(1));
    let mut s = Sample {
        ops: result.ops,
        secs: result.secs,
        ops_per_sec: ops / result.secs,
        offered_per_sec: case.rate.map(|r| r as f64),
        sent_per_sec: result.sent_in_window as f64 / result.secs,
        user_us_per_op: (u1.utime - u0.utime) as f64 * tick_us / ops,
        sys_us_per_op: (u1.stime - u0.stime) as f64 * tick_us / ops,
        server_cpu_pct: ((u1.utime + u1.stime) - (u0.utime + u0.stime)) as f64 * tick_us
            / 1e6
            / wall.max(1e-9)
            * 100.0,
        latency_us: result.curve(),
        p50_us: result.hist.value_at_quantile(0.5) as f64 / 1000.0,
        p99_us: result.hist.value_at_quantile(0.99) as f64 / 1000.0,
        p999_us: result.hist.value_at_quantile(0.999) as f64 / 1000.0,
        res_per_op: match (res0, res1) {
            (Some(a), Some(b)) => Some((b - a) as f64 / ops),
            _ => None,
        },
        rss_kib_idle: rss_idle,
        rss_kib_loaded: rss_loaded.unwrap_or(u1.rss_kib),
        rss_kib_per_conn: rss_loaded.unwrap_or(u1.rss_kib).saturating_sub(rss_idle) as f64
            / case.conns as f64,
        coreloop_syscalls_per_op: match (own0, own1) {
            (Some(a), Some(b)) => Some((b - a) as f64 / ops),
            _ => None,
        },
        perf_syscalls_per_op: perf_count.map(|n| n as f64 / ops),
        op_latency,
        reactor,
        ring_flags,
        event_objects,
        steal_pct: steal_d as f64 / all_d as f64 * 100.0,
        load_cpu_pct: (self1 - self0) as f64 * tick_us / 1e6 / wall.max(1e-9) * 100.0,
        // Pinned: everything else on the server CPUs. Unpinned: everything but the
        // server and the load, on all CPUs.
        others_on_server_cpus_pct: {
            let own = (u1.utime + u1.stime) - (u0.utime + u0.stime)
                + if plan.server_cpus.is_none() {
                    self1 - self0
                } else {
                    0
                };
            (busy1 - busy0).saturating_sub(own) as f64 * tick_us / 1e6 / wall.max(1e-9) * 100.0
        },
        warnings: vec![],
    };
    s.warnings = warnings(&s);
    if result.failed_conns > 0 {
        let msg = result.failure.map(|f| f.1).unwrap_or_default();
        s.warnings
            .push(format!("{} connections closed: {msg}", result.failed_conns));
    }
    Ok(s)
}

/// Whether `perf stat` can count syscalls here (installed, and allowed by
/// `perf_event_paranoid` and the tracefs mount).
pub fn perf_works() -> bool {
    Command::new("perf")
        .args([
            "stat",
            "-x,",
            "-e",
            "raw_syscalls:sys_enter",
            "-o",
            "/dev/null",
            "true",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

fn start_perf(pid: i32, out: &PathBuf) -> Option<Child> {
    let child = Command::new("perf")
        .args(["stat", "-x,", "-e", "raw_syscalls:sys_enter", "-o"])
        .arg(out)
        .args(["-p", &pid.to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    // Let it attach before the load starts.
    std::thread::sleep(Duration::from_millis(300));
    Some(child)
}

fn stop_perf(mut p: Child, out: &Path) -> Option<u64> {
    // SIGINT makes perf print its counts and exit.
    super::signal(p.id() as i32, libc::SIGINT);
    let _ = p.wait();
    let text = std::fs::read_to_string(out).ok()?;
    text.lines()
        .find(|l| l.contains("raw_syscalls:sys_enter"))
        .and_then(|l| l.split(',').next()?.trim().parse().ok())
}
