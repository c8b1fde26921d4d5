#!/usr/bin/env bash
# The whole test suite on a fresh machine: installs what the lab needs, checks formatting and
# lints, then runs unit and integration tests (the integration harness starts its own lab of
# real sshd + dockerd hosts and stops it when the tests end).
set -euo pipefail
cd "$(dirname "$0")/.."

bash lab/lab.sh install
cargo fmt --check
cargo clippy --all-targets --quiet -- -D warnings
cargo test --quiet -- --test-threads 2
