#!/usr/bin/env bash
# Every test binary of coreloop-runtime (unit and integration tests) under valgrind's memcheck:
# invalid reads and writes, use of uninitialised memory in syscalls, bad frees. Any error
# fails the run (--error-exitcode=1). Leaks are left to scripts/asan.sh, whose suppressions
# name the leaks coreloop makes on purpose (an op dropped away from its reactor is forgotten
# rather than freed under the kernel). Not part of CI (slow: every test runs ~20-50x slower).
# Run it before each submission that touches unsafe code. Extra arguments go to each test
# binary (e.g. a test name filter).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

if ! command -v valgrind >/dev/null; then
    apt-get install -y valgrind
fi
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-target}"
# Under valgrind a thread waiting in io_uring_enter is never woken by another thread's write
# (seen here: rt_cores' a_panic_on_one_core_is_reported hangs with core 0 in io_cqring_wait
# and every other thread waiting for valgrind's scheduler lock; liburing and glommio users
# report the same hang), so nothing can wake a parked io_uring core. Tests therefore run
# their epoll half only (each io_uring half is reported as SKIPPED with this reason);
# io_uring is covered by scripts/asan.sh.
export CORELOOP_TEST_SKIP_URING="${CORELOOP_TEST_SKIP_URING-valgrind cannot run io_uring_enter waits}"
bins=$(cargo test -p coreloop-runtime --lib --tests --no-run --message-format=json 2>/dev/null |
    python3 -c '
import json, sys
for line in sys.stdin:
    m = json.loads(line)
    if m.get("reason") == "compiler-artifact" and m.get("executable") and m["profile"]["test"]:
        print(m["executable"])
')
# Tests whose assertions are about wall-clock time (a bound of 1 ms or 2 s), which valgrind's
# 20-50x slowdown breaks; they touch no memory the others do not.
timing=(--skip a_panicking_core_stops_run_promptly
    --skip interval_skip_with_many_missed_ticks_stays_on_the_grid)
memerr=()
failed=()
for bin in $bins; do
    name=$(basename "$bin")
    echo "== $name"
    # One test thread: valgrind serializes threads anyway, and the output stays readable.
    # A binary that hangs under valgrind fails after VALGRIND_TIMEOUT seconds (default 900).
    rc=0
    timeout "${VALGRIND_TIMEOUT:-900}" valgrind --tool=memcheck --error-exitcode=1 \
        --leak-check=no --trace-children=no --quiet "$bin" --test-threads=1 "${timing[@]}" "$@" ||
        rc=$?
    # memcheck's errors exit 1; a failed test exits 101, a timeout 124.
    if ((rc == 1)); then
        memerr+=("$name")
    elif ((rc != 0)); then
        failed+=("$name (exit $rc)")
    fi
done
if ((${#memerr[@]})); then
    echo "valgrind: memcheck errors in: ${memerr[*]}"
fi
if ((${#failed[@]})); then
    echo "valgrind: test failures (not memcheck errors) in: ${failed[*]}"
fi
if ((${#memerr[@]} + ${#failed[@]})); then
    exit 1
fi
echo "valgrind: every coreloop-runtime test binary ran clean"
