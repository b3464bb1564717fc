#!/usr/bin/env bash
# Runs the echo example with io_uring disabled system-wide (kernel.io_uring_disabled=2):
#   --reactor auto   must serve on epoll and print the reason once;
#   --reactor uring  must refuse with that reason and exit non-zero.
# It changes a system-wide setting (restored on exit, even on failure), so it is not part of the
# test run. Needs root and Linux 6.6+ (the sysctl).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

knob=/proc/sys/kernel/io_uring_disabled
[ "$(id -u)" = 0 ] || { echo "uring-disabled: needs root to set $knob" >&2; exit 2; }
[ -e "$knob" ] || { echo "uring-disabled: this kernel has no $knob (Linux 6.6+)" >&2; exit 2; }

cargo build --release --example echo
bin="${CARGO_TARGET_DIR:-target}/release/examples/echo"

old=$(cat "$knob")
restore() { echo "$old" > "$knob"; echo "restored kernel.io_uring_disabled=$(cat "$knob")"; }
trap restore EXIT
echo 2 > "$knob"
echo "kernel.io_uring_disabled=$(cat "$knob")"

out=$(mktemp)
fail() { echo "FAIL: $*" >&2; echo "--- output:" >&2; cat "$out" >&2; exit 1; }

# 1. auto: falls back to epoll, says why, and serves.
"$bin" --addr 127.0.0.1:0 --reactor auto >"$out" 2>&1 &
pid=$!
addr=""
for _ in $(seq 100); do
    addr=$(grep -oE '127\.0\.0\.1:[0-9]+' "$out" | head -n1 || true)
    [ -n "$addr" ] && break
    sleep 0.1
done
[ -n "$addr" ] || { kill "$pid" 2>/dev/null || true; fail "auto: the server never said where it listens"; }
exec 3<>"/dev/tcp/${addr%:*}/${addr#*:}"
printf 'ping\n' >&3
read -r -t 5 reply <&3 || true
exec 3>&-
kill -TERM "$pid"
wait "$pid" || true
[ "$reply" = "ping" ] || fail "auto: echo answered '${reply:-nothing}' instead of 'ping'"
grep -q "epoll" "$out" || fail "auto: the output does not say it runs epoll"
grep -qi "not permitted" "$out" || fail "auto: the output does not give the reason"
echo "auto:  served on epoll; it said: $(grep -i 'not permitted' "$out" | head -n1)"

# 2. uring: strict, refuses with the reason and a non-zero exit code.
set +e
"$bin" --addr 127.0.0.1:0 --reactor uring >"$out" 2>&1
code=$?
set -e
[ "$code" -ne 0 ] || fail "uring: the server started although io_uring is disabled"
grep -qi "not permitted" "$out" || fail "uring: the refusal does not give the reason"
echo "uring: refused with exit code $code: $(grep -i 'not permitted' "$out" | head -n1)"
rm -f "$out"
echo "PASS"
