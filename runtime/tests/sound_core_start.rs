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
    if coreloop_runtime::testing::in_child(
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
    if coreloop_runtime::testing::in_child(
        "a_core_that_fails_to_start_fails_run_epoll",
        "CORELOOP_SOUND_CORE_START",
        Duration::from_secs(60),
    ) {
        every_limit(ReactorKind::Epoll);
    }
}
