#!/usr/bin/env bash
# scripts/test-cli.sh -- the 'cli' section of scripts/test.sh: the shmring
# command (tools/), driven by the shell scripts of tests/cli/. Works from a
# clean clone on a fresh Debian 12 machine (installs what it needs, as root
# or through sudo). Its last line is "cli: N passed, N failed"; it exits
# non-zero on any failure.
#
#   lint      tools/: clang-format, cppcheck, clang-tidy; OS code only in
#             sys_*.c; shellcheck on these scripts
#   install   meson install: the command and every man page, man -l clean
#   verbs     --help, usage errors, ls, stat (--watch), rm, gc
#   io        write and read: every framing, the counters against a known
#             stream, every failure and its exit status, signals
#   mpsc      read --mpsc with several writers: stat's producer entries,
#             every line once and in order, a killed writer shown dead
#   hostile   ls and stat on corrupt segments: never a crash
#   big       512 MiB through the ring, digest checked, timed beside a pipe
#
# As root, each suite runs in a mount namespace of its own with a private
# /dev/shm (unshare(1)), so that ls and gc see only the suite's rings and
# never touch anyone else's; otherwise every ring a suite makes has a
# unique prefix and ls and gc are given patterns.
#
# Environment: SHMRING_CLI_BUILD (default build-cli-test), CLI_BIG_MIB
# (default 512), CLI_SUITES (default: all of the above).
set -u
cd "$(dirname "${BASH_SOURCE[0]}")/.." || exit 2
# shellcheck source=scripts/lib.sh
. scripts/lib.sh

start=$SECONDS
BUILD="${SHMRING_CLI_BUILD:-build-cli-test}"
SUITES=${CLI_SUITES:-lint install verbs io mpsc hostile big}

fail_early() {
	echo "$1"
	echo "cli: 0 passed, 1 failed"
	exit 1
}

# util-linux: unshare, script (bsdutils); man-db and groff-base: man -l.
sr_install meson ninja-build gcc pkg-config python3 util-linux bsdutils \
	man-db groff-base coreutils clang-format cppcheck clang-tidy shellcheck ||
	fail_early "could not install the packages the cli tests need"

opts=(-Dwerror=true -Dtests=disabled -Dbenchmarks=disabled -Dpython=disabled)
if [ -d "$BUILD/meson-private" ]; then
	meson setup --reconfigure "$BUILD" "${opts[@]}" >"$BUILD.log" 2>&1 ||
		rm -rf "$BUILD"
fi
if [ ! -d "$BUILD/meson-private" ]; then
	rm -rf "$BUILD"
	meson setup "$BUILD" "${opts[@]}" >"$BUILD.log" 2>&1 ||
		{ cat "$BUILD.log"; fail_early "meson setup failed"; }
fi
rm -f "$BUILD.log"
ninja -C "$BUILD" >/dev/null || { ninja -C "$BUILD"; fail_early "build failed"; }
export SHMRING="$PWD/$BUILD/tools/shmring" CLI_BUILD="$PWD/$BUILD"

private=0
if [ "$(id -u)" -eq 0 ] &&
	unshare --mount sh -c 'mount -t tmpfs shmring-cli /dev/shm' 2>/dev/null; then
	private=1
fi
echo "(rings in a private /dev/shm: $([ $private = 1 ] && echo yes || echo "no, shared with the host"))"

total_pass=0
total_fail=0
total_todo=0
results=$(mktemp)
for s in $SUITES; do
	script="tests/cli/test-$s.sh"
	log=$(mktemp)
	t0=$SECONDS
	echo "--- $s"
	if [ $private = 1 ]; then
		# shellcheck disable=SC2016 # $0 is expanded by that sh
		CLI_PRIVATE_SHM=1 CLI_RESULTS="$results" unshare --mount sh -c \
			'mount -t tmpfs -o size=4g,mode=1777 shmring-cli /dev/shm && exec bash "$0"' \
			"$script" 2>&1 | tee "$log"
	else
		CLI_RESULTS="$results" bash "$script" 2>&1 | tee "$log"
	fi
	rc=${PIPESTATUS[0]}
	line=$(grep -E "^$s: [0-9]+ passed, [0-9]+ failed" "$log" | tail -n 1)
	rm -f "$log"
	if [ -z "$line" ]; then
		echo "$s: no count line (exit $rc)"
		total_fail=$((total_fail + 1))
		continue
	fi
	p=$(sed -E 's/^[^:]+: ([0-9]+) passed.*/\1/' <<<"$line")
	f=$(sed -E 's/^[^:]+: [0-9]+ passed, ([0-9]+) failed.*/\1/' <<<"$line")
	t=$(sed -nE 's/.*, ([0-9]+) todo.*/\1/p' <<<"$line")
	[ "$rc" -ne 0 ] && [ "$f" -eq 0 ] && f=1
	total_pass=$((total_pass + p))
	total_fail=$((total_fail + f))
	total_todo=$((total_todo + ${t:-0}))
	echo "($s took $((SECONDS - t0)) s)"
done
if [ -s "$results" ]; then
	echo "--- measured (for docs/guide.md, Measured)"
	cat "$results"
fi
rm -f "$results"
echo "(cli section took $((SECONDS - start)) s)"
todo=""
[ "$total_todo" -gt 0 ] && todo=", $total_todo todo (known library defects, listed above)"
echo "cli: $total_pass passed, $total_fail failed$todo"
[ "$total_fail" -eq 0 ]
