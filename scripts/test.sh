#!/usr/bin/env bash
# The whole test suite on a fresh machine: installs what the lab needs, checks formatting and
# lints, then runs unit and integration tests (the integration harness starts its own lab of
# real sshd + dockerd hosts and stops it when the tests end).
set -euo pipefail
cd "$(dirname "$0")/.."

# The build and the lab's engines need about 3 GiB (a clean clone peaked at 2.9 GiB), and the
# install test's static release build about 0.45 GiB more; a full disk otherwise shows up as
# "no space left on device" failures deep inside the tests.
need_mib=3584
for dir in . "${TMPDIR:-/tmp}"; do
	free_mib=$(df -Pm "$dir" | awk 'NR == 2 { print $4 }')
	if [ "$free_mib" -lt "$need_mib" ]; then
		echo "warning: only ${free_mib} MiB free on the filesystem of $dir;" \
			"the suite needs about ${need_mib} MiB (build + lab engines + backup archives)" >&2
	fi
done

# The module table of docs/DESIGN.md and no import cycles: seconds, so before anything slow.
scripts/check-modules.sh
bash lab/lab.sh install
cargo fmt --check
cargo clippy --all-targets --quiet -- -D warnings
cargo test --quiet -- --test-threads 2
# The packages as a bastion installs them (one static release build), and the README's and
# GUIDE's lab examples run with the installed binary.
scripts/install-test.sh
