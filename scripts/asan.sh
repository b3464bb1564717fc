#!/usr/bin/env bash
# The cancellation storm and the ring-pressure tests under AddressSanitizer (nightly Rust):
# a buffer freed while the kernel could still write it, or any other use-after-free, fails
# the run. Leak checking is on too. Not part of CI (it rebuilds everything instrumented).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

if ! rustup toolchain list | grep -q '^nightly'; then
    rustup toolchain install nightly --profile minimal
fi
host=$(rustc -vV | sed -n 's/^host: //p')
export RUSTFLAGS="-Zsanitizer=address"
export RUSTDOCFLAGS="-Zsanitizer=address"
export ASAN_OPTIONS="detect_leaks=1"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-target/asan}"
# --target keeps build scripts and proc macros uninstrumented.
cargo +nightly test -p coreloop-runtime --target "$host" \
    --test cancel_storm --test uring_queues --test rt_tasks --test rt_wake -- "$@"
