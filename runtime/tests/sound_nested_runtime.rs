//! Issue 10, defect 2: entering a runtime (`block_on`) on a thread that is already inside one
//! must be refused with a clear panic, as tokio does. On main, a nested `block_on` runs a
//! second loop over the same core (two `&mut` to the future being polled; reproduced as a
//! double free). These tests only nest in shapes that cannot reach that double free (the
//! inner future is trivial and no task of the outer loop is runnable), so on main they fail
//! by assertion: the nested call returns instead of panicking.

use coreloop_runtime::{ReactorKind, Runtime, spawn};
use std::panic::{AssertUnwindSafe, catch_unwind};

fn rt(kind: ReactorKind) -> Runtime {
    Runtime::builder()
        .reactor(kind)
        .env_override(false)
        .build()
        .unwrap()
}

fn message(p: Box<dyn std::any::Any + Send>) -> String {
    p.downcast_ref::<String>()
        .cloned()
        .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_default()
}

fn assert_refused(kind: ReactorKind, what: &str, r: std::thread::Result<()>) {
    match r {
        Ok(()) => panic!("{kind}: {what}: a nested block_on ran instead of being refused"),
        Err(p) => {
            let msg = message(p).to_lowercase();
            assert!(
                msg.contains("runtime") || msg.contains("nested") || msg.contains("block_on"),
                "{kind}: {what}: the panic should say a runtime is already running: {msg:?}"
            );
        }
    }
}

fn same_runtime_from_main_future(kind: ReactorKind) {
    let rt = rt(kind);
    let _dog = coreloop_runtime::testing::Watchdog::new(
        format!("nested block_on on {kind}"),
        std::time::Duration::from_secs(20),
    );
    let r = rt.block_on(async { catch_unwind(AssertUnwindSafe(|| rt.block_on(async {}))) });
    assert_refused(kind, "same runtime, from the block_on future", r);
}

fn other_runtime_from_task(kind: ReactorKind) {
    let rt = rt(kind);
    let _dog = coreloop_runtime::testing::Watchdog::new(
        format!("nested block_on in a task on {kind}"),
        std::time::Duration::from_secs(20),
    );
    let r = rt.block_on(async {
        spawn(async move {
            let inner = self::rt(kind);
            catch_unwind(AssertUnwindSafe(|| inner.block_on(async {})))
        })
        .await
        .unwrap()
    });
    assert_refused(kind, "another runtime, from a task", r);
}

#[test]
fn nested_block_on_same_runtime_panics_uring() {
    if !coreloop_runtime::testing::should_run(coreloop_runtime::ReactorKind::Uring, module_path!())
    {
        return;
    }
    same_runtime_from_main_future(ReactorKind::Uring);
}

#[test]
fn nested_block_on_same_runtime_panics_epoll() {
    same_runtime_from_main_future(ReactorKind::Epoll);
}

#[test]
fn nested_block_on_other_runtime_in_task_panics_uring() {
    if !coreloop_runtime::testing::should_run(coreloop_runtime::ReactorKind::Uring, module_path!())
    {
        return;
    }
    other_runtime_from_task(ReactorKind::Uring);
}

#[test]
fn nested_block_on_other_runtime_in_task_panics_epoll() {
    other_runtime_from_task(ReactorKind::Epoll);
}

/// A refused nested call leaves the outer runtime usable.
#[test]
fn block_on_after_a_refused_nested_call_still_works() {
    for kind in coreloop_runtime::testing::reactors(module_path!()) {
        let rt = rt(kind);
        let _ = rt.block_on(async { catch_unwind(AssertUnwindSafe(|| rt.block_on(async {}))) });
        // The outer runtime is still usable afterwards.
        assert_eq!(rt.block_on(async { spawn(async { 7 }).await.unwrap() }), 7);
    }
}
