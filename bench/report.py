#!/usr/bin/env python3
"""bench/report.py DIR -- turn the benchmark lines in DIR into results.md,
results.csv and PNG plots (gnuplot), and print results.md.

Reads DIR/throughput.txt and DIR/latency.txt (lines "bench=... key=value"),
DIR/syscalls.txt and the strace -c files it names, DIR/env.txt, and the
issue-9 groups DIR/v2-*.txt (one "bench=run" line per run, each with the
machine-state probe taken just before it), which become results-v2.md and
results-v2.csv (the "Format v2" section, printed first).
Ratios are against the targets of issues 3 and 9; they are the bar, not
asserts.

bench/report.py --mpsc DIR -- the many-producer groups DIR/mpsc-*.txt of
scripts/bench-mpsc.sh (issue 10) into results-mpsc.md (printed) and
results-mpsc.csv, with DIR/syscalls.txt's kernel counts.
"""
import glob
import math
import os
import re
import shutil
import subprocess
import sys

SIZES = [8, 64, 256, 1024, 4096, 65536]


TEXT_KEYS = ("bench", "transport", "status", "size", "prog", "cpus")


def kv_line(line):
    d = dict(kv.split("=", 1) for kv in line.split() if "=" in kv)
    for k, v in list(d.items()):
        if k in TEXT_KEYS:
            continue
        try:
            d[k] = float(v)
        except ValueError:
            pass
    return d


def parse(path):
    rows = []
    if not os.path.exists(path):
        return rows
    for line in open(path):
        if not line.startswith("bench=") or line.startswith(("bench=run", "bench=probe")):
            continue
        d = kv_line(line)
        if isinstance(d.get("size"), str) and d["size"].isdigit():
            d["size"] = float(d["size"])
        rows.append(d)
    return rows


def strace_calls(path):
    """Per-syscall call counts from an strace -c -f summary."""
    calls = {}
    for line in open(path):
        t = line.split()
        if len(t) < 5 or not re.match(r"^\d+\.\d+$", t[0]) or t[-1] == "total":
            continue
        calls[t[-1]] = int(t[3])
    return calls


def perf_calls(path):
    """Counts from perf stat -x, output."""
    calls = {}
    for line in open(path):
        t = line.strip().split(",")
        if len(t) > 2 and t[0].isdigit():
            calls["futex" if "futex" in t[2] else "membarrier" if "membarrier" in t[2] else "all"] = int(t[0])
    return calls


def si(v):
    for div, suf in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if v >= div:
            return f"{v / div:.3g}{suf}"
    return f"{v:.3g}"


def ns(v):
    for div, unit in ((1e9, "s"), (1e6, "ms"), (1e4, "µs")):
        if v >= div:
            return f"{v / (div if unit != 'µs' else 1e3):.3g} {unit}"
    return f"{v:.0f} ns"


def mb(v):
    return f"{v:.3g}" if v < 1000 else f"{v:,.0f}"


def cell(r, key, fmt):
    if r is None:
        return "–"
    if r["status"] != "ok":
        return r["status"]
    return f"{fmt(r[key])} ({fmt(r[key + '_min'])}–{fmt(r[key + '_max'])})"


def syscall_section(d, only_ok=False):
    """The perf / strace system-call table: (Markdown lines, {(tool, transport): (other/msg, futex/msg)}).
    only_ok: leave out the pairs whose N2 run did not succeed."""
    md = []
    sysc = {}
    spath = os.path.join(d, "syscalls.txt")
    if os.path.exists(spath) and os.path.getsize(spath):
        runs = {}
        for line in open(spath):
            kv = dict(x.split("=", 1) for x in line.split())
            f = os.path.join(d, kv["file"])
            if kv["tool"] == "perf":
                calls = perf_calls(f)
            else:
                c = strace_calls(f)
                calls = {"all": sum(c.values()), "futex": c.get("futex", 0),
                         "membarrier": c.get("membarrier", 0)}
            o = parse(os.path.join(d, kv["out"]))
            stats = o[0].get("futex_per_msg", float("nan")) if o and o[0]["status"] == "ok" else float("nan")
            runs.setdefault((kv["tool"], kv["transport"]), []).append(
                (int(kv["msgs"]), calls.get("all", 0), calls.get("futex", 0), stats,
                 calls.get("membarrier", 0)))
        md.append("System calls on a 64-byte shmring stream, counted by the kernel's syscall "
                  "tracepoints (`perf stat -e raw_syscalls:sys_enter,syscalls:sys_enter_futex,syscalls:sys_enter_membarrier`) "
                  "and by `strace -f -c`, over two fixed-count runs; marginal = "
                  "(calls(N2) − calls(N1)) / (N2 − N1), i.e. per message, setup excluded. "
                  "The sleep path is one futex wait, plus one `membarrier` (the asymmetric fence) while the sleeper announces it (64 or more messages per sleep); the last column is the library's own count (waits + wakes) in the N2 run:\n")
        md.append("| tool | transport | N1 → N2 msgs | all syscalls | futex | membarrier | marginal syscalls/msg | of which neither (liveness probes) | futex/msg (N2) | stats waits+wakes/msg (N2) |")
        md.append("|---|---|---|---|---|---|---|---|---|---|")
        for (tool, t), v in runs.items():
            v.sort()
            (n1, a1, f1, _, m1), (n2, a2, f2, st2, m2) = v[0], v[-1]
            if n2 == n1 or (only_ok and math.isnan(st2)):
                continue
            marg = (a2 - a1) / (n2 - n1)
            other = ((a2 - f2 - m2) - (a1 - f1 - m1)) / (n2 - n1)
            md.append(f"| {tool} | {t} | {n1} → {n2} | {a1} → {a2} | {f1} → {f2} | {m1} → {m2} | "
                      f"{marg:.6f} | {other:.6f} | {f2 / n2:.5f} | {st2:.5f} |")
            sysc[(tool, t)] = (other, f2 / n2)
        md.append("")

    return md, sysc


def main():
    if sys.argv[1] == "--mpsc":  # scripts/bench-mpsc.sh: issue 10 only
        d = sys.argv[2]
        md, csv = report_mpsc(d)
        if not md:
            print(f"report.py: no mpsc-*.txt in {d}", file=sys.stderr)
            sys.exit(1)
        open(os.path.join(d, "results-mpsc.md"), "w").write("\n".join(md) + "\n")
        open(os.path.join(d, "results-mpsc.csv"), "w").write("\n".join(csv) + "\n")
        print("\n".join(md))
        return
    d = sys.argv[1]
    tput = parse(os.path.join(d, "throughput.txt"))
    lat = parse(os.path.join(d, "latency.txt"))
    env = open(os.path.join(d, "env.txt")).read() if os.path.exists(os.path.join(d, "env.txt")) else ""
    T = {(r["transport"], int(r["size"])): r for r in tput}
    L = {(r["transport"], int(r["size"])): r for r in lat}
    transports = list(dict.fromkeys(r["transport"] for r in tput))
    ltrans = list(dict.fromkeys(r["transport"] for r in lat))
    sizes = sorted({int(r["size"]) for r in tput}) or SIZES
    md = []
    csv = ["kind,transport,size,metric,median,min,max,status"]

    for r in tput:
        for m in ("msgs_per_s", "mb_per_s", "futex_per_msg"):
            if r["status"] == "ok" and m in r:
                csv.append(f"throughput,{r['transport']},{int(r['size'])},{m},{r[m]},{r[m + '_min']},{r[m + '_max']},ok")
        if r["status"] != "ok":
            csv.append(f"throughput,{r['transport']},{int(r['size'])},msgs_per_s,,,,{r['status']}")
        if r["status"] == "ok" and "allocs_per_msg" in r:
            csv.append(f"throughput,{r['transport']},{int(r['size'])},allocs_per_msg,{r['allocs_per_msg']},,,ok")
    for r in lat:
        for m in ("p50_ns", "p99_ns", "p999_ns"):
            if r["status"] == "ok":
                csv.append(f"latency,{r['transport']},{int(r['size'])},{m},{r[m]},{r[m + '_min']},{r[m + '_max']},ok")
        if r["status"] != "ok":
            csv.append(f"latency,{r['transport']},{int(r['size'])},p50_ns,,,,{r['status']}")

    md.append("### Machine\n\n```\n" + env.strip() + "\n```\n")
    md.append("Every figure: median of the runs (min–max in brackets). "
              "1 MB = 10^6 bytes. The runs of all transports at one size are "
              "interleaved (run 1 of each, then run 2 of each, ...).\n")
    for key, title, fmt in (("msgs_per_s", "Streaming throughput, messages/s", si),
                            ("mb_per_s", "Streaming throughput, MB/s", mb)):
        md.append(f"### {title}\n")
        md.append("| transport | " + " | ".join(f"{s} B" for s in sizes) + " |")
        md.append("|---|" + "---|" * len(sizes))
        for t in transports:
            md.append(f"| {t} | " + " | ".join(cell(T.get((t, s)), key, fmt) for s in sizes) + " |")
        md.append("")

    md.append("### Ping-pong round trip (p50 / p99 / p99.9)\n")
    md.append("The limits (cacheline, futex) move no message: they ran in each size "
              "group, interleaved with the transports, and are listed under that size.\n")
    md.append("| transport | size | p50 | p99 | p99.9 |")
    md.append("|---|---|---|---|---|")
    for t in ltrans:
        for (tt, s), r in L.items():
            if tt == t:
                md.append(f"| {t} | {s} | {cell(r, 'p50_ns', ns)} | "
                          f"{cell(r, 'p99_ns', ns)} | {cell(r, 'p999_ns', ns)} |")
    md.append("")

    md.append("### Wake efficiency and fast path\n")
    md.append("futex system calls per message in a saturated stream "
              "(waits + wakes of both handles, shmring_get_stats; median (min–max)) "
              "and heap allocations per message during the timed loop (worst run):\n")
    md.append("| transport | " + " | ".join(f"{s} B" for s in sizes) + " | allocs/msg (all sizes) |")
    md.append("|---|" + "---|" * (len(sizes) + 1))
    for t in transports:
        if not t.startswith("shmring"):
            continue
        worst = max((T[(t, s)].get("allocs_per_msg", 0) for s in sizes if (t, s) in T and T[(t, s)]["status"] == "ok"), default=0)
        md.append(f"| {t} | " + " | ".join(cell(T.get((t, s)), "futex_per_msg", lambda v: f"{v:.4f}") for s in sizes)
                  + f" | {worst:g} |")
    others = sorted({t for (t, s), r in T.items() if r.get("allocs_per_msg", 0) > 0})
    if others:
        md.append("\nOther transports that allocate per message: " + ", ".join(
            f"{t} ({max(T[(t, s)].get('allocs_per_msg', 0) for s in sizes if (t, s) in T):.2f}/msg)" for t in others) + ".")
    md.append("")

    sysmd, sysc = syscall_section(d)
    md += sysmd

    # ---- targets ----------------------------------------------------------
    def tv(t, s, k="msgs_per_s"):
        r = T.get((t, s))
        return r[k] if r and r["status"] == "ok" else None

    def lv(t, s, k="p50_ns"):
        r = L.get((t, s))
        return r[k] if r and r["status"] == "ok" else None

    def ratio(a, b):
        return a / b if a is not None and b else None

    targets = []

    def add(name, val, op, bar, note=""):
        if val is None:
            targets.append((name, "n/a", f"{op} {bar}", "not measured", note))
            return
        ok = val >= bar if op == "≥" else val <= bar if op == "≤" else val < bar
        targets.append((name, f"{val:.3g}", f"{op} {bar}", "met" if ok else "**missed**", note))

    add("8 B copy / ck_ring", ratio(tv("shmring-copy", 8), tv("ck_ring", 8)), "≥", 1.5,
        f"zero-copy: {ratio(tv('shmring-zc', 8), tv('ck_ring', 8)) or 0:.3g}×")
    add("8 B batch (sendv/recvv) / ck_ring", ratio(tv("shmring-batch", 8), tv("ck_ring", 8)), "≥", 1.5,
        "the issue's \"publishes in batches\"")
    add("64 B copy / ck_ring", ratio(tv("shmring-copy", 64), tv("ck_ring", 64)), "≥", 1.0)
    add("64 B copy / zmq-ipc", ratio(tv("shmring-copy", 64), tv("zmq-ipc", 64)), "≥", 4)
    add("64 B batch (sendv/recvv) / zmq-ipc", ratio(tv("shmring-batch", 64), tv("zmq-ipc", 64)), "≥", 4,
        "ZeroMQ batches too (its I/O thread writes many messages per system call)")
    add("64 B copy / pipe", ratio(tv("shmring-copy", 64), tv("pipe", 64)), "≥", 8,
        f"vs pipe-batch (8 KiB buffered writes): {ratio(tv('shmring-copy', 64), tv('pipe-batch', 64)) or 0:.3g}×")
    add("1024 B copy / ck_ring", ratio(tv("shmring-copy", 1024), tv("ck_ring", 1024)), "≥", 2,
        f"zero-copy: {ratio(tv('shmring-zc', 1024), tv('ck_ring', 1024)) or 0:.3g}×")
    add("1024 B batch (sendv/recvv) / ck_ring", ratio(tv("shmring-batch", 1024), tv("ck_ring", 1024)), "≥", 2)
    add("64 KiB copy / unix-stream", ratio(tv("shmring-copy", 65536), tv("unix-stream", 65536)), "≥", 3,
        f"zero-copy: {ratio(tv('shmring-zc', 65536), tv('unix-stream', 65536)) or 0:.3g}×")
    add("64 KiB copy / memcpy (MB/s)", ratio(tv("shmring-copy", 65536, "mb_per_s"), tv("memcpy", 65536, "mb_per_s")), "≥", 0.4,
        f"zero-copy: {ratio(tv('shmring-zc', 65536, 'mb_per_s'), tv('memcpy', 65536, 'mb_per_s')) or 0:.3g}×")
    for s in (8, 1024):
        add(f"ping-pong p50 spinning, {s} B / cache-line RTT", ratio(lv("shmring-copy", s), lv("cacheline", s)), "≤", 2,
            f"zero-copy: {ratio(lv('shmring-zc', s), lv('cacheline', s)) or 0:.3g}×; "
            f"ck_ring: {ratio(lv('ck_ring', s), lv('cacheline', s)) or 0:.3g}×")
    for s in (8, 1024):
        add(f"ping-pong p50 sleeping, {s} B / futex RTT", ratio(lv("shmring-copy-sleep", s), lv("futex", s)), "≤", 1.2,
            f"zero-copy: {ratio(lv('shmring-zc-sleep', s), lv('futex', s)) or 0:.3g}×")
    fx = [T[(t, s)]["futex_per_msg"] for t in ("shmring-copy", "shmring-zc", "shmring-batch") for s in sizes
          if (t, s) in T and T[(t, s)]["status"] == "ok"]
    add("futex calls/msg, saturated, library counters (worst size, default spin)", max(fx) if fx else None, "<", 0.01,
        "per size and API in the wake table")
    pf = [v[1] for (tool, t), v in sysc.items() if tool == "perf"]
    add("futex calls/msg, saturated 64 B, kernel tracepoint count", max(pf) if pf else None, "<", 0.01,
        "shmring-copy, -zc and -batch, N2 run")
    al = [T[(t, s)].get("allocs_per_msg", 0) for t in transports if t.startswith("shmring") for s in sizes
          if (t, s) in T and T[(t, s)]["status"] == "ok"]
    add("heap allocations/msg (shmring, all sizes)", max(al) if al else None, "≤", 0)
    nf = [v[0] for v in sysc.values()]
    add("marginal syscalls/msg outside the sleep/wake path, 64 B stream", max(nf) if nf else None, "<", 0.001,
        "what remains: liveness probes (/proc reads, at most one per 20 ms) while waiting")
    md.append("### Targets (issue 3)\n")
    md.append("| target | measured | bar | verdict | note |")
    md.append("|---|---|---|---|---|")
    for t in targets:
        md.append("| " + " | ".join(t) + " |")
    md.append("")

    v2md, v2csv = report_v2(d)
    if v2md:
        v2md = ["### Machine\n\n```\n" + env.strip() + "\n```\n"] + v2md
        if not tput and not lat:
            v2md += ["### System calls\n"] + sysmd
        open(os.path.join(d, "results-v2.md"), "w").write("\n".join(v2md) + "\n")
        open(os.path.join(d, "results-v2.csv"), "w").write("\n".join(v2csv) + "\n")
        print("\n".join(v2md))
    if not tput and not lat:
        return
    open(os.path.join(d, "results.md"), "w").write("\n".join(md) + "\n")
    open(os.path.join(d, "results.csv"), "w").write("\n".join(csv) + "\n")
    plots(d, T, L, transports, ltrans, sizes)
    print("\n".join(md))


# ---- issue 9: format v2, every bar from interleaved, probed runs ------------
#
# Each DIR/v2-NAME.txt holds one group: a "# command: ..." line (the exact
# command), then one "bench=run" line per run in the order they ran, each
# with probe_ns (the 20 ms cache-line round-trip probe just before it), and a
# final "bench=probe". A run's state is known on both sides: its own probe
# and the next one. The state threshold comes from every probe of the
# session (all groups): the widest gap, on a log scale, between sorted
# probe values with at least a quarter of them below it, if it is a factor
# of 1.5 or more; probes above 5x the median are a CPU shared with another
# busy process ("contended") whatever the split. A run is "good" when both
# probes around it are below the threshold, "mixed" when one is, "slow"
# otherwise. Each ratio is given two ways: the median of A's good runs over
# the median of B's good runs, and the median over rounds of A's run over B's
# run of the same round (adjacent in time: the order of a round alternates).

V2_GROUPS = ["8", "64", "1k", "64k", "1m", "mix", "lat1cpu", "lat2cpu", "latfree"]
PROBE_BINS = [40, 60, 100, 150, 250, 400, 700, 2000]

# (label, group, A, B, metric, op, bar); bar None = report only
V2_BARS = [
    ("8 B, one `shmring_send`/`recv` per message (16-byte stride) / ck_ring", "8",
     "shmring-copy", "ck_ring", "msgs_per_s", "≥", 1.5),
    ("8 B, zero-copy `claim`/`peek` per message / ck_ring", "8",
     "shmring-zc", "ck_ring", "msgs_per_s", "≥", None),
    ("8 B, batch calls `claimv`/`commitv` + `peekv`/`releasev` / ck_ring", "8",
     "shmring-zcbatch", "ck_ring", "msgs_per_s", "≥", 3),
    ("8 B, batch calls `sendv`/`recvv` / ck_ring", "8",
     "shmring-batch", "ck_ring", "msgs_per_s", "≥", 3),
    ("8 B, one call per message: v2 (16-byte stride) / v1 (64-byte stride)", "8",
     "shmring-copy", "alt:shmring-copy", "msgs_per_s", "≥", None),
    ("64 B, one call per message / ck_ring", "64",
     "shmring-copy", "ck_ring", "msgs_per_s", "≥", 2),
    ("64 B, one call per message / ZeroMQ ipc://", "64",
     "shmring-copy", "zmq-ipc", "msgs_per_s", "≥", 8),
    ("64 B, one call per message / pipe", "64",
     "shmring-copy", "pipe", "msgs_per_s", "≥", 20),
    ("64 B, zero-copy batch / ck_ring", "64",
     "shmring-zcbatch", "ck_ring", "msgs_per_s", "≥", None),
    ("64 B, one call per message: v2 (80-byte stride) / v1 (128-byte stride)", "64",
     "shmring-copy", "alt:shmring-copy", "msgs_per_s", "≥", None),
    ("64 B, one call per message: v2 80-byte stride / v2 128-byte stride (slot_size 120)", "64",
     "shmring-copy", "shmring-copy@120x2048", "msgs_per_s", "≥", None),
    ("1 KiB, `send`/`recv`: v2 / v1", "1k",
     "shmring-copy", "alt:shmring-copy", "msgs_per_s", "≥", 0.95),
    ("1 KiB, `claim`/`peek`: v2 / v1", "1k",
     "shmring-zc", "alt:shmring-zc", "msgs_per_s", "≥", 0.95),
    ("64 KiB, `send`/`recv`: v2 / v1", "64k",
     "shmring-copy", "alt:shmring-copy", "msgs_per_s", "≥", 0.95),
    ("64 KiB, `claim`/`peek`: v2 / v1", "64k",
     "shmring-zc", "alt:shmring-zc", "msgs_per_s", "≥", 0.95),
    ("1 MiB messages, 4 KiB slots / 1 MiB slots (MB/s, `send`/`recv`)", "1m",
     "shmring-copy@4088x1024", "shmring-copy@1048576x4", "mb_per_s", "≥", 0.8),
    ("1 MiB messages, 4 KiB slots / Unix socketpair (MB/s)", "1m",
     "shmring-copy@4088x1024", "unix-stream", "mb_per_s", "≥", 3),
    ("1 MiB messages, 4 KiB slots, zero-copy / 1 MiB slots, zero-copy", "1m",
     "shmring-zc@4088x1024", "shmring-zc@1048576x4", "mb_per_s", "≥", None),
    ("mixed 16 B–64 KiB (MB/s): v2, 1 MiB of 256-byte slots / v1 sized for 64 KiB, 16 slots (1 MiB)", "mix",
     "shmring-copy@248x4096", "alt:shmring-copy@65536x16", "mb_per_s", "≥", None),
    ("mixed 16 B–64 KiB (MB/s): v2, 1 MiB of 256-byte slots / v1 sized for 64 KiB, 64 slots (4 MiB)", "mix",
     "shmring-copy@248x4096", "alt:shmring-copy@65536x64", "mb_per_s", "≥", None),
    ("mixed 16 B–64 KiB (MB/s): v2 / v1, both 16 slots of 64 KiB", "mix",
     "shmring-copy@65536x16", "alt:shmring-copy@65536x16", "mb_per_s", "≥", None),
    ("ping-pong 8 B p50, both on one CPU (`taskset -c 0`): shmring / pipe", "lat1cpu",
     "shmring-copy", "pipe", "p50_ns", "≤", 1.0),
    ("ping-pong 8 B p50, one CPU: v2 / v1", "lat1cpu",
     "shmring-copy", "alt:shmring-copy", "p50_ns", "≤", None),
    ("ping-pong 8 B p50, one CPU, sleeping (spin 0) / pipe", "lat1cpu",
     "shmring-copy-sleep", "pipe", "p50_ns", "≤", None),
    ("ping-pong 8 B p50, one CPU: shmring / raw futex round trip", "lat1cpu",
     "shmring-copy", "futex", "p50_ns", "≤", None),
    ("ping-pong 8 B p50, one CPU: raw futex with a 50 ms timeout / without", "lat1cpu",
     "futex-timeout", "futex", "p50_ns", "≤", None),
    ("ping-pong 8 B p50, one CPU: shmring / raw futex with a 50 ms timeout", "lat1cpu",
     "shmring-copy", "futex-timeout", "p50_ns", "≤", None),
    ("ping-pong 8 B p50, two CPUs, spinning: v2 / v1 (unchanged)", "lat2cpu",
     "shmring-copy", "alt:shmring-copy", "p50_ns", "≤", 1.05),
    ("ping-pong 8 B p50, two CPUs, sleeping: v2 / v1 (unchanged)", "lat2cpu",
     "shmring-copy-sleep", "alt:shmring-copy-sleep", "p50_ns", "≤", 1.05),
    ("ping-pong 8 B p50, two CPUs, spinning / cache-line round trip", "lat2cpu",
     "shmring-copy", "cacheline", "p50_ns", "≤", None),
    ("ping-pong 8 B p50, two CPUs / pipe", "lat2cpu",
     "shmring-copy", "pipe", "p50_ns", "≤", None),
    ("ping-pong 8 B p50, unpinned: shmring / pipe", "latfree",
     "shmring-copy", "pipe", "p50_ns", "≤", None),
    ("ping-pong 8 B p50, unpinned: v2 / v1", "latfree",
     "shmring-copy", "alt:shmring-copy", "p50_ns", "≤", None),
]


def median(v):
    v = sorted(v)
    n = len(v)
    if not n:
        return None
    return v[n // 2] if n % 2 else (v[n // 2 - 1] + v[n // 2]) / 2


def read_group(path):
    cmd, items = None, []
    for line in open(path):
        if line.startswith("# command:"):
            cmd = line.split(":", 1)[1].strip()
        elif line.startswith(("bench=run", "bench=probe")):
            items.append(kv_line(line))
    runs = []
    for i, it in enumerate(items):
        if it["bench"] == "run":
            nxt = items[i + 1] if i + 1 < len(items) else None
            it["probe_after"] = nxt.get("probe_ns") if nxt else None
            runs.append(it)
    probes = [it["probe_ns"] for it in items if isinstance(it.get("probe_ns"), float)]
    return cmd, runs, probes


def state_split(probes):
    """(threshold, contended_above) from every probe of the session."""
    v = sorted(p for p in probes if p > 0)
    if not v:
        return None, None
    cont = 5 * median(v)
    w = [p for p in v if p <= cont]
    n, best = len(w), None
    for i in range(n - 1):
        if (i + 1) / n < 0.25:
            continue
        r = w[i + 1] / w[i]
        if best is None or r > best[0]:
            best = (r, i)
    if best and best[0] >= 1.5:
        i = best[1]
        return math.sqrt(w[i] * w[i + 1]), cont
    return w[-1], cont


BUSY_CPU = 0.25  # other processes' CPU use during a run above which it is "busy"
BUSY_STEAL = 0.1  # hypervisor steal, in CPUs


def run_state(r, thr, cont=None):
    """good: both probes below the threshold and the machine otherwise idle;
    busy: other processes (or the hypervisor) took CPU time during the run,
    or a probe found a CPU shared with a busy process; mixed: the probes on
    its two sides disagree; slow: both probes above the threshold."""
    a, b = r.get("probe_ns"), r.get("probe_after")
    if r.get("other_cpu", 0) > BUSY_CPU or r.get("steal_cpu", 0) > BUSY_STEAL:
        return "busy"
    if cont and any(isinstance(p, float) and p > cont for p in (a, b)):
        return "busy"
    ga = isinstance(a, float) and 0 < a <= thr
    gb = isinstance(b, float) and 0 < b <= thr
    return "good" if ga and gb else "mixed" if ga or gb else "slow"


def hist(probes, cont):
    cnt = [0] * (len(PROBE_BINS) + 1)
    for p in probes:
        i = 0
        while i < len(PROBE_BINS) and p >= PROBE_BINS[i]:
            i += 1
        cnt[i] += 1
    labels = [f"<{PROBE_BINS[0]}"] + [f"{a}–{b}" for a, b in zip(PROBE_BINS, PROBE_BINS[1:])] + [f"≥{PROBE_BINS[-1]}"]
    ncont = sum(1 for p in probes if cont and p > cont)
    return ", ".join(f"{l}: {c}" for l, c in zip(labels, cnt) if c) + (f" (contended, > {cont:.0f} ns: {ncont})" if ncont else "")


def fmt_val(v, metric):
    if v is None:
        return "–"
    if metric == "msgs_per_s":
        return si(v) + " msg/s"
    if metric == "mb_per_s":
        return mb(v) + " MB/s"
    return ns(v)


def report_v2(d):
    groups = {}
    allprobes = []
    for g in V2_GROUPS:
        path = os.path.join(d, f"v2-{g}.txt")
        if os.path.exists(path):
            groups[g] = read_group(path)
            allprobes += groups[g][2]
    if not groups:
        return [], []
    thr, cont = state_split(allprobes)
    md, csv = [], ["group,transport,size,round,state,probe_ns,probe_after_ns,other_cpu,steal_cpu,metric,value"]
    md.append("## Format v2 (issue #9)\n")
    states = [run_state(r, thr, cont) for g in groups.values() for r in g[1]]
    other = [r.get("other_cpu", 0) for g in groups.values() for r in g[1]]
    md.append(f"Machine state, every probe of this session ({len(allprobes)}: a 20 ms cache-line "
              f"round trip between the two CPUs before each run and after the last of each group), in ns: "
              f"{hist(allprobes, cont)}. A run is *good* when the probes on both sides of it are ≤ {thr:.0f} ns "
              f"(the widest gap in that distribution) and the rest of the machine used ≤ {BUSY_CPU} CPU "
              f"(and the hypervisor stole ≤ {BUSY_STEAL} CPU) during it; *slow*: both probes above; *mixed*: "
              f"one of each; *busy*: other processes' CPU time above that, or a probe found a CPU shared "
              f"with a busy process. Runs: {states.count('good')} good, {states.count('slow')} slow, "
              f"{states.count('mixed')} mixed, {states.count('busy')} busy of {len(states)}; other processes "
              f"used a median {median(other) or 0:.2f} CPU (max {max(other) if other else 0:.2f}) during the runs.\n")
    for g, (cmd, runs, probes) in groups.items():
        for r in runs:
            for m in ("msgs_per_s", "mb_per_s", "p50_ns", "p99_ns", "futex_per_msg"):
                if m in r:
                    csv.append(f"{g},{r['transport']},{r['size']},{int(r['round'])},{run_state(r, thr, cont)},"
                               f"{r.get('probe_ns')},{r.get('probe_after')},{r.get('other_cpu')},"
                               f"{r.get('steal_cpu')},{m},{r[m]}")

    def ok_runs(g, t):
        return [r for r in groups[g][1] if r["transport"] == t and r["status"] == "ok"] if g in groups else []

    md.append("| bar | A: good-state median (all runs) | ratio, good state (n A / n B) | ratio, median of adjacent runs (rounds) | bar | verdict |")
    md.append("|---|---|---|---|---|---|")
    verdicts = []
    for label, g, a, b, m, op, bar in V2_BARS:
        A, B = ok_runs(g, a), ok_runs(g, b)
        if not A or not B:
            md.append(f"| {label} | not measured | | | {op} {bar if bar else '–'} | |")
            continue
        gA = [r[m] for r in A if run_state(r, thr, cont) == "good"]
        gB = [r[m] for r in B if run_state(r, thr, cont) == "good"]
        rg = median(gA) / median(gB) if len(gA) >= 3 and len(gB) >= 3 else None
        Bd = {r["round"]: r[m] for r in B}
        adj = [r[m] / Bd[r["round"]] for r in A if r["round"] in Bd and Bd[r["round"]]]
        ra = median(adj)

        def ok(x):
            if x is None or bar is None:
                return None
            return x >= bar if op == "≥" else x <= bar

        vg, va = ok(rg), ok(ra)
        if bar is None:
            verdict = "report"
        elif vg and va:
            verdict = "met"
        elif vg is False and va is False:
            verdict = "**missed**"
        else:
            verdict = "good state: " + ("met" if vg else "missed" if vg is False else "n/a") + \
                      "; adjacent: " + ("met" if va else "**missed**")
        verdicts.append((label, rg, ra, bar, verdict))
        fig = f"{fmt_val(median(gA) if gA else None, m)} ({fmt_val(median([r[m] for r in A]), m)})"
        md.append(f"| {label} | {fig} | {f'{rg:.3g}' if rg else 'n/a'} ({len(gA)} / {len(gB)}) | "
                  f"{ra:.3g} ({len(adj)}) | {op + ' ' + str(bar) if bar else '–'} | {verdict} |")
    md.append("")

    # futex calls per message of every saturated shmring stream (default
    # spin), per group: this build and the v1 build side by side
    md.append("futex calls per message in the saturated streams (shmring, default spin; waits + wakes of "
              "both handles, `shmring_get_stats`), per group: median over the good-state runs and over all "
              "runs, and the worst run; bar < 0.01. Heap allocations per message in the same runs, worst:\n")
    md.append("| group | build | runs | good-state median | all: median | worst (configuration) | bar < 0.01 | allocs/msg |")
    md.append("|---|---|---|---|---|---|---|---|")
    for g in ("8", "64", "1k", "64k", "1m", "mix"):
        for alt in (False, True):
            R = [r for r in groups.get(g, (None, [], None))[1]
                 if r["status"] == "ok" and r["transport"].startswith("alt:") == alt
                 and "futex_per_msg" in r and "-sleep" not in r["transport"]]
            if not R:
                continue
            fx = [r["futex_per_msg"] for r in R]
            gfx = [r["futex_per_msg"] for r in R if run_state(r, thr, cont) == "good"]
            w = max(R, key=lambda r: r["futex_per_msg"])
            al = max(r.get("allocs_per_msg", 0) for r in R)
            md.append(f"| {g} | {'v1 (alt)' if alt else 'v2'} | {len(R)} | "
                      f"{f'{median(gfx):.5f}' if gfx else '–'} | {median(fx):.5f} | "
                      f"{w['futex_per_msg']:.4f} ({w['transport']}) | "
                      f"{'met' if w['futex_per_msg'] < 0.01 else 'good-state median met' if gfx and median(gfx) < 0.01 else '**missed**'} | {al:g} |")
    md.append("")

    # per-group detail: each configuration, its states
    md.append("### Every configuration, by group\n")
    for g, (cmd, runs, probes) in groups.items():
        md.append(f"**{g}** — `{cmd}`  \nprobes of this group (ns): {hist(probes, cont)}\n")
        m = "p50_ns" if runs and runs[0].get("prog") == "latency" else "msgs_per_s"
        cols = [m] + (["mb_per_s"] if m == "msgs_per_s" else ["p99_ns"])
        md.append("| configuration | runs good / mixed / slow / busy | " + " | ".join(
            f"{c}: good-state median | all: median (min–max)" for c in cols) + " | other |")
        md.append("|---|---|" + "---|---|" * len(cols) + "---|")
        for t in dict.fromkeys(r["transport"] for r in runs):
            R = [r for r in runs if r["transport"] == t]
            O = [r for r in R if r["status"] == "ok"]
            st = [run_state(r, thr, cont) for r in O]
            cells = []
            for c in cols:
                gv = [r[c] for r, s_ in zip(O, st) if s_ == "good" and c in r]
                av = [r[c] for r in O if c in r]
                f = (lambda v, c=c: fmt_val(v, c if c != "p99_ns" else "p50_ns"))
                cells.append(f"{f(median(gv)) if gv else '–'} | "
                             f"{f(median(av)) if av else '–'} ({f(min(av)) if av else '–'}–{f(max(av)) if av else '–'})")
            other = []
            if any("futex_per_msg" in r for r in O):
                other.append(f"futex/msg {median([r['futex_per_msg'] for r in O if 'futex_per_msg' in r]):.5f}")
            if any("ring_bytes" in r for r in O):
                other.append(f"ring {max(r.get('ring_bytes', 0) for r in O) / 1048576:.3g} MiB")
            bad = [r["status"] for r in R if r["status"] != "ok"]
            if bad:
                other.append(f"{len(bad)} run(s) {bad[0]}")
            md.append(f"| {t} | {st.count('good')} / {st.count('mixed')} / {st.count('slow')} / {st.count('busy')} | "
                      + " | ".join(cells) + f" | {'; '.join(other)} |")
        md.append("")
    return md, csv


# ---- issue 10: many producers ------------------------------------------------
#
# DIR/mpsc-NAME.txt, written by scripts/bench-mpsc.sh: one group per message
# size (both producers pinned to one CPU, the consumer to the other) and
# free64 (64 bytes, nothing pinned), in the format of the v2 groups above.
# NAME/P is P producer processes. The states and both ratios are computed
# as for the v2 bars.

MPSC_GROUPS = ["8", "64", "1k", "free64"]
MPSC_SIZE = {"8": "8 B", "64": "64 B", "1k": "1 KiB", "free64": "64 B, unpinned"}

# (label, groups, A, B, op, bar); bar None = report only
MPSC_BARS = [
    ("1 producer: MPSC mode / SPSC mode, `send`/`recv`", ["64"],
     "shmring-mpsc/1", "shmring-copy", "≥", 0.7),
    ("1 producer: MPSC mode / SPSC mode, `send`/`recv`", ["8", "1k", "free64"],
     "shmring-mpsc/1", "shmring-copy", "≥", None),
    ("1 producer: MPSC mode / SPSC mode, `sendv`/`recvv`", ["8", "64", "1k"],
     "shmring-mpsc-batch/1", "shmring-batch", "≥", None),
    ("2 producers, total: shmring `send` / ZeroMQ, 2 pushers", ["8", "64", "1k", "free64"],
     "shmring-mpsc/2", "zmq-push/2", "≥", 5),
    ("2 producers, total: shmring `sendv` / ZeroMQ, 2 pushers", ["8", "64", "1k", "free64"],
     "shmring-mpsc-batch/2", "zmq-push/2", "≥", None),
    ("2 producers / 1 producer, MPSC `send`", ["8", "64", "1k", "free64"],
     "shmring-mpsc/2", "shmring-mpsc/1", "≥", None),
    ("2 producers / 1 producer, MPSC `sendv`", ["8", "64", "1k"],
     "shmring-mpsc-batch/2", "shmring-mpsc-batch/1", "≥", None),
    ("2 producers: shmring `send` / shared pipe", ["8", "64", "1k", "free64"],
     "shmring-mpsc/2", "pipe-shared/2", "≥", None),
    ("2 producers: shmring `send` / Unix datagram socket", ["8", "64", "1k", "free64"],
     "shmring-mpsc/2", "unix-dgram/2", "≥", None),
    ("2 producers: shmring `send` / ck_ring MPSC (ck's spinning commit)", ["8", "64", "1k"],
     "shmring-mpsc/2", "ck_ring-mpsc/2", "≥", None),
    ("2 producers: shmring `send` / ck_ring MPSC, commit wait yields", ["8", "64", "1k", "free64"],
     "shmring-mpsc/2", "ck_ring-mpsc-yield/2", "≥", None),
    ("1 producer: shmring MPSC `send` / ck_ring MPSC", ["8", "64", "1k"],
     "shmring-mpsc/1", "ck_ring-mpsc/1", "≥", None),
    ("1 producer: ck_ring MPSC / ck_ring SPSC", ["8", "64", "1k"],
     "ck_ring-mpsc/1", "ck_ring", "≥", None),
    ("ZeroMQ: 2 pushers / 1 pusher", ["8", "64", "1k"],
     "zmq-push/2", "zmq-push/1", "≥", None),
    ("shared pipe: 2 writers / 1 writer", ["8", "64", "1k"],
     "pipe-shared/2", "pipe-shared/1", "≥", None),
]


def report_mpsc(d):
    groups = {}
    allprobes = []
    for g in MPSC_GROUPS:
        path = os.path.join(d, f"mpsc-{g}.txt")
        if os.path.exists(path):
            groups[g] = read_group(path)
            allprobes += groups[g][2]
    if not groups:
        return [], []
    env = open(os.path.join(d, "env.txt")).read() if os.path.exists(os.path.join(d, "env.txt")) else ""
    thr, cont = state_split(allprobes)
    m = "msgs_per_s"
    md = ["## Many producers (issue #10)\n", "### Machine\n\n```\n" + env.strip() + "\n```\n"]
    csv = ["group,transport,size,round,state,probe_ns,probe_after_ns,other_cpu,steal_cpu,metric,value"]
    states = [run_state(r, thr, cont) for g in groups.values() for r in g[1]]
    other = [r.get("other_cpu", 0) for g in groups.values() for r in g[1]]
    md.append(f"Machine state, every probe of this session ({len(allprobes)}), in ns: {hist(allprobes, cont)}. "
              f"A run is *good* when the probes on both sides of it are ≤ {thr:.0f} ns and the rest of the "
              f"machine used ≤ {BUSY_CPU} CPU (steal ≤ {BUSY_STEAL}) during it. Runs: {states.count('good')} good, "
              f"{states.count('slow')} slow, {states.count('mixed')} mixed, {states.count('busy')} busy of "
              f"{len(states)}; other processes used a median {median(other) or 0:.2f} CPU "
              f"(max {max(other) if other else 0:.2f}) during the runs. NAME/P = P producer processes; in the "
              f"pinned groups every producer runs on the first CPU of --cpus and the consumer on the second.\n")
    for g, (cmd, runs, probes) in groups.items():
        for r in runs:
            for k in ("msgs_per_s", "mb_per_s", "futex_per_msg"):
                if k in r:
                    csv.append(f"{g},{r['transport']},{r['size']},{int(r['round'])},{run_state(r, thr, cont)},"
                               f"{r.get('probe_ns')},{r.get('probe_after')},{r.get('other_cpu')},"
                               f"{r.get('steal_cpu')},{k},{r[k]}")

    def ok_runs(g, t):
        return [r for r in groups[g][1] if r["transport"] == t and r["status"] == "ok"] if g in groups else []

    final = {g: {r["transport"]: r["status"] for r in parse(os.path.join(d, f"mpsc-{g}.txt"))} for g in groups}

    def status_of(g, t):
        """FAILED / n/a: a configuration whose runs (or calibration) failed."""
        bad = [r["status"] for r in groups[g][1] if r["transport"] == t and r["status"] != "ok"] if g in groups else []
        if bad:
            return bad[0]
        st = final.get(g, {}).get(t)
        return st if st and st != "ok" else None

    # msgs/s per transport and group
    gl = list(groups)
    md.append("### Messages/s, every configuration\n")
    md.append("Good-state median (median of all runs; runs good / all):\n")
    md.append("| transport | " + " | ".join(MPSC_SIZE.get(g, g) for g in gl) + " |")
    md.append("|---|" + "---|" * len(gl))
    names = list(dict.fromkeys(r["transport"] for g in groups.values() for r in g[1]))
    for t in names:
        cells = []
        for g in gl:
            R = ok_runs(g, t)
            if not R:
                st = status_of(g, t)
                cells.append(st if st else "–")
                continue
            gv = [r[m] for r in R if run_state(r, thr, cont) == "good"]
            cells.append(f"{si(median(gv)) if gv else '–'} ({si(median([r[m] for r in R]))}; {len(gv)}/{len(R)})")
        md.append(f"| {t} | " + " | ".join(cells) + " |")
    md.append("")

    # the bars and the context ratios
    md.append("### Bars and ratios\n")
    md.append("| ratio | group | A: good-state median (all runs) | good state (n A / n B) | median of same-round ratios (rounds) | bar | verdict |")
    md.append("|---|---|---|---|---|---|---|")
    for label, gs, a, b, op, bar in MPSC_BARS:
        for g in gs:
            if g not in groups:
                continue
            A, B = ok_runs(g, a), ok_runs(g, b)
            if not A or not B:
                why = "; ".join(f"{x}: {status_of(g, x) or 'not run'}" for x, X in ((a, A), (b, B)) if not X)
                md.append(f"| {label} | {MPSC_SIZE.get(g, g)} | {why} | | | {op + ' ' + str(bar) if bar else '–'} | "
                          f"{'**not measured**' if bar else ''} |")
                continue
            gA = [r[m] for r in A if run_state(r, thr, cont) == "good"]
            gB = [r[m] for r in B if run_state(r, thr, cont) == "good"]
            rg = median(gA) / median(gB) if len(gA) >= 3 and len(gB) >= 3 else None
            Bd = {r["round"]: r[m] for r in B}
            adj = [r[m] / Bd[r["round"]] for r in A if r["round"] in Bd and Bd[r["round"]]]
            ra = median(adj)

            def ok(x):
                if x is None or bar is None:
                    return None
                return x >= bar if op == "≥" else x <= bar

            vg, va = ok(rg), ok(ra)
            if bar is None:
                verdict = "report"
            elif vg and va:
                verdict = "met"
            elif vg is False and va is False:
                verdict = "**missed**"
            elif vg is None:
                verdict = "good state: n/a; same-round: " + ("met" if va else "**missed**")
            else:
                verdict = "good state: " + ("met" if vg else "missed") + "; same-round: " + ("met" if va else "**missed**")
            fig = f"{fmt_val(median(gA) if gA else None, m)} ({fmt_val(median([r[m] for r in A]), m)})"
            md.append(f"| {label} | {MPSC_SIZE.get(g, g)} | {fig} | {f'{rg:.3g}' if rg else 'n/a'} ({len(gA)} / {len(gB)}) | "
                      f"{f'{ra:.3g}' if ra is not None else 'n/a'} ({len(adj)}) | {op + ' ' + str(bar) if bar else '–'} | {verdict} |")
    md.append("")

    # futex calls per message
    md.append("futex calls per message in the saturated streams (waits + wakes of every handle: each "
              "producer's and the consumer's, `shmring_get_stats`), default spin; bar < 0.01 for the "
              "MPSC streams:\n")
    md.append("| group | transport | runs | good-state median | all: median | worst run | bar < 0.01 | allocs/msg, worst |")
    md.append("|---|---|---|---|---|---|---|---|")
    for g in gl:
        for t in names:
            R = [r for r in ok_runs(g, t) if "futex_per_msg" in r]
            if not R:
                continue
            fx = [r["futex_per_msg"] for r in R]
            gfx = [r["futex_per_msg"] for r in R if run_state(r, thr, cont) == "good"]
            w = max(fx)
            verdict = ""
            if t.startswith("shmring-mpsc"):
                verdict = "met" if w < 0.01 else "good-state median met" if gfx and median(gfx) < 0.01 else "**missed**"
            al = max(r.get("allocs_per_msg", 0) for r in R)
            md.append(f"| {MPSC_SIZE.get(g, g)} | {t} | {len(R)} | {f'{median(gfx):.6f}' if gfx else '–'} | "
                      f"{median(fx):.6f} | {w:.5f} | {verdict} | {al:g} |")
    md.append("")

    eos = [(g, t, sum(1 for r in ok_runs(g, t) if r.get("eos_bad"))) for g in gl for t in names]
    eos = [x for x in eos if x[2]]
    if eos:
        md.append("**End of stream wrong**: runs in which the MPSC consumer, having received every message, "
                  "did not get `SHMRING_ECLOSED` after all producers had closed (the reason is on stderr; the "
                  "run's figures stand): " + ", ".join(f"{t} at {MPSC_SIZE.get(g, g)}: {n}" for g, t, n in eos) + ".\n")
    sysmd, sysc = syscall_section(d, only_ok=True)
    if sysc:
        md.append("### System calls counted by the kernel\n")
        md += sysmd

    md.append("### The groups\n")
    for g, (cmd, runs, probes) in groups.items():
        md.append(f"**{g}** — `{cmd}`  \nprobes (ns): {hist(probes, cont)}\n")
    return md, csv


def plots(d, T, L, transports, ltrans, sizes):
    if not shutil.which("gnuplot"):
        print("report.py: gnuplot not found, no plots", file=sys.stderr)
        return
    with open(os.path.join(d, "throughput.dat"), "w") as f:
        for t in transports:
            f.write(f'"{t}"\n')
            for s in sizes:
                r = T.get((t, s))
                if r and r["status"] == "ok":
                    f.write(f"{s} {r['mb_per_s']} {r['mb_per_s_min']} {r['mb_per_s_max']} "
                            f"{r['msgs_per_s']} {r['msgs_per_s_min']} {r['msgs_per_s_max']}\n")
            f.write("\n\n")
    with open(os.path.join(d, "latency.dat"), "w") as f:
        f.write("label p50 p99 p999\n")
        for t in ltrans:
            for (tt, s), r in L.items():
                if tt == t and r["status"] == "ok":
                    lab = f"{t} {s}B"
                    f.write(f'"{lab}" {r["p50_ns"] / 1000} {r["p99_ns"] / 1000} {r["p999_ns"] / 1000}\n')
    n = len(transports)
    gp = f"""
set terminal pngcairo size 1100,700 font ",10" noenhanced
set datafile separator whitespace
set bmargin 8
colors = "#1b9e77 #d95f02 #7570b3 #e7298a #66a61e #e6ab02 #a6761d #666666 #1f78b4 #b2df8a #fb9a99 #000000 #cab2d6"
do for [i=1:13] {{ set linetype i lc rgb word(colors, i) lw (i <= 4 ? 2.5 : 1.5) pt i }}
set logscale xy
set grid
set key outside right
set xlabel "message size (bytes)"
set xtics ({", ".join(f'"{s}" {s}' for s in sizes)})
set output "{d}/throughput_mbps.png"
set ylabel "MB/s (median, bars: min-max)"
set title "Streaming throughput, producer and consumer on different CPUs"
plot for [i=0:{n - 1}] "{d}/throughput.dat" index i using 1:2:3:4 with yerrorlines title columnheader(1)
set output "{d}/throughput_msgs.png"
set ylabel "messages/s (median, bars: min-max)"
plot for [i=0:{n - 1}] "{d}/throughput.dat" index i using 1:5:6:7 with yerrorlines title columnheader(1)
unset logscale
unset xtics
set xtics rotate by -40 nomirror
set logscale y
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.8 border -1
set ylabel "round trip (µs, log scale)"
set xlabel ""
set title "Ping-pong round trip: p50, p99, p99.9 (median of runs)"
set output "{d}/latency.png"
set key inside top left
plot "{d}/latency.dat" using 2:xtic(1) title "p50", "" using 3 title "p99", "" using 4 title "p99.9"
"""
    subprocess.run(["gnuplot"], input=gp, text=True, check=False)


if __name__ == "__main__":
    main()
