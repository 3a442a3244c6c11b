#!/usr/bin/env bash
# scripts/test-python.sh -- the Python binding's suite (python/tests, pytest);
# the "python" section of scripts/test.sh.
#
#   scripts/test-python.sh            install python/package with pip into a
#                                     venv (build-py-venv; meson-python, no
#                                     download) and run the suite against it
#   scripts/test-python.sh --asan     build the extension in the shmring tree
#                                     with -Db_sanitize=address,undefined
#                                     (build-py-asan) and run the suite with
#                                     the ASan runtime preloaded into python3
#   scripts/test-python.sh ... ARGS   extra pytest arguments (-k, -x, ...)
#
# Installs what it needs (python3-dev, python3-venv, python3-mesonpy,
# python3-pytest: apt-get as root, sudo otherwise). Prints as its LAST line
# "python: N passed, N failed" ("python-asan: ..." with --asan) and exits
# non-zero on any failure.
set -u
cd "$(dirname "$0")/.." || exit 2
. scripts/lib.sh

asan=0
pytest_args=()
for a in "$@"; do
	case $a in
	--asan) asan=1 ;;
	*) pytest_args+=("$a") ;;
	esac
done
label=python
[ "$asan" -eq 1 ] && label=python-asan
start=$(date +%s)

fail() {
	echo "$*" >&2
	echo "$label: 0 passed, 1 failed"
	exit 1
}

sr_install python3 python3-dev python3-venv python3-mesonpy python3-pytest mypy \
	meson ninja-build gcc || fail "cannot install the packages"
# Debian's interpreter: the packages above are for it (a python3 earlier in
# PATH, e.g. pyenv's, would not see them).
PY=/usr/bin/python3
[ -x "$PY" ] || PY=$(command -v python3)

if [ "$asan" -eq 0 ]; then
	venv=build-py-venv
	if ! "$venv/bin/python" -c 'import pytest' >/dev/null 2>&1; then
		rm -rf "$venv"
		"$PY" -m venv --system-site-packages "$venv" ||
			fail "python3 -m venv failed"
	fi
	# builddir: meson-python reuses it, so a second run rebuilds only what
	# changed
	if ! "$venv/bin/python" -m pip install --no-build-isolation --no-index \
		--no-deps --force-reinstall --quiet \
		--config-settings=builddir="$PWD/build-py-wheel" \
		./python/package >build-py-pip.log 2>&1; then
		tail -40 build-py-pip.log
		fail "pip install of python/package failed (build-py-pip.log)"
	fi
	rm -f build-py-pip.log
	run_py=$PWD/$venv/bin/python
	junit=$PWD/build-py-venv/junit.xml
else
	build=build-py-asan
	if [ ! -f "$build/build.ninja" ]; then
		CC=gcc meson setup "$build" -Db_sanitize=address,undefined \
			-Db_lundef=false -Dpython=enabled -Dtests=disabled \
			-Dbenchmarks=disabled >"$build.setup.log" 2>&1 || {
			tail -30 "$build.setup.log"
			rm -rf "$build"
			fail "meson setup $build failed"
		}
		rm -f "$build.setup.log"
	fi
	ninja -C "$build" >"$build.build.log" 2>&1 || {
		tail -30 "$build.build.log"
		fail "build of $build failed"
	}
	rm -f "$build.build.log"
	libasan=$(gcc -print-file-name=libasan.so)
	[ -f "$libasan" ] || fail "no libasan.so from gcc"
	# The interpreter is not instrumented: ASan's runtime must be loaded
	# first. CPython keeps memory until exit by design: no leak check.
	# PYTHONMALLOC=malloc sends every Python allocation through ASan.
	export LD_PRELOAD=$libasan
	export ASAN_OPTIONS=detect_leaks=0:halt_on_error=1:abort_on_error=1:print_stacktrace=1:strict_string_checks=1
	export UBSAN_OPTIONS=halt_on_error=1:abort_on_error=1:print_stacktrace=1
	export PYTHONMALLOC=malloc
	export SHMRING_TEST_ASAN=1
	export PYTHONPATH=$PWD/$build/python/package
	run_py=$PY
	junit=$PWD/$build/junit.xml
fi

rm -f "$junit"
(cd python/tests && "$run_py" -m pytest -q -p no:cacheprovider -rfE \
	--junitxml="$junit" "${pytest_args[@]}")
rc=$?
unset LD_PRELOAD

"$PY" - "$junit" "$label" "$rc" "$(($(date +%s) - start))" <<'PY'
import sys
import xml.etree.ElementTree as ET
path, label, rc, secs = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
try:
    root = ET.parse(path).getroot()
    suites = [root] if root.tag == "testsuite" else list(root)
    tests = sum(int(s.get("tests", 0)) for s in suites)
    bad = sum(int(s.get("failures", 0)) + int(s.get("errors", 0)) for s in suites)
    skipped = sum(int(s.get("skipped", 0)) for s in suites)
except (OSError, ET.ParseError):
    tests, bad, skipped = 0, 1, 0   # pytest died (an ASan report aborts it)
if rc != 0 and bad == 0:
    bad = 1
print(f"{label}: {secs} s")
print(f"{label}: {tests - bad - skipped} passed, {bad} failed"
      + (f", {skipped} skipped" if skipped else ""))
sys.exit(1 if bad else 0)
PY
