#!/usr/bin/env bash
# scripts/test-windows.sh -- the Windows leg: cross-build shmring with
# mingw-w64 (-Werror) and run tests/win/ under Wine. Works from a clean clone
# on a fresh Debian 12 machine (installs what it needs, as root or through
# sudo). Its last line is "windows: N passed, N failed", counting TAP
# subtests; it exits non-zero on any failure, crash or timeout.
#
# Environment: WINEPREFIX (default /tmp/shmring-wine, created on first use,
# ~700 MB), SHMRING_WIN_BUILD (default build-win).
#
# The Wine handling follows ../shared/windows.md: winedbg disabled (quirk 1),
# a persistent wineserver and a warm-up run outside meson's pipes before the
# tests (quirk 5), unique object names in every test (quirk 3).
set -u
cd "$(dirname "${BASH_SOURCE[0]}")/.." || exit 2
# shellcheck source=scripts/lib.sh
. scripts/lib.sh

export WINEPREFIX="${WINEPREFIX:-/tmp/shmring-wine}"
export WINEDEBUG=-all
export WINEDLLOVERRIDES='mscoree,mshtml=;winedbg.exe=d'
WIN_BUILD="${SHMRING_WIN_BUILD:-build-win}"

# Start a persistent wineserver for $WINEPREFIX and boot Wine's services
# now, with no pipe of ours for them to keep open. Creates the prefix.
win_boot() {
	mkdir -p "$WINEPREFIX" || return 1
	wineserver -k >/dev/null 2>&1 # one left over from an interrupted run
	wineserver -p || return 1
	wine cmd /c exit 0 </dev/null >/dev/null 2>&1
}

win_stop() {
	wineserver -k >/dev/null 2>&1
}

# Configure $WIN_BUILD (-Werror; reconfigured if it exists, made afresh if
# that fails), then build everything. Benchmarks are POSIX programs, not part
# of the Windows build.
win_build() {
	local opts=(--cross-file cross/mingw-w64-x86_64.ini -Dwerror=true
		-Dtests=enabled -Dbenchmarks=disabled)
	if [ -d "$WIN_BUILD/meson-private" ]; then
		meson setup --reconfigure "$WIN_BUILD" "${opts[@]}" \
			>"$WIN_BUILD.log" 2>&1 || rm -rf "$WIN_BUILD"
	fi
	if [ ! -d "$WIN_BUILD/meson-private" ]; then
		rm -rf "$WIN_BUILD"
		meson setup "$WIN_BUILD" "${opts[@]}" >"$WIN_BUILD.log" 2>&1 ||
			{ cat "$WIN_BUILD.log"; return 1; }
	fi
	rm -f "$WIN_BUILD.log"
	ninja -C "$WIN_BUILD" >/dev/null || { ninja -C "$WIN_BUILD"; return 1; }
}

# The meson counts of @1 plus the "cli-wine: N passed, N failed" line @2,
# as one "windows: N passed, N failed" line (a missing line is a failure).
win_sum_counts() {
	local line p f cp cf
	line=$(sr_meson_counts "$1" windows | tail -n 1)
	p=$(sed -nE 's/^windows: ([0-9]+) passed.*/\1/p' <<<"$line")
	f=$(sed -nE 's/^windows: [0-9]+ passed, ([0-9]+) failed.*/\1/p' <<<"$line")
	cp=$(sed -nE 's/^cli-wine: ([0-9]+) passed.*/\1/p' <<<"$2")
	cf=$(sed -nE 's/^cli-wine: [0-9]+ passed, ([0-9]+) failed.*/\1/p' <<<"$2")
	[ -n "$cp" ] || { cp=0; cf=1; echo "cli-wine: no count line"; }
	echo "windows: $((${p:-0} + cp)) passed, $((${f:-1} + cf)) failed"
	[ $((${f:-1} + cf)) -eq 0 ]
}

win_main() {
	local start=$SECONDS rc
	sr_install gcc-mingw-w64-x86-64 wine wine64 meson ninja-build python3 ||
		{ echo "windows: 0 passed, 1 failed"; return 1; }
	if ! win_boot; then
		echo "Wine would not start in $WINEPREFIX"
		echo "windows: 0 passed, 1 failed"
		return 1
	fi
	if ! win_build; then
		win_stop
		echo "windows: 0 passed, 1 failed"
		return 1
	fi
	meson test -C "$WIN_BUILD" --print-errorlogs
	rc=$?
	# The shmring command under Wine: ls/write/read round trip.
	cli_counts=$(SHMRING_WIN_BUILD=$WIN_BUILD bash tests/cli/test-cli-wine.sh 2>&1 |
		tee /dev/stderr | grep -E '^cli-wine: [0-9]+ passed' | tail -n 1)
	win_stop
	echo "(windows leg took $((SECONDS - start)) s)"
	win_sum_counts "$WIN_BUILD" "$cli_counts" || rc=1
	return "$rc"
}

# Run unless sourced (scripts/demo-windows.sh uses the functions above).
if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	win_main
	exit $?
fi
