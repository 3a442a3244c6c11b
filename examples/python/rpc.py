#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""examples/python/rpc.py -- request/reply between two processes over a
shmring.Channel: the port of the recipe shmring grew out of (one mapped
buffer, two auto-reset events, strict send-then-wait ping-pong, used
RPC-style). The server reads a request and answers; the client sends one
and waits for its reply.

    python3 examples/python/rpc.py                 # server process + client
    python3 examples/python/rpc.py --serve         # only the server, then
    python3 examples/python/rpc.py --connect       # clients, from elsewhere

Each request is "<op> <a> <b>" in ASCII; the reply is the result. The
client checks every answer and prints the round-trip times.
"""
import argparse
import multiprocessing as mp
import random
import statistics
import time

import shmring

OPS = {
    b"add": lambda a, b: a + b,
    b"mul": lambda a, b: a * b,
    b"max": max,
}


def handle(request: bytes) -> bytes:
    """The server's work: one small computation per request."""
    op, a, b = request.split()
    return str(OPS[op](int(a), int(b))).encode()


def serve(name: str, ready=None) -> int:
    # The server creates both rings; a client may open them from then on.
    with shmring.Channel.create(name, slot_size=56, slot_count=1024,
                                max_msg=4096) as ch:
        if ready is not None:
            ready.set()
        served = ch.serve(handle)     # until the client closes
    shmring.Channel.unlink(name)
    return served


def client(name: str, requests: int) -> None:
    rnd = random.Random(1)
    times = []
    with shmring.Channel.open(name, timeout=10) as ch:   # waits for the server
        for _ in range(requests):
            op = rnd.choice(list(OPS))
            a, b = rnd.randrange(10 ** 6), rnd.randrange(10 ** 6)
            t0 = time.perf_counter_ns()
            reply = ch.request(b"%s %d %d" % (op, a, b), timeout=5)
            times.append(time.perf_counter_ns() - t0)
            if int(reply) != OPS[op](a, b):
                raise SystemExit(f"bad reply {reply!r} to {op} {a} {b}")
    times.sort()
    p50 = times[len(times) // 2] / 1000
    p99 = times[len(times) * 99 // 100] / 1000
    print(f"{requests} requests verified: round trip p50 {p50:.2f} us, "
          f"p99 {p99:.2f} us, mean {statistics.fmean(times) / 1000:.2f} us")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--name", default="rpc-example")
    ap.add_argument("--requests", type=int, default=100000)
    g = ap.add_mutually_exclusive_group()
    g.add_argument("--serve", action="store_true", help="run only the server")
    g.add_argument("--connect", action="store_true", help="run only a client")
    args = ap.parse_args()
    if args.serve:
        print(f"served {serve(args.name)} requests")
        return
    if args.connect:
        client(args.name, args.requests)
        return
    ctx = mp.get_context("spawn")     # as on Windows, where the recipe ran
    ready = ctx.Event()
    server = ctx.Process(target=serve, args=(args.name, ready))
    server.start()
    try:
        if not ready.wait(30):
            raise SystemExit("the server did not start")
        client(args.name, args.requests)
        server.join(30)
        if server.exitcode != 0:
            raise SystemExit(f"server exit code {server.exitcode}")
    finally:
        if server.is_alive():
            server.kill()


if __name__ == "__main__":
    main()
