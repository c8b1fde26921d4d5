#!/usr/bin/env bash
# bench/scale.sh: how fleetrmi's cost grows with the number of hosts, from 10 to 2000.
#
#   bench/scale.sh [--counts 10,50,100,250,500] [--daemons D] [--runs R] [--forks 32,all]
#                  [--known-hosts-lines N] [--lab DIR] [--out DIR] [--no-setup]
#
# A lab of D hosts (default 4) provides the Docker daemons; bench/endpoints.sh adds M sshd
# endpoints on their own loopback addresses, each forwarding to one of those daemons. Before
# each run every endpoint eI gets a tag of its own, scale:eI (on purge:1's image), and the run
# is `fleetrmi rmi 'scale:{host}'`: each endpoint removes its own tag (an untag: the same work on
# every endpoint, whatever the daemon). Measured per run, on the coordinator: wall time, CPU,
# peak RSS, peak open file descriptors; from the endpoints' sshd logs, logins per endpoint;
# from fleetrmi's JSON, Docker API calls per endpoint. `--forks all` means every endpoint at once.
# `--known-hosts-lines N` puts N lines for other hosts (half hashed) before the endpoints' own
# in the known_hosts fleetrmi reads, as on a bastion that has seen a large fleet.
set -euo pipefail
shopt -s inherit_errexit

ROOT=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)
readonly ROOT
readonly BENCH=$ROOT/bench
readonly BIN=$ROOT/target/release/fleetrmi
unset DOCKER_HOST DOCKER_CONTEXT
export LC_ALL=C.UTF-8 DOCKER_CLI_HINTS=false
PY=$(command -v /usr/bin/python3 || command -v python3)
readonly PY

log() { printf '[scale] %s\n' "$*" >&2; }
die() {
	printf '[scale] error: %s\n' "$*" >&2
	exit 1
}
now_ms() { date +%s%3N; }

counts=10,50,100,250,500 daemons=4 runs=3 forks=32,all LAB="" OUT="" setup_wanted=1 OWN_LAB=0
known_hosts_lines=0
while (($#)); do
	case $1 in
	--counts) counts=$2 && shift 2 ;;
	--daemons) daemons=$2 && shift 2 ;;
	--runs) runs=$2 && shift 2 ;;
	--forks) forks=$2 && shift 2 ;;
	--known-hosts-lines) known_hosts_lines=$2 && shift 2 ;;
	--lab) LAB=$(readlink -f "$2") && shift 2 ;;
	--out) OUT=$2 && shift 2 ;;
	--no-setup) setup_wanted=0 && shift ;;
	*) sed -n '4,5p' "${BASH_SOURCE[0]}" | sed 's/^# //' >&2 && exit 2 ;;
	esac
done
IFS=, read -r -a COUNTS <<<"$counts"
IFS=, read -r -a FORKS <<<"$forks"
max=0
for m in "${COUNTS[@]}"; do
	if ! [[ $m =~ ^[0-9]+$ ]] || ((m < 1)); then die "--counts: not a number: $m"; fi
	((m > max)) && max=$m
done

if ((setup_wanted)); then
	bash "$ROOT/lab/lab.sh" install
	log "cargo build --release"
	(cd "$ROOT" && cargo build --release --quiet) >&2
fi
[[ -x $BIN ]] || die "$BIN missing: cargo build --release"
OUT=$(readlink -m "${OUT:-$ROOT/target/bench/scale-$(date +%Y%m%d-%H%M%S)}")
mkdir -p "$OUT/out"
: >"$OUT/results.jsonl"

cleanup() {
	if ((OWN_LAB)) && [[ -n $LAB ]]; then
		bash "$BENCH/endpoints.sh" down "$LAB" || true
		log "lab down $LAB"
		bash "$ROOT/lab/lab.sh" down "$LAB" || true
	fi
}
trap cleanup EXIT
if [[ -z $LAB ]]; then
	log "starting a lab of $daemons hosts (the shared daemons)"
	LAB=$(bash "$ROOT/lab/lab.sh" up --hosts "$daemons" --watch $$ | tail -n 1)
	OWN_LAB=1
fi
if [[ -r $LAB/ep/endpoints.tsv ]] && (($(wc -l <"$LAB/ep/endpoints.tsv") >= max)); then
	log "reusing the $(wc -l <"$LAB/ep/endpoints.tsv") endpoints in $LAB/ep"
else
	bash "$BENCH/endpoints.sh" down "$LAB"
	bash "$BENCH/endpoints.sh" up "$LAB" "$max" "$daemons"
fi
EP=$LAB/ep
KNOWN_HOSTS=$EP/known_hosts
if ((known_hosts_lines > 0)); then
	KNOWN_HOSTS=$OUT/known_hosts
	"$PY" "$BENCH/known_hosts_filler.py" "$known_hosts_lines" >"$KNOWN_HOSTS"
	cat "$EP/known_hosts" >>"$KNOWN_HOSTS"
fi
log "seeding the $daemons daemons"
bash "$ROOT/lab/lab.sh" seed "$LAB" $(seq 1 "$daemons") 2>"$OUT/seed.log" || {
	cat "$OUT/seed.log" >&2
	die "seeding failed"
}
mapfile -t SOCKETS < <(cut -f4 "$EP/endpoints.tsv" | head -n "$max" | sort -u)
"$PY" "$BENCH/machine.py" "$BIN" /nonexistent >"$OUT/machine.json"
baseline=$("$PY" "$BENCH/state.py" "${SOCKETS[@]}" | cut -d' ' -f1 | paste -sd' ')

inventory() { # inventory M: the first M endpoints as an inventory
	local file=$OUT/inventory-$1.yaml name addr port sock
	[[ -s $file ]] && {
		printf '%s\n' "$file"
		return
	}
	{
		printf 'all:\n  vars:\n    ansible_user: root\n    ansible_ssh_private_key_file: %s/id_ed25519\n' "$LAB"
		printf '  hosts:\n'
		while IFS=$'\t' read -r name addr port sock; do
			printf '    %s: { ansible_host: %s, ansible_port: %s, docker_socket: "%s" }\n' "$name" "$addr" "$port" "$sock"
		done < <(head -n "$1" "$EP/endpoints.tsv")
	} >"$file"
	printf '%s\n' "$file"
}

# connect_timeout F: seconds for fleetrmi's --connect-timeout with F hosts at once. Every
# endpoint's sshd runs on this machine: each login costs it ~26 ms of CPU (fork, re-exec, key
# exchange), so F logins at once on 2 cores take ~F x 13 ms before the last one is in, and with
# every host at once each host's login waits for nearly all of them. 40 ms per host at once (at
# least fleetrmi's own 10 s) keeps the lab's CPU from failing hosts that a fleet, where each
# host logs in on its own CPU, would not.
connect_timeout() { echo $((($1 * 40 + 999) / 1000 > 10 ? ($1 * 40 + 999) / 1000 : 10)); }

logins() { # logins M: "Accepted" lines in the first M endpoints' logs, space-separated
	local i
	for ((i = 1; i <= $1; i++)); do grep -c 'Accepted publickey' "$EP/e$i/sshd.log" || true; done | paste -sd' '
}

log "counts ${COUNTS[*]}, forks ${FORKS[*]}, $runs runs each, $daemons daemons; results in $OUT"
t_all=$(now_ms)
for f in "${FORKS[@]}"; do
	for m in "${COUNTS[@]}"; do
		forks_now=$f
		[[ $f == all ]] && forks_now=$m
		inv=$(inventory "$m")
		for ((r = 1; r <= runs; r++)); do
			"$PY" "$BENCH/tags.py" "$EP/endpoints.tsv" "$m" purge:1 scale
			before=$(logins "$m")
			host_cpu_before=$("$PY" "$BENCH/hostcpu.py" "$LAB")
			tag=$m.$f.$r
			measured=$("$PY" "$BENCH/measure.py" --stdout "$OUT/out/$tag.stdout" --stderr "$OUT/out/$tag.stderr" -- \
				"$BIN" -i "$inv" --known-hosts "$KNOWN_HOSTS" --quiet --output json --forks "$forks_now" \
				--connect-timeout "$(connect_timeout "$forks_now")s" rmi 'scale:{host}')
			sleep 0.2
			after=$(logins "$m")
			host_cpu_after=$("$PY" "$BENCH/hostcpu.py" "$LAB")
			state=$("$PY" "$BENCH/state.py" "${SOCKETS[@]}")
			state_ok=true
			[[ $(cut -d' ' -f1 <<<"$state" | paste -sd' ') == "$baseline" ]] || state_ok=false
			grep -q ' scale:' <<<"$state" && state_ok=false
			"$PY" - "$measured" "$m" "$f" "$r" "$daemons" "$before" "$after" "$state_ok" "$OUT/out/$tag.stdout" \
				"$host_cpu_before" "$host_cpu_after" "$known_hosts_lines" >>"$OUT/results.jsonl" <<'EOF'
import json, sys
m = json.loads(sys.argv[1])
m["host_cpu_s"] = round(float(sys.argv[11]) - float(sys.argv[10]), 2)
before = [int(x) for x in sys.argv[6].split()]
after = [int(x) for x in sys.argv[7].split()]
try:
    report = json.load(open(sys.argv[9]))
    calls = [h.get("api_calls") for h in report["hosts"]]
    ok_hosts = sum(1 for h in report["hosts"] if h["status"] == "ok")
except (OSError, ValueError, KeyError):
    calls, ok_hosts = None, 0
m.update(contender="fleetrmi", hosts=int(sys.argv[2]), forks=sys.argv[3], run=int(sys.argv[4]),
         daemons=int(sys.argv[5]), ssh_logins=[a - b for a, b in zip(after, before)],
         state_ok=sys.argv[8] == "true" and ok_hosts == int(sys.argv[2]), api_calls=calls,
         known_hosts_lines=int(sys.argv[12]))
print(json.dumps(m))
EOF
			"$PY" "$BENCH/report.py" line "$OUT" 0 >&2
		done
	done
done
log "measured in $((($(now_ms) - t_all) / 1000)) s"
cut -d' ' -f1-3 /proc/loadavg >"$OUT/loadavg-end"
"$PY" "$BENCH/report.py" scale "$OUT" | tee "$OUT/report.md"
