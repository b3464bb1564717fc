//! Helpers for tests of coreloop and of programs built on it: run one body on both reactors,
//! with a watchdog, and count open descriptors.

use crate::{ReactorKind, Runtime};
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// How long one test body may run before the watchdog ends the process
/// (`CORELOOP_TEST_TIMEOUT` seconds, default 120).
fn limit() -> Duration {
    let secs = std::env::var("CORELOOP_TEST_TIMEOUT")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(120);
    Duration::from_secs(secs)
}

/// Ends the process with a message if not dropped within `limit`: a hung test fails loudly
/// instead of hanging CI.
pub struct Watchdog {
    done: Arc<AtomicBool>,
}

impl Watchdog {
    pub fn new(what: String, limit: Duration) -> Watchdog {
        let done = Arc::new(AtomicBool::new(false));
        let flag = done.clone();
        std::thread::spawn(move || {
            let step = Duration::from_millis(50);
            let mut waited = Duration::ZERO;
            while waited < limit {
                if flag.load(Ordering::Acquire) {
                    return;
                }
                std::thread::sleep(step);
                waited += step;
            }
            if !flag.load(Ordering::Acquire) {
                eprintln!("watchdog: {what} still running after {limit:?}; aborting");
                std::process::abort();
            }
        });
        Watchdog { done }
    }
}

impl Drop for Watchdog {
    fn drop(&mut self) {
        self.done.store(true, Ordering::Release);
    }
}

/// Runs `fut` on a fresh one-core runtime with reactor `kind` (ignoring `CORELOOP_REACTOR`),
/// under a watchdog.
pub fn run<F: Future>(kind: ReactorKind, fut: F) -> F::Output {
    run_with(Runtime::builder().reactor(kind).env_override(false), fut)
}

/// As [`run`], with a builder of the caller's.
pub fn run_with<F: Future>(builder: crate::Builder, fut: F) -> F::Output {
    let rt = builder
        .build()
        .unwrap_or_else(|e| panic!("building the runtime: {e}"));
    let name = std::thread::current().name().unwrap_or("test").to_string();
    let _dog = Watchdog::new(format!("{name} on {}", rt.reactor()), limit());
    rt.block_on(fut)
}

/// How many descriptors this process has open (`/proc/self/fd`).
pub fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd")
        .map(|d| d.count())
        .unwrap_or(0)
}

/// Defines a test module with two tests, `uring` and `epoll`, that run the same async body on
/// each reactor:
///
/// ```ignore
/// coreloop_runtime::reactor_test! {
///     async fn pipe_round_trip() {
///         // ... body, run once on io_uring and once on epoll
///     }
/// }
/// ```
#[macro_export]
macro_rules! reactor_test {
    ($(#[$meta:meta])* async fn $name:ident() $body:block) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            #[test]
            $(#[$meta])*
            fn uring() {
                $crate::testing::run($crate::ReactorKind::Uring, async move $body)
            }

            #[test]
            $(#[$meta])*
            fn epoll() {
                $crate::testing::run($crate::ReactorKind::Epoll, async move $body)
            }
        }
    };
}
