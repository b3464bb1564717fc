//! Running one server: started under `sh -c 'exec COMMAND'` in its own process group,
//! pinned to the server CPUs, its stdout and stderr kept in files; ready when its port
//! accepts; stopped with SIGTERM to the group, then SIGKILL. Every wait is bounded, so a
//! server that never starts, exits, or hangs becomes a reason in the table, not a hang.

use super::spec::Variant;
use std::fs;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct Server {
    child: Child,
    pub pid: i32,
    pub addr: SocketAddr,
    out: PathBuf,
    err: PathBuf,
    coreloop: bool,
}

/// A port nobody listens on now (bound and released; the race with other programs is
/// accepted: a taken port shows as a server that failed to start).
pub fn free_port(host: &str) -> Result<u16, String> {
    let l =
        TcpListener::bind((host, 0)).map_err(|e| format!("finding a free port on {host}: {e}"))?;
    l.local_addr().map(|a| a.port()).map_err(|e| e.to_string())
}

impl Server {
    /// Starts `variant` and waits (at most `timeout`) for its port to accept.
    pub fn start(
        variant: &Variant,
        host: &str,
        cores: usize,
        cpus: Option<&[usize]>,
        work: &Path,
        timeout: Duration,
    ) -> Result<Server, String> {
        let port = free_port(host)?;
        let addr: SocketAddr = format!("{host}:{port}")
            .parse()
            .map_err(|e| format!("--host {host}: {e}"))?;
        let command = variant.command_for(port, cores);
        let out = work.join(format!("{}.out", variant.name));
        let err = work.join(format!("{}.err", variant.name));
        let mut cmd = Command::new("sh");
        cmd.arg("-c")
            .arg(format!("exec {command}"))
            .envs(variant.env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .stdout(fs::File::create(&out).map_err(|e| e.to_string())?)
            .stderr(fs::File::create(&err).map_err(|e| e.to_string())?)
            .process_group(0);
        if let Some(cpus) = cpus {
            let cpus = cpus.to_vec();
            // SAFETY: between fork and exec only sched_setaffinity runs, which is
            // async-signal-safe and touches only the child's own copy of `cpus`.
            unsafe {
                cmd.pre_exec(move || super::procfs::pin_current_thread(&cpus));
            }
        }
        let child = cmd
            .spawn()
            .map_err(|e| format!("could not start `{command}`: {e}"))?;
        let mut srv = Server {
            pid: child.id() as i32,
            child,
            addr,
            out,
            err,
            coreloop: variant.coreloop,
        };
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = srv.exited() {
                return Err(format!(
                    "exited ({status}) before accepting on {addr}{}",
                    srv.output_tail()
                ));
            }
            if TcpStream::connect_timeout(&addr, Duration::from_millis(100)).is_ok() {
                return Ok(srv);
            }
            if Instant::now() >= deadline {
                return Err(format!(
                    "never accepted on {addr} within {:.1} s{}",
                    timeout.as_secs_f64(),
                    srv.output_tail()
                ));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// `Some(status)` once the server has exited.
    pub fn exited(&mut self) -> Option<String> {
        match self.child.try_wait() {
            Ok(Some(s)) => Some(s.to_string()),
            Ok(None) => None,
            Err(e) => Some(format!("unknown status: {e}")),
        }
    }

    /// The last line the server wrote on stderr (or stdout), for a failure message.
    pub fn output_tail(&self) -> String {
        let text = fs::read_to_string(&self.err).unwrap_or_default();
        let text = if text.trim().is_empty() {
            fs::read_to_string(&self.out).unwrap_or_default()
        } else {
            text
        };
        match text.lines().rev().find(|l| !l.trim().is_empty()) {
            Some(l) => format!("; it said: {}", l.chars().take(160).collect::<String>()),
            None => String::new(),
        }
    }

    /// The reactor the server says it runs (`reactor uring`, `reactor=epoll`, …), and the
    /// ring flags if it prints them (`flags=…`).
    pub fn reported_reactor(&self) -> (Option<String>, Option<String>) {
        let text = format!(
            "{}\n{}",
            fs::read_to_string(&self.out).unwrap_or_default(),
            fs::read_to_string(&self.err).unwrap_or_default()
        );
        (find_reactor(&text), find_word_after(&text, "flags="))
    }

    /// A coreloop server's syscall count (reactor + op syscalls from the `stats` line it
    /// prints on SIGUSR1); `None` for other servers or if none comes within a second.
    pub fn coreloop_syscalls(&self) -> Option<u64> {
        if !self.coreloop {
            return None;
        }
        let before = stats_lines(&self.err).len();
        super::signal(self.pid, libc::SIGUSR1);
        let deadline = Instant::now() + Duration::from_secs(1);
        while Instant::now() < deadline {
            let lines = stats_lines(&self.err);
            if lines.len() > before {
                let line = &lines[lines.len() - 1];
                let field = |k: &str| -> Option<u64> {
                    line.split_whitespace()
                        .find_map(|w| w.strip_prefix(k)?.strip_prefix('=')?.parse().ok())
                };
                return Some(field("reactor_syscalls")? + field("op_syscalls").unwrap_or(0));
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        None
    }

    /// The per-op latency a coreloop server printed with its last counters (`oplat` lines,
    /// one per core, when it runs with `CORELOOP_OP_LATENCY=1`): per op kind, the core that
    /// did the most of them. Empty for other servers.
    pub fn coreloop_op_latency(&self) -> Vec<OpLatencyRow> {
        if !self.coreloop {
            return Vec::new();
        }
        // The lines follow the stats line of the last SIGUSR1; give them a moment.
        std::thread::sleep(Duration::from_millis(50));
        let text = fs::read_to_string(&self.err).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        let last_stats = lines.iter().rposition(|l| l.starts_with("stats "));
        let after = last_stats.map_or(&lines[..0], |i| &lines[i + 1..]);
        let mut rows: Vec<OpLatencyRow> = Vec::new();
        for line in after.iter().filter(|l| l.starts_with("oplat ")) {
            for row in parse_op_latency(line) {
                match rows.iter_mut().find(|r| r.kind == row.kind) {
                    Some(r) if r.count >= row.count => {}
                    Some(r) => *r = row,
                    None => rows.push(row),
                }
            }
        }
        rows.sort_by(|a, b| a.kind.cmp(&b.kind));
        rows
    }

    /// SIGTERM to the group, up to 3 s to exit, then SIGKILL.
    pub fn stop(mut self) {
        super::signal(-self.pid, libc::SIGTERM);
        let deadline = Instant::now() + Duration::from_secs(3);
        while Instant::now() < deadline {
            if self.exited().is_some() {
                break;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        // The group may hold more than the process we started.
        super::signal(-self.pid, libc::SIGKILL);
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if self.exited().is_none() {
            super::signal(-self.pid, libc::SIGKILL);
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// One op kind's latency inside a coreloop server's runtime, in nanoseconds.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct OpLatencyRow {
    pub kind: String,
    pub count: u64,
    pub p50_ns: u64,
    pub p99_ns: u64,
    pub p999_ns: u64,
}

/// `oplat reactor=uring core=0 recv=count/p50/p99/p999/max …` → one row per kind.
pub fn parse_op_latency(line: &str) -> Vec<OpLatencyRow> {
    line.split_whitespace()
        .filter_map(|w| {
            let (kind, v) = w.split_once('=')?;
            let n: Vec<u64> = v
                .split('/')
                .map(|x| x.parse().ok())
                .collect::<Option<_>>()?;
            (n.len() == 5).then(|| OpLatencyRow {
                kind: kind.to_string(),
                count: n[0],
                p50_ns: n[1],
                p99_ns: n[2],
                p999_ns: n[3],
            })
        })
        .collect()
}

fn stats_lines(path: &Path) -> Vec<String> {
    fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .filter(|l| l.starts_with("stats "))
        .map(String::from)
        .collect()
}

/// `reactor uring`, `reactor=epoll`, `reactor: io_uring` → the name.
pub fn find_reactor(text: &str) -> Option<String> {
    let mut rest = text;
    while let Some(i) = rest.find("reactor") {
        rest = &rest[i + "reactor".len()..];
        let word: String = rest
            .trim_start_matches([' ', '=', ':'])
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        match word.as_str() {
            "uring" | "io_uring" => return Some("uring".into()),
            "epoll" => return Some("epoll".into()),
            _ => {}
        }
    }
    None
}

fn find_word_after(text: &str, key: &str) -> Option<String> {
    let i = text.find(key)?;
    let w: String = text[i + key.len()..]
        .chars()
        .take_while(|c| !c.is_whitespace() && *c != ',' && *c != ')')
        .collect();
    (!w.is_empty()).then_some(w)
}
