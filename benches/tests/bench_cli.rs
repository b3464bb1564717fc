//! coreloop-bench refuses bad command lines with a message that names the problem, and
//! exits 2 without starting anything.

use std::process::Command;

fn refuse(args: &[&str], says: &str) {
    let out = Command::new(env!("CARGO_BIN_EXE_coreloop-bench"))
        .args(args)
        .output()
        .expect("run coreloop-bench");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(2),
        "{args:?} should be refused; stderr: {err}"
    );
    assert!(err.contains(says), "{args:?}: expected {says:?} in: {err}");
}

const OK: &str = "a=sleep 1 # {port}";

#[test]
fn no_server_is_refused() {
    refuse(&[], "no server: give at least one --server NAME=COMMAND");
}

#[test]
fn server_without_name_is_refused() {
    refuse(&["--server", "./my-server {port}"], "expected NAME=COMMAND");
}

#[test]
fn server_without_port_placeholder_is_refused() {
    refuse(
        &["--server", "a=./my-server --port 8080"],
        "must contain {port}",
    );
}

#[test]
fn unknown_placeholder_is_refused() {
    refuse(
        &["--server", "a=./s --port {port} --threads {threads}"],
        "unknown placeholder {threads}",
    );
}

#[test]
fn bad_server_name_is_refused() {
    refuse(
        &["--server", "my server=./s {port}"],
        "must be letters, digits",
    );
}

#[test]
fn duplicate_names_are_refused() {
    refuse(
        &["--server", OK, "--server", OK],
        "two servers are named \"a\"",
    );
}

#[test]
fn zero_in_a_sweep_is_refused() {
    refuse(
        &["--server", OK, "--conns", "10,0"],
        "--conns: 0 is not allowed",
    );
}

#[test]
fn zero_rate_is_refused() {
    refuse(&["--server", OK, "--rate", "0"], "--rate 0");
}

#[test]
fn pipelining_with_a_fixed_rate_is_refused() {
    refuse(
        &["--server", OK, "--rate", "1000", "--pipeline", "4"],
        "--pipeline applies to max-throughput mode",
    );
}

#[test]
fn non_positive_seconds_are_refused() {
    refuse(
        &["--server", OK, "--secs", "0"],
        "--secs 0: must be a positive number",
    );
}

#[test]
fn load_on_a_server_cpu_is_refused() {
    refuse(
        &["--server", OK, "--server-cpus", "0", "--load-cpu", "0"],
        "--load-cpu 0 is also a server CPU",
    );
}

#[test]
fn a_missing_cpu_is_refused() {
    refuse(
        &["--server", OK, "--load-cpu", "4096"],
        "CPU 4096 does not exist here",
    );
}

#[test]
fn unknown_baseline_is_refused() {
    refuse(
        &["--server", OK, "--baseline", "nginx", "--no-pin"],
        "--baseline \"nginx\" is none of the servers (a)",
    );
}

#[test]
fn unknown_reactor_is_refused() {
    refuse(
        &["--server", OK, "--reactors", "kqueue"],
        "--reactors \"kqueue\"",
    );
}

#[test]
fn unknown_load_is_refused_by_clap() {
    refuse(
        &["--server", OK, "--load", "ftp"],
        "invalid value 'ftp' for '--load",
    );
}

#[test]
fn preset_and_server_together_are_refused() {
    refuse(
        &["--server", OK, "--preset", "reactor-ab"],
        "cannot be used with",
    );
}

#[test]
fn more_active_than_connections_is_refused() {
    refuse(
        &["--server", OK, "--conns", "100,20", "--active", "50"],
        "--active 50: must be between 1 and the fewest --conns (20)",
    );
}

#[test]
fn more_connections_than_descriptors_is_refused() {
    refuse(
        &["--server", OK, "--conns", "100000000"],
        "RLIMIT_NOFILE's hard limit",
    );
}

#[test]
fn a_sweep_in_load_only_mode_is_refused() {
    refuse(
        &["--load-only", "127.0.0.1:9", "--conns", "10,100"],
        "--load-only runs one case",
    );
}

#[test]
fn load_only_with_a_server_is_refused() {
    refuse(
        &["--load-only", "127.0.0.1:9", "--server", OK],
        "cannot be used with",
    );
}
