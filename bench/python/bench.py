#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""bench/python/bench.py -- shmring from Python, side by side with what
Python programs use for IPC today: multiprocessing.Pipe, multiprocessing.Queue,
multiprocessing.shared_memory + two multiprocessing.Events (the ping-pong
recipe shmring grew out of), and pyzmq PUSH/PULL over ipc://.

    python3 bench/python/bench.py                 # about 2 minutes
    python3 bench/python/bench.py --quick         # about 40 s
    python3 bench/python/bench.py --build-dir build-bench   # an in-tree build

Two processes (fork), pinned to two CPUs unless --no-pin. Streams: the
producer sends N messages of 8, 64, 1024 and 65536 bytes, each starting
with its sequence number (the rest is filler); the consumer checks every
sequence number and length; the rate is N over the time from the
producer's first send to the consumer's last receive. RPC: 64-byte
request, echoed reply checked, each round trip timed (p50/p99). Every
measurement is repeated --rounds times, the rounds interleaved (every
transport and size once per round), and the median reported; ratios are
between medians of this one run. Then the interpreter's share of a call:
send+recv pairs in one process from Python, the same pairs from C, and an
empty C call.
"""
import argparse
import array
import json
import multiprocessing as mp
import os
import platform
import statistics
import struct
import sys
import time

SEQ = struct.Struct("=Q")  # native order: the bulk checks read words
SIZES = [8, 64, 1024, 65536]
BATCH = 64
RPC_SIZE = 64
NAME = f"pybench-{os.getpid()}"

shmring = None  # imported in main(), after --build-dir
zmq = None


def pin(cpu):
    if PIN and hasattr(os, "sched_setaffinity"):
        try:
            os.sched_setaffinity(0, {cpu})
        except OSError:
            pass


def fill(size):
    return bytearray(b"\xa5" * size)


class Bad(Exception):
    pass


# ---- stream transports -------------------------------------------------------
# Each: setup() in the parent before fork; consume(objs, size, n) in the
# child (returns when all n were checked); produce(objs, size, n) in the
# parent; close(objs) in the parent afterwards.

def check(msg, i, size):
    if len(msg) != size or SEQ.unpack_from(msg)[0] != i:
        raise Bad(f"message {i}: {len(msg)} bytes, seq {SEQ.unpack_from(msg)[0]}")


class ShmSend:
    label = "shmring send/recv"

    def setup(self, size):
        # 1 MiB of 16-byte slots: a message of n bytes takes 8 + n rounded
        # up to 16 (the README's advice for small messages)
        return shmring.create(NAME, "producer", slot_size=8, slot_count=65536,
                              max_msg=max(SIZES) * 2)

    def consume(self, p, size, n):
        ring = shmring.open(NAME, "consumer")
        recv, unpack = ring.recv, SEQ.unpack_from
        for i in range(n):
            m = recv()
            if unpack(m)[0] != i or len(m) != size:
                check(m, i, size)
        ring.close()

    def produce(self, ring, size, n):
        buf, pack, send = fill(size), SEQ.pack_into, ring.send
        for i in range(n):
            pack(buf, 0, i)
            send(buf)

    def close(self, ring):
        ring.close()
        shmring.unlink(NAME)


class ShmBatch(ShmSend):
    """Batches of 64. Up to 1024 B the batch's sequence numbers are made and
    checked in bulk, by C loops over the batch (a memoryview of 64-bit words
    at the message stride), as a user of a batch call would; every message
    is still checked (its length, its sequence number). Above, one by one."""
    label = "shmring send_many/recv_many"

    def consume(self, p, size, n):
        ring = shmring.open(NAME, "consumer")
        recv_many, unpack = ring.recv_many, SEQ.unpack_from
        i = 0
        if size <= 1024 and size % 8 == 0:
            step, join, sizes = size // 8, b"".join, {size}
            while i < n:
                msgs = recv_many(BATCH)
                k = len(msgs)
                all_ = join(msgs)
                if (set(map(len, msgs)) != sizes or
                        memoryview(all_).cast("Q")[::step].tolist() != list(range(i, i + k))):
                    for j, m in enumerate(msgs):
                        check(m, i + j, size)
                i += k
        else:
            while i < n:
                for m in recv_many(BATCH):
                    if unpack(m)[0] != i or len(m) != size:
                        check(m, i, size)
                    i += 1
        ring.close()

    def produce(self, ring, size, n):
        send_many = ring.send_many
        if size <= 1024 and size % 8 == 0:
            big = memoryview(fill(size * BATCH))
            views = [big[j * size:(j + 1) * size] for j in range(BATCH)]
            seqs = big.cast("Q")[::size // 8]  # each message's first word
            for start in range(0, n, BATCH):
                k = min(BATCH, n - start)
                seqs[:k] = array.array("Q", range(start, start + k))
                send_many(views if k == BATCH else views[:k])
            return
        bufs = [fill(size) for _ in range(BATCH)]
        pack = SEQ.pack_into
        for start in range(0, n, BATCH):
            k = min(BATCH, n - start)
            batch = bufs if k == BATCH else bufs[:k]
            for j, b in enumerate(batch):
                pack(b, 0, start + j)
            send_many(batch)


class ShmZeroCopy(ShmSend):
    label = "shmring claim/peek (zero-copy)"

    def consume(self, p, size, n):
        ring = shmring.open(NAME, "consumer")
        peek, unpack = ring.peek, SEQ.unpack_from
        for i in range(n):
            with peek() as v:  # read in place: no bytes object
                if unpack(v)[0] != i or len(v) != size:
                    check(v, i, size)
        ring.close()

    def produce(self, ring, size, n):
        tmpl, pack, claim = bytes(fill(size)), SEQ.pack_into, ring.claim
        for i in range(n):
            with claim(size) as v:  # the message is built in place
                v[:] = tmpl
                pack(v, 0, i)


class Pipe:
    label = "multiprocessing.Pipe"

    def setup(self, size):
        return mp.Pipe(duplex=False)

    def consume(self, objs, size, n):
        r, w = objs
        w.close()
        recv, unpack = r.recv_bytes, SEQ.unpack_from
        for i in range(n):
            m = recv()
            if unpack(m)[0] != i or len(m) != size:
                check(m, i, size)

    def produce(self, objs, size, n):
        buf, pack, send = fill(size), SEQ.pack_into, objs[1].send_bytes
        for i in range(n):
            pack(buf, 0, i)
            send(buf)

    def close(self, objs):
        for c in objs:
            c.close()


class Queue:
    label = "multiprocessing.Queue"

    def setup(self, size):
        return mp.Queue()

    def consume(self, q, size, n):
        get, unpack = q.get, SEQ.unpack_from
        for i in range(n):
            m = get()
            if unpack(m)[0] != i or len(m) != size:
                check(m, i, size)

    def produce(self, q, size, n):
        buf, pack, put = fill(size), SEQ.pack_into, q.put
        for i in range(n):
            pack(buf, 0, i)
            put(bytes(buf))  # put() pickles later, in a thread: no mutable

    def close(self, q):
        q.close()
        q.join_thread()


class Recipe:
    """shared_memory + two Events: the strict ping-pong of the recipe. The
    writer puts [len][bytes] in the buffer, sets `req`, waits for `rep`."""
    label = "shared_memory + 2 Events (recipe)"

    def setup(self, size):
        from multiprocessing import shared_memory
        shm = shared_memory.SharedMemory(create=True, size=8 + max(SIZES))
        return shm, mp.Event(), mp.Event()

    def consume(self, objs, size, n):
        shm, req, rep = objs
        buf = shm.buf
        unpack = SEQ.unpack_from
        for i in range(n):
            req.wait()
            req.clear()
            ln = unpack(buf, 0)[0]
            m = bytes(buf[8:8 + ln])
            if unpack(m)[0] != i or len(m) != size:
                check(m, i, size)
            rep.set()
        del buf

    def produce(self, objs, size, n):
        shm, req, rep = objs
        buf, pack = shm.buf, SEQ.pack_into
        msg = fill(size)
        for i in range(n):
            pack(msg, 0, i)
            pack(buf, 0, size)
            buf[8:8 + size] = msg
            req.set()
            rep.wait()
            rep.clear()
        del buf

    def close(self, objs):
        objs[0].close()
        objs[0].unlink()


class Zmq:
    label = "pyzmq PUSH/PULL ipc://"

    def setup(self, size):
        return f"ipc:///tmp/{NAME}.zmq"

    def consume(self, addr, size, n):
        ctx = zmq.Context()
        s = ctx.socket(zmq.PULL)
        s.setsockopt(zmq.RCVTIMEO, 10000)  # a lost message fails, not hangs
        s.bind(addr)
        self.ready()
        recv, unpack = s.recv, SEQ.unpack_from
        for i in range(n):
            m = recv()
            if unpack(m)[0] != i or len(m) != size:
                check(m, i, size)
        s.close(linger=0)
        ctx.term()

    def produce(self, addr, size, n):
        # zmq's default high-water marks: raising SNDHWM above them lost
        # messages here (libzmq 4.3.4, pyzmq 24), and so did closing the
        # PUSH socket (linger -1) before the consumer had them all: it is
        # closed in close(), once the consumer reported.
        self._ctx = ctx = zmq.Context()
        self._s = s = ctx.socket(zmq.PUSH)
        s.connect(addr)
        buf, pack, send = fill(size), SEQ.pack_into, s.send
        for i in range(n):
            pack(buf, 0, i)
            send(buf)

    def close(self, addr):
        if getattr(self, "_s", None) is not None:
            self._s.close(linger=0)
            self._ctx.term()
            self._s = self._ctx = None
        try:
            os.unlink(addr[len("ipc://"):])
        except OSError:
            pass


STREAMS = [ShmSend(), ShmBatch(), ShmZeroCopy(), Pipe(), Queue(), Recipe(), Zmq()]


def _stream_child(t, objs, size, n, conn):
    pin(1)
    t.ready = lambda: conn.send(("ready", 0.0))
    try:
        if not isinstance(t, Zmq):
            t.ready()
        t.consume(objs, size, n)
        conn.send(("ok", time.monotonic()))
    except BaseException as e:
        conn.send(("error", repr(e)))


def run_stream(t, size, n):
    """Messages per second, end to end."""
    objs = t.setup(size)
    here, there = mp.Pipe()
    child = mp.Process(target=_stream_child, args=(t, objs, size, n, there))
    child.start()
    try:
        if not here.poll(30):
            raise Bad(f"{t.label}: the consumer did not start")
        status = here.recv()
        if status[0] != "ready":
            raise Bad(f"{t.label}: {status[1]}")
        t0 = time.monotonic()
        t.produce(objs, size, n)
        if not here.poll(120):
            raise Bad(f"{t.label}: the consumer did not finish")
        status, t1 = here.recv()
        if status != "ok":
            raise Bad(f"{t.label} {size} B: {t1}")
        child.join()
        return n / (t1 - t0)
    finally:
        if child.is_alive():
            child.kill()
            child.join()
        t.close(objs)


# ---- RPC round trips ---------------------------------------------------------

class RpcShm:
    label = "shmring Channel.request"

    def setup(self):
        return shmring.Channel.create(NAME, side="client", slot_count=1024, max_msg=4096)

    def serve(self, ch):
        srv = shmring.Channel.open(NAME, side="server")
        srv.serve(lambda r: r)
        srv.close()

    def client(self, ch):
        return ch.request

    def stop(self, ch):
        ch.close()
        shmring.Channel.unlink(NAME)


class RpcPipe:
    label = "multiprocessing.Pipe"

    def setup(self):
        return mp.Pipe()

    def serve(self, objs):
        c = objs[1]
        recv, send = c.recv_bytes, c.send_bytes
        while True:
            m = recv()
            if not m:
                return
            send(m)

    def client(self, objs):
        c = objs[0]
        send, recv = c.send_bytes, c.recv_bytes

        def request(m):
            send(m)
            return recv()
        return request

    def stop(self, objs):
        objs[0].send_bytes(b"")
        for c in objs:
            c.close()


class RpcQueue:
    label = "multiprocessing.Queue (pair)"

    def setup(self):
        return mp.Queue(), mp.Queue()

    def serve(self, qs):
        get, put = qs[0].get, qs[1].put
        while True:
            m = get()
            if m is None:
                return
            put(m)

    def client(self, qs):
        put, get = qs[0].put, qs[1].get

        def request(m):
            put(bytes(m))
            return get()
        return request

    def stop(self, qs):
        qs[0].put(None)
        for q in qs:
            q.close()
            q.join_thread()


class RpcRecipe:
    label = "shared_memory + 2 Events (recipe)"

    def setup(self):
        from multiprocessing import shared_memory
        return shared_memory.SharedMemory(create=True, size=8 + 4096), mp.Event(), mp.Event()

    def serve(self, objs):
        shm, req, rep = objs
        buf = shm.buf
        while True:
            req.wait()
            req.clear()
            ln = SEQ.unpack_from(buf, 0)[0]
            if ln == 0:
                break
            m = bytes(buf[8:8 + ln])
            buf[8:8 + ln] = m  # the reply: the request echoed
            rep.set()
        del buf

    def client(self, objs):
        shm, req, rep = objs
        buf, pack = shm.buf, SEQ.pack_into

        def request(m):
            n = len(m)
            pack(buf, 0, n)
            buf[8:8 + n] = m
            req.set()
            rep.wait()
            rep.clear()
            return bytes(buf[8:8 + n])
        self._buf = buf
        return request

    def stop(self, objs):
        shm, req, rep = objs
        SEQ.pack_into(shm.buf, 0, 0)
        req.set()
        time.sleep(0.05)
        self._buf = None
        shm.close()
        shm.unlink()


class RpcZmq:
    label = "pyzmq REQ/REP ipc://"

    def setup(self):
        return f"ipc:///tmp/{NAME}.rpc"

    def serve(self, addr):
        ctx = zmq.Context()
        s = ctx.socket(zmq.REP)
        s.bind(addr)
        self.ready()
        while True:
            m = s.recv()
            s.send(m)
            if m == b"stop":
                break
        s.close(linger=-1)
        ctx.term()

    def client(self, addr):
        self._ctx = zmq.Context()
        s = self._s = self._ctx.socket(zmq.REQ)
        s.connect(addr)
        send, recv = s.send, s.recv

        def request(m):
            send(m)
            return recv()
        return request

    def stop(self, addr):
        self._s.send(b"stop")
        self._s.recv()
        self._s.close(linger=0)
        self._ctx.term()
        try:
            os.unlink(addr[len("ipc://"):])
        except OSError:
            pass


RPCS = [RpcShm(), RpcPipe(), RpcQueue(), RpcRecipe(), RpcZmq()]


def _rpc_child(t, objs, conn):
    pin(1)
    t.ready = lambda: conn.send("ready")
    try:
        if not isinstance(t, RpcZmq):
            t.ready()
        t.serve(objs)
    except BaseException as e:
        conn.send(repr(e))


def run_rpc(t, seconds):
    """Round-trip times in microseconds, sorted."""
    objs = t.setup()
    here, there = mp.Pipe()
    child = mp.Process(target=_rpc_child, args=(t, objs, there))
    child.start()
    times = []
    try:
        if not here.poll(30) or here.recv() != "ready":
            raise Bad(f"{t.label}: the server did not start")
        request = t.client(objs)
        msg = fill(RPC_SIZE)
        clock = time.perf_counter_ns
        end = clock() + int(seconds * 1e9)
        i = 0
        while True:
            SEQ.pack_into(msg, 0, i)
            t0 = clock()
            rep = request(msg)
            t1 = clock()
            if rep != msg:
                raise Bad(f"{t.label}: reply {i} differs")
            times.append(t1 - t0)
            i += 1
            if t1 > end and i >= 200:
                break
        request = rep = None  # the recipe's closure holds a view of its buffer
        t.stop(objs)
        child.join(10)
    finally:
        if child.is_alive():
            child.kill()
            child.join()
    times.sort()
    return [x / 1000 for x in times]


# ---- the interpreter's share of a call ----------------------------------------

def overhead(n):
    from shmring import _shmring
    p = shmring.create(NAME + "-o", "producer", max_msg=4096)
    c = shmring.open(NAME + "-o", "consumer")
    msg = bytes(64)
    send, recv, noop = p.send, c.recv, _shmring._noop
    best = {}
    for _ in range(5):
        t = time.perf_counter_ns()
        for _ in range(n):
            send(msg)
            recv()
        py = (time.perf_counter_ns() - t) / n
        cc = _shmring._c_loop(p, c, n, 64) / n
        t = time.perf_counter_ns()
        for _ in range(n):
            noop(msg)
            noop()
        nop = (time.perf_counter_ns() - t) / n
        t = time.perf_counter_ns()
        for _ in range(n):
            pass
        loop = (time.perf_counter_ns() - t) / n
        for k, v in (("py", py), ("c", cc), ("noop", nop), ("loop", loop)):
            best[k] = min(best.get(k, v), v)
    p.close()
    c.close()
    shmring.unlink(NAME + "-o")
    return best


# ---- driver ------------------------------------------------------------------

def fmt_rate(r):
    return f"{r / 1e6:.3f}" if r < 1e6 else f"{r / 1e6:.2f}"


def main():
    global shmring, zmq, PIN
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--seconds", type=float, default=0.4,
                    help="target length of one measurement")
    ap.add_argument("--quick", action="store_true", help="3 rounds of 0.2 s")
    ap.add_argument("--sizes", default=",".join(map(str, SIZES)))
    ap.add_argument("--no-pin", action="store_true")
    ap.add_argument("--no-zmq", action="store_true")
    ap.add_argument("--build-dir", help="import shmring from this shmring build "
                    "(<dir>/python/package) instead of the installed one")
    ap.add_argument("--json", help="also write the results here")
    args = ap.parse_args()
    if args.quick:
        args.rounds, args.seconds = 3, 0.2
    if args.build_dir:
        sys.path.insert(0, os.path.join(os.path.abspath(args.build_dir), "python", "package"))
    try:
        import shmring as _s
    except ImportError as e:
        raise SystemExit(f"cannot import shmring ({e}): pip install --no-build-isolation "
                         "python/package into a venv, or pass --build-dir") from e
    shmring = _s
    if not args.no_zmq:
        try:
            import zmq as _z
            zmq = _z
        except ImportError:
            print("pyzmq not found (Debian: python3-zmq): skipping it", file=sys.stderr)
    PIN = not args.no_pin and len(os.sched_getaffinity(0)) >= 2 if hasattr(os, "sched_getaffinity") else False
    mp.set_start_method("fork")
    sizes = [int(s) for s in args.sizes.split(",")]
    streams = [t for t in STREAMS if zmq or not isinstance(t, Zmq)]
    rpcs = [t for t in RPCS if zmq or not isinstance(t, RpcZmq)]
    pin(0)

    print(f"# shmring {shmring.__version__} Python benchmark: {platform.python_implementation()} "
          f"{platform.python_version()}, {platform.machine()}, {os.cpu_count()} CPUs, "
          f"load {os.getloadavg()[0]:.2f}, pinned: {PIN}, {args.rounds} rounds of "
          f"{args.seconds} s", flush=True)
    # pilot: each stream's rate, to size its runs (grown until one lasts
    # a quarter of --seconds)
    counts = {}
    for t in streams:
        for size in sizes:
            n = 1000
            while True:
                r = run_stream(t, size, n)
                if n / r >= args.seconds / 4 or n >= 10 ** 8:
                    break
                n = max(n * 2, int(r * args.seconds / 3))
            counts[t.label, size] = max(1000, int(r * args.seconds))
    rates = {k: [] for k in counts}
    rtts = {t.label: [] for t in rpcs}
    for rnd in range(args.rounds):
        # size-major: the transports compared at one size run back to back
        for size in sizes:
            for t in streams:
                rates[t.label, size].append(run_stream(t, size, counts[t.label, size]))
        for t in rpcs:
            rtts[t.label].append(run_rpc(t, args.seconds))
        print(f"# round {rnd + 1}/{args.rounds} done, load {os.getloadavg()[0]:.2f}",
              file=sys.stderr, flush=True)
    ov = overhead(200000)

    med = {k: statistics.median(v) for k, v in rates.items()}
    print("\nStreams, M msgs/s (median of the rounds; every message sequence-checked)\n")
    print("| transport | " + " | ".join(f"{s} B" for s in sizes) + " |")
    print("|---|" + "---:|" * len(sizes))
    for t in streams:
        print(f"| {t.label} | " + " | ".join(fmt_rate(med[t.label, s]) for s in sizes) + " |")
    if 65536 in sizes:
        print("\nAt 65536 B, GB/s: " + ", ".join(
            f"{t.label} {med[t.label, 65536] * 65536 / 1e9:.2f}" for t in streams))

    rp = {}
    print(f"\nRPC round trip, {RPC_SIZE} B request and reply, us (p50 and p99 of every "
          "round trip; median of the rounds)\n")
    print("| transport | p50 | p99 | round trips per run |")
    print("|---|---:|---:|---:|")
    for t in rpcs:
        runs = rtts[t.label]
        p50 = statistics.median(r[len(r) // 2] for r in runs)
        p99 = statistics.median(r[len(r) * 99 // 100] for r in runs)
        rp[t.label] = (p50, p99)
        print(f"| {t.label} | {p50:.2f} | {p99:.2f} | {statistics.median(len(r) for r in runs):.0f} |")

    def ratio(a, b, s):
        per_round = sorted(x / y for x, y in zip(rates[a, s], rates[b, s]))
        return med[a, s] / med[b, s], per_round[0], per_round[-1]

    bars = []
    S, B, Z, P, Q = (ShmSend.label, ShmBatch.label, ShmZeroCopy.label, Pipe.label,
                     Queue.label)
    if 64 in sizes:
        bars.append(("64 B, one message per call, vs Pipe", ratio(S, P, 64), 10))
        bars.append(("64 B, one message per call, vs Queue", ratio(S, Q, 64), 30))
        bars.append(("64 B, send_many/recv_many, vs Pipe", ratio(B, P, 64), 30))
    if 8 in sizes:
        bars.append(("8 B, send_many/recv_many, vs Pipe", ratio(B, P, 8), 30))
    if 65536 in sizes:
        bars.append(("64 KiB, send/recv, vs Pipe", ratio(S, P, 65536), 4))
        bars.append(("64 KiB, claim/peek, vs Pipe", ratio(Z, P, 65536), 4))
    rec = rp.get(RpcRecipe.label)
    print("\nBars (ratios of medians of this run; per-round range in brackets)\n")
    print("| | measured | bar | |")
    print("|---|---:|---:|---|")
    for what, (r, lo, hi), bar in bars:
        print(f"| {what} | {r:.1f}x [{lo:.1f}-{hi:.1f}] | >= {bar}x | "
              f"{'met' if r >= bar else 'MISSED'} |")
    if rec:
        f = rec[0] / rp[RpcShm.label][0]
        print(f"| RPC p50, shmring vs the recipe | 1/{f:.0f} | <= 1/20 | "
              f"{'met' if f >= 20 else 'MISSED'} |")

    py_call = (ov["py"] - ov["loop"]) / 2
    c_call = ov["c"] / 2
    empty = (ov["noop"] - ov["loop"]) / 2
    print("\nPer call, one process, 64 B send+recv pairs (best of 5 x 200000), ns\n")
    print("| | ns per call |")
    print("|---|---:|")
    print(f"| send or recv from Python (loop excluded) | {py_call:.0f} |")
    print(f"| the same library calls from C (`_c_loop`) | {c_call:.0f} |")
    print(f"| the interpreter's share | {py_call - c_call:.0f} |")
    print(f"| of which an empty C call (`_noop`) | {empty:.0f} |")
    print(f"| and the binding's own work (arguments, checks, the bytes) | "
          f"{py_call - c_call - empty:.0f} |")
    print(f"| (a `for` loop's iteration, for scale) | {ov['loop']:.0f} |")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"rates": {f"{k[0]}|{k[1]}": v for k, v in rates.items()},
                       "rpc": {k: [v[len(v) // 2] for v in vs] for k, vs in rtts.items()},
                       "overhead_ns": ov, "args": vars(args)}, f, indent=1)


PIN = False

if __name__ == "__main__":
    main()
