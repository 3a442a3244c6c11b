# shellcheck shell=bash
# tests/cli/common.sh -- helpers for the shell tests of the shmring command.
# Source it after setting SUITE (the name in the count line). Needs
# SHMRING (the program to test). Every ring a test makes is named
# "$T-..." and removed at exit.
#
#   expect DESC STATUS [STDERR-ERE] -- CMD...   run CMD, check status and stderr
#   check DESC CMD...                           pass if CMD succeeds
#   todo DESC CMD...                            a known defect: reported, not failed
#   json FILE EXPR                              evaluate a Python expression on
#                                               the JSON in FILE (as j)
#   finish                                      print "SUITE: N passed, N failed"
#
# After expect or run: $ST is the status, $OUT and $ERR the files holding
# stdout and stderr.

: "${SHMRING:?SHMRING must name the shmring program}"
: "${SUITE:?}"
PASS=0
FAIL=0
TODO=0
T="clit$$"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/shmring-cli.XXXXXX")
OUT="$WORK/out"
ERR="$WORK/err"
ST=0
BG_PIDS=()

cli_cleanup() {
	local p
	for p in "${BG_PIDS[@]}"; do
		kill -9 "$p" 2>/dev/null
	done
	if [ -d /dev/shm ]; then
		rm -f /dev/shm/shmring."$T"-* 2>/dev/null
		rmdir /dev/shm/shmring."$T"-* 2>/dev/null
	fi
	rm -rf "$WORK"
}
trap cli_cleanup EXIT

# S ARGS...: the program, killed if it runs for more than 60 s (a hang is a
# failure, never a stuck suite).
S() {
	timeout -k 5 60 "$SHMRING" "$@"
}

LAST_T=${EPOCHREALTIME/./}

# With CLI_TIMING=1: the time since the previous result, when above 0.5 s.
took() {
	local now=${EPOCHREALTIME/./}
	if [ "${CLI_TIMING:-0}" = 1 ] && [ $((now - LAST_T)) -gt 500000 ]; then
		echo "#   took $(((now - LAST_T) / 1000)) ms"
	fi
	LAST_T=$now
}

ok() {
	PASS=$((PASS + 1))
	echo "ok - $*"
	took
}

not_ok() {
	FAIL=$((FAIL + 1))
	echo "not ok - $*"
	took
	if [ -s "$ERR" ]; then
		head -n 5 "$ERR" | sed 's/^/#   stderr: /'
	fi
}

check() {
	local desc=$1
	shift
	if "$@"; then ok "$desc"; else not_ok "$desc"; fi
}

todo() {
	local desc=$1
	shift
	if "$@"; then
		ok "$desc (a known defect no longer reproduces: drop the todo)"
	else
		TODO=$((TODO + 1))
		echo "not ok - $desc # TODO"
	fi
}

run() {
	"$@" >"$OUT" 2>"$ERR"
	ST=$?
	return $ST
}

expect() {
	local desc=$1 want=$2 re=${3:-}
	shift 3
	[ "${1:-}" = "--" ] && shift
	run "$@"
	if [ "$ST" -eq "$want" ] && { [ -z "$re" ] || grep -Eq -- "$re" "$ERR"; }; then
		ok "$desc"
	else
		not_ok "$desc (status $ST, want $want${re:+, stderr /$re/})"
	fi
}

# json FILE EXPR: print the value of Python expression EXPR over j, the JSON
# document in FILE; status 1 if it is false, 2 if it does not parse.
json() {
	python3 - "$1" "$2" <<'PY'
import json, sys
try:
    j = json.load(open(sys.argv[1]))
except Exception as e:
    print("bad json:", e, file=sys.stderr)
    sys.exit(2)
v = eval(sys.argv[2], {"j": j})
print(v)
sys.exit(0 if v else 1)
PY
}

# jcheck DESC FILE EXPR: pass if EXPR holds over the JSON in FILE.
jcheck() {
	local desc=$1 file=$2 expr=$3
	if json "$file" "$expr" >/dev/null 2>"$WORK/json.err"; then
		ok "$desc"
	else
		not_ok "$desc ($expr)"
		sed 's/^/#   /' "$WORK/json.err" | head -n 3
		head -c 600 "$file" | sed 's/^/#   json: /'
		echo
	fi
}

# spawn CMD...: start CMD in the background; its pid in $BG (killed at exit).
spawn() {
	"$@" <&0 & # explicitly: a background job's stdin is /dev/null otherwise
	BG=$!
	BG_PIDS+=("$BG")
}

# spawn_in FILE CMD...: as spawn, with stdin from FILE (opened by the child, so a
# FIFO does not block us).
spawn_in() {
	local in=$1
	shift
	"$@" <"$in" &
	BG=$!
	BG_PIDS+=("$BG")
}

# wait_for SECONDS CMD...: poll CMD every 50 ms until it succeeds.
wait_for() {
	local end=$((SECONDS + $1))
	shift
	while ! "$@" >/dev/null 2>&1; do
		[ "$SECONDS" -ge "$end" ] && return 1
		sleep 0.05
	done
}

# attached NAME ROLE: the ring's ROLE (producer or consumer) is attached.
attached() {
	"$SHMRING" stat --json "$1" >"$WORK/att.json" 2>/dev/null &&
		json "$WORK/att.json" "j['$2']['state'] == 'attached'" >/dev/null
}

finish() {
	echo "$SUITE: $PASS passed, $FAIL failed${TODO:+$([ "$TODO" -gt 0 ] && echo ", $TODO todo (known defects, above)")}"
	[ "$FAIL" -eq 0 ]
}
