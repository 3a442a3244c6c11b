#!/usr/bin/env bash
# scripts/bench-path.sh -- the data path's own cost, with no second core:
# bench/bench_path.c holds both ends of one ring in one process and
# alternates bursts of sends and receives, so nothing waits and no line
# moves between cores. Prints, per API and message size, the instructions
# per message (valgrind's callgrind: the instructions of a run of N
# messages minus those of a run of 0, over N; the benchmark loop's own
# sequence check is in every row, ck_ring's included) and the single-core
# nanoseconds per message (native, median of 5). Both formats: this tree
# and the format-1 build scripts/bench.sh makes in build-bench/v1.
#
# usage: scripts/bench-path.sh [SIZES] [APIS]   (default: "8 64" and
#        "copy zc batch zcbatch ck_ring"); run scripts/bench.sh once first
# Environment: BUILD=dir (default build-bench).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD:-$root/build-bench}
sizes=${1:-"8 64"}
apis=${2:-"copy zc batch zcbatch ck_ring"}
n=200000

# shellcheck source=scripts/lib.sh
. "$root/scripts/lib.sh"
sr_install valgrind || true
ninja -C "$build" bench/bench_path >/dev/null
builds=("v2:$build/bench/bench_path")
if [ -d "$build/v1" ]; then
	ninja -C "$build/v1" bench/bench_path >/dev/null 2>&1 &&
		builds+=("v1:$build/v1/bench/bench_path")
fi

irefs() { # BIN ARGS...: instructions the whole run executed
	valgrind --tool=callgrind --callgrind-out-file=/dev/null "$@" 2>&1 >/dev/null |
		sed -n 's/.*refs: *//p' | tr -d ,
}

echo "| build | api | size | instructions/msg (callgrind) | ns/msg, one core (median of 5) |"
echo "|---|---|---|---|---|"
for b in "${builds[@]}"; do
	name=${b%%:*} bin=${b#*:}
	for s in $sizes; do
		for a in $apis; do
			[ "$name" = v1 ] && [ "$a" = zcbatch ] && continue
			[ "$name" = v1 ] && [ "$a" = ck_ring ] && continue
			ins=-
			if command -v valgrind >/dev/null; then
				i1=$(irefs "$bin" -s "$s" -n $n -t "$a")
				i0=$(irefs "$bin" -s "$s" -n 0 -t "$a")
				ins=$(awk -v a="$i1" -v b="$i0" -v n=$n 'BEGIN{printf "%.0f", (a-b)/n}')
			fi
			t=$(for _ in 1 2 3 4 5; do
				"$bin" -s "$s" -n 2000000 -t "$a" | sed -n 's/.*ns_per_msg=//p'
			done | sort -g | sed -n 3p)
			echo "| $name | $a | $s | $ins | $t |"
		done
	done
done
