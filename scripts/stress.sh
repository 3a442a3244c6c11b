#!/usr/bin/env bash
# scripts/stress.sh -- the long mode of tests/stress/stress.c (the bounded
# CI runs are `meson test --suite stress`). Builds build-stress (release)
# and runs, one after the other:
#   processes: --messages N messages (default 10^8) between two processes
#   kill:      --kill-rounds N SIGKILL rounds with takeover (default 1000)
#   threads:   --thread-messages N messages between two threads (10^7)
#   mpsc:      --mpsc-rounds N SIGKILL rounds on SHMRING_F_MPSC rings
#              (default 1000): --mpsc-producers P producer processes
#              (default 4), one killed per round, often between claim and
#              commit, and restarted (tests/stress/stress_mpsc.c)
# each bounded by --seconds S (default 3600) and seeded by --seed X
# (default: random; the seed is printed, so a failure can be replayed);
# --only MODE (processes, kill, threads or mpsc; repeatable) runs only
# those. The environment variables STRESS_MESSAGES, STRESS_KILL_ROUNDS,
# STRESS_THREAD_MESSAGES, STRESS_MPSC_ROUNDS, STRESS_MPSC_PRODUCERS,
# STRESS_SECONDS, STRESS_SEED and STRESS_BUILD (the build directory) set
# the same defaults.
# Prints each run's summary line (counts, calls, kill points, detection
# times), then as its LAST line "stress: N passed, N failed"; exits
# non-zero on failure.
set -u
cd "$(dirname "$0")/.." || exit 1

build=${STRESS_BUILD:-build-stress}
msgs=${STRESS_MESSAGES:-100000000}
rounds=${STRESS_KILL_ROUNDS:-1000}
tmsgs=${STRESS_THREAD_MESSAGES:-10000000}
mrounds=${STRESS_MPSC_ROUNDS:-1000}
mprods=${STRESS_MPSC_PRODUCERS:-4}
secs=${STRESS_SECONDS:-3600}
seed_arg=${STRESS_SEED:-}
only=()

usage() {
	echo "usage: $0 [--messages N] [--kill-rounds N] [--thread-messages N]" \
		"[--mpsc-rounds N] [--mpsc-producers P] [--seconds S] [--seed X]" \
		"[--only processes|kill|threads|mpsc]..." >&2
	exit 2
}
while [ $# -gt 0 ]; do
	[ $# -ge 2 ] || usage
	case $1 in
	--messages) msgs=$2 ;;
	--kill-rounds) rounds=$2 ;;
	--thread-messages) tmsgs=$2 ;;
	--mpsc-rounds) mrounds=$2 ;;
	--mpsc-producers) mprods=$2 ;;
	--seconds) secs=$2 ;;
	--seed) seed_arg=$2 ;;
	--only)
		case $2 in processes | kill | threads | mpsc) only+=("$2") ;; *) usage ;; esac
		;;
	*) usage ;;
	esac
	shift 2
done
seed=()
[ -n "$seed_arg" ] && seed=(--seed "$seed_arg")
passed=0
failed=0

if [ ! -f "$build/build.ninja" ]; then
	meson setup "$build" -Dbuildtype=release -Dbenchmarks=disabled \
		>"$build.setup.log" 2>&1 || { tail -20 "$build.setup.log"; exit 1; }
fi
if ! ninja -C "$build" tests/stress/stress_ring tests/stress/stress_mpsc \
	>"$build.build.log" 2>&1; then
	tail -30 "$build.build.log"
	echo "stress: 0 passed, 1 failed"
	exit 1
fi
exe="$build/tests/stress/stress_ring"
mexe="$build/tests/stress/stress_mpsc"

wanted() {
	[ ${#only[@]} -eq 0 ] && return 0
	local m
	for m in "${only[@]}"; do [ "$m" = "$1" ] && return 0; done
	return 1
}

one() {
	local prog=$exe
	if [ "$1" = mpsc ]; then
		prog=$mexe
		shift
	fi
	echo "+ $(basename "$prog") $* ${seed[*]}"
	if "$prog" "$@" "${seed[@]}"; then
		passed=$((passed + 1))
	else
		failed=$((failed + 1))
	fi
}

wanted processes && one --messages "$msgs" --seconds "$secs"
wanted kill && one --kill-rounds "$rounds" --seconds "$secs"
wanted threads && one --threads --messages "$tmsgs" --seconds "$secs"
wanted mpsc && one mpsc --rounds "$mrounds" --producers "$mprods" \
	--seconds "$secs"

echo "stress: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
