//! Issue 10, defect 1: an op already in flight, polled while no runtime is current on the
//! thread (or while another runtime is), must never resolve and hand its buffer back while
//! the kernel or a pool thread may still write into it. It panics with a clear message or
//! stays pending.

use coreloop_runtime::op::{Position, SharedFd, read::Read};
use coreloop_runtime::reactor::Op;
use coreloop_runtime::sys::fd::OwnedFd;
use coreloop_runtime::sys::io::{pipe, write};
use coreloop_runtime::{ReactorKind, Runtime};
use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

/// A read of up to 8 bytes from the pipe's read end, as an op future that is in flight in
/// the kernel (io_uring) or on a pool thread (epoll: `Position::Cursor` runs on the pool,
/// where it blocks in read(2) on a blocking pipe) once polled.
type InFlight = Pin<Box<dyn Future<Output = Vec<u8>>>>;

fn in_flight_read(fd: &SharedFd) -> InFlight {
    let op = Op::new(Read::new(fd, Vec::with_capacity(8), Position::Cursor));
    Box::pin(async move {
        let (_res, buf) = op.await;
        buf
    })
}

// --- the test ---

fn pipe_blocking() -> (SharedFd, OwnedFd) {
    let (r, w) = pipe(false).unwrap();
    (SharedFd::new(r), w)
}

fn poll_once(f: &mut InFlight) -> Poll<Vec<u8>> {
    let mut cx = Context::from_waker(Waker::noop());
    f.as_mut().poll(&mut cx)
}

/// Polls `f` with no runtime current; Ok(true) if it resolved (the defect).
fn poll_off_runtime(f: &mut InFlight) -> Result<bool, String> {
    match catch_unwind(AssertUnwindSafe(|| poll_once(f))) {
        Ok(Poll::Pending) => Ok(false),
        Ok(Poll::Ready(buf)) => {
            // The kernel or a pool thread may still write into this buffer: never free it.
            std::mem::forget(buf);
            Ok(true)
        }
        Err(p) => Err(p
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_default()),
    }
}

fn off_runtime(kind: ReactorKind) {
    let rt = Runtime::builder()
        .reactor(kind)
        .env_override(false)
        .build()
        .unwrap();
    let _dog = coreloop_runtime::testing::Watchdog::new(
        format!("op off core on {kind}"),
        std::time::Duration::from_secs(20),
    );
    let (r, w) = pipe_blocking();
    let mut read = in_flight_read(&r);
    // Submit it: in flight in the kernel or on a pool thread.
    rt.block_on(async {
        assert!(
            std::future::poll_fn(|cx| Poll::Ready(read.as_mut().poll(cx)))
                .await
                .is_pending()
        );
        coreloop_runtime::time::sleep(std::time::Duration::from_millis(20)).await;
    });
    // No runtime current now.
    let resolved = poll_off_runtime(&mut read);
    // Let the op finish (into a buffer that is kept alive, or leaked if it was handed back).
    write(w.raw(), b"KERNEL!!").unwrap();
    rt.block_on(async {
        coreloop_runtime::time::sleep(std::time::Duration::from_millis(20)).await;
    });
    if let Ok(false) = resolved {
        // Still ours: finish it on its runtime.
        let buf = rt.block_on(read);
        assert_eq!(buf, b"KERNEL!!");
    } else {
        std::mem::forget(read);
    }
    match resolved {
        Ok(false) => {}
        Ok(true) => panic!(
            "{kind}: an in-flight op polled with no runtime current resolved and handed back \
             its buffer while the kernel or a pool thread could still write into it"
        ),
        Err(msg) => assert!(
            msg.contains("runtime") || msg.contains("core"),
            "{kind}: the panic should say why: {msg:?}"
        ),
    }
    drop(r);
}

#[test]
fn in_flight_op_polled_with_no_runtime_never_resolves_uring() {
    if !coreloop_runtime::testing::should_run(coreloop_runtime::ReactorKind::Uring, module_path!())
    {
        return;
    }
    off_runtime(ReactorKind::Uring);
}

#[test]
fn in_flight_op_polled_with_no_runtime_never_resolves_epoll() {
    off_runtime(ReactorKind::Epoll);
}

/// The same op polled while a different runtime is current (in release builds the core check
/// is only a `debug_assert`): it must panic or stay pending.
fn other_runtime(kind: ReactorKind) {
    let rt = Runtime::builder()
        .reactor(kind)
        .env_override(false)
        .build()
        .unwrap();
    let other = Runtime::builder()
        .reactor(kind)
        .env_override(false)
        .build()
        .unwrap();
    let _dog = coreloop_runtime::testing::Watchdog::new(
        format!("op on other core on {kind}"),
        std::time::Duration::from_secs(20),
    );
    let (r, w) = pipe_blocking();
    let mut read = in_flight_read(&r);
    rt.block_on(async {
        assert!(
            std::future::poll_fn(|cx| Poll::Ready(read.as_mut().poll(cx)))
                .await
                .is_pending()
        );
    });
    let resolved = other.block_on(async { poll_off_runtime(&mut read) });
    write(w.raw(), b"KERNEL!!").unwrap();
    rt.block_on(async {
        coreloop_runtime::time::sleep(std::time::Duration::from_millis(20)).await;
    });
    if let Ok(false) = resolved {
        let buf = rt.block_on(read);
        assert_eq!(buf, b"KERNEL!!");
    } else {
        std::mem::forget(read);
    }
    assert!(
        !matches!(resolved, Ok(true)),
        "{kind}: an in-flight op polled on another runtime resolved early"
    );
    drop(r);
}

#[test]
fn in_flight_op_polled_on_another_runtime_never_resolves_uring() {
    if !coreloop_runtime::testing::should_run(coreloop_runtime::ReactorKind::Uring, module_path!())
    {
        return;
    }
    other_runtime(ReactorKind::Uring);
}

#[test]
fn in_flight_op_polled_on_another_runtime_never_resolves_epoll() {
    other_runtime(ReactorKind::Epoll);
}
