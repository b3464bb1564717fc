//! `--json` keeps every raw sample and reads back into the same report.

use coreloop_benches::bench::procfs::Machine;
use coreloop_benches::bench::report::{GroupRecord, Outcome, Report, RunRecord, Sample};
use coreloop_benches::bench::spec::{Case, LoadKind, ServerSpec};

fn sample() -> Sample {
    Sample {
        ops: 150_000,
        secs: 3.0,
        ops_per_sec: 50_000.0,
        offered_per_sec: Some(50_000.0),
        sent_per_sec: 49_990.5,
        user_us_per_op: 0.21,
        sys_us_per_op: 5.4,
        server_cpu_pct: 28.1,
        latency_us: vec![(0.5, 41.0), (0.99, 180.5), (0.999, 900.25)],
        p50_us: 41.0,
        p99_us: 180.5,
        p999_us: 900.25,
        res_per_op: Some(0.0004),
        rss_kib_idle: 2048,
        rss_kib_loaded: 2560,
        rss_kib_per_conn: 5.12,
        coreloop_syscalls_per_op: Some(0.143),
        perf_syscalls_per_op: None,
        op_latency: vec![coreloop_benches::bench::server::OpLatencyRow {
            kind: "recv".into(),
            count: 7,
            p50_ns: 1500,
            p99_ns: 9000,
            p999_ns: 12000,
        }],
        reactor: Some("uring".into()),
        ring_flags: None,
        event_objects: Some("io_uring x2 (sq 256, cq 512)".into()),
        steal_pct: 0.3,
        load_cpu_pct: 45.0,
        others_on_server_cpus_pct: 2.5,
        warnings: vec!["UNRELIABLE: steal 7%".into()],
    }
}

#[test]
fn a_report_round_trips_through_json() {
    let spec = ServerSpec::parse("echo=./echo --addr 127.0.0.1:{port}").unwrap();
    let case = Case {
        load: LoadKind::Echo,
        conns: 100,
        size: 128,
        depth: 1,
        rate: Some(50_000),
        secs: 3.0,
        active: None,
    };
    let report = Report {
        command_line: vec!["coreloop-bench".into(), "--rate".into(), "50000".into()],
        machine: Machine::probe(Some(vec![0]), Some(1), false),
        groups: vec![GroupRecord {
            baseline: "echo".into(),
            variants: spec.variants(&["uring".into(), "epoll".into()]),
            cases: vec![case.clone()],
        }],
        runs: vec![
            RunRecord {
                group: 0,
                case: case.key(),
                server: "echo".into(),
                round: 0,
                perf_run: false,
                outcome: Outcome::Ok(Box::new(sample())),
            },
            RunRecord {
                group: 0,
                case: case.key(),
                server: "echo".into(),
                round: 1,
                perf_run: false,
                outcome: Outcome::Failed {
                    reason: "died mid-run (signal: 9)".into(),
                },
            },
        ],
    };
    let text = report.to_json();
    let back = Report::from_json(&text).expect("parses");
    assert_eq!(back, report);
    assert_eq!(back.to_json(), text);
    // The raw fields are there by name for other tools.
    assert!(text.contains("\"status\": \"failed\""), "{text}");
    assert!(text.contains("\"p999_us\": 900.25"), "{text}");
}

#[test]
fn a_broken_report_is_an_error_not_a_panic() {
    let err = Report::from_json("{\"command_line\": []}").unwrap_err();
    assert!(err.contains("missing field"), "{err}");
}
