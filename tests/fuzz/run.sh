#!/usr/bin/env bash
# tests/fuzz/run.sh — build every libFuzzer target (tests/fuzz/fuzz_*.c)
# with clang in build-fuzz/ and run them one after another from their seeds
# in tests/fuzz/corpus/<name>/ (new inputs go to build-fuzz/corpus/<name>/,
# never into the repository). Fails on any crash, leak, sanitizer report,
# timeout or broken invariant; without clang it says so and succeeds.
#
#   FUZZ_SECONDS=N   run each target for N seconds (default 12; make test)
#   FUZZ_RUNS=N      run each target for N executions instead (make fuzz-long)
#   FUZZ_TARGETS="fuzz_a fuzz_b"   only these
#
# Prints one line per target: executions, edges covered (cov), features
# (ft) and corpus size, from libFuzzer's -print_final_stats; the same as
# tab-separated values in build-fuzz/fuzz-stats.tsv.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
build=${FUZZ_BUILD_DIR:-$root/build-fuzz}
seconds=${FUZZ_SECONDS:-12}
runs=${FUZZ_RUNS:-}

if ! command -v clang >/dev/null 2>&1; then
	echo "fuzz: clang not found; skipping the libFuzzer targets (apt-get install clang)"
	exit 0
fi

if [ -n "${FUZZ_TARGETS:-}" ]; then
	read -r -a targets <<<"$FUZZ_TARGETS"
else
	targets=()
	for src in "$root"/tests/fuzz/fuzz_*.c; do
		targets+=("$(basename "$src" .c)")
	done
fi

CC=clang cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Debug -DINBOXSYNC_WERROR=ON \
	-DINBOXSYNC_FUZZ=ON -DINBOXSYNC_TESTS=OFF >/dev/null
cmake --build "$build" -j "$(nproc 2>/dev/null || echo 2)" --target fuzzers >/dev/null

if [ -n "$runs" ]; then
	limit=(-runs="$runs")
	what="$runs runs"
else
	limit=(-max_total_time="$seconds")
	what="${seconds}s"
fi
stat() { grep -o "stat::$1: *[0-9]*" "$2" | grep -o '[0-9]*$' || echo "?"; }
# Longest input: Graph answers need room for a page of messages; for the
# others 4 KiB is far more than their grammar needs (and keeps them fast).
max_len() {
	case "$1" in
	fuzz_graph_page | fuzz_graph_batch | fuzz_graph_answers) echo 8192 ;;
	*) echo 4096 ;;
	esac
}

stats=$build/fuzz-stats.tsv
printf 'target\texecutions\tseconds\tcov\tft\tcorpus\n' >"$stats"
status=0
for t in "${targets[@]}"; do
	work="$build/corpus/$t"          # new inputs land here, not in the repo
	artifacts="$build/artifacts/$t"
	mkdir -p "$work" "$artifacts"
	log="$build/$t.log"
	start=$(date +%s)
	if ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	   UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	   "$build/tests/fuzz/$t" "$work" "$root/tests/fuzz/corpus/$t" \
		"${limit[@]}" -timeout=10 -rss_limit_mb=2048 \
		-max_len="$(max_len "$t")" -print_final_stats=1 \
		-artifact_prefix="$artifacts/" >"$log" 2>&1; then
		n=$(stat number_of_executed_units "$log")
		cov=$(grep -o 'cov: [0-9]*' "$log" | tail -n1 | grep -o '[0-9]*' || echo "?")
		ft=$(grep -o 'ft: [0-9]*' "$log" | tail -n1 | grep -o '[0-9]*' || echo "?")
		corpus=$(find "$work" -type f | wc -l)
		printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$t" "$n" "$(($(date +%s) - start))" \
			"$cov" "$ft" "$corpus" >>"$stats"
		echo "fuzz: $t ok ($n runs in $(($(date +%s) - start)) s; cov $cov, ft $ft, corpus $corpus)"
	else
		echo "fuzz: $t FAILED ($what) — log: $log, crashing input in $artifacts/" >&2
		tail -n 40 "$log" >&2
		status=1
	fi
done
exit $status
