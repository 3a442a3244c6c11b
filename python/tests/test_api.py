# python/tests/test_api.py -- every call and every exception, in one process.
import errno
import gc
import importlib.metadata
import os
import pathlib
import pickle
import re
import time

import pytest

import shmring
from shmring import _shmring

from conftest import ASAN, cleanup

ROOT = pathlib.Path(__file__).resolve().parents[2]

CLASSES = {
    shmring.EINVAL: (shmring.InvalidArgument, ValueError, errno.EINVAL),
    shmring.EAGAIN: (shmring.Again, BlockingIOError, errno.EAGAIN),
    shmring.ETIMEDOUT: (shmring.Timeout, TimeoutError, errno.ETIMEDOUT),
    shmring.EMSGSIZE: (shmring.MessageTooLarge, shmring.Error, errno.EMSGSIZE),
    shmring.ECLOSED: (shmring.Closed, shmring.Error, errno.EPIPE),
    shmring.EPEERDEAD: (shmring.PeerDead, shmring.Error, errno.EOWNERDEAD),
    shmring.EEXIST: (shmring.Exists, FileExistsError, errno.EEXIST),
    shmring.ENOENT: (shmring.NotFound, FileNotFoundError, errno.ENOENT),
    shmring.EACCES: (shmring.PermissionDenied, PermissionError, errno.EACCES),
    shmring.EBUSY: (shmring.Busy, shmring.Error, errno.EBUSY),
    shmring.EBADFMT: (shmring.BadFormat, shmring.Error, errno.EBADMSG),
    shmring.ENOMEM: (shmring.NoMemory, shmring.Error, errno.ENOMEM),
    shmring.ESYS: (shmring.OSFailure, shmring.Error, errno.EIO),
    shmring.EINTR: (shmring.Interrupted, InterruptedError, errno.EINTR),
}


# ---- module, versions, error classes ---------------------------------------

def test_version_matches_header():
    h = (ROOT / "include" / "shmring.h").read_text()
    v = ".".join(re.search(rf"#define SHMRING_VERSION_{k} (\d+)", h).group(1)
                 for k in ("MAJOR", "MINOR", "PATCH"))
    assert shmring.LIB_VERSION == v == shmring.__version__
    try:
        assert importlib.metadata.version("shmring") == v
    except importlib.metadata.PackageNotFoundError:
        pass  # the in-tree (ASan) build has no metadata
    mb = (ROOT / "python" / "package" / "meson.build").read_text()
    assert f"version: '{v}'" in mb


def test_typing_files_are_shipped():
    pkg = pathlib.Path(shmring.__file__).parent
    assert (pkg / "py.typed").exists()
    stub = (pkg / "__init__.pyi").read_text()
    for name in shmring.__all__:
        assert re.search(rf"\b{name}\b", stub), name


@pytest.mark.parametrize("code", sorted(CLASSES))
def test_every_code_raises_its_class(code):
    cls, builtin, posix = CLASSES[code]
    with pytest.raises(cls) as ei:
        _shmring._raise(code)
    e = ei.value
    assert type(e) is cls and isinstance(e, shmring.Error)
    assert isinstance(e, OSError) and isinstance(e, builtin)
    assert e.code == code == cls.code
    assert e.errno == posix
    assert e.strerror == shmring.strerror(code)
    assert e.code_name.startswith("SHMRING_E")
    assert e.code_name in str(e) and e.strerror in str(e)
    e2 = pickle.loads(pickle.dumps(e))
    assert type(e2) is cls and e2.errno == e.errno and e2.strerror == e.strerror


def test_unknown_code_is_base_error():
    with pytest.raises(shmring.Error) as ei:
        _shmring._raise(-99)
    assert type(ei.value) is shmring.Error and ei.value.code == -99
    assert ei.value.strerror == "unknown shmring error"


def test_strerror():
    assert shmring.strerror(0) == "success"
    assert shmring.strerror(shmring.ETIMEDOUT) == "timed out"
    assert shmring.strerror(12345) == "unknown shmring error"
    with pytest.raises(TypeError):
        shmring.strerror("x")


def test_error_str_has_name_and_detail(name):
    with pytest.raises(shmring.NotFound) as ei:
        shmring.open(name, "consumer")
    e = ei.value
    assert e.filename == name and e.detail == "open()"
    assert str(e) == f"[SHMRING_ENOENT] no such ring: {name!r} (open())"


def test_constants():
    assert shmring.PRODUCER == "producer" and shmring.CONSUMER == "consumer"
    assert shmring.BATCH_MAX == 1024 and shmring.MAX_NAME == 200
    assert shmring.RECORD_HEADER == 8
    assert shmring.DEFAULT_SLOT_SIZE == 56 and shmring.DEFAULT_SLOT_COUNT == 16384


# ---- create / open / unlink --------------------------------------------------

def test_create_open_defaults(name):
    with shmring.create(name, shmring.PRODUCER) as p:
        assert p.name == name and p.role == "producer" and not p.closed
        assert p.max_msg == 64 * 16384 // 2 - 8  # the default ring
        assert p.pid == os.getpid()
        with shmring.open(name, shmring.CONSUMER) as c:
            assert c.role == "consumer" and c.max_msg == p.max_msg
            assert repr(c) == f"<shmring.Ring {name!r} consumer max_msg={c.max_msg}>"
        assert c.closed and "closed" in repr(c)
    assert p.closed


def test_create_geometry(name):
    with shmring.create(name, "consumer", slot_size=8, slot_count=2, max_msg=16) as r:
        assert r.max_msg == 16
    cleanup(name)
    with shmring.create(name, "producer", slot_size=120, slot_count=1024,
                        perm=0o640) as r:
        assert r.max_msg == 128 * 1024 // 2 - 8
        assert os.stat(f"/dev/shm/shmring.{name}").st_mode & 0o777 == 0o640


@pytest.mark.parametrize("kw", [
    dict(slot_count=3), dict(slot_count=1), dict(slot_count=1 << 25),
    dict(slot_size=(64 << 20) + 1), dict(slot_count=2, max_msg=121),
    dict(flags=2), dict(flags=shmring.F_MPSC | 4)])
def test_create_bad_geometry(name, kw):
    with pytest.raises(shmring.InvalidArgument) as ei:
        shmring.create(name, "producer", **kw)
    assert isinstance(ei.value, ValueError) and "geometry" in str(ei.value)


@pytest.mark.parametrize("bad,exc", [
    (b"bytes", TypeError), (None, TypeError), (5, TypeError),
    ("", ValueError), (".hidden", ValueError), ("a/b", ValueError),
    ("sp ace", ValueError), ("x" * 201, ValueError), ("nul\0", ValueError),
    ("é", ValueError)])
def test_bad_names(bad, exc):
    for call in (lambda: shmring.create(bad, "producer"),
                 lambda: shmring.open(bad, "producer"),
                 lambda: shmring.unlink(bad)):
        with pytest.raises(exc):
            call()


def test_long_name_ok():
    n = "p" * 200
    with shmring.create(n, "producer"):
        pass
    shmring.unlink(n)


@pytest.mark.parametrize("role,exc", [
    ("Producer", ValueError), ("both", ValueError), (1, TypeError),
    (None, TypeError), (b"producer", TypeError)])
def test_bad_roles(name, role, exc):
    with pytest.raises(exc):
        shmring.create(name, role)
    with pytest.raises(exc):
        shmring.open(name, role)


@pytest.mark.parametrize("kw,exc", [
    (dict(slot_size=-1), ValueError), (dict(slot_count=1 << 32), ValueError),
    (dict(max_msg="1"), TypeError), (dict(perm=0o1000), ValueError),
    (dict(perm=0), ValueError), (dict(slot_size=1.5), TypeError),
    (dict(bogus=1), TypeError)])
def test_bad_create_args(name, kw, exc):
    with pytest.raises(exc):
        shmring.create(name, "producer", **kw)


def test_create_arg_binding(name):
    with pytest.raises(TypeError):
        shmring.create(name)
    with pytest.raises(TypeError):
        shmring.create(name, "producer", 56)  # geometry is keyword-only
    with pytest.raises(TypeError):
        shmring.create(name, "producer", name=name)
    with shmring.create(role="producer", name=name, slot_count=64):
        pass


def test_exists_busy_notfound(name):
    with pytest.raises(shmring.NotFound):
        shmring.open(name, "consumer")
    with pytest.raises(shmring.NotFound):
        shmring.unlink(name)
    p = shmring.create(name, "producer", slot_count=64)
    with pytest.raises(shmring.Exists) as ei:
        shmring.create(name, "consumer", slot_count=64)
    assert isinstance(ei.value, FileExistsError)
    with pytest.raises(shmring.Busy):
        shmring.open(name, "producer")
    c = shmring.open(name, "consumer")
    with pytest.raises(shmring.Busy):
        shmring.open(name, "consumer")
    c.close()
    c = shmring.open(name, "consumer")  # the role is free again
    shmring.unlink(name)
    p.send(b"still works after unlink")
    assert c.recv() == b"still works after unlink"
    p.close()
    c.close()


def test_bad_format(name):
    path = f"/dev/shm/shmring.{name}"
    if not os.path.isdir("/dev/shm"):
        pytest.skip("no /dev/shm")
    with open(path, "wb") as f:
        f.write(os.urandom(8192))
    os.chmod(path, 0o600)
    with pytest.raises(shmring.BadFormat):
        shmring.open(name, "consumer")


@pytest.mark.skipif(not hasattr(os, "fork") or os.geteuid() != 0,
                    reason="needs root to drop to another user")
def test_permission_denied(name):
    with shmring.create(name, "producer", slot_count=64, perm=0o600):
        pid = os.fork()
        if pid == 0:  # a child that is not the owner
            code = 3
            try:
                os.setgid(65534)
                os.setuid(65534)
                shmring.open(name, "consumer")
                code = 1
            except shmring.PermissionDenied as e:
                code = 0 if isinstance(e, PermissionError) else 2
            finally:
                os._exit(code)
        _, status = os.waitpid(pid, 0)
        assert os.waitstatus_to_exitcode(status) == 0


def test_ring_not_instantiable_nor_picklable(pair):
    p, _ = pair
    with pytest.raises(TypeError):
        shmring.Ring()
    with pytest.raises(TypeError, match="pass its name"):
        pickle.dumps(p)


# ---- send / recv ------------------------------------------------------------

def test_send_recv_bytes_like(pair):
    p, c = pair
    import array
    p.send(b"bytes")
    p.send(bytearray(b"bytearray"))
    p.send(memoryview(b"xxmemoryviewxx")[2:-2])
    p.send(array.array("i", [1, 2]))
    p.send(b"")
    p.send(data=b"kw", timeout=None)
    assert c.recv() == b"bytes"
    assert c.recv(None) == b"bytearray"
    assert c.recv(timeout=1) == b"memoryview"
    assert c.recv() == array.array("i", [1, 2]).tobytes()
    assert c.recv() == b""
    assert c.recv() == b"kw"
    assert type(c.recv.__self__) is shmring.Ring


@pytest.mark.parametrize("bad", ["str", 5, None, [b"x"], memoryview(b"abcd")[::2]])
def test_send_rejects(pair, bad):
    p, _ = pair
    with pytest.raises((TypeError, BufferError)):
        p.send(bad)


def test_send_too_large(pair):
    p, c = pair
    p.send(b"x" * p.max_msg)
    with pytest.raises(shmring.MessageTooLarge) as ei:
        p.send(b"x" * (p.max_msg + 1))
    assert "2049 bytes, max_msg is 2048" in str(ei.value)
    assert len(c.recv()) == p.max_msg
    with pytest.raises(shmring.Again):
        c.recv(0)


def test_timeouts(pair):
    p, c = pair
    with pytest.raises(shmring.Again):
        c.recv(0)
    with pytest.raises(shmring.Again):
        c.recv(timeout=0.0)
    t = time.monotonic()
    with pytest.raises(shmring.Timeout) as ei:
        c.recv(0.12)
    dt = time.monotonic() - t
    assert isinstance(ei.value, TimeoutError)
    assert 0.12 <= dt < 0.6, dt
    t = time.monotonic()
    with pytest.raises(shmring.Timeout):
        c.recv(1e-6)  # rounds up to one millisecond
    assert time.monotonic() - t < 0.3
    while True:  # fill the ring
        try:
            p.send(b"y" * 100, 0)
        except shmring.Again:
            break
    with pytest.raises(shmring.Timeout):
        p.send(b"y" * 100, 0.05)
    with pytest.raises(shmring.Again):
        p.send_many([b"y" * 100], 0)
    c.recv()
    p.send(b"z" * 8, 0)


@pytest.mark.parametrize("bad,exc", [
    (-1, ValueError), (-0.001, ValueError), (float("nan"), ValueError),
    ("1", TypeError), (b"1", TypeError), ([], TypeError)])
def test_bad_timeouts(pair, bad, exc):
    p, c = pair
    for call in (lambda: c.recv(bad), lambda: p.send(b"x", bad),
                 lambda: c.recv_into(bytearray(4), bad),
                 lambda: p.send_many([b"x"], bad), lambda: c.recv_many(1, bad),
                 lambda: c.peek(bad), lambda: p.claim(1, bad)):
        with pytest.raises(exc):
            call()


def test_huge_timeout_is_forever(pair):
    p, c = pair
    p.send(b"a")
    assert c.recv(float("inf")) == b"a"
    p.send(b"b")
    assert c.recv(1e12) == b"b"


def test_arg_binding_errors(pair):
    p, c = pair
    with pytest.raises(TypeError):
        p.send()
    with pytest.raises(TypeError):
        p.send(b"x", 1, 2)
    with pytest.raises(TypeError):
        p.send(b"x", timout=1)
    with pytest.raises(TypeError):
        p.send(b"x", 1, timeout=1)
    with pytest.raises(TypeError):
        c.recv(1, 2)
    with pytest.raises(TypeError):
        c.recv(bogus=1)


def test_wrong_role(pair):
    p, c = pair
    for call in (lambda: c.send(b"x"), lambda: c.send_many([b"x"]),
                 lambda: c.claim(1).__enter__(), lambda: p.recv(),
                 lambda: p.recv_into(bytearray(1)), lambda: p.recv_many(1),
                 lambda: p.peek().__enter__()):
        with pytest.raises(shmring.InvalidArgument, match="needs a"):
            call()
    with pytest.raises(TypeError):
        iter(p)


def test_recv_into(pair):
    p, c = pair
    buf = bytearray(16)
    p.send(b"hello")
    assert c.recv_into(buf) == 5 and buf[:5] == b"hello"
    p.send(b"0123456789abcdefXYZ")
    with pytest.raises(shmring.MessageTooLarge) as ei:
        c.recv_into(buf)
    assert ei.value.needed == 19  # and it stays in the ring
    big = bytearray(19)
    assert c.recv_into(memoryview(big), timeout=0) == 19 and big == b"0123456789abcdefXYZ"
    p.send(b"")
    assert c.recv_into(bytearray(0)) == 0
    for bad in (b"readonly", "str", 3, memoryview(b"ro")):
        with pytest.raises(TypeError):
            c.recv_into(bad)
    with pytest.raises(shmring.Again):
        c.recv_into(buf, 0)


def test_send_many_recv_many(pair):
    p, c = pair
    msgs = [bytes([i]) * i for i in range(20)]
    assert p.send_many(msgs) == 20
    assert p.send_many(iter([b"gen", bytearray(b"ba")])) == 2
    assert p.send_many(()) == 0
    assert p.send_many(messages=[memoryview(b"kw")], timeout=1) == 1
    got = c.recv_many(7)
    assert got == msgs[:7]
    got = c.recv_many(100)
    assert got == msgs[7:] + [b"gen", b"ba", b"kw"]
    assert all(type(m) is bytes for m in got)
    with pytest.raises(shmring.Again):
        c.recv_many(5, 0)
    with pytest.raises(shmring.Timeout):
        c.recv_many(5, 0.02)


def test_send_many_partial_and_errors(pair):
    p, c = pair
    with pytest.raises(shmring.MessageTooLarge) as ei:
        p.send_many([b"ok", b"x" * (p.max_msg + 1)])
    assert ei.value.sent == 0
    with pytest.raises(shmring.Again):
        c.recv(0)  # none was sent
    for bad in (b"one message", "str", bytearray(b"x"), 5, None):
        with pytest.raises(TypeError):
            p.send_many(bad)
    with pytest.raises(TypeError):
        p.send_many([b"ok", "str"])
    with pytest.raises(shmring.Again):
        c.recv(0)
    # a ring of 64 slots: 100 messages of 60 bytes do not all fit
    n = p.send_many([b"m" * 60] * 100, 0)
    assert 0 < n < 100
    with pytest.raises(shmring.Timeout) as ei:  # full: nothing more fits
        p.send_many([b"m" * 60] * 100, 0.05)
    assert ei.value.sent == 0
    assert len(c.recv_many(1000)) == n
    assert p.send_many([b"m" * 60] * 100, 0.05) == n  # partial: a count


def test_recv_many_more_than_batch_max(name):
    with shmring.create(name, "producer", slot_size=8, slot_count=4096) as p, \
            shmring.open(name, "consumer") as c:
        assert p.send_many([b"%d" % i for i in range(3000)]) == 3000
        got = c.recv_many(2500)
        assert len(got) == 2500 and got[-1] == b"2499"
        assert len(c.recv_many(10 ** 9)) == 500


@pytest.mark.parametrize("bad,exc", [(0, ValueError), (-1, ValueError),
                                     ("3", TypeError), (None, TypeError)])
def test_recv_many_bad_count(pair, bad, exc):
    _, c = pair
    with pytest.raises(exc):
        c.recv_many(bad)


def test_end_of_stream(pair):
    p, c = pair
    p.send_many([b"1", b"2", b"3"])
    p.close()
    assert c.recv() == b"1"
    assert list(c) == [b"2", b"3"]  # the iterator stops at end of stream
    with pytest.raises(shmring.Closed):
        c.recv()
    with pytest.raises(shmring.Closed):
        c.recv(0)
    with pytest.raises(shmring.Closed):
        c.recv_many(3)
    with pytest.raises(shmring.Closed):
        c.peek().__enter__()
    assert list(c) == []


def test_consumer_close_is_closed_for_producer(name):
    p = shmring.create(name, "producer", slot_count=64)
    c = shmring.open(name, "consumer")
    c.close()
    with pytest.raises(shmring.Closed):
        p.send(b"x")
    with pytest.raises(shmring.Closed) as ei:
        p.send_many([b"x", b"y"])
    assert ei.value.sent == 0
    c = shmring.open(name, "consumer")  # a new consumer: sending works again
    p.send(b"back")
    assert c.recv() == b"back"
    p.close()
    c.close()


def test_iterator(pair):
    p, c = pair
    assert iter(c) is c
    p.send_many([b"a", b"b"])
    assert next(c) == b"a"
    assert next(c) == b"b"
    p.close()
    with pytest.raises(StopIteration):
        next(c)


def test_stats_and_spin(pair):
    p, c = pair
    s = p.stats()
    assert isinstance(s, shmring.Stats) and s == (0, 0, 0, 0)
    p.send_many([b"x"] * 5)
    for _ in range(5):
        c.recv()
    assert p.stats().messages == 5 and c.stats().messages == 5
    assert c.stats()._fields if hasattr(c.stats(), "_fields") else True
    with pytest.raises(shmring.Timeout):
        c.recv(0.06)
    st = c.stats()
    assert st.waits >= 1 and st.wakes == 0 and st[0] == st.messages
    c.set_spin(0)
    c.set_spin(shmring.DEFAULT_SPIN_NS)
    for bad, exc in ((-1, ValueError), (1 << 32, ValueError), ("1", TypeError)):
        with pytest.raises(exc):
            c.set_spin(bad)


def test_use_after_close(pair):
    p, c = pair
    p.close()
    c.close()
    p.close()  # idempotent
    calls = [lambda: p.send(b"x"), lambda: p.send_many([b"x"]),
             lambda: p.claim(1).__enter__(), lambda: c.recv(),
             lambda: c.recv_into(bytearray(1)), lambda: c.recv_many(1),
             lambda: c.peek().__enter__(), lambda: next(c),
             lambda: p.stats(), lambda: c.set_spin(0), lambda: p.__enter__()]
    for call in calls:
        with pytest.raises(shmring.InvalidArgument, match="closed") as ei:
            call()
        assert isinstance(ei.value, ValueError)
    assert p.closed and c.closed and p.name and p.max_msg == 2048


def test_context_manager_closes(name):
    with shmring.create(name, "producer", slot_count=64) as p:
        c = shmring.open(name, "consumer")
        p.send(b"last")
    assert p.closed
    assert c.recv() == b"last"
    with pytest.raises(shmring.Closed):
        c.recv()
    c.close()


def test_dealloc_closes(name):
    p = shmring.create(name, "producer", slot_count=64)
    c = shmring.open(name, "consumer")
    p.send(b"x")
    del p
    gc.collect()
    assert c.recv() == b"x"
    with pytest.raises(shmring.Closed):
        c.recv()
    c.close()


def test_weakref(pair):
    import weakref
    p, _ = pair
    assert weakref.ref(p)() is p


def test_zero_length_and_max_messages(name):
    with shmring.create(name, "producer", slot_size=8, slot_count=32, max_msg=248) as p, \
            shmring.open(name, "consumer") as c:
        for size in (0, 1, 7, 8, 9, 100, 248):
            p.send(bytes(range(size % 256)) * 0 + b"q" * size)
            assert c.recv() == b"q" * size


# ---- Channel ----------------------------------------------------------------

def test_channel_in_one_process(name):
    with shmring.Channel.create(name, slot_count=64, max_msg=1024) as srv:
        with shmring.Channel.open(name) as cli:
            assert srv.side == "server" and cli.side == "client"
            assert srv.max_msg == 1024 and "server" in repr(srv)
            cli.send(b"req")
            assert srv.recv() == b"req"
            srv.send(b"rep")
            assert cli.recv() == b"rep"
            with pytest.raises(shmring.Timeout):
                cli.request(b"nobody answers", timeout=0.05)
            assert srv.recv(0) == b"nobody answers"
            with pytest.raises(shmring.Again):
                cli.request(b"zero", timeout=0)
            assert srv.recv(0) == b"zero"
        assert cli.closed
        assert srv.serve(lambda r: r) == 0  # the client closed


def test_channel_serve_one_process(name):
    srv = shmring.Channel.create(name, slot_count=64)
    cli = shmring.Channel.open(name)
    for i in range(3):
        cli.send(b"%d" % i)
    cli.tx.close()  # end of requests
    seen = []
    assert srv.serve(lambda r: seen.append(r)) == 3
    assert seen == [b"0", b"1", b"2"]
    assert [cli.recv() for _ in range(3)] == [b""] * 3
    srv.close()
    cli.close()


def test_channel_errors(name):
    with pytest.raises(shmring.NotFound):
        shmring.Channel.open(name)
    t = time.monotonic()
    with pytest.raises(shmring.NotFound):
        shmring.Channel.open(name, timeout=0.05)
    assert time.monotonic() - t >= 0.05
    with pytest.raises(ValueError):
        shmring.Channel.create(name, side="middle")
    with pytest.raises(ValueError):
        shmring.Channel.open(name, timeout=-1)
    with pytest.raises(TypeError):
        shmring.Channel.create(5)
    with pytest.raises(shmring.NotFound):
        shmring.Channel.unlink(name)
    with shmring.Channel.create(name, side="client", slot_count=64) as cli:
        srv = shmring.Channel.open(name, side="server")
        with pytest.raises(shmring.Exists):
            shmring.Channel.create(name)
        with pytest.raises(TypeError):
            shmring.Channel(cli.tx, "x")
        with pytest.raises(ValueError):
            shmring.Channel(cli.rx, cli.tx)
        srv.close()
    shmring.Channel.unlink(name)
    with pytest.raises(shmring.NotFound):
        shmring.Channel.unlink(name)


@pytest.mark.skipif(not ASAN, reason="only in scripts/test-python.sh --asan")
def test_asan_build_is_the_one_tested():
    import subprocess
    with open("/proc/self/maps") as f:
        assert "libasan" in f.read()
    syms = subprocess.run(["nm", "-D", "--undefined-only", _shmring.__file__],
                          capture_output=True, text=True).stdout
    assert "__asan_report" in syms  # the extension is instrumented
