#!/usr/bin/env bash
# tests/cli/test-hostile.sh -- ls and stat on hostile segments: garbage,
# short and empty files, every header field of a real ring made wrong,
# role records and indices a hostile peer scribbled, and 300 random
# corruptions of the header page. None may crash or hang the command; a
# segment that is not a valid ring is reported as corrupt (stat: status 5,
# "segment is not a valid shmring"; ls: a "corrupt" row, status 0).
SUITE=hostile
# shellcheck source=tests/cli/common.sh
. "$(dirname "$0")/common.sh"
GEN="python3 $(dirname "$0")/gen.py"
SHM=/dev/shm

# A real ring to start from: 64 slots of 32 bytes, 3 messages in it.
printf 'a\nbb\nccc\n' | S write --lines --slot-size 24 --slots 64 "$T-base"
cp "$SHM/shmring.$T-base" "$WORK/base"
check "the base segment is 4096 + 64 * 32 bytes" test "$(stat -c %s "$WORK/base")" -eq 6144

# place NAME FILE: install FILE as the segment of ring NAME.
place() {
	cp "$2" "$SHM/shmring.$1"
}

# corrupt DESC NAME: stat says corrupt with status 5, ls lists it as corrupt.
corrupt() {
	expect "$1: stat says corrupt, status 5" 5 "^shmring: $2: segment is not a valid shmring$" -- S stat "$2"
	expect "$1: ls, status 0" 0 "" -- S ls "$2"
	check "$1: ls lists it as corrupt" grep -Eq "^$2 +corrupt +- +- +- +segment is not a valid shmring$" "$OUT"
	expect "$1: ls --json" 0 "" -- S ls --json "$2"
	jcheck "$1: ls --json says corrupt" "$OUT" "j[0]['status'] == 'corrupt' and j[0]['error'] == 'segment is not a valid shmring'"
}

# poke DESC OFFSET FMT VALUE: the base segment with one field changed must
# be corrupt.
poke() {
	local name="$T-p$((++npoke))"
	$GEN poke "$WORK/base" "$WORK/poked" "$2" "$3" "$4"
	place "$name" "$WORK/poked"
	corrupt "$1" "$name"
}
npoke=0

head -c 8192 /dev/urandom >"$WORK/garbage"
place "$T-garbage" "$WORK/garbage"
corrupt "8 KiB of random bytes" "$T-garbage"
head -c 100 /dev/urandom >"$WORK/short"
place "$T-short" "$WORK/short"
corrupt "100 random bytes (shorter than the header)" "$T-short"
{
	printf 'SHMRING1'
	head -c 6136 /dev/zero
} >"$WORK/magic"
place "$T-magic" "$WORK/magic"
corrupt "the magic and zeros" "$T-magic"
head -c 4095 "$WORK/base" >"$WORK/cut"
place "$T-cut" "$WORK/cut"
corrupt "a real header cut one byte short" "$T-cut"
head -c 5000 "$WORK/base" >"$WORK/cut2"
place "$T-cut2" "$WORK/cut2"
corrupt "a real ring cut in its slots" "$T-cut2"

# Every header field, made wrong (docs/format.md).
poke "version 1" 8 "<I" 1
poke "version 3" 8 "<I" 3
poke "hdr_size 0" 12 "<I" 0
poke "slot_size above 64 MiB" 16 "<I" 0x4000001
poke "slot_stride not derived from slot_size" 20 "<I" 48
poke "slot_count not a power of two" 24 "<I" 63
poke "slot_count 0" 24 "<I" 0
poke "slot_count 2^31" 24 "<I" 0x80000000
poke "an unknown flag" 28 "<I" 1
poke "seg_size one slot too large" 32 "<Q" $((6144 + 32))
poke "seg_size 2^63" 32 "<Q" 0x8000000000000000
poke "max_msg above the ring" 48 "<I" 5000
poke "max_msg above 2^31 - 1" 48 "<I" 0x80000000
poke "a reserved header byte" 60 "<B" 1
poke "a reserved byte of the producer's record" 200 "<B" 1
poke "a reserved byte of the slot area's guard" 1500 "<B" 1

# A valid ring with hostile role records, indices and counters: shown,
# marked where they are wrong, never trusted.
$GEN poke "$WORK/base" "$WORK/x" 136 "<I" 7
place "$T-state" "$WORK/x"
expect "a role state of 7: stat works" 0 "" -- S stat --json "$T-state"
jcheck "a role state of 7: that role is corrupt" "$OUT" "j['producer']['state'] == 'corrupt' and j['status'] == 'ok'"
expect "a role state of 7: ls works" 0 "" -- S ls "$T-state"
check "a role state of 7: ls says so" grep -Eq "^$T-state .* corrupt +none$" "$OUT"
# Attached, by our own pid but with a start time that is not ours: dead.
$GEN poke "$WORK/base" "$WORK/x" 136 "<I" 1
$GEN poke "$WORK/x" "$WORK/x2" 128 "<Q" $(((12345 << 32) | $$))
place "$T-owner" "$WORK/x2"
expect "a recycled pid: stat works" 0 "" -- S stat --json "$T-owner"
jcheck "a recycled pid: the role is dead, not ours" "$OUT" "j['producer']['state'] == 'dead' and j['producer']['pid'] == $$"
$GEN poke "$WORK/base" "$WORK/x" 384 "<Q" 1000
place "$T-head" "$WORK/x"
expect "head - tail above slot_count: stat works" 0 "" -- S stat "$T-head"
check "... and says the indices are bad" grep -Eq "fill +bad indices, head 1000, tail 0" "$OUT"
expect "head - tail above slot_count: stat --json" 0 "" -- S stat --json "$T-head"
jcheck "... used_slots and fill null" "$OUT" "j['used_slots'] is None and j['fill'] is None"
expect "head - tail above slot_count: ls" 0 "" -- S ls "$T-head"
check "... ls says bad indices" grep -q "bad indices" "$OUT"
$GEN poke "$WORK/base" "$WORK/x" 512 "<Q" 5
place "$T-tail" "$WORK/x"
expect "tail past head: stat works" 0 "" -- S stat --json "$T-tail"
jcheck "tail past head: bad indices" "$OUT" "j['used_slots'] is None"
cp "$WORK/base" "$WORK/x"
for off in 1152 1160 1168 1176 1184 1192 1200 1208 1216; do
	$GEN poke "$WORK/x" "$WORK/x" "$off" "<Q" 0xffffffffffffffff
done
place "$T-ctr" "$WORK/x"
expect "counters of 2^64 - 1: stat works" 0 "" -- S stat "$T-ctr"
check "... and shows them" grep -Eq "messages +18446744073709551615 " "$OUT"
check "... last activity in the future" grep -Eq "last active +in the future" "$OUT"
expect "counters of 2^64 - 1: stat --json" 0 "" -- S stat --json "$T-ctr"
jcheck "... as numbers" "$OUT" "j['producer']['counters']['bytes'] == 2**64 - 1"

# An empty segment: a creator that has not finished (or died first).
: >"$SHM/shmring.$T-empty"
expect "an empty segment: stat says no such ring, status 3" 3 "^shmring: $T-empty: no such ring$" -- S stat "$T-empty"
expect "an empty segment: ls" 0 "" -- S ls --json "$T-empty"
jcheck "an empty segment: ls says uninitialised" "$OUT" "j[0]['status'] == 'uninitialised'"
truncate -s 1G "$SHM/shmring.$T-sparse"
expect "1 GiB of zeros (magic 0): stat, status 3" 3 "no such ring" -- S stat "$T-sparse"

# 300 random corruptions of the header page: no crash, no hang, and only
# the answers a hostile segment may get.
$GEN fuzz "$WORK/base" "$WORK/fz" 300 7
for i in $(seq 0 299); do
	cp "$WORK/fz$i" "$SHM/shmring.$T-fz$i"
done
bad=0
for i in $(seq 0 299); do
	S stat --json "$T-fz$i" >"$WORK/fz.out" 2>"$WORK/fz.err"
	st=$?
	case $st in
	0) grep -q '^{"name": ".*", "status": "ok", ' "$WORK/fz.out" || bad=$((bad + 1)) ;;
	3) grep -q "no such ring" "$WORK/fz.err" || bad=$((bad + 1)) ;;
	5) grep -q "segment is not a valid shmring" "$WORK/fz.err" || bad=$((bad + 1)) ;;
	*)
		echo "# fz$i: status $st"
		bad=$((bad + 1))
		;;
	esac
done
check "300 corrupted headers: stat answers ok, no such ring or corrupt, never crashes ($bad bad)" test "$bad" -eq 0
expect "ls over all of them at once" 0 "" -- S ls "$T-*"
check "... one row each" test "$(grep -c "^$T-" "$OUT")" -ge 300
expect "ls --json over all of them" 0 "" -- S ls --json "$T-*"
jcheck "... valid JSON, every status known" "$OUT" \
	"all(r['status'] in ('ok', 'corrupt', 'uninitialised') for r in j) and len(j) >= 300"
expect "gc removes every corrupt one" 0 "" -- S gc "$T-fz*"
check "... and reports each" test "$(grep -c "^removed $T-fz" "$OUT")" -ge 1
expect "what gc left is no corrupt segment" 0 "" -- S ls --json "$T-fz*"
jcheck "... no corrupt segment left" "$OUT" "all(r['status'] != 'corrupt' for r in j)"

# Other kinds of file where a segment should be.
mkdir "$SHM/shmring.$T-dir"
ln -s /etc/hostname "$SHM/shmring.$T-link"
for k in dir link; do
	run S stat "$T-$k"
	check "a $k: stat neither crashes nor hangs (status $ST)" test "$ST" -gt 0 -a "$ST" -lt 124
	run S ls "$T-$k"
	check "a $k: ls lists it (status $ST)" grep -q "^$T-$k " "$OUT"
done
rmdir "$SHM/shmring.$T-dir"
rm -f "$SHM/shmring.$T-link"
# A FIFO: a read-only open of one used to wait for a writer forever; the
# library now opens with O_NONBLOCK and rejects a non-regular file.
mkfifo "$SHM/shmring.$T-fifo"
expect "a FIFO: stat says corrupt at once" 5 "not a valid shmring" -- \
	timeout 5 "$SHMRING" stat "$T-fifo"
expect "a FIFO: ls does not hang" 0 "" -- timeout 5 "$SHMRING" ls "$T-fifo"
rm -f "$SHM/shmring.$T-fifo"

finish
