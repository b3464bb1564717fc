//! Pooled reads and multishot ops, on both reactors: cancel safety (a loop of short timeouts
//! loses no byte), exhaustion and recovery with a one-buffer pool, the pool's invariant after
//! thousands of connect/read/cancel/close cycles, multishot recv and accept armed again after
//! the kernel ends them, and descriptors accepted for a dropped listener closed.

mod common;

use coreloop_net::{TcpListener, TcpStream};
use coreloop_runtime::io::AsyncWriteRentExt;
use coreloop_runtime::testing::{self, pattern};
use coreloop_runtime::time::{sleep, timeout};
use coreloop_runtime::{Builder, ReactorKind, Runtime, buf_pool_stats, reactor_test, spawn};
use std::time::Duration;

/// Writes `data` in uneven pieces with pauses, so reads time out between pieces.
async fn trickle(mut s: TcpStream, data: Vec<u8>) {
    let mut off = 0;
    let mut step = 1;
    while off < data.len() {
        let end = (off + step * 97).min(data.len());
        s.write_all(data[off..end].to_vec()).await.0.unwrap();
        off = end;
        step = step % 37 + 1;
        if step % 5 == 0 {
            sleep(Duration::from_millis(2)).await;
        }
    }
}

/// Reads with `read_pooled` until end of stream, every read under a 1 ms timeout.
async fn read_all_with_timeouts(s: &TcpStream) -> (Vec<u8>, u32) {
    let mut got = Vec::new();
    let mut timeouts = 0;
    loop {
        match timeout(Duration::from_millis(1), s.read_pooled()).await {
            Err(_) => timeouts += 1,
            Ok(res) => {
                let buf = res.unwrap();
                if buf.is_empty() {
                    return (got, timeouts);
                }
                got.extend_from_slice(&buf);
            }
        }
    }
}

async fn pair() -> (TcpStream, TcpStream) {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let c = TcpStream::connect(l.local_addr().unwrap()).await.unwrap();
    let (s, _) = l.accept().await.unwrap();
    (c, s)
}

/// Waits (bounded) until every buffer of the core's pool is free again: cancelled ops give
/// theirs back when their last completion arrives.
async fn settle() -> coreloop_runtime::BufPoolStats {
    for _ in 0..2000 {
        let st = buf_pool_stats().expect("the pool exists");
        assert!(st.balanced(), "every buffer is in one place: {st:?}");
        if st.free == st.buffers {
            return st;
        }
        sleep(Duration::from_millis(1)).await;
    }
    panic!("buffers never came back: {:?}", buf_pool_stats());
}

reactor_test! {
    async fn a_loop_of_timed_out_pooled_reads_loses_no_byte() {
        let (c, s) = pair().await;
        let data = pattern(300_000, 3);
        let writer = spawn(trickle(c, data.clone()));
        let (got, timeouts) = read_all_with_timeouts(&s).await;
        writer.await.unwrap();
        assert_eq!(got.len(), data.len());
        assert!(got == data, "bytes lost or reordered");
        assert!(timeouts > 0, "the reads must have been cancelled some of the time");
        drop(s);
        settle().await;
    }
}

reactor_test! {
    async fn a_read_future_left_alive_does_not_swallow_the_next_bytes() {
        let (mut c, s) = pair().await;
        // A read that is polled once and then left alone (not dropped) ...
        let mut first = Box::pin(s.read_pooled());
        assert!(futures_poll_once(first.as_mut()).await.is_none());
        c.write_all(b"abc".to_vec()).await.0.unwrap();
        sleep(Duration::from_millis(20)).await;
        // ... does not take the data from the next read: they share the stream's results.
        let next = timeout(Duration::from_secs(5), s.read_pooled()).await.unwrap().unwrap();
        assert_eq!(&next[..], b"abc");
        drop(first);
        drop(next);
        drop(s);
        settle().await;
    }
}

/// Polls `fut` once: `Some` if it finished.
async fn futures_poll_once<F: Future + Unpin>(mut fut: F) -> Option<F::Output> {
    std::future::poll_fn(|cx| {
        std::task::Poll::Ready(match std::pin::Pin::new(&mut fut).poll(cx) {
            std::task::Poll::Ready(v) => Some(v),
            std::task::Poll::Pending => None,
        })
    })
    .await
}

fn one_buffer_pool(kind: ReactorKind) -> Builder {
    Runtime::builder()
        .reactor(kind)
        .env_override(false)
        .buf_pool(1, 512)
}

#[test]
fn a_one_buffer_pool_survives_a_burst_and_recovers() {
    for kind in testing::reactors("a_one_buffer_pool_survives_a_burst_and_recovers") {
        testing::run_with(one_buffer_pool(kind), async move {
            let (mut c, s) = pair().await;
            let data = pattern(200_000, 9);
            let d = data.clone();
            let writer = spawn(async move {
                c.write_all(d).await.0.unwrap();
                drop(c);
            });
            let mut got = Vec::new();
            let mut held = Vec::new();
            loop {
                let buf = s.read_pooled().await.unwrap();
                if buf.is_empty() {
                    break;
                }
                assert!(buf.len() <= 512);
                got.extend_from_slice(&buf);
                // Hold the only buffer a while now and then: the next read must wait for it.
                if got.len() % 7 == 0 {
                    held.push(buf);
                    let st = buf_pool_stats().unwrap();
                    assert_eq!(st.free, 0, "{kind}: the one buffer is held");
                    let blocked = timeout(Duration::from_millis(2), s.read_pooled()).await;
                    assert!(blocked.is_err(), "{kind}: no buffer, so no read can finish");
                    held.clear();
                }
            }
            writer.await.unwrap();
            assert!(got == data, "{kind}: bytes lost or reordered");
            let st = buf_pool_stats().unwrap();
            assert!(st.exhausted > 0, "{kind}: the pool ran dry: {st:?}");
            if kind == ReactorKind::Uring && st.kernel_ring {
                assert!(
                    st.rearms > 0,
                    "the kernel ends a multishot recv when the ring is empty, and it is armed again: {st:?}"
                );
            }
            drop(s);
            settle().await;
        });
    }
}

#[test]
fn the_pool_invariant_holds_after_ten_thousand_cycles() {
    for kind in testing::reactors("the_pool_invariant_holds_after_ten_thousand_cycles") {
        testing::run_with(
            Runtime::builder()
                .reactor(kind)
                .env_override(false)
                .buf_pool(8, 256),
            async move {
                let l = TcpListener::bind("127.0.0.1:0").unwrap();
                let at = l.local_addr().unwrap();
                let mut kept = Vec::new();
                for i in 0..10_000u32 {
                    let mut c = TcpStream::connect(at).await.unwrap();
                    // No TIME_WAIT: 10,000 connections must not run out of ports.
                    c.set_linger(Some(Duration::ZERO)).unwrap();
                    let (s, _) = l.accept().await.unwrap();
                    match i % 5 {
                        // Data arrives, is read and dropped.
                        0 => {
                            c.write_all(vec![i as u8; 300]).await.0.unwrap();
                            let b = s.read_pooled().await.unwrap();
                            assert!(!b.is_empty());
                        }
                        // A read cancelled before anything arrives.
                        1 => {
                            assert!(timeout(Duration::ZERO, s.read_pooled()).await.is_err());
                        }
                        // Data queued for the stream (a read armed it), never read: closed with
                        // it.
                        2 => {
                            assert!(timeout(Duration::ZERO, s.read_pooled()).await.is_err());
                            c.write_all(vec![1; 700]).await.0.unwrap();
                            coreloop_runtime::yield_now().await;
                        }
                        // The user keeps a buffer past the stream's close for a while.
                        3 => {
                            c.write_all(vec![2; 10]).await.0.unwrap();
                            let b = s.read_pooled().await.unwrap();
                            kept.push(b);
                            if kept.len() > 4 {
                                kept.clear();
                            }
                        }
                        // The peer resets the connection under an armed read.
                        _ => {
                            assert!(timeout(Duration::ZERO, s.read_pooled()).await.is_err());
                            drop(c);
                            let r = timeout(Duration::from_secs(5), s.read_pooled()).await;
                            match r.expect("a reset or end of stream comes") {
                                Ok(b) => assert!(b.is_empty()),
                                Err(e) => assert_eq!(e.kind(), std::io::ErrorKind::ConnectionReset),
                            }
                            continue;
                        }
                    }
                    drop(s);
                    drop(c);
                    let st = buf_pool_stats().unwrap();
                    assert!(st.balanced(), "{kind}: cycle {i}: {st:?}");
                }
                kept.clear();
                let st = settle().await;
                assert_eq!((st.taken, st.held), (0, 0), "{kind}: {st:?}");
                assert!(st.reads >= 4_000, "{kind}: {st:?}");
            },
        );
    }
}

/// Needs the fault plan (`--features fault-injection`, as the README's test command has).
#[cfg(feature = "fault-injection")]
#[test]
fn a_kernel_without_buffer_rings_falls_back_with_the_reason() {
    if !testing::should_run(
        ReactorKind::Uring,
        "a_kernel_without_buffer_rings_falls_back",
    ) {
        return;
    }
    testing::run(ReactorKind::Uring, async {
        // Refuse IORING_REGISTER_PBUF_RING the way an old kernel does.
        let _plan = refuse_register();
        let (c, s) = pair().await;
        let data = pattern(100_000, 1);
        let writer = spawn(trickle(c, data.clone()));
        let (got, _) = read_all_with_timeouts(&s).await;
        writer.await.unwrap();
        assert!(got == data);
        let st = buf_pool_stats().unwrap();
        assert!(!st.kernel_ring, "{st:?}");
        let why = st.fallback.clone().expect("the reason is kept");
        assert!(why.contains("PBUF_RING") && why.contains("5.19"), "{why}");
        drop(s);
        settle().await;
    });
}

#[cfg(feature = "fault-injection")]
fn refuse_register() -> impl Drop {
    use coreloop_runtime::sys::fault::{Action, Plan, Rule};
    use coreloop_runtime::sys::{Errno, nr};
    Plan::new(1)
        .rule(Rule::new(
            &[nr::IO_URING_REGISTER],
            Action::Fail(Errno::EINVAL),
        ))
        .install()
}

#[cfg(feature = "fault-injection")]
reactor_test! {
    async fn pooled_reads_deliver_every_byte_under_injected_faults() {
        use coreloop_runtime::sys::fault::{self, Action, Plan, Rule, URING_OP};
        use coreloop_runtime::sys::{Errno, nr};
        let io = [nr::RECVFROM, nr::SENDTO, nr::WRITE, nr::READ, nr::ACCEPT4, nr::CONNECT];
        let _plan = Plan::new(fault::seed_from_env())
            .rule(Rule::new(&io, Action::Fail(Errno::EINTR)).probability(0.2))
            .rule(Rule::new(&io, Action::Fail(Errno::EAGAIN)).probability(0.05))
            .rule(Rule::new(&io, Action::Short).probability(0.3))
            .rule(Rule::new(&[URING_OP], Action::Fail(Errno::EINTR)).probability(0.2))
            .install();
        let before = fault::injected();
        let (c, s) = pair().await;
        let data = pattern(200_000, 5);
        let writer = spawn(trickle(c, data.clone()));
        let (got, _) = read_all_with_timeouts(&s).await;
        writer.await.unwrap();
        assert!(got == data, "bytes lost or reordered under faults");
        assert!(fault::injected() > before, "faults were injected");
    }
}

reactor_test! {
    async fn connections_accepted_for_a_dropped_listener_are_closed() {
        let base = testing::open_fds();
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let at = l.local_addr().unwrap();
        // Arm the accept (on io_uring: a multishot accept), then give up on it.
        assert!(timeout(Duration::ZERO, l.accept()).await.is_err());
        let mut clients = Vec::new();
        for _ in 0..8 {
            clients.push(TcpStream::connect(at).await.unwrap());
        }
        sleep(Duration::from_millis(20)).await;
        // A dropped accept() loses no connection: the next one gets one that was queued.
        let (first, _) = timeout(Duration::from_secs(5), l.accept()).await.unwrap().unwrap();
        drop(first);
        drop(l);
        drop(clients);
        for _ in 0..500 {
            if testing::open_fds() <= base {
                return;
            }
            sleep(Duration::from_millis(2)).await;
        }
        panic!("{} descriptors leaked", testing::open_fds() - base);
    }
}

/// In a child process (it lowers its descriptor limit): the kernel ends a multishot accept
/// with EMFILE; `accept` returns the error, and once descriptors are free it accepts again.
#[test]
fn accept_is_armed_again_after_the_kernel_ends_it() {
    if !testing::in_child(
        "accept_is_armed_again_after_the_kernel_ends_it",
        "POOLED_EMFILE_CHILD",
        Duration::from_secs(60),
    ) {
        return;
    }
    for kind in testing::reactors("accept_is_armed_again_after_the_kernel_ends_it") {
        testing::run(kind, async move {
            let l = TcpListener::bind("127.0.0.1:0").unwrap();
            let at = l.local_addr().unwrap();
            // Use up the descriptors but three: the first client, its accepted side and a second
            // client. (io_uring reads the limit when an accept is armed, so it is lowered first.)
            let limit = testing::open_fds() as u64 + 8;
            set_nofile(limit);
            let mut fill = Vec::new();
            while let Ok(f) = std::fs::File::open("/dev/null") {
                fill.push(f);
            }
            fill.truncate(fill.len() - 3);
            let c1 = TcpStream::connect(at).await.unwrap();
            let (s1, _) = l.accept().await.unwrap();
            let c2 = TcpStream::connect(at).await.unwrap();
            let err = timeout(Duration::from_secs(5), l.accept())
                .await
                .expect("accept reports the error")
                .expect_err(&format!("{kind}: no descriptor is left (limit {limit})"));
            assert_eq!(err.raw_os_error(), Some(24), "{kind}: EMFILE, got {err}");
            fill.clear();
            set_nofile(4096);
            let (mut s2, _) = timeout(Duration::from_secs(5), l.accept())
                .await
                .expect("accepts again")
                .unwrap();
            s2.write_all(b"x".to_vec()).await.0.unwrap();
            let b = c2.read_pooled().await.unwrap();
            assert_eq!(&b[..], b"x");
            drop((c1, s1, c2, s2));
        });
    }
}

fn set_nofile(n: u64) {
    use coreloop_runtime::sys::resource::{RLIMIT_NOFILE, Rlimit, setrlimit};
    let old = coreloop_runtime::sys::resource::prlimit64(0, RLIMIT_NOFILE, None).unwrap();
    setrlimit(
        RLIMIT_NOFILE,
        &Rlimit {
            cur: n.min(old.max),
            ..old
        },
    )
    .unwrap();
}

/// A small seeded generator (xorshift), so a failing storm can be replayed.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

/// The cancellation storm for pooled reads and multishot ops (run it under AddressSanitizer with
/// `scripts/asan.sh`): tasks read with random timeouts, streams are dropped with data queued and
/// reads armed, listeners are dropped with accepts armed and connections queued, all over a
/// small pool that keeps running dry. Every byte of every stream read to its end arrives in
/// order, every buffer comes back, and no descriptor is left open.
#[test]
fn a_storm_of_cancelled_pooled_reads_and_multishot_ops() {
    for kind in testing::reactors("a_storm_of_cancelled_pooled_reads_and_multishot_ops") {
        testing::run_with(
            Runtime::builder()
                .reactor(kind)
                .env_override(false)
                .buf_pool(16, 128),
            async move {
                let base = testing::open_fds();
                let mut rng = Rng(0x5eed_0001);
                for round in 0..40u64 {
                    let l = TcpListener::bind("127.0.0.1:0").unwrap();
                    let at = l.local_addr().unwrap();
                    let mut tasks = Vec::new();
                    for t in 0..8u64 {
                        let c = TcpStream::connect(at).await.unwrap();
                        let (s, _) = l.accept().await.unwrap();
                        let len = 1 + rng.below(20_000) as usize;
                        let cut = rng.below(4) == 0;
                        let seed = (round * 8 + t) as u8;
                        let wait = rng.below(3);
                        tasks.push(spawn(async move {
                            let data = pattern(len, seed);
                            let mut c = c;
                            let w = spawn({
                                let data = data.clone();
                                async move {
                                    let _ = c.write_all(data).await;
                                }
                            });
                            let mut got = Vec::new();
                            loop {
                                let d = Duration::from_micros(wait * 300);
                                match timeout(d, s.read_pooled()).await {
                                    Err(_) if cut && got.len() > len / 2 => {
                                        // Dropped with a read armed and data queued.
                                        drop(s);
                                        let _ = w.await;
                                        return;
                                    }
                                    Err(_) => {}
                                    Ok(Ok(b)) if b.is_empty() => break,
                                    Ok(Ok(b)) => got.extend_from_slice(&b),
                                    Ok(Err(e)) => panic!("read failed: {e}"),
                                }
                                if got.len() == len {
                                    break;
                                }
                            }
                            w.await.unwrap();
                            assert!(got == data, "stream {seed}: bytes lost or reordered");
                        }));
                    }
                    // Accepts armed, then given up on, with clients queued behind them.
                    assert!(timeout(Duration::ZERO, l.accept()).await.is_err());
                    let mut queued = Vec::new();
                    for _ in 0..rng.below(4) {
                        queued.push(TcpStream::connect(at).await.unwrap());
                    }
                    if rng.below(2) == 0 {
                        coreloop_runtime::yield_now().await;
                    }
                    drop(l);
                    for t in tasks {
                        t.await.unwrap();
                    }
                    drop(queued);
                }
                let st = settle().await;
                assert_eq!((st.taken, st.held), (0, 0), "{kind}: {st:?}");
                if st.kernel_ring {
                    // (On epoll a read holds a buffer only during its recv: it never runs dry.)
                    assert!(st.exhausted > 0, "the storm must run the ring dry: {st:?}");
                }
                for _ in 0..500 {
                    if testing::open_fds() <= base {
                        return;
                    }
                    sleep(Duration::from_millis(2)).await;
                }
                panic!("{kind}: {} descriptors leaked", testing::open_fds() - base);
            },
        );
    }
}

reactor_test! {
    /// `timeout(0, read)` in a loop: each read is started and given up at once. Once the task
    /// has spent its op budget, the expired timer yields too (as the read does), so the core
    /// gets to collect the data and a later read finds it: the loop never keeps the core.
    async fn a_loop_of_zero_timeouts_gives_the_core_back() {
        let (mut c, s) = pair().await;
        c.write_all(b"ping".to_vec()).await.0.unwrap();
        let mut tries = 0u64;
        let got = loop {
            tries += 1;
            if let Ok(r) = timeout(Duration::ZERO, s.read_pooled()).await {
                break r.unwrap();
            }
        };
        assert_eq!(&got[..], b"ping", "after {tries} tries");
    }
}

/// io_uring's buffer ring starts with a small window of the pool (so a lightly loaded core
/// touches few buffers) and grows when many streams receive at once and drain it; no byte is
/// lost on the way.
#[test]
fn the_buffer_ring_grows_with_the_load() {
    if !testing::should_run(ReactorKind::Uring, "the_buffer_ring_grows_with_the_load") {
        return;
    }
    testing::run_with(
        Runtime::builder()
            .reactor(ReactorKind::Uring)
            .env_override(false)
            .buf_pool(512, 1024),
        async {
            let l = TcpListener::bind("127.0.0.1:0").unwrap();
            let at = l.local_addr().unwrap();
            let mut pairs = Vec::new();
            for _ in 0..64 {
                let c = TcpStream::connect(at).await.unwrap();
                let (s, _) = l.accept().await.unwrap();
                // Arm each stream's multishot recv.
                assert!(timeout(Duration::ZERO, s.read_pooled()).await.is_err());
                pairs.push((c, s));
            }
            // Every stream receives at once, written from another thread while this core is
            // blocked (joining it): the kernel then runs all 64 receives in one enter, needing
            // more buffers than the first window holds.
            let (clients, servers): (Vec<_>, Vec<_>) = pairs.into_iter().unzip();
            let clients: Vec<std::net::TcpStream> =
                clients.into_iter().map(|c| c.into_std().unwrap()).collect();
            let writer = std::thread::spawn(move || {
                use std::io::Write;
                for (i, mut c) in clients.iter().enumerate() {
                    c.write_all(&pattern(3000, i as u8)).unwrap();
                }
                clients
            });
            let clients = writer.join().unwrap();
            for (i, s) in servers.iter().enumerate() {
                let mut got = Vec::new();
                while got.len() < 3000 {
                    got.extend_from_slice(&s.read_pooled().await.unwrap());
                }
                assert!(got == pattern(3000, i as u8), "stream {i}");
            }
            let st = buf_pool_stats().unwrap();
            if st.kernel_ring {
                assert!(st.ring_window > 32, "the window grew: {st:?}");
            }
            drop((clients, servers));
            settle().await;
        },
    );
}
