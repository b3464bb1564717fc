//! Issue 10, minors (timers): `sleep(Duration::MAX)` does not panic (it stays pending), an
//! `Interval` with a huge period neither overflows nor panics, `Skip` arithmetic does not
//! truncate, and a `Sleep` first polled on one runtime and dropped on another does not remove
//! an unrelated timer there.

use coreloop_runtime::time::{self, MissedTickBehavior};
use coreloop_runtime::{ReactorKind, Runtime, reactor_test};
use std::future::Future;
use std::task::Poll;
use std::time::{Duration, Instant};

reactor_test! {
    async fn sleep_duration_max_stays_pending() {
        let r = time::timeout(Duration::from_millis(10), time::sleep(Duration::MAX)).await;
        assert!(r.is_err(), "sleep(Duration::MAX) finished");
    }
}

reactor_test! {
    async fn interval_with_a_huge_period_does_not_overflow() {
        let mut iv = time::interval(Duration::MAX);
        // The first tick is at once; the second is (practically) never.
        let first = time::timeout(Duration::from_secs(1), iv.tick()).await;
        assert!(first.is_ok(), "the first tick comes at once");
        let second = time::timeout(Duration::from_millis(10), iv.tick()).await;
        assert!(second.is_err(), "a second tick after Duration::MAX");
    }
}

reactor_test! {
    async fn interval_skip_with_many_missed_ticks_stays_on_the_grid() {
        // A 1 ns period, started 5 s ago: about 5e9 periods are missed, more than u32 holds.
        let start = Instant::now() - Duration::from_secs(5);
        let mut iv = time::interval_at(start, Duration::from_nanos(1));
        iv.set_missed_tick_behavior(MissedTickBehavior::Skip);
        let first = iv.tick().await;
        assert_eq!(first, start);
        let before = Instant::now();
        let second = time::timeout(Duration::from_secs(1), iv.tick())
            .await
            .expect("the next tick after skipping is due now");
        assert!(
            second >= before - Duration::from_millis(1),
            "Skip truncated the count of missed periods: the next tick {:?} is {:?} in the past",
            second,
            before.saturating_duration_since(second)
        );
    }
}

reactor_test! {
    async fn interval_skip_with_a_huge_period_does_not_overflow() {
        let start = Instant::now() - Duration::from_millis(20);
        let mut iv = time::interval_at(start, Duration::from_secs(u64::MAX / 4));
        iv.set_missed_tick_behavior(MissedTickBehavior::Skip);
        let _ = iv.tick().await;
        let r = time::timeout(Duration::from_millis(10), iv.tick()).await;
        assert!(r.is_err());
    }
}

/// A `Sleep` polled on runtime A, then dropped while runtime B runs, must not cancel B's
/// timer that happens to have the same deadline and id.
fn sleep_dropped_on_another_runtime(kind: ReactorKind) {
    let _dog = coreloop_runtime::testing::Watchdog::new(
        format!("sleep across runtimes on {kind}"),
        Duration::from_secs(30),
    );
    let rt = |k| {
        Runtime::builder()
            .reactor(k)
            .env_override(false)
            .build()
            .unwrap()
    };
    let a = rt(kind);
    let b = rt(kind);
    let deadline = Instant::now() + Duration::from_millis(100);
    let mut s = Box::pin(time::sleep_until(deadline));
    // Registered on A (its first timer).
    a.block_on(async {
        std::future::poll_fn(|cx| {
            assert!(s.as_mut().poll(cx).is_pending());
            Poll::Ready(())
        })
        .await;
    });
    b.block_on(async {
        // B's first timer: same deadline, and (on main) the same id.
        let mut t = Box::pin(time::sleep_until(deadline));
        std::future::poll_fn(|cx| {
            assert!(t.as_mut().poll(cx).is_pending());
            Poll::Ready(())
        })
        .await;
        // Dropping A's sleep here must not touch B's timers.
        drop(s);
        // Nothing else wakes this core: if t's timer was removed, only the 2 s bound does
        // (and then t is ready too, late).
        let r = time::timeout(Duration::from_secs(2), t).await;
        let late = Instant::now().saturating_duration_since(deadline);
        assert!(
            r.is_ok() && late < Duration::from_millis(500),
            "{kind}: dropping a Sleep from another runtime removed this runtime's timer: it \
             fired {late:?} late"
        );
    });
}

#[test]
fn sleep_dropped_on_another_runtime_keeps_its_timers_uring() {
    if !coreloop_runtime::testing::should_run(coreloop_runtime::ReactorKind::Uring, module_path!())
    {
        return;
    }
    sleep_dropped_on_another_runtime(ReactorKind::Uring);
}

#[test]
fn sleep_dropped_on_another_runtime_keeps_its_timers_epoll() {
    sleep_dropped_on_another_runtime(ReactorKind::Epoll);
}
