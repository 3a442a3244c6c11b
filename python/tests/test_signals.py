# python/tests/test_signals.py -- Ctrl-C during a blocking wait: a
# subprocess blocked with timeout=None gets SIGINT and must raise
# KeyboardInterrupt within 100 ms; a handler that does not raise lets the
# wait go on (PEP 475).
import os
import pathlib
import random
import signal
import subprocess
import sys
import time

import pytest

import shmring

from conftest import ASAN

CHILD = r'''
import os, signal, sys, time
import shmring
signal.signal(signal.SIGINT, signal.default_int_handler)
name, what, rounds = sys.argv[1], sys.argv[2], int(sys.argv[3])
p = shmring.create(name, "producer", slot_size=56, slot_count=64, max_msg=1024)
c = shmring.open(name, "consumer")
if what in ("send", "send_many", "claim"):
    while True:
        try:
            p.send(b"f" * 200, 0)
        except shmring.Again:
            break
calls = {
    "recv": lambda: c.recv(),
    "recv_many": lambda: c.recv_many(8),
    "recv_into": lambda: c.recv_into(bytearray(64)),
    "peek": lambda: c.peek().__enter__(),
    "iter": lambda: next(c),
    "send": lambda: p.send(b"x" * 200),
    "send_many": lambda: p.send_many([b"x" * 200] * 3),
    "claim": lambda: p.claim(200).__enter__(),
}
for _ in range(rounds):
    try:
        # "ready" inside the try: the parent may signal at once (0 ms), and
        # the signal can land between this print and the call
        print("ready", flush=True)
        calls[what]()
        print("returned", flush=True)
    except KeyboardInterrupt:
        print("interrupted", time.monotonic(), flush=True)
p.close(); c.close(); shmring.unlink(name)
print("end", flush=True)
'''


def child_env():
    env = dict(os.environ)
    pkg = str(pathlib.Path(shmring.__file__).parent.parent)
    env["PYTHONPATH"] = pkg + os.pathsep + env.get("PYTHONPATH", "")
    return env


@pytest.mark.parametrize("what", ["recv", "recv_many", "recv_into", "peek",
                                  "iter", "send", "send_many", "claim"])
def test_sigint_interrupts_forever_wait(name, what):
    rounds = 4
    proc = subprocess.Popen([sys.executable, "-c", CHILD, name, what, str(rounds)],
                            stdout=subprocess.PIPE, text=True, env=child_env())
    try:
        latencies = []
        for _ in range(rounds):
            assert proc.stdout.readline().strip() == "ready"
            # sometimes while it still spins, mostly once it sleeps
            time.sleep(random.choice([0.0, 0.001, 0.03, 0.12, 0.25]))
            t0 = time.monotonic()
            proc.send_signal(signal.SIGINT)
            line = proc.stdout.readline().split()
            assert line and line[0] == "interrupted", line
            latencies.append(float(line[1]) - t0)
        assert proc.stdout.readline().strip() == "end"
        assert proc.wait(10) == 0
    finally:
        proc.kill()
        proc.wait()
    bar = 0.3 if ASAN else 0.1
    print(f"{what}: SIGINT -> KeyboardInterrupt in "
          + ", ".join(f"{x * 1000:.1f}" for x in latencies) + " ms")
    assert max(latencies) < bar, latencies


HANDLER_CHILD = r'''
import signal, sys, threading, time
import shmring
name = sys.argv[1]
hits = []
signal.signal(signal.SIGUSR1, lambda *a: hits.append(1))
p = shmring.create(name, "producer", slot_count=64)
c = shmring.open(name, "consumer")
def late():
    time.sleep(0.5)
    p.send(b"late")
threading.Thread(target=late).start()
print("ready", flush=True)
t = time.monotonic()
msg = c.recv()           # signals whose handler returns do not end the wait
print(msg.decode(), len(hits), round(time.monotonic() - t, 3), flush=True)
try:
    c.recv(0.3)
except shmring.Timeout:
    print("timeout", round(time.monotonic() - t, 3), flush=True)
shmring.unlink(name)
'''


def test_handler_that_returns_keeps_waiting(name):
    proc = subprocess.Popen([sys.executable, "-c", HANDLER_CHILD, name],
                            stdout=subprocess.PIPE, text=True, env=child_env())
    try:
        assert proc.stdout.readline().strip() == "ready"
        for _ in range(5):
            time.sleep(0.05)
            proc.send_signal(signal.SIGUSR1)
        msg, hits, _ = proc.stdout.readline().split()
        assert msg == "late" and int(hits) >= 1
        # the finite timeout still holds across signals
        proc.send_signal(signal.SIGUSR1)
        word, t = proc.stdout.readline().split()
        assert word == "timeout"
        assert proc.wait(10) == 0
    finally:
        proc.kill()
        proc.wait()


def test_finite_timeout_with_signals(pair):
    """In this process: SIGALRM every 10 ms does not shorten nor lengthen
    a finite wait."""
    _, c = pair
    hits = []
    old = signal.signal(signal.SIGALRM, lambda *a: hits.append(1))
    signal.setitimer(signal.ITIMER_REAL, 0.01, 0.01)
    try:
        t = time.monotonic()
        with pytest.raises(shmring.Timeout):
            c.recv(0.2)
        dt = time.monotonic() - t
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0, 0)
        signal.signal(signal.SIGALRM, old)
    assert len(hits) >= 5
    assert 0.2 <= dt < 0.5, dt


def test_handler_exception_propagates(pair):
    _, c = pair

    class Stop(Exception):
        pass

    def boom(*a):
        raise Stop

    old = signal.signal(signal.SIGALRM, boom)
    signal.setitimer(signal.ITIMER_REAL, 0.05)
    try:
        t = time.monotonic()
        with pytest.raises(Stop):
            c.recv()
        assert time.monotonic() - t < 0.2
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)
    with pytest.raises(shmring.Again):  # the Ring is usable afterwards
        c.recv(0)
