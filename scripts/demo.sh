#!/usr/bin/env bash
# demo.sh — inboxsync end to end on the embedded default (SQLite), with
# m365sim standing in for Microsoft: starts the simulator with seeded
# mailboxes for adele@contoso.com and bob@contoso.com, sets up the provider
# for it, creates a demo administrator and a demo user (passwords printed),
# starts `inboxsync serve`, and walks the main flow through the REST API as
# the demo user — create the account, authorize (the simulator approves
# adele's sign-in), Test & Confirm, fetch and select folders, sync until
# live, list the newest messages, send to self and see it in Sent at once,
# then Outlook's copy replacing it. It then prints the address of the web
# UI and the logins. From a terminal it keeps serving until Ctrl-C;
# otherwise (CI) it stops everything and exits 0 after the walk-through.
# Run through `make demo` (which installs dependencies and builds first).
#   DEMO_MESSAGES  messages seeded into each mailbox (default 5000)
#   DEMO_PORT      the server's port (default 8025; 0 picks a free one)
#   DEMO_SERVE     1/0: keep serving after the walk (default: when a terminal)
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
IBX=${INBOXSYNC_BIN:-$PWD/$BUILD/inboxsync}   # `inboxsync demo` sets both
SIM=${M365SIM_BIN:-$PWD/$BUILD/m365sim}
MESSAGES=${DEMO_MESSAGES:-5000}
PORT=${DEMO_PORT:-8025}
if [ -t 0 ] && [ -t 1 ]; then KEEP=${DEMO_SERVE:-1}; else KEEP=${DEMO_SERVE:-0}; fi
DATA=$(mktemp -d /tmp/inboxsync-demo.XXXXXX)
SIM_PID="" SERVE_PID=""

stop_pid() {
	local pid=$1
	[ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 0
	kill "$pid" 2>/dev/null || true
	for _ in $(seq 1 150); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
	kill -9 "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
}
cleanup() {
	stop_pid "$SERVE_PID"
	stop_pid "$SIM_PID"
	rm -rf "$DATA"
}
trap cleanup EXIT
trap 'echo; echo "Stopping."; exit 0' INT TERM

# bold only on a terminal
if [ -t 1 ]; then BOLD=$(printf '\033[1m') PLAIN=$(printf '\033[0m'); else BOLD='' PLAIN=''; fi
step() { printf '\n%s== %s%s\n' "$BOLD" "$*" "$PLAIN"; }
ibx() { "$IBX" --data-dir "$DATA/home" "$@"; }
password() { head -c 18 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' | head -c 16; }
# wait_file FILE WHAT: until FILE has a line (20 s).
wait_file() {
	for _ in $(seq 1 200); do [ -s "$1" ] && return 0; sleep 0.1; done
	echo "$2 did not start:" >&2
	cat "$DATA"/*.log >&2 || true
	exit 1
}

step "Starting m365sim with $MESSAGES seeded messages (adele@contoso.com, bob@contoso.com)"
"$SIM" --messages "$MESSAGES" --seed 42 >"$DATA/sim.json" 2>"$DATA/sim.log" &
SIM_PID=$!
wait_file "$DATA/sim.json" m365sim
SIM_URL=$(jq -r .url "$DATA/sim.json")
sim() { curl -sS --fail-with-body -m 60 -H 'Content-Type: application/json' -X "$1" "$SIM_URL/_sim$2" ${3:+-d "$3"}; }
sim POST /mailboxes/bob@contoso.com/seed "{\"count\":$((MESSAGES / 5 + 1)),\"seed\":7}" >/dev/null
jq -r .client_secret "$DATA/sim.json" >"$DATA/secret"
echo "m365sim (the demo's \"Microsoft\") listening on $SIM_URL"

step "Administrator: the provider for the simulator, a demo administrator and a demo user"
ibx provider set microsoft --client-id "$(jq -r .client_id "$DATA/sim.json")" \
	--client-secret-file "$DATA/secret" --login-url "$SIM_URL" --graph-url "$SIM_URL/v1.0" \
	--enable --transports graph,imap >/dev/null
ibx provider show
ADMIN_PW=$(password) USER_PW=$(password)
printf '%s\n' "$ADMIN_PW" | ibx user add demo-admin --admin --password-stdin
printf '%s\n' "$USER_PW" | ibx user add demo --password-stdin
TOKEN=$(ibx token create demo --label demo | head -n 1)

step "Starting inboxsync serve (SQLite in $DATA/home)"
"$IBX" --data-dir "$DATA/home" serve --listen "127.0.0.1:$PORT" --poll-interval 5 \
	>"$DATA/serve.out" 2>"$DATA/serve.log" &
SERVE_PID=$!
wait_file "$DATA/serve.out" "inboxsync serve"
URL=$(head -n 1 "$DATA/serve.out" | sed -n 's/^listening on //p')
[ -n "$URL" ] || { cat "$DATA/serve.out" "$DATA/serve.log" >&2; exit 1; }
echo "serving the API and the web UI at $URL"

# api METHOD PATH [JSON]: the REST API as the demo user.
api() {
	curl -sS --fail-with-body -m 60 -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
		-X "$1" "$URL/api/v1$2" ${3:+-d "$3"}
}
account() { api GET "/accounts/$ID"; }
# until_jq PATH FILTER WHAT: poll the API until the jq filter is true (5 min).
until_jq() {
	for _ in $(seq 1 600); do
		api GET "$1" | jq -e "$2" >/dev/null && return 0
		sleep 0.5
	done
	echo "timed out waiting for $3" >&2
	exit 1
}

step "Mailbox owner (through the API): create the account and authorize Outlook"
ID=$(api POST /accounts '{"name":"demo","email":"adele@contoso.com","sender_name":"Adele Vance","transport":"graph"}' | jq -r .id)
AUTH_URL=$(api POST "/accounts/$ID/authorize" "{\"return_to\":\"/#/accounts/$ID\"}" | jq -r .authorization_url)
# The browser's part: the simulator approves adele's sign-in and sends the
# browser to /oauth/callback, which completes the grant.
sim POST /auto-approve '{"email":"adele@contoso.com"}' >/dev/null
curl -sS -m 60 -L -o /dev/null "$AUTH_URL"
sim POST /auto-approve '{"email":null}' >/dev/null
account | jq -r '"state: \(.state) — \(.state_reason)"'

step "Test & Confirm (incoming) and Test (outgoing)"
api POST "/accounts/$ID/test" '{"incoming":true,"outgoing":true}' |
	jq -r '"Incoming: \(.incoming.status)  Outgoing: \(.outgoing.status)"'

step "Fetch Folders; select Archive besides the preselected Inbox and Sent Items"
api POST "/accounts/$ID/folders/fetch" '{}' | jq -r '.folders[] | "  \(if .selected then "[x]" else "[ ]" end) \(.path)"'
ARCHIVE=$(api GET "/accounts/$ID/folders" | jq -r '.folders[] | select(.path=="Archive") | .id')
api PATCH "/accounts/$ID/folders/$(jq -rn --arg s "$ARCHIVE" '$s|@uri')" '{"selected":true}' >/dev/null
api POST "/accounts/$ID/sync" '{}' >/dev/null

step "Synchronization: newest mail first, then older mail, then live"
until_jq "/accounts/$ID/folders" '[.folders[] | select(.selected)] | all(.sync.phase == "live")' "every folder live"
api GET "/accounts/$ID/folders" | jq -r '.folders[] | select(.selected) | "  \(.path): \(.sync.synced) messages, \(.sync.phase), oldest \(.sync.oldest_at)"'

step "The newest messages in the Inbox"
api GET "/accounts/$ID/messages?folder=Inbox&limit=5" |
	jq -r '.messages[] | "  \(.received_at)  \(.from.name // .from.address)  \(.subject)"'

step "Send a message to yourself: it is in Sent Items at once"
api POST "/accounts/$ID/send" '{"to":[{"address":"adele@contoso.com"}],"subject":"inboxsync demo","body":{"content_type":"text","content":"Hello from the demo."}}' |
	jq -r '"  accepted: \(.state), local entry \(.local_id)"'
api GET "/accounts/$ID/messages?folder=Sent%20Items&limit=3" |
	jq -r '.messages[] | "  \(.subject)\(if .pending then "  (local entry, waiting for Outlook'"'"'s copy)" else "" end)"'
api POST "/accounts/$ID/sync" '{}' >/dev/null
until_jq "/accounts/$ID/messages?folder=Sent%20Items&limit=20" \
	'[.messages[] | select(.subject == "inboxsync demo")] | length == 1 and (.[0].pending | not)' "Outlook's copy in Sent Items"
until_jq "/accounts/$ID/messages?folder=Inbox&limit=20" '[.messages[] | select(.subject == "inboxsync demo")] | length == 1' "the message in the Inbox"
echo "  Outlook's copy replaced the local entry (one message in Sent Items); it arrived in the Inbox."
account | jq -r '"state: \(.state) — \(.state_reason)"'

cat <<EOT

${BOLD}Open the web UI:${PLAIN} $URL/

  administrator  demo-admin / $ADMIN_PW    (Provider settings, Users)
  mailbox owner  demo       / $USER_PW    (sees the mailbox account "demo", synchronized)

To follow the help pages yourself, sign in as demo, click Create (or your
name, top right → My Account) and connect bob@contoso.com: at "Microsoft"
(the simulator's sign-in pages) sign in as bob@contoso.com, password "pass".
Signing in there as adele@contoso.com shows the wrong-account case.
EOT

if [ "$KEEP" = 1 ]; then
	# On a desktop, open it in the default browser too.
	if [ -n "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ] && command -v xdg-open >/dev/null 2>&1; then
		xdg-open "$URL/" >/dev/null 2>&1 || true
	fi
	echo
	echo "Serving until Ctrl-C."
	wait "$SERVE_PID"
else
	echo
	echo "Demo finished (not a terminal, so not serving on); everything it started is stopped."
fi
