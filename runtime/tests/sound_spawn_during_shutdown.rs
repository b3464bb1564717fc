//! Issue 10, minor: a task spawned while a core drops its tasks (from a task future's `Drop`
//! at shutdown) is dropped on its core, while that core is still current, exactly once, and
//! not leaked.

use coreloop_runtime::{ReactorKind, Runtime, current_core, spawn, yield_now};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

#[derive(Default)]
struct Seen {
    dropped: AtomicUsize,
    on_core: AtomicUsize,
}

/// Records, when dropped, whether a core was current.
struct Late(Arc<Seen>);

impl Drop for Late {
    fn drop(&mut self) {
        self.0.dropped.fetch_add(1, Ordering::SeqCst);
        if current_core().is_some() {
            self.0.on_core.fetch_add(1, Ordering::SeqCst);
        }
    }
}

/// Spawns a task holding a `Late` when dropped.
struct SpawnOnDrop(Arc<Seen>);

impl Drop for SpawnOnDrop {
    fn drop(&mut self) {
        let late = Late(self.0.clone());
        drop(spawn(async move {
            let _late = late;
            std::future::pending::<()>().await;
        }));
    }
}

fn spawned_while_dropping(kind: ReactorKind) {
    let _dog = coreloop_runtime::testing::Watchdog::new(
        format!("spawn during shutdown on {kind}"),
        Duration::from_secs(30),
    );
    let seen = Arc::new(Seen::default());
    let rt = Runtime::builder()
        .reactor(kind)
        .env_override(false)
        .build()
        .unwrap();
    let s = seen.clone();
    rt.block_on(async move {
        drop(spawn(async move {
            let _guard = SpawnOnDrop(s);
            std::future::pending::<()>().await;
        }));
        yield_now().await;
    });
    drop(rt);
    let dropped = seen.dropped.load(Ordering::SeqCst);
    let on_core = seen.on_core.load(Ordering::SeqCst);
    assert!(
        dropped == 1 && on_core == 1,
        "{kind}: a task spawned while the core dropped its tasks was dropped {dropped} times, \
         {on_core} of them with its core current (want 1 and 1)"
    );
}

#[test]
fn task_spawned_during_shutdown_is_dropped_on_its_core_uring() {
    if !coreloop_runtime::testing::should_run(coreloop_runtime::ReactorKind::Uring, module_path!())
    {
        return;
    }
    spawned_while_dropping(ReactorKind::Uring);
}

#[test]
fn task_spawned_during_shutdown_is_dropped_on_its_core_epoll() {
    spawned_while_dropping(ReactorKind::Epoll);
}
