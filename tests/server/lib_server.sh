# lib_server.sh — helpers for the server tests: m365sim (from
# lib_scenario.sh), `inboxsync serve` on a free port, users and tokens made
# with the CLI, API calls with curl that record every response for the
# OpenAPI check, an account connected through /oauth/callback, a webhook
# receiver, and waiting for a condition. Everything runs on 127.0.0.1 and
# is stopped by pid.
. "$(dirname "${BASH_SOURCE[0]}")/../scenarios/lib_scenario.sh"
: "${SERVER_NODE_MODULES:?set by ctest (the server/npm_ci fixture)}"
SRV_PID=""
SRV_URL=""
RECV_PID=""
RECV_URL=""
API_LOG="$TEST_TMP/api.log"
SERVER_DIR="$SOURCE_DIR/tests/server"
: >"$API_LOG"
mkdir -p "$TEST_TMP/api"

server_cleanup() {
	for p in "$SRV_PID" "$RECV_PID" ${EXTRA_PIDS:-}; do
		[ -n "$p" ] && kill -9 "$p" 2>/dev/null
	done
	scenario_cleanup
}
trap server_cleanup EXIT

# server_up [serve args]: start serve (private webhooks allowed, 1 s polls
# unless given) and wait for its first line; sets SRV_URL and SRV_PID.
server_up() {
	: >"$TEST_TMP/serve.out"
	"$INBOXSYNC_BIN" serve --listen 127.0.0.1:0 --poll-interval 1 --allow-private-webhooks \
		"$@" >"$TEST_TMP/serve.out" 2>>"$TEST_TMP/serve.err" &
	SRV_PID=$!
	for _ in $(seq 1 200); do
		[ -s "$TEST_TMP/serve.out" ] && break
		kill -0 "$SRV_PID" 2>/dev/null || break
		sleep 0.05
	done
	SRV_URL=$(head -n 1 "$TEST_TMP/serve.out" | sed -n 's/^listening on //p')
	[ -n "$SRV_URL" ] || { cat "$TEST_TMP/serve.err" >&2; echo "serve did not start" >&2; exit 1; }
}

# server_stop: SIGTERM; waits up to 10 s; $RC gets serve's exit status
# (124 when it did not exit in time, then it is killed).
server_stop() {
	local i
	kill -TERM "$SRV_PID" 2>/dev/null
	for i in $(seq 1 100); do
		kill -0 "$SRV_PID" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$SRV_PID" 2>/dev/null; then
		kill -9 "$SRV_PID"; wait "$SRV_PID" 2>/dev/null; RC=124
	else
		wait "$SRV_PID" && RC=0 || RC=$?
	fi
	SRV_PID=""
}

server_kill() {
	kill -9 "$SRV_PID" 2>/dev/null
	wait "$SRV_PID" 2>/dev/null
	SRV_PID=""
}

# make_user NAME [--admin]: a user with a password (NAME-password-1) and
# an API token; prints the token.
make_user() {
	local name=$1
	shift
	printf '%s-password-1\n' "$name" | ibx user add "$name" "$@" --password-stdin >/dev/null
	ibx token create "$name" --label test 2>/dev/null | head -n 1
}

# api TOKEN METHOD PATH [JSON [extra curl args]]: sets STATUS, BODY (and
# HEADERS), records the exchange in $API_LOG. TOKEN "-" sends none.
api() {
	local token=$1 method=$2 path=$3 body=${4:-} ctype
	shift 4 2>/dev/null || shift $#
	local args=(-s -o "$TEST_TMP/body" -D "$TEST_TMP/headers" -w '%{http_code}\t%{content_type}' -X "$method")
	[ "$token" != "-" ] && args+=(-H "Authorization: Bearer $token")
	[ -n "$body" ] && args+=(-H 'Content-Type: application/json' --data-binary "$body")
	IFS=$'\t' read -r STATUS ctype < <(curl "${args[@]}" "$@" "$SRV_URL$path")
	BODY=$(cat "$TEST_TMP/body")
	HEADERS=$(cat "$TEST_TMP/headers")
	record_exchange "$method" "$path" "$STATUS" "$ctype" "$TEST_TMP/body"
}

# record_exchange METHOD PATH STATUS CONTENT_TYPE BODY_FILE: one line
# "METHOD<TAB>PATH<TAB>STATUS<TAB>TYPE<TAB>FILE" with a copy of the body.
record_exchange() {
	local copy
	copy=$(mktemp "$TEST_TMP/api/XXXXXX") # also from subshells: no counter
	cp "$5" "$copy" 2>/dev/null || :
	printf '%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" "$copy" >>"$API_LOG"
}

expect_status() { # expect_status WANT DESCRIPTION
	if [ "$STATUS" = "$1" ]; then pass "$2"; else fail "$2: HTTP $STATUS, want $1: $BODY"; fi
}

# wait_for SECONDS CMD...: until CMD succeeds; returns 1 on timeout.
wait_for() {
	local secs=$1 i
	shift
	for i in $(seq 1 $((secs * 10))); do
		"$@" && return 0
		sleep 0.1
	done
	return 1
}

# connect_account TOKEN NAME EMAIL: create the account over the API,
# authorize it through /oauth/callback (the simulator approves EMAIL),
# fetch its folders; prints the account id.
connect_account() {
	local token=$1 name=$2 email=$3 id url
	api "$token" POST /api/v1/accounts "{\"name\":\"$name\",\"email\":\"$email\"}"
	id=$(echo "$BODY" | jq -r .id)
	sim_admin POST auto-approve "{\"email\":\"$email\"}" >/dev/null
	api "$token" POST "/api/v1/accounts/$id/authorize" '{}'
	url=$(echo "$BODY" | jq -r .authorization_url)
	curl -s -L -o "$TEST_TMP/callback.html" "$url"
	api "$token" POST "/api/v1/accounts/$id/folders/fetch" '{}'
	echo "$id"
}

# all_live TOKEN ID: every selected folder of the account is live.
all_live() {
	api "$1" GET "/api/v1/accounts/$2/folders"
	[ "$(echo "$BODY" | jq '[.folders[] | select(.selected and .sync.phase != "live")] | length')" = 0 ] &&
		[ "$(echo "$BODY" | jq '[.folders[] | select(.selected)] | length')" != 0 ]
}

# feed_all TOKEN [ACCOUNT_ID]: every event of the caller's feed (of one
# account), one JSON line each, on stdout.
feed_all() {
	local since=0 n
	while :; do
		api "$1" GET "/api/v1/changes?limit=1000&since=$since${2:+&account_id=$2}" >&2
		echo "$BODY" | jq -c '.changes[]'
		n=$(echo "$BODY" | jq '.changes | length')
		[ "$n" = 1000 ] || break
		since=$(echo "$BODY" | jq .next_since)
	done
}

# receiver_up: the webhook receiver (receiver.js); sets RECV_URL.
receiver_up() {
	node "$SERVER_DIR/receiver.js" "$TEST_TMP/recv.port" "$TEST_TMP/recv.log" 2>"$TEST_TMP/recv.err" &
	RECV_PID=$!
	: >"$TEST_TMP/recv.log"
	wait_for 10 test -s "$TEST_TMP/recv.port" || { echo "receiver did not start" >&2; exit 1; }
	RECV_URL="http://127.0.0.1:$(cat "$TEST_TMP/recv.port")"
}

# receiver_control JSON: {path, secret?, fail?, failStatus?, slow?, delayMs?}
receiver_control() {
	curl -s -f -X POST --data-binary "$1" "$RECV_URL/_control" >/dev/null
}

# validate_log: every recorded response fits docs/openapi.json.
validate_log() {
	local out
	if out=$(NODE_PATH="$SERVER_NODE_MODULES" node "$SERVER_DIR/api_check.js" validate \
		"$SOURCE_DIR/docs/openapi.json" "$API_LOG" 2>&1); then
		pass "responses fit the OpenAPI document ($out)"
	else
		fail "responses do not fit the OpenAPI document: $out"
	fi
}
