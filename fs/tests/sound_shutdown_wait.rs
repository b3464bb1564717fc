//! Issue 10, defect 9: an op that has completed but whose future is still alive must not keep
//! the runtime's shutdown waiting: only ops the kernel (or a pool thread) still holds are
//! waited for. With the default 5 s shutdown timeout, dropping the runtime must take well
//! under a second.

use coreloop_fs::File;
use coreloop_runtime::{ReactorKind, Runtime, time};
use std::future::Future;
use std::task::Poll;
use std::time::{Duration, Instant};

fn completed_op_does_not_delay_shutdown(kind: ReactorKind) {
    let _dog = coreloop_runtime::testing::Watchdog::new(
        format!("shutdown wait on {kind}"),
        Duration::from_secs(30),
    );
    let dir = std::env::temp_dir().join(format!(
        "coreloop-sound-shutdown-{}-{kind}",
        std::process::id()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("f");
    std::fs::write(&path, b"some bytes").unwrap();
    let rt = Runtime::builder()
        .reactor(kind)
        .env_override(false)
        .build()
        .unwrap();
    let file = rt.block_on(File::open(&path)).unwrap();
    // A read whose future outlives the runtime: started, completed, never polled again.
    let mut read = Box::pin(file.read_at(Vec::with_capacity(64), 0));
    rt.block_on(async {
        std::future::poll_fn(|cx| {
            let _ = read.as_mut().poll(cx);
            Poll::Ready(())
        })
        .await;
        // Long enough for the kernel or the pool to finish it and for the core to see that.
        time::sleep(Duration::from_millis(50)).await;
    });
    let start = Instant::now();
    drop(rt);
    let took = start.elapsed();
    drop(read);
    drop(file);
    let _ = std::fs::remove_dir_all(&dir);
    assert!(
        took < Duration::from_secs(1),
        "{kind}: dropping the runtime took {took:?}: shutdown waited its timeout for an op that \
         had already completed"
    );
}

#[test]
fn completed_op_does_not_delay_shutdown_uring() {
    if !coreloop_runtime::testing::should_run(coreloop_runtime::ReactorKind::Uring, module_path!())
    {
        return;
    }
    completed_op_does_not_delay_shutdown(ReactorKind::Uring);
}

#[test]
fn completed_op_does_not_delay_shutdown_epoll() {
    completed_op_does_not_delay_shutdown(ReactorKind::Epoll);
}
