#!/usr/bin/env bash
# scripts/analyze.sh — the static analyzers over src/ and sim/ (make analyze):
#   cppcheck    warning, style, performance, portability checks
#               (suppressions with reasons: scripts/analyze/cppcheck.supp)
#   clang-tidy  bugprone-*, cert-*, clang-analyzer-* (.clang-tidy says what
#               is left out and why)
#   scan-build  the clang static analyzer over a full build of the library,
#               the CLI and the simulator (build-scan/)
# Each uses the compile commands of a normal build (build/), kept to the
# files under src/ and sim/. Any finding fails. ANALYZERS="cppcheck tidy"
# runs a subset. Inline suppressions sit at the line they concern, with
# the reason beside them.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${BUILD:-$root/build}
jobs=${JOBS:-$(nproc 2>/dev/null || echo 2)}
analyzers=${ANALYZERS:-cppcheck tidy scan}
db=$build/analyze
status=0

for tool in cppcheck run-clang-tidy scan-build jq; do
	command -v "$tool" >/dev/null 2>&1 ||
		{ echo "analyze: $tool not found (bash scripts/install-deps.sh)" >&2; exit 1; }
done

# compile commands of src/ and sim/ only (tests and generated files are not
# analyzed)
cmake -S "$root" -B "$build" -DINBOXSYNC_WERROR=ON >/dev/null
cmake --build "$build" -j "$jobs" >/dev/null
mkdir -p "$db"
jq --arg r "$root" '[.[] | select(.file | startswith($r + "/src/") or startswith($r + "/sim/"))]' \
	"$build/compile_commands.json" >"$db/compile_commands.json"
echo "analyze: $(jq length "$db/compile_commands.json") files under src/ and sim/"

run_cppcheck() {
	cppcheck --project="$db/compile_commands.json" --std=c11 -q -j "$jobs" \
		--enable=warning,style,performance,portability \
		--library=posix,gnu,libcurl,sqlite3,gtk \
		--library="$root/scripts/analyze/jansson.cfg" \
		--inline-suppr --suppressions-list="$root/scripts/analyze/cppcheck.supp" \
		--error-exitcode=1 --template='{file}:{line}: {severity}: {message} [{id}]'
}

run_tidy() {
	local log=$db/clang-tidy.log
	# .clang-tidy at the root holds the checks; every finding is an error
	local rc=0

	run-clang-tidy -p "$db" -j "$jobs" -quiet "$root/(src|sim)/" 2>&1 |
		sed 's/\x1b\[[0-9;]*m//g' >"$log" || rc=$?
	if [ "$rc" -eq 0 ] && ! grep -qE '(warning|error):' "$log"; then
		return 0
	fi
	grep -E '(warning|error):' "$log" | sort -u >&2
	return 1
}

run_scan() {
	local out=$root/build-scan
	scan-build cmake -S "$root" -B "$out" -DINBOXSYNC_TESTS=OFF >/dev/null 2>&1
	scan-build -o "$out/report" --status-bugs cmake --build "$out" -j "$jobs" --clean-first \
		>"$out/scan-build.log" 2>&1 && return 0
	grep -E 'warning:|scan-build:' "$out/scan-build.log" >&2
	return 1
}

for a in $analyzers; do
	start=$(date +%s)
	if "run_$a"; then
		echo "analyze: $a clean ($(($(date +%s) - start)) s)"
	else
		echo "analyze: $a FAILED (findings above)" >&2
		status=1
	fi
done
exit $status
