//! Per-op latency: the time from an op's start to its completion, per op kind, per core.
//!
//! Off by default, and then it costs one branch per op (no clock read). Turned on with
//! `Builder::op_latency(true)` or `CORELOOP_OP_LATENCY=1`, each op reads the clock when it
//! starts and when it resolves, and the reactor adds the difference to an HDR histogram for
//! the op's kind ([`OpCode::NAME`](crate::op::OpCode::NAME)). On io_uring that is submission
//! to completion as the task sees it; on epoll, the first attempt (or the wait for readiness)
//! to the result — so the two reactors can be compared op by op.

use hdrhistogram::Histogram;
use std::time::Duration;

/// The latency of one kind of op on one core, in nanoseconds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OpLatencyStats {
    /// The op kind (`"read"`, `"recv"`, `"send"`, `"accept"`, …).
    pub kind: &'static str,
    /// How many ops of this kind completed while recording.
    pub count: u64,
    /// Median, in nanoseconds.
    pub p50_ns: u64,
    /// 99th percentile, in nanoseconds.
    pub p99_ns: u64,
    /// 99.9th percentile, in nanoseconds.
    pub p999_ns: u64,
    /// The slowest, in nanoseconds.
    pub max_ns: u64,
}

/// The histograms of one core.
pub(crate) struct OpLatency {
    kinds: Vec<(&'static str, Histogram<u64>)>,
}

impl OpLatency {
    pub(crate) fn new() -> OpLatency {
        OpLatency { kinds: Vec::new() }
    }

    /// Adds one op of `kind` that took `took`.
    pub(crate) fn record(&mut self, kind: &'static str, took: Duration) {
        let ns = u64::try_from(took.as_nanos()).unwrap_or(u64::MAX).max(1);
        let h = match self.kinds.iter().position(|(k, _)| *k == kind) {
            Some(i) => &mut self.kinds[i].1,
            None => {
                // 1 ns to 1 hour at 3 significant digits: a few tens of KiB per kind.
                let h = Histogram::new_with_bounds(1, 3_600_000_000_000, 3)
                    .expect("valid histogram bounds");
                self.kinds.push((kind, h));
                &mut self.kinds.last_mut().expect("just pushed").1
            }
        };
        h.saturating_record(ns);
    }

    /// The percentiles of every kind seen so far, by kind name.
    pub(crate) fn summary(&self) -> Vec<OpLatencyStats> {
        let mut out: Vec<OpLatencyStats> = self
            .kinds
            .iter()
            .map(|(kind, h)| OpLatencyStats {
                kind,
                count: h.len(),
                p50_ns: h.value_at_quantile(0.5),
                p99_ns: h.value_at_quantile(0.99),
                p999_ns: h.value_at_quantile(0.999),
                max_ns: h.max(),
            })
            .collect();
        out.sort_by_key(|s| s.kind);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_per_kind() {
        let mut l = OpLatency::new();
        for i in 1..=1000u64 {
            l.record("recv", Duration::from_micros(i));
        }
        l.record("send", Duration::from_nanos(500));
        let s = l.summary();
        assert_eq!(s.len(), 2);
        assert_eq!(s[0].kind, "recv");
        assert_eq!(s[0].count, 1000);
        let near = |v: u64, want: u64| v.abs_diff(want) <= want / 100;
        assert!(near(s[0].p50_ns, 500_000), "{:?}", s[0]);
        assert!(near(s[0].p99_ns, 990_000), "{:?}", s[0]);
        assert!(near(s[0].max_ns, 1_000_000), "{:?}", s[0]);
        assert_eq!((s[1].kind, s[1].count), ("send", 1));
    }
}
