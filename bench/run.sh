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
#   sync_latency     4 folders x 25,000 behind 150 and 400 ms of latency vs.
#                    the reference client (bench/sim_throughput.c), newest
#                    50 of every folder in round trips, requests in flight
#   bodies_prefetch  sync --prefetch 200 ($batch) vs. single GETs
#   cpu_per_message  CPU (perf stat task-clock) of the 100k bootstrap
#   peak_rss_huge    peak RSS of a 1,000,000-message sync (BENCH_HUGE=0
#                    skips it: about 2-4 minutes)
# then bench/cpu_phases.sh (instructions per message by phase, callgrind)
# then bench/pg_sync.sh (the PostgreSQL store against SQLite) and
# bench/pg_fleet.sh (accounts per node with three nodes on one PostgreSQL),
# bench/sim_throughput.sh and bench/server_scale.sh (serve at scale;
# BENCH_SERVER=0 leaves it out) and bench/imap_mirror.sh (the IMAP transport
# against mbsync and raw IMAP floors; BENCH_IMAP=0 skips it) if they exist.
# See docs/performance.md.
# Environment: BUILD_DIR (default build), BENCH_SMALL (10000), BENCH_LARGE
# (100000), BENCH_REPS (3), BENCH_KEEP=1 keeps the scratch directory,
# BENCH_LATENCIES ("150 400"), BENCH_LAT_MESSAGES (25000 per folder),
# BENCH_LAT_REPS (BENCH_REPS), BENCH_BODIES (200), BENCH_HUGE (1000000; 0 =
# skip).
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${BUILD_DIR:-${BUILD:-build}}
IBX=$(realpath -m "$BUILD_DIR/inboxsync")
SIM=$(realpath -m "$BUILD_DIR/m365sim")
SMALL=${BENCH_SMALL:-10000}
LARGE=${BENCH_LARGE:-100000}
REPS=${BENCH_REPS:-3}
LATENCIES=${BENCH_LATENCIES:-150 400}
LAT_MESSAGES=${BENCH_LAT_MESSAGES:-25000}
LAT_REPS=${BENCH_LAT_REPS:-$REPS}
BODIES=${BENCH_BODIES:-200}
HUGE=${BENCH_HUGE:-1000000}
PERF=$(command -v perf || true)
if [ -n "$PERF" ] && ! "$PERF" stat -e task-clock true >/dev/null 2>&1; then PERF=""; fi
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

# ---- (e): several folders under Microsoft's latency ---------------------------

LAT_FOLDERS=(inbox archive sentitems deleteditems)
LAT_NAMES=(Inbox Archive "Sent Items" "Deleted Items")

# all_have_50 DATA: whether every selected folder holds 50 messages.
all_have_50() {
	local n
	n=$(sqlite3 "$1/inboxsync.db" "SELECT count(*) FROM (SELECT folder_id FROM messages GROUP BY folder_id HAVING count(*) >= 50)" 2>/dev/null || echo 0)
	[ "${n:-0}" -ge "${#LAT_FOLDERS[@]}" ]
}

# latency_sync DATA: `sync --until-complete` in the background, timing the
# moment every folder shows its newest 50 (FIRST_MS) and the end
# (SYNC_MS); peak in-flight requests at the simulator (SYNC_INFLIGHT).
latency_sync() {
	local d=$1 t0 first=""
	admin POST counters/reset >/dev/null
	t0=$(now_ms)
	/usr/bin/time -v -o "$d/time.txt" "$IBX" --data-dir "$d" sync "$ACCOUNT" --until-complete \
		>"$d/sync.out" 2>"$d/sync.err" &
	BG_PID=$!
	while kill -0 "$BG_PID" 2>/dev/null; do
		if [ -z "$first" ] && all_have_50 "$d"; then first=$(($(now_ms) - t0)); fi
		[ -n "$first" ] && break
		sleep 0.01
	done
	wait "$BG_PID" || { cat "$d/sync.err" >&2; die "the sync under latency failed"; }
	BG_PID=""
	SYNC_MS=$(($(now_ms) - t0))
	[ -n "$first" ] || first=$SYNC_MS
	FIRST_MS=$first
	SYNC_RSS_KB=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$d/time.txt")
	SYNC_INFLIGHT=$(sim_inflight_max)
	SYNC_SIM=$(sim_requests)
}

# figure_latency MS: 4 folders x LAT_MESSAGES behind MS of latency; the
# engine against the reference client (bench/sim_throughput.c: each
# folder's round a chain, folders side by side, 4 requests in flight).
figure_latency() {
	local lat=$1 token ids=() rep got i line
	local ms=() floor=() firsts=() ffirsts=() inflight=0 finflight=0 rss=0 reqs=()
	sim_start --latency-ms "$lat"
	for i in "${!LAT_NAMES[@]}"; do seed "${LAT_NAMES[$i]}" "$LAT_MESSAGES"; done
	account_template "$TMP/lat_template"
	ibx "$TMP/lat_template" folders select "$ACCOUNT" "${LAT_NAMES[@]}" >/dev/null
	token=$(curl_token)
	for i in "${LAT_FOLDERS[@]}"; do ids+=("$(folder_id "$token" "$i")"); done
	for rep in $(seq 1 "$LAT_REPS"); do
		admin POST counters/reset >/dev/null
		line=$("$FLOOR" "$SIM_URL" "$token" "$FIRST_PAGE,$PAGE" "$SELECT" floor "${ids[@]}")
		floor+=("$(jq .wall_ms <<<"$line")"); ffirsts+=("$(jq .first_pages_ms <<<"$line")")
		got=$(sim_inflight_max); [ "$got" -gt "$finflight" ] && finflight=$got
		fresh_copy "$TMP/lat_template" "$TMP/lat"
		latency_sync "$TMP/lat"
		got=$(store_count "$TMP/lat")
		[ "$got" -eq $((LAT_MESSAGES * ${#LAT_FOLDERS[@]})) ] || die "the store holds $got messages"
		ms+=("$SYNC_MS"); firsts+=("$FIRST_MS"); reqs+=("$SYNC_SIM")
		[ "$SYNC_INFLIGHT" -gt "$inflight" ] && inflight=$SYNC_INFLIGHT
		[ "$SYNC_RSS_KB" -gt "$rss" ] && rss=$SYNC_RSS_KB
		say "latency $lat ms: inboxsync ${SYNC_MS} ms (newest 50 of every folder at ${FIRST_MS} ms, $SYNC_INFLIGHT in flight at most); reference ${floor[-1]} ms"
	done
	sim_stop
	local m f fm ff
	m=$(echo "${ms[*]}" | median); f=$(echo "${floor[*]}" | median)
	fm=$(echo "${firsts[*]}" | median); ff=$(echo "${ffirsts[*]}" | median)
	jq -nc --argjson lat "$lat" --argjson n "$LAT_MESSAGES" --argjson folders "${#LAT_FOLDERS[@]}" \
		--argjson ms "$m" --argjson f "$f" --argjson r "$(ratio "$m" "$f")" \
		--argjson fm "$fm" --argjson ff "$ff" --argjson rtt "$(ratio "$fm" "$lat")" \
		--argjson inflight "$inflight" --argjson finflight "$finflight" --argjson rss "$rss" \
		--argjson sreq "$(echo "${reqs[*]}" | median)" \
		--argjson runs "$(json_array "${ms[@]}")" --argjson fruns "$(json_array "${floor[@]}")" \
		--argjson reps "$LAT_REPS" --argjson cores "$CORES" \
		'{figure:"sync_latency", latency_ms:$lat, folders:$folders, messages_per_folder:$n,
		  wall_ms:$ms, floor_ms:$f, time_ratio:$r, target_ratio:1.1, within_target:($r <= 1.1),
		  newest_50_all_folders_ms:$fm, floor_first_pages_ms:$ff, newest_50_round_trips:$rtt,
		  sim_requests:$sreq, max_inflight:$inflight, floor_max_inflight:$finflight,
		  peak_rss_kb:$rss, wall_ms_runs:$runs, floor_ms_runs:$fruns, reps:$reps, cores:$cores}'
}

# ---- (f): bodies of the newest messages -------------------------------------

# figure_bodies MS: `sync --once --prefetch N` of a live Inbox behind MS of
# latency ($batch, 20 bodies per request) against single GETs of the same
# bodies with curl, one after another (what the engine did before).
figure_bodies() {
	local lat=$1 token n=$BODIES ms seq t0 got urls
	sim_start --latency-ms "$lat"
	seed Inbox 2000
	account_template "$TMP/body_template"
	ibx "$TMP/body_template" sync "$ACCOUNT" --until-complete >/dev/null 2>&1 ||
		die "the sync before the bodies failed"
	token=$(curl_token)
	sqlite3 "$TMP/body_template/inboxsync.db" \
		"SELECT remote_id FROM messages ORDER BY received_at DESC, id DESC LIMIT $n" >"$TMP/body_ids"
	urls="$TMP/body_urls"
	while IFS= read -r id; do
		printf '%s/v1.0/me/messages/%s?$select=body\n' "$SIM_URL" "$(uri "$id")"
	done <"$TMP/body_ids" >"$urls"
	fresh_copy "$TMP/body_template" "$TMP/bodies"
	admin POST counters/reset >/dev/null
	t0=$(now_ms)
	ibx "$TMP/bodies" sync "$ACCOUNT" --once --prefetch "$n" >/dev/null 2>"$TMP/bodies.err" ||
		{ cat "$TMP/bodies.err" >&2; die "sync --prefetch failed"; }
	ms=$(($(now_ms) - t0))
	local inflight batches
	inflight=$(sim_inflight_max)
	batches=$(admin GET counters | jq '[.requests["POST /v1.0/$batch"] // {} | .[]] | add // 0')
	got=$(sqlite3 "$TMP/bodies/inboxsync.db" "SELECT count(*) FROM messages WHERE body IS NOT NULL")
	[ "$got" -eq "$n" ] || die "$got bodies stored, not $n"
	t0=$(now_ms)
	while IFS= read -r u; do curl_get "$token" 0 "$u" /dev/null; done <"$urls"
	seq=$(($(now_ms) - t0))

	sim_stop
	say "bodies behind $lat ms: inboxsync ${ms} ms for $n ($batches batches); single GETs ${seq} ms"
	jq -nc --argjson lat "$lat" --argjson n "$n" --argjson ms "$ms" --argjson seq "$seq" \
		--argjson b "$batches" --argjson inflight "$inflight" \
		--argjson cores "$CORES" \
		'{figure:"bodies_prefetch", latency_ms:$lat, bodies:$n, batch_requests:$b,
		  wall_ms:$ms, messages_per_s:($n * 1000 / $ms | round),
		  single_gets_ms:$seq, single_gets_messages_per_s:($n * 1000 / $seq | round),
		  ratio_to_single_gets:(($n * 1000 / $ms) / ($n * 1000 / $seq) * 100 | round / 100),
		  max_inflight:$inflight, cores:$cores}'
}

# ---- (g): CPU per message and memory up to a million ------------------------

# cpu_sync DATA: a fresh `sync --until-complete` under perf stat (task-clock:
# CPU of every thread, user and system) and /usr/bin/time; sets CPU_MS,
# SYNC_MS, SYNC_RSS_KB.
cpu_sync() {
	local d=$1 t0
	t0=$(now_ms)
	if [ -n "$PERF" ]; then
		"$PERF" stat -x, -e task-clock -o "$d/perf.txt" \
			/usr/bin/time -v -o "$d/time.txt" "$IBX" --data-dir "$d" sync "$ACCOUNT" --until-complete \
			>"$d/sync.out" 2>"$d/sync.err" || { cat "$d/sync.err" >&2; die "sync failed"; }
		CPU_MS=$(awk -F, '/task-clock/ {printf "%d", $1}' "$d/perf.txt")
	else
		/usr/bin/time -v -o "$d/time.txt" "$IBX" --data-dir "$d" sync "$ACCOUNT" --until-complete \
			>"$d/sync.out" 2>"$d/sync.err" || { cat "$d/sync.err" >&2; die "sync failed"; }
		CPU_MS=$(awk -F': ' '/User time|System time/ {s += $2} END {printf "%d", s * 1000}' "$d/time.txt")
	fi
	SYNC_MS=$(($(now_ms) - t0))
	SYNC_RSS_KB=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$d/time.txt")
}

# figure_cpu N: CPU per message of the N-message bootstrap (perf stat
# task-clock, median of REPS) on the running simulator's template.
figure_cpu() {
	local n=$1 cpus=() walls=() rep
	for rep in $(seq 1 "$REPS"); do
		fresh_copy "$TMP/template" "$TMP/cpu"
		cpu_sync "$TMP/cpu"
		cpus+=("$CPU_MS"); walls+=("$SYNC_MS")
		say "$n: ${CPU_MS} ms of CPU, ${SYNC_MS} ms"
	done
	local m
	m=$(echo "${cpus[*]}" | median)
	jq -nc --argjson n "$n" --argjson cpu "$m" --argjson runs "$(json_array "${cpus[@]}")" \
		--argjson wruns "$(json_array "${walls[@]}")" --arg how "${PERF:+perf stat task-clock}" \
		--argjson reps "$REPS" --argjson cores "$CORES" \
		'{figure:"cpu_per_message", messages:$n, cpu_ms:$cpu,
		  cpu_us_per_message:($cpu * 1000 / $n * 10 | round / 10), target_us:20,
		  within_target:(($cpu * 1000 / $n) <= 20), cpu_ms_runs:$runs, wall_ms_runs:$wruns,
		  measured_with:(if $how == "" then "/usr/bin/time user+sys" else $how end),
		  reps:$reps, cores:$cores}'
}

# figure_huge N: peak RSS of a sync of N messages (one run), against the
# 10k and 100k figures of this run.
figure_huge() {
	local n=$1
	sim_start
	seed Inbox "$n"
	say "$n messages seeded"
	account_template "$TMP/template"
	fresh_copy "$TMP/template" "$TMP/huge"
	cpu_sync "$TMP/huge"
	[ "$(store_count "$TMP/huge")" -eq "$n" ] || die "the store does not hold $n messages"
	sim_stop
	say "$n: ${SYNC_RSS_KB} KB peak, ${CPU_MS} ms of CPU, ${SYNC_MS} ms"
	jq -nc --argjson n "$n" --argjson s "$SMALL" --argjson l "$LARGE" --argjson rs "$RSS_SMALL" \
		--argjson rl "$RSS_LARGE" --argjson rh "$SYNC_RSS_KB" --argjson cpu "$CPU_MS" \
		--argjson ms "$SYNC_MS" --argjson cores "$CORES" \
		'{figure:"peak_rss_huge", messages:$n, rss_kb:$rh, rss_kb_small:$rs, messages_small:$s,
		  rss_kb_large:$rl, messages_large:$l, ratio_to_small:(($rh / $rs) * 100 | round / 100),
		  target_kb:32768, within_target:($rh <= 32768), cpu_ms:$cpu,
		  cpu_us_per_message:($cpu * 1000 / $n * 10 | round / 10), wall_ms:$ms, cores:$cores}'
}

# ---- the run -----------------------------------------------------------------

say "inboxsync $IBX, m365sim $SIM, $CORES cores, $REPS repetitions"
FLOOR="$TMP/floor"
# shellcheck disable=SC2046
cc -O2 -o "$FLOOR" bench/sim_throughput.c $(pkg-config --cflags --libs libcurl jansson) -lpthread
for lat in $LATENCIES; do figure_latency "$lat"; done
figure_bodies 150
[ -n "${BENCH_ONLY_LATENCY:-}" ] && exit 0
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
figure_cpu "$LARGE"
sim_stop
[ "$HUGE" -gt 0 ] && figure_huge "$HUGE"
BUILD_DIR=$BUILD_DIR bash bench/cpu_phases.sh

# The PostgreSQL store against the SQLite store (needs the PostgreSQL
# server binaries: make deps installs postgresql-15).
if [ -f bench/pg_sync.sh ] && [ -x "$(pg_config --bindir 2>/dev/null)/postgres" ]; then
	say "bench/pg_sync.sh"
	BUILD_DIR=$BUILD_DIR BENCH_LARGE=$LARGE BENCH_REPS=$REPS bash bench/pg_sync.sh
	if [ -f bench/pg_fleet.sh ]; then
		say "bench/pg_fleet.sh"
		BUILD_DIR=$BUILD_DIR bash bench/pg_fleet.sh
	fi
fi

if [ -f bench/sim_throughput.sh ]; then
	say "bench/sim_throughput.sh"
	BUILD_DIR=$BUILD_DIR bash bench/sim_throughput.sh
fi
if [ "${BENCH_IMAP:-1}" != 0 ] && [ -f bench/imap_mirror.sh ]; then
	say "bench/imap_mirror.sh"
	BUILD_DIR=$BUILD_DIR bash bench/imap_mirror.sh
fi
if [ -f bench/server_scale.sh ] && [ "${BENCH_SERVER:-1}" = 1 ]; then
	say "bench/server_scale.sh (BENCH_SERVER=0 leaves it out)"
	BUILD_DIR=$BUILD_DIR bash bench/server_scale.sh
fi
