#!/usr/bin/env bash
# lab/lab.sh: a fleet of simulated Docker hosts on one machine, for fleetrmi's
# integration tests, demo and benchmarks.
#
# Each simulated host hI has its own dockerd (own socket, data root, exec root,
# containerd) and its own OpenSSH sshd on 127.0.X.I:2222 with its own host key.
# Every host is seeded from one image archive, so image IDs are the same
# everywhere. See lab/README.md for the interface and the seeded image set.
set -euo pipefail
shopt -s inherit_errexit

readonly LAB_ROOT=${FRL_LAB_ROOT:-/tmp/frl}
readonly SSH_PORT=2222
# The lab's registry listens on 127.0.X.REG_HOST:REG_PORT (digests need a push).
readonly REG_HOST=250 REG_PORT=5000
readonly MARKER=.frl-lab
SCRIPT=$(readlink -f "${BASH_SOURCE[0]}")
readonly SCRIPT
# Engines besides the system's dockerd 20.10 (Debian 13's dockerd 26.1 and
# containerd 1.7), unpacked here by `install`, never installed system-wide.
readonly ENGINE_CACHE=${FRL_ENGINE_CACHE:-/var/cache/fleetrmi-lab}
readonly TRIXIE_ROOT=$ENGINE_CACHE/trixie
# The engine kinds a host can run (lab/README.md, "Engine kinds").
readonly KINDS="classic20 classic26 containerd26 podman4"
# How many hosts are seeded at once (loads are mostly I/O and daemon work).
readonly SEED_JOBS=${FRL_SEED_JOBS:-3}

# We always name the daemon explicitly with -H; ambient settings must not win.
unset DOCKER_HOST DOCKER_CONTEXT DOCKER_TLS_VERIFY DOCKER_CERT_PATH
export DOCKER_CLI_HINTS=false LC_ALL=C

DIR=""

log() { printf '[lab] %s\n' "$*" >&2; }
die() {
	printf '[lab] error: %s\n' "$*" >&2
	exit 1
}
usage() {
	cat >&2 <<'EOF'
usage: lab/lab.sh install
       lab/lab.sh up --hosts N [--kinds "KIND..."] [--kind I=KIND]... [--dir DIR]
                     [--watch PID] [--net 127.0.X]
                     (KIND: classic20 classic26 containerd26 podman4)
       lab/lab.sh down DIR
       lab/lab.sh seed DIR I [I...]
       lab/lab.sh stop-sshd|start-sshd|stop-dockerd|start-dockerd DIR I
       lab/lab.sh stop-sftp|start-sftp DIR I   (sshd without/with its sftp subsystem)
       lab/lab.sh status DIR
EOF
	exit 2
}

now_ms() { date +%s%3N; }
since() { # $1 = start in ms; prints seconds with 2 decimals
	local ms=$(($(now_ms) - $1))
	printf '%d.%02ds' $((ms / 1000)) $((ms % 1000 / 10))
}

# ---------------------------------------------------------------- processes

# proc_alive PID: the process exists and is not a zombie.
proc_alive() {
	local stat
	{ read -r stat <"/proc/$1/stat"; } 2>/dev/null || return 1
	stat=${stat##*) }
	[[ ${stat:0:1} != Z ]]
}

# cmdline_has PID TEXT: the process's command line contains TEXT.
cmdline_has() {
	local c
	c=$(tr '\0' ' ' 2>/dev/null <"/proc/$1/cmdline") || return 1
	[[ $c == *"$2"* ]]
}

# pid_from FILE TEXT: print the pid in FILE if that process is alive and its
# command line contains TEXT (guards against a recycled pid).
pid_from() {
	local f=$1 text=$2 p
	[[ -r $f ]] || return 1
	p=$(tr -dc '0-9' 2>/dev/null <"$f") || return 1
	[[ -n $p ]] || return 1
	proc_alive "$p" || return 1
	cmdline_has "$p" "$text" || return 1
	printf '%s\n' "$p"
}

# wait_gone TIMEOUT_S PID...: wait for the processes to end; SIGKILL the rest.
wait_gone() {
	local timeout=$1 p left deadline
	shift
	deadline=$(($(now_ms) + timeout * 1000))
	while :; do
		left=()
		for p in "$@"; do proc_alive "$p" && left+=("$p"); done
		((${#left[@]})) || return 0
		if (($(now_ms) > deadline)); then
			log "pids ${left[*]} still running after ${timeout}s: SIGKILL"
			kill -KILL "${left[@]}" 2>/dev/null || true
			sleep 0.2
			return 0
		fi
		sleep 0.05
	done
}

# stop_pids TIMEOUT_S PID...: SIGTERM, then wait (SIGKILL after the timeout).
stop_pids() {
	local timeout=$1
	shift
	(($#)) || return 0
	kill -TERM "$@" 2>/dev/null || true
	wait_gone "$timeout" "$@"
}

# detach PIDFILE LOG COMMAND...: start COMMAND in its own session, stdin from
# /dev/null, output appended to LOG; its pid goes to PIDFILE (a bash writes
# its own pid, then becomes COMMAND). Returns at once.
detach() {
	local pidfile=$1 logfile=$2
	shift 2
	# shellcheck disable=SC2016 # $$ and $1 are for that bash
	setsid -f bash -c 'echo $$ >"$1"; shift; exec "$@"' _ "$pidfile" "$@" \
		</dev/null >>"$logfile" 2>&1 3>&- 9>&-
}

# wait_listening SECONDS LOG WHAT CHECK...: until CHECK succeeds; after SECONDS,
# show the end of LOG and fail saying WHAT did not listen.
wait_listening() {
	local seconds=$1 logfile=$2 what=$3 deadline
	shift 3
	deadline=$(($(now_ms) + seconds * 1000))
	until "$@"; do
		if (($(now_ms) > deadline)); then
			tail -n 20 "$logfile" >&2 || true
			die "$what: not listening within ${seconds}s"
		fi
		sleep 0.05
	done
}

# ---------------------------------------------------------------- lab layout

hdir() { printf '%s/h%s' "$DIR" "$1"; }
dsock() { printf '%s/h%s/d.sock' "$DIR" "$1"; }
dk() { # dk I ARGS...: the docker CLI against host I's daemon
	local i=$1
	shift
	docker -H "unix://$(dsock "$i")" "$@"
}

host_count() {
	[[ -r $DIR/hosts.tsv ]] || die "$DIR: no hosts.tsv (not a lab directory?)"
	wc -l <"$DIR/hosts.tsv"
}
host_addr() { awk -F'\t' -v n="h$1" '$1==n {print $2}' "$DIR/hosts.tsv"; }
host_kind() { awk -F'\t' -v n="h$1" '$1==n {print ($6 == "" ? "classic20" : $6)}' "$DIR/hosts.tsv"; }
# hosts_of_kind KIND: the indexes of the hosts running KIND, in order.
hosts_of_kind() { awk -F'\t' -v k="$1" '($6 == "" ? "classic20" : $6) == k {print substr($1, 2)}' "$DIR/hosts.tsv"; }

# image_set KIND: the seeded image set a kind uses. dockerd 20.10 and 26.1
# classic share one (same store format, same IDs); the others build their own.
image_set() {
	case $1 in
	classic20 | classic26) echo classic ;;
	*) echo "$1" ;;
	esac
}
# set_path SET: where a set's archive, images.txt, images.json and digests.txt
# are (the classic set at the top of DIR, where it always was).
set_path() {
	if [[ $1 == classic ]]; then
		printf '%s\n' "$DIR"
	else
		printf '%s/sets/%s\n' "$DIR" "$1"
	fi
}

dockerd_pid() { pid_from "$(hdir "$1")/d.pid" "$(hdir "$1")/"; }
sshd_pid() { pid_from "$(hdir "$1")/sshd.pid" "$(hdir "$1")/"; }
containerd_pid() { pid_from "$(hdir "$1")/x/containerd/containerd.pid" "$(hdir "$1")/"; }
registry_pid() { pid_from "$DIR/registry/registry.pid" "$DIR/registry/"; }
# reg_addr: the registry's host:port, on the lab's net (from hosts.tsv).
reg_addr() {
	local a
	a=$(host_addr 1)
	printf '%s.%s:%s\n' "${a%.*}" "$REG_HOST" "$REG_PORT"
}

set_dir() { # set_dir PATH: select an existing lab directory
	[[ -n ${1:-} ]] || usage
	DIR=$(readlink -m "$1")
	[[ -d $DIR ]] || die "$DIR: no such lab directory"
	[[ -e $DIR/$MARKER ]] || die "$DIR: not a lab directory (no $MARKER)"
}

check_host() { # check_host I: I is a host of this lab
	local n
	n=$(host_count)
	if ! [[ $1 =~ ^[0-9]+$ ]] || (($1 < 1 || $1 > n)); then
		die "host index '$1' is not in 1..$n"
	fi
}

# ---------------------------------------------------------------- dockerd

start_dockerd() { # start_dockerd I: the host's engine (returns at once; see wait_dockerd)
	local i=$1 h kind
	h=$(hdir "$i")
	kind=$(host_kind "$i")
	if dockerd_pid "$i" >/dev/null; then
		log "h$i: $kind engine already running"
		return 0
	fi
	rm -f "$h/d.pid" # stale: dockerd refuses a pidfile naming a live process
	case $kind in
	classic20) start_moby "$i" /usr/sbin/dockerd ;;
	classic26) start_moby "$i" "$TRIXIE_ROOT/usr/sbin/dockerd" ;;
	containerd26)
		start_containerd "$i"
		start_moby "$i" "$TRIXIE_ROOT/usr/sbin/dockerd" --containerd "$h/x/containerd/containerd.sock"
		;;
	podman4) start_podman "$i" ;;
	*) die "h$i: unknown engine kind '$kind'" ;;
	esac
}

start_moby() { # start_moby I DOCKERD [ARGS...]: one dockerd with the lab's settings
	local i=$1 dockerd=$2 h
	shift 2
	h=$(hdir "$i")
	# The daemon answers on its own socket only; no bridge, no iptables, so
	# many daemons can run side by side. Live restore keeps containers running
	# across stop-dockerd/start-dockerd (and makes stopping dockerd fast).
	# Debian 13's dockerd must find its own containerd, shim and docker-init
	# first in PATH (for 20.10 that directory does not exist: no change).
	PATH="$TRIXIE_ROOT/usr/bin:$PATH" setsid -f "$dockerd" \
		--config-file "$h/daemon.json" \
		-H "unix://$h/d.sock" \
		--data-root "$h/data" \
		--exec-root "$h/x" \
		--pidfile "$h/d.pid" \
		--bridge=none --iptables=false --ip-masq=false --ip-forward=false \
		"$@" </dev/null >>"$h/d.log" 2>&1 3>&- 9>&-
}

# start_containerd I: the containerd 1.7 of a containerd26 host, laid out as
# dockerd lays out the one it manages itself (root under the data root, state,
# socket and pidfile under the exec root), so that stopping and cleaning up
# find it the same way. Waits for its socket.
start_containerd() {
	local i=$1 h c
	h=$(hdir "$i")
	c=$h/x/containerd
	containerd_pid "$i" >/dev/null && return 0
	mkdir -p "$c"
	rm -f "$c/containerd.pid" "$c/containerd.sock"
	PATH="$TRIXIE_ROOT/usr/bin:$PATH" detach "$c/containerd.pid" "$h/containerd.log" \
		containerd --config "$h/containerd.toml"
	wait_listening 20 "$h/containerd.log" "h$i: containerd on $c/containerd.sock" test -S "$c/containerd.sock"
}

# start_podman I: Podman's Docker-compatible service on the host's socket,
# with its own storage, run and temp directories and configuration files.
start_podman() {
	local i=$1 h
	h=$(hdir "$i")
	mkdir -p "$h/x/tmp"
	CONTAINERS_CONF=$h/containers.conf CONTAINERS_REGISTRIES_CONF=$h/registries.conf \
		detach "$h/d.pid" "$h/d.log" \
		podman --root "$h/data" --runroot "$h/x" --tmpdir "$h/x/tmp" \
		--storage-driver overlay --cgroup-manager cgroupfs --events-backend file \
		system service --time=0 "unix://$h/d.sock"
}

wait_dockerd() { # wait_dockerd I: until the socket answers /_ping
	local i=$1 deadline started
	started=$(now_ms)
	deadline=$((started + 60000))
	until dk "$i" version -f '{{.Server.APIVersion}}' >/dev/null 2>&1; do
		if (($(now_ms) > deadline)) || { (($(now_ms) > started + 5000)) && ! dockerd_pid "$i" >/dev/null; }; then
			tail -n 20 "$(hdir "$i")/d.log" >&2 || true
			die "h$i: dockerd did not answer on $(dsock "$i") (log above: $(hdir "$i")/d.log)"
		fi
		sleep 0.1
	done
}

stop_dockerd() { # stop_dockerd I: stop dockerd (containers keep running: live restore)
	local i=$1 p
	p=$(dockerd_pid "$i") || {
		log "h$i: dockerd not running"
		return 0
	}
	stop_pids 30 "$p"
	# dockerd stops its containerd; make sure of it.
	p=$(containerd_pid "$i") && stop_pids 10 "$p"
	return 0
}

# ---------------------------------------------------------------- sshd

start_sshd() { # start_sshd I
	local i=$1 h deadline
	h=$(hdir "$i")
	if sshd_pid "$i" >/dev/null; then
		log "h$i: sshd already running"
		return 0
	fi
	mkdir -p /run/sshd
	chmod 0755 /run/sshd
	rm -f "$h/sshd.pid"
	# sshd detaches by itself and writes its PidFile once it listens.
	/usr/sbin/sshd -f "$h/sshd_config" -E "$h/sshd.log" </dev/null >/dev/null 2>&1 3>&- 9>&- ||
		{
			tail -n 5 "$h/sshd.log" >&2 || true
			die "h$i: sshd failed to start"
		}
	deadline=$(($(now_ms) + 10000))
	until sshd_pid "$i" >/dev/null; do
		(($(now_ms) < deadline)) || die "h$i: sshd wrote no pidfile within 10s"
		sleep 0.02
	done
}

stop_sshd() { # stop_sshd I: stop the listener (open sessions run on, as on a real host)
	local p
	p=$(sshd_pid "$1") || {
		log "h$1: sshd not running"
		return 0
	}
	stop_pids 10 "$p"
}

# set_sftp I on|off: host I's sshd offers the sftp subsystem or not (as hardened hosts and
# minimal configs do); sshd restarts, sessions already open run on.
set_sftp() {
	local i=$1 want=$2 h
	h=$(hdir "$i")
	if [[ $want == on ]]; then
		sed -i 's/^#Subsystem sftp /Subsystem sftp /' "$h/sshd_config"
	else
		sed -i 's/^Subsystem sftp /#Subsystem sftp /' "$h/sshd_config"
	fi
	/usr/sbin/sshd -t -f "$h/sshd_config" || die "h$i: invalid sshd_config"
	stop_sshd "$i"
	start_sshd "$i"
}

# tcp_listening IP PORT: something listens there (or on the wildcard).
tcp_listening() {
	local a b c d hex any
	IFS=. read -r a b c d <<<"$1"
	hex=$(printf '%02X%02X%02X%02X:%04X' "$d" "$c" "$b" "$a" "$2")
	any=$(printf '00000000:%04X' "$2")
	awk -v h="$hex" -v z="$any" 'NR > 1 && $4 == "0A" && ($2 == h || $2 == z) {f = 1} END {exit !f}' \
		/proc/net/tcp && return 0
	any=$(printf '00000000000000000000000000000000:%04X' "$2")
	awk -v z="$any" 'NR > 1 && $4 == "0A" && $2 == z {f = 1} END {exit !f}' /proc/net/tcp6 2>/dev/null
}

# ---------------------------------------------------------------- registry

start_registry() { # one registry per lab: config, storage and log under DIR/registry
	local r=$DIR/registry addr
	addr=$(reg_addr)
	mkdir -p "$r/data"
	cat >"$r/config.yml" <<EOF
# fleetrmi lab registry (plain HTTP on loopback: dockerd trusts 127.0.0.0/8)
version: 0.1
log:
  level: warn
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: $r/data
http:
  addr: $addr
EOF
	rm -f "$r/registry.pid"
	detach "$r/registry.pid" "$r/registry.log" /usr/bin/docker-registry serve "$r/config.yml"
	wait_listening 10 "$r/registry.log" "the registry on $addr" registry_up "$addr"
}

registry_up() { tcp_listening "${1%:*}" "$REG_PORT" && registry_pid >/dev/null; }

# ---------------------------------------------------------------- teardown

# lab_alive D: some process of lab D is still running (then we never touch it).
lab_alive() {
	local d=$1 f p
	p=$(pid_from "$d/up.pid" "lab.sh") && return 0
	p=$(pid_from "$d/reaper.pid" "$d") && return 0
	for f in "$d"/h*/d.pid "$d"/h*/sshd.pid "$d"/h*/x/containerd/containerd.pid "$d"/registry/registry.pid; do
		[[ -e $f ]] || continue
		p=$(pid_from "$f" "$d/") && return 0
	done
	return 1
}

# container_pids D: the live PID 1 of every container of lab D (pid from the
# containerd bundle or Podman's run directory, checked against the container's
# cgroup).
container_pids() {
	local f p id
	for f in "$1"/h*/x/containerd/daemon/io.containerd.runtime.v2.task/*/*/init.pid \
		"$1"/h*/x/overlay-containers/*/userdata/pidfile; do
		[[ -e $f ]] || continue
		p=$(tr -dc '0-9' 2>/dev/null <"$f") || continue
		[[ -n $p ]] || continue
		proc_alive "$p" || continue
		id=$(basename "$(dirname "$f")")
		[[ $id == userdata ]] && id=$(basename "$(dirname "$(dirname "$f")")")
		grep -q "$id" "/proc/$p/cgroup" 2>/dev/null && printf '%s\n' "$p"
	done
	return 0
}

# mounts_under D: mount points at or below D, deepest first.
mounts_under() {
	awk -v d="$1" '$5 == d || index($5, d "/") == 1 {print $5}' /proc/self/mountinfo | sort -r
}

# teardown D: stop every process of lab D by pid, unmount, remove D.
# Used by `down` and to clean labs left behind by killed runs.
teardown() {
	local d=$1 f p i comm pids=() ids=()
	[[ -d $d ]] || return 0
	# The reaper (unless it is us: it execs `down`).
	if p=$(pid_from "$d/reaper.pid" "$d") && ((p != $$)); then
		kill -TERM "$p" 2>/dev/null || true
	fi
	# The containers' processes first: with live restore a stopped dockerd
	# leaves them running, and a container's PID 1 ignores SIGTERM.
	mapfile -t pids < <(container_pids "$d")
	if ((${#pids[@]})); then
		kill -KILL "${pids[@]}" 2>/dev/null || true
		wait_gone 5 "${pids[@]}"
	fi
	# sshd and dockerd of every host and the registry at once, then the containerds.
	pids=()
	for f in "$d"/h*/sshd.pid "$d"/h*/d.pid "$d"/registry/registry.pid; do
		[[ -e $f ]] || continue
		p=$(pid_from "$f" "$(dirname "$f")/") && pids+=("$p")
	done
	stop_pids 30 "${pids[@]}"
	pids=()
	for f in "$d"/h*/x/containerd/containerd.pid; do
		[[ -e $f ]] || continue
		p=$(pid_from "$f" "$d/") && pids+=("$p")
	done
	stop_pids 10 "${pids[@]}"
	# Leftovers (normal after a killed run; shims can linger after a stop):
	# container processes, then shims and any containerd/dockerd/sshd whose
	# command line names this lab.
	mapfile -t pids < <(container_pids "$d")
	for f in /proc/[0-9]*; do
		p=${f#/proc/}
		comm=""
		read -r comm 2>/dev/null <"$f/comm" || continue
		case $comm in
		containerd-shim* | containerd | dockerd | sshd | runc | docker-registry | podman | conmon) ;;
		*) continue ;;
		esac
		cmdline_has "$p" "$d/" && pids+=("$p")
	done
	if ((${#pids[@]})); then
		[[ $d == "$DIR" ]] || log "killing leftover processes of $d: ${pids[*]}"
		kill -KILL "${pids[@]}" 2>/dev/null || true
		wait_gone 5 "${pids[@]}"
	fi
	# Sockets of killed shims (a shim that exits normally removes its own).
	for f in "$d"/h*/x/containerd/daemon/io.containerd.runtime.v2.task/*/*/address; do
		[[ -e $f ]] || continue
		p=$(<"$f")
		p=${p#unix://}
		[[ $p == /run/containerd/s/* && -S $p ]] && rm -f "$p"
	done
	# Empty cgroups of containers that were killed rather than stopped.
	for f in "$d"/h*/data/containers/* "$d"/h*/data/overlay-containers/*; do
		[[ -d $f ]] || continue
		i=$(basename "$f")
		rmdir /sys/fs/cgroup/*/docker/"$i" /sys/fs/cgroup/docker/"$i" \
			/sys/fs/cgroup/*/libpod_parent/libpod-"$i"{/container,} 2>/dev/null || true
	done
	# Overlay mounts, netns files, the data roots dockerd bind-mounts on themselves.
	for _ in 1 2 3; do
		mapfile -t ids < <(mounts_under "$d")
		((${#ids[@]})) || break
		for f in "${ids[@]}"; do umount "$f" 2>/dev/null || umount -l "$f" 2>/dev/null || true; done
	done
	if [[ -n $(mounts_under "$d") ]]; then
		mounts_under "$d" >&2
		die "$d: mounts remain (listed above); not removing it"
	fi
	rm -rf --one-file-system "$d"
}

# cleanup_stale: remove labs under LAB_ROOT that killed runs left behind.
cleanup_stale() {
	local d
	for d in "$LAB_ROOT"/*/; do
		d=${d%/}
		[[ -d $d && $d != "$DIR" ]] || continue
		if [[ ! -e $d/$MARKER ]]; then
			rmdir "$d" 2>/dev/null || true # only empty dirs that are not labs
			continue
		fi
		if lab_alive "$d"; then
			log "leaving live lab $d"
			continue
		fi
		log "cleaning stale lab $d"
		teardown "$d" || log "could not fully clean $d"
	done
}

# ---------------------------------------------------------------- image set

# The seeded set. Sizes are the bytes each image adds on top of its parent.
# Legacy-built images (Parent links) are FROM base:1 unless said otherwise.
# build_images SET I: builds image set SET on host I (the first host of a kind
# using it), then writes the set's archive and expected fingerprint. Each set
# is built from the same recipe, on its own engine (IDs differ between sets,
# never between the hosts of one set).
build_images() {
	SETNAME=$1 SETDIR=$(set_path "$1") BH=$2
	mkdir -p "$SETDIR"
	local work=$SETDIR/build tree t0
	t0=$(now_ms)
	rm -rf "$work"
	mkdir -p "$work/base/bin" "$work/shared" "$work/unique"
	# base:1: busybox in a minimal tree, imported.
	tree=$work/base
	cp "$(command -v busybox)" "$tree/bin/busybox"
	copy_libs "$(command -v busybox)" "$tree"
	local a
	for a in sh sleep dd true ls cat echo env; do ln -s busybox "$tree/bin/$a"; done
	mkdir -p "$tree/etc" "$tree/tmp" "$tree/root"
	tar -C "$tree" -cf "$work/base.tar" .
	dk "$BH" import -m "fleetrmi lab base" -c 'CMD ["sh"]' "$work/base.tar" base:1 >/dev/null
	# shared:1, shared:2: two imports of one tar (one layer, no parent link).
	head -c 512000 /dev/urandom >"$work/shared/shared.bin"
	tar -C "$work/shared" -cf "$work/shared.tar" .
	dk "$BH" import -m "shared 1" "$work/shared.tar" shared:1 >/dev/null
	dk "$BH" import -m "shared 2" "$work/shared.tar" shared:2 >/dev/null
	# unique:1: an import with a layer of its own.
	head -c 358400 /dev/urandom >"$work/unique/unique.bin"
	tar -C "$work/unique" -cf "$work/unique.tar" .
	dk "$BH" import -m "unique 1" "$work/unique.tar" unique:1 >/dev/null
	# Legacy builds, in two lanes (one daemon builds two at a time fine).
	(
		cbuild 204800 app:1
		cbuild 307200 app:2
		cbuild 409600 app:3 app:latest
		cbuild 153600 multi:1 multi:2 other/multi:1
		lbuild "RUN dd if=/dev/urandom of=/c1 bs=1024 count=100
RUN dd if=/dev/urandom of=/c2 bs=1024 count=250
LABEL lab.role=chain" chain:1
	) >"$work/lane1.log" 2>&1 &
	local lane1=$!
	(
		# moved:1 is built twice: the first build keeps no tag (the dangling image).
		cbuild 122880 moved:1
		cbuild 133120 moved:1
		# Not /run itself: Podman mounts a tmpfs there in build containers.
		lbuild "RUN dd if=/dev/urandom of=/run.bin bs=1024 count=50" run:1
		lbuild "RUN dd if=/dev/urandom of=/stopped bs=1024 count=60" stopped:1
		cbuild 225280 purge:1
		cbuild 235520 purge:keep
	) >"$work/lane2.log" 2>&1 &
	local lane2=$! rc=0
	wait "$lane1" || rc=1
	wait "$lane2" || rc=1
	if ((rc)); then
		cat "$work/lane1.log" "$work/lane2.log" >&2
		die "image build failed"
	fi
	build_digest_images
	log "built the $1 image set on h$BH in $(since "$t0")"
	# Save everything: every tag, and every image by ID (intermediates and the
	# dangling image too), so that load keeps the Parent links.
	t0=$(now_ms)
	local refs=() ids=()
	if [[ $SETNAME == containerd26 ]]; then
		# The containerd store keeps no Parent links through save/load, and
		# names every image loaded by ID `moby-dangling@ID`, a hidden reference
		# that then shows in rmi and prune answers. So: each image by its own
		# references (a digest-only image by its digest), by ID only if it
		# has none (as a build leaves intermediates and dangling images).
		mapfile -t ids < <(dk "$BH" images -aq --no-trunc | sort -u)
		mapfile -t refs < <(dk "$BH" image inspect -f '{{.Id}} {{range .RepoTags}}{{.}} {{end}}' "${ids[@]}" |
			awk 'NF == 1 {print $1} NF > 1 {for (i = 2; i <= NF; i++) print $i}')
		# The links are labels on containerd's image records: kept aside,
		# set again after every load (c8d_after_load).
		dk "$BH" image inspect -f '{{.Id}} {{.Parent}}' "${ids[@]}" | awk '$2 != ""' >"$SETDIR/parents.txt"
		ids=()
	else
		mapfile -t refs < <(dk "$BH" images --format '{{.Repository}}:{{.Tag}}' | grep -v '<none>')
		mapfile -t ids < <(dk "$BH" images -aq --no-trunc | sort -u)
	fi
	dk "$BH" save -o "$SETDIR/images.tar" "${refs[@]}" "${ids[@]}"
	if [[ $SETNAME != classic ]]; then
		# What a load gives is the reference for every host of the set: the
		# containerd store and Podman record other digests for a build than
		# for a load, so the builder is seeded from its own archive too.
		load_into_empty "$BH"
	fi
	fingerprint "$BH" >"$SETDIR/images.txt"
	write_images_json
	rm -rf "$work"
	log "$1 set: saved $(grep -vc "^record " "$SETDIR/images.txt") images ($(du -k "$SETDIR/images.tar" | cut -f1) KiB) in $(since "$t0")"
}

# build_digest_images: two images pushed to the lab's registry, so that they
# have digests; dgonly then loses its tag (present only by digest, saved by ID).
# Writes DIR/digests.txt: NAME REPO@DIGEST, which `seed` pulls on every host.
# Each set pushes under a tag of its own (sets are built at once), reads the
# digest from the registry (Podman records a local digest, not the pushed one)
# and pulls it back so that the engine records it.
build_digest_images() {
	local reg repo ref digest push_tag=set-$SETNAME
	reg=$(reg_addr)
	cbuild 92160 "$reg/dg:1"
	cbuild 97280 "$reg/dgonly:1"
	: >"$SETDIR/digests.txt.tmp"
	for repo in dg dgonly; do
		dk "$BH" tag "$reg/$repo:1" "$reg/$repo:$push_tag"
		dk "$BH" push -q "$reg/$repo:$push_tag" >/dev/null ||
			die "h$BH: push $reg/$repo:$push_tag failed (log: $DIR/registry/registry.log)"
		digest=$(registry_digest "$reg" "$repo" "$push_tag")
		dk "$BH" rmi "$reg/$repo:$push_tag" >/dev/null
		ref=$reg/$repo@$digest
		dk "$BH" pull -q "$ref" >/dev/null || die "h$BH: docker pull $ref failed"
		printf '%s:1 %s\n' "$repo" "$ref" >>"$SETDIR/digests.txt.tmp"
	done
	# Untagging the last tag of a repository drops that repository's digests too
	# (and so deletes the image): hold the image with a scratch tag meanwhile,
	# pull the digest back, then drop the scratch tag (another repository).
	ref=$(awk '$1 == "dgonly:1" {print $2}' "$SETDIR/digests.txt.tmp")
	dk "$BH" tag "$reg/dgonly:1" lab-scratch:1
	dk "$BH" rmi "$reg/dgonly:1" >/dev/null
	dk "$BH" pull -q "$ref" >/dev/null || die "h$BH: docker pull $ref failed"
	dk "$BH" rmi lab-scratch:1 >/dev/null
	# (The containerd store and Podman list a digest-only image's digest
	# reference among its RepoTags: count the tags proper.)
	[[ -z $(dk "$BH" image inspect -f '{{range .RepoTags}}{{.}}{{"\n"}}{{end}}' "$ref" | grep -v '@') ]] ||
		die "$ref: not digest-only on h$BH"
	mv "$SETDIR/digests.txt.tmp" "$SETDIR/digests.txt"
}

# registry_digest REGISTRY REPO TAG: the manifest digest the registry holds.
registry_digest() {
	local digest
	digest=$(curl -fsS -I \
		-H 'Accept: application/vnd.docker.distribution.manifest.v2+json' \
		-H 'Accept: application/vnd.oci.image.manifest.v1+json' \
		-H 'Accept: application/vnd.oci.image.index.v1+json' \
		-H 'Accept: application/vnd.docker.distribution.manifest.list.v2+json' \
		"http://$1/v2/$2/manifests/$3" | awk 'tolower($1) == "docker-content-digest:" {print $2}' | tr -d '\r')
	[[ $digest == sha256:* ]] || die "registry $1: no digest for $2:$3"
	printf '%s\n' "$digest"
}

# cbuild BYTES TAG...: legacy build FROM base:1 on host BH that COPYs one file
# of BYTES random bytes; the context (a tar on stdin) holds just the Dockerfile
# and that file. COPY needs no container, so it is faster than RUN.
cbuild() {
	local bytes=$1 ctx tags=() t name
	shift
	name=${1##*/}
	for t in "$@"; do tags+=(-t "$t"); done
	ctx=$(mktemp -d "$SETDIR/build/ctx.XXXXXX")
	head -c "$bytes" /dev/urandom >"$ctx/blob"
	printf 'FROM base:1\nCOPY blob /%s.bin\n' "${name%%:*}" >"$ctx/Dockerfile"
	tar -C "$ctx" -c Dockerfile blob |
		DOCKER_BUILDKIT=0 dk "$BH" build -q "${tags[@]}" - >/dev/null
	rm -rf "$ctx"
}

# lbuild DOCKERFILE_BODY TAG...: legacy build FROM base:1 on host 1, no context.
lbuild() {
	local body=$1 tags=() t
	shift
	for t in "$@"; do tags+=(-t "$t"); done
	printf 'FROM base:1\n%s\n' "$body" |
		DOCKER_BUILDKIT=0 dk "$BH" build -q --network none "${tags[@]}" - >/dev/null
}

# copy_libs BINARY TREE: a dynamic busybox needs its libraries in the image.
copy_libs() {
	local lib
	ldd "$1" >/dev/null 2>&1 || return 0 # static: nothing to do
	for lib in $(ldd "$1" | grep -o '/[^ ]*'); do
		mkdir -p "$2$(dirname "$lib")"
		cp -L "$lib" "$2$lib"
	done
}

# fingerprint I: one line per image: ID, Parent, tags and digest references.
# Equal on every seeded host.
# On a containerd26 host, also every name of containerd's image records: the
# store's hidden `moby-dangling@ID` records change what rmi and prune answer.
fingerprint() {
	local ids=()
	mapfile -t ids < <(dk "$1" images -aq --no-trunc | sort -u)
	((${#ids[@]})) || return 0
	dk "$1" image inspect -f '{{.Id}} {{if .Parent}}{{.Parent}}{{else}}-{{end}} {{range .RepoTags}}{{.}},{{end}}{{range .RepoDigests}}{{.}},{{end}}' "${ids[@]}" | sort
	if [[ $(host_kind "$1") == containerd26 ]]; then
		c8d_ctr "$1" images ls -q | sort | sed 's/^/record /'
	fi
}

# c8d_ctr I ARGS...: containerd's own client on host I's containerd (moby's namespace).
c8d_ctr() {
	local i=$1
	shift
	"$TRIXIE_ROOT/usr/bin/ctr" -a "$(hdir "$i")/x/containerd/containerd.sock" -n moby "$@"
}

# all_refs I: every tag and digest reference on host I, one a line.
all_refs() {
	local ids=()
	mapfile -t ids < <(dk "$1" images -aq --no-trunc | sort -u)
	((${#ids[@]})) || return 0
	dk "$1" image inspect -f '{{range .RepoTags}}{{.}}{{"\n"}}{{end}}{{range .RepoDigests}}{{.}}{{"\n"}}{{end}}' "${ids[@]}" | grep -v '^$' || true
}

# expected_refs: the references in the archive, one a line.
expected_refs() {
	cut -d' ' -f3 "$SETDIR/images.txt" | tr ',' '\n' | grep -v '^$' || true
}

# restore_digests I: pull by digest the digest references host I lacks (the
# images are there after the load, so only the manifest moves).
restore_digests() {
	local i=$1 ref missing=()
	mapfile -t missing < <(comm -13 <(all_refs "$i" | sort -u) <(cut -d' ' -f2 "$SETDIR/digests.txt" | sort -u))
	for ref in "${missing[@]}"; do
		dk "$i" pull -q "$ref" >/dev/null || die "h$i: docker pull $ref failed"
	done
}

# write_images_json: the image part of seed.json, from host 1.
write_images_json() {
	local ids=() id parent tags size layers created digests
	local -A psize=() haschild=()
	mapfile -t ids < <(dk "$BH" images -aq --no-trunc | sort -u)
	local rows
	rows=$(dk "$BH" image inspect -f '{{.Id}}|{{.Parent}}|{{range .RepoTags}}{{.}} {{end}}|{{.Size}}|{{json .RootFS.Layers}}|{{.Created}}|{{range .RepoDigests}}{{.}} {{end}}' "${ids[@]}")
	while IFS='|' read -r id parent tags size layers created digests; do
		psize[$id]=$size
		[[ -n $parent ]] && haschild[$parent]=1
	done <<<"$rows"
	{
		printf '  "tags": {\n'
		local first=1 t
		while read -r t id; do
			((first)) || printf ',\n'
			first=0
			printf '    "%s": "%s"' "$t" "$id"
		done < <(while IFS='|' read -r id parent tags size layers created digests; do
			for t in $tags; do printf '%s %s\n' "$t" "$id"; done
		done <<<"$rows" | sort)
		printf '\n  },\n  "registry": "%s",\n  "digests": {\n' "$(reg_addr)"
		first=1
		while read -r t ref; do
			((first)) || printf ',\n'
			first=0
			printf '    "%s": "%s"' "$t" "$ref"
		done <"$SETDIR/digests.txt"
		printf '\n  },\n  "images": [\n'
		first=1
		while IFS='|' read -r id parent tags size layers created digests; do
			local kind=tagged added=$size tj="" dj=""
			if [[ -z $tags ]]; then
				if [[ -n ${haschild[$id]:-} ]]; then
					kind=intermediate
				elif [[ -n $digests ]]; then
					kind=digest-only
				else
					kind=dangling
				fi
			fi
			[[ -n $parent ]] && added=$((size - psize[$parent]))
			for t in $tags; do tj+="${tj:+, }\"$t\""; done
			for t in $digests; do dj+="${dj:+, }\"$t\""; done
			((first)) || printf ',\n'
			first=0
			printf '    {"id": "%s", "parent": "%s", "kind": "%s", "tags": [%s], "digests": [%s], "size": %s, "added_bytes": %s, "created": "%s", "layers": %s}' \
				"$id" "$parent" "$kind" "$tj" "$dj" "$size" "$added" "$created" "$layers"
		done <<<"$rows"
		printf '\n  ],\n'
	} >"$SETDIR/images.json"
}

# ---------------------------------------------------------------- seeding

# load_into_empty I: remove every image of host I (no container may use one),
# then load the set's archive and pull its digests.
load_into_empty() {
	local i=$1 n=0 ids=()
	# Prune until empty: a tagged parent goes only once its children are gone.
	# (Podman 4.3 refuses prune -a: "dangling" given twice; remove by ID.)
	while mapfile -t ids < <(dk "$i" images -aq --no-trunc | sort -u) && ((${#ids[@]})); do
		((n++ < 5)) || die "h$i: images remain after 5 prunes: $(dk "$i" images -a)"
		if [[ $(host_kind "$i") == podman4 ]]; then
			dk "$i" rmi -f "${ids[@]}" >/dev/null 2>&1 || true
		else
			dk "$i" image prune -af >/dev/null
		fi
	done
	dk "$i" load -q -i "$SETDIR/images.tar" >/dev/null
	restore_digests "$i"
	c8d_after_load "$i"
}

# c8d_after_load I: on a containerd26 host, what a load leaves different from
# a fresh build. A test may have left an image of the set with a hidden
# `moby-dangling@ID` record next to its tags (e.g. after removing the last tag
# of a parent); load adds the tags back, so that record is dropped (the image
# keeps its other names: containerd frees nothing). Then every name of each
# image is labelled with its Parent as the builder had it (the store keeps
# Parent links as the label org.mobyproject.image.parent; load drops them).
c8d_after_load() {
	local i=$1 name target parent
	[[ -s $SETDIR/parents.txt ]] || return 0
	c8d_ctr "$i" images ls | awk 'NR > 1 {print $1, $3}' | sort >"$SETDIR/.records.$i"
	awk '{n[$2]++; r[NR] = $0} END {for (k in r) {split(r[k], f, " "); if (f[1] ~ /^moby-dangling@/ && n[f[2]] > 1) print f[1]}}' \
		"$SETDIR/.records.$i" | while read -r name; do
		c8d_ctr "$i" images rm "$name" >/dev/null
	done
	rm -f "$SETDIR/.records.$i"
	c8d_ctr "$i" images ls | awk 'NR > 1 {print $1, $3}' | while read -r name target; do
		parent=$(awk -v id="$target" '$1 == id {print $2}' "$SETDIR/parents.txt")
		[[ -z $parent ]] || c8d_ctr "$i" images label "$name" "org.mobyproject.image.parent=$parent" >/dev/null
	done
}

seed_one() { # seed_one I: reset host I to the standard seeded state of its kind
	local i=$1 t0 ids=() h
	h=$(hdir "$i")
	SETDIR=$(set_path "$(image_set "$(host_kind "$i")")")
	t0=$(now_ms)
	dockerd_pid "$i" >/dev/null || die "h$i: dockerd is not running (start-dockerd first)"
	mapfile -t ids < <(dk "$i" ps -aq)
	((${#ids[@]} == 0)) || dk "$i" rm -f "${ids[@]}" >/dev/null
	# Fast path: load over what is there (existing layers are not unpacked
	# again). If that gives exactly the archive's images, tags and Parent
	# links, the host is seeded; otherwise (extra images or tags) wipe it all
	# and load into an empty store.
	dk "$i" load -q -i "$SETDIR/images.tar" >/dev/null
	restore_digests "$i"
	c8d_after_load "$i"
	if ! diff -q <(fingerprint "$i") "$SETDIR/images.txt" >/dev/null; then
		# Next cheapest: remove the references and images the archive does
		# not have (a test's extra tag, a digest from a push, a new image).
		local extra=()
		mapfile -t extra < <(comm -23 <(all_refs "$i" | sort -u) <(expected_refs | sort -u))
		((${#extra[@]} == 0)) || dk "$i" rmi "${extra[@]}" >/dev/null 2>&1 || true
		mapfile -t extra < <(comm -23 <(dk "$i" images -aq --no-trunc | sort -u) <(cut -d' ' -f1 "$SETDIR/images.txt" | sort -u))
		((${#extra[@]} == 0)) || dk "$i" rmi -f "${extra[@]}" >/dev/null 2>&1 || true
	fi
	if ! diff -q <(fingerprint "$i") "$SETDIR/images.txt" >/dev/null; then
		log "h$i: not the archive's image set after a load; wiping it"
		load_into_empty "$i"
		if ! diff -q <(fingerprint "$i") "$SETDIR/images.txt" >/dev/null; then
			diff <(fingerprint "$i") "$SETDIR/images.txt" >&2 || true
			die "h$i: seeded images differ from the archive (IDs, Parent links, tags or digests)"
		fi
	fi
	dk "$i" run -d --network none --name running-1 run:1 sleep 1000000 >/dev/null
	dk "$i" create --network none --name stopped-1 stopped:1 >/dev/null
	dk "$i" inspect -f '{{.Name}}|{{.Id}}|{{.Config.Image}}|{{.Image}}|{{.State.Status}}' running-1 stopped-1 |
		sed 's#^/##' >"$h/containers.tsv.tmp"
	mv "$h/containers.tsv.tmp" "$h/containers.tsv"
	log "h$i: seeded in $(since "$t0")"
}

seed_hosts() { # seed_hosts I...: seed in parallel, SEED_JOBS at a time
	local i fail=0 done_pid
	local -A running=()
	for i in "$@"; do
		while ((${#running[@]} >= SEED_JOBS)); do
			wait -n -p done_pid "${!running[@]}" || fail=1
			unset "running[$done_pid]"
		done
		(seed_one "$i") &
		running[$!]=$i
	done
	while ((${#running[@]})); do
		wait -n -p done_pid "${!running[@]}" || fail=1
		unset "running[$done_pid]"
	done
	((fail == 0)) || die "seeding failed"
}

# used_sets: the image sets the lab's hosts use, one a line.
used_sets() {
	local kind
	for kind in $KINDS; do
		if [[ -n $(hosts_of_kind "$kind") ]]; then image_set "$kind"; fi
	done | awk '!seen[$0]++'
}

write_seed_json() {
	local n i tmp name id image imageid state first set
	n=$(host_count)
	tmp=$DIR/seed.json.tmp.$$
	{
		printf '{\n  "lab": "%s",\n  "archive": "%s/images.tar",\n' "$DIR" "$DIR"
		# The classic set at the top, as before engine kinds; every set below.
		[[ -r $DIR/images.json ]] && cat "$DIR/images.json"
		printf '  "engines": {'
		for ((i = 1; i <= n; i++)); do
			printf '%s"h%s": "%s"' "$([[ $i -gt 1 ]] && echo ', ')" "$i" "$(host_kind "$i")"
		done
		printf '},\n  "image_sets": {\n'
		first=1
		for set in $(used_sets); do
			((first)) || printf ',\n'
			first=0
			printf '    "%s": {\n  "archive": "%s/images.tar",\n' "$set" "$(set_path "$set")"
			sed '$ s/,$//' "$(set_path "$set")/images.json"
			printf '    }'
		done
		printf '\n  },\n  "containers": {\n'
		for ((i = 1; i <= n; i++)); do
			printf '    "h%s": [' "$i"
			first=1
			if [[ -r $DIR/h$i/containers.tsv ]]; then
				while IFS='|' read -r name id image imageid state; do
					((first)) || printf ', '
					first=0
					printf '\n      {"name": "%s", "id": "%s", "image": "%s", "image_id": "%s", "state": "%s"}' \
						"$name" "$id" "$image" "$imageid" "$state"
				done <"$DIR/h$i/containers.tsv"
			fi
			printf '\n    ]%s\n' "$([[ $i -lt $n ]] && echo ,)"
		done
		printf '  }\n}\n'
	} >"$tmp"
	mv "$tmp" "$DIR/seed.json"
}

# ---------------------------------------------------------------- files

write_host_files() { # write_host_files I ADDR KIND: engine config, sshd_config, host key
	local i=$1 addr=$2 kind=$3 h
	h=$(hdir "$i")
	mkdir -p "$h"
	write_engine_files "$i" "$kind" "${addr%.*}.$REG_HOST:$REG_PORT"
	ssh-keygen -q -t ed25519 -N '' -C "h$i" -f "$h/ssh_host_ed25519_key"
	cat >"$h/sshd_config" <<EOF
# fleetrmi lab host h$i
ListenAddress $addr:$SSH_PORT
HostKey $h/ssh_host_ed25519_key
PidFile $h/sshd.pid
AuthorizedKeysFile $DIR/id_ed25519.pub
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
# SHLVL=1 makes bash skip root's ~/.bashrc for remote commands (fair benchmarks);
# DOCKER_HOST lets the Docker CLI's own ssh:// transport reach this host's daemon.
SetEnv SHLVL=1 DOCKER_HOST=unix://$h/d.sock
Subsystem sftp internal-sftp
EOF
	mkdir -p /run/sshd && chmod 0755 /run/sshd # sshd -t checks it exists
	/usr/sbin/sshd -t -f "$h/sshd_config" || die "h$i: invalid sshd_config"
}

# write_engine_files I KIND REGISTRY: the configuration of host I's engine.
write_engine_files() {
	local i=$1 kind=$2 reg=$3 h
	h=$(hdir "$i")
	case $kind in
	classic20)
		# deprecated-key-path: otherwise every 20.10 daemon reports the same ID.
		cat >"$h/daemon.json" <<EOF
{
  "deprecated-key-path": "$h/key.json",
  "live-restore": true,
  "shutdown-timeout": 2,
  "log-level": "warn"
}
EOF
		;;
	classic26)
		# 26.1 keeps its ID in the data root (engine-id): nothing to set.
		cat >"$h/daemon.json" <<EOF
{
  "live-restore": true,
  "shutdown-timeout": 2,
  "log-level": "warn"
}
EOF
		;;
	containerd26)
		# No storage-driver: under this store it names the snapshotter.
		cat >"$h/daemon.json" <<EOF
{
  "features": {"containerd-snapshotter": true},
  "live-restore": true,
  "shutdown-timeout": 2,
  "log-level": "warn"
}
EOF
		cat >"$h/containerd.toml" <<EOF
# containerd of fleetrmi lab host h$i (dockerd's image store); no CRI.
version = 2
root = "$h/data/containerd/daemon"
state = "$h/x/containerd/daemon"
disabled_plugins = ["io.containerd.grpc.v1.cri"]
[grpc]
  address = "$h/x/containerd/containerd.sock"
[ttrpc]
  address = "$h/x/containerd/containerd.sock.ttrpc"
[debug]
  address = "$h/x/containerd/containerd-debug.sock"
  level = "warn"
[plugins."io.containerd.internal.v1.opt"]
  path = "$h/data/containerd/opt"
EOF
		;;
	podman4)
		# The ulimits: runc cannot raise them past this machine's limits.
		cat >"$h/containers.conf" <<EOF
# Podman of fleetrmi lab host h$i
[containers]
default_ulimits = ["nofile=10000:10000", "nproc=4096:4096"]
[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
events_logfile_path = "$h/x/events.log"
tmp_dir = "$h/x/tmp"
[network]
network_config_dir = "$h/net"
EOF
		cat >"$h/registries.conf" <<EOF
# Podman of fleetrmi lab host h$i: only the lab's plain-HTTP registry
unqualified-search-registries = ["docker.io"]
[[registry]]
location = "$reg"
insecure = true
EOF
		;;
	*) die "unknown engine kind '$kind' (kinds: $KINDS)" ;;
	esac
}

write_lab_files() { # write_lab_files N NET (kinds from HOST_KINDS)
	local n=$1 net=$2 i addr h kt key kind
	: >"$DIR/known_hosts.tmp"
	: >"$DIR/hosts.tsv.tmp"
	{
		printf 'all:\n  vars:\n    ansible_user: root\n    ansible_port: %s\n' "$SSH_PORT"
		printf '    ansible_ssh_private_key_file: %s/id_ed25519\n' "$DIR"
		printf '  children:\n    lab:\n      hosts:\n'
		for ((i = 1; i <= n; i++)); do
			printf '        h%s:\n          ansible_host: %s.%s\n          docker_socket: %s\n          lab_engine: %s\n' \
				"$i" "$net" "$i" "$(dsock "$i")" "${HOST_KINDS[i]}"
		done
		# One group per engine kind present, named after it.
		for kind in $KINDS; do
			[[ " ${HOST_KINDS[*]} " == *" $kind "* ]] || continue
			printf '    %s:\n      hosts:\n' "$kind"
			for ((i = 1; i <= n; i++)); do
				if [[ ${HOST_KINDS[i]} == "$kind" ]]; then printf "        h%s:\n" "$i"; fi
			done
		done
	} >"$DIR/inventory.yaml"
	: >"$DIR/ssh_config"
	for ((i = 1; i <= n; i++)); do
		addr=$net.$i
		h=$(hdir "$i")
		read -r kt key _ <"$h/ssh_host_ed25519_key.pub"
		printf '[%s]:%s %s %s\n' "$addr" "$SSH_PORT" "$kt" "$key" >>"$DIR/known_hosts.tmp"
		printf 'h%s\t%s\t%s\t%s\t%s\t%s\n' "$i" "$addr" "$SSH_PORT" "$(dsock "$i")" "$h/data" "${HOST_KINDS[i]}" >>"$DIR/hosts.tsv.tmp"
		cat >>"$DIR/ssh_config" <<EOF
Host h$i
  HostName $addr
  Port $SSH_PORT
  User root
  IdentityFile $DIR/id_ed25519
  IdentitiesOnly yes
  UserKnownHostsFile $DIR/known_hosts
  GlobalKnownHostsFile /dev/null
  StrictHostKeyChecking yes
  BatchMode yes
  LogLevel ERROR

EOF
	done
	mv "$DIR/known_hosts.tmp" "$DIR/known_hosts"
	mv "$DIR/hosts.tsv.tmp" "$DIR/hosts.tsv"
	mkdir -p "$DIR/bin"
	# shellcheck disable=SC2016 # "$@" is for the wrapper, not for us
	printf '#!/bin/sh\nexec /usr/bin/ssh -F %s/ssh_config "$@"\n' "$DIR" >"$DIR/bin/ssh"
	chmod 0755 "$DIR/bin/ssh"
}

# pick_net N: the first 127.0.X (X from 1) where none of X.1..X.N is taken
# by a listener on the ssh port or by another live lab.
pick_net() {
	local n=$1 x i taken claimed
	tcp_listening 0.0.0.0 "$SSH_PORT" && die "something listens on *:$SSH_PORT; the lab needs 127.0.X.I:$SSH_PORT"
	claimed=$(cat "$LAB_ROOT"/*/hosts.tsv 2>/dev/null | cut -f2 || true)
	for ((x = 1; x <= 254; x++)); do
		taken=0
		for ((i = 1; i <= n; i++)); do
			if tcp_listening "127.0.$x.$i" "$SSH_PORT" || grep -qx "127.0.$x.$i" <<<"$claimed"; then
				taken=1
				break
			fi
		done
		tcp_listening "127.0.$x.$REG_HOST" "$REG_PORT" && taken=1
		((taken)) || {
			printf '127.0.%s\n' "$x"
			return 0
		}
	done
	die "no free 127.0.X.1-$n block for sshd"
}

# ---------------------------------------------------------------- commands

cmd_install() {
	local pkgs=()
	command -v dockerd >/dev/null && command -v docker >/dev/null && command -v containerd >/dev/null ||
		pkgs+=(docker.io)
	[[ -x /usr/sbin/sshd && -x /usr/bin/ssh ]] && command -v ssh-keygen >/dev/null || pkgs+=(openssh-server)
	command -v busybox >/dev/null || pkgs+=(busybox-static)
	[[ -x /usr/bin/docker-registry ]] || pkgs+=(docker-registry) # digests: push, pull by digest
	command -v sudo >/dev/null || pkgs+=(sudo)     # tests: the become (sudo -n) transport
	command -v pgrep >/dev/null || pkgs+=(procps)  # tests: finding sshd session processes
	command -v curl >/dev/null || pkgs+=(curl)      # the registry's digests
	if [[ $(cat /sys/module/apparmor/parameters/enabled 2>/dev/null) == Y ]] &&
		! command -v apparmor_parser >/dev/null; then
		pkgs+=(apparmor) # dockerd loads its container profile with it
	fi
	command -v podman >/dev/null || pkgs+=(podman) # engine kind podman4
	if ((${#pkgs[@]})); then
		log "installing ${pkgs[*]}"
		export DEBIAN_FRONTEND=noninteractive
		apt-get update -qq >&2
		apt-get install -y -qq --no-install-recommends "${pkgs[@]}" >&2
	fi
	fetch_trixie_engines
}

# debian_uri: the URI of the machine's configured Debian archive (the first
# URIs line of a deb822 source, else the first `deb` line), read at run time.
debian_uri() {
	local f uri=""
	for f in /etc/apt/sources.list.d/*.sources; do
		[[ -r $f ]] || continue
		uri=$(awk '/^URIs:/ {for (i = 2; i <= NF; i++) if ($i ~ /\/debian\/?$/) {print $i; exit}}' "$f")
		[[ -n $uri ]] && break
	done
	if [[ -z $uri ]]; then
		uri=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null |
			awk '$1 == "deb" {for (i = 2; i <= NF; i++) if ($i ~ /\/debian\/?$/) {print $i; exit}}')
	fi
	[[ -n $uri ]] || die "no Debian archive URI in /etc/apt/sources.list.d/*.sources or sources.list"
	printf '%s\n' "${uri%/}"
}

# fetch_trixie_engines: Debian 13's docker.io (dockerd 26.1) and containerd
# (1.7), downloaded with apt-get through a private sources list and unpacked
# into TRIXIE_ROOT; never installed system-wide. Quick when already there.
fetch_trixie_engines() {
	local root=$TRIXIE_ROOT cache=$ENGINE_CACHE/trixie-apt apt_opts=() deb
	if [[ -x $root/usr/sbin/dockerd && -x $root/usr/bin/containerd && -x $root/usr/bin/containerd-shim-runc-v2 ]]; then
		return 0
	fi
	log "fetching Debian 13 docker.io and containerd into $ENGINE_CACHE"
	mkdir -p "$cache/lists/partial" "$cache/archives/partial"
	printf 'deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] %s trixie main\n' \
		"$(debian_uri)" >"$cache/trixie.list"
	apt_opts=(-o "Dir::Etc::sourcelist=$cache/trixie.list" -o Dir::Etc::sourceparts=-
		-o "Dir::State::Lists=$cache/lists" -o "Dir::Cache::archives=$cache/archives"
		-o APT::Get::List-Cleanup=0 -o APT::Sandbox::User=root)
	apt-get -qq "${apt_opts[@]}" update >&2
	rm -f "$cache"/*.deb
	(cd "$cache" && apt-get -qq "${apt_opts[@]}" download docker.io containerd >&2)
	rm -rf "$root.tmp"
	mkdir -p "$root.tmp"
	for deb in "$cache"/docker.io_*.deb "$cache"/containerd_*.deb; do
		[[ -e $deb ]] || die "apt-get download left no $deb"
		dpkg-deb -x "$deb" "$root.tmp"
	done
	rm -rf "$root"
	mv "$root.tmp" "$root"
	rm -rf "$cache/lists" "$cache"/*.deb
	log "Debian 13 engines in $root: dockerd $("$root/usr/sbin/dockerd" --version | awk '{print $3}' | tr -d ,), containerd $("$root/usr/bin/containerd" --version | awk '{print $3}')"
}

# HOST_KINDS[I]: the engine kind of host I (set by `up` from its options).
HOST_KINDS=()

# set_kinds N "KIND..." "I=KIND..." : fills HOST_KINDS for hosts 1..N: the
# list first (host by host), then the single assignments; classic20 elsewhere.
set_kinds() {
	local n=$1 list=() one i k
	read -r -a list <<<"$2"
	((${#list[@]} <= n)) || die "--kinds names ${#list[@]} kinds for $n hosts"
	HOST_KINDS=()
	for ((i = 1; i <= n; i++)); do HOST_KINDS[i]=${list[i - 1]:-classic20}; done
	for one in $3; do
		i=${one%%=*} k=${one#*=}
		[[ $one == *=* && $i =~ ^[0-9]+$ ]] && ((i >= 1 && i <= n)) ||
			die "--kind $one: expected I=KIND with I in 1..$n"
		HOST_KINDS[i]=$k
	done
	for ((i = 1; i <= n; i++)); do
		[[ " $KINDS " == *" ${HOST_KINDS[i]} "* ]] ||
			die "h$i: unknown engine kind '${HOST_KINDS[i]}' (kinds: $KINDS)"
	done
	if [[ " ${HOST_KINDS[*]} " =~ \ (classic26|containerd26)\  ]]; then
		[[ -x $TRIXIE_ROOT/usr/sbin/dockerd && -x $TRIXIE_ROOT/usr/bin/containerd ]] ||
			die "dockerd 26.1 is not in $TRIXIE_ROOT: run lab/lab.sh install"
	fi
	if [[ " ${HOST_KINDS[*]} " == *" podman4 "* ]]; then
		command -v podman >/dev/null || die "podman not found: run lab/lab.sh install"
	fi
}

# build_sets: every image set the lab uses, each on the first host of the
# first kind using it, the sets in parallel (each on its own engine).
build_sets() {
	local set kind first pids=() rc=0 p
	for set in $(used_sets); do
		for kind in $KINDS; do
			[[ $(image_set "$kind") == "$set" ]] || continue
			first=$(hosts_of_kind "$kind" | head -n 1)
			[[ -n $first ]] && break
		done
		(build_images "$set" "$first") &
		pids+=($!)
	done
	for p in "${pids[@]}"; do wait "$p" || rc=1; done
	((rc == 0)) || die "building the image sets failed"
}

cmd_up() {
	local n="" dir="" watch="" net="" t0 i c kinds="" kind_args=""
	while (($#)); do
		case $1 in
		--hosts) n=${2:-} && shift 2 ;;
		--kinds) kinds=${2:-} && shift 2 ;;
		--kind) kind_args+=" ${2:-}" && shift 2 ;;
		--dir) dir=${2:-} && shift 2 ;;
		--watch) watch=${2:-} && shift 2 ;;
		--net) net=${2:-} && shift 2 ;;
		*) usage ;;
		esac
	done
	if ! [[ $n =~ ^[0-9]+$ ]] || ((n < 1 || n > 254)); then
		die "--hosts N: N must be 1..254"
	fi
	[[ -z $watch || $watch =~ ^[0-9]+$ ]] || die "--watch PID: not a pid: $watch"
	[[ -z $net || $net =~ ^127\.[0-9]+\.[0-9]+$ ]] || die "--net: expected 127.X.Y, got $net"
	set_kinds "$n" "$kinds" "$kind_args"
	for c in dockerd docker containerd ssh-keygen busybox; do
		command -v "$c" >/dev/null || die "$c not found: run lab/lab.sh install"
	done
	[[ -x /usr/bin/docker-registry ]] || die "/usr/bin/docker-registry not found: run lab/lab.sh install"
	[[ -x /usr/sbin/sshd ]] || die "/usr/sbin/sshd not found: run lab/lab.sh install"
	[[ -S /run/containerd/containerd.sock ]] &&
		log "warning: a system containerd runs; dockerd 20.10 then uses it instead of its own"
	t0=$(now_ms)
	exec 3>&1 1>&2 # stdout carries only the lab directory, at the end
	mkdir -p "$LAB_ROOT"
	exec 9>"$LAB_ROOT/.lock"
	flock 9
	if [[ -n $dir ]]; then
		DIR=$(readlink -m "$dir")
		((${#DIR} <= 60)) || die "$DIR: too long (unix socket paths under it must fit 108 bytes)"
		if [[ -e $DIR ]]; then
			[[ -d $DIR && -z $(ls -A "$DIR") ]] || die "$DIR exists and is not empty"
		fi
		mkdir -p "$DIR"
	else
		DIR=$(mktemp -d "$LAB_ROOT/XXXXXX")
	fi
	echo "fleetrmi lab, made by lab/lab.sh up" >"$DIR/$MARKER"
	echo $$ >"$DIR/up.pid"
	trap 'up_failed' EXIT
	trap 'exit 130' INT TERM
	if [[ -n $watch ]]; then
		# Started first, so that a watcher that dies while we are still
		# starting the lab gets it cleaned up too (the reaper waits for us).
		setsid -f bash "$SCRIPT" _reap "$DIR" "$watch" </dev/null >>"$DIR/reaper.log" 2>&1 3>&- 9>&-
		local deadline=$(($(now_ms) + 5000))
		until [[ -s $DIR/reaper.pid ]]; do
			(($(now_ms) < deadline)) || die "the reaper did not start"
			sleep 0.02
		done
	fi
	cleanup_stale
	[[ -n $net ]] || net=$(pick_net "$n")
	log "lab $DIR: $n hosts on $net.1-$n:$SSH_PORT ($(printf '%s\n' "${HOST_KINDS[@]}" | sort | uniq -c | awk '{printf "%s%s×%s", (NR > 1 ? ", " : ""), $1, $2}'))"
	ssh-keygen -q -t ed25519 -N '' -C "fleetrmi-lab" -f "$DIR/id_ed25519"
	for ((i = 1; i <= n; i++)); do write_host_files "$i" "$net.$i" "${HOST_KINDS[i]}"; done
	write_lab_files "$n" "$net"
	for ((i = 1; i <= n; i++)); do start_dockerd "$i"; done
	for ((i = 1; i <= n; i++)); do start_sshd "$i"; done
	start_registry
	flock -u 9 # addresses are now held by our listeners
	exec 9>&-
	local t1
	t1=$(now_ms)
	for ((i = 1; i <= n; i++)); do wait_dockerd "$i"; done
	log "started $n engines + sshd and the registry in $(since "$t0") (dockerd ready $(since "$t1") after the last start)"
	build_sets
	t1=$(now_ms)
	local all=()
	mapfile -t all < <(seq 1 "$n")
	seed_hosts "${all[@]}"
	write_seed_json
	log "seeded $n hosts in $(since "$t1")"
	rm -f "$DIR/up.pid"
	trap - EXIT INT TERM
	log "up: $n hosts ready in $(since "$t0")"
	printf '%s\n' "$DIR" >&3
}

up_failed() {
	local rc=$?
	trap - EXIT
	if [[ -n ${FRL_KEEP_FAILED:-} ]]; then # to look at what failed; `down DIR` when done
		log "up failed (exit $rc); kept $DIR (FRL_KEEP_FAILED)"
		exit "$rc"
	fi
	log "up failed (exit $rc); tearing down $DIR"
	rm -f "$DIR/up.pid"
	teardown "$DIR" || true
	exit "$rc"
}

# proc_start PID: the process's start time (tells a recycled pid apart).
proc_start() {
	local stat f
	stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 0
	read -r -a f <<<"${stat##*) }"
	printf '%s\n' "${f[19]}"
}

cmd_reap() { # _reap DIR PID: run `down DIR` once PID has exited
	local dir=$1 pid=$2 start
	echo $$ >"$dir/reaper.pid"
	start=$(proc_start "$pid")
	while [[ -d $dir ]] && proc_alive "$pid" && [[ $(proc_start "$pid") == "$start" ]]; do
		sleep 0.5
	done
	# If `up` is still running, let it finish (or fail and clean up itself).
	while [[ -d $dir ]] && pid_from "$dir/up.pid" lab.sh >/dev/null; do
		sleep 0.5
	done
	[[ -d $dir ]] || exit 0
	log "$(date -Is) watched pid $pid is gone: down $dir"
	exec bash "$SCRIPT" down "$dir"
}

cmd_down() {
	[[ -n ${1:-} ]] || usage
	DIR=$(readlink -m "$1")
	[[ -e $DIR ]] || return 0
	[[ -e $DIR/$MARKER ]] || die "$DIR: not a lab directory (no $MARKER); not touching it"
	local t0
	t0=$(now_ms)
	teardown "$DIR"
	log "down $DIR in $(since "$t0")"
}

cmd_seed() {
	set_dir "${1:-}"
	shift
	(($#)) || usage
	local i t0
	for i in "$@"; do check_host "$i"; done
	t0=$(now_ms)
	seed_hosts "$@"
	exec 8>"$DIR/.seed.lock"
	flock 8
	write_seed_json
	log "seeded $# host(s) in $(since "$t0")"
}

cmd_status() {
	set_dir "${1:-}"
	local n i s d
	n=$(host_count)
	for ((i = 1; i <= n; i++)); do
		s=down d=down
		sshd_pid "$i" >/dev/null && s=up
		dockerd_pid "$i" >/dev/null && [[ -S $(dsock "$i") ]] && d=up
		printf 'h%s\t%s:%s\tsshd=%s\tdockerd=%s\n' "$i" "$(host_addr "$i")" "$SSH_PORT" "$s" "$d"
	done
}

cmd_fault() { # cmd_fault ACTION DIR I
	local action=$1
	set_dir "${2:-}"
	[[ -n ${3:-} ]] || usage
	check_host "$3"
	case $action in
	stop-sshd) stop_sshd "$3" ;;
	start-sshd) start_sshd "$3" ;;
	stop-dockerd) stop_dockerd "$3" ;;
	start-dockerd)
		start_dockerd "$3"
		wait_dockerd "$3"
		;;
	stop-sftp) set_sftp "$3" off ;;
	start-sftp) set_sftp "$3" on ;;
	esac
}

main() {
	local cmd=${1:-}
	(($#)) && shift
	case $cmd in
	install) cmd_install "$@" ;;
	up) cmd_up "$@" ;;
	down) cmd_down "$@" ;;
	seed) cmd_seed "$@" ;;
	status) cmd_status "$@" ;;
	stop-sshd | start-sshd | stop-dockerd | start-dockerd | stop-sftp | start-sftp) cmd_fault "$cmd" "$@" ;;
	_reap) cmd_reap "$@" ;;
	*) usage ;;
	esac
}

main "$@"
