# Each marked line must be an error for mypy (test_typing.py checks the lines).
import shmring

shmring.create("x", "both")  # E: arg-type
r = shmring.open("x", "consumer")
r.send("str")  # E: arg-type
x: str = r.recv()  # E: assignment
r.recv_into(b"read-only")  # E: arg-type
r.recv_many("3")  # E: arg-type
