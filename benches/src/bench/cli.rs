//! The command line of `coreloop-bench` (clap), and the checks that turn it into a plan.
//! Every refusal names the flag and says what would be accepted.

use super::spec::{Case, Group, LoadKind, REACTORS, ServerSpec};
use clap::{Parser, ValueEnum};
use std::path::PathBuf;

/// Descriptors a load or a server needs beyond one per connection (listener, ring, stdio, …).
const FD_SLACK: u64 = 64;

#[derive(Parser, Debug, Clone)]
#[command(
    name = "coreloop-bench",
    // A flag given twice takes the later value (the preset script passes defaults first).
    args_override_self = true,
    about = "Drop-in reactor benchmarking for any TCP server: throughput, server CPU per op, \
             latency, syscalls, on io_uring and epoll, beside any other server.",
    after_help = "Examples:\n  \
  coreloop-bench --server 'echo=target/release/examples/echo --addr 127.0.0.1:{port}'\n  \
  coreloop-bench --server 'mine=./my-server --port {port}' --server 'tokio=./tokio-twin --port {port}' --baseline tokio\n  \
  coreloop-bench --server 'echo=./echo --addr 127.0.0.1:{port}' --rates 10000,50000 --conns 10,100 --html report.html"
)]
pub struct Cli {
    /// A server to run: NAME=COMMAND, where COMMAND may use {port}, {cores} and {reactor}.
    /// A coreloop program without {reactor} is run once per reactor (CORELOOP_REACTOR).
    #[arg(long = "server", value_name = "NAME=COMMAND", value_parser = ServerSpec::parse)]
    pub servers: Vec<ServerSpec>,

    /// A ready-made comparison instead of --server (reactor-ab: the example servers on both
    /// reactors against their tokio twins, echo and HTTP).
    #[arg(long, value_enum, conflicts_with = "servers")]
    pub preset: Option<Preset>,

    /// Where the preset finds its binaries (default: beside this program).
    #[arg(long, value_name = "DIR")]
    pub bin_dir: Option<PathBuf>,

    /// The load: echo (built in) or http (built-in HTTP/1.1 client).
    #[arg(long, value_enum, default_value = "echo")]
    pub load: LoadKind,

    /// Connections, one case each (a sweep: 10,100,1000).
    #[arg(long, value_delimiter = ',', default_value = "100")]
    pub conns: Vec<usize>,

    /// Echo message sizes in bytes, one case each.
    #[arg(long, value_delimiter = ',', default_value = "128")]
    pub sizes: Vec<usize>,

    /// Requests in flight per connection in max-throughput mode, one case each.
    #[arg(long, value_delimiter = ',', default_value = "1")]
    pub pipeline: Vec<usize>,

    /// Fixed-rate mode: offered operations per second (open loop), one case each.
    /// Without it the load runs at max throughput (closed loop).
    #[arg(
        long = "rate",
        alias = "rates",
        value_delimiter = ',',
        value_name = "OPS_PER_SEC"
    )]
    pub rates: Vec<u64>,

    /// Mostly idle connections: every connection is answered once before the window, then
    /// only N of them carry the load (the rest stay open and silent). At most every --conns.
    #[arg(long, value_name = "N")]
    pub active: Option<usize>,

    /// Run only the load against a server already listening at ADDR (no server started, no
    /// server figures) and print one `result ops=… secs=…` line; one case only. For scripts
    /// that measure the server their own way (scripts/instructions-per-op.sh).
    #[arg(long, value_name = "ADDR", conflicts_with_all = ["servers", "preset"])]
    pub load_only: Option<std::net::SocketAddr>,

    /// Seconds of load per run.
    #[arg(long, default_value_t = 3.0)]
    pub secs: f64,

    /// Interleaved rounds (A B C A B C ...); the table shows medians with min and max.
    #[arg(long, default_value_t = 3)]
    pub rounds: usize,

    /// The server (or server-reactor, e.g. echo-uring) the ratios are taken against
    /// (default: the first one).
    #[arg(long)]
    pub baseline: Option<String>,

    /// The reactors a coreloop server runs on.
    #[arg(long, value_delimiter = ',', default_value = "uring,epoll")]
    pub reactors: Vec<String>,

    /// CPUs the server is pinned to ({cores} is their count unless --cores says otherwise).
    #[arg(long, value_delimiter = ',', default_value = "0")]
    pub server_cpus: Vec<usize>,

    /// The CPU the load generator is pinned to.
    #[arg(long, default_value_t = 1)]
    pub load_cpu: usize,

    /// Pin nothing (machines with one CPU; figures are then less telling).
    #[arg(long)]
    pub no_pin: bool,

    /// The value of {cores} (default: the number of --server-cpus).
    #[arg(long)]
    pub cores: Option<usize>,

    /// The address the servers listen on and the load connects to.
    #[arg(long, default_value = "127.0.0.1")]
    pub host: String,

    /// Seconds a server has to start accepting before it is reported as not listening.
    #[arg(long, default_value_t = 10.0)]
    pub start_timeout: f64,

    /// Count the server's syscalls with `perf stat` in one extra run per server and case
    /// (auto: when perf works here).
    #[arg(long, value_enum, default_value = "auto")]
    pub perf: PerfMode,

    /// Seconds of load in the perf run.
    #[arg(long, default_value_t = 1.0)]
    pub perf_secs: f64,

    /// Coreloop servers record per-op latency inside the runtime (CORELOOP_OP_LATENCY=1: it
    /// costs two clock reads per op, so CPU figures of such runs include that) and print it;
    /// the report shows p50/p99/p99.9 per op kind, io_uring beside epoll.
    #[arg(long)]
    pub op_latency: bool,

    /// Write every raw sample as JSON.
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,

    /// Write an HTML report with SVG charts.
    #[arg(long, value_name = "FILE")]
    pub html: Option<PathBuf>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Preset {
    ReactorAb,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum PerfMode {
    Auto,
    On,
    Off,
}

/// Everything a session needs, checked.
#[derive(Clone, Debug)]
pub struct Plan {
    pub groups: Vec<Group>,
    pub rounds: usize,
    pub server_cpus: Option<Vec<usize>>,
    pub load_cpu: Option<usize>,
    pub cores: usize,
    pub host: String,
    pub start_timeout: f64,
    pub perf: PerfMode,
    pub perf_secs: f64,
}

impl Cli {
    /// Checks the flags together and expands servers and sweeps; the error is one line for
    /// the user.
    pub fn plan(&self) -> Result<Plan, String> {
        let positive = |name: &str, v: f64| {
            if v.is_finite() && v > 0.0 {
                Ok(())
            } else {
                Err(format!(
                    "--{name} {v}: must be a positive number of seconds"
                ))
            }
        };
        positive("secs", self.secs)?;
        positive("start-timeout", self.start_timeout)?;
        positive("perf-secs", self.perf_secs)?;
        if self.rounds == 0 {
            return Err("--rounds 0: at least one round is needed".into());
        }
        for (flag, list) in [
            ("conns", &self.conns),
            ("sizes", &self.sizes),
            ("pipeline", &self.pipeline),
        ] {
            if list.contains(&0) {
                return Err(format!(
                    "--{flag}: 0 is not allowed (every value must be at least 1)"
                ));
            }
        }
        let most = self.conns.iter().copied().max().unwrap_or(0) as u64;
        let hard = super::procfs::fd_limit_hard();
        if most + FD_SLACK > hard {
            return Err(format!(
                "--conns {most}: the load and the server each need a descriptor per connection, but RLIMIT_NOFILE's hard limit is {hard} here (raise it: ulimit -Hn, or LimitNOFILE=)"
            ));
        }
        if let Some(a) = self.active {
            let fewest = self.conns.iter().copied().min().unwrap_or(0);
            if a == 0 || a > fewest {
                return Err(format!(
                    "--active {a}: must be between 1 and the fewest --conns ({fewest})"
                ));
            }
        }
        if self.rates.contains(&0) {
            return Err("--rate 0: a fixed rate must be at least 1 op/s (leave --rate out for max throughput)".into());
        }
        if !self.rates.is_empty() && self.pipeline.iter().any(|&d| d > 1) {
            return Err("--pipeline applies to max-throughput mode; with --rate the open-loop load sends at the intended times, pipelining as it must".into());
        }
        for r in &self.reactors {
            if !REACTORS.contains(&r.as_str()) {
                return Err(format!("--reactors {r:?}: expected uring and/or epoll"));
            }
        }
        let nproc = super::procfs::online_cpus();
        let (server_cpus, load_cpu) = if self.no_pin {
            (None, None)
        } else {
            for &c in self.server_cpus.iter().chain([&self.load_cpu]) {
                if c >= nproc {
                    return Err(format!(
                        "CPU {c} does not exist here ({nproc} CPUs: 0..{}); use --server-cpus/--load-cpu, or --no-pin",
                        nproc - 1
                    ));
                }
            }
            if self.server_cpus.contains(&self.load_cpu) {
                return Err(format!(
                    "--load-cpu {} is also a server CPU: the load would steal the server's CPU (use --no-pin on a one-CPU machine)",
                    self.load_cpu
                ));
            }
            (Some(self.server_cpus.clone()), Some(self.load_cpu))
        };
        let cores = self.cores.unwrap_or(self.server_cpus.len().max(1));
        if cores == 0 {
            return Err("--cores 0: a server needs at least one core".into());
        }

        let mut groups = match self.preset {
            Some(Preset::ReactorAb) => super::preset::reactor_ab(self)?,
            None if self.load_only.is_some() => {
                let cases = self.cases(self.load);
                if cases.len() > 1 {
                    return Err("--load-only runs one case: give one value each to --conns, --sizes, --pipeline and --rate".into());
                }
                vec![Group {
                    baseline: String::new(),
                    variants: vec![],
                    cases,
                }]
            }
            None => {
                if self.servers.is_empty() {
                    return Err("no server: give at least one --server NAME=COMMAND (or --preset reactor-ab)".into());
                }
                let variants: Vec<_> = self
                    .servers
                    .iter()
                    .flat_map(|s| s.variants(&self.reactors))
                    .collect();
                vec![Group {
                    baseline: variants[0].name.clone(),
                    variants,
                    cases: self.cases(self.load),
                }]
            }
        };
        if self.op_latency {
            for v in groups.iter_mut().flat_map(|g| g.variants.iter_mut()) {
                if v.coreloop {
                    v.env
                        .push(("CORELOOP_OP_LATENCY".to_string(), "1".to_string()));
                }
            }
        }
        let mut names: Vec<&str> = groups
            .iter()
            .flat_map(|g| g.variants.iter().map(|v| v.name.as_str()))
            .collect();
        names.sort_unstable();
        if let Some(w) = names.windows(2).find(|w| w[0] == w[1]) {
            return Err(format!(
                "two servers are named {:?}: names must differ",
                w[0]
            ));
        }
        if let Some(b) = &self.baseline {
            for g in &mut groups {
                g.baseline = resolve_baseline(b, &g.variants)?;
            }
        }
        Ok(Plan {
            groups,
            rounds: self.rounds,
            server_cpus,
            load_cpu,
            cores,
            host: self.host.clone(),
            start_timeout: self.start_timeout,
            perf: self.perf,
            perf_secs: self.perf_secs,
        })
    }

    /// The sweep: every combination of connections, sizes (echo), and depths or rates.
    pub fn cases(&self, load: LoadKind) -> Vec<Case> {
        let sizes: &[usize] = match load {
            LoadKind::Echo => &self.sizes,
            LoadKind::Http => &[0],
        };
        let modes: Vec<(usize, Option<u64>)> = if self.rates.is_empty() {
            self.pipeline.iter().map(|&d| (d, None)).collect()
        } else {
            self.rates.iter().map(|&r| (1, Some(r))).collect()
        };
        let mut cases = vec![];
        for &conns in &self.conns {
            for &size in sizes {
                for &(depth, rate) in &modes {
                    cases.push(Case {
                        load,
                        conns,
                        size,
                        depth,
                        rate,
                        secs: self.secs,
                        active: self.active,
                    });
                }
            }
        }
        cases
    }
}

/// `--baseline NAME`: a variant's name, or a server's name when it has one variant.
fn resolve_baseline(b: &str, variants: &[super::spec::Variant]) -> Result<String, String> {
    if let Some(v) = variants.iter().find(|v| v.name == b) {
        return Ok(v.name.clone());
    }
    let of_server: Vec<&str> = variants
        .iter()
        .filter(|v| v.server == b)
        .map(|v| v.name.as_str())
        .collect();
    match of_server.len() {
        1 => Ok(of_server[0].to_string()),
        0 => Err(format!(
            "--baseline {b:?} is none of the servers ({})",
            variants
                .iter()
                .map(|v| v.name.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        )),
        _ => Err(format!(
            "--baseline {b:?} runs on several reactors; name one: {}",
            of_server.join(", ")
        )),
    }
}
