#!/usr/bin/env bash
# bench/bench.sh: fleetrmi against the tools ops use today to purge image tags across a fleet,
# side by side on one lab, in one run. See BENCHMARKS.md for the method and the results.
#
#   bench/bench.sh [--hosts N] [--runs R (3)] [--contenders LIST] [--tags "T1 T2 T3"]
#                  [--rtt MS[,MS...]] [--lab DIR] [--out DIR] [--no-setup]
#   bench/bench.sh scale [--counts 10,50,100,250,500] [--daemons D] [--runs R] [--forks F]
#                  [--lab DIR] [--out DIR] [--no-setup]
#
# The fleet bench (default): a lab of N real-engine hosts (lab/lab.sh: sshd + dockerd each),
# every host reseeded before each measured run, the same job for every contender (remove the
# same tags from every host), R runs each, contenders interleaved run by run. After every run
# the engines' state is read back and must be the same whichever contender did the job.
# With --rtt (e.g. --rtt 0,20,50,100), every contender reaches every host through
# bench/latency_proxy.py, which delays each direction by RTT/2 (a WAN on loopback; 0 is direct),
# and the report is wall time against RTT.
# The scale bench (bench/scale.sh): fleetrmi alone against M sshd endpoints sharing a few
# daemons, M = 10 … 2000.
#
# Everything it needs is installed on first use: the lab's packages (lab/lab.sh install),
# pssh and GNU time from Debian, a release build of fleetrmi, and a Python virtualenv in
# target/bench/venv with Ansible (which ships community.docker) and the Docker SDK for Python.
set -euo pipefail
shopt -s inherit_errexit

ROOT=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)
readonly ROOT
readonly BENCH=$ROOT/bench
readonly VENV=$ROOT/target/bench/venv
readonly BIN=$ROOT/target/release/fleetrmi
# Versions measured in BENCHMARKS.md; pinned so a rerun measures the same Ansible.
readonly ANSIBLE_PIP="ansible==12.3.0"
readonly DOCKER_SDK_PIP="docker==7.2.0"
readonly ALL_CONTENDERS="fleetrmi docker-seq docker-xargs pssh ansible-adhoc ansible-playbook ansible-pipelining"

unset DOCKER_HOST DOCKER_CONTEXT DOCKER_TLS_VERIFY DOCKER_CERT_PATH
# Ansible refuses to run without a UTF-8 locale; C.UTF-8 is built into glibc.
export DOCKER_CLI_HINTS=false LC_ALL=C.UTF-8

log() { printf '[bench] %s\n' "$*" >&2; }
die() {
	printf '[bench] error: %s\n' "$*" >&2
	exit 1
}
usage() {
	sed -n '4,9p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
	exit 2
}
now_ms() { date +%s%3N; }

# The Python that runs the measuring scripts: the system one, not a pyenv shim (a shim is a
# shell script that costs CPU on every call).
PY=$(command -v /usr/bin/python3 || command -v python3)
readonly PY

# ---------------------------------------------------------------- setup

setup() { # setup NEED_ANSIBLE NEED_PSSH
	local need_ansible=$1 need_pssh=$2 pkgs=()
	bash "$ROOT/lab/lab.sh" install
	[[ -x /usr/bin/time ]] || pkgs+=(time)
	((need_pssh)) && ! command -v parallel-ssh >/dev/null && pkgs+=(pssh)
	if ((${#pkgs[@]})); then
		log "installing ${pkgs[*]}"
		DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${pkgs[@]}" >&2
	fi
	log "cargo build --release (a few minutes the first time)"
	(cd "$ROOT" && cargo build --release --quiet) >&2
	if ((need_ansible)) && ! "$VENV/bin/python" -c 'import ansible, docker' 2>/dev/null; then
		log "creating $VENV with $ANSIBLE_PIP $DOCKER_SDK_PIP (a few minutes the first time)"
		local python
		python=$(command -v python3)
		rm -rf "$VENV"
		"$python" -m venv "$VENV"
		"$VENV/bin/pip" install -q --disable-pip-version-check "$ANSIBLE_PIP" "$DOCKER_SDK_PIP" >&2
	fi
}

# ---------------------------------------------------------------- lab helpers

LAB=""
lab_up() { # lab_up N: a fresh lab, torn down when this script exits
	LAB=$(bash "$ROOT/lab/lab.sh" up --hosts "$1" --watch $$ | tail -n 1)
	[[ -d $LAB ]] || die "lab up failed"
	OWN_LAB=1
}
OWN_LAB=0
cleanup() {
	wan_down
	if ((OWN_LAB)) && [[ -n $LAB ]]; then
		log "lab down $LAB"
		bash "$ROOT/lab/lab.sh" down "$LAB" || true
	fi
}

# accepted_counts HOSTS...: how many SSH logins each host's sshd has logged so far.
accepted_counts() {
	local i
	for i in "$@"; do
		grep -c 'Accepted publickey' "$LAB/h$i/sshd.log" 2>/dev/null || true
	done | paste -sd' '
}

# sockets N: the first N hosts' Docker sockets.
sockets() { head -n "$1" "$LAB/hosts.tsv" | cut -f4; }

# lab_state N: one line per host: a digest of its engine's state, then its tags.
lab_state() {
	local socks=()
	mapfile -t socks < <(sockets "$1")
	"$PY" "$BENCH/state.py" "${socks[@]}"
}

# prepare_restore N TAGS: seed the hosts, then save what the job removes (the tags and every
# image up their Parent chains, by ID, so that a load restores the Parent links too) and the
# seeded state. Between runs, loading that small archive puts back exactly what a contender
# removed, in a fraction of a full reseed.
prepare_restore() {
	local n=$1 tags=$2 ids=() id parent sock
	log "seeding ${n} hosts"
	bash "$ROOT/lab/lab.sh" seed "$LAB" $(seq 1 "$n") 2>"$OUT/seed.log" || {
		cat "$OUT/seed.log" >&2
		die "seeding failed"
	}
	sock=$(sockets 1)
	for id in $tags; do
		while [[ -n $id ]]; do
			read -r id parent < <(docker -H "unix://$sock" image inspect -f '{{.Id}} {{.Parent}}' "$id")
			ids+=("$id")
			id=$parent
		done
	done
	mapfile -t ids < <(printf '%s\n' "${ids[@]}" | sort -u)
	# shellcheck disable=SC2086 # the tags are words
	docker -H "unix://$sock" save -o "$OUT/restore.tar" $tags "${ids[@]}"
	lab_state "$n" | cut -d' ' -f1 | sort -u >"$OUT/seeded-state"
	(($(wc -l <"$OUT/seeded-state") == 1)) || die "the hosts differ after seeding"
}

# restore_hosts N: put back what the last run removed (all hosts at once), check the state.
restore_hosts() {
	local n=$1 sock pids=() p
	for sock in $(sockets "$n"); do
		docker -H "unix://$sock" load -q -i "$OUT/restore.tar" >/dev/null &
		pids+=($!)
	done
	for p in "${pids[@]}"; do wait "$p" || die "docker load failed"; done
	if [[ $(lab_state "$n" | cut -d' ' -f1 | sort -u) != "$(cat "$OUT/seeded-state")" ]]; then
		log "a host differs from the seeded state after the restore: full reseed"
		bash "$ROOT/lab/lab.sh" seed "$LAB" $(seq 1 "$n") 2>"$OUT/seed.log" || die "seeding failed"
	fi
}

# ---------------------------------------------------------------- contenders

# How the contenders reach the hosts: directly (the lab's own files), or through the latency
# proxy (wan_up), on each host's address at port + PROXY_SHIFT, with known_hosts, ssh_config,
# ssh wrapper and inventory rewritten for that port.
readonly PROXY_SHIFT=1000
RTT_MS=0
PROXY_PID=""
KNOWN_HOSTS=""
SSH_BIN=""
FLEET_INVENTORY=""
wan_direct() {
	KNOWN_HOSTS=$LAB/known_hosts SSH_BIN=$LAB/bin FLEET_INVENTORY=$LAB/inventory.yaml RTT_MS=0
}

# wan_up N RTT: the first N hosts behind the latency proxy (RTT 0: directly).
wan_up() {
	local n=$1 rtt=$2 maps=() name addr port wan=$OUT/wan
	wan_direct
	RTT_MS=$rtt
	((rtt > 0)) || return 0
	mkdir -p "$wan/bin"
	while IFS=$'\t' read -r name addr port _; do
		maps+=("$addr:$((port + PROXY_SHIFT))=$addr:$port")
	done < <(head -n "$n" "$LAB/hosts.tsv")
	"$PY" "$BENCH/latency_proxy.py" --rtt "$rtt" "${maps[@]}" >"$wan/proxy.out" 2>"$wan/proxy.err" &
	PROXY_PID=$!
	local tries=0
	until grep -q ready "$wan/proxy.out" 2>/dev/null; do
		((++tries < 100)) || die "the latency proxy did not start: $(cat "$wan/proxy.err")"
		sleep 0.1
	done
	# Ports are only ever written as ":2222" (known_hosts, inventory) or "Port 2222" (ssh_config).
	local from to
	from=$(head -n 1 "$LAB/hosts.tsv" | cut -f3)
	to=$((from + PROXY_SHIFT))
	sed "s/]:$from /]:$to /" "$LAB/known_hosts" >"$wan/known_hosts"
	sed -e "s/^\( *Port\) $from\$/\1 $to/" -e "s#$LAB/known_hosts#$wan/known_hosts#" \
		"$LAB/ssh_config" >"$wan/ssh_config"
	printf '#!/bin/sh\nexec /usr/bin/ssh -F %s "$@"\n' "$wan/ssh_config" >"$wan/bin/ssh"
	chmod +x "$wan/bin/ssh"
	sed "s/ansible_port: $from\$/ansible_port: $to/" "$LAB/inventory.yaml" >"$wan/inventory.yaml"
	KNOWN_HOSTS=$wan/known_hosts SSH_BIN=$wan/bin FLEET_INVENTORY=$wan/inventory.yaml
}

wan_down() {
	if [[ -n $PROXY_PID ]]; then
		kill "$PROXY_PID" 2>/dev/null || true
		wait "$PROXY_PID" 2>/dev/null || true
		PROXY_PID=""
	fi
}

# write_contender_files N TAGS: inventories, config and playbook the contenders use.
write_contender_files() {
	local n=$1 tags=$2 i name addr port sock shift=0
	((RTT_MS > 0)) && shift=$PROXY_SHIFT
	{
		printf 'all:\n  vars:\n'
		printf '    ansible_user: root\n    ansible_port: 2222\n'
		printf '    ansible_ssh_private_key_file: %s/id_ed25519\n' "$LAB"
		printf '    ansible_python_interpreter: %s/bin/python\n' "$VENV"
		printf '  children:\n    lab:\n      hosts:\n'
		while IFS=$'\t' read -r name addr port sock _; do
			printf '        %s:\n          ansible_host: %s\n          ansible_port: %s\n' "$name" "$addr" "$((port + shift))"
			printf '          docker_host: "unix://%s"\n' "$sock"
		done < <(head -n "$n" "$LAB/hosts.tsv")
	} >"$OUT/ansible-inventory.yaml"
	# Ansible's defaults (ControlPersist on, pipelining off), host keys checked like the others.
	cat >"$OUT/ansible.cfg" <<EOF
[defaults]
host_key_checking = True
interpreter_python = $VENV/bin/python
retry_files_enabled = False
nocows = True
[ssh_connection]
ssh_args = -C -o ControlMaster=auto -o ControlPersist=60s -o UserKnownHostsFile=$KNOWN_HOSTS -o GlobalKnownHostsFile=/dev/null -o StrictHostKeyChecking=yes -o BatchMode=yes
control_path_dir = $OUT/cp
EOF
	mkdir -p "$OUT/cp"
	cat >"$OUT/purge.yml" <<'EOF'
- name: Purge image tags
  hosts: lab
  gather_facts: false
  tasks:
    - name: Remove the tag
      community.docker.docker_image_remove:
        name: "{{ item }}"
        docker_host: "{{ docker_host }}"
      loop: "{{ purge_tags.split() }}"
EOF
	for ((i = 1; i <= n; i++)); do printf 'h%s\n' "$i"; done >"$OUT/hosts.txt"
	printf '%s\n' "$tags" >"$OUT/tags.txt"
}

# contender_command NAME N TAGS: prints the command (one line, for sh -c).
contender_command() {
	local name=$1 n=$2 tags=$3
	case $name in
	fleetrmi)
		printf '%q -i %q --known-hosts %q --quiet --output json --forks %s rmi %s' \
			"$BIN" "$FLEET_INVENTORY" "$KNOWN_HOSTS" "$n" "$tags"
		;;
	docker-seq)
		# shellcheck disable=SC2016 # $h and $(cat …) are for the sh -c that runs this
		printf 'for h in $(cat %q); do docker -H ssh://$h rmi %s || exit 1; done' "$OUT/hosts.txt" "$tags"
		;;
	docker-xargs)
		printf 'xargs -P %s -I{} docker -H ssh://{} rmi %s < %q' "$n" "$tags" "$OUT/hosts.txt"
		;;
	pssh)
		printf 'parallel-ssh -h %q -p %s -t 0 docker rmi %s' "$OUT/hosts.txt" "$n" "$tags"
		;;
	ansible-adhoc)
		# The module removes one image per call: one ad-hoc command per tag.
		# shellcheck disable=SC2016 # $t is for the sh -c that runs this
		printf 'for t in %s; do %q lab -f %s -o -m community.docker.docker_image_remove -a "name=$t docker_host={{ docker_host }}" || exit 1; done' \
			"$tags" "$VENV/bin/ansible" "$n"
		;;
	ansible-playbook)
		printf '%q -f %s -e %q %q' "$VENV/bin/ansible-playbook" "$n" "purge_tags='$tags'" "$OUT/purge.yml"
		;;
	ansible-pipelining)
		printf 'ANSIBLE_PIPELINING=True %q -f %s -e %q %q' "$VENV/bin/ansible-playbook" "$n" "purge_tags='$tags'" "$OUT/purge.yml"
		;;
	*) die "unknown contender $name (known: $ALL_CONTENDERS)" ;;
	esac
}

# run_measured NAME RUN N TAGS: reseed, run one contender under measure.py, check the state,
# append one JSON line to results.jsonl.
run_measured() {
	local name=$1 run=$2 n=$3 tags=$4 cmd before after t0 measured state state_ok tag hosts=()
	local host_cpu_before host_cpu_after
	mapfile -t hosts < <(seq 1 "$n")
	t0=$(now_ms)
	restore_hosts "$n"
	cmd=$(contender_command "$name" "$n" "$tags")
	before=$(accepted_counts "${hosts[@]}")
	host_cpu_before=$("$PY" "$BENCH/hostcpu.py" "$LAB")
	measured=$(
		cd "$OUT" &&
			PATH="$SSH_BIN:$PATH" ANSIBLE_CONFIG="$OUT/ansible.cfg" ANSIBLE_INVENTORY="$OUT/ansible-inventory.yaml" \
				"$PY" "$BENCH/measure.py" --stdout "$OUT/out/$name.$run.stdout" --stderr "$OUT/out/$name.$run.stderr" \
				-- sh -c "$cmd"
	)
	sleep 0.2 # sshd writes its log line right after the login
	after=$(accepted_counts "${hosts[@]}")
	host_cpu_after=$("$PY" "$BENCH/hostcpu.py" "$LAB")
	state=$(lab_state "$n")
	# Every host ends in one state, the first run's (any contender), with the tags gone.
	state_ok=true
	if [[ $(cut -d' ' -f1 <<<"$state" | sort -u | wc -l) != 1 ]]; then state_ok=false; fi
	[[ -s $OUT/expected-state ]] || head -n 1 <<<"$state" >"$OUT/expected-state"
	[[ $(head -n 1 <<<"$state") == "$(cat "$OUT/expected-state")" ]] || state_ok=false
	for tag in $tags; do
		grep -qw -- " $tag" <<<" $(head -n 1 <<<"$state" | cut -d' ' -f2-) " && state_ok=false
	done
	local api_calls=null round_trips=null
	if [[ $name == fleetrmi ]]; then
		api_calls=$("$PY" -c 'import json,sys; d=json.load(open(sys.argv[1])); print(json.dumps([h.get("api_calls") for h in d["hosts"]]))' \
			"$OUT/out/$name.$run.stdout" 2>/dev/null || echo null)
		round_trips=$("$PY" -c 'import json,sys; d=json.load(open(sys.argv[1])); print(json.dumps([(h.get("round_trips") or {}).get("total") for h in d["hosts"]]))' \
			"$OUT/out/$name.$run.stdout" 2>/dev/null || echo null)
	fi
	"$PY" - "$measured" "$name" "$run" "$n" "$before" "$after" "$state_ok" "$api_calls" "$tags" \
		"$host_cpu_before" "$host_cpu_after" "$round_trips" "$RTT_MS" >>"$OUT/results.jsonl" <<'EOF'
import json, sys
m = json.loads(sys.argv[1])
m["host_cpu_s"] = round(float(sys.argv[11]) - float(sys.argv[10]), 2)
before = [int(x) for x in sys.argv[5].split()]
after = [int(x) for x in sys.argv[6].split()]
m.update(contender=sys.argv[2], run=int(sys.argv[3]), hosts=int(sys.argv[4]),
         ssh_logins=[a - b for a, b in zip(after, before)], state_ok=sys.argv[7] == "true",
         api_calls=json.loads(sys.argv[8]), tags=sys.argv[9].split(),
         round_trips=json.loads(sys.argv[12]), rtt_ms=int(sys.argv[13]))
print(json.dumps(m))
EOF
	"$PY" "$BENCH/report.py" line "$OUT" "$(($(now_ms) - t0))" >&2
}

# ---------------------------------------------------------------- commands

cmd_fleet() {
	local n=8 runs=3 contenders=$ALL_CONTENDERS tags="app:1 app:2 purge:1" setup_wanted=1 c r
	local rtts="" rtt
	while (($#)); do
		case $1 in
		--hosts) n=$2 && shift 2 ;;
		--runs) runs=$2 && shift 2 ;;
		--contenders) contenders=${2//,/ } && shift 2 ;;
		--tags) tags=$2 && shift 2 ;;
		--rtt) rtts=${2//,/ } && shift 2 ;;
		--lab) LAB=$(readlink -f "$2") && shift 2 ;;
		--out) OUT=$2 && shift 2 ;;
		--no-setup) setup_wanted=0 && shift ;;
		*) usage ;;
		esac
	done
	[[ $n =~ ^[0-9]+$ && $n -ge 1 && $runs =~ ^[0-9]+$ && $runs -ge 1 ]] || usage
	local need_ansible=0 need_pssh=0
	[[ $contenders == *ansible* ]] && need_ansible=1
	[[ " $contenders " == *" pssh "* ]] && need_pssh=1
	((setup_wanted)) && setup "$need_ansible" "$need_pssh"
	[[ -x $BIN ]] || die "$BIN missing: cargo build --release"
	OUT=$(readlink -m "${OUT:-$ROOT/target/bench/fleet-$(date +%Y%m%d-%H%M%S)}")
	mkdir -p "$OUT/out"
	: >"$OUT/results.jsonl"
	rm -f "$OUT/expected-state"
	trap cleanup EXIT
	if [[ -z $LAB ]]; then
		log "starting a lab of $n hosts"
		lab_up "$n"
	fi
	(($(wc -l <"$LAB/hosts.tsv") >= n)) || die "$LAB has fewer than $n hosts"
	for rtt in ${rtts:-0}; do [[ $rtt =~ ^[0-9]+$ ]] || usage; done
	wan_direct
	prepare_restore "$n" "$tags"
	"$PY" "$BENCH/machine.py" "$BIN" "$VENV" >"$OUT/machine.json"
	log "$n hosts, $runs runs of: $contenders; removing: $tags; RTT ${rtts:-0} ms; results in $OUT"
	local order=() t0
	read -r -a order <<<"$contenders"
	t0=$(now_ms)
	for rtt in ${rtts:-0}; do
		wan_up "$n" "$rtt"
		write_contender_files "$n" "$tags"
		for ((r = 1; r <= runs; r++)); do
			# Rotate the order each run, so no contender always runs right after the same other.
			for ((c = 0; c < ${#order[@]}; c++)); do
				run_measured "${order[(c + r - 1) % ${#order[@]}]}" "$r" "$n" "$tags"
			done
		done
		wan_down
	done
	log "measured in $((($(now_ms) - t0) / 1000)) s"
	cut -d' ' -f1-3 /proc/loadavg >"$OUT/loadavg-end"
	if [[ -n $rtts ]]; then
		"$PY" "$BENCH/report.py" wan "$OUT" | tee "$OUT/report.md"
	else
		"$PY" "$BENCH/report.py" fleet "$OUT" | tee "$OUT/report.md"
	fi
}

main() {
	case ${1:-} in
	scale)
		shift
		exec bash "$BENCH/scale.sh" "$@"
		;;
	fleet) shift && cmd_fleet "$@" ;;
	-h | --help) usage ;;
	*) cmd_fleet "$@" ;;
	esac
}

main "$@"
