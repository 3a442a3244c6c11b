#!/usr/bin/env bash
# tests/cli/test-verbs.sh -- the shmring command's verbs that look and
# clean: --help for every verb, usage errors, ls (text and JSON), stat
# (text, JSON, --watch), rm (refused on a live ring unless --force), gc
# (--dry-run), with their exit statuses and messages.
#
# With CLI_PRIVATE_SHM=1 (scripts/test-cli.sh runs us in a mount namespace
# with a /dev/shm of our own) the unfiltered ls and gc are checked too.
SUITE=verbs
# shellcheck source=tests/cli/common.sh
. "$(dirname "$0")/common.sh"

# A creator that died before publishing (made now: younger than 2 s, a
# segment still counts as being created).
[ "${CLI_PRIVATE_SHM:-0}" = 1 ] && : >"/dev/shm/shmring.$T-p2"

# ---- help and usage ---------------------------------------------------------
expect "no verb: usage on stderr, status 2" 2 "Usage: shmring VERB" -- S
expect "--help: status 0" 0 "" -- S --help
check "--help lists every verb" grep -q "gc \[PATTERN\]" "$OUT"
expect "help write = write --help" 0 "" -- S help write
check "help write prints write's text" grep -q "Usage: shmring write" "$OUT"
expect "--version" 0 "" -- S --version
check "--version prints the version" grep -Eq "^shmring [0-9]+\.[0-9]+\.[0-9]+$" "$OUT"
for v in ls stat rm gc write read; do
	expect "$v --help: status 0" 0 "" -- S "$v" --help
	check "$v --help: its usage on stdout" grep -q "^Usage: shmring $v" "$OUT"
	expect "$v -h: status 0" 0 "" -- S "$v" -h
done
expect "unknown verb: status 2" 2 "^shmring: frob: no such verb" -- S frob
expect "unknown option: status 2" 2 "unknown option '--bogus'" -- S ls --bogus
expect "option without its value: status 2" 2 "needs a value" -- S read "$T-x" --size
expect "value for a flag: status 2" 2 "takes no value" -- S ls --json=1
expect "stat without NAME: status 2" 2 "NAME missing" -- S stat
expect "stat with two names: status 2" 2 "one NAME only" -- S stat a b
expect "rm without NAME: status 2" 2 "NAME missing" -- S rm
expect "invalid ring name: status 2" 2 "^shmring: a/b: invalid ring name" -- S stat a/b
expect "name starting with a dot: status 2" 2 "invalid ring name" -- S rm .x
expect "bad byte count: status 2" 2 "^shmring: --size: '12q' is not a byte count" -- S write --size 12q "$T-x"
expect "two framings: status 2" 2 "exclude each other" -- S write --lines --raw "$T-x"
expect "bad --perm: status 2" 2 "not an octal mode" -- S write --perm 0999 "$T-x"
expect "bad geometry: status 2" 2 "^shmring: $T-x: invalid argument" -- S write --slots 3 "$T-x" </dev/null
check "bad geometry creates nothing" test ! -e "/dev/shm/shmring.$T-x"

# ---- no such ring -----------------------------------------------------------
for v in stat rm "rm --force"; do
	# shellcheck disable=SC2086
	expect "$v of a missing ring: status 3" 3 "^shmring: $T-none: no such ring$" -- S $v "$T-none"
done
expect "read --no-create of a missing ring: status 3" 3 "^shmring: $T-none: no such ring$" -- S read --no-create "$T-none"
expect "write --no-create of a missing ring: status 3" 3 "^shmring: $T-none: no such ring$" -- S write --no-create "$T-none" </dev/null
expect "stat --watch of a missing ring: status 3" 3 "no such ring" -- S stat --watch 0.1 "$T-none"

# ---- ls and stat ----------------------------------------------------------------
printf 'one\ntwo\nthree\n' >"$WORK/in3"
expect "write 3 lines into a new ring" 0 "" -- S write --lines --slot-size 24 --slots 64 "$T-a" <"$WORK/in3"
expect "ls PATTERN" 0 "" -- S ls "$T-*"
check "ls: a header line" grep -Eq "^NAME +SLOTS +MAX_MSG +FILL +PRODUCER +CONSUMER$" "$OUT"
check "ls: the ring, its geometry and fill" grep -Eq "^$T-a +64x32 +1016 +3/64 \(5%\) +closed +none$" "$OUT"
expect "ls --json PATTERN" 0 "" -- S ls --json "$T-a"
jcheck "ls --json: one ring, every field" "$OUT" \
	"len(j) == 1 and j[0]['name'] == '$T-a' and j[0]['status'] == 'ok' and j[0]['slot_count'] == 64 and j[0]['slot_stride'] == 32 and j[0]['slot_size'] == 24 and j[0]['max_msg'] == 1016 and j[0]['used_slots'] == 3 and j[0]['head'] == 3 and j[0]['tail'] == 0 and j[0]['seg_size'] == 4096 + 64 * 32 and j[0]['version'] == 2"
jcheck "ls --json: producer closed, consumer none" "$OUT" \
	"j[0]['producer']['state'] == 'closed' and j[0]['consumer']['state'] == 'none' and j[0]['producer']['counters']['messages'] == 3 and j[0]['producer']['counters']['bytes'] == 11"
expect "ls of a pattern that matches nothing" 0 "" -- S ls --json "$T-nothing*"
jcheck "ls --json of nothing: []" "$OUT" "j == []"
expect "stat NAME" 0 "" -- S stat "$T-a"
check "stat: the ring's name" grep -q "^ring $T-a$" "$OUT"
check "stat: the geometry" grep -Eq "geometry +64 slots of 32 bytes \(slot_size 24\), max_msg 1016" "$OUT"
check "stat: the fill and indices" grep -Eq "fill +3/64 \(5%\), head 3, tail 0" "$OUT"
check "stat: both states" grep -Eq "state +closed +none" "$OUT"
check "stat: the counters" grep -Eq "messages +3 +0$" "$OUT"
check "stat: bytes" grep -Eq "bytes +11 +0$" "$OUT"
expect "stat --json" 0 "" -- S stat --json "$T-a"
jcheck "stat --json: the same object as ls" "$OUT" "j['name'] == '$T-a' and j['used_slots'] == 3 and j['fill'] > 0.046"

# A live reader (it creates the ring): attached, with its pid.
spawn "$SHMRING" read --lines "$T-live" --timeout 30
rpid=$BG
check "a reader creates the ring and attaches" wait_for 10 attached "$T-live" consumer
expect "stat of a live ring" 0 "" -- S stat --json "$T-live"
jcheck "stat: consumer attached with the reader's pid" "$OUT" \
	"j['consumer']['state'] == 'attached' and j['consumer']['pid'] == $rpid and j['producer']['state'] == 'none'"
expect "ls shows the live reader" 0 "" -- S ls "$T-live"
check "ls: attached PID" grep -Eq "none +attached $rpid$" "$OUT"

# --watch, not on a terminal: one block per refresh, then --count stops it.
expect "stat --watch 0.2 --count 3" 0 "" -- S stat "$T-a" --watch 0.2 --count 3
check "--watch printed 3 blocks" test "$(grep -c "^ring $T-a" "$OUT")" -eq 3
check "--watch: rates from the second block on" test "$(grep -c "messages/s" "$OUT")" -eq 2
expect "stat --watch --json: one object a line" 0 "" -- S stat --json --watch=0.1 --count 2 "$T-a"
check "--watch --json: 2 lines" test "$(wc -l <"$OUT")" -eq 2
tail -n 1 "$OUT" >"$WORK/last.json"
jcheck "--watch --json: rates in the second" "$WORK/last.json" "'rates' in j and j['rates']['consumer_msgs'] >= 0"
# On a terminal: the screen is cleared and redrawn in place.
if command -v script >/dev/null; then
	run timeout 20 script -qec "$SHMRING stat $T-a --watch 0.1 --count 2" /dev/null
	check "--watch on a terminal redraws in place" grep -q $'\033\[H\033\[2J' "$OUT"
	check "--watch on a terminal says how to quit" grep -q "Ctrl-C quits" "$OUT"
fi
# Ctrl-C ends a watch with status 0.
spawn "$SHMRING" stat "$T-a" --watch 0.1 >/dev/null
wpid=$BG
sleep 0.4
kill -INT "$wpid"
wait "$wpid"
st=$?
check "Ctrl-C ends --watch with status 0 (got $st)" test "$st" -eq 0

# ---- rm ----------------------------------------------------------------------------
expect "rm of a live ring: refused, status 4" 4 "^shmring: $T-live: role already attached by a live process$" -- S rm "$T-live"
expect "the refused ring is still there" 0 "" -- S stat "$T-live"
expect "rm --force of a live ring" 0 "" -- S rm --force "$T-live"
check "rm --force removed it" test "$(S ls --json "$T-live")" = "[]"
check "its reader goes on" kill -0 "$rpid"
kill "$rpid" 2>/dev/null
wait "$rpid" 2>/dev/null
expect "rm of a closed ring" 0 "" -- S rm "$T-a"

S write "$T-b" </dev/null
S write "$T-c" </dev/null
expect "rm of closed rings, two at once, --verbose" 0 "" -- S rm --verbose "$T-b" "$T-c"
check "rm --verbose names each" test "$(cat "$OUT")" = "removed $T-b
removed $T-c"
S write "$T-b" </dev/null
expect "rm of one ring present and one missing: status 3" 3 "^shmring: $T-none: no such ring$" -- S rm "$T-none" "$T-b"
check "... and the present one is removed" test ! -e "/dev/shm/shmring.$T-b"

# ---- gc ---------------------------------------------------------------------------------
S write "$T-g1" </dev/null                 # producer closed
spawn "$SHMRING" read "$T-g2" --timeout 30    # live consumer
g2=$BG
spawn "$SHMRING" read "$T-g3" --timeout 30    # will die
g3=$BG
wait_for 10 attached "$T-g2" consumer
wait_for 10 attached "$T-g3" consumer
{
	kill -9 "$g3"
	wait "$g3"
} 2>/dev/null
head -c 4096 /dev/urandom >"/dev/shm/shmring.$T-g4" # not a ring at all
expect "gc --dry-run" 0 "" -- S gc --dry-run "$T-g*"
check "gc --dry-run: the closed ring" grep -qx "would remove $T-g1 (producer closed, consumer none)" "$OUT"
check "gc --dry-run: the dead consumer's ring" grep -qx "would remove $T-g3 (producer none, consumer dead)" "$OUT"
check "gc --dry-run: the corrupt segment" grep -qx "would remove $T-g4 (corrupt)" "$OUT"
check "gc --dry-run: not the live ring" test "$(grep -c "$T-g2" "$OUT")" -eq 0
check "gc --dry-run removed nothing" test "$(S ls --json "$T-g*" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')" -eq 4
expect "gc --verbose" 0 "" -- S gc --verbose "$T-g*"
check "gc: removed the closed ring" grep -qx "removed $T-g1 (producer closed, consumer none)" "$OUT"
check "gc: removed the dead consumer's ring" grep -qx "removed $T-g3 (producer none, consumer dead)" "$OUT"
check "gc: removed the corrupt segment" grep -qx "removed $T-g4 (corrupt)" "$OUT"
check "gc --verbose: kept the live ring" grep -qx "kept $T-g2 (held by a live process)" "$OUT"
expect "ls after gc" 0 "" -- S ls --json "$T-g*"
jcheck "only the live ring is left" "$OUT" "[r['name'] for r in j] == ['$T-g2']"
expect "gc again: nothing to do" 0 "" -- S gc "$T-g*"
check "gc again printed nothing" test ! -s "$OUT"
kill "$g2"
wait "$g2" 2>/dev/null

if [ "${CLI_PRIVATE_SHM:-0}" = 1 ]; then
	# Our own /dev/shm: every ring on this "host" is ours.
	S write "$T-p1" </dev/null
	touch "/dev/shm/not-a-ring"
	expect "ls, no pattern" 0 "" -- S ls --json
	jcheck "ls lists every ring and nothing else" "$OUT" \
		"sorted(r['name'] for r in j) == sorted(['$T-g2', '$T-p1', '$T-p2'])"
	jcheck "ls: an unpublished segment is uninitialised" "$OUT" \
		"[r['status'] for r in j if r['name'] == '$T-p2'] == ['uninitialised']"
	expect "gc, no pattern" 0 "" -- S gc
	check "gc removed the closed ring" grep -qx "removed $T-p1 (producer closed, consumer none)" "$OUT"
	check "gc removed the abandoned segment" grep -qx "removed $T-p2 (uninitialised)" "$OUT"
	check "gc left what is not a ring" test -e /dev/shm/not-a-ring
	rm -f /dev/shm/not-a-ring
fi

finish
