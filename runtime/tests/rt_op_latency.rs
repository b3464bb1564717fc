//! Per-op latency, on both reactors: off by default (nothing recorded), and when asked for,
//! every op that resolves is counted under its kind with sane percentiles.

use coreloop_runtime::op::{Position, SharedFd, read::Read, write::Write};
use coreloop_runtime::reactor::Op;
use coreloop_runtime::sys::io::pipe;
use coreloop_runtime::testing::{reactors, run_with};
use coreloop_runtime::{Runtime, op_latency};

async fn round_trips(n: usize) {
    let (r, w) = pipe(true).unwrap();
    let (r, w) = (SharedFd::new(r), SharedFd::new(w));
    for _ in 0..n {
        let (res, _) = Op::new(Write::new(&w, b"x".as_slice(), Position::Stream)).await;
        assert_eq!(res.unwrap(), 1);
        let (res, _) = Op::new(Read::new(&r, Vec::with_capacity(8), Position::Stream)).await;
        assert_eq!(res.unwrap(), 1);
    }
}

#[test]
fn off_by_default() {
    for kind in reactors(module_path!()) {
        let b = Runtime::builder().reactor(kind).env_override(false);
        run_with(b, async {
            round_trips(10).await;
            assert_eq!(
                op_latency(),
                None,
                "{kind}: nothing is recorded unless asked"
            );
        });
    }
}

#[test]
fn every_op_is_counted_under_its_kind() {
    for kind in reactors(module_path!()) {
        let b = Runtime::builder()
            .reactor(kind)
            .env_override(false)
            .op_latency(true);
        run_with(b, async {
            round_trips(200).await;
            let stats = op_latency().expect("recording was asked for");
            let of = |k: &str| stats.iter().find(|s| s.kind == k).cloned();
            let (read, write) = (of("read").unwrap(), of("write").unwrap());
            // Under a fault plan an op may be made again; it is still one op that resolved.
            assert_eq!(read.count, 200, "{kind}: {stats:?}");
            assert_eq!(write.count, 200, "{kind}: {stats:?}");
            for s in [&read, &write] {
                assert!(s.p50_ns > 0 && s.p50_ns <= s.p99_ns, "{kind}: {s:?}");
                assert!(
                    s.p99_ns <= s.p999_ns && s.p999_ns <= s.max_ns,
                    "{kind}: {s:?}"
                );
                assert!(
                    s.max_ns < 10_000_000_000,
                    "{kind}: a pipe op took 10 s? {s:?}"
                );
            }
        });
    }
}
