# python/tests/test_ipc.py -- two processes: verified streams with the spawn
# and fork start methods over every producer and consumer call, end of
# stream, peer death (SIGKILL -> PeerDead within 200 ms), handles
# inherited by fork, the Channel, and the examples.
import multiprocessing as mp
import os
import pathlib
import random
import signal
import subprocess
import sys
import threading
import time

import pytest

import shmring
import workers

from conftest import ASAN

ROOT = pathlib.Path(__file__).resolve().parents[2]

CFGS = {
    "s8": dict(slot_size=8, slot_count=1024, max_msg=4096),
    "s56": dict(slot_size=56, slot_count=512, max_msg=16000),
    "s120big": dict(slot_size=120, slot_count=4096, max_msg=250000),
}
PRODUCERS = ["copy", "batch", "zerocopy"]
CONSUMERS = ["copy", "into", "batch", "zerocopy", "iter"]


def wait_msg(conn, timeout=30):
    assert conn.poll(timeout), "the child did not answer"
    return conn.recv()


def run_stream(name, method, prod, cons, n, cfg, child):
    ctx = mp.get_context(method)
    here, there = ctx.Pipe()
    seed = random.randrange(1 << 30)
    if child == "producer":
        ring = shmring.create(name, "consumer", **cfg)
        proc = ctx.Process(target=workers.child_produce,
                           args=(name, seed, n, prod, there))
    else:
        ring = shmring.create(name, "producer", **cfg)
        proc = ctx.Process(target=workers.child_consume,
                           args=(name, seed, n, cons, there))
    proc.start()
    try:
        with ring:
            if child == "producer":
                assert workers.consume(ring, seed, n, cons) == n
            else:
                workers.produce(ring, seed, n, prod)
        status = wait_msg(here, 60)
        assert status == ("ok", n), status
        proc.join(30)
        assert proc.exitcode == 0
    finally:
        if proc.is_alive():
            proc.kill()
            proc.join()


@pytest.mark.parametrize("prod", PRODUCERS)
@pytest.mark.parametrize("cons", CONSUMERS)
def test_stream_fork(name, prod, cons):
    cfg = CFGS[random.Random(prod + cons).choice(sorted(CFGS))]
    child = "producer" if (PRODUCERS.index(prod) + CONSUMERS.index(cons)) % 2 else "consumer"
    run_stream(name, "fork", prod, cons, 6000 if ASAN else 20000, cfg, child)


@pytest.mark.parametrize("prod,cons,cfg,child", [
    ("copy", "copy", "s56", "producer"),
    ("batch", "batch", "s8", "consumer"),
    ("zerocopy", "zerocopy", "s120big", "producer"),
    ("batch", "iter", "s120big", "consumer"),
])
def test_stream_spawn(name, prod, cons, cfg, child):
    run_stream(name, "spawn", prod, cons, 4000 if ASAN else 12000, CFGS[cfg], child)


@pytest.mark.parametrize("method", ["fork", "spawn"])
def test_peer_death_seen_by_consumer(name, method):
    ctx = mp.get_context(method)
    ring = shmring.create(name, "consumer", slot_count=64)
    here, there = ctx.Pipe()
    proc = ctx.Process(target=workers.child_hold_producer, args=(name, 5, there))
    proc.start()
    try:
        assert wait_msg(here)[0] == "ready"
        for i in range(5):  # what it sent before dying is delivered
            assert ring.recv() == i.to_bytes(8, "little")
        killed = []

        def kill():
            time.sleep(0.15)
            killed.append(time.monotonic())
            os.kill(proc.pid, signal.SIGKILL)

        threading.Thread(target=kill).start()
        with pytest.raises(shmring.PeerDead):
            ring.recv()  # waits forever, until the death is seen
        dt = time.monotonic() - killed[0]
        assert dt < (0.4 if ASAN else 0.2), dt
        with pytest.raises(shmring.PeerDead):
            ring.recv(0)
    finally:
        proc.kill()
        proc.join()
        ring.close()


def test_peer_death_seen_by_producer(name):
    ctx = mp.get_context("fork")
    ring = shmring.create(name, "producer", slot_count=64)
    here, there = ctx.Pipe()
    proc = ctx.Process(target=workers.child_hold_consumer, args=(name, there))
    proc.start()
    try:
        assert wait_msg(here)[0] == "ready"
        while True:
            try:
                ring.send(b"x" * 50, 0)
            except shmring.Again:
                break
        t = time.monotonic()
        os.kill(proc.pid, signal.SIGKILL)
        with pytest.raises(shmring.PeerDead):
            ring.send(b"x" * 50)  # the ring is full and its consumer dead
        assert time.monotonic() - t < (0.4 if ASAN else 0.2)
    finally:
        proc.kill()
        proc.join()
        ring.close()


def test_takeover_after_death(name):
    """A new consumer takes over the dead one's role and resumes at the
    oldest unreleased message."""
    ctx = mp.get_context("fork")
    p = shmring.create(name, "producer", slot_count=64)
    here, there = ctx.Pipe()
    proc = ctx.Process(target=workers.child_hold_consumer, args=(name, there))
    proc.start()
    assert wait_msg(here)[0] == "ready"
    p.send(b"kept")
    os.kill(proc.pid, signal.SIGKILL)
    proc.join()
    with shmring.open(name, "consumer") as c:
        assert c.recv() == b"kept"
    p.close()


def test_forked_child_cannot_use_inherited_ring(pair):
    p, c = pair
    p.send(b"before")
    pid = os.fork()
    if pid == 0:
        code = 0
        try:
            calls = [lambda: p.send(b"x"), lambda: c.recv(), lambda: c.recv(0),
                     lambda: c.peek().__enter__(), lambda: p.claim(1).__enter__(),
                     lambda: p.send_many([b"x"]), lambda: c.recv_many(1),
                     lambda: c.recv_into(bytearray(8)), lambda: next(c),
                     lambda: p.set_spin(0), lambda: p.stats()]
            for call in calls:
                try:
                    call()
                    code = 1
                except shmring.InvalidArgument as e:
                    if "forked child" not in str(e):
                        code = 2
            p.close()  # in the child this only unmaps
            c.close()
        except BaseException:
            code = 3
        os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    p.send(b"after")  # the parent's roles are untouched
    assert c.recv() == b"before" and c.recv() == b"after"
    with pytest.raises(shmring.Again):
        c.recv(0)  # no end of stream from the child's close


def _use_global(conn):
    try:
        _GLOBAL_RING.send(b"x")
        conn.send("sent")
    except shmring.InvalidArgument as e:
        conn.send(str(e))


_GLOBAL_RING = None


def test_multiprocessing_fork_inherited_ring(pair):
    global _GLOBAL_RING
    p, c = pair
    _GLOBAL_RING = p
    try:
        ctx = mp.get_context("fork")
        here, there = ctx.Pipe()
        proc = ctx.Process(target=_use_global, args=(there,))
        proc.start()
        msg = wait_msg(here)
        proc.join()
        assert "forked child" in msg and "open the ring again" in msg
        p.send(b"parent")
        assert c.recv() == b"parent"
    finally:
        _GLOBAL_RING = None


@pytest.mark.parametrize("method", ["fork", "spawn"])
def test_channel_rpc(name, method):
    ctx = mp.get_context(method)
    here, there = ctx.Pipe()
    proc = ctx.Process(target=workers.child_server, args=(name, there))
    proc.start()
    try:
        assert wait_msg(here)[0] == "ready"
        rnd = random.Random(7)
        n = 500 if ASAN else 3000
        with shmring.Channel.open(name, timeout=10) as ch:
            for i in range(n):
                req = rnd.randbytes(rnd.randrange(0, 8000))
                rep = ch.request(req, timeout=10)
                assert rep == req[::-1] + len(req).to_bytes(4, "little"), i
        assert wait_msg(here) == ("ok", n)
        proc.join(30)
        assert proc.exitcode == 0
    finally:
        if proc.is_alive():
            proc.kill()
            proc.join()


def _example_env():
    env = dict(os.environ)
    pkg = str(pathlib.Path(shmring.__file__).parent.parent)
    env["PYTHONPATH"] = pkg + os.pathsep + env.get("PYTHONPATH", "")
    return env


@pytest.mark.parametrize("script,args", [
    ("rpc.py", ["--requests", "2000"]),
    ("stream.py", ["--count", "100000", "--size", "64"]),
    ("stream.py", ["--count", "2000", "--size", "65536", "--mode", "zerocopy"]),
])
def test_examples_run(script, args, name):
    r = subprocess.run([sys.executable, str(ROOT / "examples" / "python" / script),
                        "--name", name] + args, env=_example_env(),
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "verified" in r.stdout, r.stdout
