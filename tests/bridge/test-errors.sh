#!/usr/bin/env bash
# tests/bridge/test-errors.sh -- every failure has a clear message and its
# exit status: usage, no server, a server without JetStream, no stream,
# a busy ring role, a bad state file.
SUITE=errors
# shellcheck source=tests/bridge/common.sh
. "$(dirname "$0")/common.sh"

expect "no verb: status 2" 2 "^Usage: shmring-bridge" -- "$BRIDGE"
expect "--help: status 0" 0 "" -- "$BRIDGE" out --help
check "... it lists the options" grep -q -- '--max-pending' "$OUT"
expect "out without --subject: status 2" 2 "--subject: required" -- "$BRIDGE" out "$T-u"
expect "in without --durable: status 2" 2 "--durable: required" -- "$BRIDGE" in --subject a "$T-u"
expect "a bad number: status 2" 2 "--max-pending: 'x' is not a whole number" -- \
	"$BRIDGE" out "$T-u" --subject a --max-pending x
expect "--create-stream without --stream: status 2" 2 "needs --stream" -- \
	"$BRIDGE" out "$T-u" --subject a --create-stream

PORT=$(free_port)
expect "no server: status 14 after --connect-timeout" 14 \
	"nats://127.0.0.1:$PORT: no NATS server answered within 1 s" -- \
	"$BRIDGE" out "$T-ns" --subject a --server "nats://127.0.0.1:$PORT" --connect-timeout 1
expect "in, no server: status 14" 14 "no NATS server answered" -- \
	"$BRIDGE" in "$T-ns2" --subject a --durable d --server "nats://127.0.0.1:$PORT" --connect-timeout 0.5

# A server without JetStream.
nats-server -a 127.0.0.1 -p "$PORT" >"$WORK/plain.log" 2>&1 &
plain=$!
BG_PIDS+=("$plain")
wait_port
expect "a server without JetStream: status 15" 15 "JetStream is not enabled" -- \
	"$BRIDGE" out "$T-nj" --subject a --server "nats://127.0.0.1:$PORT"
kill "$plain"
wait "$plain" 2>/dev/null
PORT=

nats_start
expect "no stream takes the subject: status 15" 15 "no stream takes subject nosuch.x" -- \
	"$BRIDGE" in "$T-nos" --subject nosuch.x --durable d --server "$URL"
expect "--stream that does not exist: status 15" 15 "stream NOPE: not found" -- \
	"$BRIDGE" out "$T-nos2" --subject nosuch.x --stream NOPE --server "$URL"
"$VERIFY" produce "$T-cfg" --count 0
expect "out on a closed, empty ring: the marker alone, status 0" 0 "end: closed" -- \
	"$BRIDGE" out "$T-cfg" --subject cfg.x --stream CFG --create-stream --server "$URL"
expect "a stream of another configuration: status 15" 15 "exists with another configuration" -- \
	"$BRIDGE" out "$T-cfg" --subject cfg.x --stream CFG --create-stream --storage memory --server "$URL"

# A ring role held by a live process.
hold=
spawn hold "$VERIFY" consume "$T-busy" --count 1 --idle 5
sleep 0.3
expect "the ring's consumer is held by a live process: status 4" 4 "$T-busy: .*(attached|held|busy)" -- \
	"$BRIDGE" out "$T-busy" --subject busy.x --stream BUSY --create-stream --server "$URL"
kill "$hold" 2>/dev/null

# A state file that is not one.
head -c 100 /dev/urandom >"$WORK/badstate"
expect "a bad state file: status 16" 16 "not a state file" -- \
	"$BRIDGE" in "$T-st" --subject st.x --durable d --stream ST --create-stream \
	--server "$URL" --state "$WORK/badstate"

nats_stop
finish
