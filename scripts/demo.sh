#!/usr/bin/env bash
# scripts/demo.sh -- the main job: a producer process streams to a consumer
# process through a shmring for a few seconds with live figures, then the
# same stream over a pipe, and a final line comparing the two.
#
#   scripts/demo.sh [--seconds N] [--size BYTES] [--slots N]
#   scripts/demo.sh --windows     the same under Wine (cross-built)
set -eu
cd "$(dirname "$0")/.."
. scripts/lib.sh
if [ "${1:-}" = "--windows" ]; then
	shift
	exec bash scripts/demo-windows.sh "$@"
fi
sr_install meson ninja-build pkg-config gcc python3
[ -d build-demo ] || meson setup build-demo --buildtype=release -Dtests=disabled \
	-Dbenchmarks=disabled >/dev/null
ninja -C build-demo >/dev/null
exec build-demo/examples/shmring-demo "$@"
