# shellcheck shell=bash
# tests/bridge/common.sh -- helpers for the shell tests of shmring-bridge.
# Source it after setting SUITE. Needs BRIDGE (shmring-bridge) and VERIFY
# (srb-verify). Every ring is named "$T-...", every stream and durable
# "T..."; all are removed, and every process started is stopped, at exit.
#
#   nats_start [ARGS]   a nats-server -js on 127.0.0.1, a free port and a
#                       store directory of its own; $URL, $NS_PID
#   nats_stop / nats_kill / nats_restart
#   spawn VAR CMD...    start CMD in the background, its pid in $VAR
#   pipeline NAME N     consumer, in, out and producer of N messages over
#                       rings $T-NAME-a -> $T-NAME-b (options in the
#                       PROD_OPTS, OUT_OPTS, IN_OPTS, CONS_OPTS arrays)
#   finish_pipeline NAME  wait for all four; $CONS_ST, $OUT_ST, $IN_ST
#   verified DESC NAME  pass if the consumer got every message once, in
#                       order, intact, to a clean end of stream
#   ok / not_ok / check / expect DESC STATUS STDERR-ERE -- CMD...
#   finish              print "SUITE: N passed, N failed"

: "${BRIDGE:?BRIDGE must name shmring-bridge}"
: "${VERIFY:?VERIFY must name srb-verify}"
: "${SUITE:?}"
PASS=0
FAIL=0
T="srbt$$"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/shmring-bridge.XXXXXX")
OUT="$WORK/out"
ERR="$WORK/err"
ST=0
NS_PID=
PORT=
URL=
BG_PIDS=()
PROD_OPTS=()
OUT_OPTS=()
IN_OPTS=()
CONS_OPTS=()

bridge_cleanup() {
	local p
	for p in "${BG_PIDS[@]}"; do
		kill -9 "$p" 2>/dev/null
	done
	[ -n "$NS_PID" ] && kill -9 "$NS_PID" 2>/dev/null
	wait 2>/dev/null
	rm -f /dev/shm/shmring."$T"-* /dev/shm/shmring-bridge-in."$T"-* 2>/dev/null
	rm -rf "$WORK"
}
trap bridge_cleanup EXIT

LAST_T=${EPOCHREALTIME/./}
took() {
	local now=${EPOCHREALTIME/./}
	echo "#   took $(((now - LAST_T) / 1000)) ms"
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

# expect DESC STATUS STDERR-ERE -- CMD...: run CMD (killed after 60 s).
expect() {
	local desc=$1 want=$2 re=${3:-}
	shift 3
	[ "${1:-}" = "--" ] && shift
	timeout -k 5 60 "$@" >"$OUT" 2>"$ERR"
	ST=$?
	if [ "$ST" -eq "$want" ] && { [ -z "$re" ] || grep -Eq -- "$re" "$ERR"; }; then
		ok "$desc"
	else
		not_ok "$desc (status $ST, want $want${re:+, stderr /$re/})"
	fi
}

finish() {
	echo "$SUITE: $PASS passed, $FAIL failed"
	[ "$FAIL" -eq 0 ]
}

free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# spawn VAR CMD...: CMD in the background (killed at exit), pid in VAR.
spawn() {
	local var=$1
	shift
	"$@" &
	BG_PIDS+=($!)
	printf -v "$var" '%s' "$!"
}

# wait_port: until the server accepts connections (5 s at most).
wait_port() {
	local _
	for _ in $(seq 100); do
		(exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && return 0
		sleep 0.05
	done
	return 1
}

# shellcheck disable=SC2120 # callers may pass nats-server arguments
nats_start() {
	[ -n "$PORT" ] || PORT=$(free_port)
	URL="nats://127.0.0.1:$PORT"
	nats-server -js -a 127.0.0.1 -p "$PORT" -sd "$WORK/js" "$@" \
		>>"$WORK/nats.log" 2>&1 &
	NS_PID=$!
	wait_port || { echo "# nats-server did not start:"; tail -n 5 "$WORK/nats.log"; }
}

nats_stop() {
	[ -n "$NS_PID" ] || return 0
	kill -TERM "$NS_PID" 2>/dev/null
	wait "$NS_PID" 2>/dev/null
	NS_PID=
}

nats_kill() {
	[ -n "$NS_PID" ] || return 0
	kill -9 "$NS_PID" 2>/dev/null
	wait "$NS_PID" 2>/dev/null
	NS_PID=
}

# A stream of the test's own per pipeline: T<pid><name>, subject t.<pid>.<name>.
stream_of() { echo "T$$$1" | tr -c 'A-Za-z0-9\n' '_'; }
subject_of() { echo "t.$$.$1"; }

# The bridges exec, so that the pid spawn records is the bridge's own (a
# signal reaches it, not a shell); finish_pipeline's watchdog bounds them.
bridge_out() { # NAME [OPTS]: the out bridge of pipeline NAME
	local name=$1
	shift
	exec "$BRIDGE" out "$T-$name-a" --subject "$(subject_of "$name")" \
		--server "$URL" --create-stream --stream "$(stream_of "$name")" \
		"${OUT_OPTS[@]}" "$@"
}

bridge_in() { # NAME [OPTS]: the in bridge of pipeline NAME
	local name=$1
	shift
	exec "$BRIDGE" in --subject "$(subject_of "$name")" --durable "D$$" \
		--server "$URL" --create-stream --stream "$(stream_of "$name")" \
		"${IN_OPTS[@]}" "$@" "$T-$name-b"
}

# pipeline NAME N: start consumer, in, out, producer (in that order).
pipeline() {
	local name=$1 n=$2
	spawn CONS_PID "$VERIFY" consume "$T-$name-b" --count "$n" --idle 30 \
		"${CONS_OPTS[@]}" >"$WORK/$name.cons"
	spawn IN_PID bridge_in "$name" 2>"$WORK/$name.in"
	spawn OUT_PID bridge_out "$name" 2>"$WORK/$name.out"
	spawn PROD_PID "$VERIFY" produce "$T-$name-a" --count "${PROD_N:-$n}" \
		"${PROD_OPTS[@]}"
}

# finish_pipeline: wait for the four (killed if still there after 120 s).
finish_pipeline() {
	local dog
	(
		trap 'kill "$s" 2>/dev/null; exit 0' TERM
		sleep 120 >/dev/null 2>&1 &
		s=$!
		wait "$s"
		echo "# watchdog: the pipeline hung; killing it"
		kill -9 "$PROD_PID" "$OUT_PID" "$IN_PID" "$CONS_PID"
	) 2>/dev/null &
	dog=$!
	wait "$PROD_PID"
	export PROD_ST=$?
	wait "$OUT_PID"
	OUT_ST=$?
	wait "$IN_PID"
	IN_ST=$?
	wait "$CONS_PID"
	CONS_ST=$?
	kill "$dog" 2>/dev/null
	wait "$dog" 2>/dev/null
}

# verified DESC NAME: the consumer's line says all came, once, in order.
verified() {
	local desc=$1 name=$2 line
	line=$(grep '^verify:' "$WORK/$name.cons")
	echo "#   $line"
	grep -h 'end:' "$WORK/$name.out" "$WORK/$name.in" 2>/dev/null | sed 's/^/#   /'
	if [ "$CONS_ST" -eq 0 ] && grep -q ' lost=0 dup=0 reordered=0 corrupt=0 end=closed' <<<"$line"; then
		ok "$desc"
	else
		not_ok "$desc (consumer $CONS_ST, out ${OUT_ST:-?}, in ${IN_ST:-?})"
		tail -n 5 "$WORK/$name.out" "$WORK/$name.in" 2>/dev/null | sed 's/^/#   /'
	fi
}
