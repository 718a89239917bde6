# lib.sh — helpers for the benchmark scripts (sourced, not run): start and stop
# m365sim by pid, admin calls, a fresh inboxsync data dir authorized through
# the simulator's auto-approve switch, the plain-curl baseline (token and
# delta-page loop), and request counting (see "Counting requests" in
# docs/performance.md). Chatter goes to stderr; stdout is for JSON figures.
# shellcheck shell=bash disable=SC2034  # results go back in globals

EMAIL=adele@contoso.com
ACCOUNT=bench
# What the engine asks for: src/graph/graph_driver.c (graph_message_select),
# src/graph/graph_delta.c (graph_delta_start_url) and the page sizes of
# include/inboxsync/engine.h (ENGINE_FIRST_PAGE, ENGINE_PAGE_SIZE).
SELECT='id,changeKey,conversationId,internetMessageId,subject,from,toRecipients,ccRecipients,receivedDateTime,sentDateTime,isRead,isDraft,flag,hasAttachments,parentFolderId,bodyPreview,categories'
FIRST_PAGE=50
PAGE=500
SIM_PID=""
SIM_URL=""

say() { printf 'bench: %s\n' "$*" >&2; }
die() { say "FAILED: $*"; exit 1; }
now_ms() { date +%s%3N; }
uri() { jq -rn --arg s "$1" '$s|@uri'; }
median() { tr ' ' '\n' | sort -n | awk '{v[NR]=$1} END {print (NR%2) ? v[(NR+1)/2] : int((v[NR/2]+v[NR/2+1])/2)}'; }
# ratio A B: A / B to two decimals (null when B is 0)
ratio() { jq -n --argjson a "$1" --argjson b "$2" 'if $b == 0 then null else ($a / $b * 100 | round) / 100 end'; }

# sim_start [ARGS...]: a fresh simulator on a free loopback port (empty
# mailbox); ARGS go to m365sim (e.g. --latency-ms 150).
sim_start() {
	"$SIM" --listen 127.0.0.1:0 --quiet --auto-approve "$EMAIL" "$@" \
		>"$TMP/sim.json" 2>"$TMP/sim.log" &
	SIM_PID=$!
	for _ in $(seq 1 200); do
		[ -s "$TMP/sim.json" ] && break
		kill -0 "$SIM_PID" 2>/dev/null || break
		sleep 0.05
	done
	SIM_URL=$(jq -r .url "$TMP/sim.json" 2>/dev/null || true)
	if [ -z "$SIM_URL" ] || [ "$SIM_URL" = null ]; then
		cat "$TMP/sim.log" >&2
		die "m365sim did not start"
	fi
	SIM_CLIENT_ID=$(jq -r .client_id "$TMP/sim.json")
	SIM_SECRET=$(jq -r .client_secret "$TMP/sim.json")
	printf '%s\n' "$SIM_SECRET" >"$TMP/secret"
}

sim_stop() {
	if [ -n "$SIM_PID" ] && kill -0 "$SIM_PID" 2>/dev/null; then
		kill "$SIM_PID" 2>/dev/null || true
		for _ in $(seq 1 50); do kill -0 "$SIM_PID" 2>/dev/null || break; sleep 0.1; done
		kill -9 "$SIM_PID" 2>/dev/null || true
		wait "$SIM_PID" 2>/dev/null || true
	fi
	SIM_PID=""
}

# admin METHOD PATH [JSON]: a /_sim call; body on stdout; fails on >= 400.
admin() {
	if [ -n "${3:-}" ]; then
		curl -sS -f -X "$1" -H 'Content-Type: application/json' --data "$3" "$SIM_URL/_sim/$2"
	else
		curl -sS -f -X "$1" "$SIM_URL/_sim/$2"
	fi
}

seed() { admin POST "mailboxes/$EMAIL/seed" "$(jq -nc --arg f "$1" --argjson n "$2" '{folder:$f, count:$n}')" >/dev/null; }

# sim_requests: HTTP requests the simulator counted since the last reset on
# every surface but /_sim (Graph and identity). $batch sub-requests are
# counted again under their own routes (sim/graph_batch.c), so this is
# "requests on the wire + sub-requests".
sim_requests() {
	admin GET counters | jq '[.requests | to_entries[] | select(.key | test("^[A-Z]+ /_sim/") | not) | .value[]] | add // 0'
}

# ibx DATA ARGS...: inboxsync on the data dir DATA; when DATA/database
# holds a URL (bench/pg_sync.sh), its store is that PostgreSQL database.
ibx() {
	local d=$1
	shift
	[ -f "$d/database" ] && set -- --database "$(cat "$d/database")" "$@"
	"$IBX" --data-dir "$d" "$@"
}

# log_http DATA: HTTP transfers inboxsync has logged so far; with -v the
# client logs one "debug http:" line per request it puts on the wire
# (src/common/http.c, transfer_end), token requests included.
log_http() {
	local n
	n=$(grep -c ' debug http: ' "$1/inboxsync.log" 2>/dev/null || true)
	echo "${n:-0}"
}

# account_template DATA: provider, account, authorization, folders fetched,
# only the Inbox selected (in the store DATA/database names, if any).
# Copies of DATA are fresh data dirs.
account_template() {
	local d=$1 url pid db=""
	[ -f "$d/database" ] && db=$(cat "$d/database")
	rm -rf "$d"
	mkdir -p -m 700 "$d"
	[ -z "$db" ] || echo "$db" >"$d/database"
	ibx "$d" provider set microsoft --client-id "$SIM_CLIENT_ID" --client-secret-file "$TMP/secret" \
		--login-url "$SIM_URL" --graph-url "$SIM_URL/v1.0" >/dev/null
	ibx "$d" account add "$ACCOUNT" --email "$EMAIL" >/dev/null
	: >"$TMP/auth.out"
	ibx "$d" account authorize "$ACCOUNT" --print-url --timeout 60 >"$TMP/auth.out" 2>"$TMP/auth.err" &
	pid=$!
	for _ in $(seq 1 200); do [ -s "$TMP/auth.out" ] && break; sleep 0.05; done
	url=$(head -n 1 "$TMP/auth.out")
	curl -sS -L -o /dev/null "$url" || true
	wait "$pid" || { cat "$TMP/auth.err" >&2; die "authorize failed"; }
	ibx "$d" folders fetch "$ACCOUNT" >/dev/null
	ibx "$d" folders unselect "$ACCOUNT" "Sent Items" >/dev/null
}

# fresh_copy TEMPLATE DEST
fresh_copy() { rm -rf "$2"; cp -a "$1" "$2"; }

# store_count DATA: messages in the local store (the Inbox is the only
# selected folder in these runs).
store_count() { sqlite3 "$1/inboxsync.db" "SELECT count(*) FROM messages" 2>/dev/null || echo 0; }

# curl_token: an access token for adele by the authorization-code flow, the
# way a script would get one (auto-approved sign-in, code for token).
curl_token() {
	local loc code
	loc=$(curl -sS -o /dev/null -w '%{redirect_url}' \
		"$SIM_URL/common/oauth2/v2.0/authorize?client_id=$SIM_CLIENT_ID&response_type=code&redirect_uri=$(uri http://localhost/callback)&scope=$(uri 'offline_access https://graph.microsoft.com/Mail.Read')")
	code=$(sed -n 's/.*[?&]code=\([^&]*\).*/\1/p' <<<"$loc")
	[ -n "$code" ] || die "no authorization code from the simulator ($loc)"
	curl -sS -f "$SIM_URL/common/oauth2/v2.0/token" --data-urlencode grant_type=authorization_code \
		--data-urlencode "code=$code" --data-urlencode "client_id=$SIM_CLIENT_ID" \
		--data-urlencode "client_secret=$SIM_SECRET" \
		--data-urlencode redirect_uri=http://localhost/callback | jq -r .access_token
}

# delta_url TOKEN: the first delta URL of the Inbox, as the engine builds it.
delta_url() {
	local id
	id=$(curl -sS -f -H "Authorization: Bearer $1" "$SIM_URL/v1.0/me/mailFolders/inbox?\$select=id" | jq -r .id)
	# shellcheck disable=SC2016  # $select and $orderby are OData, not shell
	printf '%s/v1.0/me/mailFolders/%s/messages/delta?$select=%s&$orderby=%s\n' \
		"$SIM_URL" "$(uri "$id")" "$(uri "$SELECT")" "$(uri 'receivedDateTime desc')"
}

# sim_inflight_max: the most mailbox requests the simulator had in flight
# at once since the last counter reset (a $batch counting as its items
# running at once; sim/README.md, Latency).
sim_inflight_max() { admin GET counters | jq '.inflight.max'; }

# folder_id TOKEN WELLKNOWN: a folder's id.
folder_id() {
	curl -sS -f -H "Authorization: Bearer $1" "$SIM_URL/v1.0/me/mailFolders/$2?\$select=id" | jq -r .id
}

# curl_get TOKEN PAGESIZE URL OUT: one page with the engine's headers.
curl_get() {
	curl -sS -f -o "$4" -H "Authorization: Bearer $1" -H 'Prefer: IdType="ImmutableId"' \
		-H "Prefer: odata.maxpagesize=$2" -H 'Accept: application/json' "$3"
}

# curl_floor TOKEN URL: the whole round (first page 50, then 500, following
# @odata.nextLink until the deltaLink). Sets FLOOR_MS and FLOOR_PAGES.
curl_floor() {
	local tok=$1 url=$2 size=$FIRST_PAGE next t0
	FLOOR_PAGES=0
	t0=$(now_ms)
	while :; do
		curl_get "$tok" "$size" "$url" "$TMP/page.json"
		FLOOR_PAGES=$((FLOOR_PAGES + 1))
		size=$PAGE
		# Graph puts the links before "value"; reading the head is enough.
		next=$(head -c 8192 "$TMP/page.json" | grep -o '"@odata.nextLink":"[^"]*"' | cut -d'"' -f4 || true)
		[ -n "$next" ] || break
		url=$next
	done
	FLOOR_MS=$(($(now_ms) - t0))
	grep -q '"@odata.deltaLink"' "$TMP/page.json" || die "the curl round ended without a deltaLink"
}

# timed_sync DATA ARGS...: `inboxsync -v ARGS` under /usr/bin/time -v with
# the simulator's counters reset first. Sets SYNC_MS, SYNC_RSS_KB,
# SYNC_WIRE (HTTP requests on the wire) and SYNC_SIM (simulator's count).
timed_sync() {
	local d=$1 before t0
	shift
	admin POST counters/reset >/dev/null
	before=$(log_http "$d")
	t0=$(now_ms)
	[ -f "$d/database" ] && set -- --database "$(cat "$d/database")" "$@"
	/usr/bin/time -v -o "$d/time.txt" "$IBX" --data-dir "$d" -v "$@" >"$d/sync.out" 2>"$d/sync.err" ||
		{ cat "$d/sync.err" >&2; die "inboxsync $* failed"; }
	SYNC_MS=$(($(now_ms) - t0))
	SYNC_RSS_KB=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$d/time.txt")
	SYNC_WIRE=$(($(log_http "$d") - before))
	SYNC_SIM=$(sim_requests)
}
