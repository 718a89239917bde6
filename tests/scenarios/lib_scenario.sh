# lib_scenario.sh — helpers for scenario tests that drive the inboxsync CLI
# against a real m365sim over HTTP: start/stop the simulator (by pid), admin
# calls, configuring the provider, authorizing an account through the
# simulator's auto-approve switch, and comparing the local store with the
# simulator's true mailbox.
. "$(dirname "${BASH_SOURCE[0]}")/../e2e/lib.sh"
: "${M365SIM_BIN:?set by ctest}"
SIM_PID=""
SIM_URL=""

scenario_cleanup() {
	# for tests/secret_scan.sh: what the simulator handed out (secrets,
	# passwords) before it goes
	if [ -n "${SECRET_SCAN_DIR:-}" ] && [ -n "$SIM_URL" ]; then
		curl -sS "$SIM_URL/_sim/world" >"$TEST_TMP/scan-world.json" 2>/dev/null || true
	fi
	if [ -n "$SIM_PID" ] && kill -0 "$SIM_PID" 2>/dev/null; then
		kill "$SIM_PID" 2>/dev/null
		for _ in $(seq 1 50); do kill -0 "$SIM_PID" 2>/dev/null || break; sleep 0.1; done
		kill -9 "$SIM_PID" 2>/dev/null || true
	fi
	cleanup_tmp
}
trap scenario_cleanup EXIT

# sim_up [m365sim args...]: start the simulator on a free loopback port.
sim_up() {
	"$M365SIM_BIN" --listen 127.0.0.1:0 --quiet "$@" >"$TEST_TMP/sim.json" 2>"$TEST_TMP/sim.log" &
	SIM_PID=$!
	for _ in $(seq 1 200); do
		[ -s "$TEST_TMP/sim.json" ] && break
		kill -0 "$SIM_PID" 2>/dev/null || break
		sleep 0.05
	done
	SIM_URL=$(jq -r .url "$TEST_TMP/sim.json" 2>/dev/null)
	[ -n "$SIM_URL" ] && [ "$SIM_URL" != null ] || { cat "$TEST_TMP/sim.log" >&2; echo "m365sim did not start" >&2; exit 1; }
	SIM_CLIENT_ID=$(jq -r .client_id "$TEST_TMP/sim.json")
	jq -r .client_secret "$TEST_TMP/sim.json" >"$TEST_TMP/secret"
}

# sim_admin METHOD PATH [JSON]: admin call; body on stdout; fails on >= 400.
sim_admin() {
	local method=$1 path=$2 body=${3:-}
	if [ -n "$body" ]; then
		curl -sS -f -X "$method" -H 'Content-Type: application/json' --data "$body" "$SIM_URL/_sim/$path"
	else
		curl -sS -f -X "$method" "$SIM_URL/_sim/$path"
	fi
}

# provider_for_sim [extra provider set args]
provider_for_sim() {
	ibx provider set microsoft --client-id "$SIM_CLIENT_ID" --client-secret-file "$TEST_TMP/secret" \
		--login-url "$SIM_URL" --graph-url "$SIM_URL/v1.0" "$@" >/dev/null
}

# authorize NAME SIGNIN_EMAIL: runs `account authorize --print-url`, lets the
# simulator auto-approve SIGNIN_EMAIL and follows the redirect like a browser.
# Leaves the command's exit status in $RC, stdout in $OUT, stderr in $ERR,
# and the page the browser ended on in $AUTH_PAGE.
authorize() {
	local name=$1 who=$2
	sim_admin POST auto-approve "{\"email\":\"$who\"}" >/dev/null
	: >"$TEST_TMP/auth.out"
	"$INBOXSYNC_BIN" account authorize "$name" --print-url --timeout 30 >"$TEST_TMP/auth.out" 2>"$TEST_TMP/auth.err" &
	local pid=$!
	for _ in $(seq 1 200); do [ -s "$TEST_TMP/auth.out" ] && break; sleep 0.05; done
	AUTH_URL=$(head -n 1 "$TEST_TMP/auth.out")
	curl -sS -L -o "$TEST_TMP/auth_page.html" "$AUTH_URL" 2>"$TEST_TMP/auth_curl.err" || true
	wait "$pid" && RC=0 || RC=$?
	AUTH_PAGE=$(cat "$TEST_TMP/auth_page.html" 2>/dev/null)
	OUT=$(tail -n +2 "$TEST_TMP/auth.out")
	ERR=$(cat "$TEST_TMP/auth.err")
}

# cancel_authorize NAME: runs `account authorize --print-url` and answers it
# as Microsoft does when the user cancels (error=access_denied). Leaves the
# exit status in $RC, stderr in $ERR, the browser's page in $AUTH_PAGE and
# the (now used) state in $AUTH_STATE.
cancel_authorize() {
	local pid url redirect
	: >"$TEST_TMP/c.out"
	"$INBOXSYNC_BIN" account authorize "$1" --print-url --timeout 30 >"$TEST_TMP/c.out" 2>"$TEST_TMP/c.err" &
	pid=$!
	for _ in $(seq 1 200); do [ -s "$TEST_TMP/c.out" ] && break; sleep 0.05; done
	url=$(head -n1 "$TEST_TMP/c.out")
	AUTH_STATE=$(echo "$url" | sed -n 's/.*[?&]state=\([^&]*\).*/\1/p')
	redirect=$(echo "$url" | sed -n 's/.*[?&]redirect_uri=\([^&]*\).*/\1/p' | sed 's/%3A/:/g; s#%2F#/#g')
	AUTH_PAGE=$(curl -sS "$redirect?error=access_denied&error_description=AADSTS65004%3A+User+declined+to+consent&state=$AUTH_STATE")
	wait "$pid" && RC=0 || RC=$?
	ERR=$(cat "$TEST_TMP/c.err"); OUT=""
}

# setup_account NAME EMAIL: provider, account, authorization, folders fetched.
setup_account() {
	provider_for_sim
	ibx account add "$1" --email "$2" >/dev/null
	authorize "$1" "$2"
	[ "$RC" -eq 0 ] || { echo "authorize failed: $ERR" >&2; exit 1; }
	ibx folders fetch "$1" >/dev/null
}

# counter NAME: a number from the simulator's counters (jq path).
sim_counter() { sim_admin GET counters | jq -r "$1 // 0"; }

# sim_requests: how many requests reached Microsoft (Graph and sign-in,
# not the admin API) since the last counters reset.
sim_requests() { sim_admin GET counters | jq '[.requests | to_entries[] | select(.key | test("/_sim/") | not) | .value[]] | add // 0'; }

# seeded_account NAME EMAIL COUNT SEED: a simulator user with COUNT seeded
# messages, added, authorized and with its folders fetched.
seeded_account() {
	sim_admin POST users "{\"email\":\"$2\",\"name\":\"$1\"}" >/dev/null
	sim_admin POST "mailboxes/$2/seed" "{\"count\":$3,\"seed\":$4}" >/dev/null
	ibx account add "$1" --email "$2" >/dev/null
	authorize "$1" "$2"
	[ "$RC" -eq 0 ] || { echo "authorize $1: $ERR" >&2; exit 1; }
	ibx folders fetch "$1" >/dev/null
}

# compare_with_sim NAME EMAIL: the local messages of the selected folders
# equal the simulator's (same ids, folders, read flags); prints differences.
compare_with_sim() {
	local name=$1 email=$2
	ibx --json folders list "$name" | jq -r '[.[] | select(.selected) | .path]' >"$TEST_TMP/selected.json"
	sim_admin GET "mailboxes/$email/dump" >"$TEST_TMP/dump.json"
	jq -r --slurpfile sel "$TEST_TMP/selected.json" \
		'.messages[] | select(.folderPath as $p | $sel[0] | index($p)) | "\(.id)\t\(.folderPath)\t\(.isRead)"' \
		"$TEST_TMP/dump.json" | sort >"$TEST_TMP/server.tsv"
	ibx --json messages list "$name" --limit 100000 |
		jq -r '.[] | "\(.id)\t\(.folder)\t\(.is_read)"' | sort >"$TEST_TMP/local.tsv"
	if diff -q "$TEST_TMP/server.tsv" "$TEST_TMP/local.tsv" >/dev/null; then
		pass "store equals the server ($(wc -l <"$TEST_TMP/local.tsv") messages)"
	else
		fail "store differs from the server: $(diff "$TEST_TMP/server.tsv" "$TEST_TMP/local.tsv" | head -5)"
		echo "server: $(wc -l <"$TEST_TMP/server.tsv") local: $(wc -l <"$TEST_TMP/local.tsv") dupes: $(cut -f1 "$TEST_TMP/local.tsv" | uniq -d | wc -l)" >&2
	fi
}
