//! No crate of the runtime calls libc: every syscall goes through coreloop's own layer.
//! (libc is only a dev-dependency, to cross-check constants in tests.)

use std::process::Command;

#[test]
fn runtime_crates_have_no_direct_libc_dependency() {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    for krate in ["coreloop-runtime", "coreloop-net", "coreloop-fs"] {
        let out = Command::new(&cargo)
            .args([
                "tree",
                "-e",
                "normal",
                "--depth",
                "1",
                "--offline",
                "-p",
                krate,
            ])
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .output()
            .expect("run cargo tree");
        assert!(
            out.status.success(),
            "cargo tree failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let tree = String::from_utf8_lossy(&out.stdout);
        let direct: Vec<&str> = tree.lines().skip(1).collect();
        assert!(
            !direct.is_empty(),
            "{krate}: cargo tree listed nothing:\n{tree}"
        );
        assert!(
            !direct.iter().any(|l| l.contains(" libc v")),
            "{krate} depends on libc directly:\n{tree}"
        );
    }
}
