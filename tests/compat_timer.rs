//! hyper's timer on coreloop (`CoreTimer`, `CoreSleep`), on both reactors: a sleep is
//! `Send + Sync` (checked at compile time), fires after its deadline and not before, a sleep
//! dropped early ends its timer task at once, and a sleep made on one core and polled on
//! another fires there.

use coreloop_compat::hyper::{CoreSleep, CoreTimer};
use hyper::rt::Timer;
use std::time::{Duration, Instant};

const fn send_sync<T: Send + Sync>() {}
const _: () = send_sync::<CoreSleep>();
const _: () = send_sync::<CoreTimer>();

#[coreloop::test]
async fn a_sleep_fires_after_its_deadline() {
    let start = Instant::now();
    CoreTimer.sleep(Duration::from_millis(30)).await;
    let took = start.elapsed();
    assert!(took >= Duration::from_millis(30), "woke early: {took:?}");
    assert!(took < Duration::from_secs(2), "woke late: {took:?}");
}

#[coreloop::test]
async fn a_dropped_sleep_ends_its_timer_task() {
    let before = coreloop::live_tasks().unwrap();
    let mut sleep = CoreTimer.sleep(Duration::from_secs(3600));
    // First poll: registers the timer on this core (one task).
    let polled = std::future::poll_fn(|cx| std::task::Poll::Ready(sleep.as_mut().poll(cx))).await;
    assert!(polled.is_pending());
    assert_eq!(
        coreloop::live_tasks().unwrap(),
        before + 1,
        "the timer task"
    );
    drop(sleep);
    // The task sees the cancellation on its next poll, without waiting an hour.
    for _ in 0..10 {
        coreloop::yield_now().await;
    }
    assert_eq!(
        coreloop::live_tasks().unwrap(),
        before,
        "the timer task ended"
    );
}

#[test]
fn a_sleep_made_on_one_core_fires_on_another() {
    for kind in coreloop::testing::reactors(module_path!()) {
        let rt = coreloop::Runtime::builder()
            .cores(2)
            .reactor(kind)
            .env_override(false)
            .build()
            .unwrap();
        let _dog = coreloop::testing::Watchdog::new(format!("{kind:?}"), Duration::from_secs(60));
        let out = rt
            .run(|core| async move {
                if core.index != 0 {
                    return None;
                }
                let sleep = CoreSleep::until(Instant::now() + Duration::from_millis(20));
                let start = Instant::now();
                let on = coreloop::spawn_on(1, async move {
                    sleep.await;
                    coreloop::current_core()
                })
                .unwrap()
                .await
                .unwrap();
                Some((on, start.elapsed()))
            })
            .unwrap();
        let (on, took) = out[0].unwrap();
        assert_eq!(on, Some(1), "{kind:?}");
        assert!(took >= Duration::from_millis(20), "{kind:?}: {took:?}");
    }
}
