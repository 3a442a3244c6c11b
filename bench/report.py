#!/usr/bin/env python3
"""bench/report.py DIR -- turn the benchmark lines in DIR into results.md,
results.csv and PNG plots (gnuplot), and print results.md.

Reads DIR/throughput.txt and DIR/latency.txt (lines "bench=... key=value"),
DIR/syscalls.txt and the strace -c files it names, and DIR/env.txt.
Ratios are against the targets of issue 3; they are the bar, not asserts.
"""
import os
import re
import shutil
import subprocess
import sys

SIZES = [8, 64, 256, 1024, 4096, 65536]


def parse(path):
    rows = []
    if not os.path.exists(path):
        return rows
    for line in open(path):
        if not line.startswith("bench="):
            continue
        d = dict(kv.split("=", 1) for kv in line.split())
        for k, v in list(d.items()):
            try:
                d[k] = float(v) if k not in ("bench", "transport", "status") else v
            except ValueError:
                pass
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


def main():
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
            if n2 == n1:
                continue
            marg = (a2 - a1) / (n2 - n1)
            other = ((a2 - f2 - m2) - (a1 - f1 - m1)) / (n2 - n1)
            md.append(f"| {tool} | {t} | {n1} → {n2} | {a1} → {a2} | {f1} → {f2} | {m1} → {m2} | "
                      f"{marg:.6f} | {other:.6f} | {f2 / n2:.5f} | {st2:.5f} |")
            sysc[(tool, t)] = (other, f2 / n2)
        md.append("")

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

    open(os.path.join(d, "results.md"), "w").write("\n".join(md) + "\n")
    open(os.path.join(d, "results.csv"), "w").write("\n".join(csv) + "\n")
    plots(d, T, L, transports, ltrans, sizes)
    print("\n".join(md))


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
