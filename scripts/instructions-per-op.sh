#!/usr/bin/env bash
# User-space instructions per operation, counted by valgrind's callgrind (instructions, not
# seconds: repeatable on a noisy machine, and blind to the kernel, whose TCP work dominates
# the wall-clock benchmarks on loopback). Counting is switched on only for the load window.
#
# Two cases, each server under the same load:
#   echo  messages echoed (echo_load, ping-pong): coreloop-uring, coreloop-epoll, tokio
#         current_thread, and floor-uring (benches/src/bin/floor_uring.rs: io_uring by hand,
#         no runtime; how far each runtime is from the floor)
#   http  requests answered, pipelined DEPTH deep (coreloop-bench --load-only): the HTTP
#         example on coreloop-uring and coreloop-epoll, and its tokio twin (tokio_http)
#
#   scripts/instructions-per-op.sh                # SECS=10 per run, ROUNDS=2, 100 conns, 128 B, DEPTH=16
#   CASES=http SECS=3 ROUNDS=1 scripts/instructions-per-op.sh   # one case, a quick look
#   KEEP=/tmp/cg scripts/instructions-per-op.sh   # also keep each load window's callgrind
#                                                 # file (for callgrind_annotate) in /tmp/cg
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

secs=${SECS:-10}
rounds=${ROUNDS:-2}
conns=${CONNS:-100}
size=${SIZE:-128}
depth=${DEPTH:-16}
cases=${CASES:-echo,http}
command -v valgrind >/dev/null || apt-get install -y valgrind >/dev/null
cargo build --release -q -p coreloop --example echo --example http
cargo build --release -q -p coreloop-benches --bin tokio_echo --bin tokio_http --bin echo_load \
    --bin floor_uring --bin coreloop-bench
bin="${CARGO_TARGET_DIR:-target}/release"

# one NAME LOAD SERVER-COMMAND...: the server under callgrind, LOAD (echo or http) against it.
one() {
    local name=$1 kind=$2
    shift 2
    local out cg vpid="" addr="" load ops ir
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
    if [ "$kind" = echo ]; then
        load=$(taskset -c 1 "$bin/echo_load" --addr "$addr" --conns "$conns" --size "$size" \
            --duration "${secs}s" | tail -n1)
        ops=$(sed -n 's/.*msgs=\([0-9]*\).*/\1/p' <<<"$load")
    else
        load=$(taskset -c 1 "$bin/coreloop-bench" --load-only "$addr" --load http --no-pin \
            --conns "$conns" --pipeline "$depth" --secs "$secs" | tail -n1)
        ops=$(sed -n 's/.*ops=\([0-9]*\).*/\1/p' <<<"$load")
    fi
    # Dump the load window's counts (to "$cg.1"), then stop.
    callgrind_control -d "$vpid" >/dev/null 2>&1
    callgrind_control -i off "$vpid" >/dev/null 2>&1
    kill -TERM "$vpid"
    for _ in $(seq 100); do kill -0 "$vpid" 2>/dev/null || break; sleep 0.1; done
    # A server that ignores SIGTERM under valgrind is not left behind.
    kill -0 "$vpid" 2>/dev/null && kill -KILL "$vpid"
    ir=$(sed -n 's/^totals: \([0-9]*\).*/\1/p' "$cg.1" | head -n1)
    if [ -n "${KEEP:-}" ]; then
        mkdir -p "$KEEP"
        cp "$cg.1" "$KEEP/$kind.$name.round${r:-1}.${ops}ops.callgrind"
    fi
    rm -f "$out" "$cg" "$cg".*
    if [ -z "$ops" ] || [ -z "$ir" ] || [ "$ops" -eq 0 ]; then
        echo "$name: no operations counted (load said: $load)" >&2
        return 1
    fi
    awk -v n="$name" -v ir="$ir" -v m="$ops" -v u="$([ "$kind" = echo ] && echo msg || echo req)" \
        'BEGIN { printf "%-16s %14.0f instr %10d %ss %10.0f instr/%s\n", n, ir, m, u, ir / m, u }'
}

for r in $(seq "$rounds"); do
    if [[ ,$cases, == *,echo,* ]]; then
        echo "echo, round $r: user-space instructions per echoed message, $conns conns x $size B, ${secs}s per run"
        one coreloop-uring echo "$bin/examples/echo" --reactor uring
        one coreloop-epoll echo "$bin/examples/echo" --reactor epoll
        one tokio-ct echo "$bin/tokio_echo" --flavor current
        one floor-uring echo "$bin/floor_uring"
    fi
    if [[ ,$cases, == *,http,* ]]; then
        echo "http, round $r: user-space instructions per request, GET / pipelined x$depth, $conns conns, ${secs}s per run"
        one coreloop-uring http "$bin/examples/http" --reactor uring
        one coreloop-epoll http "$bin/examples/http" --reactor epoll
        one tokio-ct http "$bin/tokio_http" --flavor current
    fi
done
