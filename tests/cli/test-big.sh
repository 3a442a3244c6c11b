#!/usr/bin/env bash
# tests/cli/test-big.sh -- the real-world check of issue 12: 512 MiB of
# random bytes through `shmring write | shmring read` come out with the
# file's own SHA-256, timed beside the same bytes through a pipe
# (`cat file | cat`), then both again with a cheap sink (`wc -c`) to time
# the transport alone: three interleaved runs each, the medians reported.
#
# CLI_BIG_MIB (default 512) sets the size; CLI_RESULTS names a file that
# receives the figures as Markdown (scripts/test-cli.sh prints it).
SUITE=big
# shellcheck source=tests/cli/common.sh
. "$(dirname "$0")/common.sh"
MIB=${CLI_BIG_MIB:-512}
FILE="$WORK/big"
RES=${CLI_RESULTS:-$WORK/results.md}

# secs CMD: run CMD under bash, print its wall time in seconds (3 decimals).
secs() {
	local t0=${EPOCHREALTIME/./} t1
	bash -c "$1"
	t1=${EPOCHREALTIME/./}
	printf '%d.%03d' $(((t1 - t0) / 1000000)) $((((t1 - t0) / 1000) % 1000))
}

median3() {
	printf '%s\n' "$@" | sort -n | sed -n 2p
}

t_gen=$(secs "head -c ${MIB}M /dev/urandom >'$FILE'")
check "made ${MIB} MiB of random bytes (${t_gen} s)" test "$(stat -c %s "$FILE")" -eq $((MIB << 20))
want=$(sha256sum <"$FILE" | cut -d' ' -f1)
cat "$FILE" >/dev/null # in the page cache for every run below

R="$T-big"
ring_cmd="'$SHMRING' write --raw '$R' <'$FILE' & '$SHMRING' read --raw '$R'"
pipe_cmd="cat '$FILE' | cat"

# The check itself, three times, interleaved with the pipe: the digest
# through the ring equals the file's, every time.
sha_ring=() sha_pipe=() sha_file=() bad=0
for _ in 1 2 3; do
	sha_ring+=("$(secs "{ $ring_cmd | sha256sum | cut -d' ' -f1 >'$WORK/got'; wait; }")")
	[ "$(cat "$WORK/got")" = "$want" ] || bad=$((bad + 1))
	S stat --json "$R" >"$WORK/stat.json"
	S rm "$R"
	sha_pipe+=("$(secs "$pipe_cmd | sha256sum | cut -d' ' -f1 >'$WORK/got'")")
	[ "$(cat "$WORK/got")" = "$want" ] || bad=$((bad + 1))
	sha_file+=("$(secs "sha256sum '$FILE' >/dev/null")")
done
check "shmring write --raw & shmring read --raw | sha256sum: the file's digest, 3 times out of 3 (and cat | cat's)" \
	test "$bad" -eq 0
jcheck "every byte counted on both sides" "$WORK/stat.json" \
	"j['producer']['counters']['bytes'] == $((MIB << 20)) and j['consumer']['counters']['bytes'] == $((MIB << 20)) and j['used_slots'] == 0 and j['producer']['state'] == 'closed' and j['consumer']['state'] == 'closed'"

# The transport alone, interleaved.
ring=() pipe=() wc_bad=0
for _ in 1 2 3; do
	ring+=("$(secs "{ $ring_cmd | wc -c >'$WORK/n'; wait; }")")
	[ "$(cat "$WORK/n")" -eq $((MIB << 20)) ] || wc_bad=1
	S rm "$R"
	pipe+=("$(secs "$pipe_cmd | wc -c >'$WORK/n'")")
	[ "$(cat "$WORK/n")" -eq $((MIB << 20)) ] || wc_bad=1
done
check "every run moved all ${MIB} MiB" test "$wc_bad" -eq 0
r=$(median3 "${ring[@]}")
p=$(median3 "${pipe[@]}")
sr=$(median3 "${sha_ring[@]}")
sp=$(median3 "${sha_pipe[@]}")
sf=$(median3 "${sha_file[@]}")
mbs() { python3 -c "print('%.0f' % ($MIB * 1.048576 / $1))"; }

{
	echo "${MIB} MiB of random bytes (\`head -c ${MIB}M /dev/urandom > file\`, in the page cache),"
	echo "$(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg) at the start, $(date -u +%Y-%m-%d):"
	echo
	echo "| command | wall time, median of 3 (the 3 runs) | rate |"
	echo "|---|---:|---:|"
	echo "| \`shmring write --raw big < file & shmring read --raw big \| sha256sum\` | ${sr} s (${sha_ring[*]}) | $(mbs "$sr") MB/s |"
	echo "| \`cat file \| cat \| sha256sum\` | ${sp} s (${sha_pipe[*]}) | $(mbs "$sp") MB/s |"
	echo "| \`sha256sum file\` (the digest alone) | ${sf} s (${sha_file[*]}) | $(mbs "$sf") MB/s |"
	echo "| \`shmring write --raw big < file & shmring read --raw big \| wc -c\` | ${r} s (${ring[*]}) | $(mbs "$r") MB/s |"
	echo "| \`cat file \| cat \| wc -c\` | ${p} s (${pipe[*]}) | $(mbs "$p") MB/s |"
} >"$RES"
sed 's/^/# /' "$RES"
finish
