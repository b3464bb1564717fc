//! A descriptor closed between two `block_on`s, whose number the next one reuses, starts
//! clean: its readiness is not mistaken for the old one's.

use coreloop_runtime::op::{Position, SharedFd, read::Read};
use coreloop_runtime::reactor::Op;
use coreloop_runtime::sys::io::{pipe, write};
use coreloop_runtime::{Runtime, spawn, time};
use std::time::Duration;

#[test]
fn a_reused_fd_number_is_registered_afresh() {
    for kind in coreloop_runtime::testing::reactors(module_path!()) {
        let rt = Runtime::builder()
            .reactor(kind)
            .env_override(false)
            .build()
            .unwrap();
        let _dog = coreloop_runtime::testing::Watchdog::new(
            format!("fd reuse on {kind}"),
            Duration::from_secs(30),
        );
        // First block_on: a read waits on the pipe (registering it with epoll), then gives up.
        let (r, w) = rt.block_on(async {
            let (r, w) = pipe(true).unwrap();
            let r = SharedFd::new(r);
            let read = Op::new(Read::new(&r, Vec::with_capacity(8), Position::Stream));
            assert!(
                time::timeout(Duration::from_millis(10), read)
                    .await
                    .is_err()
            );
            (r, w)
        });
        let old = r.raw();
        // Closed outside any block_on, on the core's thread. (On io_uring the timed-out read
        // still holds the descriptor until its cancellation comes back: a short block_on
        // lets it, and only then is the number free.)
        drop(r);
        drop(w);
        rt.block_on(time::sleep(Duration::from_millis(5)));
        // Second block_on: a new pipe takes the same number; a read on it must see its data.
        rt.block_on(async {
            let (r, w) = pipe(true).unwrap();
            assert_eq!(r.raw(), old, "the kernel reuses the lowest free number");
            let r = SharedFd::new(r);
            let fd = r.clone();
            let reader = spawn(async move {
                Op::new(Read::new(&fd, Vec::with_capacity(8), Position::Stream)).await
            });
            time::sleep(Duration::from_millis(5)).await;
            write(w.raw(), b"new").unwrap();
            let (res, buf) = time::timeout(Duration::from_secs(5), reader)
                .await
                .expect("the read saw its data")
                .unwrap();
            assert_eq!(res.unwrap(), 3);
            assert_eq!(buf, b"new");
            drop(r);
        });
    }
}
