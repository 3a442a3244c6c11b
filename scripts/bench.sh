#!/usr/bin/env bash
# scripts/bench.sh -- build the benchmarks (release) and run them: first the
# bars of issue 9 (format v2), each figure from many short interleaved runs
# with the machine's state probed next to every run, against the format-1
# library built from commit V1 where a bar compares the formats; then the
# broad matrix (streaming throughput, ping-pong latency, the hardware
# limits); then the wake and system-call checks. Writes results-v2.md,
# results.md (both also printed), the CSVs, the raw lines and PNG plots to
# the directory it prints at the end.
#
# usage: scripts/bench.sh [--quick] [--out DIR] [--cpus A,B] [--no-strace]
#                         [--v2-only] [--no-matrix] [--v1 COMMIT|none]
#   --quick      5 rounds per issue-9 figure and 3 per matrix figure, short
#                runs (about 4 minutes; the full run is about 12)
#   --out DIR    results directory (default: build-bench/bench/results)
#   --cpus A,B   CPUs for the two processes (default 0,1); the one-CPU
#                ping-pong runs under taskset -c A
#   --no-strace  skip the system-call counts (perf tracepoints, strace -c)
#   --v2-only    only the issue-9 groups (and the system-call counts)
#   --no-matrix  the same
#   --v1 COMMIT  the format-1 commit to compare with (default c832bfe);
#                none drops the v1 rows
#   --groups LIST  only these issue-9 groups (comma-separated: 8, 64, 1k,
#                64k, 1m, mix, lat1cpu, lat2cpu, latfree; default all)
#   --wait-quiet S  before each group, wait up to S seconds for the rest of
#                the machine to use under 0.3 CPU (a shared machine: the
#                others' compiles); every run's state is recorded anyway
# Environment: BUILD=dir (default build-bench).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD:-$root/build-bench}
out=""
quick=()
cpus=0,1
strace_check=1
matrix=1
v1=c832bfe
wait_quiet=0
groups=all

while [ $# -gt 0 ]; do
	case $1 in
	--quick) quick=(--quick) ;;
	--out) out=$2; shift ;;
	--cpus) cpus=$2; shift ;;
	--no-strace) strace_check=0 ;;
	--v2-only | --no-matrix) matrix=0 ;;
	--v1) v1=$2; shift ;;
	--wait-quiet) wait_quiet=$2; shift ;;
	--groups) groups=",$2,"; shift ;;
	-h | --help) sed -n '2,28p' "$0"; exit 0 ;;
	*) echo "bench.sh: unknown option $1" >&2; exit 2 ;;
	esac
	shift
done
out=${out:-$build/bench/results}
cpu0=${cpus%%,*}

if [ "$(nproc)" -lt 2 ]; then
	echo "bench.sh: needs 2 CPUs (producer and consumer on different CPUs)" >&2
	exit 1
fi

# shellcheck source=scripts/lib.sh
. "$root/scripts/lib.sh"
sr_install meson ninja-build pkg-config gcc python3 || exit 2
# optional: their rows, plots or counts are dropped without them
sr_install libzmq3-dev libck-dev gnuplot-nox strace linux-perf || true

# ---- build (release) --------------------------------------------------------
if [ ! -f "$build/build.ninja" ]; then
	meson setup "$build" "$root" --buildtype=release -Dbenchmarks=enabled >/dev/null
else
	meson configure "$build" --buildtype=release -Dbenchmarks=enabled >/dev/null
fi
ninja -C "$build" bench/bench_throughput bench/bench_latency bench/bench_probe >/dev/null
bin=$build/bench
mkdir -p "$out"
# a --groups run replaces only its groups' files (and the matrix's, if run)
[ "$groups" = all ] && rm -f "$out"/v2-*.txt "$out"/quiet.txt
[ $matrix = 1 ] && rm -f "$out"/throughput.txt "$out"/latency.txt

# The format-1 library from commit $v1, with this tree's bench/ (which
# builds against both headers): its programs run the "alt:" rows, each of
# their runs interleaved with this build's. No git state is touched (git
# archive into the build directory).
alt_tp=() alt_lat=()
if [ "$v1" != none ]; then
	v1src=$build/v1-src v1build=$build/v1
	rm -rf "$v1src"
	mkdir -p "$v1src"
	git -C "$root" archive "$v1" | tar -x -C "$v1src"
	rm -rf "$v1src/bench"
	cp -r "$root/bench" "$v1src/bench"
	if [ ! -f "$v1build/build.ninja" ]; then
		meson setup "$v1build" "$v1src" --buildtype=release -Dbenchmarks=enabled \
			-Dtests=disabled >/dev/null
	fi
	ninja -C "$v1build" bench/bench_throughput bench/bench_latency >/dev/null
	alt_tp=(--alt "$v1build/bench/bench_throughput")
	alt_lat=(--alt "$v1build/bench/bench_latency")
fi

# ---- the machine ------------------------------------------------------------
{
	echo "date: $(date -u '+%Y-%m-%d %H:%M UTC')"
	dirty=$(git -C "$root" status --porcelain -- src include 2>/dev/null | wc -l)
	echo "commit: $(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown)" \
		"($([ "$dirty" = 0 ] && echo "clean src/ and include/" || echo "$dirty uncommitted files in src/ or include/"))"
	echo "src/ and include/ as measured: sha256 $(cd "$root" && find src include -type f | LC_ALL=C sort | xargs sha256sum | sha256sum | cut -c1-16)"
	echo "format 1 build: ${v1} (git archive, with this tree's bench/)"
	echo "cpu: $(lscpu | sed -n 's/^Model name: *//p' | head -1)" \
		"(family $(lscpu | sed -n 's/^CPU family: *//p'), model $(lscpu | sed -n 's/^Model: *//p'))"
	echo "cpus: $(nproc) online; $(lscpu | sed -n 's/^Thread(s) per core: *//p') thread(s)/core;" \
		"virtualised: $(grep -qw hypervisor /proc/cpuinfo && echo yes || echo no)"
	echo "caches (getconf, from CPUID): $(getconf -a 2>/dev/null | awk '/LEVEL[123]_[ID]*CACHE_SIZE/ && $2 > 0 { printf "%s=%dK ", $1, $2 / 1024 }')"
	echo "kernel: $(uname -r)"
	echo "load: $(cut -d' ' -f1-3 /proc/loadavg) (1/5/15 min, at start)"
	echo "command: scripts/bench.sh ${quick[*]} --cpus $cpus"
} >"$out/env.txt"
# what else runs on the machine (the other CPU users), at start and end
top -b -n 1 -w 200 | sed -n '1,20p' >"$out/top-start.txt" 2>/dev/null || true

echo "bench.sh: results go to $out" >&2

# ---- issue 9: the format-v2 bars ----------------------------------------------
# Each group: R rounds, every configuration once per round (the order
# alternates), each run preceded by the 20 ms probe (--probe). The file
# starts with the exact command.
if [ ${#quick[@]} -gt 0 ]; then v2r=(-r 5 -T 0.05); else v2r=(-r 21 -T 0.15); fi
busy_cpus() { # CPU time the machine used over 1 s (we are idle meanwhile)
	local a b
	a=$(awk '/^cpu /{print $2+$3+$4+$7+$8}' /proc/stat)
	sleep 1
	b=$(awk '/^cpu /{print $2+$3+$4+$7+$8}' /proc/stat)
	awk -v a="$a" -v b="$b" -v hz="$(getconf CLK_TCK)" 'BEGIN{printf "%.2f", (b-a)/hz}'
}
quiet() { # wait up to $wait_quiet s for the others' CPU use to drop
	local t=0 u
	[ "$wait_quiet" -gt 0 ] || return 0
	while u=$(busy_cpus) && awk -v u="$u" 'BEGIN{exit !(u >= 0.3)}'; do
		[ $t -ge "$wait_quiet" ] && { echo "bench.sh: still busy ($u CPU), going on" >&2; return 0; }
		[ $t = 0 ] && echo "bench.sh: machine busy ($u CPU used by others), waiting ..." >&2
		t=$((t + 1))
	done
	echo "waited ${t} s for quiet before $1 (then $u CPU)" >>"$out/quiet.txt"
}
group() { # NAME [taskset -c N] PROGRAM ARGS...
	local name=$1 f=$out/v2-$1.txt
	shift
	case $groups in all | *",$name,"*) ;; *) return 0 ;; esac
	quiet "$name"
	echo "bench.sh: issue 9, group $name ..." >&2
	echo "# command: $* ${v2r[*]} --probe" | sed "s|$root/||g" >"$f"
	"$@" "${v2r[@]}" --probe >>"$f"
}
tp=$bin/bench_throughput lat=$bin/bench_latency
v1tp() { if [ ${#alt_tp[@]} -gt 0 ]; then echo "$1"; fi; }
# 8 and 64 bytes: also v1 (64- and 128-byte strides) and, at 64 bytes, v2
# with a 128-byte stride (slot_size 120), to see what the stride does.
group 8 "$tp" --cpus "$cpus" -s 8 "${alt_tp[@]}" \
	-t "shmring-copy,shmring-zc,shmring-batch,shmring-zcbatch,ck_ring$(v1tp ,alt:shmring-copy)"
group 64 "$tp" --cpus "$cpus" -s 64 "${alt_tp[@]}" \
	-t "shmring-copy,shmring-zc,shmring-zcbatch,ck_ring,zmq-ipc,pipe,shmring-copy@120x2048$(v1tp ,alt:shmring-copy)"
group 1k "$tp" --cpus "$cpus" -s 1024 "${alt_tp[@]}" \
	-t "shmring-copy,shmring-zc$(v1tp ,alt:shmring-copy,alt:shmring-zc)"
group 64k "$tp" --cpus "$cpus" -s 65536 "${alt_tp[@]}" \
	-t "shmring-copy,shmring-zc$(v1tp ,alt:shmring-copy,alt:shmring-zc)"
# 1 MiB messages: 1024 slots of a 4 KiB stride (slot_size 4088) against 4
# slots of 1 MiB, the same 4 MiB of ring, and a socketpair.
group 1m "$tp" --cpus "$cpus" -s 1048576 \
	-t shmring-copy@4088x1024,shmring-copy@1048576x4,shmring-zc@4088x1024,shmring-zc@1048576x4,unix-stream
# Lengths log-uniform in 16 B..64 KiB: a v2 ring of 1 MiB in 256-byte
# slots, the same v2 code with v1's geometry, and v1 rings sized for the
# largest message (16 and 64 slots of 64 KiB: 1 and 4 MiB).
group mix "$tp" --cpus "$cpus" -s mix16-65536 "${alt_tp[@]}" \
	-t "shmring-copy@248x4096,shmring-copy@65536x16$(v1tp ,alt:shmring-copy@65536x16,alt:shmring-copy@65536x64)"
# Ping-pong, 8 bytes: both processes on one CPU, on two, and unpinned.
group lat1cpu taskset -c "$cpu0" "$lat" --cpus -1,-1 -s 8 "${alt_lat[@]}" \
	-t "shmring-copy,shmring-copy-sleep,pipe,futex,futex-timeout$(v1tp ,alt:shmring-copy)"
group lat2cpu "$lat" --cpus "$cpus" -s 8 "${alt_lat[@]}" \
	-t "shmring-copy,shmring-copy-sleep,pipe,cacheline,futex$(v1tp ,alt:shmring-copy,alt:shmring-copy-sleep)"
group latfree "$lat" --cpus -1,-1 -s 8 "${alt_lat[@]}" \
	-t "shmring-copy,pipe$(v1tp ,alt:shmring-copy)"

# ---- the broad matrix: throughput and latency ----------------------------------
if [ $matrix = 1 ]; then
	echo "bench.sh: streaming throughput ..." >&2
	"$bin/bench_throughput" "${quick[@]}" --probe --cpus "$cpus" | tee "$out/throughput.txt" >&2
	echo "bench.sh: ping-pong latency ..." >&2
	"$bin/bench_latency" "${quick[@]}" --probe --cpus "$cpus" | tee "$out/latency.txt" >&2
fi

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
	for t in shmring-copy shmring-zc shmring-batch shmring-zcbatch; do
		for n in $n1 $n2; do
			command -v perf >/dev/null && count perf $t $n
			command -v strace >/dev/null && count strace $t $n
		done
	done
fi

echo "load: $(cut -d' ' -f1-3 /proc/loadavg) (1/5/15 min, at end)" >>"$out/env.txt"
top -b -n 1 -w 200 | sed -n '1,20p' >"$out/top-end.txt" 2>/dev/null || true

# ---- report -----------------------------------------------------------------
python3 "$root/bench/report.py" "$out"
echo >&2
echo "bench.sh: tables, CSVs and plots in $out (results-v2.md, results.md, *.csv, *.png)" >&2
