//! Issue 10, defect 8 (leak): a wake that reaches a core after it shut down must not form an
//! `Arc` cycle (Shared → remote queue → Task → Shared) that leaks the core's state and its
//! eventfd. Its own test binary: it counts the process's open descriptors, so no other test
//! may run beside it.

use coreloop_runtime::testing::open_fds;
use coreloop_runtime::{ReactorKind, Runtime, spawn, yield_now};
use std::sync::{Arc, Mutex};
use std::task::{Poll, Waker};

fn late_wakes(kind: ReactorKind) -> usize {
    // One runtime first, so lazily made process-wide state (the blocking pool, …) exists.
    drop(
        Runtime::builder()
            .reactor(kind)
            .env_override(false)
            .build()
            .unwrap(),
    );
    let before = open_fds();
    for _ in 0..10 {
        let rt = Runtime::builder()
            .reactor(kind)
            .env_override(false)
            .build()
            .unwrap();
        let slot: Arc<Mutex<Option<Waker>>> = Arc::new(Mutex::new(None));
        let keep = slot.clone();
        rt.block_on(async move {
            // A task that waits forever, having handed out its waker.
            drop(spawn(std::future::poll_fn(move |cx| {
                *keep.lock().unwrap() = Some(cx.waker().clone());
                Poll::<()>::Pending
            })));
            yield_now().await;
            yield_now().await;
        });
        drop(rt);
        let waker = slot.lock().unwrap().take().expect("the task ran");
        // The core has shut down: this wake must be dropped, not queued forever.
        waker.wake();
    }
    open_fds().saturating_sub(before)
}

#[test]
fn late_wakes_after_shutdown_leak_nothing() {
    let _dog = coreloop_runtime::testing::Watchdog::new(
        "late wakes".into(),
        std::time::Duration::from_secs(30),
    );
    let uring = if coreloop_runtime::testing::should_run(ReactorKind::Uring, module_path!()) {
        late_wakes(ReactorKind::Uring)
    } else {
        0
    };
    let epoll = late_wakes(ReactorKind::Epoll);
    assert!(
        uring == 0 && epoll == 0,
        "a wake after shutdown leaked the core's state: {uring} of 10 descriptors leaked on \
         io_uring, {epoll} of 10 on epoll"
    );
}
