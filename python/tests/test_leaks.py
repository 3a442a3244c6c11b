# python/tests/test_leaks.py -- reference counts and memory stay flat over
# 10^6 calls of each kind (successes and exceptions). The memory checks
# are the interpreter's allocated blocks and the process's resident size;
# under ASan (SHMRING_TEST_ASAN=1, PYTHONMALLOC=malloc) ASan itself checks
# the heap, and its quarantine makes the resident size meaningless.
import gc
import os
import sys

import pytest

import shmring

from conftest import ASAN

N = 10 ** 6


def rss_kib():
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") // 1024
    except OSError:
        return 0


def assert_flat(run, objs):
    run(2000)  # warm up: caches, free lists, lazily made objects
    gc.collect()
    refs = [sys.getrefcount(o) for o in objs]
    blocks = sys.getallocatedblocks()
    rss = rss_kib()
    run(N)
    gc.collect()
    assert [sys.getrefcount(o) for o in objs] == refs
    grown = sys.getallocatedblocks() - blocks
    assert grown < 200, f"{grown} more blocks after {N} calls"
    if not ASAN:
        assert rss_kib() - rss < 4096, f"RSS grew {rss_kib() - rss} KiB"


@pytest.fixture
def big_pair(name):
    p = shmring.create(name, "producer", slot_size=56, slot_count=4096,
                       max_msg=8192)
    c = shmring.open(name, "consumer")
    yield p, c
    p.close()
    c.close()


def test_send_recv_flat(big_pair):
    p, c = big_pair
    msg = b"m" * 100
    ba = bytearray(b"b" * 50)
    buf = bytearray(200)

    def run(n):
        send, recv, into = p.send, c.recv, c.recv_into
        for i in range(n // 4):
            send(msg)
            recv()
            send(ba)
            into(buf)
            send(memoryview(msg), None)
            recv(1.0)
            send(msg, timeout=0)
            recv(timeout=0)

    assert_flat(run, [p, c, msg, ba, buf])


def test_batch_flat(big_pair):
    p, c = big_pair
    batch = [b"x" * 10] * 31 + [bytearray(b"y" * 20)]

    def run(n):
        for _ in range(n // 64):
            p.send_many(batch)
            c.recv_many(32)
            p.send_many(iter(batch))
            c.recv_many(100, 1.0)

    assert_flat(run, [p, c, batch[0], batch[-1]])


def test_zero_copy_flat(big_pair):
    p, c = big_pair

    def run(n):
        claim, peek = p.claim, c.peek
        for _ in range(n // 2):
            with claim(64) as v:
                v[0] = 1
            with peek() as v:
                v[0]

    assert_flat(run, [p, c])


def test_exceptions_flat(big_pair):
    p, c = big_pair
    big = b"z" * (p.max_msg + 1)

    def run(n):
        for _ in range(n // 4):
            try:
                c.recv(0)
            except shmring.Again:
                pass
            try:
                p.send(big)
            except shmring.MessageTooLarge:
                pass
            try:
                c.send(b"x")
            except shmring.InvalidArgument:
                pass
            try:
                p.send("str")
            except TypeError:
                pass

    assert_flat(run, [p, c, big])


def test_create_close_flat(name):
    def run(n):
        for _ in range(n // 1000):
            with shmring.create(name, "producer", slot_count=64) as p, \
                    shmring.open(name, "consumer") as c:
                p.send(b"x")
                c.recv()
            try:
                shmring.open(name + "-missing", "consumer")
            except shmring.NotFound:
                pass

    assert_flat(run, [])
