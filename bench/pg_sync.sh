#!/usr/bin/env bash
# pg_sync.sh — the PostgreSQL store against the SQLite store in the same
# run (called by bench/run.sh; runs alone too). Prints JSON lines:
#   pg_sync         wall time of `sync --until-complete` of BENCH_LARGE
#                   Inbox messages on a fresh store, PostgreSQL vs SQLite
#                   (alternating runs, medians; goal ratio <= 1.5)
#                   and the CPU both spend (the client's, plus for
#                   PostgreSQL its server processes'), steadier than wall
#                   time on a loaded machine
#   pg_round_trips  PostgreSQL round trips per delta page: of each page's
#                   transaction (the engine's commit of messages + cursor;
#                   goal <= 2) and of the whole sync (everything the sync
#                   asks the store, divided by the pages)
# The server is a private PostgreSQL 15 with its durable defaults (fsync,
# synchronous commit), like the SQLite store's synchronous=FULL, on the
# same machine: tests/pg/pg_server.sh, stopped by pid at the end.
# Environment: BUILD_DIR (build), BENCH_LARGE (100000), BENCH_REPS (3),
# BENCH_KEEP=1 keeps the scratch directory.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${BUILD_DIR:-${BUILD:-build}}
IBX=$(realpath -m "$BUILD_DIR/inboxsync")
SIM=$(realpath -m "$BUILD_DIR/m365sim")
LARGE=${BENCH_LARGE:-100000}
REPS=${BENCH_REPS:-3}
CORES=$(nproc)
for tool in jq curl psql /usr/bin/time; do
	command -v "$tool" >/dev/null || { echo "bench: $tool is missing (make deps)" >&2; exit 1; }
done
TMP=$(mktemp -d /tmp/inboxsync-bench-pg.XXXXXX)
PGDIR=$(mktemp -d /tmp/inboxsync-bench-pgdata.XXXXXX)
# shellcheck source=bench/lib.sh
. bench/lib.sh

cleanup() {
	sim_stop
	bash tests/pg/pg_server.sh stop "$PGDIR" || true
	rm -rf "$PGDIR"
	if [ "${BENCH_KEEP:-}" = 1 ]; then say "scratch kept in $TMP"; else rm -rf "$TMP"; fi
}
trap cleanup EXIT

json_array() { jq -nc '$ARGS.positional | map(tonumber)' --args "$@"; }

PG_DURABLE=1 bash tests/pg/pg_server.sh start "$PGDIR"
PG=$(cat "$PGDIR/url")
pg_sql() { psql -qAt -v ON_ERROR_STOP=1 "$PG/$1" -c "$2"; }
TICK=$(getconf CLK_TCK)
# server_cpu_ms: CPU of the server's finished backends so far (the
# postmaster's reaped children), in ms.
server_cpu_ms() { awk -v t="$TICK" '{sub(/^.*\) /, ""); print int(($14 + $15) * 1000 / t)}' "/proc/$(cat "$PGDIR/pid")/stat"; }
# client_cpu_ms DATA: user + system CPU of the last timed_sync in DATA.
client_cpu_ms() { awk -F': ' '/User time|System time/ {s += $2} END {print int(s * 1000)}' "$1/time.txt"; }

sim_start
seed Inbox "$LARGE"
say "$LARGE messages seeded in the Inbox of $SIM_URL; PostgreSQL on port $(cat "$PGDIR/port")"

# The same account set-up on each store: a SQLite data dir, and a data dir
# (its key) with the PostgreSQL database bench_template.
account_template "$TMP/sqlite"
pg_sql postgres "CREATE DATABASE bench_template"
mkdir -p "$TMP/pg"
echo "$PG/bench_template" >"$TMP/pg/database"
"$IBX" --data-dir "$TMP/pg" --database "$PG/bench_template" migrate >/dev/null
account_template "$TMP/pg"
token=$(curl_token)
curl_floor "$token" "$(delta_url "$token")"
PAGES=$FLOOR_PAGES

# fresh_pg N: a copy of the PostgreSQL template (database and data dir).
fresh_pg() {
	fresh_copy "$TMP/pg" "$TMP/pg_run"
	pg_sql postgres "DROP DATABASE IF EXISTS bench_run"
	pg_sql postgres "CREATE DATABASE bench_run TEMPLATE bench_template"
	echo "$PG/bench_run" >"$TMP/pg_run/database"
}

sq_ms=() pg_ms=() tx_med=() tx_max=() all_rt=() sq_cpu=() pg_cpu=() srv_cpu=()
for rep in $(seq 1 "$REPS"); do
	fresh_copy "$TMP/sqlite" "$TMP/sq_run"
	timed_sync "$TMP/sq_run" sync "$ACCOUNT" --until-complete
	got=$(store_count "$TMP/sq_run")
	[ "$got" -eq "$LARGE" ] || die "the SQLite store holds $got messages, not $LARGE"
	sq_ms+=("$SYNC_MS")
	sq_cpu+=("$(client_cpu_ms "$TMP/sq_run")")
	fresh_pg
	cpu0=$(server_cpu_ms)
	lines0=$(wc -l <"$TMP/pg_run/inboxsync.log")
	timed_sync "$TMP/pg_run" sync "$ACCOUNT" --until-complete
	sleep 0.5 # the backends exit and are reaped
	srv_cpu+=("$(($(server_cpu_ms) - cpu0))")
	pg_cpu+=("$(client_cpu_ms "$TMP/pg_run")")
	got=$(pg_sql bench_run "SELECT count(*) FROM messages")
	[ "$got" -eq "$LARGE" ] || die "the PostgreSQL store holds $got messages, not $LARGE"
	pg_ms+=("$SYNC_MS")
	# Round trips: each committed transaction's, and every connection's
	# total at its close (the store's debug lines this sync added to the
	# log; the template's set-up wrote the lines before).
	log=$(tail -n +"$((lines0 + 1))" "$TMP/pg_run/inboxsync.log")
	tx_med+=("$(grep -o 'transaction committed in [0-9]*' <<<"$log" | awk '{print $4}' | median)")
	tx_max+=("$(grep -o 'transaction committed in [0-9]*' <<<"$log" | awk '{print $4}' | sort -n | tail -1)")
	all_rt+=("$(grep -o ': [0-9]* round trips, [0-9]* statements' <<<"$log" | awk '{s += $2} END {print s + 0}')")
	say "$LARGE: SQLite ${sq_ms[-1]} ms (CPU ${sq_cpu[-1]} ms), PostgreSQL ${pg_ms[-1]} ms (CPU ${pg_cpu[-1]} + server ${srv_cpu[-1]} ms); ${all_rt[-1]} round trips for $PAGES pages"
done
m_sq=$(echo "${sq_ms[*]}" | median)
m_pg=$(echo "${pg_ms[*]}" | median)
m_all=$(echo "${all_rt[*]}" | median)
m_sqc=$(echo "${sq_cpu[*]}" | median)
m_pgc=$(echo "${pg_cpu[*]}" | median)
m_srv=$(echo "${srv_cpu[*]}" | median)
jq -nc --argjson n "$LARGE" --argjson sq "$m_sq" --argjson pg "$m_pg" \
	--argjson r "$(ratio "$m_pg" "$m_sq")" --argjson sqr "$(json_array "${sq_ms[@]}")" \
	--argjson pgr "$(json_array "${pg_ms[@]}")" --argjson reps "$REPS" --argjson cores "$CORES" \
	--argjson sqc "$m_sqc" --argjson pgc "$m_pgc" --argjson srv "$m_srv" \
	--argjson cr "$(ratio "$((m_pgc + m_srv))" "$m_sqc")" \
	'{figure:"pg_sync", messages:$n, sqlite_ms:$sq, postgresql_ms:$pg, ratio:$r,
	  target_ratio:1.5, meets_target:($r <= 1.5), sqlite_cpu_ms:$sqc,
	  postgresql_client_cpu_ms:$pgc, postgresql_server_cpu_ms:$srv, cpu_ratio:$cr,
	  sqlite_ms_runs:$sqr, postgresql_ms_runs:$pgr, reps:$reps, cores:$cores}'
jq -nc --argjson n "$LARGE" --argjson pages "$PAGES" \
	--argjson med "$(echo "${tx_med[*]}" | median)" --argjson max "$(echo "${tx_max[*]}" | median)" \
	--argjson all "$m_all" --argjson per "$(ratio "$m_all" "$PAGES")" \
	'{figure:"pg_round_trips", messages:$n, delta_pages:$pages,
	  per_page_transaction:$med, max_transaction:$max, target_per_page:2,
	  meets_target:($med <= 2), sync_round_trips:$all, sync_round_trips_per_page:$per}'
