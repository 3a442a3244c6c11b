# A use of every part of the API that mypy --strict must accept.
import shmring

def main() -> None:
    with shmring.create("x", shmring.PRODUCER, slot_size=8) as tx:
        tx.send(b"a", timeout=1.0)
        tx.send(bytearray(b"b"))
        n: int = tx.send_many([b"a", memoryview(b"b")])
        with tx.claim(8) as v:
            v[0] = 1
        c = tx.claim(8)
        with c as v:
            c.commit(4)
    with shmring.open("x", "consumer") as rx:
        m: bytes = rx.recv(None)
        ms: list[bytes] = rx.recv_many(8)
        k: int = rx.recv_into(bytearray(8))
        with rx.peek(0.5) as view:
            b: bytes = bytes(view)
        for msg in rx:
            print(msg.hex())
        s = rx.stats()
        print(s.messages + s.waits + s.wakes, rx.max_msg, rx.closed, rx.name)
    try:
        shmring.open("y", "consumer")
    except shmring.NotFound as e:
        print(e.code, e.errno, e.detail, e.code_name)
    with shmring.Channel.open("z", timeout=1) as ch:
        r: bytes = ch.request(b"q")
        ch.serve(lambda req: req)
