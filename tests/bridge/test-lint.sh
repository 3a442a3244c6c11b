#!/usr/bin/env bash
# tests/bridge/test-lint.sh -- the bridge's C files are clang-format clean
# (the repository's .clang-format) and its shell scripts shellcheck clean.
SUITE=lint
BRIDGE=${BRIDGE:-x} VERIFY=${VERIFY:-x}
# shellcheck source=tests/bridge/common.sh
. "$(dirname "$0")/common.sh"
cd "$(dirname "$0")/../.." || exit 2

for f in bridge/*.c bridge/*.h tests/bridge/*.c bench/bridge/*.c; do
	check "clang-format: $f" clang-format --dry-run --Werror "$f"
done
check "shellcheck: the bridge's scripts" shellcheck -x -P SCRIPTDIR \
	tests/bridge/*.sh scripts/test-bridge.sh scripts/bench-bridge.sh
finish
