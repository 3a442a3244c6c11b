#!/usr/bin/env bash
# scripts/test-fuzz.sh -- what CI calls: every libFuzzer harness (fuzz_open,
# fuzz_ops, fuzz_mpsc) for a short, bounded time (FUZZ_SECONDS, default 30 s
# each) through scripts/fuzz.sh.
# The corpus itself is replayed by `meson test --suite fuzz-corpus`.
# LAST line: "fuzz: N passed, N failed"; non-zero exit on any failure.
cd "$(dirname "$0")/.." || exit 1
exec bash scripts/fuzz.sh "${FUZZ_SECONDS:-30}"
