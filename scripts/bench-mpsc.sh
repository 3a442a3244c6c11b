#!/usr/bin/env bash
# scripts/bench-mpsc.sh -- issue #10's figures: 1 and 2 producer processes
# into one consumer (an SHMRING_F_MPSC ring) at 8, 64 and 1024 bytes, in
# the same interleaved rounds as the single-producer ring and the peers a
# user would pick for many producers: one pipe shared by the producers
# (writes <= PIPE_BUF, atomic), a Unix datagram socket, ZeroMQ PUSH/PULL
# with one pusher per producer, ck_ring's MPSC ring in shared memory.
# Every run is probed as in scripts/bench.sh (docs/performance.md, "The
# method"); then the futex calls per message are counted by the kernel
# (perf tracepoints, strace -f -c) on fixed-count MPSC streams. Writes
# results-mpsc.md (also printed), results-mpsc.csv, the raw groups
# (mpsc-*.txt) and the counts to the directory it prints at the end.
#
# usage: scripts/bench-mpsc.sh [--quick] [--rounds N] [--time S] [--out DIR]
#                              [--cpus A,B] [--producer-cpus LIST]
#                              [--groups LIST] [--no-strace] [--wait-quiet S]
#   --quick        5 rounds of 0.05 s runs (about 1.5 minutes; default 21
#                  rounds of 0.15 s: about 6-7 minutes)
#   --rounds N, --time S   rounds per group, seconds per run
#   --cpus A,B     A: the producers' CPU, B: the consumer's (default 0,1)
#   --producer-cpus LIST  producer k on the k-th CPU of LIST (in turn)
#                  instead of all on A
#   --groups LIST  some of 8, 64, 1k (pinned: both producers on A, the
#                  consumer on B) and free64 (64 bytes, nothing pinned);
#                  default all
#   --no-strace    skip the kernel's system-call counts
#   --wait-quiet S before each group, wait up to S seconds for the rest of
#                  the machine to use under 0.3 CPU
# Environment: BUILD=dir (default build-bench).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD:-$root/build-bench}
out=""
rounds=21 secs=0.15
cpus=0,1
pcpus=""
groups=all
strace_check=1
wait_quiet=0

while [ $# -gt 0 ]; do
	case $1 in
	--quick) rounds=5 secs=0.05 ;;
	--rounds) rounds=$2; shift ;;
	--time) secs=$2; shift ;;
	--out) out=$2; shift ;;
	--cpus) cpus=$2; shift ;;
	--producer-cpus) pcpus=$2; shift ;;
	--groups) groups=",$2,"; shift ;;
	--no-strace) strace_check=0 ;;
	--wait-quiet) wait_quiet=$2; shift ;;
	-h | --help) sed -n '2,29p' "$0"; exit 0 ;;
	*) echo "bench-mpsc.sh: unknown option $1" >&2; exit 2 ;;
	esac
	shift
done
out=${out:-$build/bench/results-mpsc}

if [ "$(nproc)" -lt 2 ]; then
	echo "bench-mpsc.sh: needs 2 CPUs" >&2
	exit 1
fi

# shellcheck source=scripts/lib.sh
. "$root/scripts/lib.sh"
sr_install meson ninja-build pkg-config gcc python3 || exit 2
# optional: their rows or counts are dropped without them
sr_install libzmq3-dev libck-dev strace linux-perf || true

# ---- build (release), the same build as scripts/bench.sh ----------------------
if [ ! -f "$build/build.ninja" ]; then
	meson setup "$build" "$root" --buildtype=release -Dbenchmarks=enabled >/dev/null
else
	meson configure "$build" --buildtype=release -Dbenchmarks=enabled >/dev/null
fi
ninja -C "$build" bench/bench_throughput >/dev/null
tp=$build/bench/bench_throughput
mkdir -p "$out"
[ "$groups" = all ] && rm -f "$out"/mpsc-*.txt "$out"/quiet.txt
rm -f "$out"/syscalls.txt "$out"/perf-*.txt "$out"/strace-*.txt "$out"/*.out

# ---- the machine ------------------------------------------------------------
{
	echo "date: $(date -u '+%Y-%m-%d %H:%M UTC')"
	dirty=$(git -C "$root" status --porcelain -- src include 2>/dev/null | wc -l)
	echo "commit: $(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown)" \
		"($([ "$dirty" = 0 ] && echo "clean src/ and include/" || echo "$dirty uncommitted files in src/ or include/"))"
	echo "src/ and include/ as measured: sha256 $(cd "$root" && find src include -type f | LC_ALL=C sort | xargs sha256sum | sha256sum | cut -c1-16)"
	echo "cpu: $(lscpu | sed -n 's/^Model name: *//p' | head -1)"
	echo "cpus: $(nproc) online; $(lscpu | sed -n 's/^Thread(s) per core: *//p') thread(s)/core;" \
		"virtualised: $(grep -qw hypervisor /proc/cpuinfo && echo yes || echo no)"
	echo "kernel: $(uname -r)"
	echo "net.unix.max_dgram_qlen: $(cat /proc/sys/net/unix/max_dgram_qlen 2>/dev/null || echo ?)"
	echo "load: $(cut -d' ' -f1-3 /proc/loadavg) (1/5/15 min, at start)"
	echo "command: scripts/bench-mpsc.sh --rounds $rounds --time $secs --cpus $cpus${pcpus:+ --producer-cpus $pcpus}"
} >"$out/env.txt"
top -b -n 1 -w 200 | sed -n '1,20p' >"$out/top-start.txt" 2>/dev/null || true
echo "bench-mpsc.sh: results go to $out" >&2

# ---- the groups ---------------------------------------------------------------
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
		[ $t -ge "$wait_quiet" ] && { echo "bench-mpsc.sh: still busy ($u CPU), going on" >&2; return 0; }
		[ $t = 0 ] && echo "bench-mpsc.sh: machine busy ($u CPU used by others), waiting ..." >&2
		t=$((t + 1))
	done
	echo "waited ${t} s for quiet before $1 (then $u CPU)" >>"$out/quiet.txt"
}
group() { # NAME ARGS... (bench_throughput's)
	local name=$1 f=$out/mpsc-$1.txt
	shift
	case $groups in all | *",$name,"*) ;; *) return 0 ;; esac
	quiet "$name"
	echo "bench-mpsc.sh: group $name ..." >&2
	echo "# command: $tp $* -r $rounds -T $secs --probe" | sed "s|$root/||g" >"$f"
	"$tp" "$@" -r "$rounds" -T "$secs" --probe >>"$f"
}
# Which transports are built: the MPSC rows need the library's
# SHMRING_F_MPSC (without it they print n/a), ZeroMQ and ck_ring theirs.
have() { "$tp" -t "$1" -s 64 -n 1000 -r 1 --no-warmup >/dev/null 2>&1; } # 2: unknown
list=shmring-copy,shmring-batch,shmring-mpsc/1,shmring-mpsc-batch/1,shmring-mpsc/2,shmring-mpsc-batch/2
list+=,pipe-shared/1,pipe-shared/2,unix-dgram/1,unix-dgram/2
have zmq-push/1 && list+=,zmq-push/1,zmq-push/2
have ck_ring-mpsc/1 && list+=,ck_ring,ck_ring-mpsc/1,ck_ring-mpsc/2,ck_ring-mpsc-yield/2
pin=(--cpus "$cpus")
[ -n "$pcpus" ] && pin+=(--producer-cpus "$pcpus")
for s in 8 64 1024; do
	g=$s
	[ $s = 1024 ] && g=1k
	group "$g" "${pin[@]}" -s $s -t "$list"
done
# 64 bytes with nothing pinned: where the scheduler puts three busy
# processes on two CPUs (the pinned groups put both producers on one).
free=shmring-copy,shmring-mpsc/1,shmring-mpsc/2,shmring-mpsc-batch/2,pipe-shared/2,unix-dgram/2
have zmq-push/1 && free+=,zmq-push/2
have ck_ring-mpsc/1 && free+=,ck_ring-mpsc-yield/2
group free64 --cpus -1,-1 --producer-cpus -1 -s 64 -t "$free"

# ---- futex and other system calls on a saturated MPSC stream ---------------------
# As scripts/bench.sh does for one producer: two fixed-count runs (N1, N2
# messages in all, one run, no warm-up) of a 64-byte stream, counted by
# perf's syscall tracepoints (inherited by every child) and by strace -f
# -c; (calls(N2) - calls(N1)) / (N2 - N1) is the marginal number per
# message, setup excluded.
n1=200000 n2=2000000
count() { # TOOL TRANSPORT N
	local f=$out/$1-${2//\//-p}-$3.txt
	local run=("$tp" -t "$2" -s 64 -n "$3" -r 1 --no-warmup "${pin[@]}")
	case $1 in
	perf) perf stat -x, -o "$f" -e syscalls:sys_enter_futex,syscalls:sys_enter_membarrier,raw_syscalls:sys_enter \
		-- "${run[@]}" >"${f%.txt}.out" 2>/dev/null || return 0 ;;
	strace) strace -f -c -o "$f" "${run[@]}" >"${f%.txt}.out" || return 0 ;;
	esac
	echo "tool=$1 transport=$2 msgs=$3 file=$(basename "$f") out=$(basename "$f" .txt).out" >>"$out/syscalls.txt"
}
if [ $strace_check = 1 ]; then
	echo "bench-mpsc.sh: system-call counts (perf tracepoints, strace -c) ..." >&2
	: >"$out/syscalls.txt"
	for t in shmring-mpsc/1 shmring-mpsc/2 shmring-mpsc-batch/2; do
		for n in $n1 $n2; do
			command -v perf >/dev/null && count perf "$t" "$n"
			command -v strace >/dev/null && count strace "$t" "$n"
		done
	done
fi

echo "load: $(cut -d' ' -f1-3 /proc/loadavg) (1/5/15 min, at end)" >>"$out/env.txt"
top -b -n 1 -w 200 | sed -n '1,20p' >"$out/top-end.txt" 2>/dev/null || true

# ---- report -----------------------------------------------------------------
python3 "$root/bench/report.py" --mpsc "$out"
echo >&2
echo "bench-mpsc.sh: tables and CSV in $out (results-mpsc.md, results-mpsc.csv, mpsc-*.txt)" >&2
