# python/tests/conftest.py -- fixtures of the shmring Python suite
# (scripts/test-python.sh runs it against the package installed in a venv,
# or, with --asan, against an ASan build of the shmring tree).
import itertools
import os

import pytest

import shmring

ASAN = os.environ.get("SHMRING_TEST_ASAN") == "1"
_seq = itertools.count()


def unique_name(tag="t"):
    return f"pyt-{tag}-{os.getpid()}-{next(_seq)}"


def cleanup(name):
    for n in (name, name + ".req", name + ".rep"):
        try:
            shmring.unlink(n)
        except shmring.NotFound:
            pass


def pytest_sessionstart(session):
    """Remove the rings of earlier runs whose process is gone."""
    try:
        entries = os.listdir("/dev/shm")
    except OSError:
        return
    for e in entries:
        parts = e.split("-")
        if not e.startswith("shmring.pyt-") or len(parts) < 4 or not parts[2].isdigit():
            continue
        try:
            os.kill(int(parts[2]), 0)
        except ProcessLookupError:
            try:
                os.unlink(os.path.join("/dev/shm", e))
            except OSError:
                pass
        except OSError:
            pass


@pytest.fixture
def name():
    """A ring name of this test alone; removed afterwards."""
    n = unique_name()
    yield n
    cleanup(n)


@pytest.fixture
def pair(name):
    """(producer, consumer) of a small ring in this process."""
    p = shmring.create(name, "producer", slot_size=56, slot_count=64,
                       max_msg=2048)
    c = shmring.open(name, "consumer")
    yield p, c
    p.close()
    c.close()
