#!/usr/bin/env bash
# reactor-ab: the example servers on coreloop-uring and coreloop-epoll against their tokio
# twins (current_thread and multi_thread), echo, HTTP and hyper, server pinned to CPU 0 and load to
# CPU 1, interleaved rounds, one table and an HTML report. The echo cases also run floor-uring
# (benches/src/bin/floor_uring.rs: io_uring by hand, no runtime), and one echo case holds 10,000
# connections of which 50 carry the load (RSS KiB/conn is the column to read there). A preset
# of coreloop-bench (benches/src/bench/preset.rs): any coreloop-bench flag given here overrides
# the defaults.
#
#   scripts/reactor-ab.sh                        # 2 s runs, 3 rounds, perf syscall counts if perf works
#   scripts/reactor-ab.sh --secs 1 --rounds 1    # a quick look
#
#   scripts/reactor-ab.sh --secs 0.5 --rounds 1 --perf off   # a smoke run: does every row work?
#
# Builds the release binaries first; takes under 10 minutes on 2 vCPUs once built. The
# 10,000-connection case needs RLIMIT_NOFILE of 20,000 or more (hard limit; the tool raises
# the soft one for itself and the servers it starts).
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "$(nproc)" -lt 2 ]; then
    echo "reactor-ab: needs 2 CPUs (server on one, load on the other); this machine has $(nproc)" >&2
    exit 1
fi

cargo build --release --examples -p coreloop
cargo build --release -p coreloop-benches --bin coreloop-bench --bin tokio_echo --bin tokio_http --bin tokio_hyper \
    --bin floor_uring
target_dir="${CARGO_TARGET_DIR:-target}"
report="$target_dir/reactor-ab.html"

exec "$target_dir/release/coreloop-bench" --preset reactor-ab --bin-dir "$target_dir/release" \
    --secs 2 --rounds 3 --json "$target_dir/reactor-ab.json" --html "$report" "$@"
