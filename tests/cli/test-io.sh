#!/usr/bin/env bash
# tests/cli/test-io.sh -- shmring write and read: every framing round trip
# (records, --lines, --size, --raw, and across framings), creation and
# geometry, the counters against a known stream, and every failure with
# its status and message: a record or line too large, a truncated record,
# a busy role, a broken or closed stdout, a reader that closed, a peer
# that died, --timeout, Ctrl-C and SIGTERM as an orderly close.
SUITE=io
# shellcheck source=tests/cli/common.sh
. "$(dirname "$0")/common.sh"
GEN="python3 $(dirname "$0")/gen.py"

# roundtrip DESC NAME "GEOMETRY" "WRITE-OPTS" "READ-OPTS" IN EXPECTED: start
# a reader (it creates the ring with GEOMETRY), then write IN into the ring
# while it reads; compare what it read with EXPECTED. The reader attaches
# first: one that starts at the same instant as a writer on a missing ring
# may reclaim the writer's ring if the writer has already closed it
# (docs/man/shmring.1, BUGS).
roundtrip() {
	local desc=$1 name=$2 geom=$3 wopts=$4 ropts=$5 in=$6 want=$7 rd st
	# shellcheck disable=SC2086
	S read $geom $ropts "$name" >"$WORK/rt.out" 2>"$WORK/rt.err" &
	rd=$!
	wait_for 10 attached "$name" consumer
	# shellcheck disable=SC2086
	expect "$desc: write" 0 "" -- S write $geom $wopts "$name" <"$in"
	wait "$rd"
	st=$?
	check "$desc: the reader ends with 0 (got $st)" test "$st" -eq 0
	check "$desc: identical" cmp -s "$WORK/rt.out" "$want"
}

# ---- records (the default) ------------------------------------------------------
$GEN records "$WORK/rec" 3000 3000 1
roundtrip "records: 3000 random binary messages of 0..3000 bytes" "$T-r1" \
	"--slots 256" "" "" "$WORK/rec" "$WORK/rec"
read -r n b < <($GEN count "$WORK/rec")
expect "stat after the records" 0 "" -- S stat --json "$T-r1"
jcheck "records: the counters match the stream ($n messages, $b bytes)" "$OUT" \
	"j['producer']['counters']['messages'] == $n and j['producer']['counters']['bytes'] == $b and j['consumer']['counters']['messages'] == $n and j['consumer']['counters']['bytes'] == $b and j['used_slots'] == 0"
jcheck "records: the ring was created with --slots" "$OUT" "j['slot_count'] == 256 and j['slot_size'] == 56"
# Records larger than the write buffer (256 KiB) go straight into the ring.
$GEN big "$WORK/bigrec" 6 1000000 2
roundtrip "records of 1,000,000 bytes" "$T-r2" "--max-msg 1000000 --slots 65536" "" "" \
	"$WORK/bigrec" "$WORK/bigrec"
# Records of 16 KiB to 256 KiB: written to stdout straight from the ring,
# after the length before them.
$GEN records "$WORK/midrec" 40 200000 4
roundtrip "records of up to 200,000 bytes" "$T-r8" "--max-msg 200000 --slots 16384" "" "" \
	"$WORK/midrec" "$WORK/midrec"
python3 -c 'import sys; sys.stdout.buffer.write(b"".join(b"%d" % i * (3000 * i) + b"\n" for i in range(1, 10)))' >"$WORK/midlines"
roundtrip "--lines of up to 27,000 bytes" "$T-l9" "" "--lines" "--lines" "$WORK/midlines" "$WORK/midlines"
# Written first, read afterwards (the ring holds it all).
expect "records, written first: write" 0 "" -- S write --slots 131072 "$T-r3" <"$WORK/rec"
expect "records, written first: read" 0 "" -- S read "$T-r3"
check "records, written first: identical" cmp -s "$OUT" "$WORK/rec"
# Failures of the record framing.
printf '\x05\x00\x00\x00hello\x03\x00\x00\x00ab' >"$WORK/trunc"
expect "a truncated record: status 10" 10 "^shmring: stdin: truncated record \(6 bytes at the end\)" -- S write "$T-r4" <"$WORK/trunc"
expect "... the complete record before it was sent" 0 "" -- S read --lines "$T-r4"
check "... and it is there" test "$(cat "$OUT")" = "hello"
head -c 300 "$WORK/bigrec" >"$WORK/bigtrunc"
expect "a truncated large record: status 10" 10 "^shmring: stdin: truncated record \(296 of 1000000 bytes\)" -- S write --max-msg 1000000 --slots 65536 "$T-r5" <"$WORK/bigtrunc"
printf '\x00\x10\x00\x00' >"$WORK/toolarge"
expect "a record above max_msg: status 10" 10 "^shmring: $T-r6: record of 4096 bytes is larger than the ring's max_msg \(1000\)" -- S write --max-msg 1000 "$T-r6" <"$WORK/toolarge"
head -c 100000 /dev/urandom >"$WORK/rand100k"
expect "random bytes read as records: status 10" 10 "is larger than the ring's max_msg" -- S write "$T-r7" <"$WORK/rand100k"

# ---- --lines ------------------------------------------------------------------------
printf 'alpha\n\nbeta gamma\r\n%s\nlast line, no newline' "$(head -c 5000 /dev/zero | tr '\0' x)" >"$WORK/lines"
{ cat "$WORK/lines"; echo; } >"$WORK/lines.want"
roundtrip "--lines: empty lines, CRLF, a long line, no final newline" "$T-l1" \
	"" "--lines" "--lines" "$WORK/lines" "$WORK/lines.want"
expect "--lines: stat" 0 "" -- S stat --json "$T-l1"
jcheck "--lines: one message per line" "$OUT" "j['producer']['counters']['messages'] == 5"
seq 1 200000 >"$WORK/seq"
roundtrip "--lines: 200000 lines" "$T-l2" "" "--lines" "--lines" "$WORK/seq" "$WORK/seq"
{ echo short; head -c 2000 /dev/zero | tr '\0' y; echo; echo after; } >"$WORK/longline"
expect "a line above max_msg: status 10" 10 "^shmring: $T-l3: line of 2000 bytes is larger than the ring's max_msg \(1000\)" -- S write --lines --max-msg 1000 "$T-l3" <"$WORK/longline"
expect "... the lines before it were sent" 0 "" -- S read --lines "$T-l3"
check "... and only those" test "$(cat "$OUT")" = "short"

# ---- --size N -------------------------------------------------------------------------
head -c 1050 /dev/urandom >"$WORK/b1050"
roundtrip "--size 100 (a short last block)" "$T-s1" "" "--size 100" "--size 100" "$WORK/b1050" "$WORK/b1050"
expect "--size 100: stat" 0 "" -- S stat --json "$T-s1"
jcheck "--size 100: 11 messages of 1050 bytes" "$OUT" \
	"j['consumer']['counters']['messages'] == 11 and j['consumer']['counters']['bytes'] == 1050"
head -c 100007 /dev/urandom >"$WORK/b100007"
roundtrip "--size 20K (blocks read straight into the ring)" "$T-s2" "" "--size 20K" "--raw" "$WORK/b100007" "$WORK/b100007"
expect "--size 20K: stat" 0 "" -- S stat --json "$T-s2"
jcheck "--size 20K: 5 messages" "$OUT" "j['producer']['counters']['messages'] == 5"
expect "--size above max_msg: status 10" 10 "^shmring: $T-s3: --size of 2048 bytes is larger than the ring's max_msg \(1000\)" -- S write --size 2K --max-msg 1000 "$T-s3" </dev/null
printf 'abc\nlonger line\n' | S write --lines "$T-s4"
expect "read --size 5 of a longer message: status 10" 10 "^shmring: $T-s4: message of 11 bytes is longer than --size 5" -- S read --size 5 "$T-s4"
check "... what came before it was written" test "$(cat "$OUT")" = "abc"

# ---- --raw ----------------------------------------------------------------------------
head -c 3000000 /dev/urandom >"$WORK/b3m"
roundtrip "--raw: 3 MB of random bytes" "$T-w1" "" "--raw" "--raw" "$WORK/b3m" "$WORK/b3m"
roundtrip "--raw --chunk 1000" "$T-w2" "" "--raw --chunk 1000" "--raw" "$WORK/b3m" "$WORK/b3m"
expect "--raw --chunk 1000: stat" 0 "" -- S stat --json "$T-w2"
jcheck "--raw --chunk 1000: no message above 1000 bytes" "$OUT" "j['producer']['counters']['messages'] >= 3000"
expect "--chunk above max_msg: status 10" 10 "^shmring: $T-w3: --chunk of 4096 bytes is larger" -- S write --raw --chunk 4K --max-msg 1000 "$T-w3" </dev/null
printf 'a\nb\n' | S write --raw "$T-w4"
expect "empty input: status 0" 0 "" -- S write --raw "$T-w5" </dev/null
expect "empty input: an empty stream" 0 "" -- S read --raw "$T-w5"
check "... nothing read" test ! -s "$OUT"

# ---- across framings ------------------------------------------------------------------
printf 'x\nyy\n\nzzz\n' >"$WORK/four"
$GEN frame "$WORK/four" "$WORK/four.rec"
roundtrip "write --lines, read records" "$T-x1" "" "--lines" "" "$WORK/four" "$WORK/four.rec"
roundtrip "write records, read --lines" "$T-x2" "" "" "--lines" "$WORK/four.rec" "$WORK/four"
printf 'xyyzzz' >"$WORK/six"
roundtrip "write --lines, read --raw" "$T-x3" "" "--lines" "--raw" "$WORK/four" "$WORK/six"

# ---- pipes on stdin and stdout: asked for a 1 MiB buffer (Linux) -------------------
printf 'x\n' | S write --lines "$T-pp"
run bash -c "'$SHMRING' read --lines '$T-pp' | python3 -c 'import sys, fcntl; sys.stdin.buffer.read(); print(fcntl.fcntl(0, 1032))'"
check "read: its stdout pipe holds 1 MiB (F_GETPIPE_SZ $(cat "$OUT"))" test "$(cat "$OUT")" = 1048576
run bash -c "(sleep 0.3; python3 -c 'import fcntl; print(fcntl.fcntl(1, 1032), file=open(\"$WORK/psz\", \"w\"))') | '$SHMRING' write --raw '$T-pp2'"
check "write: its stdin pipe holds 1 MiB (F_GETPIPE_SZ $(cat "$WORK/psz" 2>/dev/null))" test "$(cat "$WORK/psz" 2>/dev/null)" = 1048576

# ---- --count, --timeout, at-least-once -------------------------------------------------
seq 1 5 | S write --lines "$T-c1"
expect "read --count 2" 0 "" -- S read --lines --count 2 "$T-c1"
check "--count 2: the first two" test "$(cat "$OUT")" = "1
2"
expect "--count 2: stat" 0 "" -- S stat --json "$T-c1"
jcheck "--count 2: three left in the ring" "$OUT" "j['used_slots'] == 3 and j['consumer']['counters']['messages'] == 2 and j['consumer']['state'] == 'closed'"
run bash -c "'$SHMRING' read --lines '$T-c1' >&-"
check "a closed stdout: status 11 (got $ST)" test "$ST" -eq 11
check "a closed stdout: the message" grep -q "^shmring: stdout: Bad file descriptor$" "$ERR"
expect "... and nothing was taken: stat" 0 "" -- S stat --json "$T-c1"
jcheck "... still three in the ring" "$OUT" "j['used_slots'] == 3"
expect "the next reader gets them" 0 "" -- S read --lines "$T-c1"
check "... 3, 4, 5" test "$(cat "$OUT")" = "3
4
5"
S write "$T-t1" </dev/null
t0=$(date +%s%N)
S rm "$T-t1"
expect "read --timeout 0.3 of an empty ring: status 12" 12 "^shmring: $T-t1: timed out$" -- S read --timeout 0.3 "$T-t1"
ms=$((($(date +%s%N) - t0) / 1000000))
check "--timeout 0.3 waited 300 ms to 3 s (${ms} ms)" test "$ms" -ge 300 -a "$ms" -lt 3000
expect "--timeout: stat" 0 "" -- S stat --json "$T-t1"
jcheck "--timeout: one timeout and a blocked count in the counters" "$OUT" \
	"j['consumer']['counters']['timeouts'] == 1 and j['consumer']['counters']['blocked'] >= 1 and j['consumer']['counters']['messages'] == 0"
expect "write --timeout 0.3 into a full ring: status 12" 12 "^shmring: $T-t2: timed out$" -- \
	S write --timeout 0.3 --raw --slots 16 "$T-t2" <"$WORK/b3m"
expect "write --timeout 0: status 12 at once" 12 "timed out" -- \
	S write --timeout 0 --raw --slots 16 "$T-t2" <"$WORK/b3m"

# ---- the counters against a known stream ----------------------------------------------
# 1000 messages of 24 bytes, one 32-byte slot each, through a 64-slot ring:
# the writer fills it and sleeps, then a reader drains everything.
python3 -c 'import sys; sys.stdout.buffer.write(b"".join(b"\x18\0\0\0" + b"%024d" % i for i in range(1000)))' >"$WORK/k1000"
spawn_in "$WORK/k1000" S write --slot-size 24 --slots 64 "$T-k2"
wr=$BG
check "the writer fills the 64 slots" wait_for 10 bash -c "'$SHMRING' stat --json '$T-k2' | python3 -c 'import json,sys; sys.exit(json.load(sys.stdin)[\"used_slots\"] != 64)'"
sleep 0.3
expect "the reader drains it" 0 "" -- S read "$T-k2"
check "all 1000 messages read" cmp -s "$OUT" "$WORK/k1000"
wait "$wr"
check "the writer ended with 0" test "$?" -eq 0
expect "stat after the known stream" 0 "" -- S stat --json "$T-k2"
jcheck "known stream: 1000 messages, 24000 bytes each side" "$OUT" \
	"all(j[r]['counters']['messages'] == 1000 and j[r]['counters']['bytes'] == 24000 for r in ('producer', 'consumer'))"
jcheck "known stream: head = tail = 1000 slots (one per message)" "$OUT" "j['head'] == 1000 and j['tail'] == 1000 and j['used_slots'] == 0"
jcheck "known stream: the writer found the ring full and slept; the reader woke it" "$OUT" \
	"j['producer']['counters']['blocked'] >= 1 and j['producer']['counters']['sleeps'] >= 1 and j['consumer']['counters']['wakes'] >= 1"
jcheck "known stream: no timeouts, nothing corrupt, last activity set" "$OUT" \
	"all(j[r]['counters']['timeouts'] == 0 and j[r]['counters']['badfmt'] == 0 and j[r]['counters']['abandoned'] == 0 and j[r]['counters']['last_ns'] >= j['created_ns'] for r in ('producer', 'consumer'))"
jcheck "known stream: both closed" "$OUT" "j['producer']['state'] == 'closed' and j['consumer']['state'] == 'closed'"

# ---- busy roles, corrupt segments --------------------------------------------------------
spawn S read "$T-b1" >/dev/null
b1=$BG
wait_for 10 attached "$T-b1" consumer
expect "a second reader: status 4" 4 "^shmring: $T-b1: role already attached by a live process$" -- S read "$T-b1"
mkfifo "$WORK/b.fifo"
spawn_in "$WORK/b.fifo" S write "$T-b1"
w1=$BG
exec 3>"$WORK/b.fifo"
wait_for 10 attached "$T-b1" producer
expect "a second writer: status 4" 4 "^shmring: $T-b1: role already attached by a live process$" -- S write "$T-b1" </dev/null
exec 3>&-
wait "$w1"
wait "$b1"
head -c 8192 /dev/urandom >"$WORK/garbage"
cp "$WORK/garbage" "/dev/shm/shmring.$T-bad"
expect "read of a corrupt segment: status 5" 5 "^shmring: $T-bad: segment is not a valid shmring$" -- S read "$T-bad"
expect "write to a corrupt segment: status 5" 5 "^shmring: $T-bad: segment is not a valid shmring$" -- S write "$T-bad" </dev/null
check "neither replaced the corrupt segment" cmp -s "$WORK/garbage" "/dev/shm/shmring.$T-bad"

# ---- a broken stdout, a reader that closed --------------------------------------------------
# The reader's stdout breaks: it closes (status 11), so the writer's next
# send finds the ring closed (status 9).
spawn bash -c "('$SHMRING' read --lines '$T-p1' 2>'$WORK/p1.err'; echo \$? >'$WORK/p1.st') | head -n 3 >'$WORK/p1.out'"
rd=$BG
wait_for 10 attached "$T-p1" consumer
spawn bash -c "yes | '$SHMRING' write --lines '$T-p1' 2>'$WORK/p1w.err'; echo \$? >'$WORK/p1w.st'"
wr=$BG
wait "$rd"
wait "$wr"
check "broken stdout: the reader's status is 11 ($(cat "$WORK/p1.st" 2>/dev/null))" test "$(cat "$WORK/p1.st" 2>/dev/null)" = 11
check "broken stdout: shmring: stdout: Broken pipe" grep -qx "shmring: stdout: Broken pipe" "$WORK/p1.err"
check "broken stdout: head got its 3 lines" test "$(cat "$WORK/p1.out")" = "y
y
y"
check "the writer then ends with status 9 ($(cat "$WORK/p1w.st" 2>/dev/null))" test "$(cat "$WORK/p1w.st" 2>/dev/null)" = 9
check "the writer: shmring: NAME: peer closed" grep -qx "shmring: $T-p1: peer closed" "$WORK/p1w.err"
# A ring whose reader has closed takes nothing until a reader attaches.
expect "write after the reader closed: status 9" 9 "^shmring: $T-p1: peer closed$" -- S write --lines "$T-p1" <<<"x"

# ---- signals: an orderly close -------------------------------------------------------------
# Ctrl-C on a writer waiting for stdin: it closes, the reader ends with 0.
mkfifo "$WORK/i.fifo"
spawn S read --lines "$T-i1" >/dev/null
rd=$BG
wait_for 10 attached "$T-i1" consumer
spawn_in "$WORK/i.fifo" "$SHMRING" write --lines "$T-i1"
wr=$BG
exec 3>"$WORK/i.fifo"
printf 'first\nsecond\n' >&3
wait_for 10 attached "$T-i1" producer
sleep 0.3
kill -INT "$wr"
wait "$wr"
st=$?
exec 3>&-
check "Ctrl-C on a waiting writer: status 130 (got $st)" test "$st" -eq 130
wait "$rd"
st=$?
check "... its reader ends at end of stream with status 0 (got $st)" test "$st" -eq 0
# The same, but the reader's output checked.
spawn bash -c "'$SHMRING' read --lines '$T-i2' >'$WORK/i2.out'"
rd=$BG
wait_for 10 attached "$T-i2" consumer
rm -f "$WORK/i.fifo"
mkfifo "$WORK/i.fifo"
spawn_in "$WORK/i.fifo" "$SHMRING" write --lines "$T-i2"
wr=$BG
exec 3>"$WORK/i.fifo"
printf 'first\nsecond\n' >&3
wait_for 10 attached "$T-i2" producer
sleep 0.3
kill -INT "$wr"
wait "$wr"
exec 3>&-
wait "$rd"
st=$?
check "Ctrl-C: the reader got the lines sent before it and ended with 0 (got $st)" \
	test "$st" -eq 0 -a "$(cat "$WORK/i2.out")" = "first
second"
# SIGTERM on a writer blocked on a full ring: closes within a second.
spawn_in "$WORK/b3m" "$SHMRING" write --raw --slots 16 "$T-i3"
wr=$BG
wait_for 10 attached "$T-i3" producer
sleep 0.3
t0=$(date +%s%N)
kill -TERM "$wr"
wait "$wr"
st=$?
ms=$((($(date +%s%N) - t0) / 1000000))
check "SIGTERM on a writer blocked on a full ring: status 130 (got $st)" test "$st" -eq 130
check "... within 1.5 s (${ms} ms)" test "$ms" -lt 1500
expect "... and the producer is closed" 0 "" -- S stat --json "$T-i3"
jcheck "... producer closed" "$OUT" "j['producer']['state'] == 'closed'"
# Ctrl-C on a reader waiting for messages.
spawn "$SHMRING" read "$T-i4"
rd=$BG
wait_for 10 attached "$T-i4" consumer
sleep 0.3
kill -INT "$rd"
wait "$rd"
st=$?
check "Ctrl-C on a waiting reader: status 130 (got $st)" test "$st" -eq 130
expect "... and the consumer is closed" 0 "" -- S stat --json "$T-i4"
jcheck "... consumer closed" "$OUT" "j['consumer']['state'] == 'closed'"

# ---- a peer that dies ----------------------------------------------------------------------
spawn bash -c "'$SHMRING' read --lines '$T-d1' >/dev/null 2>'$WORK/d1.err'; echo \$? >'$WORK/d1.st'"
rd=$BG
wait_for 10 attached "$T-d1" consumer
spawn bash -c "yes | exec '$SHMRING' write --lines '$T-d1'" 2>/dev/null
wr=$BG
wait_for 10 attached "$T-d1" producer
sleep 0.2
pid=$(S stat --json "$T-d1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["producer"]["pid"])')
{
	kill -9 "$pid"
	wait "$rd"
	wait "$wr"
} 2>/dev/null
check "the writer killed: the reader ends with status 8 ($(cat "$WORK/d1.st"))" test "$(cat "$WORK/d1.st")" = 8
check "... shmring: NAME: peer process died" grep -qx "shmring: $T-d1: peer process died" "$WORK/d1.err"
expect "... stat says the producer is dead" 0 "" -- S stat --json "$T-d1"
jcheck "... producer dead, with its pid" "$OUT" "j['producer']['state'] == 'dead' and j['producer']['pid'] == $pid"
spawn bash -c "yes | '$SHMRING' write --lines --slots 16 '$T-d2' 2>'$WORK/d2.err'; echo \${PIPESTATUS[1]} >'$WORK/d2.st'"
wr=$BG
spawn "$SHMRING" read --lines "$T-d2" >/dev/null
rd=$BG
wait_for 10 attached "$T-d2" consumer
sleep 0.2
{
	kill -9 "$rd"
	wait "$wr"
	wait "$rd"
} 2>/dev/null
check "the reader killed: the writer ends with status 8 ($(cat "$WORK/d2.st"))" test "$(cat "$WORK/d2.st")" = 8
check "... shmring: NAME: peer process died" grep -qx "shmring: $T-d2: peer process died" "$WORK/d2.err"

# ---- --progress ----------------------------------------------------------------------------
expect "--progress, stderr not a terminal: silent" 0 "" -- S write --progress --raw --slots 65536 "$T-g1" <"$WORK/b3m"
check "... nothing on stderr" test ! -s "$ERR"
if command -v script >/dev/null; then
	run timeout 30 script -qec "'$SHMRING' read --progress --raw '$T-g1' >/dev/null" /dev/null
	check "--progress on a terminal: bytes, rate, messages" grep -Eq "$T-g1: 2\.9 MiB, [0-9.]+ MiB/s, [0-9]+ messages" "$OUT"
fi

finish
