#!/usr/bin/env bash
# demo.sh — the main job on the embedded default: starts m365sim with a
# seeded mailbox, configures the provider for it, adds and authorizes a demo
# account (the simulator auto-approves the sign-in), fetches and selects
# folders, syncs until complete with progress bars, lists the newest
# messages, sends a message to itself, and stops the simulator it started.
# Run through `make demo` (which installs dependencies and builds first).
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
IBX="$PWD/$BUILD/inboxsync"
SIM="$PWD/$BUILD/m365sim"
MESSAGES=${DEMO_MESSAGES:-5000}
DATA=$(mktemp -d /tmp/inboxsync-demo.XXXXXX)
SIM_PID=""

cleanup() {
	if [ -n "$SIM_PID" ] && kill -0 "$SIM_PID" 2>/dev/null; then
		kill "$SIM_PID" 2>/dev/null || true
		wait "$SIM_PID" 2>/dev/null || true
	fi
	rm -rf "$DATA"
}
trap cleanup EXIT

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
ibx() { "$IBX" --data-dir "$DATA/home" "$@"; }

step "Starting m365sim with $MESSAGES seeded messages"
"$SIM" --messages "$MESSAGES" --seed 42 --auto-approve adele@contoso.com \
	>"$DATA/sim.json" 2>"$DATA/sim.log" &
SIM_PID=$!
for _ in $(seq 1 100); do
	[ -s "$DATA/sim.json" ] && break
	sleep 0.1
done
[ -s "$DATA/sim.json" ] || { echo "m365sim did not start:"; cat "$DATA/sim.log"; exit 1; }
URL=$(jq -r .url "$DATA/sim.json")
CLIENT_ID=$(jq -r .client_id "$DATA/sim.json")
jq -r .client_secret "$DATA/sim.json" >"$DATA/secret"
echo "m365sim listening on $URL"

step "Administrator: provider settings (the secret is stored encrypted)"
ibx provider set microsoft --client-id "$CLIENT_ID" --client-secret-file "$DATA/secret" \
	--login-url "$URL" --graph-url "$URL/v1.0"
ibx provider show

step "Mailbox owner: add and authorize the account"
ibx account add demo --email adele@contoso.com --sender-name "Adele Vance"
ibx account authorize demo --print-url --timeout 60 >"$DATA/authorize.out" 2>"$DATA/authorize.err" &
AUTH_PID=$!
for _ in $(seq 1 100); do
	[ -s "$DATA/authorize.out" ] && break
	sleep 0.1
done
AUTH_URL=$(head -n 1 "$DATA/authorize.out")
echo "Authorization URL: ${AUTH_URL:0:100}..."
# The browser's part: the simulator signs in adele and redirects to inboxsync.
curl -sS -L -o /dev/null "$AUTH_URL"
wait "$AUTH_PID" || { cat "$DATA/authorize.err"; exit 1; }
tail -n +2 "$DATA/authorize.out"

step "Fetch folders and select the ones to sync"
ibx folders fetch demo
ibx folders select demo Archive
ibx folders list demo

step "Sync until complete (newest first, then backfill)"
ibx sync demo --until-complete

step "The newest messages"
ibx messages list demo --limit 10

step "Send a message to yourself: it is in Sent at once"
ibx send demo --to adele@contoso.com --subject "inboxsync demo" --body "Hello from the demo."
ibx messages list demo --folder "Sent Items" --limit 3

step "Next sync: the server's copy replaces the local entry; it arrives in the Inbox"
ibx sync demo --until-complete
ibx messages list demo --folder "Sent Items" --limit 3
ibx messages list demo --folder Inbox --limit 3

step "Account status"
ibx account show demo
echo
echo "Demo finished; m365sim is stopped and the demo data removed."
