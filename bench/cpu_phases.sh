#!/usr/bin/env bash
# cpu_phases.sh — where the CPU of a bootstrap goes, by phase, counted in
# instructions with valgrind's callgrind (repeatable on a loaded machine,
# unlike time). Prints one JSON line:
#   cpu_phases  instructions per message of `sync --until-complete` of a
#               BENCH_PHASE_MESSAGES (10,000) Inbox, split into
#               http        libcurl receiving the pages (http_perform)
#               json_parse  cJSON building the page tree (graph_arena_parse)
#               mapping     UTF-8 check and tree -> mail messages (the rest
#                           of graph_page_parse)
#               sqlite      the page's statements (sqlite_put_messages
#                           without its events)
#               events      the change feed (flush_created and sq_event)
#               commit      store_commit (WAL write, fence check)
#               other       everything else (process start, store open,
#                           token, folder state, sweep)
# A run under valgrind is ~50x slower, so 10,000 messages rather than
# 100,000 (the split per message is the same; the 100k CPU figure comes
# from perf stat in bench/run.sh). Skipped with a note when valgrind is
# missing. Environment: BUILD_DIR (default build), BENCH_PHASE_MESSAGES.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${BUILD_DIR:-build}
IBX=$(realpath -m "$BUILD_DIR/inboxsync")
SIM=$(realpath -m "$BUILD_DIR/m365sim")
N=${BENCH_PHASE_MESSAGES:-10000}
command -v valgrind >/dev/null && command -v callgrind_annotate >/dev/null ||
	{ echo "cpu_phases: valgrind is missing; skipped" >&2; exit 0; }
TMP=$(mktemp -d /tmp/inboxsync-phases.XXXXXX)
BG_PID=""
# shellcheck source=bench/lib.sh
. bench/lib.sh
trap 'sim_stop; rm -rf "$TMP"' EXIT

sim_start
seed Inbox "$N"
account_template "$TMP/template"
fresh_copy "$TMP/template" "$TMP/run"
say "callgrind: sync of $N messages"
# No pass budget trouble under valgrind: one pass may take longer than the
# engine's 10 s, and a new pass only re-asks the pages it had ahead.
valgrind --tool=callgrind --callgrind-out-file="$TMP/cg.out" \
	"$IBX" --data-dir "$TMP/run" sync "$ACCOUNT" --until-complete >/dev/null 2>"$TMP/vg.err" ||
	{ tail -20 "$TMP/vg.err" >&2; die "the sync under callgrind failed"; }
[ "$(store_count "$TMP/run")" -eq "$N" ] || die "the store does not hold $N messages"
callgrind_annotate --inclusive=yes "$TMP/cg.out" >"$TMP/cg.txt" 2>/dev/null

# incl FUNCTION: inclusive instructions of every function whose name
# matches (static helpers may carry .part/.isra suffixes).
incl() {
	awk -v f="$1" '{ n = $1; gsub(",", "", n); name = $0; sub(/^[^:]*:/, "", name); sub(/ .*/, "", name);
		sub(/\..*/, "", name); if (name == f && n ~ /^[0-9]+$/ && !seen[f]++) print n }' "$TMP/cg.txt" | head -1
}
total=$(awk '/PROGRAM TOTALS/ { n = $1; gsub(",", "", n); print n }' "$TMP/cg.txt")
http=$(incl http_perform); parse=$(incl graph_arena_parse); page=$(incl graph_page_parse)
put=$(incl sqlite_put_messages); flush=$(incl flush_created); ev=$(incl sq_event)
commit=$(incl sqlite_commit)
jq -nc --argjson n "$N" --argjson total "${total:-0}" --argjson http "${http:-0}" \
	--argjson parse "${parse:-0}" --argjson page "${page:-0}" --argjson put "${put:-0}" \
	--argjson flush "${flush:-0}" --argjson ev "${ev:-0}" --argjson commit "${commit:-0}" \
	--argjson cores "$(nproc)" \
	'def per(x): (x / $n | round);
	 {figure:"cpu_phases", messages:$n, measured_with:"callgrind instructions",
	  instructions_per_message:per($total),
	  http:per($http), json_parse:per($parse), mapping:per($page - $parse),
	  sqlite:per($put - $flush - $ev), events:per($flush + $ev), commit:per($commit),
	  other:per($total - $http - $page - $put - $commit), cores:$cores}'
