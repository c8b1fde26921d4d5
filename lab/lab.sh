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
       lab/lab.sh up --hosts N [--dir DIR] [--watch PID] [--net 127.0.X]
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

start_dockerd() { # start_dockerd I (returns at once; see wait_dockerd)
	local i=$1 h
	h=$(hdir "$i")
	if dockerd_pid "$i" >/dev/null; then
		log "h$i: dockerd already running"
		return 0
	fi
	rm -f "$h/d.pid" # stale: dockerd refuses a pidfile naming a live process
	# The daemon answers on its own socket only; no bridge, no iptables, so
	# many daemons can run side by side. Live restore keeps containers running
	# across stop-dockerd/start-dockerd (and makes stopping dockerd fast).
	setsid -f dockerd \
		--config-file "$h/daemon.json" \
		-H "unix://$h/d.sock" \
		--data-root "$h/data" \
		--exec-root "$h/x" \
		--pidfile "$h/d.pid" \
		--bridge=none --iptables=false --ip-masq=false --ip-forward=false \
		</dev/null >>"$h/d.log" 2>&1 3>&- 9>&-
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
	local r=$DIR/registry addr deadline
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
	# The bash writes its own pid, then becomes the registry.
	# shellcheck disable=SC2016 # $$ and $1 are for that bash
	setsid -f bash -c 'echo $$ >"$1/registry.pid"; exec /usr/bin/docker-registry serve "$1/config.yml"' \
		_ "$r" </dev/null >>"$r/registry.log" 2>&1 3>&- 9>&-
	deadline=$(($(now_ms) + 10000))
	until tcp_listening "${addr%:*}" "$REG_PORT" && registry_pid >/dev/null; do
		if (($(now_ms) > deadline)); then
			tail -n 5 "$r/registry.log" >&2 || true
			die "the registry did not listen on $addr within 10s"
		fi
		sleep 0.05
	done
}

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
# containerd bundle, checked against the container's cgroup).
container_pids() {
	local f p id
	for f in "$1"/h*/x/containerd/daemon/io.containerd.runtime.v2.task/*/*/init.pid; do
		[[ -e $f ]] || continue
		p=$(tr -dc '0-9' 2>/dev/null <"$f") || continue
		[[ -n $p ]] || continue
		proc_alive "$p" || continue
		id=$(basename "$(dirname "$f")")
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
		containerd-shim* | containerd | dockerd | sshd | runc | docker-registry) ;;
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
	for f in "$d"/h*/data/containers/*; do
		[[ -d $f ]] || continue
		i=$(basename "$f")
		rmdir /sys/fs/cgroup/*/docker/"$i" /sys/fs/cgroup/docker/"$i" 2>/dev/null || true
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
build_images() { # on host 1; also writes the archive and the expected fingerprint
	local work=$DIR/build tree t0
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
	dk 1 import -m "fleetrmi lab base" -c 'CMD ["sh"]' "$work/base.tar" base:1 >/dev/null
	# shared:1, shared:2: two imports of one tar (one layer, no parent link).
	head -c 512000 /dev/urandom >"$work/shared/shared.bin"
	tar -C "$work/shared" -cf "$work/shared.tar" .
	dk 1 import -m "shared 1" "$work/shared.tar" shared:1 >/dev/null
	dk 1 import -m "shared 2" "$work/shared.tar" shared:2 >/dev/null
	# unique:1: an import with a layer of its own.
	head -c 358400 /dev/urandom >"$work/unique/unique.bin"
	tar -C "$work/unique" -cf "$work/unique.tar" .
	dk 1 import -m "unique 1" "$work/unique.tar" unique:1 >/dev/null
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
		lbuild "RUN dd if=/dev/urandom of=/run bs=1024 count=50" run:1
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
	log "built the image set on h1 in $(since "$t0")"
	# Save everything: every tag, and every image by ID (intermediates and the
	# dangling image too), so that load keeps the Parent links.
	t0=$(now_ms)
	local refs=() ids=()
	mapfile -t refs < <(dk 1 images --format '{{.Repository}}:{{.Tag}}' | grep -v '<none>')
	mapfile -t ids < <(dk 1 images -aq --no-trunc | sort -u)
	dk 1 save -o "$DIR/images.tar" "${refs[@]}" "${ids[@]}"
	fingerprint 1 >"$DIR/images.txt"
	write_images_json
	rm -rf "$work"
	log "saved $(wc -l <"$DIR/images.txt") images ($(du -k "$DIR/images.tar" | cut -f1) KiB) in $(since "$t0")"
}

# build_digest_images: two images pushed to the lab's registry, so that they
# have digests; dgonly then loses its tag (present only by digest, saved by ID).
# Writes DIR/digests.txt: NAME REPO@DIGEST, which `seed` pulls on every host.
build_digest_images() {
	local reg name ref
	reg=$(reg_addr)
	cbuild 92160 "$reg/dg:1"
	cbuild 97280 "$reg/dgonly:1"
	: >"$DIR/digests.txt.tmp"
	for name in dg:1 dgonly:1; do
		dk 1 push -q "$reg/$name" >/dev/null || die "push $reg/$name failed (log: $DIR/registry/registry.log)"
		ref=$(dk 1 image inspect -f '{{range .RepoDigests}}{{.}}{{end}}' "$reg/$name")
		[[ $ref == "$reg/${name%%:*}@sha256:"* ]] || die "$reg/$name: unexpected RepoDigests after push: '$ref'"
		printf '%s %s\n' "$name" "$ref" >>"$DIR/digests.txt.tmp"
	done
	# Untagging the last tag of a repository drops that repository's digests too
	# (and so deletes the image): hold the image with a scratch tag meanwhile,
	# pull the digest back, then drop the scratch tag (another repository).
	ref=$(awk '$1 == "dgonly:1" {print $2}' "$DIR/digests.txt.tmp")
	dk 1 tag "$reg/dgonly:1" lab-scratch:1
	dk 1 rmi "$reg/dgonly:1" >/dev/null
	dk 1 pull -q "$ref" >/dev/null || die "h1: docker pull $ref failed"
	dk 1 rmi lab-scratch:1 >/dev/null
	[[ $(dk 1 image inspect -f '{{len .RepoTags}} {{range .RepoDigests}}{{.}}{{end}}' "$ref") == "0 $ref" ]] ||
		die "$ref: not digest-only on h1"
	mv "$DIR/digests.txt.tmp" "$DIR/digests.txt"
}

# cbuild BYTES TAG...: legacy build FROM base:1 on host 1 that COPYs one file
# of BYTES random bytes; the context (a tar on stdin) holds just the Dockerfile
# and that file. COPY needs no container, so it is faster than RUN.
cbuild() {
	local bytes=$1 ctx tags=() t name
	shift
	name=${1##*/}
	for t in "$@"; do tags+=(-t "$t"); done
	ctx=$(mktemp -d "$DIR/build/ctx.XXXXXX")
	head -c "$bytes" /dev/urandom >"$ctx/blob"
	printf 'FROM base:1\nCOPY blob /%s.bin\n' "${name%%:*}" >"$ctx/Dockerfile"
	tar -C "$ctx" -c Dockerfile blob |
		DOCKER_BUILDKIT=0 dk 1 build -q "${tags[@]}" - >/dev/null
	rm -rf "$ctx"
}

# lbuild DOCKERFILE_BODY TAG...: legacy build FROM base:1 on host 1, no context.
lbuild() {
	local body=$1 tags=() t
	shift
	for t in "$@"; do tags+=(-t "$t"); done
	printf 'FROM base:1\n%s\n' "$body" |
		DOCKER_BUILDKIT=0 dk 1 build -q --network none "${tags[@]}" - >/dev/null
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
fingerprint() {
	local ids=()
	mapfile -t ids < <(dk "$1" images -aq --no-trunc | sort -u)
	((${#ids[@]})) || return 0
	dk "$1" image inspect -f '{{.Id}} {{if .Parent}}{{.Parent}}{{else}}-{{end}} {{range .RepoTags}}{{.}},{{end}}{{range .RepoDigests}}{{.}},{{end}}' "${ids[@]}" | sort
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
	cut -d' ' -f3 "$DIR/images.txt" | tr ',' '\n' | grep -v '^$' || true
}

# restore_digests I: pull by digest the digest references host I lacks (the
# images are there after the load, so only the manifest moves).
restore_digests() {
	local i=$1 ref missing=()
	mapfile -t missing < <(comm -13 <(all_refs "$i" | sort -u) <(expected_refs | grep '@' | sort -u))
	for ref in "${missing[@]}"; do
		dk "$i" pull -q "$ref" >/dev/null || die "h$i: docker pull $ref failed"
	done
}

# write_images_json: the image part of seed.json, from host 1.
write_images_json() {
	local ids=() id parent tags size layers created digests
	local -A psize=() haschild=()
	mapfile -t ids < <(dk 1 images -aq --no-trunc | sort -u)
	local rows
	rows=$(dk 1 image inspect -f '{{.Id}}|{{.Parent}}|{{range .RepoTags}}{{.}} {{end}}|{{.Size}}|{{json .RootFS.Layers}}|{{.Created}}|{{range .RepoDigests}}{{.}} {{end}}' "${ids[@]}")
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
		done <"$DIR/digests.txt"
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
	} >"$DIR/images.json"
}

# ---------------------------------------------------------------- seeding

seed_one() { # seed_one I: reset host I to the standard seeded state
	local i=$1 t0 ids=() n=0 h
	h=$(hdir "$i")
	t0=$(now_ms)
	dockerd_pid "$i" >/dev/null || die "h$i: dockerd is not running (start-dockerd first)"
	mapfile -t ids < <(dk "$i" ps -aq)
	((${#ids[@]} == 0)) || dk "$i" rm -f "${ids[@]}" >/dev/null
	# Fast path: load over what is there (existing layers are not unpacked
	# again). If that gives exactly the archive's images, tags and Parent
	# links, the host is seeded; otherwise (extra images or tags) wipe it all
	# and load into an empty store.
	dk "$i" load -q -i "$DIR/images.tar" >/dev/null
	restore_digests "$i"
	if ! diff -q <(fingerprint "$i") "$DIR/images.txt" >/dev/null; then
		# Next cheapest: remove the references and images the archive does
		# not have (a test's extra tag, a digest from a push, a new image).
		local extra=()
		mapfile -t extra < <(comm -23 <(all_refs "$i" | sort -u) <(expected_refs | sort -u))
		((${#extra[@]} == 0)) || dk "$i" rmi "${extra[@]}" >/dev/null 2>&1 || true
		mapfile -t extra < <(comm -23 <(dk "$i" images -aq --no-trunc | sort -u) <(cut -d' ' -f1 "$DIR/images.txt" | sort -u))
		((${#extra[@]} == 0)) || dk "$i" rmi -f "${extra[@]}" >/dev/null 2>&1 || true
	fi
	if ! diff -q <(fingerprint "$i") "$DIR/images.txt" >/dev/null; then
		log "h$i: not the archive's image set after a load; wiping it"
		# Prune until empty: a tagged parent goes only once its children are gone.
		while [[ -n $(dk "$i" images -aq) ]]; do
			((n++ < 5)) || die "h$i: images remain after 5 prunes: $(dk "$i" images -a)"
			dk "$i" image prune -af >/dev/null
		done
		dk "$i" load -q -i "$DIR/images.tar" >/dev/null
		restore_digests "$i"
		if ! diff -q <(fingerprint "$i") "$DIR/images.txt" >/dev/null; then
			diff <(fingerprint "$i") "$DIR/images.txt" >&2 || true
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

write_seed_json() {
	local n i tmp name id image imageid state first
	n=$(host_count)
	tmp=$DIR/seed.json.tmp.$$
	{
		printf '{\n  "lab": "%s",\n  "archive": "%s/images.tar",\n' "$DIR" "$DIR"
		cat "$DIR/images.json"
		printf '  "containers": {\n'
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

write_host_files() { # write_host_files I ADDR: daemon.json, sshd_config, host key
	local i=$1 addr=$2 h
	h=$(hdir "$i")
	mkdir -p "$h"
	cat >"$h/daemon.json" <<EOF
{
  "deprecated-key-path": "$h/key.json",
  "live-restore": true,
  "shutdown-timeout": 2,
  "log-level": "warn"
}
EOF
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
	/usr/sbin/sshd -t -f "$h/sshd_config" || die "h$i: invalid sshd_config"
}

write_lab_files() { # write_lab_files N NET
	local n=$1 net=$2 i addr h kt key
	: >"$DIR/known_hosts.tmp"
	: >"$DIR/hosts.tsv.tmp"
	{
		printf 'all:\n  vars:\n    ansible_user: root\n    ansible_port: %s\n' "$SSH_PORT"
		printf '    ansible_ssh_private_key_file: %s/id_ed25519\n' "$DIR"
		printf '  children:\n    lab:\n      hosts:\n'
		for ((i = 1; i <= n; i++)); do
			printf '        h%s:\n          ansible_host: %s.%s\n          docker_socket: %s\n' \
				"$i" "$net" "$i" "$(dsock "$i")"
		done
	} >"$DIR/inventory.yaml"
	: >"$DIR/ssh_config"
	for ((i = 1; i <= n; i++)); do
		addr=$net.$i
		h=$(hdir "$i")
		read -r kt key _ <"$h/ssh_host_ed25519_key.pub"
		printf '[%s]:%s %s %s\n' "$addr" "$SSH_PORT" "$kt" "$key" >>"$DIR/known_hosts.tmp"
		printf 'h%s\t%s\t%s\t%s\t%s\n' "$i" "$addr" "$SSH_PORT" "$(dsock "$i")" "$h/data" >>"$DIR/hosts.tsv.tmp"
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
	if [[ $(cat /sys/module/apparmor/parameters/enabled 2>/dev/null) == Y ]] &&
		! command -v apparmor_parser >/dev/null; then
		pkgs+=(apparmor) # dockerd loads its container profile with it
	fi
	((${#pkgs[@]})) || return 0
	log "installing ${pkgs[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq >&2
	apt-get install -y -qq --no-install-recommends "${pkgs[@]}" >&2
}

cmd_up() {
	local n="" dir="" watch="" net="" t0 i c
	while (($#)); do
		case $1 in
		--hosts) n=${2:-} && shift 2 ;;
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
	log "lab $DIR: $n hosts on $net.1-$n:$SSH_PORT"
	ssh-keygen -q -t ed25519 -N '' -C "fleetrmi-lab" -f "$DIR/id_ed25519"
	for ((i = 1; i <= n; i++)); do write_host_files "$i" "$net.$i"; done
	write_lab_files "$n" "$net"
	for ((i = 1; i <= n; i++)); do start_dockerd "$i"; done
	for ((i = 1; i <= n; i++)); do start_sshd "$i"; done
	start_registry
	flock -u 9 # addresses are now held by our listeners
	exec 9>&-
	local t1
	t1=$(now_ms)
	for ((i = 1; i <= n; i++)); do wait_dockerd "$i"; done
	log "started $n dockerd + sshd and the registry in $(since "$t0") (dockerd ready $(since "$t1") after the last start)"
	build_images
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
