#!/usr/bin/env bash
# server_scale.sh — `inboxsync serve` at scale against m365sim (run by
# bench/run.sh, or alone). One JSON line per figure on stdout, each with a
# baseline measured in the same run:
#   serve_warmup       N accounts (BENCH_ACCOUNTS, 1000) from authorized
#                      to every selected folder live, vs. 10 accounts
#   serve_idle_rss     RSS per idle account at N accounts, vs. the same
#                      server with no account
#   serve_poll_cpu     CPU of one poll round of the N idle accounts, vs.
#                      the server with no account over the same time
#   api_messages_wrk   wrk on GET .../messages (a page of 50) with
#                      BENCH_API_MESSAGES (1,000,000) stored, vs. wrk on
#                      /healthz in the same run; also the page 90% down
#                      the list (by its cursor)
# Environment: BUILD_DIR (build), BENCH_ACCOUNTS (1000),
# BENCH_ACCOUNT_MESSAGES (20), BENCH_API_MESSAGES (1000000),
# BENCH_POLL_S (10), BENCH_KEEP=1 keeps the scratch directory.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=bench/lib.sh
. bench/lib.sh  # say, die, now_ms, ratio
BUILD_DIR=${BUILD_DIR:-build}
IBX=$(realpath -m "$BUILD_DIR/inboxsync")
SIMBIN=$(realpath -m "$BUILD_DIR/m365sim")
N=${BENCH_ACCOUNTS:-1000}
PER=${BENCH_ACCOUNT_MESSAGES:-20}
API_MESSAGES=${BENCH_API_MESSAGES:-1000000}
POLL=${BENCH_POLL_S:-10}
for tool in jq curl sqlite3 wrk; do
	command -v "$tool" >/dev/null || { echo "bench: $tool is missing (make deps)" >&2; exit 1; }
done
TMP=$(mktemp -d /tmp/inboxsync-serverbench.XXXXXX)
SIM_PID=""
SRV_PID=""

cleanup() {
	for p in $SRV_PID $SIM_PID; do kill -9 "$p" 2>/dev/null || true; done
	if [ "${BENCH_KEEP:-}" = 1 ]; then say "scratch kept in $TMP"; else rm -rf "$TMP"; fi
}
trap cleanup EXIT

# sim_up [args]: a fresh simulator; SIM_URL.
sim_up() {
	"$SIMBIN" --listen 127.0.0.1:0 --quiet "$@" >"$TMP/sim.json" 2>"$TMP/sim.log" &
	SIM_PID=$!
	for _ in $(seq 1 600); do [ -s "$TMP/sim.json" ] && break; sleep 0.05; done
	SIM_URL=$(jq -r .url "$TMP/sim.json")
	[ -n "$SIM_URL" ] && [ "$SIM_URL" != null ] || die "m365sim did not start"
	jq -r .client_secret "$TMP/sim.json" >"$TMP/secret"
}
sim_down() { kill "$SIM_PID" 2>/dev/null || true; wait "$SIM_PID" 2>/dev/null || true; SIM_PID=""; }
admin() { curl -sS -f -X "$1" -H 'Content-Type: application/json' ${3:+--data "$3"} "$SIM_URL/_sim/$2"; }

# fresh_home NAME: a data dir with the provider for the simulator and a
# user with a token ($TOKEN).
fresh_home() {
	export INBOXSYNC_HOME="$TMP/$1"
	mkdir -p -m 700 "$INBOXSYNC_HOME"
	"$IBX" provider set microsoft --client-id "$(jq -r .client_id "$TMP/sim.json")" \
		--client-secret-file "$TMP/secret" --login-url "$SIM_URL" --graph-url "$SIM_URL/v1.0" >/dev/null
	printf 'bench-password-1\n' | "$IBX" user add bench --password-stdin >/dev/null
	TOKEN=$("$IBX" token create bench 2>/dev/null | head -n 1)
}

# serve_up [args]: SRV_URL, SRV_PID.
serve_up() {
	: >"$TMP/serve.out"
	"$IBX" serve --listen 127.0.0.1:0 "$@" >"$TMP/serve.out" 2>>"$TMP/serve.err" &
	SRV_PID=$!
	for _ in $(seq 1 200); do [ -s "$TMP/serve.out" ] && break; sleep 0.05; done
	SRV_URL=$(sed -n 's/^listening on //p' "$TMP/serve.out")
	[ -n "$SRV_URL" ] || die "serve did not start"
}
serve_down() { kill -TERM "$SRV_PID" 2>/dev/null || true; wait "$SRV_PID" 2>/dev/null || true; SRV_PID=""; }
rss_kb() { awk '/^VmRSS/ {print $2}' "/proc/$1/status"; }
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

# Many requests in one curl (--parallel), from a config of blocks separated
# by "next" lines (a trailing one is dropped).
parallel_curl() {
	sed -i '$ { /^next$/d }' "$1"
	curl -s --no-progress-meter --parallel --parallel-max 8 -K "$1" >/dev/null
}

# make_mailboxes FIRST LAST: sim users u<i>@contoso.com with PER messages.
make_mailboxes() {
	local cfg="$TMP/users.cfg"
	: >"$cfg"
	for i in $(seq "$1" "$2"); do
		printf 'url = "%s/_sim/users"\nheader = "Content-Type: application/json"\ndata = "{\\"email\\":\\"u%d@contoso.com\\"}"\nnext\n' "$SIM_URL" "$i" >>"$cfg"
	done
	parallel_curl "$cfg"
	: >"$cfg"
	for i in $(seq "$1" "$2"); do
		printf 'url = "%s/_sim/mailboxes/u%d@contoso.com/seed"\nheader = "Content-Type: application/json"\ndata = "{\\"count\\":%d,\\"folder\\":\\"inbox\\"}"\nnext\n' "$SIM_URL" "$i" "$PER" >>"$cfg"
	done
	parallel_curl "$cfg"
}

# connect FIRST LAST: accounts a<i> for u<i>, authorized through
# /oauth/callback (one at a time: the simulator approves one address).
connect() {
	local i id url
	for i in $(seq "$1" "$2"); do
		id=$(curl -s -H "Authorization: Bearer $TOKEN" -d "{\"name\":\"a$i\",\"email\":\"u$i@contoso.com\"}" \
			"$SRV_URL/api/v1/accounts" | jq -r .id)
		admin POST auto-approve "{\"email\":\"u$i@contoso.com\"}" >/dev/null
		url=$(curl -s -H "Authorization: Bearer $TOKEN" -X POST "$SRV_URL/api/v1/accounts/$id/authorize" |
			jq -r .authorization_url)
		curl -s -L -o /dev/null "$url"
	done
}

not_live() {
	sqlite3 "$INBOXSYNC_HOME/inboxsync.db" "SELECT count(*) FROM folders WHERE selected = 1 AND phase <> 'live'"
}

# warmup COUNT: folders fetched for every account at once (each asks for a
# sync), then the time until every selected folder is live; prints ms.
warmup() {
	local cfg="$TMP/fetch.cfg" t0 ids
	ids=$(curl -s -H "Authorization: Bearer $TOKEN" "$SRV_URL/api/v1/accounts" | jq -r '.accounts[].id')
	: >"$cfg"
	for id in $ids; do
		printf 'url = "%s/api/v1/accounts/%s/folders/fetch"\nheader = "Authorization: Bearer %s"\nrequest = "POST"\nnext\n' \
			"$SRV_URL" "$id" "$TOKEN" >>"$cfg"
	done
	t0=$(now_ms)
	parallel_curl "$cfg"
	while [ "$(not_live)" != 0 ] || [ "$(sqlite3 "$INBOXSYNC_HOME/inboxsync.db" "SELECT count(*) FROM folders WHERE selected = 1")" -lt "$(( $1 * 2 ))" ]; do
		sleep 0.2
		[ $(( $(now_ms) - t0 )) -lt 900000 ] || die "accounts not live after 15 minutes"
	done
	echo $(( $(now_ms) - t0 ))
}

# ---- warm-up, idle RSS, poll CPU --------------------------------------------
say "m365sim with $N + 10 mailboxes of $PER messages"
sim_up
make_mailboxes 1 $(( N + 10 ))

say "baseline: 10 accounts"
fresh_home base
serve_up --workers 8 --poll-interval 3600
connect $(( N + 1 )) $(( N + 10 ))
base_ms=$(warmup 10)
serve_down

say "$N accounts (authorizing them takes a while)"
fresh_home many
serve_up --workers 8 --poll-interval 3600
connect 1 "$N"
many_ms=$(warmup "$N")
serve_down
per_base=$(jq -n --argjson t "$base_ms" '$t / 10')
per_many=$(jq -n --argjson t "$many_ms" --argjson n "$N" '$t / $n')
jq -nc --argjson n "$N" --argjson ms "$many_ms" --argjson base "$base_ms" \
	--argjson r "$(ratio "$per_many" "$per_base")" \
	'{figure:"serve_warmup", accounts:$n, messages_per_account:'"$PER"', ms:$ms, baseline_accounts:10,
	  baseline_ms:$base, per_account_ratio:$r, goal_ms:60000, within_goal:($ms <= 60000)}'

say "idle: RSS and CPU of a poll round ($POLL s) with $N accounts vs none"
export INBOXSYNC_HOME="$TMP/many"
sqlite3 "$INBOXSYNC_HOME/inboxsync.db" "UPDATE accounts SET next_due_at = 0"
# idle_window: a server on $INBOXSYNC_HOME polling every $POLL s; after a
# first round, "RSS_KB CPU_TICKS_OVER_3_ROUNDS RSS_KB_AFTER".
idle_window() {
	local r0 c0 c1
	serve_up --workers 8 --poll-interval "$POLL"
	sleep $(( POLL + 5 ))
	r0=$(rss_kb "$SRV_PID")
	c0=$(cpu_ticks "$SRV_PID")
	sleep $(( POLL * 3 ))
	c1=$(cpu_ticks "$SRV_PID")
	echo "$r0 $(( c1 - c0 )) $(rss_kb "$SRV_PID")"
	serve_down
}
read -r rss_many many_ticks rss_after < <(idle_window)
fresh_home empty
read -r rss_none none_ticks _ < <(idle_window)
hz=$(getconf CLK_TCK)
jq -nc --argjson n "$N" --argjson many "$rss_many" --argjson after "$rss_after" --argjson none "$rss_none" \
	'{figure:"serve_idle_rss", accounts:$n, rss_kb:$many, rss_kb_after_rounds:$after, rss_kb_no_accounts:$none,
	  kb_per_account:((($after - $none) / $n * 10 | round) / 10), goal_kb_per_account:16,
	  within_goal:((($after - $none) / $n) <= 16)}'
jq -nc --argjson n "$N" --argjson c "$many_ticks" --argjson e "$none_ticks" --argjson hz "$hz" --argjson p "$POLL" \
	'{figure:"serve_poll_cpu", accounts:$n, poll_interval_s:$p, rounds:3,
	  cpu_s_per_round:(($c / $hz / 3 * 1000 | round) / 1000), idle_server_cpu_s_per_round:(($e / $hz / 3 * 1000 | round) / 1000),
	  cpu_s_per_round_at_10000:((($c - $e) / $hz / 3 * 10000 / $n * 100 | round) / 100),
	  goal:"under 60 CPU seconds per round at 10,000 accounts (one core at a 60 s interval)",
	  within_goal:((($c - $e) / $hz / 3 * 10000 / $n) < 60)}'
sim_down

# ---- the API at 1M stored messages ---------------------------------------------
say "m365sim with $API_MESSAGES messages; syncing them into the store"
sim_up --messages "$API_MESSAGES"
fresh_home api
"$IBX" account add big --owner bench --email adele@contoso.com >/dev/null
admin POST auto-approve '{"email":"adele@contoso.com"}' >/dev/null
"$IBX" account authorize big --print-url >"$TMP/auth.out" 2>/dev/null &
AUTH=$!
for _ in $(seq 1 200); do [ -s "$TMP/auth.out" ] && break; sleep 0.05; done
curl -s -L -o /dev/null "$(head -n 1 "$TMP/auth.out")" || true
wait "$AUTH"
"$IBX" folders fetch big >/dev/null
"$IBX" folders select big Archive Inbox/Projects >/dev/null
"$IBX" sync big --until-complete >/dev/null
stored=$(sqlite3 "$INBOXSYNC_HOME/inboxsync.db" "SELECT count(*) FROM messages")
serve_up --poll-interval 3600
ID=$("$IBX" --json account show big | jq -r .id)
PAGE="$SRV_URL/api/v1/accounts/$ID/messages?limit=50"
curl -s -f -H "Authorization: Bearer $TOKEN" "$PAGE" | jq -e '.messages | length == 50' >/dev/null || die "no page"
run_wrk() { # URL [auth] -> "req_per_s p99_ms"
	wrk -t2 -c16 -d10s --latency ${2:+-H "Authorization: Bearer $2"} "$1" >"$TMP/wrk.txt" 2>&1
	awk '/Requests\/sec/ {r=$2} /^ +99%/ {v=$2; u=v; sub(/[0-9.]+/, "", u); sub(/[a-z]+$/, "", v);
		if (u=="us") v/=1000; else if (u=="s") v*=1000; p=v} END {print r, p}' "$TMP/wrk.txt"
}
# A page 90% of the way down the list: its cursor is the message before it.
DEEP=$(sqlite3 "$INBOXSYNC_HOME/inboxsync.db" "SELECT m.received_at || '.' || m.id FROM messages m
	JOIN folders f ON f.id = m.folder_id WHERE f.selected = 1 AND m.orphan = 0
	ORDER BY m.received_at DESC, m.id DESC LIMIT 1 OFFSET $(( stored * 9 / 10 ))")
curl -s -f -H "Authorization: Bearer $TOKEN" "$PAGE&cursor=$DEEP" | jq -e '.messages | length == 50' >/dev/null ||
	die "no deep page"
read -r h_rps h_p99 < <(run_wrk "$SRV_URL/healthz")
read -r m_rps m_p99 < <(run_wrk "$PAGE" "$TOKEN")
read -r d_rps d_p99 < <(run_wrk "$PAGE&cursor=$DEEP" "$TOKEN")
serve_down
jq -nc --argjson stored "$stored" --argjson mr "$m_rps" --argjson mp "$m_p99" --argjson hr "$h_rps" --argjson hp "$h_p99" \
	--argjson dr "$d_rps" --argjson dp "$d_p99" \
	'{figure:"api_messages_wrk", stored_messages:$stored, page:50, connections:16, threads:2,
	  req_per_s:$mr, p99_ms:$mp, healthz_req_per_s:$hr, healthz_p99_ms:$hp,
	  rps_ratio_to_healthz:(($mr / $hr * 100 | round) / 100),
	  deep_page_req_per_s:$dr, deep_page_p99_ms:$dp,
	  goal:"p99 <= 5 ms and >= 10,000 req/s", within_goal:($mp <= 5 and $mr >= 10000)}'
sim_down
