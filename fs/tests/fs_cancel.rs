//! A dropped in-flight `open` leaks no descriptor. Its own test binary: it counts the
//! process's descriptors, which tests running beside it would change.
// Each run holds a std Mutex across awaits on purpose (see `ONE_AT_A_TIME`).
#![allow(clippy::await_holding_lock)]

mod common;

use common::TempDir;
use coreloop_fs::{File, OpenOptions};
use coreloop_runtime::testing::open_fds;
use coreloop_runtime::{reactor_test, time};
use std::future::{Future, poll_fn};
use std::pin::pin;
use std::sync::Mutex;
use std::task::Poll;
use std::time::{Duration, Instant};

/// The two reactors' runs take turns: each counts every descriptor of the process.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

/// Polls `fut` once (so its op is submitted) and drops it.
async fn poll_once_then_drop<F: Future>(fut: F) -> bool {
    let mut fut = pin!(fut);
    poll_fn(|cx| Poll::Ready(fut.as_mut().poll(cx).is_ready())).await
}

reactor_test! {
    async fn cancelled_open_leaks_no_fd() {
        // Blocking this core's thread on purpose: the two runs are on different threads, and
        // each must have the process to itself while it counts.
        let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
        let dir = TempDir::new("cancel-open");
        let path = dir.join("f");
        std::fs::write(&path, b"x").unwrap();
        // Settle: the other reactor's run (if it started first) has built its runtime.
        time::sleep(Duration::from_millis(20)).await;
        let before = open_fds();
        let mut finished = 0;
        for i in 0..1000 {
            let done = if i % 2 == 0 {
                poll_once_then_drop(File::open(&path)).await
            } else {
                poll_once_then_drop(OpenOptions::new().write(true).create(true).open(&path)).await
            };
            finished += usize::from(done);
        }
        assert_eq!(finished, 0, "an open finished on its first poll: nothing was in flight");
        // Let the orphaned completions arrive (each closes the fd it carries).
        let deadline = Instant::now() + Duration::from_secs(5);
        time::sleep(Duration::from_millis(50)).await;
        while open_fds() != before && Instant::now() < deadline {
            time::sleep(Duration::from_millis(10)).await;
        }
        assert_eq!(open_fds(), before, "descriptors leaked by cancelled opens");
        // And the file still opens normally.
        File::open(&path).await.unwrap().close().await.unwrap();
    }
}
