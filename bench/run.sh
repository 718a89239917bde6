#!/usr/bin/env bash
# run.sh — inboxsync's benchmarks (`make bench`). Prints one JSON line per
# figure on stdout (chatter on stderr); every figure is measured against a
# baseline in the same run, because the machine is shared and noisy:
#   sync_metadata    requests and wall time of `sync --until-complete` on a
#                    fresh data dir (10k and 100k Inbox messages) vs. a plain
#                    curl loop fetching the same delta pages
#   peak_rss         peak RSS of that sync at 10k vs. 100k (flat, <= 32 MB),
#                    and of `account list` as the process floor
#   poll_requests    HTTP requests of one no-change `sync --once` with 5 and
#                    20 live folders vs. one request per folder
#   first_newest_50  time until the 50 newest Inbox messages are in the
#                    store vs. one curl of the first page
# then bench/sim_throughput.sh and bench/server_scale.sh (serve at scale;
# BENCH_SERVER=0 leaves it out). See docs/performance.md.
# Environment: BUILD_DIR (default build), BENCH_SMALL (10000), BENCH_LARGE
# (100000), BENCH_REPS (3), BENCH_KEEP=1 keeps the scratch directory.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${BUILD_DIR:-${BUILD:-build}}
IBX=$(realpath -m "$BUILD_DIR/inboxsync")
SIM=$(realpath -m "$BUILD_DIR/m365sim")
SMALL=${BENCH_SMALL:-10000}
LARGE=${BENCH_LARGE:-100000}
REPS=${BENCH_REPS:-3}
CORES=$(nproc)
if [ ! -x "$IBX" ] || [ ! -x "$SIM" ]; then
	echo "bench: build first (make build, or BUILD_DIR=...)" >&2
	exit 1
fi
for tool in jq curl sqlite3 /usr/bin/time; do
	command -v "$tool" >/dev/null || { echo "bench: $tool is missing (make deps)" >&2; exit 1; }
done
TMP=$(mktemp -d /tmp/inboxsync-bench.XXXXXX)
BG_PID=""
# shellcheck source=bench/lib.sh
. bench/lib.sh

cleanup() {
	if [ -n "$BG_PID" ] && kill -0 "$BG_PID" 2>/dev/null; then
		kill "$BG_PID" 2>/dev/null || true
		wait "$BG_PID" 2>/dev/null || true
	fi
	sim_stop
	if [ "${BENCH_KEEP:-}" = 1 ]; then say "scratch kept in $TMP"; else rm -rf "$TMP"; fi
}
trap cleanup EXIT

# ratio A B: A/B with two decimals.
ratio() { jq -n --argjson a "$1" --argjson b "$2" 'if $b == 0 then null else ($a / $b * 100 | round) / 100 end'; }
json_array() { jq -nc '$ARGS.positional | map(tonumber)' --args "$@"; }

# ---- (a) and (b): sync N messages metadata-only -----------------------------

# figure_sync N: seeds N messages into the Inbox of a fresh simulator and
# runs REPS alternating pairs (curl round, inboxsync on a fresh data dir).
# Leaves the simulator running and the last synced data dir in $TMP/synced.
figure_sync() {
	local n=$1 token url rep got
	local ms=() floor=() wire=() simreq=() pages=() rss=0
	sim_start
	seed Inbox "$n"
	say "$n messages seeded in the Inbox of $SIM_URL"
	account_template "$TMP/template"
	token=$(curl_token)
	url=$(delta_url "$token")
	for rep in $(seq 1 "$REPS"); do
		if [ $((rep % 2)) -eq 1 ]; then curl_floor "$token" "$url"; fi
		fresh_copy "$TMP/template" "$TMP/synced"
		timed_sync "$TMP/synced" sync "$ACCOUNT" --until-complete
		got=$(store_count "$TMP/synced")
		[ "$got" -eq "$n" ] || die "the store holds $got messages, not $n"
		if [ $((rep % 2)) -eq 0 ]; then curl_floor "$token" "$url"; fi
		say "$n: inboxsync ${SYNC_MS} ms, $SYNC_WIRE requests, ${SYNC_RSS_KB} KB; curl ${FLOOR_MS} ms, $FLOOR_PAGES requests"
		ms+=("$SYNC_MS"); wire+=("$SYNC_WIRE"); simreq+=("$SYNC_SIM")
		floor+=("$FLOOR_MS"); pages+=("$FLOOR_PAGES")
		[ "$SYNC_RSS_KB" -gt "$rss" ] && rss=$SYNC_RSS_KB
	done
	local m_ms m_floor m_wire m_sim m_pages
	m_ms=$(echo "${ms[*]}" | median); m_floor=$(echo "${floor[*]}" | median)
	m_wire=$(echo "${wire[*]}" | median); m_sim=$(echo "${simreq[*]}" | median)
	m_pages=$(echo "${pages[*]}" | median)
	jq -nc --argjson n "$n" --argjson reps "$REPS" --argjson cores "$CORES" \
		--argjson req "$m_wire" --argjson simreq "$m_sim" --argjson creq "$m_pages" \
		--argjson rr "$(ratio "$m_wire" "$m_pages")" --argjson ms "$m_ms" \
		--argjson cms "$m_floor" --argjson tr "$(ratio "$m_ms" "$m_floor")" \
		--argjson rss "$rss" --argjson runs "$(json_array "${ms[@]}")" \
		--argjson cruns "$(json_array "${floor[@]}")" \
		'{figure:"sync_metadata", messages:$n, requests:$req, sim_requests:$simreq,
		  curl_requests:$creq, requests_ratio:$rr, wall_ms:$ms, curl_ms:$cms,
		  time_ratio:$tr, peak_rss_kb:$rss, wall_ms_runs:$runs, curl_ms_runs:$cruns,
		  reps:$reps, cores:$cores}'
	LAST_RSS_KB=$rss
}

# ---- (c): requests per no-change poll ---------------------------------------

# figure_poll FOLDERS: one `sync --once` of the complete account in
# $TMP/synced (every selected folder live, nothing changed).
figure_poll() {
	local want=$1 live
	timed_sync "$TMP/synced" sync "$ACCOUNT" --once
	live=$(ibx "$TMP/synced" --json folders list "$ACCOUNT" |
		jq '[.[] | select(.selected and .sync.phase == "live")] | length')
	[ "$live" -eq "$want" ] || die "$live live folders after the poll, expected $want"
	say "poll of $want folders: $SYNC_WIRE requests on the wire, $SYNC_SIM counted by the simulator, ${SYNC_MS} ms"
	jq -nc --argjson f "$want" --argjson req "$SYNC_WIRE" --argjson simreq "$SYNC_SIM" \
		--argjson ms "$SYNC_MS" --argjson r "$(ratio "$SYNC_WIRE" "$want")" --argjson cores "$CORES" \
		'{figure:"poll_requests", folders:$f, requests:$req, sim_requests:$simreq,
		  batch_subrequests:($simreq - $req), naive_requests:$f, ratio_to_naive:$r,
		  wall_ms:$ms, cores:$cores}'
}

# select_and_complete FOLDER...: select, give each some mail, sync to live.
select_and_complete() {
	local f
	for f in "$@"; do seed "$f" 100; done
	ibx "$TMP/synced" folders select "$ACCOUNT" "$@" >/dev/null
	ibx "$TMP/synced" sync "$ACCOUNT" --until-complete >/dev/null 2>"$TMP/complete.err" ||
		{ cat "$TMP/complete.err" >&2; die "sync of the added folders failed"; }
}

figures_poll() {
	local names=() i
	select_and_complete "Sent Items" Archive Drafts "Deleted Items"
	figure_poll 5
	for i in $(seq -w 1 15); do
		admin POST "mailboxes/$EMAIL/folders" "{\"displayName\":\"Bench $i\"}" >/dev/null
		names+=("Bench $i")
	done
	ibx "$TMP/synced" folders fetch "$ACCOUNT" >/dev/null
	select_and_complete "${names[@]}"
	figure_poll 20
}

# ---- (d): time to the first 50 newest messages ------------------------------

# first50_once DATA: ms from starting `sync --until-complete` until the
# store holds 50 Inbox messages (the sync is then stopped).
first50_once() {
	local d=$1 t0 n=0
	t0=$(now_ms)
	"$IBX" --data-dir "$d" sync "$ACCOUNT" --until-complete >/dev/null 2>"$d/first50.err" &
	BG_PID=$!
	while [ "$n" -lt 50 ]; do
		kill -0 "$BG_PID" 2>/dev/null || break
		sleep 0.005
		n=$(store_count "$d")
	done
	FIRST_MS=$(($(now_ms) - t0))
	kill "$BG_PID" 2>/dev/null || true
	wait "$BG_PID" 2>/dev/null || true
	BG_PID=""
	[ "$n" -ge 50 ] || { cat "$d/first50.err" >&2; die "the sync ended before 50 messages were stored"; }
}

figure_first50() {
	local token url rep t0 ms=() cms=()
	token=$(curl_token)
	url=$(delta_url "$token")
	for rep in $(seq 1 "$REPS"); do
		fresh_copy "$TMP/template" "$TMP/first50"
		first50_once "$TMP/first50"
		t0=$(now_ms)
		curl_get "$token" "$FIRST_PAGE" "$url" "$TMP/page.json"
		cms+=("$(($(now_ms) - t0))")
		ms+=("$FIRST_MS")
		say "first 50 of $LARGE: inboxsync ${FIRST_MS} ms; one curl of the first page ${cms[-1]} ms"
	done
	local m cm
	m=$(echo "${ms[*]}" | median); cm=$(echo "${cms[*]}" | median)
	jq -nc --argjson n "$LARGE" --argjson ms "$m" --argjson cms "$cm" \
		--argjson r "$(ratio "$m" "$cm")" --argjson runs "$(json_array "${ms[@]}")" \
		--argjson cruns "$(json_array "${cms[@]}")" --argjson reps "$REPS" --argjson cores "$CORES" \
		'{figure:"first_newest_50", messages:$n, ms:$ms, curl_first_page_ms:$cms, ratio:$r,
		  ms_runs:$runs, curl_ms_runs:$cruns, reps:$reps, cores:$cores}'
}

# ---- the run -----------------------------------------------------------------

say "inboxsync $IBX, m365sim $SIM, $CORES cores, $REPS repetitions"
figure_sync "$SMALL"
RSS_SMALL=$LAST_RSS_KB
figures_poll
sim_stop

figure_sync "$LARGE"
RSS_LARGE=$LAST_RSS_KB
# The floor: the same binary opening the store and listing accounts.
/usr/bin/time -v -o "$TMP/idle.txt" "$IBX" --data-dir "$TMP/template" account list >/dev/null
RSS_IDLE=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$TMP/idle.txt")
jq -nc --argjson s "$SMALL" --argjson l "$LARGE" --argjson rs "$RSS_SMALL" --argjson rl "$RSS_LARGE" \
	--argjson ri "$RSS_IDLE" --argjson r "$(ratio "$RSS_LARGE" "$RSS_SMALL")" --argjson cores "$CORES" \
	'{figure:"peak_rss", messages_small:$s, messages_large:$l, rss_kb_small:$rs,
	  rss_kb_large:$rl, ratio:$r, rss_kb_idle:$ri, target_kb:32768,
	  within_target:($rl <= 32768), cores:$cores}'
rm -rf "$TMP/synced"
figure_first50
sim_stop

if [ -f bench/sim_throughput.sh ]; then
	say "bench/sim_throughput.sh"
	BUILD_DIR=$BUILD_DIR bash bench/sim_throughput.sh
fi
if [ -f bench/server_scale.sh ] && [ "${BENCH_SERVER:-1}" = 1 ]; then
	say "bench/server_scale.sh (BENCH_SERVER=0 leaves it out)"
	BUILD_DIR=$BUILD_DIR bash bench/server_scale.sh
fi
