# python/tests/test_mpsc.py -- a many-producer ring (F_MPSC) from Python:
# several producer Rings, one consumer, the limit, the end of stream and a
# producer process killed while it holds a claim.
import os
import signal
import time

import pytest

import shmring


def test_producers_interleave_in_claim_order(name):
    with shmring.create(name, "consumer", flags=shmring.F_MPSC) as c:
        ps = [shmring.open(name, "producer") for _ in range(3)]
        for i in range(4):
            for k, p in enumerate(ps):
                p.send(b"%d:%d" % (k, i))
        got = [c.recv(timeout=0) for _ in range(12)]
        assert got == [b"%d:%d" % (k, i) for i in range(4) for k in range(3)]
        for p in ps:
            p.close()
        with pytest.raises(shmring.Closed):
            c.recv(timeout=1.0)


def test_the_producer_after_the_last_is_busy(name):
    with shmring.create(name, "consumer", flags=shmring.F_MPSC) as c:
        ps = [shmring.open(name, "producer")
              for _ in range(shmring.MAX_PRODUCERS)]
        with pytest.raises(shmring.Busy):
            shmring.open(name, "producer")
        ps[5].close()
        ps[5] = shmring.open(name, "producer")  # a closed entry is reused
        ps[5].send(b"again")
        assert c.recv(timeout=0) == b"again"
        for p in ps:
            p.close()


def test_a_killed_claimer_leaves_a_counted_hole(name):
    with shmring.create(name, "consumer", flags=shmring.F_MPSC) as c:
        r, w = os.pipe()
        pid = os.fork()
        if pid == 0:  # the child: claim, say so, wait to be killed
            try:
                p = shmring.open(name, "producer")
                view = p.claim(100).__enter__()  # held, never committed
                view[:4] = b"lost"
                os.write(w, b"x")
                time.sleep(60)
            finally:
                os._exit(1)
        assert os.read(r, 1) == b"x"
        with shmring.open(name, "producer") as p:
            p.send(b"after")
            with pytest.raises(shmring.Again):
                c.recv(timeout=0)  # the live child's claim comes first
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            t0 = time.monotonic()
            assert c.recv(timeout=2.0) == b"after"
            assert time.monotonic() - t0 < 0.2
            assert c.stats().abandoned == 1
        os.close(r)
        os.close(w)
