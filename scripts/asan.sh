#!/usr/bin/env bash
# Every test of coreloop-runtime, coreloop-net and coreloop-fs (unit and integration: the
# cancellation storm, the soundness reproducers, fd reuse, shutdown, both reactors) under
# AddressSanitizer (nightly Rust): a buffer freed while the kernel could still write it, or any
# other use-after-free, overflow or double free, fails the run. Leak checking is on too.
# Not part of CI (it rebuilds everything instrumented). Run it before each submission that
# touches unsafe code. Extra arguments go to the test binaries (e.g. a test name filter).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

if ! rustup toolchain list | grep -q '^nightly'; then
    rustup toolchain install nightly --profile minimal
fi
host=$(rustc -vV | sed -n 's/^host: //p')
export RUSTFLAGS="-Zsanitizer=address"
export RUSTDOCFLAGS="-Zsanitizer=address"
# allocator_may_return_null: fs's sound_read_huge asks for a 8 TiB buffer on purpose and checks
# that coreloop reports the failed allocation as an error; without it ASan aborts the process
# on any allocation over its own 1 TiB limit instead of returning null.
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:allocator_may_return_null=1}"
# Leaks coreloop makes on purpose (an op dropped away from its reactor), each explained there.
export LSAN_OPTIONS="${LSAN_OPTIONS:-suppressions=$PWD/scripts/lsan.supp:print_suppressions=0}"
# A sub-directory of the target dir: the instrumented build never mixes with the normal one.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-target}/asan"
# --target keeps build scripts and proc macros uninstrumented. --lib --tests: unit and
# integration tests (doctests are not instrumented by -Zsanitizer and are left out).
cargo +nightly test --no-fail-fast --target "$host" \
    -p coreloop-runtime -p coreloop-net -p coreloop-fs --lib --tests -- "$@"
