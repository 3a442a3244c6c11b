#!/usr/bin/env bash
# scripts/test-sanitize.sh -- the test suite under sanitizers (gcc):
#   1. build-asan: -Db_sanitize=address,undefined (UBSan without recovery),
#      every registered test (`meson test`, all suites that exist);
#   2. build-tsan: -Db_sanitize=thread, suite 'stress' (only threaded
#      stress is registered there: TSan does not support fork, and
#      Criterion cannot start under it).
# Any sanitizer report aborts the test that made it, so it counts as a
# failure. Prints "asan: ..." and "tsan: ..." (scripts/lib.sh
# sr_meson_counts), then as its LAST line "sanitize: N passed, N failed";
# exits non-zero on any failure. SANITIZE_JOBS sets meson's parallelism
# (default 2).
set -u
cd "$(dirname "$0")/.." || exit 1
. scripts/lib.sh

export ASAN_OPTIONS="halt_on_error=1:abort_on_error=1:print_stacktrace=1:detect_leaks=1:strict_string_checks=1"
export UBSAN_OPTIONS="halt_on_error=1:abort_on_error=1:print_stacktrace=1"
export TSAN_OPTIONS="halt_on_error=1:abort_on_error=1:second_deadlock_stack=1"
# Criterion's runner keeps a few small allocations until exit (seen as a
# 96-byte "leak" from libcriterion.so); the library under test is not
# suppressed.
supp="$PWD/build-asan.lsan.supp"
echo "leak:libcriterion.so" >"$supp"
export LSAN_OPTIONS="suppressions=$supp:print_suppressions=0"
jobs=${SANITIZE_JOBS:-2}
passed=0
failed=0

# run DIR LABEL MESON_TEST_ARGS...: set up (once), build, test, count.
run() {
	local dir=$1 label=$2 line p f
	shift 2
	if ! ninja -C "$dir" >"$dir.build.log" 2>&1; then
		tail -30 "$dir.build.log"
		echo "$label: 0 passed, 1 failed (build)"
		failed=$((failed + 1))
		return
	fi
	meson test -C "$dir" --no-rebuild --print-errorlogs \
		--num-processes "$jobs" --timeout-multiplier 3 "$@" \
		>"$dir.test.log" 2>&1
	grep -E '^ *[0-9]+/[0-9]+ .*(FAIL|TIMEOUT|ERROR)' "$dir.test.log" | head -20
	line=$(sr_meson_counts "$dir" "$label")
	echo "$line"
	p=$(echo "$line" | sed -n 's/.*: \([0-9]*\) passed.*/\1/p')
	f=$(echo "$line" | sed -n 's/.* \([0-9]*\) failed.*/\1/p')
	passed=$((passed + ${p:-0}))
	failed=$((failed + ${f:-1}))
}

setup() {
	local dir=$1
	shift
	[ -f "$dir/build.ninja" ] && return 0
	CC=gcc meson setup "$dir" -Dbenchmarks=disabled \
		-Db_lundef=false "$@" >"$dir.setup.log" 2>&1 || {
		tail -20 "$dir.setup.log"
		return 1
	}
}

if setup build-asan -Db_sanitize=address,undefined \
	-Dc_args=-fno-sanitize-recover=all \
	-Dc_link_args=-fno-sanitize-recover=all; then
	run build-asan asan
else
	echo "asan: 0 passed, 1 failed (setup)"
	failed=$((failed + 1))
fi

# TSan cannot map its shadow memory with the high mmap randomisation of
# recent kernels (vm.mmap_rnd_bits > 28): run the tests without ASLR.
wrap=()
if [ "$(cat /proc/sys/vm/mmap_rnd_bits 2>/dev/null || echo 0)" -gt 28 ] &&
	setarch "$(uname -m)" -R true 2>/dev/null; then
	wrap=(--wrapper "setarch $(uname -m) -R")
fi
if setup build-tsan -Db_sanitize=thread; then
	run build-tsan tsan --suite stress "${wrap[@]}"
else
	echo "tsan: 0 passed, 1 failed (setup)"
	failed=$((failed + 1))
fi

# The Python extension under ASan+UBSan (its own build and venv).
pylog=$(mktemp)
bash scripts/test-python.sh --asan 2>&1 | tee "$pylog"
line=$(grep -E '^python-asan: [0-9]+ passed, [0-9]+ failed' "$pylog" | tail -n 1)
rm -f "$pylog"
p=$(sed -nE 's/^python-asan: ([0-9]+) passed.*/\1/p' <<<"$line")
f=$(sed -nE 's/^python-asan: [0-9]+ passed, ([0-9]+) failed.*/\1/p' <<<"$line")
passed=$((passed + ${p:-0}))
failed=$((failed + ${f:-1}))

echo "sanitize: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
