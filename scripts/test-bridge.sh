#!/usr/bin/env bash
# scripts/test-bridge.sh -- the 'bridge' section of scripts/test.sh:
# shmring-bridge (bridge/, docs/bridge.md) against a real nats-server -js
# on loopback, driven by the shell scripts of tests/bridge/. Works from a
# clean clone on a fresh Debian 12 machine (installs nats-server and
# libnats-dev, as root or through sudo). Its last line is
# "bridge: N passed, N failed"; it exits non-zero on any failure.
#
#   lint      clang-format on the bridge's C files, shellcheck on its scripts
#   errors    usage, no server, no JetStream, no stream, busy ring, bad state
#   stream    10^6 verified messages of random sizes; --pack 1; a far ring
#             that fills up
#   restart   SIGKILL of out, of in, a nats-server restart, SIGTERM, each
#             mid-stream and followed by a restart: 0 lost, 0 duplicated;
#             a producer that dies
#
# Environment: SHMRING_BRIDGE_BUILD (default build-bridge-test),
# BRIDGE_N (default 1000000), BRIDGE_RESTART_N (default 200000),
# BRIDGE_SUITES (default: all of the above).
set -u
cd "$(dirname "${BASH_SOURCE[0]}")/.." || exit 2
# shellcheck source=scripts/lib.sh
. scripts/lib.sh

start=$SECONDS
BUILD="${SHMRING_BRIDGE_BUILD:-build-bridge-test}"
SUITES=${BRIDGE_SUITES:-lint errors stream restart}

fail_early() {
	echo "$1"
	echo "bridge: 0 passed, 1 failed"
	exit 1
}

sr_install meson ninja-build gcc pkg-config python3 nats-server libnats-dev \
	clang-format shellcheck ||
	fail_early "could not install the packages the bridge tests need"

opts=(-Dwerror=true -Dtests=disabled -Dbenchmarks=disabled -Dpython=disabled
	-Dbridge=enabled)
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
export BRIDGE="$PWD/$BUILD/bridge/shmring-bridge" VERIFY="$PWD/$BUILD/bridge/srb-verify"

total_pass=0
total_fail=0
for s in $SUITES; do
	script="tests/bridge/test-$s.sh"
	log=$(mktemp)
	t0=$SECONDS
	echo "--- $s"
	bash "$script" 2>&1 | tee "$log"
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
	[ "$rc" -ne 0 ] && [ "$f" -eq 0 ] && f=1
	total_pass=$((total_pass + p))
	total_fail=$((total_fail + f))
	echo "($s took $((SECONDS - t0)) s)"
done
echo "(bridge section took $((SECONDS - start)) s)"
echo "bridge: $total_pass passed, $total_fail failed"
[ "$total_fail" -eq 0 ]
