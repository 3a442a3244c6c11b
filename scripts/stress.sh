#!/usr/bin/env bash
# scripts/stress.sh -- the long mode of tests/stress/stress.c (the bounded
# CI runs are `meson test --suite stress`). Builds build-stress (release)
# and runs, one after the other:
#   processes: STRESS_MESSAGES messages (default 10^8) between two processes
#   kill:      STRESS_KILL_ROUNDS SIGKILL rounds with takeover (default 1000)
#   threads:   STRESS_THREAD_MESSAGES messages between two threads (10^7)
# each bounded by STRESS_SECONDS (default 3600) and seeded by STRESS_SEED
# (default: random; the seed is printed, so a failure can be replayed).
# Prints each run's summary line (counts, rate, detection times), then as
# its LAST line "stress: N passed, N failed"; exits non-zero on failure.
set -u
cd "$(dirname "$0")/.." || exit 1

build=${STRESS_BUILD:-build-stress}
secs=${STRESS_SECONDS:-3600}
seed=()
[ -n "${STRESS_SEED:-}" ] && seed=(--seed "$STRESS_SEED")
passed=0
failed=0

if [ ! -f "$build/build.ninja" ]; then
	meson setup "$build" -Dbuildtype=release -Dbenchmarks=disabled \
		>"$build.setup.log" 2>&1 || { tail -20 "$build.setup.log"; exit 1; }
fi
if ! ninja -C "$build" tests/stress/stress_ring >"$build.build.log" 2>&1; then
	tail -30 "$build.build.log"
	echo "stress: 0 passed, 1 failed"
	exit 1
fi
exe="$build/tests/stress/stress_ring"

one() {
	echo "+ stress_ring $*"
	if "$exe" "$@" "${seed[@]}"; then
		passed=$((passed + 1))
	else
		failed=$((failed + 1))
	fi
}

one --messages "${STRESS_MESSAGES:-100000000}" --seconds "$secs"
one --kill-rounds "${STRESS_KILL_ROUNDS:-1000}" --seconds "$secs"
one --threads --messages "${STRESS_THREAD_MESSAGES:-10000000}" --seconds "$secs"

echo "stress: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
