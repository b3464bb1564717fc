#!/usr/bin/env bash
# User-space instructions per echoed message, for coreloop-uring, coreloop-epoll and tokio
# current_thread under the same load, counted by valgrind's callgrind (instructions, not
# seconds: repeatable on a noisy machine, and blind to the kernel, whose TCP work dominates
# the wall-clock benchmarks on loopback). Counting is switched on only for the load window.
#
#   scripts/instructions-per-op.sh            # SECS=10 per run, ROUNDS=2, 100 conns, 128 B
#   KEEP=/tmp/cg scripts/instructions-per-op.sh   # also keep each load window's callgrind
#                                                 # file (for callgrind_annotate) in /tmp/cg
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

secs=${SECS:-10}
rounds=${ROUNDS:-2}
conns=${CONNS:-100}
size=${SIZE:-128}
command -v valgrind >/dev/null || apt-get install -y valgrind >/dev/null
cargo build --release -q -p coreloop --example echo
cargo build --release -q -p coreloop-benches --bin tokio_echo --bin echo_load
bin="${CARGO_TARGET_DIR:-target}/release"

one() {
    local name=$1
    shift
    local out cg vpid="" addr="" load msgs ir
    out=$(mktemp)
    cg=$(mktemp -u /tmp/callgrind.XXXXXX)
    # Instrumentation starts off and is switched on for the load window only.
    (taskset -c 0 valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file="$cg" \
        "$@" --addr 127.0.0.1:0 >"$out" 2>&1 &)
    for _ in $(seq 300); do
        addr=$(grep -oE 'listening on 127\.0\.0\.1:[0-9]+' "$out" | head -n1 | awk '{print $3}' || true)
        [ -n "$addr" ] && break
        sleep 0.1
    done
    vpid=$(pgrep -f -- "--callgrind-out-file=$cg" | head -n1 || true)
    if [ -z "$addr" ] || [ -z "$vpid" ]; then
        echo "$name: the server did not start under valgrind" >&2
        cat "$out" >&2
        [ -n "$vpid" ] && kill "$vpid"
        return 1
    fi
    callgrind_control -i on "$vpid" >/dev/null 2>&1
    load=$(taskset -c 1 "$bin/echo_load" --addr "$addr" --conns "$conns" --size "$size" \
        --duration "${secs}s" | tail -n1)
    # Dump the load window's counts (to "$cg.1"), then stop.
    callgrind_control -d "$vpid" >/dev/null 2>&1
    callgrind_control -i off "$vpid" >/dev/null 2>&1
    kill -TERM "$vpid"
    for _ in $(seq 100); do kill -0 "$vpid" 2>/dev/null || break; sleep 0.1; done
    msgs=$(sed -n 's/.*msgs=\([0-9]*\).*/\1/p' <<<"$load")
    ir=$(sed -n 's/^totals: \([0-9]*\).*/\1/p' "$cg.1" | head -n1)
    if [ -n "${KEEP:-}" ]; then
        mkdir -p "$KEEP"
        cp "$cg.1" "$KEEP/$name.round${r:-1}.${msgs}msgs.callgrind"
    fi
    rm -f "$out" "$cg" "$cg".*
    awk -v n="$name" -v ir="$ir" -v m="$msgs" \
        'BEGIN { printf "%-16s %14d instr %10d msgs %10.0f instr/msg\n", n, ir, m, ir / m }'
}

echo "user-space instructions per echoed message: $conns conns x $size B, ${secs}s per run, $rounds rounds"
for r in $(seq "$rounds"); do
    one coreloop-uring "$bin/examples/echo" --reactor uring
    one coreloop-epoll "$bin/examples/echo" --reactor epoll
    one tokio-ct "$bin/tokio_echo" --flavor current
done
