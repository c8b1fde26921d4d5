#!/usr/bin/env bash
# Runs the fleetrmi examples of README.md and docs/GUIDE.md that are marked for the lab (a fenced
# block whose info string ends in " lab") against a lab, exactly as written, in the lab's
# directory with FLEETRMI_KNOWN_HOSTS set, reseeding the lab's hosts before each block.
# In `sh` blocks every line starting with `fleetrmi` is run, in `console` blocks every line
# starting with `$ fleetrmi`; each must exit 0, or N where the line ends in `# exit N`.
# It also checks that the guide's copies of packaging/examples/ are those files as they are.
#
# usage: scripts/doc-examples.sh [--fleetrmi BINARY] [--lab DIR] [FILE...]
#   --fleetrmi  the binary to run as `fleetrmi` (default: the one on PATH, else target/release)
#   --lab       an existing lab directory (default: start a 3-host lab and stop it afterwards)
set -euo pipefail
cd "$(dirname "$0")/.."

binary="" lab_dir="" files=()
while [ "$#" -gt 0 ]; do
	case "$1" in
	--fleetrmi) binary=$2; shift 2 ;;
	--lab) lab_dir=$2; shift 2 ;;
	*) files+=("$1"); shift ;;
	esac
done
[ "${#files[@]}" -gt 0 ] || files=(README.md docs/GUIDE.md)
if [ -z "$binary" ]; then
	binary=$(command -v fleetrmi || echo target/release/fleetrmi)
fi
binary=$(realpath "$binary")
[ -x "$binary" ] || { echo "error: no fleetrmi binary at $binary" >&2; exit 2; }

# The examples, one `BLOCK file:line` line per block, then one `CMD file:line<TAB>command` per command.
examples=$(awk '
	FNR == 1 { state = "outside" }
	/^```/ {
		if (state != "outside") { state = "outside" }
		else if ($0 ~ /^```(sh|console) lab[ \t]*$/) {
			state = ($0 ~ /^```console/) ? "console" : "sh"
			print "BLOCK " FILENAME ":" FNR
		} else { state = "other" }
		next
	}
	state == "sh" && /^fleetrmi / { print "CMD " FILENAME ":" FNR "\t" $0 }
	state == "console" && /^\$ fleetrmi / { print "CMD " FILENAME ":" FNR "\t" substr($0, 3) }
' "${files[@]}")
if ! grep -q '^CMD ' <<<"$examples"; then
	echo "error: no lab examples found in ${files[*]}" >&2
	exit 1
fi

# The guide shows the example units the .deb installs; its copy must be the files themselves.
guide=$(<docs/GUIDE.md)
for unit in packaging/examples/*; do
	if [[ $guide != *"$(<"$unit")"* ]]; then
		echo "error: docs/GUIDE.md does not show $unit as it is; copy the file into the guide" >&2
		exit 1
	fi
done

started_lab=""
if [ -z "$lab_dir" ]; then
	bash lab/lab.sh install
	lab_dir=$(bash lab/lab.sh up --hosts 3 | tail -n 1)
	started_lab=$lab_dir
	trap 'bash lab/lab.sh down "$started_lab"' EXIT
fi
hosts=$(awk 'END { print NR }' "$lab_dir/hosts.tsv")
host_numbers=$(seq 1 "$hosts")

export PATH="$(dirname "$binary"):$PATH"
export FLEETRMI_KNOWN_HOSTS=$lab_dir/known_hosts DIR=$lab_dir
log=$(mktemp)
trap 'rm -f "$log"; [ -z "$started_lab" ] || bash lab/lab.sh down "$started_lab"' EXIT
ran=0 failed=0
while IFS= read -r line; do
	case "$line" in
	BLOCK\ *)
		# shellcheck disable=SC2086 # one argument per host number
		bash lab/lab.sh seed "$lab_dir" $host_numbers 2>/dev/null
		;;
	CMD\ *)
		place=${line#CMD }
		place=${place%%$'\t'*}
		command=${line#*$'\t'}
		expected=0
		if [[ $command =~ \#\ exit\ ([0-9]+)[[:space:]]*$ ]]; then
			expected=${BASH_REMATCH[1]}
		fi
		status=0
		(cd "$lab_dir" && bash -c "$command") >"$log" 2>&1 </dev/null || status=$?
		ran=$((ran + 1))
		if [ "$status" -eq "$expected" ]; then
			echo "ok   $place: $command"
		else
			failed=$((failed + 1))
			echo "FAIL $place: exit $status, expected $expected: $command"
			sed 's/^/     | /' "$log"
		fi
		;;
	esac
done <<<"$examples"
echo "documentation examples: $ran run, $failed failed ($(basename "$binary") = $binary)"
[ "$failed" -eq 0 ]
