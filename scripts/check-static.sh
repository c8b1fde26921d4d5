#!/usr/bin/env bash
# Checks that BINARY is statically linked: no shared library (NEEDED), no program interpreter
# (INTERP), and `ldd` agreeing ("statically linked" for a static PIE, "not a dynamic executable"
# otherwise). Prints what it found; exits 1 if the binary is dynamic.
set -euo pipefail
binary=$1
needed=$(readelf -d "$binary" 2>/dev/null | grep '(NEEDED)' || true)
interpreter=$(readelf -l "$binary" | grep -i 'program interpreter' || true)
linkage=$(ldd "$binary" 2>&1 || true)
echo "$binary: ldd: $(echo "$linkage" | head -n 1 | sed 's/^[[:space:]]*//')" >&2
if [ -n "$needed" ] || [ -n "$interpreter" ] ||
	{ [[ $linkage != *"statically linked"* ]] && [[ $linkage != *"not a dynamic executable"* ]]; }; then
	echo "error: $binary is dynamically linked:" >&2
	echo "$needed$interpreter" >&2
	exit 1
fi
