#!/usr/bin/env bash
# scripts/bench-bridge.sh -- the figures of docs/bridge.md, in one run:
# messages/s and MB/s at 64 B and 4 KiB through producer -> ring -> out ->
# nats-server -> in -> ring -> consumer (the consumer's clock: first send
# to last receive), beside the same messages published straight to
# JetStream with nats.c (srb-jsdirect: js_PublishAsync, 1024 in flight,
# every ack awaited; with and without a Nats-Msg-Id), runs interleaved;
# then the end-to-end latency p50/p99 of a paced stream. One
# nats-server -js, file storage in a temporary directory, on loopback.
#
#   scripts/bench-bridge.sh [RUNS]      (default 3)
#
# Environment: BENCH_N64 (default 1000000), BENCH_N4K (default 100000),
# BENCH_DIRECT_N64 (default 300000), BENCH_RATE (paced rate, 20000/s).
set -u
cd "$(dirname "${BASH_SOURCE[0]}")/.." || exit 2
# shellcheck source=scripts/lib.sh
. scripts/lib.sh
RUNS=${1:-3}
N64=${BENCH_N64:-1000000}
N4K=${BENCH_N4K:-100000}
D64=${BENCH_DIRECT_N64:-300000}
RATE=${BENCH_RATE:-20000}
BUILD=build-bridge-bench

sr_install meson ninja-build gcc pkg-config python3 nats-server libnats-dev || exit 2
if [ ! -d "$BUILD/meson-private" ]; then
	meson setup "$BUILD" -Dbuildtype=release -Dtests=disabled -Dbenchmarks=disabled \
		-Dpython=disabled -Dbridge=enabled >/dev/null || exit 2
fi
ninja -C "$BUILD" >/dev/null || exit 2
B="$PWD/$BUILD/bridge/shmring-bridge"
V="$PWD/$BUILD/bridge/srb-verify"
J="$PWD/$BUILD/bridge/srb-jsdirect"

WORK=$(mktemp -d /tmp/shmring-bridge-bench.XXXXXX)
PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
URL="nats://127.0.0.1:$PORT"
R="srbb$$"
K="$WORK/k" # a counter file: the runs are made in $(...) subshells
echo 0 >"$K"
nats-server -js -a 127.0.0.1 -p "$PORT" -sd "$WORK/js" >"$WORK/nats.log" 2>&1 &
NS=$!
cleanup() {
	kill "$NS" 2>/dev/null
	wait "$NS" 2>/dev/null
	rm -f /dev/shm/shmring."$R"-* /dev/shm/shmring-bridge-in."$R"-*
	rm -rf "$WORK"
}
trap cleanup EXIT
sleep 0.5

# next: a fresh number for ring, stream and subject names, in $k.
next() {
	k=$(($(cat "$K") + 1))
	echo "$k" >"$K"
}

# bridge SIZE N [OUT-OPTS...]: one run through both bridges; prints the
# consumer's line.
bridge() {
	local size=$1 n=$2 c i o p
	shift 2
	next
	"$V" consume "$R-$k-b" --count "$n" --min "$size" --max "$size" \
		--slots 65536 --idle 30 >"$WORK/cons" &
	c=$!
	"$B" in --subject "b.$k" --durable d "$R-$k-b" --server "$URL" \
		--create-stream --stream "B$k" --quiet &
	i=$!
	"$B" out "$R-$k-a" --subject "b.$k" --server "$URL" --create-stream \
		--stream "B$k" --quiet "$@" &
	o=$!
	"$V" produce "$R-$k-a" --count "$n" --min "$size" --max "$size" \
		--slots 65536 "${PRODUCE[@]}"
	p=$?
	wait "$o" "$i" "$c"
	[ "$p" -eq 0 ] || echo "producer failed"
	cat "$WORK/cons"
}

# direct SIZE N [--msg-id]: the producer publishing straight to JetStream.
direct() {
	local size=$1 n=$2
	shift 2
	next
	"$B" out "$R-$k-x" --subject "d.$k" --server "$URL" --create-stream \
		--stream "D$k" --quiet --connect-timeout 1 &
	local o=$!
	sleep 0.3
	kill -TERM "$o"
	wait "$o" 2>/dev/null
	"$J" --server "$URL" --subject "d.$k" --count "$n" --size "$size" "$@"
}

field() { sed -nE "s/.* $1=([0-9.]+).*/\1/p"; }

echo "# machine: $(nproc) CPUs, $(sed -nE 's/^model name\s*: //p' /proc/cpuinfo | head -n 1)"
echo "# nats-server $(nats-server --version | awk '{print $2}'), libnats $(pkg-config --modversion libnats)"
PRODUCE=()
for run in $(seq "$RUNS"); do
	for size in 64 4096; do
		if [ "$size" = 64 ]; then nb=$N64 nd=$D64; else nb=$N4K nd=$N4K; fi
		l=$(direct "$size" "$nd")
		echo "run=$run size=$size path=direct ${l#jsdirect: }"
		l=$(direct "$size" "$nd" --msg-id)
		echo "run=$run size=$size path=direct-msgid ${l#jsdirect: }"
		l=$(bridge "$size" "$nb")
		echo "run=$run size=$size path=bridge msgs=$nb ${l#verify: }"
		l=$(bridge "$size" "$nd" --pack 1)
		echo "run=$run size=$size path=bridge-pack1 msgs=$nd ${l#verify: }"
	done
done | tee "$WORK/runs"

echo "# latency, paced at $RATE msgs/s (${RATE} messages), p50/p99 in us"
PRODUCE=(--rate "$RATE")
for size in 64 4096; do
	for pack in 64 1; do
		l=$(bridge "$size" "$RATE" --pack "$pack")
		echo "latency size=$size pack=$pack p50_us=$(echo "$l" | field p50_us) p99_us=$(echo "$l" | field p99_us) $(echo "$l" | grep -o 'lost=[0-9]* dup=[0-9]*')"
	done
done

echo "# medians over $RUNS runs"
python3 - "$WORK/runs" <<'PY'
import re, statistics, sys
rows = {}
for line in open(sys.argv[1]):
    kv = dict(re.findall(r"(\w+)=([\w.-]+)", line))
    if "path" not in kv:
        continue
    rows.setdefault((kv["size"], kv["path"]), []).append(
        (float(kv["msgs_per_s"]), float(kv["mb_per_s"])))
med = {k: (statistics.median(a for a, _ in v), statistics.median(b for _, b in v))
       for k, v in rows.items()}
for size in ("64", "4096"):
    d = med.get((size, "direct"), (0, 0))
    for path in ("direct", "direct-msgid", "bridge", "bridge-pack1"):
        m = med.get((size, path))
        if not m:
            continue
        ratio = m[0] / d[0] if d[0] else 0
        print(f"median size={size} path={path} msgs_per_s={m[0]:.0f} "
              f"mb_per_s={m[1]:.2f} ratio_to_direct={ratio:.2f}")
PY
