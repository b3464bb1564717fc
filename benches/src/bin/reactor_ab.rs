//! `reactor-ab`: the same server on coreloop-uring, coreloop-epoll, tokio current_thread and
//! tokio multi_thread, under the same loads, interleaved (A B C D A B C D …), one table out.
//!
//! The server is pinned to one CPU (`--server-cpu`, default 0) and the load to another
//! (`--load-cpu`, default 1) with taskset. For each run it measures, over the load's window:
//! throughput (from the load tool), server CPU time per operation (utime + stime of
//! `/proc/PID/stat`), the load tool's p99 latency, rescheduling interrupts on the server's CPU
//! per operation (`RES` in `/proc/interrupts`), and for coreloop its own reactor counters
//! (asked for with SIGUSR1 before and after) as syscalls per operation. With `--perf`, one
//! extra run per server and case counts every syscall the server enters with
//! `perf stat -e raw_syscalls:sys_enter` (kept out of the timed runs: the tracepoint slows
//! each syscall).
//!
//! Binaries are looked for beside this one (`target/release/`): `tokio_echo`, `tokio_http`,
//! `echo_load`, and `examples/echo`, `examples/http`. `wrk` must be on PATH for the HTTP cases.
//!
//! Flags: `--secs S` (3), `--rounds N` (3), `--server-cpu C`, `--load-cpu C`,
//! `--cases a,b,…` (echo128,echo4k,echo1000,http,http-pipe16), `--servers a,b,…`, `--perf`,
//! `--perf-secs S` (1), `--bin-dir DIR`.

use coreloop_benches::args::Args;
use coreloop_benches::measure::{
    clock_ticks_per_sec, cpu_ticks, median, parse_echo_load, parse_wrk, res_interrupts, signal,
};
use std::collections::BTreeMap;
use std::fs;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug)]
enum Server {
    Uring,
    Epoll,
    TokioCt,
    TokioMt,
}

const SERVERS: [Server; 4] = [
    Server::Uring,
    Server::Epoll,
    Server::TokioCt,
    Server::TokioMt,
];

impl Server {
    fn name(self) -> &'static str {
        match self {
            Server::Uring => "coreloop-uring",
            Server::Epoll => "coreloop-epoll",
            Server::TokioCt => "tokio-ct",
            Server::TokioMt => "tokio-mt",
        }
    }

    fn coreloop(self) -> bool {
        matches!(self, Server::Uring | Server::Epoll)
    }

    /// The program and its arguments, for an echo or an HTTP server.
    fn command(self, bins: &Path, http: bool) -> (PathBuf, Vec<&'static str>) {
        let mut args = vec!["--addr", "127.0.0.1:0"];
        let bin = match self {
            Server::Uring | Server::Epoll => {
                args.extend([
                    "--reactor",
                    if self == Server::Uring {
                        "uring"
                    } else {
                        "epoll"
                    },
                ]);
                bins.join("examples")
                    .join(if http { "http" } else { "echo" })
            }
            Server::TokioCt | Server::TokioMt => {
                args.extend([
                    "--flavor",
                    if self == Server::TokioCt {
                        "current"
                    } else {
                        "multi"
                    },
                ]);
                bins.join(if http { "tokio_http" } else { "tokio_echo" })
            }
        };
        (bin, args)
    }
}

#[derive(Clone, Copy, Debug)]
enum Load {
    Echo { conns: usize, size: usize },
    Wrk { conns: usize, pipeline: usize },
}

struct Case {
    key: &'static str,
    title: &'static str,
    load: Load,
}

fn cases() -> Vec<Case> {
    vec![
        Case {
            key: "echo128",
            title: "echo 128 B, 100 conns",
            load: Load::Echo {
                conns: 100,
                size: 128,
            },
        },
        Case {
            key: "echo4k",
            title: "echo 4 KiB, 100 conns",
            load: Load::Echo {
                conns: 100,
                size: 4096,
            },
        },
        Case {
            key: "echo1000",
            title: "echo 128 B, 1000 conns",
            load: Load::Echo {
                conns: 1000,
                size: 128,
            },
        },
        Case {
            key: "http",
            title: "HTTP plaintext, 100 conns (wrk)",
            load: Load::Wrk {
                conns: 100,
                pipeline: 1,
            },
        },
        Case {
            key: "http-pipe16",
            title: "HTTP pipelined x16, 100 conns (wrk)",
            load: Load::Wrk {
                conns: 100,
                pipeline: 16,
            },
        },
    ]
}

/// What one run measured.
#[derive(Clone, Debug, Default)]
struct Sample {
    ops_per_sec: f64,
    cpu_us_per_op: f64,
    p99_us: f64,
    res_per_op: f64,
    /// coreloop's counters: (reactor + op) syscalls per op.
    syscalls_per_op: Option<f64>,
    /// perf-counted syscalls per op (the `--perf` run).
    kernel_syscalls_per_op: Option<f64>,
}

struct Opts {
    bins: PathBuf,
    secs: f64,
    perf_secs: f64,
    server_cpu: usize,
    load_cpu: usize,
    work: PathBuf,
}

fn main() {
    let args = Args::from_env();
    let bins = args.raw("--bin-dir").map(PathBuf::from).unwrap_or_else(|| {
        std::env::current_exe()
            .unwrap()
            .parent()
            .unwrap()
            .to_path_buf()
    });
    let work = std::env::temp_dir().join(format!("reactor-ab-{}", std::process::id()));
    fs::create_dir_all(&work).expect("work dir");
    fs::write(work.join("pipeline.lua"), PIPELINE_LUA).expect("write pipeline.lua");
    let opts = Opts {
        bins,
        secs: args.get("--secs", 3.0),
        perf_secs: args.get("--perf-secs", 1.0),
        server_cpu: args.get("--server-cpu", 0),
        load_cpu: args.get("--load-cpu", 1),
        work,
    };
    let rounds: usize = args.get("--rounds", 3);
    let want_cases: Option<Vec<String>> = args
        .raw("--cases")
        .map(|s| s.split(',').map(String::from).collect());
    let want_servers: Option<Vec<String>> = args
        .raw("--servers")
        .map(|s| s.split(',').map(String::from).collect());
    let servers: Vec<Server> = SERVERS
        .into_iter()
        .filter(|s| {
            want_servers
                .as_ref()
                .is_none_or(|w| w.iter().any(|n| n == s.name()))
        })
        .collect();
    let cases: Vec<Case> = cases()
        .into_iter()
        .filter(|c| {
            want_cases
                .as_ref()
                .is_none_or(|w| w.iter().any(|k| k == c.key))
        })
        .collect();
    let perf = args.switch("--perf");
    let started = Instant::now();

    let mut results: BTreeMap<(usize, Server), Vec<Sample>> = BTreeMap::new();
    for (ci, case) in cases.iter().enumerate() {
        eprintln!("== {}", case.title);
        for round in 0..rounds {
            for &server in &servers {
                match run_once(&opts, server, case.load, false) {
                    Ok(s) => {
                        eprintln!(
                            "   round {} {:<15} {:>10.0} ops/s  {:>6.2} µs CPU/op  p99 {:>8.1} µs",
                            round + 1,
                            server.name(),
                            s.ops_per_sec,
                            s.cpu_us_per_op,
                            s.p99_us
                        );
                        results.entry((ci, server)).or_default().push(s);
                    }
                    Err(e) => eprintln!("   round {} {}: FAILED: {e}", round + 1, server.name()),
                }
            }
        }
        if perf {
            for &server in &servers {
                match run_once(&opts, server, case.load, true) {
                    Ok(s) => {
                        if let Some(v) = results.get_mut(&(ci, server)) {
                            for x in v.iter_mut() {
                                x.kernel_syscalls_per_op = s.kernel_syscalls_per_op;
                            }
                        }
                    }
                    Err(e) => eprintln!("   perf run {}: FAILED: {e}", server.name()),
                }
            }
        }
    }
    print_table(&cases, &servers, &results, rounds, &opts, perf);
    eprintln!("total time {:.0} s", started.elapsed().as_secs_f64());
    let _ = fs::remove_dir_all(&opts.work);
}

const PIPELINE_LUA: &str = r#"-- wrk: send `depth` requests at once per connection (HTTP pipelining).
init = function(args)
  local depth = tonumber(args[1]) or 16
  local r = {}
  for i = 1, depth do
    r[i] = wrk.format(nil, "/")
  end
  req = table.concat(r)
end

request = function()
  return req
end
"#;

/// A running server with its stderr in a file.
struct Running {
    child: Child,
    addr: String,
    stderr: PathBuf,
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start(opts: &Opts, server: Server, http: bool) -> Result<Running, String> {
    let (bin, args) = server.command(&opts.bins, http);
    if !bin.exists() {
        return Err(format!("{} is not built", bin.display()));
    }
    let stderr = opts.work.join(format!("{}.err", server.name()));
    let err_file = fs::File::create(&stderr).map_err(|e| e.to_string())?;
    let mut child = Command::new("taskset")
        .arg("-c")
        .arg(opts.server_cpu.to_string())
        .arg(&bin)
        .args(&args)
        .stdout(Stdio::piped())
        .stderr(err_file)
        .spawn()
        .map_err(|e| format!("starting {}: {e}", bin.display()))?;
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .map_err(|e| e.to_string())?;
    let addr = line
        .split_whitespace()
        .find(|w| w.parse::<std::net::SocketAddr>().is_ok())
        .ok_or_else(|| format!("{}: no address in {line:?}", server.name()))?
        .to_string();
    Ok(Running {
        child,
        addr,
        stderr,
    })
}

/// One run: start the server, measure around the load, stop the server.
fn run_once(opts: &Opts, server: Server, load: Load, perf: bool) -> Result<Sample, String> {
    let http = matches!(load, Load::Wrk { .. });
    let mut srv = start(opts, server, http)?;
    let pid = srv.child.id() as i32;

    let stats0 = if server.coreloop() {
        Some(ask_stats(&srv)?)
    } else {
        None
    };
    let perf_child = if perf {
        Some(start_perf(pid, opts)?)
    } else {
        None
    };
    let cpu0 = cpu_ticks(pid)?;
    let res0 = res_interrupts(opts.server_cpu)?;
    let (ops, secs, p99_us) = run_load(
        opts,
        &srv.addr,
        load,
        if perf { opts.perf_secs } else { opts.secs },
    )?;
    let cpu1 = cpu_ticks(pid)?;
    let res1 = res_interrupts(opts.server_cpu)?;
    let kernel_syscalls = match perf_child {
        Some(p) => Some(stop_perf(p)?),
        None => None,
    };
    let stats1 = if server.coreloop() {
        Some(ask_stats(&srv)?)
    } else {
        None
    };

    // SIGTERM: a clean exit, as a user would stop it.
    signal(pid, 15);
    let deadline = Instant::now() + Duration::from_secs(8);
    while Instant::now() < deadline {
        if let Ok(Some(_)) = srv.child.try_wait() {
            break;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    drop(srv);

    if ops == 0 {
        return Err("the load completed no operations".into());
    }
    let ops_f = ops as f64;
    let tick_us = 1e6 / clock_ticks_per_sec();
    Ok(Sample {
        ops_per_sec: ops_f / secs,
        cpu_us_per_op: (cpu1 - cpu0) as f64 * tick_us / ops_f,
        p99_us,
        res_per_op: (res1 - res0) as f64 / ops_f,
        syscalls_per_op: match (stats0, stats1) {
            (Some(a), Some(b)) => Some((b - a) as f64 / ops_f),
            _ => None,
        },
        kernel_syscalls_per_op: kernel_syscalls.map(|n| n as f64 / ops_f),
    })
}

/// SIGUSR1, then the syscall total from the `stats` line it prints.
fn ask_stats(srv: &Running) -> Result<u64, String> {
    let before = stats_lines(&srv.stderr).len();
    signal(srv.child.id() as i32, 10);
    let deadline = Instant::now() + Duration::from_secs(3);
    while Instant::now() < deadline {
        let lines = stats_lines(&srv.stderr);
        if lines.len() > before {
            let line = &lines[lines.len() - 1];
            let field = |k: &str| -> u64 {
                line.split_whitespace()
                    .find_map(|w| w.strip_prefix(k)?.strip_prefix('=')?.parse().ok())
                    .unwrap_or(0)
            };
            return Ok(field("reactor_syscalls") + field("op_syscalls"));
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    Err("the server printed no stats line after SIGUSR1".into())
}

fn stats_lines(path: &Path) -> Vec<String> {
    fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .filter(|l| l.starts_with("stats "))
        .map(String::from)
        .collect()
}

fn start_perf(pid: i32, opts: &Opts) -> Result<Child, String> {
    let out = opts.work.join("perf.txt");
    let child = Command::new("perf")
        .args(["stat", "-x,", "-e", "raw_syscalls:sys_enter", "-o"])
        .arg(&out)
        .args(["-p", &pid.to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("perf: {e}"))?;
    // Let it attach before the load starts.
    std::thread::sleep(Duration::from_millis(300));
    Ok(child)
}

fn stop_perf(mut p: Child) -> Result<u64, String> {
    // SIGINT makes perf print its counts and exit.
    signal(p.id() as i32, 2);
    let _ = p.wait();
    let out = fs::read_to_string(
        std::env::temp_dir().join(format!("reactor-ab-{}/perf.txt", std::process::id())),
    )
    .map_err(|e| format!("perf output: {e}"))?;
    out.lines()
        .find(|l| l.contains("raw_syscalls:sys_enter"))
        .and_then(|l| l.split(',').next()?.trim().parse().ok())
        .ok_or_else(|| format!("perf counted nothing: {out:?}"))
}

/// Runs the load on the load CPU: (operations, seconds, p99 µs).
fn run_load(opts: &Opts, addr: &str, load: Load, secs: f64) -> Result<(u64, f64, f64), String> {
    let secs = format!("{secs}");
    let mut cmd = Command::new("taskset");
    cmd.arg("-c").arg(opts.load_cpu.to_string());
    match load {
        Load::Echo { conns, size } => {
            cmd.arg(opts.bins.join("echo_load")).args([
                "--addr",
                addr,
                "--conns",
                &conns.to_string(),
                "--size",
                &size.to_string(),
                "--duration",
                &secs,
            ]);
        }
        Load::Wrk { conns, pipeline } => {
            // wrk takes whole seconds only.
            let whole = secs.parse::<f64>().unwrap_or(1.0).round().max(1.0);
            cmd.args(["wrk", "-t1", "-c", &conns.to_string(), "-d"])
                .arg(format!("{whole}s"))
                .arg("--latency");
            if pipeline > 1 {
                cmd.arg("-s").arg(opts.work.join("pipeline.lua"));
            }
            cmd.arg(format!("http://{addr}/"));
            if pipeline > 1 {
                cmd.args(["--", &pipeline.to_string()]);
            }
        }
    }
    let out = cmd.output().map_err(|e| format!("load: {e}"))?;
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    if !out.status.success() {
        return Err(format!(
            "load failed: {}{}",
            text,
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    match load {
        Load::Echo { .. } => parse_echo_load(&text),
        Load::Wrk { .. } => parse_wrk(&text),
    }
}

fn print_table(
    cases: &[Case],
    servers: &[Server],
    results: &BTreeMap<(usize, Server), Vec<Sample>>,
    rounds: usize,
    opts: &Opts,
    perf: bool,
) {
    println!(
        "reactor-ab: {rounds} rounds x {} s per run, server on CPU {}, load on CPU {}; medians over rounds",
        opts.secs, opts.server_cpu, opts.load_cpu
    );
    println!();
    println!(
        "| case | server | ops/s median | min | max | vs tokio-ct | CPU µs/op | vs tokio-ct | p99 µs | syscalls/op (coreloop) |{} RES irq/op |",
        if perf { " syscalls/op (perf) |" } else { "" }
    );
    println!(
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|{}---:|",
        if perf { "---:|" } else { "" }
    );
    for (ci, case) in cases.iter().enumerate() {
        let base = results.get(&(ci, Server::TokioCt)).map(|v| {
            (
                median(&mut v.iter().map(|s| s.ops_per_sec).collect::<Vec<_>>()),
                median(&mut v.iter().map(|s| s.cpu_us_per_op).collect::<Vec<_>>()),
            )
        });
        for &server in servers {
            let Some(v) = results.get(&(ci, server)) else {
                println!(
                    "| {} | {} | failed | | | | | | | |{} |",
                    case.title,
                    server.name(),
                    if perf { " |" } else { "" }
                );
                continue;
            };
            let tput: Vec<f64> = v.iter().map(|s| s.ops_per_sec).collect();
            let med = median(&mut tput.clone());
            let min = tput.iter().copied().fold(f64::INFINITY, f64::min);
            let max = tput.iter().copied().fold(0.0, f64::max);
            let cpu = median(&mut v.iter().map(|s| s.cpu_us_per_op).collect::<Vec<_>>());
            // wrk reports no latency (0) when a script sends the requests (pipelining).
            let p99 = median(&mut v.iter().map(|s| s.p99_us).collect::<Vec<_>>());
            let p99 = if p99 > 0.0 {
                format!("{p99:.0}")
            } else {
                "n/a".into()
            };
            let res = median(&mut v.iter().map(|s| s.res_per_op).collect::<Vec<_>>());
            let sys: Vec<f64> = v.iter().filter_map(|s| s.syscalls_per_op).collect();
            let sys = if sys.is_empty() {
                "n/a".to_string()
            } else {
                format!("{:.3}", median(&mut sys.clone()))
            };
            let ksys = v
                .first()
                .and_then(|s| s.kernel_syscalls_per_op)
                .map_or("n/a".to_string(), |k| format!("{k:.3}"));
            let (rt, rc) = match base {
                Some((bt, bc)) => (format!("{:.2}x", med / bt), format!("{:.2}x", cpu / bc)),
                None => ("n/a".into(), "n/a".into()),
            };
            println!(
                "| {} | {} | {:.0} | {:.0} | {:.0} | {} | {:.2} | {} | {} | {} |{} {:.4} |",
                case.title,
                server.name(),
                med,
                min,
                max,
                rt,
                cpu,
                rc,
                p99,
                sys,
                if perf {
                    format!(" {ksys} |")
                } else {
                    String::new()
                },
                res
            );
        }
    }
}
