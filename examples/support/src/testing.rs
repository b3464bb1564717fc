//! Helpers for the tests that run the built example binaries as processes (signals, rlimits,
//! resource measurements).

use std::path::PathBuf;
use std::process::Command;

/// The built `examples/<name>` of the `coreloop` package beside the calling test binary,
/// building it first if it is missing (`cargo test --test <one>` does not build examples).
/// Panics if it cannot be had: a test that runs the example must not pass without running it.
pub fn example_binary(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("the test binary's path");
    // target/<profile>/deps/<test> -> target/<profile>/examples/<name>
    let profile_dir = exe
        .parent()
        .and_then(|d| d.parent())
        .expect("target/<profile>/deps");
    let path = profile_dir.join("examples").join(name);
    if !path.exists() {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let mut cmd = Command::new(cargo);
        // This crate lives in examples/support; the examples belong to the workspace root.
        cmd.args(["build", "-p", "coreloop", "--example", name])
            .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."));
        if profile_dir.file_name().is_some_and(|p| p == "release") {
            cmd.arg("--release");
        }
        let status = cmd.status().expect("run cargo build --example");
        assert!(status.success(), "cargo build --example {name} failed");
    }
    assert!(
        path.exists(),
        "examples/{name} is not at {}",
        path.display()
    );
    path
}
