//! Tasks: spawn, join, !Send, abort, panics, yield, blocking pool — on both reactors.

use coreloop_runtime::{
    JoinError, live_tasks, reactor_test, spawn, spawn_blocking, time, yield_now,
};
use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::time::Duration;

reactor_test! {
    async fn hundred_thousand_tasks_spawned_and_joined() {
        let handles: Vec<_> = (0..100_000u64).map(|i| spawn(async move { i * 2 })).collect();
        let mut sum = 0u64;
        for h in handles {
            sum += h.await.unwrap();
        }
        assert_eq!(sum, 2 * (0..100_000u64).sum::<u64>());
        assert_eq!(live_tasks(), Some(0), "every finished task left the core's table");
    }
}

reactor_test! {
    async fn a_not_send_task_runs() {
        let shared = Rc::new(RefCell::new(Vec::new()));
        let s2 = shared.clone();
        let h = spawn(async move {
            yield_now().await;
            s2.borrow_mut().push(7);
            Rc::strong_count(&s2)
        });
        assert_eq!(h.await.unwrap(), 2);
        assert_eq!(*shared.borrow(), vec![7]);
    }
}

reactor_test! {
    async fn abort_cancels_a_sleeping_task_and_drops_its_future() {
        struct Flag(Rc<Cell<bool>>);
        impl Drop for Flag {
            fn drop(&mut self) {
                self.0.set(true);
            }
        }
        let dropped = Rc::new(Cell::new(false));
        let flag = Flag(dropped.clone());
        let h = spawn(async move {
            let _flag = flag;
            time::sleep(Duration::from_secs(3600)).await;
            1
        });
        yield_now().await;
        h.abort();
        let err = h.await.unwrap_err();
        assert!(err.is_cancelled(), "{err:?}");
        assert!(dropped.get(), "the aborted task's future was dropped");
    }
}

reactor_test! {
    async fn abort_after_finish_keeps_the_output() {
        let h = spawn(async { 5 });
        yield_now().await;
        yield_now().await;
        h.abort();
        assert_eq!(h.await.unwrap(), 5);
    }
}

reactor_test! {
    async fn a_panic_surfaces_through_the_join_handle() {
        let h = spawn(async {
            yield_now().await;
            panic!("boom {}", 42);
        });
        let err: JoinError = h.await.unwrap_err();
        assert!(err.is_panic());
        assert_eq!(err.panic_message(), Some("boom 42"));
        // The core is still fine.
        assert_eq!(spawn(async { 1 }).await.unwrap(), 1);
    }
}

reactor_test! {
    async fn yield_now_lets_others_run() {
        let order = Rc::new(RefCell::new(Vec::new()));
        let o = order.clone();
        let h = spawn(async move {
            o.borrow_mut().push("task");
        });
        order.borrow_mut().push("main-before");
        yield_now().await;
        h.await.unwrap();
        order.borrow_mut().push("main-after");
        assert_eq!(*order.borrow(), vec!["main-before", "task", "main-after"]);
    }
}

reactor_test! {
    async fn spawn_blocking_returns_to_the_core() {
        let here = std::thread::current().id();
        let (v, there) = spawn_blocking(|| (6 * 7, std::thread::current().id())).await.unwrap();
        assert_eq!(v, 42);
        assert_ne!(here, there);
        assert_eq!(std::thread::current().id(), here);
        let err = spawn_blocking(|| -> u8 { panic!("in the pool") }).await.unwrap_err();
        assert_eq!(err.panic_message(), Some("in the pool"));
    }
}

#[test]
fn the_runtime_is_not_send() {
    // Compiles only if `Runtime` is !Send: with Send, both impls apply and the call is ambiguous.
    trait AmbiguousIfSend<A> {
        fn check() {}
    }
    impl<T: ?Sized> AmbiguousIfSend<()> for T {}
    #[allow(dead_code)]
    struct Marker;
    impl<T: ?Sized + Send> AmbiguousIfSend<Marker> for T {}
    <coreloop_runtime::Runtime as AmbiguousIfSend<_>>::check();
    <coreloop_runtime::op::SharedFd as AmbiguousIfSend<_>>::check();
}

reactor_test! {
    async fn blocking_work_never_waits_behind_a_long_job() {
        use std::sync::Arc;
        use std::sync::atomic::{AtomicBool, Ordering};
        // Warm the pool so a worker is idle, then submit a long job and, at once, quick ones:
        // each quick job must get a thread of its own, not queue behind the long one.
        spawn_blocking(|| ()).await.unwrap();
        let long_done = Arc::new(AtomicBool::new(false));
        let flag = long_done.clone();
        let long = spawn_blocking(move || {
            std::thread::sleep(Duration::from_secs(2));
            flag.store(true, Ordering::Release);
        });
        for _ in 0..4 {
            let flag = long_done.clone();
            let finished_first = spawn_blocking(move || !flag.load(Ordering::Acquire)).await.unwrap();
            assert!(finished_first, "a quick blocking job waited for the long one");
        }
        long.await.unwrap();
    }
}
