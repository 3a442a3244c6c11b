#!/bin/sh
# Description: the shared library exports exactly the public API.
# SPDX-License-Identifier: MIT
#
# usage: symbols-check.sh NM LIBRARY MAPFILE HEADER
# Lists the library's dynamic exports (nm -D --defined-only) and fails on any
# symbol that is not a function of the version script, on any function of the
# version script that is not exported, and on any version-script name the
# public header does not declare (libdrm's core-symbols-check). Exit 77 =
# skipped (meson's convention) when a tool or file is missing.
set -u
NM=$1 LIB=$2 MAP=$3 HDR=$4
for f in "$LIB" "$MAP" "$HDR"; do
	[ -r "$f" ] || { echo "skip: cannot read $f"; exit 77; }
done
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT

# Exports: "ADDR TYPE NAME[@@VERSION]"; version nodes are absolute (A).
"$NM" -D --defined-only "$LIB" >"$tmp/nm" || { echo "nm failed"; exit 1; }
awk '$2 != "A" { sub(/@.*/, "", $3); print $3 }' "$tmp/nm" | sort -u >"$tmp/exported"
# Public names: "name;" lines of the map's global: section.
awk '/global:/ { g = 1; next } /local:|^}/ { g = 0 } g && /;/ { gsub(/[ \t;]/, ""); print }' \
	"$MAP" | sort -u >"$tmp/public"

fail=0
extra=$(comm -23 "$tmp/exported" "$tmp/public")
missing=$(comm -13 "$tmp/exported" "$tmp/public")
if [ -n "$extra" ]; then
	echo "exported but not public API:"; echo "$extra" | sed 's/^/  /'; fail=1
fi
if [ -n "$missing" ]; then
	echo "public API but not exported:"; echo "$missing" | sed 's/^/  /'; fail=1
fi
while read -r sym; do
	grep -Eq "(^|[^A-Za-z0-9_])${sym}[[:space:]]*\(" "$HDR" ||
		{ echo "in the map but not declared in $HDR: $sym"; fail=1; }
done <"$tmp/public"
n=$(wc -l <"$tmp/exported")
[ "$fail" -eq 0 ] && echo "ok: $n exported symbols, all public API"
exit "$fail"
