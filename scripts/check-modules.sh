#!/usr/bin/env bash
# Checks that the code keeps to docs/DESIGN.md's module table and has no import cycles:
# - a top-level module names (`crate::X`) only the modules its row says it may use;
# - every module declared in src/lib.rs has a row, and every row names a module;
# - the files (and subdirectories) of each module do not import each other in a cycle.
# Only code that is built outside tests counts: comment lines, `mod tests { … }` blocks and
# files declared `#[cfg(test)]` are left out. Exits 1 and names each offending line otherwise.
set -euo pipefail
cd "$(dirname "$0")/.."

failed=0
fail() {
	echo "error: $*" >&2
	failed=1
}

# Files declared `#[cfg(test)] mod NAME;` (their path without `.rs`), one per line.
test_only_paths() {
	local decl
	for decl in src/lib.rs $(find src -name mod.rs); do
		awk -v dir="$(dirname "$decl")" '
			/^[[:space:]]*#\[cfg\(test\)\]/ { pending = 1; next }
			pending && match($0, /mod [a-z_0-9]+;/) {
				name = substr($0, RSTART + 4, RLENGTH - 5)
				print dir "/" name
			}
			{ pending = 0 }
		' "$decl"
	done
}
mapfile -t test_only < <(test_only_paths)

is_test_only() {
	local file=$1 path
	for path in "${test_only[@]}"; do
		case $file in "$path.rs" | "$path"/*) return 0 ;; esac
	done
	return 1
}

# The production lines of the given files, as FILE:LINE:TEXT; a `use` over several lines is
# one line, and its groups are spelt out (`super::{a, b::C}` becomes `super::a super::b::C`).
production_lines() {
	local file
	for file in "$@"; do
		is_test_only "$file" && continue
		awk -v file="$file" '
			/^[[:space:]]*\/\// { next }
			/^[[:space:]]*#\[cfg\(test\)\]/ { pending = 1; next }
			pending && /^[[:space:]]*mod tests/ { exit }
			{ pending = 0 }
			statement != "" {
				statement = statement " " $0
				if ($0 ~ /;/) { print file ":" start ":" statement; statement = "" }
				next
			}
			/^[[:space:]]*(pub(\([a-z]+\))? )?use / && !/;/ { statement = $0; start = FNR; next }
			{ print file ":" FNR ":" $0 }
		' "$file"
	done | perl -pe '1 while s/([a-z_]+(?:::[a-z_]+)*)::\{([^{}]*)\}/my ($path, $names) = ($1, $2); join(" ", map { "${path}::$_" } grep { length } map { s{^\s+|\s+$}{}gr } split(m{,}, $names))/e'
}

# The files of top-level module $1.
module_files() {
	{
		[ -f "src/$1.rs" ] && echo "src/$1.rs"
		[ -d "src/$1" ] && find "src/$1" -name '*.rs'
	} | sort
}

# --- the table ---------------------------------------------------------------------------
table=$(awk '/^## Modules/ { on = 1; next } on && /^## / { exit } on && /^\|/' docs/DESIGN.md |
	tail -n +3)
[ -n "$table" ] || fail "docs/DESIGN.md: no module table under '## Modules'"

declare -A allowed=()
while IFS= read -r row; do
	modules=$(cut -d'|' -f2 <<<"$row" | grep -oE '`[a-z_]+`' | tr -d '`' || true)
	uses=$(cut -d'|' -f4 <<<"$row" | grep -oE '`[a-z_]+`' | tr -d '`' | tr '\n' ' ' || true)
	[ -n "$modules" ] || fail "docs/DESIGN.md: a module table row names no module: $row"
	for module in $modules; do
		allowed[$module]=$uses
	done
done <<<"$table"

mapfile -t declared < <(grep -oE '^(pub )?mod [a-z_]+;' src/lib.rs | awk '{ print $NF }' | tr -d ';')
for module in "${!allowed[@]}"; do
	printf '%s\n' "${declared[@]}" | grep -qx "$module" ||
		fail "docs/DESIGN.md's module table has a row for \`$module\`, which src/lib.rs does not declare"
done
for module in "${declared[@]}"; do
	if [ -z "${allowed[$module]+set}" ]; then
		fail "src/lib.rs declares module \`$module\`, which docs/DESIGN.md's module table has no row for"
		continue
	fi
	mapfile -t files < <(module_files "$module")
	[ "${#files[@]}" -gt 0 ] || continue
	while IFS= read -r hit; do
		used=$(grep -oE 'crate::[a-z_]+' <<<"${hit#*:*:}" | sed 's/^crate:://' | sort -u)
		for other in $used; do
			[ "$other" = "$module" ] && continue
			case " ${allowed[$module]} " in *" $other "*) continue ;; esac
			fail "${hit%%:*}:$(cut -d: -f2 <<<"$hit"): \`$module\` uses \`crate::$other\`," \
				"which is not among the modules docs/DESIGN.md's module table lets \`$module\` use"
		done
	done < <(production_lines "${files[@]}" | grep -E 'crate::[a-z_]+' || true)
done

# --- cycles ------------------------------------------------------------------------------
# For each module directory: an edge from each child (file or subdirectory) to each sibling
# it names, as `super::X` (or `super::super::X` one directory down) or by its full path.
check_cycles() {
	local dir=$1 path=$2 child node edges
	local -a children=()
	for child in "$dir"/*; do
		node=$(basename "$child" .rs)
		case $node in mod | lib | main | tests) continue ;; esac
		is_test_only "${child%.rs}.rs" && continue
		children+=("$node")
	done
	[ "${#children[@]}" -gt 1 ] || return 0
	local alternatives
	alternatives=$(printf '%s|' "${children[@]}")
	alternatives=${alternatives%|}
	edges=$(
		for node in "${children[@]}"; do
			{
				[ -f "$dir/$node.rs" ] && production_lines "$dir/$node.rs" | sed 's/super::/SIBLING::/g'
				[ -d "$dir/$node" ] && find "$dir/$node" -maxdepth 1 -name '*.rs' | sort |
					while IFS= read -r file; do production_lines "$file"; done |
					sed 's/super::super::/SIBLING::/g'
				[ -d "$dir/$node" ] && find "$dir/$node" -mindepth 2 -name '*.rs' | sort |
					while IFS= read -r file; do production_lines "$file"; done
			} | cut -d: -f3- |
				grep -oE "(crate::${path:+$path::}|SIBLING::)($alternatives)\b" |
				grep -oE "($alternatives)$" | grep -vx "$node" | sed "s/^/$node /" || true
		done | sort -u
	)
	[ -n "$edges" ] || return 0
	if ! loop=$( (tsort <<<"$edges" >/dev/null) 2>&1); then
		fail "import cycle in ${path:-the crate}: $(grep -v 'input contains a loop' <<<"$loop" | sed 's/^tsort: //' | tr '\n' ' ')"
	fi
}
check_cycles src ""
while IFS= read -r modfile; do
	dir=$(dirname "$modfile")
	path=${dir#src/}
	check_cycles "$dir" "${path//\//::}"
done < <(find src -mindepth 2 -name mod.rs | sort)

exit "$failed"
