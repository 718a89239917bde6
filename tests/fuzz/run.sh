#!/usr/bin/env bash
# tests/fuzz/run.sh — build every libFuzzer target with clang in build-fuzz/
# and run each for a short while from its seeds in tests/fuzz/corpus/<name>/.
# Fails on any crash, leak, sanitizer report or timeout; without clang it
# says so and succeeds. FUZZ_SECONDS (default 20) sets the time per target.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
build=${FUZZ_BUILD_DIR:-$root/build-fuzz}
seconds=${FUZZ_SECONDS:-20}
targets=(fuzz_json fuzz_retry_after fuzz_rfc3339 fuzz_redact fuzz_html_text fuzz_mime_parts)

if ! command -v clang >/dev/null 2>&1; then
	echo "fuzz: clang not found; skipping the libFuzzer targets (apt-get install clang)"
	exit 0
fi

CC=clang cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Debug \
	-DINBOXSYNC_FUZZ=ON -DINBOXSYNC_TESTS=OFF >/dev/null
cmake --build "$build" -j "$(nproc 2>/dev/null || echo 2)" --target fuzzers >/dev/null

status=0
for t in "${targets[@]}"; do
	work="$build/corpus/$t"          # new inputs land here, not in the repo
	artifacts="$build/artifacts/$t"
	mkdir -p "$work" "$artifacts"
	log="$build/$t.log"
	if ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	   UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	   "$build/tests/fuzz/$t" "$work" "$root/tests/fuzz/corpus/$t" \
		-max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
		-max_len=4096 -print_final_stats=1 \
		-artifact_prefix="$artifacts/" >"$log" 2>&1; then
		runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo "?")
		echo "fuzz: $t ok ($runs runs in ${seconds}s)"
	else
		echo "fuzz: $t FAILED — log: $log, crashing input in $artifacts/" >&2
		tail -n 40 "$log" >&2
		status=1
	fi
done
exit $status
