#!/usr/bin/env bash
# bench/endpoints.sh: hundreds of SSH endpoints for a lab, without hundreds of Docker daemons.
#
#   bench/endpoints.sh up LAB_DIR M [DAEMONS]   start endpoints e1..eM
#   bench/endpoints.sh down LAB_DIR             stop them (lab/lab.sh down stops them too)
#
# Endpoint eI is its own OpenSSH sshd, with its own ed25519 host key, on its own loopback
# address (127.0.X.Y:2222, from 127.0.101.1 on, 250 per block), accepting the lab's client key
# for root, with `SetEnv DOCKER_HOST` pointing at the socket of lab host h((I-1) mod DAEMONS + 1):
# M endpoints share DAEMONS of the lab's daemons. Files, in LAB_DIR/ep:
#   endpoints.tsv   name, address, port, docker socket (one line per endpoint)
#   known_hosts     one line per endpoint
#   eI/             sshd_config, host key, sshd.pid, sshd.log
set -euo pipefail
shopt -s inherit_errexit

readonly PORT=2222
readonly PER_BLOCK=250
readonly FIRST_BLOCK=101

log() { printf '[endpoints] %s\n' "$*" >&2; }
die() {
	printf '[endpoints] error: %s\n' "$*" >&2
	exit 1
}

# listening ADDR: something listens on ADDR:PORT.
listening() {
	local a b c d hex
	IFS=. read -r a b c d <<<"$1"
	hex=$(printf '%02X%02X%02X%02X:%04X' "$d" "$c" "$b" "$a" "$PORT")
	awk -v h="$hex" 'NR > 1 && $4 == "0A" && $2 == h {f = 1} END {exit !f}' /proc/net/tcp
}

# address I: endpoint I's loopback address.
address() {
	local i=$(($1 - 1))
	printf '127.0.%d.%d\n' $((FIRST_BLOCK + i / PER_BLOCK)) $((i % PER_BLOCK + 1))
}

endpoint_pid() { # endpoint_pid DIR: the live sshd of an endpoint directory
	local f=$1/sshd.pid p
	[[ -r $f ]] || return 1
	p=$(tr -dc '0-9' <"$f")
	[[ -n $p && -r /proc/$p/cmdline ]] || return 1
	tr '\0' ' ' <"/proc/$p/cmdline" | grep -q -- "$1/" || return 1
	printf '%s\n' "$p"
}

cmd_up() {
	local lab=$1 m=$2 daemons=${3:-} ep i addr dir sock t0
	[[ -r $lab/hosts.tsv ]] || die "$lab: not a lab directory"
	if ! [[ $m =~ ^[0-9]+$ ]] || ((m < 1 || m > 2500)); then die "M must be 1..2500"; fi
	daemons=${daemons:-$(wc -l <"$lab/hosts.tsv")}
	(($(wc -l <"$lab/hosts.tsv") >= daemons)) || die "$lab has fewer than $daemons hosts"
	ep=$lab/ep
	[[ ! -e $ep ]] || die "$ep exists: run down first"
	t0=$(date +%s%3N)
	mkdir -p "$ep" /run/sshd
	: >"$ep/endpoints.tsv"
	: >"$ep/known_hosts"
	for ((i = 1; i <= m; i++)); do
		addr=$(address "$i")
		listening "$addr" && die "$addr:$PORT is taken"
		dir=$ep/e$i
		sock=$(sed -n "$(((i - 1) % daemons + 1))p" "$lab/hosts.tsv" | cut -f4)
		mkdir -p "$dir"
		ssh-keygen -q -t ed25519 -N '' -C "e$i" -f "$dir/key"
		cat >"$dir/sshd_config" <<EOF
# fleetrmi bench endpoint e$i (shares $sock)
ListenAddress $addr:$PORT
HostKey $dir/key
PidFile $dir/sshd.pid
AuthorizedKeysFile $lab/id_ed25519.pub
UsePAM no
StrictModes no
PermitRootLogin prohibit-password
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
AllowTcpForwarding yes
AllowStreamLocalForwarding yes
PrintMotd no
PrintLastLog no
UseDNS no
SetEnv SHLVL=1 DOCKER_HOST=unix://$sock
Subsystem sftp internal-sftp
EOF
		/usr/sbin/sshd -f "$dir/sshd_config" -E "$dir/sshd.log" </dev/null >/dev/null 2>&1 ||
			die "e$i: sshd failed to start: $(tail -n 3 "$dir/sshd.log")"
		printf 'e%s\t%s\t%s\t%s\n' "$i" "$addr" "$PORT" "$sock" >>"$ep/endpoints.tsv"
		printf '[%s]:%s %s\n' "$addr" "$PORT" "$(cut -d' ' -f1,2 "$dir/key.pub")" >>"$ep/known_hosts"
	done
	# Each sshd writes its pidfile once it listens.
	for ((i = 1; i <= m; i++)); do
		local waited=0
		until endpoint_pid "$ep/e$i" >/dev/null; do
			((waited++ < 500)) || die "e$i: no sshd pidfile after 10 s"
			sleep 0.02
		done
	done
	log "$m endpoints on $(address 1)..$(address "$m") sharing $daemons daemons, up in $((($(date +%s%3N) - t0) / 1000)) s"
}

cmd_down() {
	local lab=$1 dir p pids=()
	[[ -d $lab/ep ]] || return 0
	for dir in "$lab"/ep/e*/; do
		dir=${dir%/}
		p=$(endpoint_pid "$dir") && pids+=("$p")
	done
	if ((${#pids[@]})); then
		kill -TERM "${pids[@]}" 2>/dev/null || true
		local waited=0
		for p in "${pids[@]}"; do
			while [[ -e /proc/$p ]] && ((waited++ < 250)); do sleep 0.02; done
		done
	fi
	rm -rf "$lab/ep"
	log "stopped ${#pids[@]} endpoints"
}

readonly USAGE="usage: endpoints.sh up LAB_DIR M [DAEMONS] | down LAB_DIR"
case ${1:-} in
up)
	(($# >= 3)) || die "$USAGE"
	cmd_up "$2" "$3" "${4:-}"
	;;
down)
	(($# == 2)) || die "$USAGE"
	cmd_down "$2"
	;;
*) die "$USAGE" ;;
esac
