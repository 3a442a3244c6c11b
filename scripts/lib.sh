# shellcheck shell=bash
# scripts/lib.sh -- helpers shared by the scripts in this folder. Source it.

# sr_install PKG...: install the Debian packages that are missing, as root or
# through sudo. Quiet unless something is installed or fails.
sr_install() {
	local missing=() p
	for p in "$@"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' ||
			missing+=("$p")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	local sudo=()
	[ "$(id -u)" -eq 0 ] || sudo=(sudo)
	echo "installing: ${missing[*]}" >&2
	"${sudo[@]}" apt-get update -qq >/dev/null 2>&1 || true
	DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq \
		--no-install-recommends "${missing[@]}" >/dev/null || {
		echo "apt-get install failed: ${missing[*]}" >&2
		return 1
	}
}

# sr_meson_counts BUILDDIR LABEL: read BUILDDIR/meson-logs/testlog.json and
# print "LABEL: N passed, N failed". A Criterion executable counts as the
# tests it ran (its "Synthesis:" line); any other test counts as one. A test
# meson did not judge OK counts at least one failure. Exit 1 on any failure.
sr_meson_counts() {
	python3 - "$1/meson-logs/testlog.json" "$2" <<'PY'
import json, re, sys
path, label = sys.argv[1], sys.argv[2]
passed = failed = skipped = 0
try:
    lines = [l for l in open(path) if l.strip()]
except OSError:
    lines = []
    failed = 1
syn = re.compile(r"Synthesis: Tested: (\d+) \| Passing: (\d+) \| Failing: (\d+) \| Crashing: (\d+)")
tap_ok = re.compile(r"^ok \d+", re.M)
tap_bad = re.compile(r"^not ok \d+", re.M)
for l in lines:
    t = json.loads(l)
    res, out = t.get("result"), (t.get("stdout") or "") + (t.get("stderr") or "")
    m = syn.search(out)
    if res == "SKIP":
        skipped += 1
        continue
    if m:
        p, f = int(m.group(2)), int(m.group(3)) + int(m.group(4))
    elif tap_ok.search(out) or tap_bad.search(out):
        p, f = len(tap_ok.findall(out)), len(tap_bad.findall(out))
    else:
        p, f = (1, 0) if res in ("OK", "EXPECTEDFAIL") else (0, 1)
    if res not in ("OK", "EXPECTEDFAIL") and f == 0:
        f = 1
    passed += p
    failed += f
print(f"{label}: {passed} passed, {failed} failed" + (f", {skipped} skipped" if skipped else ""))
sys.exit(1 if failed else 0)
PY
}
