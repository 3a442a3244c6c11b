#!/usr/bin/env python3
"""tests/cli/gen.py -- test inputs and checks for the shmring command's
record framing (a 4-byte little-endian length, then the message).

  gen.py records OUT N MAXLEN SEED   N random binary records, lengths 0..MAXLEN
                                     (0 and MAXLEN included)
  gen.py big OUT N LEN SEED          N records of exactly LEN random bytes
  gen.py frame IN OUT                IN's lines (without newlines) as records
  gen.py count IN                    print the number of records and payload bytes
  gen.py poke IN OUT OFF FMT VALUE   copy IN to OUT with struct FMT (e.g. <I) VALUE
                                     written at byte offset OFF
  gen.py fuzz IN OUTPREFIX N SEED    N copies of IN with 1..8 random bytes of the
                                     header page (4096 bytes) changed each
"""
import random
import struct
import sys


def records(out, n, maxlen, seed, fixed=False):
    rnd = random.Random(seed)
    with open(out, "wb") as f:
        for i in range(n):
            if fixed:
                ln = maxlen
            else:
                ln = 0 if i == 0 else maxlen if i == 1 else rnd.randint(0, maxlen)
            f.write(struct.pack("<I", ln) + rnd.randbytes(ln))


def parse(path):
    data = open(path, "rb").read()
    msgs, off = [], 0
    while off < len(data):
        if off + 4 > len(data):
            raise SystemExit("truncated header at %d" % off)
        (ln,) = struct.unpack_from("<I", data, off)
        if off + 4 + ln > len(data):
            raise SystemExit("truncated record at %d" % off)
        msgs.append(data[off + 4:off + 4 + ln])
        off += 4 + ln
    return msgs


def main():
    cmd = sys.argv[1]
    if cmd == "records":
        records(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]))
    elif cmd == "big":
        records(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]), True)
    elif cmd == "frame":
        lines = open(sys.argv[2], "rb").read().split(b"\n")
        if lines and lines[-1] == b"":
            lines.pop()
        with open(sys.argv[3], "wb") as f:
            for ln in lines:
                f.write(struct.pack("<I", len(ln)) + ln)
    elif cmd == "count":
        msgs = parse(sys.argv[2])
        print(len(msgs), sum(len(m) for m in msgs))
    elif cmd == "poke":
        data = bytearray(open(sys.argv[2], "rb").read())
        struct.pack_into(sys.argv[5], data, int(sys.argv[4], 0), int(sys.argv[6], 0))
        open(sys.argv[3], "wb").write(data)
    elif cmd == "fuzz":
        base = open(sys.argv[2], "rb").read()
        rnd = random.Random(int(sys.argv[5]))
        for i in range(int(sys.argv[4])):
            data = bytearray(base)
            for _ in range(rnd.randint(1, 8)):
                data[rnd.randrange(4096)] = rnd.randrange(256)
            open("%s%d" % (sys.argv[3], i), "wb").write(data)
    else:
        raise SystemExit("unknown command " + cmd)


main()
