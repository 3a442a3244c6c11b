#!/usr/bin/env bash
# tests/bridge/test-stream.sh -- whole streams through producer -> ring ->
# out -> nats-server -> in -> ring -> consumer, every message numbered,
# sized at random and checked: 10^6 messages with the default packing,
# 10^5 with --pack 1 (one JetStream message per ring message) and
# --ack-explicit, and a far ring that fills up (a slow consumer on a
# small ring) slowing the stream without loss.
SUITE=stream
# shellcheck source=tests/bridge/common.sh
. "$(dirname "$0")/common.sh"
N=${BRIDGE_N:-1000000}

nats_start

PROD_OPTS=(--min 24 --max 512 --seed 7)
CONS_OPTS=(--min 24 --max 512 --seed 7)
pipeline big "$N"
finish_pipeline
verified "$N messages of 24..512 bytes: 0 lost, 0 duplicated, 0 reordered" big
check "... out ends with 0 at end of stream (got $OUT_ST)" test "$OUT_ST" -eq 0
check "... in ends with 0 at end of stream (got $IN_ST)" test "$IN_ST" -eq 0
check "... the summaries say end: closed" grep -q 'end: closed' "$WORK/big.out" "$WORK/big.in"

PROD_OPTS=(--min 24 --max 4096 --seed 8)
CONS_OPTS=(--min 24 --max 4096 --seed 8)
OUT_OPTS=(--pack 1 --max-pending 256)
IN_OPTS=(--ack-explicit --batch 100)
pipeline single 100000
finish_pipeline
verified "--pack 1, --ack-explicit: 10^5 messages of 24..4096 bytes" single

# A far ring of 64 slots and a consumer sleeping 2 ms per batch: the in
# bridge blocks on the full ring and stops fetching.
PROD_OPTS=(--min 24 --max 200 --seed 9)
CONS_OPTS=(--min 24 --max 200 --seed 9 --slots 64 --slow 2000)
OUT_OPTS=()
IN_OPTS=(--slots 64 --progress=0.5)
pipeline full 20000
finish_pipeline
verified "a far ring that fills up: 20000 messages, slowly, none lost" full
# shellcheck disable=SC2016 # awk fields, not shell
check "... in was blocked by the full ring (rate below 50000 msgs/s)" \
	awk '/end: closed/ { for (i = 1; i <= NF; i++) if ($i == "msgs/s,") r = $(i - 1) } END { exit !(r > 0 && r < 50000) }' "$WORK/full.in"

nats_stop
finish
