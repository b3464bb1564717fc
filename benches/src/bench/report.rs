//! The record of a session (every raw sample, serialisable), the per-case summaries
//! (medians with min and max, ratios to the baseline, warnings), and the terminal table.

use super::procfs::Machine;
use super::spec::{Case, Variant};
use serde::{Deserialize, Serialize};

/// Steal above this share of CPU time during a run makes its row unreliable.
pub const STEAL_WARN_PCT: f64 = 5.0;
/// The load generator's CPU above this share means it, not the server, may be the limit.
pub const LOAD_SATURATED_PCT: f64 = 90.0;
/// Other processes taking more than this share of the server CPUs skew its figures.
pub const OTHERS_WARN_PCT: f64 = 10.0;

/// Everything a session measured; `--json` writes it and [`Report::from_json`] reads it back.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Report {
    /// The command line that produced it.
    pub command_line: Vec<String>,
    pub machine: Machine,
    pub groups: Vec<GroupRecord>,
    pub runs: Vec<RunRecord>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GroupRecord {
    pub baseline: String,
    pub variants: Vec<Variant>,
    pub cases: Vec<Case>,
}

/// One run of one server under one case.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunRecord {
    pub group: usize,
    /// [`Case::key`].
    pub case: String,
    /// [`Variant::name`].
    pub server: String,
    /// 0-based; the perf run has the number after the last round.
    pub round: usize,
    /// The extra run under `perf stat` (its figures are slowed by the tracepoint and kept
    /// out of the medians; only its syscall count is used).
    pub perf_run: bool,
    pub outcome: Outcome,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum Outcome {
    Ok(Box<Sample>),
    Failed { reason: String },
}

/// What one run measured. Per-op figures divide by answered operations.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Sample {
    pub ops: u64,
    pub secs: f64,
    pub ops_per_sec: f64,
    /// Fixed rate: what the schedule offered, per second.
    pub offered_per_sec: Option<f64>,
    /// What the load generator actually wrote in the window, per second.
    pub sent_per_sec: f64,
    pub user_us_per_op: f64,
    pub sys_us_per_op: f64,
    /// The server tree's CPU over the window, in % of one CPU.
    pub server_cpu_pct: f64,
    /// (quantile, µs) points; from the intended send time in fixed-rate mode.
    pub latency_us: Vec<(f64, f64)>,
    pub p50_us: f64,
    pub p99_us: f64,
    pub p999_us: f64,
    pub res_per_op: Option<f64>,
    pub rss_kib_idle: u64,
    pub rss_kib_loaded: u64,
    pub rss_kib_per_conn: f64,
    /// coreloop's own counters (reactor + op syscalls), for coreloop servers.
    pub coreloop_syscalls_per_op: Option<f64>,
    /// `perf stat -e raw_syscalls:sys_enter` (perf runs only).
    pub perf_syscalls_per_op: Option<f64>,
    /// Per-op latency inside a coreloop server's runtime (`--op-latency`).
    #[serde(default)]
    pub op_latency: Vec<super::server::OpLatencyRow>,
    /// The reactor the server said it ran.
    pub reactor: Option<String>,
    pub ring_flags: Option<String>,
    /// The io_uring and epoll instances the server's processes held mid-run (from /proc).
    #[serde(default)]
    pub event_objects: Option<String>,
    pub steal_pct: f64,
    /// The load generator's CPU over the window, in % of one CPU.
    pub load_cpu_pct: f64,
    /// CPU time other processes took on the server CPUs over the window, in % of one CPU
    /// (a machine shared with other work).
    #[serde(default)]
    pub others_on_server_cpus_pct: f64,
    pub warnings: Vec<String>,
}

impl Report {
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("a report serialises")
    }

    pub fn from_json(text: &str) -> Result<Report, String> {
        serde_json::from_str(text).map_err(|e| e.to_string())
    }
}

/// The table row of one server in one case.
#[derive(Clone, Debug)]
pub struct Summary {
    pub group: usize,
    pub case: String,
    pub server: String,
    pub samples: Vec<Sample>,
    pub failures: Vec<String>,
    pub ops_med: f64,
    pub ops_min: f64,
    pub ops_max: f64,
    pub user_med: f64,
    pub sys_med: f64,
    pub p50: f64,
    pub p99: f64,
    pub p999: f64,
    pub res: Option<f64>,
    pub rss_per_conn: f64,
    pub coreloop_sys: Option<f64>,
    pub perf_sys: Option<f64>,
    pub reactor: Option<String>,
    pub event_objects: Option<String>,
    pub ratio_ops: Option<f64>,
    pub ratio_cpu: Option<f64>,
    pub notes: Vec<String>,
}

pub fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    match v.len() {
        0 => 0.0,
        n if n % 2 == 1 => v[n / 2],
        n => (v[n / 2 - 1] + v[n / 2]) / 2.0,
    }
}

fn med_opt(v: Vec<Option<f64>>) -> Option<f64> {
    let v: Vec<f64> = v.into_iter().flatten().collect();
    (!v.is_empty()).then(|| median(v))
}

pub fn summarize(report: &Report) -> Vec<Summary> {
    let mut out = vec![];
    for (gi, g) in report.groups.iter().enumerate() {
        for case in &g.cases {
            let key = case.key();
            let mut rows: Vec<Summary> = g
                .variants
                .iter()
                .map(|v| summarize_one(report, gi, &key, v))
                .collect();
            let base = rows
                .iter()
                .find(|r| r.server == g.baseline && !r.samples.is_empty())
                .map(|r| (r.ops_med, r.user_med + r.sys_med));
            for r in &mut rows {
                if let Some((bo, bc)) = base
                    && !r.samples.is_empty()
                {
                    r.ratio_ops = (bo > 0.0).then(|| r.ops_med / bo);
                    r.ratio_cpu = (bc > 0.0).then(|| (r.user_med + r.sys_med) / bc);
                }
            }
            out.extend(rows);
        }
    }
    out
}

fn summarize_one(report: &Report, group: usize, case: &str, v: &Variant) -> Summary {
    let runs = report
        .runs
        .iter()
        .filter(|r| r.group == group && r.case == case && r.server == v.name);
    let mut samples = vec![];
    let mut failures = vec![];
    let mut perf_sys = None;
    for r in runs {
        match (&r.outcome, r.perf_run) {
            (Outcome::Ok(s), false) => samples.push(s.as_ref().clone()),
            (Outcome::Ok(s), true) => perf_sys = s.perf_syscalls_per_op,
            (Outcome::Failed { reason }, false) => failures.push(reason.clone()),
            (Outcome::Failed { .. }, true) => {}
        }
    }
    let f = |get: fn(&Sample) -> f64| median(samples.iter().map(get).collect());
    let ops: Vec<f64> = samples.iter().map(|s| s.ops_per_sec).collect();
    let mut notes = vec![];
    if !failures.is_empty() {
        let mut uniq = failures.clone();
        uniq.dedup();
        notes.push(if samples.is_empty() {
            uniq.join(" | ")
        } else {
            format!(
                "{} of {} rounds failed: {}",
                failures.len(),
                failures.len() + samples.len(),
                uniq.join(" | ")
            )
        });
    }
    let reactor = samples.iter().find_map(|s| s.reactor.clone());
    if let (Some(asked), Some(ran)) = (&v.reactor, &reactor)
        && asked != ran
    {
        notes.push(format!("asked for {asked}, ran {ran}"));
    }
    notes.extend(merge_warnings(&samples));
    Summary {
        group,
        case: case.to_string(),
        server: v.name.clone(),
        failures,
        ops_med: median(ops.clone()),
        ops_min: ops.iter().copied().fold(f64::INFINITY, f64::min),
        ops_max: ops.iter().copied().fold(0.0, f64::max),
        user_med: f(|s| s.user_us_per_op),
        sys_med: f(|s| s.sys_us_per_op),
        p50: f(|s| s.p50_us),
        p99: f(|s| s.p99_us),
        p999: f(|s| s.p999_us),
        res: med_opt(samples.iter().map(|s| s.res_per_op).collect()),
        rss_per_conn: f(|s| s.rss_kib_per_conn),
        coreloop_sys: med_opt(samples.iter().map(|s| s.coreloop_syscalls_per_op).collect()),
        perf_sys,
        reactor,
        event_objects: samples.iter().find_map(|s| s.event_objects.clone()),
        ratio_ops: None,
        ratio_cpu: None,
        notes,
        samples,
    }
}

/// The rounds' warnings, one note per kind: `UNRELIABLE: steal 7–12% (2 of 3 rounds)`.
fn merge_warnings(samples: &[Sample]) -> Vec<String> {
    // A warning's kind is its text without its numbers; its figure is its first number.
    let kind = |w: &str| -> String {
        w.chars()
            .filter(|c| !c.is_ascii_digit() && *c != '.')
            .collect()
    };
    let figure = |w: &str| -> Option<(usize, usize, f64)> {
        let start = w.find(|c: char| c.is_ascii_digit())?;
        let len = w[start..]
            .find(|c: char| !c.is_ascii_digit() && c != '.')
            .unwrap_or(w.len() - start);
        Some((start, start + len, w[start..start + len].parse().ok()?))
    };
    let mut kinds: Vec<(String, Vec<&str>)> = vec![];
    for w in samples.iter().flat_map(|s| &s.warnings) {
        let k = kind(w);
        match kinds.iter_mut().find(|(x, _)| *x == k) {
            Some((_, v)) => v.push(w),
            None => kinds.push((k, vec![w])),
        }
    }
    kinds
        .into_iter()
        .map(|(_, ws)| {
            let first = ws[0];
            let text = match figure(first) {
                Some((a, b, _)) if ws.len() > 1 => {
                    let figs: Vec<f64> = ws.iter().filter_map(|w| figure(w).map(|f| f.2)).collect();
                    let lo = figs.iter().copied().fold(f64::INFINITY, f64::min);
                    let hi = figs.iter().copied().fold(0.0, f64::max);
                    if lo == hi {
                        first.to_string()
                    } else {
                        format!("{}{lo}–{hi}{}", &first[..a], &first[b..])
                    }
                }
                _ => first.to_string(),
            };
            format!("{text} ({} of {} rounds)", ws.len(), samples.len())
        })
        .collect()
}

/// Warnings for one sample: steal, a saturated load generator, a schedule not kept.
pub fn warnings(s: &Sample) -> Vec<String> {
    let mut w = vec![];
    if s.steal_pct > STEAL_WARN_PCT {
        w.push(format!("UNRELIABLE: steal {:.0}%", s.steal_pct));
    }
    if s.load_cpu_pct > LOAD_SATURATED_PCT {
        w.push(format!(
            "UNRELIABLE: load generator at {:.0}% CPU (load-bound)",
            s.load_cpu_pct
        ));
    }
    if s.others_on_server_cpus_pct > OTHERS_WARN_PCT {
        w.push(format!(
            "UNRELIABLE: other processes took {:.0}% of the server CPUs",
            s.others_on_server_cpus_pct
        ));
    }
    if let Some(offered) = s.offered_per_sec {
        if s.sent_per_sec < 0.98 * offered {
            w.push(format!(
                "load fell behind: sent {:.0}/s of {offered:.0}/s",
                s.sent_per_sec
            ));
        }
        if s.ops_per_sec < 0.98 * s.sent_per_sec {
            w.push(format!(
                "server fell behind: answered {:.0}/s of {:.0}/s",
                s.ops_per_sec, s.sent_per_sec
            ));
        }
    }
    w
}

fn num(v: f64, digits: usize) -> String {
    if v.is_finite() {
        format!("{v:.digits$}")
    } else {
        "n/a".into()
    }
}

fn opt(v: Option<f64>, digits: usize) -> String {
    v.map_or("n/a".into(), |v| num(v, digits))
}

/// The header and the table, as Markdown (it reads on a terminal and pastes into a file).
pub fn table(report: &Report, rounds: usize) -> String {
    let m = &report.machine;
    let mut t = String::new();
    t.push_str(&format!(
        "coreloop-bench: kernel {}, {}, {} vCPUs; server on CPU {}, load on CPU {}; {rounds} interleaved round{}, medians (min–max); perf {}\n\n",
        m.kernel,
        m.cpu_model,
        m.vcpus,
        m.server_cpus.as_ref().map_or("any".into(), |c| c.iter().map(|c| c.to_string()).collect::<Vec<_>>().join(",")),
        m.load_cpu.map_or("any".into(), |c| c.to_string()),
        if rounds == 1 { "" } else { "s" },
        if m.perf { "on (one extra run per server and case)" } else { "off or unavailable (syscalls/op (perf): n/a)" },
    ));
    let samples: Vec<&Sample> = report
        .runs
        .iter()
        .filter_map(|r| match &r.outcome {
            Outcome::Ok(s) if !r.perf_run => Some(s.as_ref()),
            _ => None,
        })
        .collect();
    if !samples.is_empty() {
        let steal = median(samples.iter().map(|s| s.steal_pct).collect());
        let steal_max = samples.iter().map(|s| s.steal_pct).fold(0.0, f64::max);
        let others = median(
            samples
                .iter()
                .map(|s| s.others_on_server_cpus_pct)
                .collect(),
        );
        let unreliable = samples
            .iter()
            .filter(|s| s.warnings.iter().any(|w| w.starts_with("UNRELIABLE")))
            .count();
        t.push_str(&format!(
            "steal during the runs: median {steal:.1}%, max {steal_max:.1}%; other processes on the server CPUs: median {others:.0}%; {unreliable} of {} runs marked UNRELIABLE\n\n",
            samples.len()
        ));
    }
    t.push_str("| case | server | reactor | ops/s | min–max | ×base | user µs/op | sys µs/op | CPU ×base | p50 µs | p99 µs | p99.9 µs | syscalls/op (perf) | syscalls/op (coreloop) | RES irq/op | RSS KiB/conn | event fds | notes |\n");
    t.push_str(
        "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---|\n",
    );
    for s in summarize(report) {
        let base = &report.groups[s.group].baseline;
        let is_base = &s.server == base;
        if s.samples.is_empty() {
            t.push_str(&format!(
                "| {} | {} | | FAILED | | | | | | | | | | | | | | {} |\n",
                s.case,
                s.server,
                s.notes.join("; ")
            ));
            continue;
        }
        let ratio = |r: Option<f64>| {
            if is_base {
                "base".to_string()
            } else {
                r.map_or("n/a".into(), |r| format!("{r:.2}"))
            }
        };
        t.push_str(&format!(
            "| {} | {} | {} | {} | {}–{} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |\n",
            s.case,
            s.server,
            s.reactor.as_deref().unwrap_or("-"),
            num(s.ops_med, 0),
            num(s.ops_min, 0),
            num(s.ops_max, 0),
            ratio(s.ratio_ops),
            num(s.user_med, 2),
            num(s.sys_med, 2),
            ratio(s.ratio_cpu),
            num(s.p50, 0),
            num(s.p99, 0),
            num(s.p999, 0),
            opt(s.perf_sys, 3),
            opt(s.coreloop_sys, 3),
            opt(s.res, 4),
            num(s.rss_per_conn, 1),
            s.event_objects.as_deref().unwrap_or("-"),
            s.notes.join("; ")
        ));
    }
    t.push_str(&op_latency_table(report));
    t
}

/// Per-op latency inside the runtime, for coreloop servers run with `--op-latency`: per case,
/// op kind and server, the median over rounds of each percentile, in µs.
fn op_latency_table(report: &Report) -> String {
    let mut rows: Vec<String> = Vec::new();
    for s in summarize(report) {
        let mut kinds: Vec<&str> = s
            .samples
            .iter()
            .flat_map(|x| x.op_latency.iter().map(|r| r.kind.as_str()))
            .collect();
        kinds.sort_unstable();
        kinds.dedup();
        for kind in kinds {
            let med = |f: fn(&super::server::OpLatencyRow) -> u64, unit: f64| {
                median(
                    s.samples
                        .iter()
                        .filter_map(|x| x.op_latency.iter().find(|r| r.kind == kind))
                        .map(|r| f(r) as f64 / unit)
                        .collect(),
                )
            };
            let of = |f| med(f, 1000.0);
            rows.push(format!(
                "| {} | {} | {} | {} | {} | {} | {} |\n",
                s.case,
                kind,
                s.server,
                num(med(|r| r.count, 1.0), 0),
                num(of(|r| r.p50_ns), 1),
                num(of(|r| r.p99_ns), 1),
                num(of(|r| r.p999_ns), 1)
            ));
        }
    }
    if rows.is_empty() {
        return String::new();
    }
    let mut t = String::from(
        "\nPer-op latency inside the runtime (start to completion, per core's busiest, medians over rounds; µs). A read's time includes waiting for data to arrive.\n\n| case | op | server | count | p50 | p99 | p99.9 |\n|---|---|---|---:|---:|---:|---:|\n",
    );
    rows.sort();
    for r in rows {
        t.push_str(&r);
    }
    t
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn op_latency_lines_parse_per_kind() {
        let rows = super::super::server::parse_op_latency(
            "oplat reactor=uring core=1 recv=10/2000/3000/4000/5000 send=3/1/2/3/4 bad=1/2",
        );
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].kind, "recv");
        assert_eq!(
            (rows[0].count, rows[0].p50_ns, rows[0].p999_ns),
            (10, 2000, 4000)
        );
    }

    #[test]
    fn warnings_merge_into_one_note_per_kind_with_their_range() {
        let with = |w: &[&str]| Sample {
            warnings: w.iter().map(|s| s.to_string()).collect(),
            ..Sample::default()
        };
        let samples = [
            with(&["UNRELIABLE: other processes took 47% of the server CPUs"]),
            with(&[
                "UNRELIABLE: other processes took 73% of the server CPUs",
                "UNRELIABLE: steal 7%",
            ]),
            with(&[]),
        ];
        assert_eq!(
            merge_warnings(&samples),
            [
                "UNRELIABLE: other processes took 47–73% of the server CPUs (2 of 3 rounds)",
                "UNRELIABLE: steal 7% (1 of 3 rounds)",
            ]
        );
    }
}
