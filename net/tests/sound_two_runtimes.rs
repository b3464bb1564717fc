//! Issue 10, defect 7: a stream dropped outside `block_on` is forgotten by the reactor that
//! registered it, not by whichever runtime runs next on the thread. With two runtimes on one
//! thread, the one that registered the old descriptor must register a new descriptor with
//! the same number afresh: a read on it sees its data.

use coreloop_net::UnixStream;
use coreloop_runtime::{ReactorKind, Runtime, spawn, time};
use std::os::fd::AsRawFd;
use std::time::Duration;

fn rt(kind: ReactorKind) -> Runtime {
    Runtime::builder()
        .reactor(kind)
        .env_override(false)
        .build()
        .unwrap()
}

/// The two cases count on the kernel reusing the lowest free number: one at a time.
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn forget_goes_to_the_registering_runtime(kind: ReactorKind) {
    let _dog = coreloop_runtime::testing::Watchdog::new(
        format!("two runtimes on {kind}"),
        Duration::from_secs(30),
    );
    let a = rt(kind);
    let b = rt(kind);
    // On A: a read waits on x (registering it), then gives up.
    let (x, y) = a.block_on(async {
        let (x, y) = UnixStream::pair().unwrap();
        let r = time::timeout(Duration::from_millis(10), x.read(Vec::with_capacity(8))).await;
        assert!(r.is_err());
        (x, y)
    });
    let old = x.as_raw_fd();
    // Dropped outside any block_on: the forget is deferred…
    drop(x);
    drop(y);
    // …and B runs next on this thread.
    b.block_on(async {});
    // On A again: a new stream takes the old number; a read on it must see its data.
    a.block_on(async {
        let (x, y) = UnixStream::pair().unwrap();
        // (On io_uring the timed-out read may still hold the old number until A's next park;
        // the defect was epoll's, whose state is kept per number.)
        if kind == ReactorKind::Epoll {
            assert_eq!(
                x.as_raw_fd(),
                old,
                "the kernel reuses the lowest free number"
            );
        }
        let reader = spawn(async move {
            let (res, buf) = x.read(Vec::with_capacity(8)).await;
            (res.map_err(|e| e.to_string()), buf)
        });
        time::sleep(Duration::from_millis(5)).await;
        let (res, _) = y.write(b"new".to_vec()).await;
        res.unwrap();
        let got = time::timeout(Duration::from_secs(2), reader).await;
        let (res, buf) = got
            .unwrap_or_else(|_| {
                panic!(
                    "{kind}: a read on a reused fd number never saw its data: the old number's \
                     forget went to the other runtime, so this one kept stale state"
                )
            })
            .unwrap();
        assert_eq!(res, Ok(3));
        assert_eq!(buf, b"new");
    });
}

#[test]
fn deferred_forget_goes_to_the_registering_runtime_uring() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    if !coreloop_runtime::testing::should_run(coreloop_runtime::ReactorKind::Uring, module_path!())
    {
        return;
    }
    forget_goes_to_the_registering_runtime(ReactorKind::Uring);
}

#[test]
fn deferred_forget_goes_to_the_registering_runtime_epoll() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    forget_goes_to_the_registering_runtime(ReactorKind::Epoll);
}
