#!/usr/bin/env bash
# Installs fleetrmi as a bastion would and checks it works: scripts/dist.sh builds the static
# binary and the .deb; the static binary must be static (ldd) and run the demo purge on a lab;
# the .deb is installed with dpkg -i, its binary must say its version and commit, its man pages
# must be found by `man -w`, its completions must load, and it must ping the lab and run the
# README's and GUIDE's lab examples; then dpkg -r must take everything away again.
# Needs root (dpkg, the lab). Costs one release build.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { echo "== install test: $*" >&2; }

if ! command -v man >/dev/null; then
	step "installing man-db"
	apt-get install -y -qq man-db >/dev/null
fi
bash lab/lab.sh install

step "building the static binary and the .deb (scripts/dist.sh)"
scripts/dist.sh
version=$(awk -F '"' '/^version = / { print $2; exit }' Cargo.toml)
static=target/dist/fleetrmi-$version-x86_64-linux-static
deb=target/dist/fleetrmi_${version}_amd64.deb

step "the static binary is static"
scripts/check-static.sh "$static"

lab_dir=$(bash lab/lab.sh up --hosts 3 | tail -n 1)
cleanup() {
	dpkg -r fleetrmi >/dev/null 2>&1 || true
	bash lab/lab.sh down "$lab_dir"
}
trap cleanup EXIT

step "the static binary runs the demo purge"
"$static" -i "$lab_dir/inventory.yaml" --known-hosts "$lab_dir/known_hosts" -o json rmi purge:1 \
	>"$lab_dir/demo.json"
grep -q '"deleted": 6' "$lab_dir/demo.json" || {
	echo "error: the demo purge did not delete purge:1 from the 3 hosts:" >&2
	cat "$lab_dir/demo.json" >&2
	exit 1
}

step "dpkg -i $deb"
if dpkg -s fleetrmi >/dev/null 2>&1; then
	echo "error: a fleetrmi package is already installed; remove it first (dpkg -r fleetrmi)" >&2
	exit 1
fi
dpkg -i "$deb"
[ "$(command -v fleetrmi)" = /usr/bin/fleetrmi ]
installed_version=$(fleetrmi --version)
echo "$installed_version" >&2
[[ $installed_version =~ ^fleetrmi\ $version\ \(commit\ [^\)]+\)$ ]]
man_page=$(man -w fleetrmi)
echo "$man_page" >&2
[ "$man_page" = /usr/share/man/man1/fleetrmi.1.gz ]
man -w fleetrmi-rmi >/dev/null
bash -c 'source /usr/share/bash-completion/completions/fleetrmi && complete -p fleetrmi' >/dev/null
[ -s /usr/share/zsh/vendor-completions/_fleetrmi ]
[ -s /usr/share/fish/vendor_completions.d/fleetrmi.fish ]
[ -s /usr/share/doc/fleetrmi/examples/fleetrmi-cleanup.service ]
[ -s /usr/share/doc/fleetrmi/examples/fleetrmi-cleanup.timer ]

step "the installed binary pings the lab"
bash lab/lab.sh seed "$lab_dir" 1 2 3 2>/dev/null
/usr/bin/fleetrmi -i "$lab_dir/inventory.yaml" --known-hosts "$lab_dir/known_hosts" ping

step "the README's and GUIDE's lab examples, with the installed binary"
scripts/doc-examples.sh --fleetrmi /usr/bin/fleetrmi --lab "$lab_dir"

step "dpkg -r fleetrmi"
dpkg -r fleetrmi
if [ -e /usr/bin/fleetrmi ] || man -w fleetrmi >/dev/null 2>&1; then
	echo "error: dpkg -r left fleetrmi's files behind" >&2
	exit 1
fi
step "passed"
