#!/usr/bin/env bash
# test_server_flow.sh — the whole flow over the API against m365sim: create
# an account, a wrong Microsoft account refused (both addresses named),
# authorize through /oauth/callback following the simulator's redirects,
# fetch and select folders, sync to live and compare with the simulator's
# truth page by page, write-back (read, move, delete) that the next delta
# does not undo, send twice with one Idempotency-Key (sent once) and a
# different request under it (409), the outbox, a long poll woken by new
# mail, webhooks signed for another client's changes, expired delta
# tokens without a second message.created, a second user whose ids are
# 404 under the first user's account, a revoked grant that becomes
# auth_invalid without anyone asking, diagnostics and metrics.
. "$(dirname "$0")/lib_server.sh"
sim_up --messages 400 --seed 12
sim_admin POST mailboxes/bob@contoso.com/seed '{"count":40}' >/dev/null
provider_for_sim
ALICE=$(make_user alice)
BOB=$(make_user bob)
server_up
receiver_up
M=mailboxes/adele@contoso.com

# ---- create and authorize --------------------------------------------------------
api "$ALICE" POST /api/v1/accounts '{"name":"work","email":"adele@contoso.com","sender_name":"Adele"}'
expect_status 201 "account created over the API"
ID=$(echo "$BODY" | jq -r .id)
[ "$(echo "$BODY" | jq -r .state)" = new ] && pass "state new" || fail "state: $BODY"
sim_admin POST auto-approve '{"email":"bob@contoso.com"}' >/dev/null
api "$ALICE" POST "/api/v1/accounts/$ID/authorize" '{}'
expect_status 200 "authorization URL"
curl -s -L -o "$TEST_TMP/wrong.html" -w '%{http_code}' "$(echo "$BODY" | jq -r .authorization_url)" >"$TEST_TMP/code"
page=$(cat "$TEST_TMP/wrong.html")
expect_in "$page" "adele@contoso.com" "the wrong-account page names the account's address"
expect_in "$page" "bob@contoso.com" "and the address that signed in"
api "$ALICE" GET "/api/v1/accounts/$ID"
[ "$(echo "$BODY" | jq -r .state)" = new ] && pass "nothing stored for a wrong account" || fail "$BODY"
le=$(echo "$BODY" | jq -r .last_error.message)
expect_in "$le" "bob@contoso.com" "last_error names the signed-in address"
expect_in "$le" "adele@contoso.com" "last_error names the configured address"
sim_admin POST auto-approve '{"email":"adele@contoso.com"}' >/dev/null
api "$ALICE" POST "/api/v1/accounts/$ID/authorize" '{"return_to":"/accounts/done"}'
final=$(curl -s -L -o /dev/null -w '%{url_effective}' "$(echo "$BODY" | jq -r .authorization_url)")
expect_in "$final" "$SRV_URL/accounts/done?authorized=1&account_id=$ID" "the callback sends the browser back to return_to"
api "$ALICE" POST "/api/v1/accounts/$ID/authorize" '{"return_to":"https://evil.example/x"}'
expect_status 400 "return_to elsewhere is refused (no open redirect)"
api "$ALICE" GET "/api/v1/accounts/$ID"
st=$(echo "$BODY" | jq -r .state)
case "$st" in confirmed|syncing|idle) pass "authorized ($st)" ;; *) fail "state after callback: $BODY" ;; esac
[ "$(echo "$BODY" | jq -r .incoming.status)" = confirmed ] && pass "incoming confirmed" || fail "$BODY"

# ---- folders and sync ----------------------------------------------------------------
api "$ALICE" POST "/api/v1/accounts/$ID/folders/fetch" '{}'
expect_status 200 "folders fetched"
[ "$(echo "$BODY" | jq -c '[.folders[] | select(.selected) | .path] | sort')" = '["Inbox","Sent Items"]' ] &&
	pass "Inbox and Sent Items preselected" || fail "$BODY"
api "$ALICE" PATCH "/api/v1/accounts/$ID/folders/Archive" '{"selected":true,"role":"archive"}'
expect_status 200 "Archive selected by path"
[ "$(echo "$BODY" | jq -r '.selected, .role' | tr '\n' ' ')" = "true archive " ] && pass "with its role" || fail "$BODY"
wait_for 60 all_live "$ALICE" "$ID" && pass "every selected folder is live" || fail "not live: $BODY"

# Every message of the selected folders, paging through the API.
api_messages() { # TOKEN ID -> "id<TAB>folder<TAB>is_read" lines in $TEST_TMP/local.tsv
	local cursor="" q
	: >"$TEST_TMP/local.tsv"
	while :; do
		q="limit=150"
		[ -n "$cursor" ] && q="$q&cursor=$cursor"
		api "$1" GET "/api/v1/accounts/$2/messages?$q"
		echo "$BODY" | jq -r '.messages[] | "\(.id)\t\(.folder)\t\(.is_read)"' >>"$TEST_TMP/local.tsv"
		cursor=$(echo "$BODY" | jq -r '.next_cursor // empty')
		[ -n "$cursor" ] || break
	done
	sort -o "$TEST_TMP/local.tsv" "$TEST_TMP/local.tsv"
}
sim_truth() { # EMAIL -> $TEST_TMP/server.tsv for Inbox, Sent Items, Archive
	sim_admin GET "mailboxes/$1/dump" | jq -r '.messages[] | select(.folderPath == "Inbox" or
		.folderPath == "Sent Items" or .folderPath == "Archive") | "\(.id)\t\(.folderPath)\t\(.isRead)"' |
		sort >"$TEST_TMP/server.tsv"
}
same_as_sim() {
	api_messages "$ALICE" "$ID"
	sim_truth adele@contoso.com
	cmp -s "$TEST_TMP/local.tsv" "$TEST_TMP/server.tsv"
}
if same_as_sim; then pass "the API's pages equal the mailbox ($(wc -l <"$TEST_TMP/local.tsv") messages)"
else fail "API differs from the mailbox: $(diff "$TEST_TMP/server.tsv" "$TEST_TMP/local.tsv" | head -5)"; fi
[ "$(cut -f1 "$TEST_TMP/local.tsv" | uniq -d | wc -l)" = 0 ] && pass "no message twice across pages" || fail "duplicates in pages"

# ---- webhooks and another client's changes ----------------------------------------
api "$ALICE" POST /api/v1/webhooks "{\"url\":\"$RECV_URL/alice\"}"
expect_status 201 "webhook created"
HOOK=$(echo "$BODY" | jq -r .id)
SECRET=$(echo "$BODY" | jq -r .secret)
[ -n "$SECRET" ] && [ "$SECRET" != null ] && pass "a secret is generated and shown" || fail "$BODY"
receiver_control "{\"path\":\"/alice\",\"secret\":\"$SECRET\"}"
api "$ALICE" GET "/api/v1/webhooks/$HOOK"
[ "$(echo "$BODY" | jq 'has("secret")')" = false ] && pass "the secret is not shown again" || fail "$BODY"
sim_admin GET "$M/dump" >"$TEST_TMP/d0.json"
mapfile -t inbox < <(jq -r '[.messages[] | select(.folderPath=="Inbox")] | .[].id' "$TEST_TMP/d0.json")
sim_admin PATCH "$M/messages/${inbox[5]}" '{"isRead":true}' >/dev/null
sim_admin PATCH "$M/messages/${inbox[6]}" '{"isRead":false}' >/dev/null
sim_admin POST "$M/messages/${inbox[7]}/move" '{"folder":"archive"}' >/dev/null
sim_admin DELETE "$M/messages/${inbox[8]}?permanent=true" >/dev/null
NEW_MSG=$(sim_admin POST "$M/messages" '{"folder":"inbox","subject":"from another client","from":"x@fabrikam.com"}' | jq -r .id)
got() { # TYPE MESSAGE_ID: the receiver has it (the log as one array: jq 1.6's
	# -e over many inputs answers for the last one only)
	jq -s -e --arg t "$1" --arg m "$2" 'any(.[]; .path=="/alice" and .type==$t and .message_id==$m and .status==200)' \
		"$TEST_TMP/recv.log" >/dev/null 2>&1
}
wait_for 60 got message.created "$NEW_MSG" && pass "webhook: message.created for new mail" || fail "no message.created"
wait_for 60 got message.moved "${inbox[7]}" && pass "webhook: message.moved for another client's move" || fail "no message.moved"
wait_for 60 got message.deleted "${inbox[8]}" && pass "webhook: message.deleted" || fail "no message.deleted"
wait_for 60 got message.updated "${inbox[5]}" && pass "webhook: message.updated for a read flag" || fail "no message.updated"
[ "$(jq -s '[.[] | select(.path=="/alice" and .signature_ok != true)] | length' "$TEST_TMP/recv.log")" = 0 ] &&
	pass "every delivery carries a valid signature" || fail "bad signatures: $(head -3 "$TEST_TMP/recv.log")"
[ "$(jq -s '[.[] | select(.path=="/alice" and (.delivery != .id or .event != .type or (.content_type|startswith("application/json")|not)))] | length' "$TEST_TMP/recv.log")" = 0 ] &&
	pass "X-Inboxsync-Event, X-Inboxsync-Delivery and Content-Type match the event" || fail "headers"
[ "$(jq -s '[.[] | select(.path=="/alice" and .backfill)] | length' "$TEST_TMP/recv.log")" = 0 ] &&
	pass "no backfill events without include_backfill" || fail "backfill delivered"
logged() { api "$ALICE" GET "/api/v1/webhooks/$HOOK/deliveries"
	[ "$(echo "$BODY" | jq '[.deliveries[] | select(.ok)] | length')" -ge 4 ]; }
wait_for 60 logged && pass "delivery log" || fail "$BODY"

# ---- write-back ------------------------------------------------------------------------
W=${inbox[20]}
api "$ALICE" PATCH "/api/v1/accounts/$ID/messages/$W" '{"is_read":false}'
expect_status 200 "mark unread"
api "$ALICE" PATCH "/api/v1/accounts/$ID/messages/$W" '{"is_read":true}'
expect_status 200 "mark read"
[ "$(sim_admin GET "$M/dump" | jq -r --arg w "$W" '.messages[] | select(.id==$w) | .isRead')" = true ] &&
	pass "written to the mailbox" || fail "not in the mailbox"
MV=${inbox[21]}
api "$ALICE" PATCH "/api/v1/accounts/$ID/messages/$MV" '{"folder":"Archive"}'
expect_status 200 "move to Archive"
[ "$(echo "$BODY" | jq -r '.id, .folder' | tr '\n' ' ')" = "$MV Archive " ] && pass "the same message, now in Archive" || fail "$BODY"
DEL=${inbox[22]}
api "$ALICE" DELETE "/api/v1/accounts/$ID/messages/$DEL"
expect_status 204 "delete"
[ "$(sim_admin GET "$M/dump" | jq -r --arg d "$DEL" '.messages[] | select(.id==$d) | .folderPath')" = "Deleted Items" ] &&
	pass "deleted to Deleted Items" || fail "not in Deleted Items"
# Two more polls: the next deltas must not undo any of it.
api "$ALICE" POST "/api/v1/accounts/$ID/sync" '{}'
expect_status 202 "sync now"
sleep 3
api "$ALICE" GET "/api/v1/accounts/$ID/messages/$W"
[ "$(echo "$BODY" | jq -r .is_read)" = true ] && pass "read state not undone by the next delta" || fail "$BODY"
[ "$(echo "$BODY" | jq -r .body.content | wc -c)" -gt 1 ] && pass "the body is fetched on open" || fail "no body"
api "$ALICE" GET "/api/v1/accounts/$ID/messages/$MV"
[ "$(echo "$BODY" | jq -r .folder)" = Archive ] && pass "move not undone" || fail "$BODY"
api "$ALICE" GET "/api/v1/accounts/$ID/messages/$DEL"
expect_status 404 "the deleted message stays out of the synced folders"
if same_as_sim; then pass "still equal to the mailbox after write-back and deltas"
else fail "differs after write-back: $(diff "$TEST_TMP/server.tsv" "$TEST_TMP/local.tsv" | head -5)"; fi
moves=$(jq -s --arg m "$MV" '[.[] | select(.message_id==$m and .type=="message.created")] | length' "$TEST_TMP/recv.log")
[ "$moves" = 0 ] && pass "a moved message is never announced as created" || fail "$moves message.created for a move"

# ---- sending ------------------------------------------------------------------------------
SEND='{"to":[{"address":"someone@fabrikam.com","name":"Some One"}],"subject":"hello once","body":{"content_type":"text","content":"Hi."}}'
api "$ALICE" POST "/api/v1/accounts/$ID/send" "$SEND" -H 'Idempotency-Key: k-1'
expect_status 202 "send accepted"
first=$(echo "$BODY" | jq -c '{key, internet_message_id, local_id}')
[ "$(echo "$BODY" | jq -r .local_id)" = "local:k-1" ] && pass "a local Sent entry at once" || fail "$BODY"
api "$ALICE" POST "/api/v1/accounts/$ID/send" "$SEND" -H 'Idempotency-Key: k-1'
expect_status 202 "the same request again"
[ "$(echo "$BODY" | jq -c '{key, internet_message_id, local_id}')" = "$first" ] && pass "answered as the first" || fail "$BODY vs $first"
grep -qi '^idempotent-replayed: true' <<<"$HEADERS" && pass "marked as a replay" || fail "no replay header"
api "$ALICE" POST "/api/v1/accounts/$ID/send" "${SEND/hello once/another}" -H 'Idempotency-Key: k-1'
expect_status 409 "another request under the same key is a conflict"
sent_once() { [ "$(sim_admin GET sent | jq '[.value[] | select(.subject=="hello once")] | length')" = 1 ]; }
wait_for 60 sent_once && pass "sent exactly once" || fail "sent $(sim_admin GET sent | jq '[.value[] | select(.subject=="hello once")] | length') times"
api "$ALICE" GET "/api/v1/accounts/$ID/outbox"
[ "$(echo "$BODY" | jq -r '.outbox[] | select(.key=="k-1") | .state')" != failed ] && pass "outbox lists it" || fail "$BODY"
api "$ALICE" POST "/api/v1/accounts/$ID/send" '{"to":[{"address":"a@b.com"}],"subject":"x","body":{"content_type":"rtf","content":"x"}}'
expect_status 400 "a body type other than text or html is 400"
api "$ALICE" POST "/api/v1/accounts/$ID/send" '{"to":[{"address":"a@b.com>, evil@x.com"}],"subject":"x","body":{"content":"x"}}'
expect_status 400 "an address that smuggles another is 400"
replaced() { api "$ALICE" GET "/api/v1/accounts/$ID/messages?folder=Sent%20Items&limit=20"
	[ "$(echo "$BODY" | jq '[.messages[] | select(.subject=="hello once")] | length')" = 1 ] &&
	[ "$(echo "$BODY" | jq -r '.messages[] | select(.subject=="hello once") | .pending')" = false ]; }
wait_for 60 replaced && pass "the server's Sent copy replaced the local entry (one message)" || fail "$BODY"

# ---- the change feed: a long poll woken by new mail -----------------------------------
api "$ALICE" GET "/api/v1/changes?limit=1000"
while [ "$(echo "$BODY" | jq '.changes | length')" = 1000 ]; do
	api "$ALICE" GET "/api/v1/changes?limit=1000&since=$(echo "$BODY" | jq .next_since)"
done
SINCE=$(echo "$BODY" | jq .next_since)
api "$ALICE" GET "/api/v1/changes?since=latest"
[ "$STATUS" = 200 ] && [ "$(echo "$BODY" | jq '.changes | length')" = 0 ] &&
	[ "$(echo "$BODY" | jq .next_since)" -ge "$SINCE" ] &&
	pass "since=latest starts at the newest event" || fail "since=latest: $BODY"
api "$ALICE" GET "/api/v1/changes?since=$SINCE&wait=1&account_id=999999"
expect_status 404 "a long poll on an unknown account is 404"
api "$ALICE" GET "/api/v1/changes?since=$SINCE&wait=1"
[ "$STATUS" = 200 ] && [ "$(echo "$BODY" | jq '[.changes[] | select(.type | startswith("message."))] | length')" = 0 ] &&
	pass "a long poll with nothing new answers without messages" || fail "$BODY"
curl -s -H "Authorization: Bearer $ALICE" "$SRV_URL/api/v1/changes?since=$SINCE&wait=25" >"$TEST_TMP/poll.json" &
POLL=$!
sleep 0.5
LP=$(sim_admin POST "$M/messages" '{"folder":"inbox","subject":"wakes the long poll"}' | jq -r .id)
wait "$POLL"
record_exchange GET "/api/v1/changes?since=$SINCE&wait=25" 200 application/json "$TEST_TMP/poll.json"
jq -e --arg m "$LP" '.changes[] | select(.type=="message.created" and .data.message.id==$m)' "$TEST_TMP/poll.json" >/dev/null &&
	pass "the long poll returned the new message" || fail "long poll: $(cat "$TEST_TMP/poll.json")"

# ---- expired delta tokens: no second message.created --------------------------------
sim_admin POST "$M/expire-delta" '{}' >/dev/null
AFTER=$(sim_admin POST "$M/messages" '{"folder":"inbox","subject":"after the expiry"}' | jq -r .id)
api "$ALICE" POST "/api/v1/accounts/$ID/sync" '{}'
resynced() { api "$ALICE" GET "/api/v1/accounts/$ID/diagnostics"
	[ "$(echo "$BODY" | jq '[.folders[] | select(.resyncs > 0)] | length')" -ge 1 ]; }
wait_for 60 resynced && pass "the folders re-bootstrapped after the delta tokens expired" || fail "$BODY"
wait_for 30 all_live "$ALICE" "$ID" && pass "live again" || fail "not live"
sleep 2
feed_all "$ALICE" >"$TEST_TMP/feed.jsonl"
dupes=$(jq -r 'select(.type=="message.created") | .data.message.id' "$TEST_TMP/feed.jsonl" | sort | uniq -d | wc -l)
[ "$dupes" = 0 ] && pass "no message has two message.created in the feed (after the re-bootstrap)" || fail "$dupes messages created twice"
[ "$(jq -r --arg m "$AFTER" 'select(.type=="message.created" and .data.message.id==$m) | .id' "$TEST_TMP/feed.jsonl" | wc -l)" = 1 ] &&
	pass "mail that arrived meanwhile: one message.created" || fail "after-expiry message not created once"
created_after=$(jq -s '[.[] | select(.path=="/alice" and .type=="message.created" and .status==200) | .message_id] | group_by(.) | map(select(length > 1)) | length' "$TEST_TMP/recv.log")
[ "$created_after" = 0 ] && pass "the webhook got no message.created twice for one message" || fail "$created_after duplicated over the webhook"
ordered=$(jq -s '[.[] | select(.path=="/alice" and .status==200) | .seq] | . == sort' "$TEST_TMP/recv.log")
[ "$ordered" = true ] && pass "webhook deliveries in seq order" || fail "out of order"
if same_as_sim; then pass "equal to the mailbox after the re-bootstrap"
else fail "differs after re-bootstrap: $(diff "$TEST_TMP/server.tsv" "$TEST_TMP/local.tsv" | head -5)"; fi

# ---- a second user: 404 under the first user's account ------------------------------
BID=$(connect_account "$BOB" bobs bob@contoso.com)
wait_for 60 all_live "$BOB" "$BID" && pass "bob's mailbox is live" || fail "bob not live"
api "$BOB" GET "/api/v1/accounts/$BID/messages?limit=1"
BMSG=$(echo "$BODY" | jq -r '.messages[0].id')
api "$BOB" GET "/api/v1/accounts/$BID/folders"
BFOLDER=$(echo "$BODY" | jq -r '.folders[] | select(.path=="Inbox") | .id')
api "$BOB" POST "/api/v1/accounts/$BID/send" '{"to":[{"address":"x@fabrikam.com"}],"subject":"bob","body":{"content":"x"}}' -H 'Idempotency-Key: bob-1'
for r in "GET /api/v1/accounts/$ID/messages/$BMSG" "PATCH /api/v1/accounts/$ID/messages/$BMSG" \
	"DELETE /api/v1/accounts/$ID/messages/$BMSG" "PATCH /api/v1/accounts/$ID/folders/$BFOLDER" \
	"GET /api/v1/accounts/$BID" "GET /api/v1/accounts/$BID/messages/$BMSG" \
	"POST /api/v1/accounts/$ID/outbox/bob-1/retry" "DELETE /api/v1/accounts/$ID/outbox/bob-1"; do
	api "$ALICE" ${r% *} "${r#* }" '{"is_read":true,"selected":true}'
	[ "$STATUS" = 404 ] || fail "$r as alice: HTTP $STATUS $BODY"
done
pass "bob's messages, folders and outbox are 404 for alice, also under her own account"
api "$ALICE" GET "/api/v1/accounts/$ID/messages?folder=$BFOLDER"
expect_status 404 "bob's folder id as a filter of alice's account is 404"
jq -s -e --arg b "$BID" 'any(.[]; .account_id==$b)' "$TEST_TMP/recv.log" >/dev/null && fail "alice's webhook got bob's events" ||
	pass "alice's webhook gets none of bob's events"
api "$ALICE" GET /api/v1/changes?limit=1000
[ "$(echo "$BODY" | jq --arg b "$BID" '[.changes[] | select(.account_id==$b)] | length')" = 0 ] &&
	pass "alice's feed has none of bob's events" || fail "bob's events in alice's feed"
[ "$(sim_admin GET "mailboxes/bob@contoso.com/dump" | jq -r --arg m "$BMSG" '.messages[] | select(.id==$m) | .isRead')" != "" ] &&
	pass "bob's message untouched in his mailbox" || fail "bob's message gone"

# ---- a revoked grant: auth_invalid by itself ---------------------------------------------
# Bob's grant revoked and his access token expired: each pass's refresh
# fails for good and counts; the server tries again 30 s later on its own
# (nobody asks it to sync), so within about a minute the account is
# auth_invalid and says why. Checked at the end, while the rest runs.
sim_admin POST users/bob@contoso.com/revoke '{}' >/dev/null
sim_admin POST users/bob@contoso.com/expire-tokens '{}' >/dev/null
t_revoked=$(date +%s)

# ---- diagnostics and metrics ------------------------------------------------------------
# One throttled poll (429 with Retry-After), so the throttle counters exist.
sim_admin POST faults '{"kind":"429","path":"delta","mailbox":"adele@contoso.com","count":3,"retry_after":1}' >/dev/null
sim_admin POST users/adele@contoso.com/expire-tokens '{}' >/dev/null
api "$ALICE" POST "/api/v1/accounts/$ID/sync" '{}'
throttled() { curl -s "$SRV_URL/metrics" | grep -q '^inboxsync_throttle_waits_total [1-9]'; }
wait_for 60 throttled && pass "a throttled poll is counted" || fail "no throttle wait counted"
wait_for 60 all_live "$ALICE" "$ID" && pass "and syncing goes on" || fail "not live after throttling"
api "$ALICE" GET "/api/v1/accounts/$ID/diagnostics"
expect_status 200 "diagnostics"
[ "$(echo "$BODY" | jq -r '.folders | length')" -ge 3 ] && [ "$(echo "$BODY" | jq -r '.token.access_token_expires_at')" != null ] &&
	pass "with folders and the token's expiry" || fail "$BODY"
curl -s -D "$TEST_TMP/mh" -o "$TEST_TMP/metrics.txt" "$SRV_URL/metrics"
grep -qi 'content-type: text/plain; version=0.0.4' "$TEST_TMP/mh" && pass "metrics content type" || fail "$(cat "$TEST_TMP/mh")"
for series in 'inboxsync_accounts{state="idle"}' 'inboxsync_folders{phase="live"}' "inboxsync_sync_lag_seconds{account_id=\"$ID\"}" \
	'inboxsync_microsoft_requests_total{route="/v1.0/$batch"' 'inboxsync_token_refreshes_total' \
	'inboxsync_outbox_entries{state=' 'inboxsync_webhook_deliveries_total{outcome="ok"}' \
	"inboxsync_webhook_queue_depth{webhook_id=\"$HOOK\"}" 'inboxsync_api_requests_total{route="/api/v1/accounts/{id}/messages"' \
	'inboxsync_api_request_duration_seconds_bucket' 'inboxsync_build_info{version=' 'inboxsync_throttle_waits_total' ; do
	grep -qF "$series" "$TEST_TMP/metrics.txt" || fail "metrics lack $series"
done
grep -q '@' "$TEST_TMP/metrics.txt" && fail "an address in the metrics" || pass "metrics name accounts by id only"
bob_auth_invalid() {
	api "$BOB" GET "/api/v1/accounts/$BID"
	[ "$(echo "$BODY" | jq -r .state)" = auth_invalid ]
}
if wait_for 150 bob_auth_invalid; then
	pass "a revoked grant: auth_invalid by itself after $(( $(date +%s) - t_revoked )) s"
	expect_in "$(echo "$BODY" | jq -r .state_reason)" AADSTS50173 "the state says why"
	[ "$(echo "$BODY" | jq -r .fix.code)" = reauthorize ] && pass "and the fix is to authorize again" || fail "fix: $BODY"
else
	fail "revoked grant not auth_invalid: $(echo "$BODY" | jq -c '{state, state_reason, auth_failures}')"
fi
validate_log
server_stop
expect_rc 0 "SIGTERM: exit 0"
finish
