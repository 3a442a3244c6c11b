#!/usr/bin/env bash
# tests/cli/test-cli-wine.sh -- the cross-built shmring.exe under Wine:
# --help, exit statuses, ls (the NT object directory walk of
# src/os_win32.c, os_seg_list) and ls --json, stat, and write/read round
# trips (binary records, lines, a raw binary stream), two writers into a
# read --mpsc. Last line:
# "cli-wine: N passed, N failed"; exit status 1 on any failure.
#
# Environment:
#   SHMRING_EXE        the program (default: $SHMRING_WIN_BUILD/tools/shmring.exe;
#                      if missing, it is cross-built into build-cli-win)
#   SHMRING_WIN_BUILD  the cross build directory (default build-win); its
#                      top holds libshmring-0.dll
#   WINEPREFIX         default /tmp/shmring-wine (made on first use)
#
# Run from scripts/test-windows.sh after its build (it exports WINEPREFIX
# and starts the wineserver), or alone. A wineserver this script starts,
# it stops.
#
# Windows semantics (docs/windows.md): a ring lives only while a process
# holds it, so each reader is started first and holds the ring while the
# writer fills it.
set -u
cd "$(dirname "${BASH_SOURCE[0]}")/../.." || exit 2
ROOT=$PWD
export WINEPREFIX="${WINEPREFIX:-/tmp/shmring-wine}"
export WINEDEBUG=-all
export WINEDLLOVERRIDES='mscoree,mshtml=;winedbg.exe=d'
WIN_BUILD="${SHMRING_WIN_BUILD:-build-win}"
EXE="${SHMRING_EXE:-$WIN_BUILD/tools/shmring.exe}"

if [ ! -f "$EXE" ]; then
	WIN_BUILD=build-cli-win
	EXE="$WIN_BUILD/tools/shmring.exe"
	if [ ! -d "$WIN_BUILD/meson-private" ]; then
		meson setup "$WIN_BUILD" --cross-file cross/mingw-w64-x86_64.ini \
			-Dwerror=true -Dtests=disabled -Dbenchmarks=disabled \
			-Dpython=disabled >"$WIN_BUILD.log" 2>&1 ||
			{ cat "$WIN_BUILD.log"; echo "cli-wine: 0 passed, 1 failed"; exit 1; }
		rm -f "$WIN_BUILD.log"
	fi
	ninja -C "$WIN_BUILD" tools/shmring.exe >/dev/null ||
		{ ninja -C "$WIN_BUILD" tools/shmring.exe; echo "cli-wine: 0 passed, 1 failed"; exit 1; }
fi
EXE=$(cd "$(dirname "$EXE")" && pwd)/$(basename "$EXE")
case $WIN_BUILD in
/*) export WINEPATH="$WIN_BUILD" ;;
*) export WINEPATH="$ROOT/$WIN_BUILD" ;;
esac

mkdir -p "$WINEPREFIX"
started=0
if wineserver -p 2>/dev/null; then
	started=1
fi
wine cmd /c exit 0 </dev/null >/dev/null 2>&1 # boot Wine outside our pipes
stop_wine() {
	[ "$started" = 1 ] && wineserver -k >/dev/null 2>&1
}

# The shared helpers drive "$SHMRING": here, wine running the exe.
WRAP=$(mktemp "${TMPDIR:-/tmp}/shmring-wine-exe.XXXXXX")
cat >"$WRAP" <<EOF
#!/bin/sh
exec wine "$EXE" "\$@"
EOF
chmod +x "$WRAP"
SHMRING=$WRAP
SUITE=cli-wine
# shellcheck source=tests/cli/common.sh
. tests/cli/common.sh
trap 'cli_cleanup; rm -f "$WRAP"; stop_wine' EXIT
GEN="python3 tests/cli/gen.py"

# Text verbs print CRLF on Windows: compare without the CRs.
crlf() {
	tr -d '\r' <"$OUT" >"$OUT.lf" && mv "$OUT.lf" "$OUT"
}

# wstat NAME ROLE: the ring's ROLE is attached (from Windows' view).
wattached() {
	"$SHMRING" stat --json "$1" 2>/dev/null | tr -d '\r' >"$WORK/watt.json" &&
		json "$WORK/watt.json" "j['$2']['state'] == 'attached'" >/dev/null
}

expect "--help: status 0" 0 "" -- S --help
crlf
check "--help: the verbs" grep -q "^  write NAME" "$OUT"
expect "write --help: status 0" 0 "" -- S write --help
expect "no verb: status 2" 2 "Usage: shmring VERB" -- S
expect "a bad option: status 2" 2 "unknown option" -- S ls --frob
expect "stat of a missing ring: status 3" 3 "^shmring: $T-none: no such ring" -- S stat "$T-none"
expect "read --no-create of a missing ring: status 3" 3 "no such ring" -- S read --no-create "$T-none"
expect "ls --json of none of ours" 0 "" -- S ls --json "$T-*"
crlf
jcheck "ls --json: []" "$OUT" "j == []"

# roundtrip DESC NAME "WRITE-OPTS" "READ-OPTS" IN EXPECTED
roundtrip() {
	local desc=$1 name=$2 wopts=$3 ropts=$4 in=$5 want=$6 rd st
	# shellcheck disable=SC2086
	"$SHMRING" read $ropts "$name" >"$WORK/rt.out" 2>"$WORK/rt.err" &
	rd=$!
	check "$desc: the reader creates the ring and attaches" wait_for 30 wattached "$name" consumer
	# shellcheck disable=SC2086
	expect "$desc: write" 0 "" -- S write $wopts "$name" <"$in"
	wait "$rd"
	st=$?
	check "$desc: the reader ends with 0 (got $st)" test "$st" -eq 0
	check "$desc: identical" cmp -s "$WORK/rt.out" "$want"
}

# ls while a reader holds a ring: the NT directory walk finds it.
"$SHMRING" read --lines "$T-ls" >"$WORK/ls.out" 2>&1 &
rd=$!
check "a reader holds $T-ls" wait_for 30 wattached "$T-ls" consumer
expect "ls finds the ring (os_seg_list)" 0 "" -- S ls "$T-*"
crlf
check "ls: its row, consumer attached" grep -Eq "^$T-ls +16384x64 +524280 +0/16384 \(0%\) +none +attached [0-9]+$" "$OUT"
expect "ls --json" 0 "" -- S ls --json
crlf
jcheck "ls --json (every ring in the session) includes it" "$OUT" "'$T-ls' in [r['name'] for r in j]"
expect "stat --json" 0 "" -- S stat --json "$T-ls"
crlf
jcheck "stat --json: geometry and consumer" "$OUT" \
	"j['slot_count'] == 16384 and j['slot_stride'] == 64 and j['consumer']['state'] == 'attached' and j['consumer']['pid'] > 0"
printf 'one\ntwo\n' | "$SHMRING" write --lines "$T-ls"
wait "$rd"
st=$?
check "the reader of $T-ls ends with 0 (got $st)" test "$st" -eq 0
check "... having read both lines" test "$(cat "$WORK/ls.out")" = "one
two"
expect "ls --json after both closed" 0 "" -- S ls --json "$T-*"
crlf
jcheck "the ring is gone with its last handle (Windows semantics)" "$OUT" "j == []"

# Binary round trips: records with CR, LF, ^Z and NUL bytes, lines, raw.
$GEN records "$WORK/rec" 500 2000 3
python3 -c 'import sys,struct; m=b"\r\n\x1a\x00\r\r\n"; sys.stdout.buffer.write(struct.pack("<I",len(m))+m)' >>"$WORK/rec"
roundtrip "records (binary, 501 messages)" "$T-r" "" "" "$WORK/rec" "$WORK/rec"
seq 1 20000 >"$WORK/seq"
roundtrip "--lines (20000 lines)" "$T-l" "--lines" "--lines" "$WORK/seq" "$WORK/seq"
head -c 1000000 /dev/urandom >"$WORK/b1m"
roundtrip "--raw (1 MB of random bytes)" "$T-w" "--raw" "--raw" "$WORK/b1m" "$WORK/b1m"

# Many writers (read --mpsc): one held on a FIFO, one that comes and goes
# meanwhile; stat shows both entries; the reader ends once both closed.
mkfifo "$WORK/mp.fifo"
"$SHMRING" read --mpsc --lines "$T-mp" >"$WORK/mp.out" 2>"$WORK/mp.err" &
rd=$!
check "read --mpsc creates the ring and attaches" wait_for 30 wattached "$T-mp" consumer
"$SHMRING" write --lines "$T-mp" <"$WORK/mp.fifo" &
wr=$!
exec 3>"$WORK/mp.fifo"
check "a writer attaches to the --mpsc ring" wait_for 30 wattached "$T-mp" producer
expect "a second writer comes and goes" 0 "" -- S write --lines "$T-mp" <<<"two"
expect "stat --json of the --mpsc ring" 0 "" -- S stat --json "$T-mp"
crlf
jcheck "stat --json: MPSC, 1 live producer, entries attached and closed" "$OUT" \
	"j['flags'] == 1 and j['producers'] == 1 and [(e['entry'], e['state']) for e in j['producer_entries']] == [(0, 'attached'), (1, 'closed')]"
expect "stat of the --mpsc ring" 0 "" -- S stat "$T-mp"
crlf
check "stat: the producers section" grep -Eqx "  producers +2 entries, 1 live" "$OUT"
echo one >&3
exec 3>&-
wait "$wr"
wait "$rd"
st=$?
check "the --mpsc reader ends with 0 once both closed (got $st)" test "$st" -eq 0
check "... having read both lines" test "$(sort "$WORK/mp.out" | tr '\n' ' ')" = "one two "

finish
