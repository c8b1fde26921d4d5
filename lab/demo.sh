#!/usr/bin/env bash
# The main job on a local lab fleet: starts 3 simulated hosts (each its own sshd and dockerd),
# purges the tag purge:1 from all of them with fleetrmi, shows the table, and stops the lab.
# Extra arguments replace the default `rmi purge:1`, e.g. `lab/demo.sh rmi --dry-run app:1`.
set -euo pipefail
cd "$(dirname "$0")/.."

bash lab/lab.sh install
cargo build --release --quiet
lab_dir=$(bash lab/lab.sh up --hosts "${FLEETRMI_DEMO_HOSTS:-3}" | tail -n 1)
trap 'bash lab/lab.sh down "$lab_dir"' EXIT

if [ "$#" -eq 0 ]; then
    set -- rmi purge:1
fi
echo "+ fleetrmi -i $lab_dir/inventory.yaml --known-hosts $lab_dir/known_hosts $*" >&2
status=0
target/release/fleetrmi -i "$lab_dir/inventory.yaml" --known-hosts "$lab_dir/known_hosts" "$@" || status=$?
exit "$status"
