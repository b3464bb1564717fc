//! Issue 10, minor: `fs::read` of a huge sparse file returns an error (the buffer cannot be
//! had), not an abort on allocation. Runs in a child process: on main the allocation failure
//! aborts the whole test binary.

use coreloop_runtime::ReactorKind;
use std::time::Duration;

async fn read_huge_sparse() {
    let dir = std::env::temp_dir().join(format!("coreloop-sound-read-huge-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("sparse");
    let f = std::fs::File::create(&path).unwrap();
    // The largest sparse size the filesystem allows, from 2^60 down.
    let mut size = 0;
    for shift in (40..=60).rev() {
        if f.set_len(1u64 << shift).is_ok() {
            size = 1u64 << shift;
            break;
        }
    }
    drop(f);
    assert!(
        size > 0,
        "no sparse file size of 2^40 or more is allowed here"
    );
    let r = coreloop_runtime::time::timeout(Duration::from_secs(5), coreloop_fs::read(&path)).await;
    let _ = std::fs::remove_dir_all(&dir);
    match r {
        Ok(Err(e)) => eprintln!("read of a {size}-byte sparse file failed cleanly: {e}"),
        Ok(Ok(v)) => panic!("read of a {size}-byte sparse file gave {} bytes", v.len()),
        Err(_) => panic!("read of a {size}-byte sparse file ran for 5 s"),
    }
}

#[test]
fn read_of_a_huge_sparse_file_is_an_error_uring() {
    if in_child(
        "read_of_a_huge_sparse_file_is_an_error_uring",
        "CORELOOP_SOUND_READ_HUGE",
        Duration::from_secs(30),
    ) {
        if !coreloop_runtime::testing::should_run(
            coreloop_runtime::ReactorKind::Uring,
            module_path!(),
        ) {
            return;
        }
        coreloop_runtime::testing::run(ReactorKind::Uring, read_huge_sparse());
    }
}

#[test]
fn read_of_a_huge_sparse_file_is_an_error_epoll() {
    if in_child(
        "read_of_a_huge_sparse_file_is_an_error_epoll",
        "CORELOOP_SOUND_READ_HUGE",
        Duration::from_secs(30),
    ) {
        coreloop_runtime::testing::run(ReactorKind::Epoll, read_huge_sparse());
    }
}

// --- child-process helper: run a test body in a re-exec'd copy of this binary ---

/// True in the child (run the body there). In the parent, re-runs test `name` of this binary
/// in a child process with `var` set, kills it after `limit`, and panics with its output if
/// it failed, crashed or hung.
fn in_child(name: &str, var: &str, limit: std::time::Duration) -> bool {
    if std::env::var_os(var).is_some() {
        return true;
    }
    use std::io::Read;
    use std::os::unix::process::ExitStatusExt;
    let mut child = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["--exact", name, "--nocapture", "--test-threads", "1"])
        .env(var, "1")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let start = std::time::Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break Some(s);
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    };
    let mut text = String::new();
    let _ = child.stdout.take().unwrap().read_to_string(&mut text);
    let _ = child.stderr.take().unwrap().read_to_string(&mut text);
    let Some(status) = status else {
        panic!("child hung (killed after {limit:?}): {text}");
    };
    assert_eq!(status.signal(), None, "child crashed (signal): {text}");
    assert!(status.success(), "child failed: {text}");
    assert!(text.contains("1 passed"), "child ran no test: {text}");
    false
}
