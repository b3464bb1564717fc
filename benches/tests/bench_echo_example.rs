//! coreloop-bench against the echo example: the fixed-rate load holds its rate (the echo
//! example keeps up with a few thousand messages a second even in a debug build), and one
//! `--server` line of a coreloop program runs on both reactors, each seen by the kernel.

use coreloop_benches::bench::load::{self, Event};
use coreloop_benches::bench::report::{Outcome, Report};
use coreloop_benches::bench::server::Server;
use coreloop_benches::bench::spec::{Case, LoadKind, ServerSpec};
use std::path::PathBuf;
use std::process::Command;
use std::sync::Mutex;
use std::time::Duration;

/// One test at a time: a max-throughput run beside the fixed-rate one would take the CPU
/// the rate check needs.
static SERIAL: Mutex<()> = Mutex::new(());

/// The echo example beside this test's binaries, built now if it is not there.
fn echo_example() -> PathBuf {
    let bin = PathBuf::from(env!("CARGO_BIN_EXE_coreloop-bench"));
    let profile_dir = bin.parent().expect("target/<profile>");
    let echo = profile_dir.join("examples/echo");
    if !echo.is_file() {
        let target = profile_dir.parent().expect("target dir");
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let mut cmd = Command::new(cargo);
        cmd.args(["build", "--example", "echo", "-p", "coreloop"])
            .env("CARGO_TARGET_DIR", target)
            .current_dir(env!("CARGO_MANIFEST_DIR"));
        if profile_dir.file_name().is_some_and(|n| n == "release") {
            cmd.arg("--release");
        }
        let status = cmd.status().expect("run cargo build");
        assert!(status.success(), "building the echo example failed");
    }
    assert!(echo.is_file(), "{} missing after the build", echo.display());
    echo
}

#[test]
fn fixed_rate_holds_within_two_percent() {
    let _one = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let echo = echo_example();
    let spec = ServerSpec::parse(&format!(
        "echo={} --addr 127.0.0.1:{{port}}",
        echo.display()
    ))
    .expect("spec");
    let variant = &spec.variants(&["epoll".into()])[0];
    assert!(
        variant.coreloop,
        "the echo example is recognised as a coreloop program"
    );
    let work = std::env::temp_dir().join(format!("coreloop-bench-rate-{}", std::process::id()));
    std::fs::create_dir_all(&work).unwrap();
    let srv = Server::start(
        variant,
        "127.0.0.1",
        1,
        None,
        &work,
        Duration::from_secs(10),
    )
    .expect("the echo example starts");

    let rate = 4000;
    let case = Case {
        load: LoadKind::Echo,
        conns: 8,
        size: 64,
        depth: 1,
        rate: Some(rate),
        secs: 2.0,
        active: None,
    };
    let (tx, rx) = std::sync::mpsc::channel();
    let r = load::run(srv.addr, &case, None, tx);
    srv.stop();
    let _ = std::fs::remove_dir_all(&work);

    assert_eq!(
        rx.try_iter().collect::<Vec<_>>(),
        [Event::Started, Event::Ended]
    );
    assert!(r.failure.is_none(), "{:?}", r.failure);
    assert_eq!(
        r.offered, 8000,
        "the schedule releases rate × secs requests"
    );
    let sent_rate = r.sent_in_window as f64 / r.secs;
    let want = rate as f64;
    assert!(
        (sent_rate - want).abs() <= 0.02 * want,
        "the generator wrote {sent_rate:.0}/s, offered {want}/s"
    );
    assert!(
        r.ops as f64 >= 0.98 * r.sent as f64,
        "answered {} of {} sent",
        r.ops,
        r.sent
    );
    assert_eq!(r.hist.len(), r.ops, "every answer has a latency");
}

#[test]
fn one_coreloop_server_line_runs_on_both_reactors() {
    let _one = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    // Both reactors are the point: where the kernel refuses io_uring, say so and stop.
    if !coreloop_runtime::testing::should_run(coreloop_runtime::ReactorKind::Uring, module_path!())
    {
        return;
    }
    let echo = echo_example();
    let json =
        std::env::temp_dir().join(format!("coreloop-bench-both-{}.json", std::process::id()));
    let out = Command::new(env!("CARGO_BIN_EXE_coreloop-bench"))
        .arg("--server")
        .arg(format!("echo={} --addr 127.0.0.1:{{port}}", echo.display()))
        .args([
            "--secs", "0.5", "--rounds", "1", "--conns", "4", "--perf", "off", "--no-pin",
        ])
        .arg("--json")
        .arg(&json)
        .output()
        .expect("run coreloop-bench");
    assert!(out.status.success(), "{out:?}");
    let report = Report::from_json(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let _ = std::fs::remove_file(&json);
    let names: Vec<&str> = report.runs.iter().map(|r| r.server.as_str()).collect();
    assert_eq!(names, ["echo-uring", "echo-epoll"]);
    for (run, reactor, fd) in [
        (&report.runs[0], "uring", "io_uring"),
        (&report.runs[1], "epoll", "epoll"),
    ] {
        let Outcome::Ok(s) = &run.outcome else {
            panic!("{} failed: {:?}", run.server, run.outcome);
        };
        assert_eq!(s.reactor.as_deref(), Some(reactor), "the server's own word");
        let fds = s.event_objects.as_deref().unwrap_or_default();
        assert!(
            fds.starts_with(fd),
            "{}: the kernel's view: {fds:?}",
            run.server
        );
        assert!(s.ops > 0 && s.coreloop_syscalls_per_op.is_some(), "{s:?}");
    }
}
