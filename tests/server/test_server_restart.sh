#!/usr/bin/env bash
# test_server_restart.sh — stopping and dying: SIGTERM in the middle of a
# bootstrap exits 0 within 10 s, gives the lease back and resumes without
# duplicates; SIGKILL in the middle of webhook deliveries loses no event
# (each is delivered at least once after the restart); two nodes on one
# store share the accounts and one takes over a killed node's account
# within the lease TTL.
. "$(dirname "$0")/lib_server.sh"
sim_up --messages 6000 --seed 5
provider_for_sim
ALICE=$(make_user alice)
server_up --node-id node-a --lease-ttl 5
receiver_up
api - GET /healthz
[ "$(echo "$BODY" | jq -c .)" = '{"status":"ok","node":"node-a"}' ] && pass "healthz names the node" || fail "$BODY"

# ---- SIGTERM mid-bootstrap ---------------------------------------------------------
ID=$(connect_account "$ALICE" work adele@contoso.com)
api "$ALICE" PATCH "/api/v1/accounts/$ID/folders/Archive" '{"selected":true}'
syncing() { api "$ALICE" GET "/api/v1/accounts/$ID/folders"
	[ "$(echo "$BODY" | jq '[.folders[] | select(.selected) | .sync.synced] | add')" -gt 0 ]; }
wait_for 60 syncing && pass "the bootstrap is under way" || fail "no progress"
server_stop
expect_rc 0 "SIGTERM mid-sync: exit 0 within 10 s"
api - GET /healthz
[ "$STATUS" = 000 ] && pass "the port is closed" || fail "still answering: $STATUS"
[ "$(sqlite3 "$INBOXSYNC_HOME/inboxsync.db" "SELECT count(*) FROM account_leases WHERE holder <> ''")" = 0 ] &&
	pass "the sync lease was given back" || fail "a lease is still held after SIGTERM"
server_up --node-id node-a --lease-ttl 5
wait_for 120 all_live "$ALICE" "$ID" && pass "the sync resumed and completed" || fail "not live after restart"
api "$ALICE" GET "/api/v1/accounts/$ID/messages?limit=1000"
n=0
cursor=""
: >"$TEST_TMP/ids"
while :; do
	api "$ALICE" GET "/api/v1/accounts/$ID/messages?limit=1000${cursor:+&cursor=$cursor}"
	echo "$BODY" | jq -r '.messages[].id' >>"$TEST_TMP/ids"
	cursor=$(echo "$BODY" | jq -r '.next_cursor // empty')
	[ -n "$cursor" ] || break
done
want=$(sim_admin GET "mailboxes/adele@contoso.com/dump?ids=true" |
	jq '[.messages[] | select(.folderPath=="Inbox" or .folderPath=="Sent Items" or .folderPath=="Archive")] | length')
[ "$(sort "$TEST_TMP/ids" | uniq | wc -l)" = "$want" ] && [ "$(wc -l <"$TEST_TMP/ids")" = "$want" ] &&
	pass "all $want messages, none twice" || fail "$(wc -l <"$TEST_TMP/ids") ids, $(sort -u "$TEST_TMP/ids" | wc -l) distinct, want $want"

dupes=$(feed_all "$ALICE" "$ID" | jq -r 'select(.type=="message.created") | .data.message.id' | sort | uniq -d | wc -l)
[ "$dupes" = 0 ] && pass "no message.created twice across the restart" || fail "$dupes messages created twice"

# ---- SIGKILL mid-delivery loses nothing ---------------------------------------------
api "$ALICE" POST /api/v1/webhooks "{\"url\":\"$RECV_URL/k\"}"
HOOK=$(echo "$BODY" | jq -r .id)
receiver_control "{\"path\":\"/k\",\"secret\":\"$(echo "$BODY" | jq -r .secret)\",\"slow\":1000,\"delayMs\":400}"
for i in $(seq 1 12); do
	sim_admin POST mailboxes/adele@contoso.com/messages "{\"folder\":\"inbox\",\"subject\":\"k$i\"}" >/dev/null
done
api "$ALICE" POST "/api/v1/accounts/$ID/sync" '{}'
some() { [ "$(jq -s '[.[] | select(.path=="/k")] | length' "$TEST_TMP/recv.log")" -ge 2 ]; }
wait_for 60 some && pass "deliveries under way" || fail "no deliveries"
server_kill
pass "killed with SIGKILL mid-delivery"
receiver_control '{"path":"/k","slow":0}'
server_up --node-id node-a --lease-ttl 5
# Every event committed after the webhook was made reaches it at least once.
api "$ALICE" GET "/api/v1/webhooks/$HOOK"
all_delivered() {
	api "$ALICE" GET "/api/v1/webhooks/$HOOK"
	[ "$(echo "$BODY" | jq .queue_depth)" = 0 ]
}
wait_for 60 all_delivered && pass "the queue drains after the restart" || fail "$BODY"
feed_all "$ALICE" "$ID" | jq -r 'select(.data.backfill != true) | .id' >"$TEST_TMP/feed"
first=$(jq -s -r '[.[] | select(.path=="/k") | .seq] | min' "$TEST_TMP/recv.log")
awk -v f="$first" '$1 >= f' "$TEST_TMP/feed" | sort -n >"$TEST_TMP/want"
jq -r 'select(.path=="/k" and .status==200) | .id' "$TEST_TMP/recv.log" | sort -un >"$TEST_TMP/got"
missing=$(comm -23 "$TEST_TMP/want" "$TEST_TMP/got" | wc -l)
[ "$missing" = 0 ] && [ "$(wc -l <"$TEST_TMP/want")" -ge 12 ] &&
	pass "no event lost across SIGKILL ($(wc -l <"$TEST_TMP/got") delivered)" || fail "$missing events lost: $(comm -23 "$TEST_TMP/want" "$TEST_TMP/got" | head -3 | tr '\n' ' ')"
[ "$(sim_admin GET "mailboxes/adele@contoso.com/dump" | jq '[.messages[] | select(.subject | test("^k[0-9]+$"))] | length')" = 12 ] &&
	pass "the mailbox has the 12 new messages" || fail "sim"

# ---- two nodes on one store ---------------------------------------------------------
A_PID=$SRV_PID
server_up --node-id node-b --lease-ttl 5
B_PID=$SRV_PID
EXTRA_PIDS="$A_PID"
api - GET /healthz
[ "$(echo "$BODY" | jq -r .node)" = node-b ] && pass "a second node" || fail "$BODY"
kill -9 "$A_PID"
wait "$A_PID" 2>/dev/null
LATE=$(sim_admin POST mailboxes/adele@contoso.com/messages '{"folder":"inbox","subject":"after node-a died"}' | jq -r .id)
api "$ALICE" POST "/api/v1/accounts/$ID/sync" '{}'
arrived() { api "$ALICE" GET "/api/v1/accounts/$ID/messages/$LATE"; [ "$STATUS" = 200 ]; }
wait_for 90 arrived && pass "node-b synced the account after node-a died" || fail "not synced by node-b"
validate_log
server_stop
expect_rc 0 "SIGTERM: exit 0"
finish
