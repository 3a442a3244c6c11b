#!/usr/bin/env bash
# scripts/test-model.sh -- model-check the wake protocol (tests/model/wake.pml)
# with SPIN: the correct protocol under several configurations must verify
# with no error (both sides registered for the heavy barrier or not, in
# every combination), and each broken variant (a fence or the heavy barrier
# removed, re-check removed, state read after index, close without wake)
# must make SPIN report the expected error: a must-fail check passes when
# SPIN finds it.
# Prints one line per check, then as its LAST line
# "model: N passed, N failed"; exits non-zero on any failure.
set -u
cd "$(dirname "$0")/.." || exit 1
. scripts/lib.sh

model="$PWD/tests/model/wake.pml"
work=$(mktemp -d "${TMPDIR:-/tmp}/shmring-model.XXXXXX")
trap 'rm -rf "$work"' EXIT
passed=0
failed=0

command -v spin >/dev/null || sr_install spin || true

# check NAME EXPECT DEFINES...: EXPECT is "ok" or a grep pattern for the
# error SPIN must print: "invalid end state" (a process blocked forever),
# "violated.*nosig" (the lost wake-up assertion), "violated (pos==" (end of
# stream seen before the last message), "acceptance cycle" (the LTL
# property "the consumer always observes end of stream" fails).
check() {
	local name=$1 expect=$2 dir="$work/$1" mode=safety out errors
	shift 2
	case " $* " in *" -DLTL_EOS "*) mode=ltl ;; esac
	mkdir -p "$dir"
	if ! (cd "$dir" && spin -a "$@" "$model" >spin.log 2>&1); then
		echo "model: $name FAIL (spin -a: $(head -1 "$dir/spin.log"))"
		failed=$((failed + 1))
		return
	fi
	if [ $mode = ltl ]; then
		(cd "$dir" && gcc -O2 -w -o pan pan.c && ./pan -a -f -m1000000) >"$dir/pan.log" 2>&1
	else
		(cd "$dir" && gcc -O2 -w -DSAFETY -o pan pan.c && ./pan -m1000000) >"$dir/pan.log" 2>&1
	fi
	out="$dir/pan.log"
	errors=$(sed -n 's/.*errors: \([0-9]*\).*/\1/p' "$out" | tail -1)
	local states
	states=$(sed -n 's/^ *\([0-9.e+]*\) states, stored.*/\1/p' "$out" | head -1)
	if grep -q 'max search depth too small' "$out"; then
		errors=${errors:-0}
		[ "$expect" = ok ] && errors=depth
	fi
	if [ "$expect" = ok ] && [ "${errors:-x}" = 0 ]; then
		echo "model: $name ok ($* ; $states states, no error)"
		passed=$((passed + 1))
	elif [ "$expect" != ok ] && [ "${errors:-0}" != 0 ] &&
		[ "$errors" != depth ] && grep -q -- "$expect" "$out"; then
		echo "model: $name ok (must fail: SPIN found \"$expect\" with $*)"
		passed=$((passed + 1))
	else
		echo "model: $name FAIL (expected ${expect}; errors=${errors:-?})"
		grep -E 'pan:|error' "$out" | head -5
		failed=$((failed + 1))
	fi
}

if ! command -v spin >/dev/null; then
	echo "model: spin not installed"
	echo "model: 0 passed, 1 failed"
	exit 1
fi

# The protocol as ring.c does it: must verify.
check base ok
check two-slots ok -DK=2 -DNMSG=4
check slices ok -DSLICES
check slices-timeouts ok -DSLICES -DTIMEOUTS
check consumer-close ok -DSLICES -DCONS_CLOSE
check full-fences ok -DFULL_FENCES -DSLICES
check eos-ltl ok -DLTL_EOS
# Broken variants: SPIN must find the error.
check no-fence-waker "invalid end state" -DNO_SC_WAKER
check no-fence-waker-slices "violated.*nosig" -DNO_SC_WAKER -DSLICES
check no-fence-waker-ltl "acceptance cycle" -DNO_SC_WAKER -DLTL_EOS
check no-fence-sleeper "invalid end state" -DNO_SC_SLEEPER
check no-fence-sleeper-slices "violated.*nosig" -DNO_SC_SLEEPER -DSLICES
check no-heavy-barrier "invalid end state" -DNO_HEAVY
check no-heavy-barrier-slices "violated.*nosig" -DNO_HEAVY -DSLICES
check withdraw-without-heavy "invalid end state" -DNO_WITHDRAW_HEAVY
check withdraw-without-heavy-slices "violated.*nosig" -DNO_WITHDRAW_HEAVY -DSLICES
check no-recheck "invalid end state" -DNO_RECHECK
check no-recheck-slices "violated.*nosig" -DNO_RECHECK -DSLICES
check index-before-state "violated (pos==" -DINDEX_FIRST
check close-without-wake "invalid end state" -DNO_CLOSE_WAKE

echo "model: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
