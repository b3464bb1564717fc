//! What `coreloop-bench` reads off `/proc`: the CPU time and memory of a server's whole
//! process tree, rescheduling interrupts, steal time, and the machine facts of the header.

use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::fs;

/// CPU time (clock ticks) and resident memory (KiB) summed over a process tree.
#[derive(Clone, Debug, Default)]
pub struct TreeUsage {
    pub utime: u64,
    pub stime: u64,
    pub rss_kib: u64,
    pub pids: Vec<i32>,
}

struct Stat {
    ppid: i32,
    utime: u64,
    stime: u64,
    rss_pages: u64,
}

fn read_stat(path: &str) -> Option<Stat> {
    let text = fs::read_to_string(path).ok()?;
    // The fields after the command name, which is in parentheses and may hold anything.
    let rest = &text[text.rfind(')')? + 2..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    // `rest` starts at field 3 (state): ppid is field 4, utime 14, stime 15, rss 24.
    Some(Stat {
        ppid: f.get(1)?.parse().ok()?,
        utime: f.get(11)?.parse().ok()?,
        stime: f.get(12)?.parse().ok()?,
        rss_pages: f.get(21)?.parse().ok()?,
    })
}

/// `root` and all its descendants, as they are now (a process's stat covers its threads).
pub fn tree_usage(root: i32) -> TreeUsage {
    let mut stats: HashMap<i32, Stat> = HashMap::new();
    if let Ok(dir) = fs::read_dir("/proc") {
        for e in dir.flatten() {
            if let Some(pid) = e.file_name().to_str().and_then(|s| s.parse::<i32>().ok())
                && let Some(s) = read_stat(&format!("/proc/{pid}/stat"))
            {
                stats.insert(pid, s);
            }
        }
    }
    let page_kib = page_size() / 1024;
    let mut u = TreeUsage::default();
    for (&pid, s) in &stats {
        // Walk up to see whether `root` is an ancestor (or the process itself).
        let mut p = pid;
        let mut hops = 0;
        while p != root && p > 1 && hops < 64 {
            p = stats.get(&p).map_or(0, |s| s.ppid);
            hops += 1;
        }
        if p == root {
            u.utime += s.utime;
            u.stime += s.stime;
            u.rss_kib += s.rss_pages * page_kib;
            u.pids.push(pid);
        }
    }
    u
}

/// What the kernel shows of the processes' event machinery, whatever the server prints:
/// its io_uring instances (with their queue sizes and whether an SQPOLL thread runs, from
/// `/proc/PID/fdinfo`) and epoll instances. E.g. `io_uring x2 (sq 256, cq 512)`,
/// `epoll x1`. The ring's setup flags (SINGLE_ISSUER, DEFER_TASKRUN) are not shown there.
pub fn event_objects(pids: &[i32]) -> Option<String> {
    let (mut rings, mut epolls, mut sizes, mut sqpoll) = (0, 0, None, false);
    for pid in pids {
        let Ok(dir) = fs::read_dir(format!("/proc/{pid}/fd")) else {
            continue;
        };
        for e in dir.flatten() {
            let Ok(target) = fs::read_link(e.path()) else {
                continue;
            };
            match target.to_string_lossy().as_ref() {
                "anon_inode:[io_uring]" => {
                    rings += 1;
                    let info = fs::read_to_string(format!(
                        "/proc/{pid}/fdinfo/{}",
                        e.file_name().to_string_lossy()
                    ))
                    .unwrap_or_default();
                    let field = |k: &str| {
                        info.lines()
                            .find_map(|l| l.strip_prefix(k))
                            .map(|v| v.trim().to_string())
                    };
                    let mask = |k: &str| {
                        field(k)
                            .and_then(|v| u64::from_str_radix(v.trim_start_matches("0x"), 16).ok())
                            .map(|m| m + 1)
                    };
                    if let (Some(sq), Some(cq)) = (mask("SqMask:"), mask("CqMask:")) {
                        // The largest ring stands for the set (a probe ring may be small).
                        if sizes.is_none_or(|(s, _)| sq > s) {
                            sizes = Some((sq, cq));
                        }
                    }
                    sqpoll |= field("SqThread:").is_some_and(|v| v != "-1");
                }
                "anon_inode:[eventpoll]" => epolls += 1,
                _ => {}
            }
        }
    }
    let mut parts = vec![];
    if rings > 0 {
        let mut s = format!("io_uring x{rings}");
        if let Some((sq, cq)) = sizes {
            s.push_str(&format!(
                " (sq {sq}, cq {cq}{})",
                if sqpoll { ", sqpoll" } else { "" }
            ));
        }
        parts.push(s);
    }
    if epolls > 0 {
        parts.push(format!("epoll x{epolls}"));
    }
    (!parts.is_empty()).then(|| parts.join(", "))
}

/// This process's own CPU ticks (the load generator's threads and the tool's).
pub fn self_ticks() -> u64 {
    read_stat("/proc/self/stat").map_or(0, |s| s.utime + s.stime)
}

pub fn clock_ticks_per_sec() -> f64 {
    // SAFETY: sysconf takes no pointers.
    let n = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    if n > 0 { n as f64 } else { 100.0 }
}

fn page_size() -> u64 {
    // SAFETY: sysconf takes no pointers.
    let n = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    if n > 0 { n as u64 } else { 4096 }
}

/// Rescheduling interrupts (`RES` in `/proc/interrupts`) taken by the given CPUs, or by all.
pub fn res_interrupts(cpus: Option<&[usize]>) -> Option<u64> {
    let text = fs::read_to_string("/proc/interrupts").ok()?;
    let line = text.lines().find(|l| l.trim_start().starts_with("RES:"))?;
    let counts: Vec<u64> = line
        .split_whitespace()
        .skip(1)
        .map_while(|v| v.parse().ok())
        .collect();
    Some(match cpus {
        Some(cpus) => cpus.iter().filter_map(|&c| counts.get(c)).sum(),
        None => counts.iter().sum(),
    })
}

/// The aggregate `cpu` line of `/proc/stat`: (steal ticks, all ticks).
pub fn steal_ticks() -> (u64, u64) {
    let text = fs::read_to_string("/proc/stat").unwrap_or_default();
    let Some(line) = text.lines().find(|l| l.starts_with("cpu ")) else {
        return (0, 0);
    };
    let f: Vec<u64> = line
        .split_whitespace()
        .skip(1)
        .filter_map(|v| v.parse().ok())
        .collect();
    // user nice system idle iowait irq softirq steal [guest guest_nice, already in user]
    let total: u64 = f.iter().take(8).sum();
    (f.get(7).copied().unwrap_or(0), total)
}

/// User + system ticks spent on `cpus` (all CPUs if `None`) by everyone, from the
/// `cpuN` lines of `/proc/stat` (interrupt time left out: loopback traffic lands there).
pub fn cpu_busy_ticks(cpus: Option<&[usize]>) -> u64 {
    let text = fs::read_to_string("/proc/stat").unwrap_or_default();
    text.lines()
        .filter_map(|l| {
            let (name, rest) = l.split_once(' ')?;
            let n: usize = name.strip_prefix("cpu")?.parse().ok()?;
            if cpus.is_some_and(|c| !c.contains(&n)) {
                return None;
            }
            let f: Vec<u64> = rest
                .split_whitespace()
                .filter_map(|v| v.parse().ok())
                .collect();
            // user nice system
            Some(f.iter().take(3).sum::<u64>())
        })
        .sum()
}

/// The header of every report.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Machine {
    pub kernel: String,
    pub cpu_model: String,
    pub vcpus: usize,
    pub server_cpus: Option<Vec<usize>>,
    pub load_cpu: Option<usize>,
    /// Whether `perf stat` could count syscalls here.
    pub perf: bool,
    /// Seconds since the epoch when the session started.
    pub started_unix: u64,
}

impl Machine {
    pub fn probe(server_cpus: Option<Vec<usize>>, load_cpu: Option<usize>, perf: bool) -> Machine {
        let cpuinfo = fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
        let cpu_model = cpuinfo
            .lines()
            .find(|l| l.starts_with("model name"))
            .and_then(|l| l.split_once(':'))
            .map_or("unknown".into(), |(_, v)| v.trim().to_string());
        Machine {
            kernel: fs::read_to_string("/proc/sys/kernel/osrelease")
                .map_or("unknown".into(), |s| s.trim().to_string()),
            cpu_model,
            vcpus: online_cpus(),
            server_cpus,
            load_cpu,
            perf,
            started_unix: std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs()),
        }
    }
}

/// The machine's online CPUs (not the calling thread's affinity, which pinning narrows).
pub fn online_cpus() -> usize {
    // SAFETY: sysconf takes no pointers.
    let n = unsafe { libc::sysconf(libc::_SC_NPROCESSORS_ONLN) };
    if n > 0 { n as usize } else { 1 }
}

/// Pins the calling thread (and what it later spawns) to `cpus`.
pub fn pin_current_thread(cpus: &[usize]) -> std::io::Result<()> {
    // SAFETY: cpu_set_t is plain data; all-zero is the empty set.
    let mut set: libc::cpu_set_t = unsafe { std::mem::zeroed() };
    for &c in cpus {
        // SAFETY: CPU_SET writes inside `set`, which lives across the call.
        unsafe { libc::CPU_SET(c, &mut set) };
    }
    // SAFETY: `set` is a valid cpu_set_t of the size passed; pid 0 is the calling thread.
    let r = unsafe { libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set) };
    if r == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

/// The hard descriptor limit (`RLIMIT_NOFILE`): the most the load or a server can raise to.
pub fn fd_limit_hard() -> u64 {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: `lim` is a valid rlimit the kernel writes into.
    match unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) } {
        0 => lim.rlim_max,
        _ => u64::MAX,
    }
}

/// Raises the soft descriptor limit to the hard one, for sweeps to 10,000 connections.
pub fn raise_fd_limit() {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: `lim` is a valid rlimit the kernel writes into.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) } == 0 {
        lim.rlim_cur = lim.rlim_max;
        // SAFETY: `lim` is a valid rlimit the kernel reads.
        unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &lim) };
    }
}
