#!/usr/bin/env bash
# tests/cli/test-install.sh -- `meson install` puts the shmring command and
# every manual page in place; each page renders with `man -l` without a
# warning; shmring.1 documents every option of every verb's --help and
# every exit status of tools/cli.h.
#
# Needs CLI_BUILD, a configured and built meson build directory.
SUITE=install
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
: "${CLI_BUILD:?CLI_BUILD must name the build directory}"
SHMRING=$CLI_BUILD/tools/shmring
# shellcheck source=tests/cli/common.sh
. "$(dirname "$0")/common.sh"

D="$WORK/dest"
expect "meson install --destdir" 0 "" -- meson install -C "$CLI_BUILD" --destdir "$D" --no-rebuild
prefix=$(meson introspect --buildoptions "$CLI_BUILD" | python3 -c 'import json,sys; print({o["name"]: o["value"] for o in json.load(sys.stdin)}["prefix"])')
libdir=$(meson introspect --buildoptions "$CLI_BUILD" | python3 -c 'import json,sys; print({o["name"]: o["value"] for o in json.load(sys.stdin)}["libdir"])')
mandir=$(meson introspect --buildoptions "$CLI_BUILD" | python3 -c 'import json,sys; print({o["name"]: o["value"] for o in json.load(sys.stdin)}["mandir"])')
case $libdir in /*) ;; *) libdir="$prefix/$libdir" ;; esac
case $mandir in /*) ;; *) mandir="$prefix/$mandir" ;; esac
bin="$D$prefix/bin/shmring"
check "the command is installed in bin" test -x "$bin"
version=$(sed -nE "s/^  version: '([0-9.]+)',/\1/p" "$ROOT/meson.build")
expect "the installed command runs" 0 "" -- env LD_LIBRARY_PATH="$D$libdir" "$bin" --version
check "... and is version $version" test "$(cat "$OUT")" = "shmring $version"

man_root="$D$mandir"
for src in "$ROOT"/docs/man/*.[13]; do
	page=$(basename "$src")
	sec=${page##*.}
	check "$page is installed in man$sec" cmp -s "$src" "$man_root/man$sec/$page"
	# From the root of the man tree, as man(1) reads it: .so aliases resolve.
	run bash -c "cd '$man_root' && MANWIDTH=80 man --warnings -l 'man$sec/$page'"
	check "man -l $page renders" test "$ST" -eq 0 -a -s "$OUT"
	check "man -l $page: no warning" test ! -s "$ERR"
	if head -n 1 "$src" | grep -q '^\.so '; then
		target=$(sed -n 's/^\.so //p' "$src")
		check "$page: its alias target $target is a page of its own" test -f "$ROOT/docs/man/$(basename "$target")"
	fi
done

MANWIDTH=200 man -l "$ROOT/docs/man/shmring.1" 2>/dev/null >"$WORK/shmring.1.txt"
for v in ls stat rm gc write read; do
	missing=""
	for o in $("$SHMRING" "$v" --help | grep -oE -- '--[a-z][a-z-]*' | sort -u); do
		grep -q -- "$o" "$WORK/shmring.1.txt" || missing="$missing $o"
	done
	check "shmring.1 documents every option of $v --help${missing:+ (missing:$missing)}" test -z "$missing"
done
missing=""
sed -n '/^EXIT STATUS/,/^ENVIRONMENT/p' "$WORK/shmring.1.txt" >"$WORK/exit.txt"
# shellcheck disable=SC2013 # one number per line
for n in $(sed -nE 's/^\s*CLI_[A-Z]+ = ([0-9]+),.*/\1/p' "$ROOT/tools/cli.h"); do
	grep -Eq "^ +$n +[^ ]" "$WORK/exit.txt" || missing="$missing $n"
done
check "shmring.1 lists every exit status of tools/cli.h${missing:+ (missing:$missing)}" test -z "$missing"

finish
