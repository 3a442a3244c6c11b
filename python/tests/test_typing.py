# python/tests/test_typing.py -- the type stubs: mypy's stubtest compares
# them with the module at run time, and mypy --strict accepts a program
# using the whole API and rejects the misuses in typing/bad.py. Skipped
# without mypy (Debian: mypy) and under ASan.
import os
import pathlib
import re
import subprocess
import sys

import pytest

import shmring

from conftest import ASAN

pytest.importorskip("mypy")
pytestmark = pytest.mark.skipif(ASAN, reason="no use under ASan")
HERE = pathlib.Path(__file__).parent / "typing"
PKG = str(pathlib.Path(shmring.__file__).parent.parent)


def mypy(*args):
    env = dict(os.environ, MYPY_CACHE_DIR=os.devnull)
    if "site-packages" not in PKG:  # an in-tree build: no PEP 561 lookup
        env["MYPYPATH"] = PKG
    return subprocess.run([sys.executable, "-m", "mypy", "--no-incremental",
                           "--python-executable", sys.executable,
                           "--python-version", "3.11", *args],
                          capture_output=True, text=True, env=env, cwd=HERE)


def test_stubtest(tmp_path):
    r = subprocess.run([sys.executable, "-m", "mypy.stubtest", "shmring"],
                       capture_output=True, text=True, cwd=tmp_path,
                       env=dict(os.environ, PYTHONPATH=PKG, MYPY_CACHE_DIR=os.devnull))
    assert r.returncode == 0, r.stdout + r.stderr


def test_good_program_checks():
    r = mypy("--strict", "good.py")
    assert r.returncode == 0, r.stdout + r.stderr


def test_misuses_are_errors():
    r = mypy("bad.py")
    want = {i for i, line in enumerate((HERE / "bad.py").read_text().splitlines(), 1)
            if "# E:" in line}
    got = {int(m.group(1)) for m in re.finditer(r"^bad\.py:(\d+): error", r.stdout, re.M)}
    assert got == want, r.stdout
