//! A server that exits at once, one that never listens, one that answers garbage (echo and
//! HTTP), one that never answers and one that dies mid-run each get a row that says so, and
//! the tool finishes in bounded time instead of hanging.

use coreloop_benches::bench::report::{Outcome, Report};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Runs coreloop-bench with short runs; kills it (and fails) if it takes over `limit`.
fn bench(args: &[&str], limit: Duration) -> (String, Report) {
    let json = std::env::temp_dir().join(format!(
        "coreloop-bench-faults-{}-{}.json",
        std::process::id(),
        args.len()
    ));
    let mut child = Command::new(env!("CARGO_BIN_EXE_coreloop-bench"))
        .args([
            "--secs",
            "0.5",
            "--rounds",
            "1",
            "--perf",
            "off",
            "--start-timeout",
            "1.5",
            "--conns",
            "4",
            "--no-pin",
            "--json",
        ])
        .arg(&json)
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("run coreloop-bench");
    let t0 = Instant::now();
    loop {
        if child.try_wait().expect("wait").is_some() {
            break;
        }
        if t0.elapsed() > limit {
            let _ = child.kill();
            panic!("coreloop-bench did not finish within {limit:?}: {args:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = child.wait_with_output().expect("output");
    assert!(out.status.success(), "coreloop-bench failed: {out:?}");
    let text = std::fs::read_to_string(&json).expect("the JSON report");
    let _ = std::fs::remove_file(&json);
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        Report::from_json(&text).expect("the JSON report parses"),
    )
}

fn reason(report: &Report, server: &str) -> String {
    let run = report
        .runs
        .iter()
        .find(|r| r.server == server)
        .unwrap_or_else(|| panic!("no run of {server}"));
    match &run.outcome {
        Outcome::Failed { reason } => reason.clone(),
        Outcome::Ok(s) => panic!("{server} should have failed, measured {s:?}"),
    }
}

fn row<'a>(table: &'a str, server: &str) -> &'a str {
    table
        .lines()
        .find(|l| l.contains(&format!("| {server} |")))
        .unwrap_or_else(|| panic!("no row for {server} in\n{table}"))
}

const FAKE: &str = env!("CARGO_BIN_EXE_bench_fake_server");

#[test]
fn broken_servers_are_reported_not_waited_for() {
    let garbage = format!("garbage={FAKE} --mode garbage --port {{port}}");
    let silent = format!("silent={FAKE} --mode silent --port {{port}}");
    let dies = format!("dies={FAKE} --mode die --port {{port}}");
    let (table, report) = bench(
        &[
            "--server",
            "quits=sh -c 'echo no such flag >&2; exit 3' {port}",
            "--server",
            "deaf=sleep 30 # {port}",
            "--server",
            &garbage,
            "--server",
            &silent,
            "--server",
            &dies,
        ],
        Duration::from_secs(30),
    );

    let r = reason(&report, "quits");
    assert!(
        r.contains("exited (exit status: 3) before accepting"),
        "{r}"
    );
    assert!(
        r.contains("no such flag"),
        "the server's last words are shown: {r}"
    );
    let r = reason(&report, "deaf");
    assert!(r.contains("never accepted on 127.0.0.1:"), "{r}");
    assert!(r.contains("within 1.5 s"), "{r}");
    let r = reason(&report, "garbage");
    assert!(
        r.contains("answered wrongly: the echo came back different"),
        "{r}"
    );
    assert!(r.contains("#garbage!"), "the wrong bytes are shown: {r}");
    let r = reason(&report, "silent");
    assert!(r.contains("no answer within"), "{r}");
    let r = reason(&report, "dies");
    assert!(r.contains("died mid-run (exit status: 3)"), "{r}");

    for server in ["quits", "deaf", "garbage", "silent", "dies"] {
        let line = row(&table, server);
        assert!(line.contains("FAILED"), "{line}");
        assert!(line.contains(&reason(&report, server)), "{line}");
    }
}

#[test]
fn garbage_is_caught_by_the_http_load_too() {
    let garbage = format!("garbage={FAKE} --mode garbage --port {{port}}");
    let (table, report) = bench(
        &["--load", "http", "--server", &garbage],
        Duration::from_secs(15),
    );
    let r = reason(&report, "garbage");
    assert!(r.contains("answered wrongly: not an HTTP answer"), "{r}");
    assert!(row(&table, "garbage").contains("FAILED"));
}
