#!/usr/bin/env bash
# scripts/test-model.sh -- model-check the publish / wake protocol
# (tests/model/wake.pml) with SPIN: records over several slots with padding
# at the wrap, and the sleep / wake handshake. The correct protocol under
# several configurations must verify with no error (both sides registered
# for the heavy barrier or not, in every combination; fixed and random
# record sizes; batches), and each broken variant (a fence or the heavy
# barrier removed, re-check removed, state read after index, close without
# wake, head published before a record's last slot or its header, padding
# skipped without releasing it, padding not counted in the room needed)
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
# "violated.*nosig" (the lost wake-up assertion), "violated (seq==" (end of
# stream seen before the last message), "violated (tag==" (a delivered
# record with a slot not (yet) its own: torn or overwritten), "violated
# hdr_ok" (a record header the consumer must reject), "acceptance cycle"
# (the LTL property "the consumer always observes end of stream" fails).
# pan is compiled with $opt: -O0 by default, for the small searches (gcc
# -O2 takes about 5 s on pan.c, more than it saves there); "opt=-O2 check
# ..." for the large ones.
opt=-O0
check() {
	local name=$1 expect=$2 dir="$work/$1" mode=safety out errors
	shift 2
	case " $* " in *" -DLTL_EOS "*) mode=ltl ;; esac
	mkdir -p "$dir"
	if ! (cd "$dir" && spin -a "$@" "$model" >spin.log 2>&1); then
		echo "model: $name FAIL (spin -a: $(head -1 "$dir/spin.log"))"
		return
	fi
	if [ $mode = ltl ]; then
		(cd "$dir" && gcc $opt -w -o pan pan.c && ./pan -a -f -m1000000) >"$dir/pan.log" 2>&1
	else
		(cd "$dir" && gcc $opt -w -DSAFETY -o pan pan.c && ./pan -m1000000) >"$dir/pan.log" 2>&1
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
	elif [ "$expect" != ok ] && [ "${errors:-0}" != 0 ] &&
		[ "$errors" != depth ] && grep -q -- "$expect" "$out"; then
		echo "model: $name ok (must fail: SPIN found \"$expect\" with $*)"
	else
		echo "model: $name FAIL (expected ${expect}; errors=${errors:-?})"
		grep -E 'pan:|error' "$out" | head -5
	fi
}

# run CHECK ARGS...: one check (check or mcheck) in the background, at most
# $jobs_max at once (each SPIN search is one process: on 2 CPUs this halves
# the section's time); its lines go to $work/out.NNN, printed in order at
# the end.
jobs_max=$(nproc 2>/dev/null || echo 1)
[ "$jobs_max" -gt 2 ] && jobs_max=2
nrun=0
run() {
	nrun=$((nrun + 1))
	while [ "$(jobs -rp | wc -l)" -ge "$jobs_max" ]; do
		wait -n
	done
	"$@" >"$work/out.$(printf %03d "$nrun")" 2>&1 &
}

if ! command -v spin >/dev/null; then
	echo "model: spin not installed"
	echo "model: 0 passed, 1 failed"
	exit 1
fi

# The protocol: must verify. Default geometry (wake.pml): 4 slots, three
# messages of 2, 3 and 2 slots: a padding published alone (message 1 needs
# 2 + 3 > 4 slots) whose release the producer waits for, then a padding
# and a record in one head store (message 2), over three laps. The runs
# with SLICES and TIMEOUTS or CONS_CLOSE, whose state count grows fastest,
# send the first two (the padding published alone); any-sizes covers every
# pair of extents 1..4 (padding alone or with its record, records of the
# whole ring, a record ending at the last slot); batch-pad-in-run (2, 1,
# 2) has a padding inside one consumer's run.
run check base ok
run check one-slot ok -DK=1
run check two-slots ok -DK=2 -DNMSG=4
opt=-O2 run check any-sizes ok -DANY_SIZES -DNMSG=2
run check batch ok -DBATCH
run check batch-pad-in-run ok -DBATCH -DS1=1
opt=-O2 run check slices ok -DSLICES
opt=-O2 run check slices-timeouts ok -DSLICES -DTIMEOUTS -DNMSG=2
opt=-O2 run check consumer-close ok -DSLICES -DCONS_CLOSE -DNMSG=2
run check full-fences ok -DFULL_FENCES -DSLICES
opt=-O2 run check eos-ltl ok -DLTL_EOS
# Broken variants: SPIN must find the error.
run check no-fence-waker "invalid end state" -DNO_SC_WAKER
run check no-fence-waker-slices "violated.*nosig" -DNO_SC_WAKER -DSLICES
run check no-fence-waker-ltl "acceptance cycle" -DNO_SC_WAKER -DLTL_EOS
run check no-fence-sleeper "invalid end state" -DNO_SC_SLEEPER
run check no-fence-sleeper-slices "violated.*nosig" -DNO_SC_SLEEPER -DSLICES
run check no-heavy-barrier "invalid end state" -DNO_HEAVY
run check no-heavy-barrier-slices "violated.*nosig" -DNO_HEAVY -DSLICES
run check withdraw-without-heavy "invalid end state" -DNO_WITHDRAW_HEAVY
run check withdraw-without-heavy-slices "violated.*nosig" -DNO_WITHDRAW_HEAVY -DSLICES
run check no-recheck "invalid end state" -DNO_RECHECK
run check no-recheck-slices "violated.*nosig" -DNO_RECHECK -DSLICES
run check index-before-state "violated (seq==" -DINDEX_FIRST
run check close-without-wake "invalid end state" -DNO_CLOSE_WAKE
run check torn-record "violated (tag==" -DTORN
run check header-after-head "violated hdr_ok" -DHDR_LATE
run check pad-without-tail "invalid end state" -DNO_PAD_TAIL
run check pad-without-tail-ltl "acceptance cycle" -DNO_PAD_TAIL -DSLICES -DLTL_EOS -DNMSG=2
# 1, 2, 2: message 2 (at slot 3) needs 1 + 2 slots, and 2 are free while
# message 1 (slots 1-2) is still unread.
run check pad-not-counted "violated (tag==" -DNO_PAD_ROOM -DS0=1 -DS1=2 -DS2=2

# The many-producer ring (tests/model/mpsc.pml, docs/protocol.md "Many
# producers"): two producers and one consumer on x86-TSO, the claim of
# steps 1-8, release and the sleepers wake-up with each producer's wake
# threshold (wake_at) and the consumer's forced wake before it sleeps; with
# DIE producer 0 may die at any step (between its word CAS and head CAS,
# with its RESV open, after its commit before W1, ...) and the consumer
# recovers its hole. mcheck is check for that model: EXPECT is "ok" or an
# extended regular expression for the error SPIN must print: "invalid end
# state" (someone asleep for ever), "violated +!\(lost\)" (asleep on a
# record or a close whose W1 did not signal), "violated +!\(plost\)" (a
# producer asleep on a threshold that a finished consumer's W1 reached:
# lost to the W1s, which only the forced wake would hide),
# "violated \(seq" (a message never delivered), "violated prod_ebadfmt"
# (a producer's EBADFMT), "violated +!\(stale\)" (a producer's store landing
# in a slot word the consumer had freed for a later lap), "violated dead"
# (a live producer's record recovered as a hole), or one of the delivery
# checks ("violated \(\(mm<committed": a record delivered that was never
# committed, or discarded).
mmodel="$PWD/tests/model/mpsc.pml"
mcheck() {
	local name=$1 expect=$2 dir="$work/mpsc-$1" out errors states
	shift 2
	mkdir -p "$dir"
	if ! (cd "$dir" && spin -a "$@" "$mmodel" >spin.log 2>&1); then
		echo "model: $name FAIL (spin -a: $(head -1 "$dir/spin.log"))"
		return
	fi
	(cd "$dir" && gcc $opt -w -DSAFETY -o pan pan.c && ./pan -m1000000) >"$dir/pan.log" 2>&1
	out="$dir/pan.log"
	errors=$(sed -n 's/.*errors: \([0-9]*\).*/\1/p' "$out" | tail -1)
	states=$(sed -n 's/^ *\([0-9.e+]*\) states, stored.*/\1/p' "$out" | head -1)
	if grep -q 'max search depth too small' "$out"; then
		errors=${errors:-0}
		[ "$expect" = ok ] && errors=depth
	fi
	if [ "$expect" = ok ] && [ "${errors:-x}" = 0 ]; then
		echo "model: $name ok ($* ; $states states, no error)"
	elif [ "$expect" != ok ] && [ "${errors:-0}" != 0 ] &&
		[ "$errors" != depth ] && grep -Eq -- "$expect" "$out"; then
		echo "model: $name ok (must fail: SPIN found \"$expect\" with $*)"
	else
		echo "model: $name FAIL (expected ${expect}; errors=${errors:-?})"
		grep -E 'pan:|error' "$out" | head -5
	fi
}

# Must verify. mpsc-k4: 4 slots, a record of 3 and one of 2, in either
# order: padding claimed alone (3 at slot 2) or before a record (2 at slot
# 3). mpsc-k2: 2 slots, records of 1, 2, 1
# slots (a record of the whole ring, padding alone every lap, producers
# waiting for room). mpsc-die, mpsc-die-k4: those two rings, producer 0
# (the one with the larger record) may die at any step. In each a
# producer sleeps below its threshold while the consumer releases (with
# K = 2 even with room at the new tail: a wait at step 3).
# mpsc-no-forced-wake: the thresholds alone are live, the consumer sleeps
# without waking every producer first (the model's producers hold no
# claim open while they wait: the forced wake is not needed here).
opt=-O2 run mcheck mpsc-k4 ok -DN0=1 -DN1=1 -DE00=3 -DE10=2
opt=-O2 run mcheck mpsc-k2 ok -DK=2 -DN0=1 -DN1=2
opt=-O2 run mcheck mpsc-die ok -DDIE -DK=2 -DN0=1 -DN1=1
opt=-O2 run mcheck mpsc-die-k4 ok -DDIE -DN0=1 -DN1=1 -DE00=3 -DE10=2
run mcheck mpsc-no-forced-wake ok -DNO_FORCED_WAKE -DK=2 -DN0=1 -DN1=1
# Batch claims (BATCH): producer 0 claims as claimv, its messages left
# that fit behind the first in one span under one RESV word, and commits
# the first n of them for every n (commitv(n); n = 0 is commitv(0), or
# close with the claim open): every word but the first, then the first.
# mpsc-batch: a record of 1 and one of 2, in one span or each alone (the
# second not fitting before the end: padding first), beside a record of 3
# (padding at the wrap): the span's slots freed and claimed again a lap
# later, a single claim discarded too. mpsc-batch-die: two records
# of one slot beside one of 2 (4 slots: no lap 1); producer 0 may die
# between any two of the span's stores too (its RESV one hole, whatever
# it wrote behind it).
opt=-O2 run mcheck mpsc-batch ok -DBATCH -DN0=2 -DN1=1 -DE00=1 -DE01=2 -DE10=3
opt=-O2 run mcheck mpsc-batch-die ok -DBATCH -DDIE -DN0=2 -DN1=1 -DE00=1 -DE01=1 -DE10=2
# The text of docs/protocol.md where the model needs a fix (the model's
# default; see the header of mpsc.pml): SPIN must reject the text.
run mcheck doc-pad-without-wake 'violated +!\(lost\)' -DDOC_PAD_NO_WAKE -DK=2 -DN0=1 -DN1=1
run mcheck doc-head-behind-tail 'violated +!\(plost\)' -DDOC_HEAD_BEHIND -DN0=1 -DN1=1
run mcheck doc-ebadfmt-race 'violated prod_ebadfmt' -DDOC_BADFMT_RACE -DN0=1 -DN1=2
# Broken variants: SPIN must find the error. A fence of the producers'
# sleep / wake-up removed is found as plost; with neither the forced wake
# nor the plost check (unforced), the same bug is a deadlock.
run mcheck mpsc-no-sleepers-fence 'violated +!\(plost\)' -DNO_P_FENCE -DK=2 -DN0=1 -DN1=2
run mcheck mpsc-no-consumer-fence 'violated +!\(plost\)' -DNO_C_FENCE -DK=2 -DN0=1 -DN1=1
run mcheck mpsc-no-consumer-fence-unforced 'invalid end state' -DNO_C_FENCE -DNO_FORCED_WAKE -DNO_PLOST -DK=2 -DN0=1 -DN1=1
# A threshold that can pass h (room for need plus half the ring, not the
# larger of the two): a 2-slot record's wake_at on 2 slots is h + 1, a
# tail that never comes while the consumer sleeps on the empty ring at h.
# Hidden by the forced wake (SPIN accepts -DNO_CLAMP alone): checked
# without it, beside mpsc-no-forced-wake.
run mcheck mpsc-no-clamp 'invalid end state' -DNO_CLAMP -DNO_FORCED_WAKE -DK=2 -DN0=1 -DN1=1
run mcheck mpsc-no-sleep-fence 'violated +!\(lost\)' -DNO_S_FENCE -DN0=1 -DN1=1
run mcheck mpsc-commit-without-wake 'violated +!\(lost\)' -DNO_W1 -DN0=1 -DN1=1
run mcheck mpsc-claim-by-head 'violated \(seq' -DHEAD_CLAIM -DDIE -DN0=1 -DN1=1
run mcheck mpsc-free-without-lap 'violated' -DNO_LAP_FREE -DK=2
run mcheck mpsc-recover-live 'violated dead' -DRECOVER_LIVE -DN0=1 -DN1=1
# The old sr_mp_commit (FIRST_WORD_FIRST, before 596cb9d): with commitv(0)
# the span's first word (PAD) stored before the other records' words and
# once more after them: the consumer frees the span under the later
# stores, and the last lands in a slot freed for the next lap; without that
# check (NO_STALE), the consumer's EBADFMT a lap later at the PAD word of an
# earlier lap, as the kill suite saw. A span's RESV word over its first
# record only (RESV_ONE): the other producer claims inside the span, and a
# discarded record is delivered.
run mcheck mpsc-batch-first-word-first 'violated +!\(stale\)' -DFIRST_WORD_FIRST -DN0=2 -DN1=1 -DE00=1 -DE01=1 -DE10=2
run mcheck mpsc-batch-first-word-first-ebadfmt 'violated cons_ebadfmt' -DFIRST_WORD_FIRST -DNO_STALE -DN0=2 -DN1=1 -DE00=1 -DE01=1 -DE10=2
run mcheck mpsc-batch-resv-one 'violated \(\(mm<committed' -DBATCH -DRESV_ONE -DN0=2 -DN1=1 -DE00=1 -DE01=1 -DE10=2

wait
cat "$work"/out.*
passed=$(cat "$work"/out.* | grep -Ec '^model: [^ ]+ ok')
failed=$(cat "$work"/out.* | grep -Ec '^model: [^ ]+ FAIL')
# a check that printed no verdict (killed, say) is a failure too
[ $((passed + failed)) -lt "$nrun" ] && failed=$((nrun - passed))
echo "model: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
