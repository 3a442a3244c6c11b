#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""examples/python/stream.py -- a producer process streams messages to a
consumer process through one ring; the consumer checks every sequence
number and prints the rate.

    python3 examples/python/stream.py                       # 1M x 64 B, send/recv
    python3 examples/python/stream.py --mode batch          # send_many/recv_many
    python3 examples/python/stream.py --mode zerocopy --size 65536 --count 20000

Modes: copy (send/recv), batch (send_many/recv_many), zerocopy
(claim/peek: the messages are written and read in place). Each message
starts with its 8-byte sequence number; the rest is filler.
"""
import argparse
import multiprocessing as mp
import struct
import time

import shmring

SEQ = struct.Struct("<Q")
BATCH = 64


def producer(name: str, count: int, size: int, mode: str) -> None:
    ring = shmring.open(name, "producer")   # the consumer created it
    buf = bytearray(size)
    pack = SEQ.pack_into
    with ring:
        if mode == "copy":
            send = ring.send
            for i in range(count):
                pack(buf, 0, i)
                send(buf)
        elif mode == "batch":
            for start in range(0, count, BATCH):
                batch = []
                for i in range(start, min(count, start + BATCH)):
                    pack(buf, 0, i)
                    batch.append(bytes(buf))
                ring.send_many(batch)
        else:
            claim = ring.claim
            for i in range(count):
                with claim(size) as view:   # write the message in place
                    pack(view, 0, i)
    # leaving the with block closed the ring: the consumer sees the end


def consume(ring: shmring.Ring, mode: str) -> int:
    """Check messages 1.. up to the end of the stream; return the count."""
    unpack = SEQ.unpack_from
    expected = 1
    if mode == "copy":
        for msg in ring:                     # ends at the producer's close
            if unpack(msg)[0] != expected:
                raise SystemExit(f"message {expected}: got {unpack(msg)[0]}")
            expected += 1
    elif mode == "batch":
        while True:
            try:
                msgs = ring.recv_many(BATCH)
            except shmring.Closed:
                break
            for msg in msgs:
                if unpack(msg)[0] != expected:
                    raise SystemExit(f"message {expected}: got {unpack(msg)[0]}")
                expected += 1
    else:
        peek = ring.peek
        while True:
            try:
                with peek() as view:         # read the message in place
                    seq = unpack(view)[0]
            except shmring.Closed:
                break
            if seq != expected:
                raise SystemExit(f"message {expected}: got {seq}")
            expected += 1
    return expected


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--name", default="stream-example")
    ap.add_argument("--count", type=int, default=1000000)
    ap.add_argument("--size", type=int, default=64)
    ap.add_argument("--mode", choices=["copy", "batch", "zerocopy"], default="copy")
    args = ap.parse_args()
    if args.size < SEQ.size:
        ap.error(f"--size must be at least {SEQ.size}")
    # 1 MiB of 64-byte slots; messages up to 4x the size asked for
    # 64-byte slots, 1 MiB of them or room for 4 of the largest messages
    slots = max(16384, 1 << (4 * args.size // 64).bit_length())
    ring = shmring.create(args.name, "consumer", slot_size=56,
                          slot_count=slots, max_msg=max(4096, args.size))
    ctx = mp.get_context("spawn")
    proc = ctx.Process(target=producer, args=(args.name, args.count, args.size, args.mode))
    with ring:
        proc.start()
        if SEQ.unpack_from(ring.recv())[0] != 0:     # the clock starts here
            raise SystemExit("message 0: bad sequence number")
        t0 = time.perf_counter()
        got = consume(ring, args.mode)
        dt = time.perf_counter() - t0
    proc.join()
    shmring.unlink(args.name)
    if got != args.count or proc.exitcode != 0:
        raise SystemExit(f"received {got} of {args.count}; producer exit {proc.exitcode}")
    rate = (got - 1) / dt
    print(f"{got} messages of {args.size} B verified: {rate / 1e6:.2f} M msgs/s, "
          f"{rate * args.size / 1e6:.0f} MB/s ({args.mode})")


if __name__ == "__main__":
    main()
