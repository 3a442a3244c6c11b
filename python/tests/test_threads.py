# python/tests/test_threads.py -- the GIL is released while a call waits;
# one call at a time per Ring; close() from another thread.
import threading
import time

import pytest

import shmring


class Spinner(threading.Thread):
    """Counts as fast as it can while it holds the GIL."""

    def __init__(self):
        super().__init__(daemon=True)
        self.count = 0
        self.stop = False

    def run(self):
        while not self.stop:
            self.count += 1


def progress_during(call):
    """How far another Python thread got while `call` waited."""
    s = Spinner()
    s.start()
    time.sleep(0.02)
    c0 = s.count
    t = time.monotonic()
    try:
        call()
    except (shmring.Timeout, shmring.Again):
        pass
    dt = time.monotonic() - t
    c1 = s.count
    s.stop = True
    s.join()
    return c1 - c0, dt


def fill(p):
    while True:
        try:
            p.send(b"f" * 100, 0)
        except shmring.Again:
            return


@pytest.mark.parametrize("what", ["recv", "recv_into", "recv_many", "peek",
                                  "send", "send_many", "claim"])
def test_gil_released_while_waiting(pair, what):
    p, c = pair
    if what in ("send", "send_many", "claim"):
        fill(p)
    calls = {
        "recv": lambda: c.recv(0.3),
        "recv_into": lambda: c.recv_into(bytearray(10), 0.3),
        "recv_many": lambda: c.recv_many(10, 0.3),
        "peek": lambda: c.peek(0.3).__enter__(),
        "send": lambda: p.send(b"x" * 100, 0.3),
        "send_many": lambda: p.send_many([b"x" * 100], 0.3),
        "claim": lambda: p.claim(100, 0.3).__enter__(),
    }
    n, dt = progress_during(calls[what])
    assert dt >= 0.29
    # with the GIL held the spinner would not move at all; released, it
    # runs millions of increments a second (thousands even on a busy host)
    assert n > 10000, n


def test_other_thread_feeds_blocked_recv(pair):
    p, c = pair
    got = []

    def feed():
        time.sleep(0.1)
        p.send(b"from a thread")

    t = threading.Thread(target=feed)
    t.start()
    got.append(c.recv())  # forever: woken by the other thread's send
    t.join()
    assert got == [b"from a thread"]


def test_one_call_at_a_time(pair):
    p, c = pair
    errors = []

    def second():
        time.sleep(0.05)
        for call in (c.recv, lambda: c.recv(0), lambda: c.peek().__enter__(),
                     lambda: c.set_spin(0)):
            try:
                call()
            except RuntimeError as e:
                errors.append(str(e))
        c.stats()  # counters may be read meanwhile
        p.send(b"done")

    t = threading.Thread(target=second)
    t.start()
    assert c.recv(5) == b"done"
    t.join()
    assert len(errors) == 4 and all("one thread at a time" in e for e in errors)


def test_close_from_another_thread_ends_wait(pair):
    p, c = pair
    t0 = []

    def closer():
        time.sleep(0.1)
        t0.append(time.monotonic())
        c.close()  # returns once the waiting call has let go

    t = threading.Thread(target=closer)
    t.start()
    with pytest.raises(shmring.InvalidArgument, match="closed by another thread"):
        c.recv()
    t.join()
    assert c.closed
    assert time.monotonic() - t0[0] < 0.5
    with pytest.raises(shmring.Closed):  # the consumer's close, for the producer
        p.send(b"x")


def test_threads_stream(name):
    """A producer thread and a consumer thread of one process."""
    n = 50000
    with shmring.create(name, "producer", slot_size=8, slot_count=256) as p, \
            shmring.open(name, "consumer") as c:
        def produce():
            for i in range(n):
                p.send(i.to_bytes(4, "little"))
            p.close()

        t = threading.Thread(target=produce)
        t.start()
        i = 0
        for msg in c:
            assert int.from_bytes(msg, "little") == i
            i += 1
        t.join()
        assert i == n


def test_bytearray_pinned_while_send_waits(pair):
    """A bytearray being sent cannot be resized by another thread while
    the call waits without the GIL (it would move under the copy)."""
    p, c = pair
    fill(p)
    ba = bytearray(b"q" * 100)
    outcome = []

    def resize():
        time.sleep(0.05)
        try:
            ba.extend(b"more")
            outcome.append("resized")
        except BufferError:
            outcome.append("refused")
        c.recv_many(1000)  # make room: the send completes

    t = threading.Thread(target=resize)
    t.start()
    p.send(ba, 5)
    t.join()
    assert outcome == ["refused"]
    ba.extend(b"ok now")  # released after the call
    got = c.recv_many(1000)
    assert got[-1] == b"q" * 100
