#!/usr/bin/env bash
# scripts/fuzz.sh SECONDS [HARNESS...] -- build the libFuzzer harnesses of
# tests/fuzz/ with clang (ASan+UBSan, build dir build-fuzz or $FUZZ_BUILD)
# and run each one (default: open ops mpsc) for SECONDS, starting from the
# committed seed corpus. Any crash, property failure, leak or hang (an input
# running over 10 s) fails the harness; its input is saved under
# BUILD/fuzz-artifacts/. New corpus entries stay in BUILD/fuzz-work/ (the
# committed corpus is never written). Prints one line per harness with its
# execution count, then as its LAST line "fuzz: N passed, N failed";
# exits non-zero on any failure.
set -u
cd "$(dirname "$0")/.." || exit 1
. scripts/lib.sh

secs=${1:-60}
shift || true
harnesses=("$@")
[ ${#harnesses[@]} -gt 0 ] || harnesses=(open ops mpsc)
build=${FUZZ_BUILD:-build-fuzz}
passed=0
failed=0

finish() {
	echo "fuzz: $passed passed, $failed failed"
	[ "$failed" -eq 0 ]
	exit
}

if ! command -v clang >/dev/null; then
	sr_install clang libclang-rt-14-dev || { failed=${#harnesses[@]}; finish; }
fi
if [ ! -f "$build/build.ninja" ]; then
	CC=clang meson setup "$build" -Dfuzzing=true -Dbenchmarks=disabled \
		>"$build.setup.log" 2>&1 || {
		tail -20 "$build.setup.log"
		failed=${#harnesses[@]}
		finish
	}
fi
targets=()
for h in "${harnesses[@]}"; do targets+=("tests/fuzz/fuzz_$h"); done
if ! ninja -C "$build" "${targets[@]}" >"$build/fuzz-build.log" 2>&1; then
	tail -30 "$build/fuzz-build.log"
	failed=${#harnesses[@]}
	finish
fi

# A small quarantine (16 MiB, still far more than one input frees) and
# short allocation stacks: each attach callocs and frees 16 KiB, and with
# the default 256 MiB quarantine every input touches fresh pages.
export ASAN_OPTIONS=${ASAN_OPTIONS:-quarantine_size_mb=16:malloc_context_size=10}

for h in "${harnesses[@]}"; do
	work="$build/fuzz-work/$h"
	art="$build/fuzz-artifacts"
	log="$build/fuzz-$h.log"
	mkdir -p "$work" "$art"
	maxlen=4096
	[ "$h" = open ] && maxlen=16384 # segment images start at 4224 bytes
	start=$SECONDS
	timeout -k 10 $((secs + 120)) "$build/tests/fuzz/fuzz_$h" \
		-max_total_time="$secs" -max_len="$maxlen" -timeout=10 \
		-rss_limit_mb=2048 -print_final_stats=1 \
		-artifact_prefix="$art/$h-" "$work" "tests/fuzz/corpus/$h" \
		>"$log" 2>&1
	rc=$?
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
	rate=$(grep -o 'exec/s: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)
	echo "fuzz_$h: ${execs:-0} executions in $((SECONDS - start)) s (${rate:-?} exec/s), exit $rc"
	if [ "$rc" -eq 0 ]; then
		passed=$((passed + 1))
	else
		failed=$((failed + 1))
		grep -E 'property failed|ERROR|SUMMARY|Test unit written' "$log" | head -10
	fi
done
finish
