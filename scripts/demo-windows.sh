#!/usr/bin/env bash
# scripts/demo-windows.sh -- cross-build shmring for Windows with mingw-w64
# and run its two-process demo under Wine: a producer process streams to a
# consumer process (started with CreateProcessW) for a few seconds, printing
# live figures once a second and a final msgs/s and MB/s line. The consumer
# checks every sequence number; any loss fails the demo.
#
#   scripts/demo-windows.sh [--seconds N] [--size BYTES] [--slots N]
#
# Under Wine every sleep and wake-up goes through wineserver, so the figures
# describe this build under Wine, not Windows.
set -u
cd "$(dirname "$0")/.." || exit 2
# shellcheck source=scripts/test-windows.sh
. scripts/test-windows.sh # its functions and environment; it does not run

sr_install gcc-mingw-w64-x86-64 wine wine64 meson ninja-build || exit 2
win_boot || { echo "Wine would not start in $WINEPREFIX"; exit 1; }
win_build || { win_stop; exit 1; }
wine "$WIN_BUILD/tests/win/demo_win.exe" "$@"
rc=$?
win_stop
exit "$rc"
