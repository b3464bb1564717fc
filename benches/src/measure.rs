//! What `reactor_ab` reads off the system and the load tools: CPU time from `/proc`,
//! rescheduling interrupts, and the numbers in `echo_load`'s and wrk's output.

use std::fs;

pub fn parse_echo_load(text: &str) -> Result<(u64, f64, f64), String> {
    let line = text
        .lines()
        .find(|l| l.starts_with("result "))
        .ok_or_else(|| format!("no result line in {text:?}"))?;
    let field = |k: &str| -> Option<f64> {
        line.split_whitespace()
            .find_map(|w| w.strip_prefix(k)?.strip_prefix('=')?.parse().ok())
    };
    let errors = field("errors").unwrap_or(0.0);
    if errors > 0.0 {
        return Err(format!("{errors} connections failed: {line}"));
    }
    Ok((
        field("msgs").unwrap_or(0.0) as u64,
        field("secs").unwrap_or(1.0),
        field("p99_us").unwrap_or(f64::NAN),
    ))
}

pub fn parse_wrk(text: &str) -> Result<(u64, f64, f64), String> {
    // "  123456 requests in 3.00s, 15.66MB read"
    let (ops, secs) = text
        .lines()
        .find_map(|l| {
            let mut w = l.split_whitespace();
            let n: u64 = w.next()?.parse().ok()?;
            (w.next()? == "requests" && w.next()? == "in").then_some(())?;
            let s = w.next()?.trim_end_matches(',');
            Some((n, parse_time_us(s)? / 1e6))
        })
        .ok_or_else(|| format!("no request count in wrk output {text:?}"))?;
    let p99 = text
        .lines()
        .find_map(|l| {
            let mut w = l.split_whitespace();
            (w.next()? == "99%").then_some(())?;
            parse_time_us(w.next()?)
        })
        .unwrap_or(f64::NAN);
    if text.contains("Non-2xx") || text.contains("Socket errors") {
        eprintln!(
            "   wrk: {}",
            text.lines()
                .filter(|l| l.contains("errors") || l.contains("Non-2xx"))
                .collect::<Vec<_>>()
                .join("; ")
        );
    }
    Ok((ops, secs, p99))
}

/// wrk's `1.23ms`, `456.00us`, `2.00s`, `1.5m` in µs.
pub fn parse_time_us(s: &str) -> Option<f64> {
    let (num, mul) = if let Some(n) = s.strip_suffix("us") {
        (n, 1.0)
    } else if let Some(n) = s.strip_suffix("ms") {
        (n, 1e3)
    } else if let Some(n) = s.strip_suffix('s') {
        (n, 1e6)
    } else if let Some(n) = s.strip_suffix('m') {
        (n, 60e6)
    } else {
        return None;
    };
    num.parse::<f64>().ok().map(|v| v * mul)
}

/// utime + stime of every thread of `pid`, in clock ticks.
pub fn cpu_ticks(pid: i32) -> Result<u64, String> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).map_err(|e| e.to_string())?;
    // Fields after the command name, which is in parentheses and may hold spaces.
    let rest = &stat[stat.rfind(')').ok_or("bad /proc stat")? + 2..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    // rest starts at field 3 (state): utime is field 14, stime 15.
    let utime: u64 = f[11].parse().map_err(|_| "bad utime")?;
    let stime: u64 = f[12].parse().map_err(|_| "bad stime")?;
    Ok(utime + stime)
}

pub fn clock_ticks_per_sec() -> f64 {
    // SAFETY: sysconf takes no pointers.
    let n = unsafe { sysconf(2) }; // _SC_CLK_TCK
    if n > 0 { n as f64 } else { 100.0 }
}

/// The rescheduling interrupts CPU `cpu` has taken (`RES` in `/proc/interrupts`).
pub fn res_interrupts(cpu: usize) -> Result<u64, String> {
    let text = fs::read_to_string("/proc/interrupts").map_err(|e| e.to_string())?;
    let line = text
        .lines()
        .find(|l| l.trim_start().starts_with("RES:"))
        .ok_or("no RES line in /proc/interrupts")?;
    line.split_whitespace()
        .nth(1 + cpu)
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| format!("no CPU {cpu} column in {line:?}"))
}

/// Sends `sig` to process `pid` (errors ignored: the process may be gone already).
pub fn signal(pid: i32, sig: i32) {
    // SAFETY: kill takes no pointers.
    unsafe { kill(pid, sig) };
}

unsafe extern "C" {
    fn kill(pid: i32, sig: i32) -> i32;
    fn sysconf(name: i32) -> i64;
}

pub fn median(v: &mut [f64]) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    if v.is_empty() {
        f64::NAN
    } else if v.len() % 2 == 1 {
        v[v.len() / 2]
    } else {
        (v[v.len() / 2 - 1] + v[v.len() / 2]) / 2.0
    }
}
