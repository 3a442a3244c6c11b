#!/usr/bin/env bash
# scripts/bench.sh -- build the benchmarks (release) and run the whole matrix:
# streaming throughput, ping-pong latency, the hardware limits, and the wake
# and system-call checks. Writes results.md (also printed), results.csv,
# the raw lines and PNG plots to the directory it prints at the end.
#
# usage: scripts/bench.sh [--quick] [--out DIR] [--cpus A,B] [--no-strace]
#   --quick      3 runs per figure and short runs (about 2 minutes)
#   --out DIR    results directory (default: build-bench/bench/results)
#   --cpus A,B   CPUs for the two processes (default 0,1)
#   --no-strace  skip the system-call counts (perf tracepoints, strace -c)
# Environment: BUILD=dir (default build-bench).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD:-$root/build-bench}
out=""
quick=()
cpus=0,1
strace_check=1

while [ $# -gt 0 ]; do
	case $1 in
	--quick) quick=(--quick) ;;
	--out) out=$2; shift ;;
	--cpus) cpus=$2; shift ;;
	--no-strace) strace_check=0 ;;
	-h | --help) sed -n '2,13p' "$0"; exit 0 ;;
	*) echo "bench.sh: unknown option $1" >&2; exit 2 ;;
	esac
	shift
done
out=${out:-$build/bench/results}

if [ "$(nproc)" -lt 2 ]; then
	echo "bench.sh: needs 2 CPUs (producer and consumer on different CPUs)" >&2
	exit 1
fi

# ---- build (release) --------------------------------------------------------
if [ ! -f "$build/build.ninja" ]; then
	meson setup "$build" "$root" --buildtype=release -Dbenchmarks=enabled >/dev/null
else
	meson configure "$build" --buildtype=release -Dbenchmarks=enabled >/dev/null
fi
ninja -C "$build" bench/bench_throughput bench/bench_latency >/dev/null
bin=$build/bench
mkdir -p "$out"

# ---- the machine ------------------------------------------------------------
{
	echo "date: $(date -u '+%Y-%m-%d %H:%M UTC')"
	dirty=$(git -C "$root" status --porcelain -- src include 2>/dev/null | wc -l)
	echo "commit: $(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown)" \
		"($([ "$dirty" = 0 ] && echo "clean src/ and include/" || echo "$dirty uncommitted files in src/ or include/"))"
	echo "cpu: $(lscpu | sed -n 's/^Model name: *//p' | head -1)" \
		"(family $(lscpu | sed -n 's/^CPU family: *//p'), model $(lscpu | sed -n 's/^Model: *//p'))"
	echo "cpus: $(nproc) online; $(lscpu | sed -n 's/^Thread(s) per core: *//p') thread(s)/core;" \
		"virtualised: $(grep -qw hypervisor /proc/cpuinfo && echo yes || echo no)"
	echo "caches (getconf, from CPUID): $(getconf -a 2>/dev/null | awk '/LEVEL[123]_[ID]*CACHE_SIZE/ && $2 > 0 { printf "%s=%dK ", $1, $2 / 1024 }')"
	echo "kernel: $(uname -r)"
	echo "load: $(cut -d' ' -f1-3 /proc/loadavg) (1/5/15 min, at start)"
	echo "command: scripts/bench.sh ${quick[*]} --cpus $cpus"
} >"$out/env.txt"

echo "bench.sh: results go to $out" >&2

# ---- throughput and latency -------------------------------------------------
echo "bench.sh: streaming throughput ..." >&2
"$bin/bench_throughput" "${quick[@]}" --cpus "$cpus" | tee "$out/throughput.txt" >&2
echo "bench.sh: ping-pong latency ..." >&2
"$bin/bench_latency" "${quick[@]}" --cpus "$cpus" | tee "$out/latency.txt" >&2

# ---- system calls on a steady stream ------------------------------------------
# Two fixed-count runs (N1, N2 messages, one run, no warm-up) of a 64-byte
# shmring stream, counted by perf's syscall tracepoints (cheap; inherited
# by the children) and by strace -f -c (the classic, but it slows every
# system call down): (calls(N2) - calls(N1)) / (N2 - N1) is the marginal
# number of system calls per message, free of setup costs.
: >"$out/syscalls.txt"
n1=200000 n2=2000000
count() { # TOOL TRANSPORT N
	local f=$out/$1-$2-$3.txt
	local run=("$bin/bench_throughput" -t "$2" -s 64 -n "$3" -r 1 --no-warmup --cpus "$cpus")
	case $1 in
	perf) perf stat -x, -o "$f" -e syscalls:sys_enter_futex,syscalls:sys_enter_membarrier,raw_syscalls:sys_enter \
		-- "${run[@]}" >"${f%.txt}.out" 2>/dev/null || return 0 ;;
	strace) strace -f -c -o "$f" "${run[@]}" >"${f%.txt}.out" || return 0 ;;
	esac
	echo "tool=$1 transport=$2 msgs=$3 file=$(basename "$f") out=$(basename "$f" .txt).out" >>"$out/syscalls.txt"
}
if [ $strace_check = 1 ]; then
	echo "bench.sh: system-call counts (perf tracepoints, strace -c) ..." >&2
	for t in shmring-copy shmring-zc shmring-batch; do
		for n in $n1 $n2; do
			command -v perf >/dev/null && count perf $t $n
			command -v strace >/dev/null && count strace $t $n
		done
	done
fi

echo "load: $(cut -d' ' -f1-3 /proc/loadavg) (1/5/15 min, at end)" >>"$out/env.txt"

# ---- report -----------------------------------------------------------------
python3 "$root/bench/report.py" "$out"
echo >&2
echo "bench.sh: table, CSV and plots in $out (results.md, results.csv, *.png)" >&2
