//! Issue 10, defect 5: a core that fails to start (its reactor cannot be set up: here
//! RLIMIT_NOFILE leaves no descriptor for it) must make `Runtime::run` stop the other cores
//! and return the error, not leave them waiting at the start barrier forever.
//!
//! Runs in a re-exec'd child (the limit is process-wide); the child tries every limit from
//! "no descriptor left" up to "enough", and each `run` must return (Ok or Err) within 3 s.

use coreloop_runtime::sys::resource::{RLIMIT_NOFILE, Rlimit, getrlimit, setrlimit};
use coreloop_runtime::{ReactorKind, Runtime};
use std::os::fd::AsRawFd;
use std::time::Duration;

/// The highest open descriptor number of this process.
fn max_fd() -> u64 {
    std::fs::read_dir("/proc/self/fd")
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u64>().ok())
        .max()
        .unwrap_or(2)
}

fn every_limit(kind: ReactorKind) {
    let lim = getrlimit(RLIMIT_NOFILE).unwrap();
    for extra in 0..24 {
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let rt = Runtime::builder()
                .reactor(kind)
                .cores(3)
                .env_override(false)
                .build()
                .unwrap();
            // Fill the gaps below the highest open number, so exactly `extra` numbers are
            // free under the limit.
            let top = max_fd();
            let mut fill = Vec::new();
            loop {
                let f = std::fs::File::open("/dev/null").unwrap();
                if f.as_raw_fd() as u64 > top {
                    break;
                }
                fill.push(f);
            }
            let cap = top + 1 + extra;
            setrlimit(
                RLIMIT_NOFILE,
                &Rlimit {
                    cur: cap,
                    max: lim.max,
                },
            )
            .unwrap();
            let res = rt.run(|_| async {});
            setrlimit(RLIMIT_NOFILE, &lim).unwrap();
            drop(fill);
            let _ = tx.send(res.map(|_| ()).map_err(|e| e.to_string()));
        });
        match rx.recv_timeout(Duration::from_secs(3)) {
            Ok(Ok(())) => {
                eprintln!("{kind}: limit +{extra}: run succeeded");
                return;
            }
            Ok(Err(e)) => eprintln!("{kind}: limit +{extra}: run failed promptly: {e}"),
            Err(_) => {
                eprintln!(
                    "{kind}: limit +{extra}: Runtime::run hung: a core failed to start and the \
                     others wait at the start barrier forever"
                );
                // The hung threads cannot be joined: end the child now, failing.
                std::process::exit(3);
            }
        }
    }
    panic!("{kind}: run never succeeded, even with 24 spare descriptors");
}

#[test]
fn a_core_that_fails_to_start_fails_run_uring() {
    if in_child(
        "a_core_that_fails_to_start_fails_run_uring",
        "CORELOOP_SOUND_CORE_START",
        Duration::from_secs(60),
    ) {
        if !coreloop_runtime::testing::should_run(
            coreloop_runtime::ReactorKind::Uring,
            module_path!(),
        ) {
            return;
        }
        every_limit(ReactorKind::Uring);
    }
}

#[test]
fn a_core_that_fails_to_start_fails_run_epoll() {
    if in_child(
        "a_core_that_fails_to_start_fails_run_epoll",
        "CORELOOP_SOUND_CORE_START",
        Duration::from_secs(60),
    ) {
        every_limit(ReactorKind::Epoll);
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
