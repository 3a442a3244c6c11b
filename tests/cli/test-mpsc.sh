#!/usr/bin/env bash
# tests/cli/test-mpsc.sh -- many writers into one reader: read --mpsc
# creates a many-producer ring, several writers attach to it (each
# blocked on a FIFO, so that all are attached before any ends), stat
# shows their producer entries (human and JSON), the reader gets every
# line exactly once, each writer's in its order, and ends with status 0
# once every writer has closed; a writer killed while attached shows as
# dead, the next writer takes its entry over; --mpsc on a ring that exists
# is ignored; a single-producer ring gets no new stat section.
SUITE=mpsc
# shellcheck source=tests/cli/common.sh
. "$(dirname "$0")/common.sh"

# jstat NAME: stat --json NAME into $WORK/st.json.
jstat() {
	"$SHMRING" stat --json "$1" >"$WORK/st.json" 2>/dev/null
}

# producers NAME N: the ring has N live producer handles.
producers() {
	jstat "$1" && json "$WORK/st.json" "j['producers'] == $2" >/dev/null
}

# stat_both NAME WHEN DESC EXPR SECTION: stat --json NAME holds EXPR (DESC
# says what), and the human stat (left in $OUT) has the line
# "  producers      SECTION".
stat_both() {
	expect "stat --json $2" 0 "" -- S stat --json "$1"
	jcheck "stat --json $2: $3" "$OUT" "$4"
	expect "stat $2" 0 "" -- S stat "$1"
	check "stat $2: $5" grep -Eqx "  producers +$5" "$OUT"
}

# fan_in NAME N [READ-OPTS...]: a reader (read --mpsc --lines READ-OPTS,
# pid in $rd, output in $WORK/NAME.out and .err) creates ring NAME, then N
# writers (at most 3) attach, each reading a FIFO of its own: it starts,
# and attaches, when we open the FIFO. Their pids in WPIDS, our write ends
# in fds 3, 4, 5 (not inherited by the writers, so that each sees the end
# of its input when we close its fd). Fails unless all N attach.
WPIDS=()
fan_in() {
	local name=$1 n=$2 f fd
	shift 2
	"$SHMRING" read --mpsc --lines "$@" "$name" >"$WORK/$name.out" 2>"$WORK/$name.err" &
	rd=$!
	BG_PIDS+=("$rd")
	wait_for 10 attached "$name" consumer || return 1
	WPIDS=()
	for ((fd = 3; fd < 3 + n; fd++)); do
		f="$WORK/$name.fifo$fd"
		mkfifo "$f"
		"$SHMRING" write --lines "$name" <"$f" 3>&- 4>&- 5>&- &
		WPIDS+=("$!")
		BG_PIDS+=("$!")
		eval "exec $fd>\"\$f\""
	done
	wait_for 10 producers "$name" "$n"
}

# kill_writer I: SIGKILL for writer I (from 0) of the last fan_in.
kill_writer() {
	{
		kill -9 "${WPIDS[$1]}"
		wait "${WPIDS[$1]}"
	} 2>/dev/null
}

expect "read --help mentions --mpsc" 0 "" -- S read --help
check "read --help: --mpsc" grep -q -- "--mpsc" "$OUT"
expect "write --help mentions --mpsc" 0 "" -- S write --help
check "write --help: --mpsc" grep -q -- "--mpsc" "$OUT"

# ---- three writers, one reader --------------------------------------------------
R=$T-m1
check "read --mpsc creates the ring, three writers attach" fan_in "$R" 3 --slots 256
stat_both "$R" "of the MPSC ring" \
	"the MPSC flag, 3 live producers, entries 0-2 attached with the writers' pids" \
	"j['flags'] == 1 and j['producers'] == 3 and j['producer']['state'] == 'attached' and [e['entry'] for e in j['producer_entries']] == [0, 1, 2] and all(e['state'] == 'attached' and e['sleeping'] is False for e in j['producer_entries']) and sorted(e['pid'] for e in j['producer_entries']) == sorted([${WPIDS[0]}, ${WPIDS[1]}, ${WPIDS[2]}])" \
	"3 entries, 3 live"
for i in 0 1 2; do
	check "stat: writer $((i + 1)) on its own entry line" \
		grep -Eqx "    entry [0-2] +attached ${WPIDS[$i]}" "$OUT"
done
expect "ls --json: producers, no entries" 0 "" -- S ls --json "$R"
jcheck "ls --json: producers 3, no producer_entries" "$OUT" \
	"j[0]['producers'] == 3 and 'producer_entries' not in j[0]"

# 2000 lines from each, of 1 to 150 bytes (some take several slots), all
# at once through a ring of 256 slots.
for w in 1 2 3; do
	awk -v w="$w" 'BEGIN { for (i = 1; i <= 2000; i++) {
		s = "w" w " " i " "; n = (i * 37 + w) % 140
		for (k = 0; k < n; k++) s = s "x"
		print s } }' >"$WORK/in$w"
done
cat "$WORK/in1" >&3 &
c1=$!
cat "$WORK/in2" >&4 &
c2=$!
cat "$WORK/in3" >&5 &
c3=$!
wait "$c1" "$c2" "$c3"
exec 3>&- 4>&- 5>&-
for i in 0 1 2; do
	wait "${WPIDS[$i]}"
	st=$?
	check "writer $((i + 1)) ends with status 0 (got $st)" test "$st" -eq 0
done
wait "$rd"
st=$?
check "the reader ends with status 0 once all three closed (got $st)" test "$st" -eq 0
check "the reader: nothing on stderr" test ! -s "$WORK/$R.err"
check "the reader got 6000 lines" test "$(wc -l <"$WORK/$R.out")" -eq 6000
# shellcheck disable=SC2016 # awk's $2, not the shell's
check "every line exactly once, each writer's in its order" \
	awk '{ if ($2 != ++n[$1]) bad = 1 } END { exit !(!bad && n["w1"] == 2000 && n["w2"] == 2000 && n["w3"] == 2000) }' "$WORK/$R.out"
echo "# the three writers' lines came in $(awk '$1 != p { t++; p = $1 } END { print t }' "$WORK/$R.out") runs"
check "whole lines: the same multiset as the input" \
	cmp -s <(sort "$WORK/in1" "$WORK/in2" "$WORK/in3") <(sort "$WORK/$R.out")
stat_both "$R" "after" "no live producer, three closed entries" \
	"j['producers'] == 0 and [e['state'] for e in j['producer_entries']] == ['closed'] * 3 and j['used_slots'] == 0" \
	"3 entries, 0 live"
check "stat after: entry 1 closed" grep -Eqx "    entry 1 +closed" "$OUT"

# ---- a writer killed while attached ---------------------------------------------------
R=$T-m2
check "a fresh ring, three writers attach" fan_in "$R" 3
jstat "$R"
dead_entry=$(json "$WORK/st.json" "[e['entry'] for e in j['producer_entries'] if e['pid'] == ${WPIDS[1]}][0]")
kill_writer 1
check "after the kill: two live" wait_for 10 producers "$R" 2
stat_both "$R" "with a dead writer" "its entry dead, with its pid; the others attached" \
	"sorted((e['state'], e['pid']) for e in j['producer_entries']) == sorted([('attached', ${WPIDS[0]}), ('attached', ${WPIDS[2]}), ('dead', ${WPIDS[1]})]) and j['producer']['state'] == 'attached'" \
	"3 entries, 2 live"
check "stat: the dead writer's entry $dead_entry" grep -Eqx "    entry $dead_entry +dead ${WPIDS[1]}" "$OUT"
check "the reader waits on: live writers remain" kill -0 "$rd"
expect "a late writer takes the dead entry over" 0 "" -- S write --lines "$R" <<<"late"
expect "stat --json after the late writer" 0 "" -- S stat --json "$R"
jcheck "the dead entry is now closed, no entry dead" "$OUT" \
	"[e['state'] for e in j['producer_entries'] if e['entry'] == $dead_entry] == ['closed'] and 'dead' not in [e['state'] for e in j['producer_entries']]"
echo first >&3
echo third >&5
exec 3>&- 4>&- 5>&-
wait "$rd"
st=$?
check "the reader ends with status 0 once the rest closed (got $st)" test "$st" -eq 0
check "the reader got the three lines" test "$(sort "$WORK/$R.out" | tr '\n' ' ')" = "first late third "

# The last live writer closes while a dead one holds its entry: status 8.
R=$T-m3
check "two writers attach" fan_in "$R" 2
kill_writer 0
echo last >&4
exec 3>&- 4>&-
wait "$rd"
st=$?
check "a dead writer and the other closed: the reader ends with status 8 (got $st)" test "$st" -eq 8
check "... after the line the other sent" test "$(cat "$WORK/$R.out")" = "last"
check "... shmring: NAME: peer process died" grep -qx "shmring: $R: peer process died" "$WORK/$R.err"

# ---- a writer waiting for room --------------------------------------------------------
# write --mpsc creates the ring too; with no reader it fills 16 slots and
# sleeps.
R=$T-m4
seq 1 300 >"$WORK/in300"
spawn_in "$WORK/in300" "$SHMRING" write --mpsc --lines --slots 16 "$R"
wr=$BG
# (Polled: between its sleeps of 50 ms it is awake for a moment.)
check "stat --json: write --mpsc made it; its one entry sleeping" \
	wait_for 10 bash -c "'$SHMRING' stat --json '$R' | python3 -c 'import json, sys; j = json.load(sys.stdin); sys.exit(not (j[\"flags\"] == 1 and [(e[\"entry\"], e[\"pid\"], e[\"sleeping\"]) for e in j[\"producer_entries\"]] == [(0, $wr, True)]))'"
check "stat: its entry waiting for room" \
	wait_for 10 bash -c "'$SHMRING' stat '$R' | grep -Eqx '    entry 0 +attached $wr, waiting for room'"
expect "a reader drains it" 0 "" -- S read --lines "$R"
check "... and gets all 300 lines" cmp -s "$OUT" "$WORK/in300"
wait "$wr"
st=$?
check "the writer ends with status 0 (got $st)" test "$st" -eq 0

# ---- --mpsc on a ring that exists; a single-producer ring ------------------------
R=$T-m5
printf 'one\ntwo\nthree\n' >"$WORK/in3"
expect "write creates a single-producer ring" 0 "" -- S write --lines "$R" <"$WORK/in3"
expect "write --mpsc into it: ignored, no error" 0 "" -- S write --mpsc --lines "$R" <"$WORK/in3"
expect "read --mpsc of it: ignored, no error" 0 "" -- S read --mpsc --lines --count 6 "$R"
check "read --mpsc got the six lines" test "$(cat "$OUT")" = "$(cat "$WORK/in3" "$WORK/in3")"
expect "stat --json of the single-producer ring" 0 "" -- S stat --json "$R"
jcheck "still single-producer; producers 0; one closed entry 0" "$OUT" \
	"j['flags'] == 0 and j['producers'] == 0 and [(e['entry'], e['state'], e['sleeping']) for e in j['producer_entries']] == [(0, 'closed', False)]"
expect "stat of the single-producer ring" 0 "" -- S stat "$R"
check "stat: no producers section for a single producer" test "$(grep -c "^  producers" "$OUT")" -eq 0
expect "ls --json of it" 0 "" -- S ls --json "$R"
jcheck "ls --json: producers 0" "$OUT" "j[0]['producers'] == 0 and 'producer_entries' not in j[0]"
expect "stat --watch --json --count 2" 0 "" -- S stat --json --watch 0.1 --count 2 "$R"
check "--watch --json: every line has producer_entries" \
	python3 -c 'import json, sys; ls = [json.loads(l) for l in open(sys.argv[1])]; sys.exit(not (len(ls) == 2 and all("producer_entries" in l and l["producers"] == 0 for l in ls)))' "$OUT"

finish
