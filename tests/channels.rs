//! The ecosystem's channels work across cores: coreloop's wakers route a wake from any
//! thread to the owning core's remote queue and unpark it. For each channel, on both
//! reactors, core 1 waits on a receiver until it **parks** (nothing else to run), core 0
//! sends, and core 1 must wake with the value.

use coreloop::time::{sleep, timeout};
use coreloop::{ReactorKind, Runtime};
use std::future::Future;
use std::pin::Pin;
use std::sync::Mutex;
use std::time::Duration;

type Send = Box<dyn FnOnce(u64) + std::marker::Send>;
type Recv = Pin<Box<dyn Future<Output = Option<u64>> + std::marker::Send>>;

/// Core 1 receives (and reports how often it parked meanwhile); core 0 sends after a pause
/// long enough for core 1 to park.
fn parked_core_is_woken(kind: ReactorKind, send: Send, recv: Recv) {
    let rt = Runtime::builder()
        .cores(2)
        .reactor(kind)
        .env_override(false)
        .build()
        .unwrap();
    let send = Mutex::new(Some(send));
    let recv = Mutex::new(Some(recv));
    let _dog = coreloop::testing::Watchdog::new("channel wake".into(), Duration::from_secs(60));
    let out = rt
        .run(|core| {
            let send = (core.index == 0).then(|| send.lock().unwrap().take().unwrap());
            let recv = (core.index == 1).then(|| recv.lock().unwrap().take().unwrap());
            async move {
                if let Some(send) = send {
                    sleep(Duration::from_millis(50)).await;
                    send(42);
                    return None;
                }
                let parks = || coreloop::reactor_stats().unwrap().parks;
                let before = parks();
                let got = timeout(Duration::from_secs(5), recv.unwrap()).await;
                Some((got.ok().flatten(), parks() - before))
            }
        })
        .unwrap();
    let (got, parks) = out[1].expect("core 1's report");
    assert_eq!(got, Some(42), "the value, within 5 s");
    assert!(
        parks >= 1,
        "core 1 never parked: the test did not test a wake-up"
    );
}

/// One test module per channel, with a `uring` and an `epoll` test.
macro_rules! channel_test {
    ($name:ident, || $make:expr) => {
        mod $name {
            use super::*;

            #[test]
            fn uring() {
                if !coreloop::testing::should_run(ReactorKind::Uring, module_path!()) {
                    return;
                }
                let (send, recv) = $make;
                parked_core_is_woken(ReactorKind::Uring, send, recv);
            }

            #[test]
            fn epoll() {
                let (send, recv) = $make;
                parked_core_is_woken(ReactorKind::Epoll, send, recv);
            }
        }
    };
}

channel_test!(tokio_mpsc, || {
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<u64>();
    let send: Send = Box::new(move |v| tx.send(v).unwrap());
    let recv: Recv = Box::pin(async move { rx.recv().await });
    (send, recv)
});

channel_test!(tokio_oneshot, || {
    let (tx, rx) = tokio::sync::oneshot::channel::<u64>();
    let send: Send = Box::new(move |v| tx.send(v).unwrap());
    let recv: Recv = Box::pin(async move { rx.await.ok() });
    (send, recv)
});

channel_test!(futures_mpsc, || {
    use futures_util::StreamExt;
    let (tx, mut rx) = futures_channel::mpsc::unbounded::<u64>();
    let send: Send = Box::new(move |v| tx.unbounded_send(v).unwrap());
    let recv: Recv = Box::pin(async move { rx.next().await });
    (send, recv)
});

channel_test!(futures_oneshot, || {
    let (tx, rx) = futures_channel::oneshot::channel::<u64>();
    let send: Send = Box::new(move |v| tx.send(v).unwrap());
    let recv: Recv = Box::pin(async move { rx.await.ok() });
    (send, recv)
});

channel_test!(async_channel_unbounded, || {
    let (tx, rx) = async_channel::unbounded::<u64>();
    let send: Send = Box::new(move |v| tx.try_send(v).unwrap());
    let recv: Recv = Box::pin(async move { rx.recv().await.ok() });
    (send, recv)
});

channel_test!(flume_unbounded, || {
    let (tx, rx) = flume::unbounded::<u64>();
    let send: Send = Box::new(move |v| tx.send(v).unwrap());
    let recv: Recv = Box::pin(async move { rx.recv_async().await.ok() });
    (send, recv)
});
