#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# test-install.sh -- use shmring the two ways a consumer project does, and
# check each with a real create/send/recv round trip:
#
#   1. installed: `meson install --destdir`, then a program compiled with
#      `cc $(pkg-config --cflags --libs shmring)` and run against the
#      installed library (tests/subproject/roundtrip.c, built by hand);
#   2. as a meson subproject: tests/subproject/ does dependency('shmring')
#      and finds this tree linked at tests/subproject/subprojects/shmring
#      (git-ignored); none of shmring's tests or benchmarks may be
#      registered in that consumer's build.
#
# Usage: scripts/test-install.sh          (no arguments; needs meson, ninja,
#        pkg-config, a C compiler)
# The last line is always "install: N passed, N failed"; the exit status
# is non-zero if anything failed.
set -u

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/shmring-install.XXXXXX") || exit 1
prefix=/opt/shmring
dest=$work/dest
link=$root/tests/subproject/subprojects/shmring
made_link=0
passed=0
failed=0
CC=${CC:-cc}

cleanup() {
	[ "$made_link" -eq 1 ] && rm -f "$link"
	rm -rf "$work"
}
trap cleanup EXIT

# step DESCRIPTION COMMAND...: run it, count it, show its output on failure.
step() {
	local what=$1
	shift
	if "$@" >"$work/step.log" 2>&1; then
		echo "ok   - $what"
		passed=$((passed + 1))
		return 0
	fi
	echo "FAIL - $what"
	sed 's/^/       /' "$work/step.log" | tail -n 40
	failed=$((failed + 1))
	return 1
}

# ---- 1. installed copy + pkg-config ---------------------------------------

build_and_install() {
	meson setup "$work/build" "$root" --prefix="$prefix" --libdir=lib \
		--buildtype=release -Dtests=disabled -Dbenchmarks=disabled &&
		meson compile -C "$work/build" &&
		meson install -C "$work/build" --destdir "$dest"
}

# Exactly the public header, the library and its .pc, the shmring command
# (and shmring-bridge, where libnats is installed: the bridge feature is
# auto), and the man pages of docs/man: no private headers.
installed_files_are_public() {
	local got want f
	got=$(cd "$dest$prefix" && find . \( -type f -o -type l \) | sort)
	want=$({
		printf '%s\n' ./include/shmring.h ./lib/libshmring.so \
			./lib/libshmring.so.0 ./lib/libshmring.so.0.2.0 \
			./lib/pkgconfig/shmring.pc ./bin/shmring
		if [ -f "$work/build/bridge/shmring-bridge" ]; then
			echo ./bin/shmring-bridge
		fi
		for f in "$root"/docs/man/*.[13]; do
			echo "./share/man/man${f##*.}/$(basename "$f")"
		done
	} | sort)
	echo "installed:"
	echo "$got"
	[ "$got" = "$want" ]
}

pc() {
	PKG_CONFIG_PATH=$dest$prefix/lib/pkgconfig PKG_CONFIG_SYSROOT_DIR=$dest \
		pkg-config "$@"
}

pkgconfig_describes_the_installed_copy() {
	local flags version
	flags=$(pc --cflags --libs shmring) || return 1
	version=$(pc --modversion shmring) || return 1
	echo "flags: $flags"
	echo "version: $version"
	# the flags point into the install, not into the source or build tree
	case "$flags" in *"$root"*) return 1 ;; esac
	case "$flags" in *"-I$dest$prefix/include"*) ;; *) return 1 ;; esac
	case "$flags" in *"-L$dest$prefix/lib"*) ;; *) return 1 ;; esac
	grep -q "version: '$version'" "$root/meson.build"
}

build_pkgconfig_consumer() {
	# shellcheck disable=SC2046 # word splitting of the flags is intended
	"$CC" -std=c11 -Wall -Wextra -Werror -o "$work/roundtrip-pc" \
		-DROUNDTRIP_VIA='"pkg-config"' \
		"$root/tests/subproject/roundtrip.c" $(pc --cflags --libs shmring)
}

run_pkgconfig_consumer() {
	local libs=$dest$prefix/lib
	# the loader must pick the installed library
	LD_LIBRARY_PATH=$libs ldd "$work/roundtrip-pc" | tee /dev/stderr |
		grep -q "libshmring.so.0 => $libs/libshmring.so.0" &&
		LD_LIBRARY_PATH=$libs "$work/roundtrip-pc"
}

# ---- 2. meson subproject ------------------------------------------------------

link_subproject() {
	mkdir -p "$(dirname "$link")" || return 1
	if [ -L "$link" ] || [ -e "$link" ]; then
		echo "using the existing $link"
		[ -f "$link/meson.build" ]
		return
	fi
	ln -s ../../.. "$link" && made_link=1 && [ -f "$link/src/data.c" ]
}

setup_subproject_consumer() {
	meson setup "$work/sub" "$root/tests/subproject"
}

# The consumer's build registers its own test and nothing of shmring's.
no_shmring_tests_in_the_consumer() {
	python3 - "$work/sub" <<'PY'
import json, subprocess, sys
b = sys.argv[1]
def intro(what):
    out = subprocess.run(["meson", "introspect", what, b], check=True,
                         capture_output=True, text=True).stdout
    return json.loads(out)
tests = [(t["name"], t["suite"]) for t in intro("--tests")]
benches = [t["name"] for t in intro("--benchmarks")]
targets = [t["name"] for t in intro("--targets")]
print("tests:", tests, "benchmarks:", benches)
print("targets:", targets)
ok = tests == [("roundtrip", ["shmring-consumer"])] and not benches
ok = ok and not [t for t in targets if t.startswith(("test_", "bench_", "fuzz_"))]
sys.exit(0 if ok else 1)
PY
}

build_and_run_subproject_consumer() {
	meson compile -C "$work/sub" && meson test -C "$work/sub" --print-errorlogs
}

# ---- run ------------------------------------------------------------------------

if step "meson install --destdir of the library" build_and_install; then
	step "installed files are the public header, library and .pc" \
		installed_files_are_public
	step "pkg-config describes the installed copy" \
		pkgconfig_describes_the_installed_copy
	step "a program builds with pkg-config --cflags --libs shmring" \
		build_pkgconfig_consumer &&
		step "it runs a round trip against the installed library" \
			run_pkgconfig_consumer
fi
if step "shmring linked as tests/subproject/subprojects/shmring" \
	link_subproject &&
	step "the consumer project finds dependency('shmring') as a subproject" \
		setup_subproject_consumer; then
	step "no shmring test or benchmark is registered in the consumer" \
		no_shmring_tests_in_the_consumer
	step "the consumer builds and its round trip passes" \
		build_and_run_subproject_consumer
fi

echo "install: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
