#!/usr/bin/env bash
# tests/cli/test-lint.sh -- the sources of the shmring command (tools/):
# clang-format clean, cppcheck and clang-tidy clean (the checks the lint
# section applies to src/), and OS-free outside tools/sys_*.c: no OS
# header, no OS macro test; shellcheck on the test scripts.
SUITE=lint
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
SHMRING=${SHMRING:-none}
# shellcheck source=tests/cli/common.sh
. "$(dirname "$0")/common.sh"
cd "$ROOT" || exit 2

for f in tools/*.c tools/*.h; do
	check "clang-format: $f" clang-format --dry-run --Werror "$f"
done
posix=(tools/shmring.c tools/show.c tools/clean.c tools/io.c tools/sys_posix.c)
expect "cppcheck: tools/" 0 "" -- cppcheck --quiet --error-exitcode=1 --std=c11 \
	--enable=warning,portability --inline-suppr -Iinclude -Itools "${posix[@]}"
expect "clang-tidy: tools/" 0 "" -- clang-tidy --quiet -warnings-as-errors='*' \
	-checks='-*,clang-analyzer-*,bugprone-*,-bugprone-easily-swappable-parameters,-bugprone-reserved-identifier,-clang-analyzer-security.insecureAPI.DeprecatedOrUnsafeBufferHandling' \
	"${posix[@]}" -- -std=c11 -Iinclude -Itools
portable=(tools/shmring.c tools/show.c tools/clean.c tools/io.c tools/cli.h tools/sys.h)
bad=$(grep -HnE '^[[:space:]]*#[[:space:]]*include[[:space:]]*<' "${portable[@]}" |
	grep -vE '<(errno|inttypes|stdarg|stddef|stdint|stdio|stdlib|string|time|shmring)\.h>')
check "outside sys_*.c: only standard C headers${bad:+ ($bad)}" test -z "$bad"
bad=$(grep -HnE '^[[:space:]]*#[[:space:]]*if.*(_WIN32|__linux__|_MSC_VER|__APPLE__|__MINGW)' "${portable[@]}")
check "outside sys_*.c: no OS #if${bad:+ ($bad)}" test -z "$bad"

expect "shellcheck: scripts/test-cli.sh and tests/cli/*.sh" 0 "" -- \
	shellcheck -x scripts/test-cli.sh tests/cli/*.sh

finish
