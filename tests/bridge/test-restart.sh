#!/usr/bin/env bash
# tests/bridge/test-restart.sh -- at least once, with no duplicate at the
# consumer: SIGKILL of out, SIGKILL of in, and a restart of nats-server,
# each in the middle of a stream and followed by a restart; then SIGTERM
# of both bridges (exit 130, nothing lost); then a producer that dies
# (the far consumer sees EPEERDEAD, in exits 8).
SUITE=restart
# shellcheck source=tests/bridge/common.sh
. "$(dirname "$0")/common.sh"
N=${BRIDGE_RESTART_N:-200000}
RATE=${BRIDGE_RESTART_RATE:-100000}

nats_start
PROD_OPTS=(--min 24 --max 512 --seed 3 --rate "$RATE" --tolerate-dead)
CONS_OPTS=(--min 24 --max 512 --seed 3 --tolerate-dead)
OUT_OPTS=(--pub-timeout 1)
IN_OPTS=()

# ---- out killed -------------------------------------------------------------
pipeline kout "$N"
sleep 0.8
check "out is running mid-stream when it is killed" kill -9 "$OUT_PID"
wait "$OUT_PID" 2>/dev/null
check "... and it is gone" test ! -e "/proc/$OUT_PID"
spawn OUT_PID bridge_out kout 2>>"$WORK/kout.out"
finish_pipeline
verified "SIGKILL of out mid-stream, restart: 0 lost, 0 duplicated" kout
grep -h 'end:' "$WORK/kout.in" | sed 's/^/#   /'

# ---- in killed ---------------------------------------------------------------
pipeline kin "$N"
sleep 0.8
check "in is running mid-stream when it is killed" kill -9 "$IN_PID"
wait "$IN_PID" 2>/dev/null
sleep 0.3
spawn IN_PID bridge_in kin 2>>"$WORK/kin.in"
finish_pipeline
verified "SIGKILL of in mid-stream, restart: 0 lost, 0 duplicated" kin

# ---- in killed twice, between a commit and its ack more likely: small batches
IN_OPTS=(--batch 8)
pipeline kin2 "$N"
for _ in 1 2; do
	sleep 0.5
	kill -9 "$IN_PID" 2>/dev/null
	wait "$IN_PID" 2>/dev/null
	spawn IN_PID bridge_in kin2 2>>"$WORK/kin2.in"
done
finish_pipeline
verified "in (--batch 8) killed twice mid-stream: 0 lost, 0 duplicated" kin2
IN_OPTS=()

# ---- the server restarted ----------------------------------------------------------
pipeline kns "$N"
sleep 0.8
nats_stop
sleep 0.5
nats_start
finish_pipeline
verified "nats-server restarted mid-stream: 0 lost, 0 duplicated" kns
check "... out published again after the restart" grep -q 'republished' "$WORK/kns.out"

# ---- SIGTERM: an orderly stop, then a restart --------------------------------------
pipeline term "$N"
sleep 0.8
kill -TERM "$OUT_PID" "$IN_PID"
wait "$OUT_PID"
st_out=$?
wait "$IN_PID"
st_in=$?
check "SIGTERM: out exits 130 (got $st_out), in exits 130 (got $st_in)" \
	test "$st_out" -eq 130 -a "$st_in" -eq 130
spawn IN_PID bridge_in term 2>>"$WORK/term.in"
spawn OUT_PID bridge_out term 2>>"$WORK/term.out"
finish_pipeline
verified "SIGTERM of both mid-stream, restart: 0 lost, 0 duplicated" term

# ---- a producer that dies ------------------------------------------------------------
PROD_OPTS=(--min 24 --max 512 --seed 4 --die-after 5000)
CONS_OPTS=(--min 24 --max 512 --seed 4)
PROD_N=6000 pipeline dead 5000
finish_pipeline
line=$(grep '^verify:' "$WORK/dead.cons")
echo "#   $line"
check "a producer that dies: the far consumer gets all 5000, then EPEERDEAD" \
	grep -q 'unique=5000 lost=0 dup=0 reordered=0 corrupt=0 end=dead' <<<"$line"
check "... out exits 8 (got $OUT_ST), in exits 8 (got $IN_ST)" \
	test "$OUT_ST" -eq 8 -a "$IN_ST" -eq 8

nats_stop
finish
