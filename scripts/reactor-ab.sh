#!/usr/bin/env bash
# reactor-ab: the same servers on coreloop-uring, coreloop-epoll, tokio current_thread and
# tokio multi_thread, server pinned to CPU 0 and load to CPU 1, interleaved rounds, one table.
#
#   scripts/reactor-ab.sh                 # defaults: 3 s runs, 3 rounds, perf syscall count
#   scripts/reactor-ab.sh --secs 1 --rounds 1 --cases echo128,http
#
# (wrk takes whole seconds.) Installs wrk with apt-get if it is missing, builds the release binaries, runs
# benches/src/bin/reactor_ab.rs with the arguments given (or the defaults).
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v wrk >/dev/null 2>&1; then
    echo "reactor-ab: installing wrk" >&2
    if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
    $SUDO apt-get update -qq >/dev/null
    $SUDO apt-get install -y -qq wrk >/dev/null
fi
if ! command -v taskset >/dev/null 2>&1; then
    echo "reactor-ab: taskset (util-linux) is needed" >&2
    exit 1
fi
if [ "$(nproc)" -lt 2 ]; then
    echo "reactor-ab: needs 2 CPUs (server on one, load on the other); this machine has $(nproc)" >&2
    exit 1
fi

cargo build --release --examples -p coreloop
cargo build --release -p coreloop-benches
target_dir="${CARGO_TARGET_DIR:-target}"

args=("$@")
if [ ${#args[@]} -eq 0 ]; then
    args=(--secs 3 --rounds 3)
    if command -v perf >/dev/null 2>&1; then args+=(--perf); fi
fi
exec "$target_dir/release/reactor_ab" --bin-dir "$target_dir/release" "${args[@]}"
