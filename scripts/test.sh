#!/usr/bin/env bash
# scripts/test.sh -- run every test of shmring, from a clean clone on a fresh
# Debian 12 machine: installs what it needs (apt-get as root, sudo
# otherwise), builds with -Werror, runs each section below and ends with
# one line "N passed, N failed" over every test it ran. Exit 1 on failure.
#
#   scripts/test.sh                  all sections
#   scripts/test.sh linux lint ...   only the sections named
#
# Sections (each prints its own "<section>: N passed, N failed" last line):
#   linux     the Criterion suite (unit, ipc, stress, security, fuzz corpus
#             replay) in a -Werror debugoptimized build
#   lint      clang-format, cppcheck and clang-tidy on the sources, and the
#             rule that ring-logic files include no OS header
#   install   the library used as a meson subproject and through pkg-config
#   sanitize  the suite under ASan+UBSan, the threaded stress under TSan
#   model     SPIN model checks of the wake protocol (tests/model/)
#   fuzz      each libFuzzer harness (open, ops, mpsc) for a short,
#             bounded time
#   windows   mingw-w64 cross build, tests run under Wine
#   python    the CPython binding, installed into a venv, under pytest
#   cli       the shmring command, driven by shell scripts
#   bridge    shmring-bridge over a real nats-server -js: 10^6 verified
#             messages, SIGKILL/restart of each bridge and of the server
set -u
cd "$(dirname "$0")/.." || exit 2
. scripts/lib.sh

all=(linux lint install sanitize model fuzz windows python cli bridge)
sections=("$@")
[ ${#sections[@]} -gt 0 ] || sections=("${all[@]}")

sr_install meson ninja-build pkg-config gcc g++ python3 libcriterion-dev \
	clang-format cppcheck clang-tidy || exit 2

section_linux() {
	rm -rf build-ci
	meson setup build-ci -Dwerror=true -Dtests=enabled >build-ci.log 2>&1 ||
		{ cat build-ci.log; echo "linux: 0 passed, 1 failed"; return 1; }
	rm -f build-ci.log
	ninja -C build-ci >/dev/null ||
		{ ninja -C build-ci; echo "linux: 0 passed, 1 failed"; return 1; }
	meson test -C build-ci --print-errorlogs --num-processes 2
	sr_meson_counts build-ci linux
}

section_lint() {
	local pass=0 fail=0 f
	local srcs=(src/*.c src/*.h include/*.h examples/*.c)
	for f in "${srcs[@]}" tests/*.c tests/*/*.c; do
		[ -f "$f" ] || continue
		if clang-format --dry-run --Werror "$f" 2>/dev/null; then
			pass=$((pass + 1))
		else
			echo "clang-format would change $f"
			fail=$((fail + 1))
		fi
	done
	# The ring logic (every file in src/ but the os_* backends) reaches the
	# OS through os.h alone: no system header beyond the C standard's.
	local ring_logic=() bad
	for f in src/*.c src/*.h; do
		case $f in src/os_*) ;; *) ring_logic+=("$f") ;; esac
	done
	bad=$(grep -HnE '^[[:space:]]*#[[:space:]]*include[[:space:]]*<' "${ring_logic[@]}" |
		grep -vE '<(stdatomic|stddef|stdint|stdlib|string|stdbool|limits)\.h>')
	if [ -z "$bad" ] && ! grep -HnE '^[[:space:]]*#[[:space:]]*if.*(_WIN32|__linux__|_MSC_VER|__APPLE__)' \
		"${ring_logic[@]}"; then
		pass=$((pass + 1))
	else
		echo "ring-logic files must include no OS header and test no OS macro:"
		echo "$bad"; fail=$((fail + 1))
	fi
	local cfiles=(src/segment.c src/attach.c src/wait.c src/data.c src/mpsc.c
		src/inspect.c src/errors.c src/os_linux.c)
	if cppcheck --quiet --error-exitcode=1 --std=c11 --enable=warning,portability \
		--inline-suppr -Iinclude -Isrc "${cfiles[@]}"; then
		pass=$((pass + 1))
	else
		echo "cppcheck found problems in src/"; fail=$((fail + 1))
	fi
	if clang-tidy --quiet -warnings-as-errors='*' \
		-checks='-*,clang-analyzer-*,bugprone-*,-bugprone-easily-swappable-parameters,-bugprone-reserved-identifier,-clang-analyzer-security.insecureAPI.DeprecatedOrUnsafeBufferHandling' \
		"${cfiles[@]}" -- -std=c11 -Iinclude -Isrc \
		>clang-tidy.log 2>&1; then
		pass=$((pass + 1))
	else
		cat clang-tidy.log; echo "clang-tidy found problems in src/"
		fail=$((fail + 1))
	fi
	rm -f clang-tidy.log
	echo "lint: $pass passed, $fail failed"
	[ "$fail" -eq 0 ]
}

# A section in its own script: scripts/test-<name>.sh
section_script() {
	local s="scripts/test-$1.sh"
	if [ ! -f "$s" ]; then
		echo "$1: 0 passed, 1 failed ($s is missing)"
		return 1
	fi
	bash "$s"
}

# shmring-bridge (bridge/, docs/bridge.md): scripts/test-bridge.sh
section_bridge() {
	section_script bridge
}

total_pass=0
total_fail=0
summary=()
for s in "${sections[@]}"; do
	echo "=== $s"
	t0=$(date +%s)
	log=$(mktemp)
	case "$s" in
	linux | lint) "section_$s" 2>&1 | tee "$log" ;;
	install | sanitize | model | fuzz | windows | python | cli)
		section_script "$s" 2>&1 | tee "$log" ;;
	bridge) section_bridge 2>&1 | tee "$log" ;;
	*) echo "$s: 0 passed, 1 failed (no such section)" | tee "$log" ;;
	esac
	rc=${PIPESTATUS[0]}
	line=$(grep -E '^[a-z-]+: [0-9]+ passed, [0-9]+ failed' "$log" | tail -n 1)
	rm -f "$log"
	p=$(sed -E 's/^[^:]+: ([0-9]+) passed.*/\1/' <<<"$line")
	f=$(sed -E 's/^[^:]+: [0-9]+ passed, ([0-9]+) failed.*/\1/' <<<"$line")
	[ -n "$line" ] || { p=0; f=1; line="$s: no count line"; }
	[ "$rc" -ne 0 ] && [ "$f" -eq 0 ] && f=1
	total_pass=$((total_pass + p))
	total_fail=$((total_fail + f))
	summary+=("$line (exit $rc, $(($(date +%s) - t0)) s)")
done

echo "=== summary"
printf '  %s\n' "${summary[@]}"
echo "$total_pass passed, $total_fail failed"
[ "$total_fail" -eq 0 ]
