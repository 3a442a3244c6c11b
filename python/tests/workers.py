# python/tests/workers.py -- the other process of the two-process tests
# (an importable module, so the "spawn" start method finds it), and the
# verified stream both sides agree on.
#
# Message i has a size drawn from random.Random(seed) (both sides draw the
# same sequence): mostly small, some up to max_msg, 0 and max_msg
# included. Its bytes are a slice of a seeded random pool at an offset
# derived from i; from 12 bytes on it starts with (i, crc32 of the rest).
# The consumer checks the length, the sequence number, the checksum and
# every byte, then end of stream (Closed) after the last one.
import os
import random
import signal
import struct
import time
import zlib

import shmring

HDR = struct.Struct("<QI")
POOL_SIZE = 1 << 21


def pool(max_msg):
    return random.Random(12345).randbytes(POOL_SIZE + max_msg)


def sizes(seed, n, max_msg):
    rnd = random.Random(seed)
    out = []
    for i in range(n):
        u = rnd.random()
        if i % 997 == 3:
            s = max_msg
        elif i % 991 == 5:
            s = 0
        elif u < 0.6:
            s = rnd.randrange(0, min(65, max_msg + 1))
        elif u < 0.9:
            s = rnd.randrange(0, min(1025, max_msg + 1))
        else:
            s = rnd.randrange(0, max_msg + 1)
        out.append(s)
    return out


def message(i, size, data):
    off = (i * 7919) % POOL_SIZE
    body = data[off:off + size]
    if size >= HDR.size:
        rest = body[HDR.size:]
        return HDR.pack(i, zlib.crc32(rest)) + rest
    return body


class Checker:
    def __init__(self, seed, n, max_msg):
        self.sizes = sizes(seed, n, max_msg)
        self.data = pool(max_msg)
        self.i = 0

    def check(self, msg):
        i = self.i
        assert i < len(self.sizes), f"message {i} beyond the {len(self.sizes)} sent"
        assert len(msg) == self.sizes[i], f"message {i}: {len(msg)} bytes, expected {self.sizes[i]}"
        if len(msg) >= HDR.size:
            seq, crc = HDR.unpack_from(msg)
            assert seq == i, f"message {i}: sequence number {seq}"
            assert zlib.crc32(msg[HDR.size:]) == crc, f"message {i}: bad checksum"
        assert bytes(msg) == message(i, len(msg), self.data), f"message {i}: bad bytes"
        self.i += 1

    @property
    def done(self):
        return self.i == len(self.sizes)


def produce(ring, seed, n, mode):
    """Send the n messages of the stream with one of the producer calls."""
    max_msg = ring.max_msg
    sz = sizes(seed, n, max_msg)
    data = pool(max_msg)
    rnd = random.Random(seed + 1)
    i = 0
    while i < n:
        if mode == "copy":
            ring.send(message(i, sz[i], data))
            i += 1
        elif mode == "batch":
            k = min(n - i, rnd.randrange(1, 65))
            batch = [message(j, sz[j], data) for j in range(i, i + k)]
            if rnd.random() < 0.5:
                batch = [bytearray(m) if j % 2 else m for j, m in enumerate(batch)]
            assert ring.send_many(batch) == k
            i += k
        elif mode == "zerocopy":
            m = message(i, sz[i], data)
            if rnd.random() < 0.5 or sz[i] == max_msg:
                with ring.claim(sz[i]) as v:
                    v[:] = m
            else:  # claim more, commit the message's length
                c = ring.claim(min(max_msg, sz[i] + rnd.randrange(1, 200)))
                with c as v:
                    v[:len(m)] = m
                    c.commit(len(m))
            i += 1
        else:
            raise ValueError(mode)


def consume(ring, seed, n, mode):
    """Receive and check the whole stream, then its end."""
    chk = Checker(seed, n, ring.max_msg)
    rnd = random.Random(seed + 2)
    buf = bytearray(ring.max_msg)
    if mode == "iter":
        for msg in ring:
            chk.check(msg)
    else:
        while not chk.done:
            if mode == "copy":
                chk.check(ring.recv())
            elif mode == "into":
                k = ring.recv_into(buf)
                chk.check(memoryview(buf)[:k])
            elif mode == "batch":
                for msg in ring.recv_many(rnd.randrange(1, 65)):
                    chk.check(msg)
            elif mode == "zerocopy":
                with ring.peek() as v:
                    assert v.readonly
                    chk.check(v)
            else:
                raise ValueError(mode)
        try:
            ring.recv()
            raise AssertionError("no end of stream")
        except shmring.Closed:
            pass
    assert chk.done, f"{chk.i} of {n} messages"
    return chk.i


def open_retry(name, role, timeout=10.0):
    end = time.monotonic() + timeout
    while True:
        try:
            return shmring.open(name, role)
        except shmring.NotFound:
            if time.monotonic() > end:
                raise
            time.sleep(0.001)


def child_produce(name, seed, n, mode, conn):
    """Child side of a stream: attach as producer (the parent created the
    ring), send, close (end of stream)."""
    try:
        with open_retry(name, "producer") as ring:
            produce(ring, seed, n, mode)
        conn.send(("ok", n))
    except BaseException as e:  # report, then fail the exit code
        conn.send(("error", repr(e)))
        raise


def child_consume(name, seed, n, mode, conn):
    try:
        with open_retry(name, "consumer") as ring:
            got = consume(ring, seed, n, mode)
        conn.send(("ok", got))
    except BaseException as e:
        conn.send(("error", repr(e)))
        raise


def child_hold_producer(name, count, conn):
    """Attach as producer, send `count` messages, report, then sleep until
    killed (the peer-death test)."""
    ring = open_retry(name, "producer")
    for i in range(count):
        ring.send(i.to_bytes(8, "little"))
    conn.send(("ready", os.getpid()))
    while True:
        time.sleep(1)


def child_hold_consumer(name, conn):
    ring = open_retry(name, "consumer")
    conn.send(("ready", os.getpid()))
    while True:
        time.sleep(1)


def child_server(name, conn):
    """An RPC server on a Channel: answers each request with its bytes
    reversed and the request's length, until the client closes."""
    try:
        with shmring.Channel.create(name, slot_count=256, max_msg=8192) as ch:
            conn.send(("ready", os.getpid()))
            n = ch.serve(lambda req: req[::-1] + len(req).to_bytes(4, "little"))
        conn.send(("ok", n))
    except BaseException as e:
        conn.send(("error", repr(e)))
        raise


def ignore_sigint():
    signal.signal(signal.SIGINT, signal.SIG_IGN)
