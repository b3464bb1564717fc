#!/usr/bin/env bash
# coreloop-runtime's pure data structures under Miri (nightly): the unit tests of the
# in-flight table (reactor::in_flight), the epoll readiness state (reactor::epoll::io_state),
# the timer map (time) and the buffer impls, Slice and commit_filled (buf). Miri checks every access against the Stacked Borrows
# rules and reports undefined behaviour, leaks and uninitialized reads. Code that makes
# syscalls cannot run under Miri, so only these test paths are run. Not part of CI. Run it
# before each submission that touches unsafe code. Extra arguments go to the test binary.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

if ! rustup toolchain list | grep -q '^nightly'; then
    rustup toolchain install nightly --profile minimal
fi
if ! cargo +nightly miri --version >/dev/null 2>&1; then
    rustup +nightly component add miri rust-src
fi
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-target}/miri"
cargo +nightly miri setup
# The module paths whose tests are pure (no syscalls); add a module here when it gains tests.
cargo +nightly miri test -p coreloop-runtime --lib -- "$@" \
    reactor::in_flight:: reactor::epoll::io_state::tests:: reactor::buf_pool::tests:: \
    time::wheel::tests:: buf::tests::
