//! The teaching examples that need no server of their own run to completion on both
//! reactors and print what they teach (`CORELOOP_REACTOR` picks the reactor).

use coreloop_examples_support::testing::example_binary;
use std::process::Command;

fn run(name: &str, reactor: &str) -> String {
    let out = Command::new(example_binary(name))
        .env("CORELOOP_REACTOR", reactor)
        .output()
        .unwrap_or_else(|e| panic!("run {name}: {e}"));
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{name} on {reactor}: {}\n{stdout}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

#[test]
fn cross_core_runs_jobs_on_every_core() {
    for reactor in coreloop::testing::reactors(module_path!())
        .into_iter()
        .map(|k| k.name())
    {
        let out = run("cross_core", reactor);
        assert!(out.contains("computed on core 0"), "{out}");
        assert!(out.contains("computed on core 1"), "{out}");
        assert!(out.contains("sum of squares 285"), "{out}");
    }
}

#[test]
fn timeout_select_times_out_then_gets_the_answer() {
    for reactor in coreloop::testing::reactors(module_path!())
        .into_iter()
        .map(|k| k.name())
    {
        let out = run("timeout_select", reactor);
        assert!(out.contains("no answer within 100 ms"), "{out}");
        assert!(out.contains("still waiting"), "{out}");
        assert!(out.contains("answer after"), "{out}");
    }
}

#[test]
fn readme_example_is_echo_minimal() {
    let readme = include_str!("../README.md");
    let example = include_str!("../examples/echo_minimal.rs");
    let code = &example[example.find("use coreloop::").expect("imports")..];
    assert!(
        readme.contains(code),
        "README's echo server differs from examples/echo_minimal.rs"
    );
}
