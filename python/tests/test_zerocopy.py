# python/tests/test_zerocopy.py -- peek() and claim(): memoryviews into the
# ring, and the guarantee that none can outlive its message.
import gc

import pytest

import shmring


def test_peek_view(pair):
    p, c = pair
    p.send(b"in place")
    pk = c.peek()
    assert isinstance(pk, shmring.Peek) and "not entered" in repr(pk)
    with pk as v:
        assert isinstance(v, memoryview) and v.readonly
        assert v.format == "B" and v.nbytes == 8
        assert bytes(v) == b"in place" and v[0] == ord("i")
        with pytest.raises(TypeError):
            v[0] = 1
        assert "open" in repr(pk)
    assert "done" in repr(pk)
    # the view is released: reading raises instead of touching the ring
    for read in (lambda: v[0], lambda: bytes(v), lambda: v.tobytes(),
                 lambda: len(v), lambda: memoryview(v)):
        with pytest.raises(ValueError, match="released"):
            read()
    with pytest.raises(BufferError):
        memoryview(pk)  # the Peek no longer exports its bytes
    with pytest.raises(shmring.Again):
        c.recv(0)  # and the message is gone


def test_peek_released_view_after_slot_reuse(pair):
    p, c = pair
    p.send(b"A" * 100)
    with c.peek() as v:
        pass
    for i in range(200):  # reuse every slot many times
        p.send(bytes([i % 256]) * 100)
        c.recv()
    with pytest.raises(ValueError):
        v[0]


def test_peek_again_after_exit_gets_next(pair):
    p, c = pair
    p.send_many([b"one", b"two"])
    with c.peek() as v:
        assert v == b"one"
    with c.peek(timeout=0) as v:
        assert v == b"two"
    with pytest.raises(shmring.Again):
        c.peek(0).__enter__()
    with pytest.raises(shmring.Timeout):
        c.peek(0.02).__enter__()


def test_peek_entered_once(pair):
    p, c = pair
    p.send(b"x")
    pk = c.peek()
    with pk:
        with pytest.raises(RuntimeError):
            pk.__enter__()
    with pytest.raises(RuntimeError):
        pk.__enter__()


def test_calls_refused_while_peek_open(pair):
    p, c = pair
    p.send_many([b"a", b"b"])
    with c.peek() as v:
        for call in (c.recv, lambda: c.recv_many(2), lambda: c.peek().__enter__(),
                     lambda: c.recv_into(bytearray(4)), lambda: next(c)):
            with pytest.raises(shmring.InvalidArgument, match="still open"):
                call()
        with pytest.raises(BufferError):
            c.close()
        assert v == b"a"
        assert c.stats().messages == 0  # stats still answers
    assert c.recv() == b"b"


def test_exception_in_peek_block_releases(pair):
    p, c = pair
    p.send_many([b"a", b"b"])
    with pytest.raises(KeyError):
        with c.peek() as v:
            raise KeyError
    with pytest.raises(ValueError):
        v[0]
    assert c.recv() == b"b"


def test_derived_view_defers_release(pair):
    p, c = pair
    p.send_many([b"first", b"second"])
    with pytest.raises(BufferError, match="still"):
        with c.peek() as v:
            keep = v[1:3]  # a slice shares the buffer
    assert bytes(keep) == b"ir"  # still valid: the message was not released
    with pytest.raises(shmring.InvalidArgument):
        c.recv()  # nor can the ring move on while the slice lives
    with pytest.raises(BufferError):
        c.close()
    with pytest.raises(ValueError):
        v[0]  # the view we handed out is released
    del keep  # the last buffer goes: the message is released now
    assert c.recv() == b"second"


def test_derived_memoryview_defers_release(pair):
    p, c = pair
    p.send_many([b"first", b"second"])
    with pytest.raises(BufferError):
        with c.peek() as v:
            mv2 = memoryview(v)
    assert mv2 == b"first"
    mv2.release()
    assert c.recv() == b"second"


def test_abandoned_peek_is_kept(pair):
    p, c = pair
    p.send_many([b"a", b"b"])
    pk = c.peek()
    v = pk.__enter__()
    assert v == b"a"
    del pk, v
    gc.collect()
    assert c.recv() == b"a"  # not released: delivered again
    assert c.recv() == b"b"


def test_claim_commit_on_exit(pair):
    p, c = pair
    cl = p.claim(5)
    assert isinstance(cl, shmring.Claim)
    with cl as v:
        assert not v.readonly and len(v) == 5
        v[:] = b"12345"
    with pytest.raises(ValueError):
        v[0] = 1
    assert c.recv() == b"12345"
    with p.claim(size=3, timeout=1) as v:
        v[0:3] = b"abc"
    assert c.recv() == b"abc"


def test_claim_commit_shorter_and_discard(pair):
    p, c = pair
    cl = p.claim(100)
    with cl as v:
        v[:4] = b"part"
        cl.commit(4)
        with pytest.raises(ValueError):
            v[0]
        with pytest.raises(shmring.InvalidArgument):
            cl.commit(1)
    assert c.recv() == b"part"
    cl = p.claim(10)
    with cl as v:
        v[:] = b"x" * 10
        with pytest.raises(ValueError):
            cl.commit(11)
        with pytest.raises(TypeError):
            cl.commit("1")
        cl.discard()
    with pytest.raises(shmring.InvalidArgument):
        cl.discard()
    cl = p.claim(10)
    with cl:
        cl.commit()  # all of it
    assert len(c.recv()) == 10
    with pytest.raises(shmring.Again):
        c.recv(0)


def test_exception_in_claim_block_discards(pair):
    p, c = pair
    with pytest.raises(ZeroDivisionError):
        with p.claim(8) as v:
            v[:] = b"lostlost"
            1 / 0
    p.send(b"next")
    assert c.recv() == b"next"


def test_calls_refused_while_claim_open(pair):
    p, c = pair
    with p.claim(4) as v:
        v[:] = b"abcd"
        for call in (lambda: p.send(b"x"), lambda: p.send_many([b"x"]),
                     lambda: p.claim(1).__enter__()):
            with pytest.raises(shmring.InvalidArgument, match="still open"):
                call()
        with pytest.raises(BufferError):
            p.close()
    assert c.recv() == b"abcd"


def test_claim_derived_view_defers_commit(pair):
    p, c = pair
    with pytest.raises(BufferError, match="commit"):
        with p.claim(4) as v:
            tail = v[2:]
            v[:2] = b"ab"
    tail[:] = b"cd"  # still ours: not yet committed
    with pytest.raises(shmring.Again):
        c.recv(0)
    del tail
    assert c.recv() == b"abcd"


def test_claim_too_large_and_bad_size(pair):
    p, _ = pair
    with pytest.raises(shmring.MessageTooLarge):
        p.claim(p.max_msg + 1).__enter__()
    for bad, exc in ((-1, ValueError), ("1", TypeError), (1.0, TypeError)):
        with pytest.raises(exc):
            p.claim(bad)
    with pytest.raises(TypeError):
        p.claim()


def test_claim_timeouts(pair):
    p, c = pair
    while True:
        try:
            with p.claim(200, timeout=0):
                pass
        except shmring.Again:
            break
    with pytest.raises(shmring.Timeout):
        p.claim(200, 0.02).__enter__()
    c.recv()
    with p.claim(8, 0) as v:
        v[:] = b"88888888"


def test_abandoned_claim_is_discarded(pair):
    p, c = pair
    cl = p.claim(4)
    v = cl.__enter__()
    v[:] = b"gone"
    del cl, v
    gc.collect()
    p.send(b"kept")
    assert c.recv() == b"kept"


def test_zero_length(pair):
    p, c = pair
    with p.claim(0) as v:
        assert len(v) == 0
    with c.peek() as v:
        assert len(v) == 0 and bytes(v) == b""


def test_big_message_in_place(name):
    with shmring.create(name, "producer", slot_size=56, slot_count=4096,
                        max_msg=200000) as p, shmring.open(name, "consumer") as c:
        payload = bytes(range(256)) * 781
        with p.claim(len(payload)) as v:
            v[:] = payload
        with c.peek() as v:
            assert len(v) == len(payload) and v == payload
            assert v.contiguous
