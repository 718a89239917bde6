#!/usr/bin/env bash
# test_server_webhooks.sh — webhook delivery: backfill only for a webhook
# that asks for it, events filtered by type, retries after 500s and after
# a timeout (10 s), per-account order while an endpoint fails, a failing
# webhook that holds back nobody else, auto-disable after 3 days of
# failures (visible) and re-enabling by PATCH with the backlog delivered,
# and webhook URLs on loopback/private addresses refused without
# --allow-private-webhooks.
. "$(dirname "$0")/lib_server.sh"
sim_up --messages 120 --seed 3
sim_admin POST mailboxes/bob@contoso.com/seed '{"count":30}' >/dev/null
provider_for_sim
ALICE=$(make_user alice)
server_up
receiver_up

hook() { # PATH [extra JSON fields] -> id; registers the secret with the receiver
	api "$ALICE" POST /api/v1/webhooks "{\"url\":\"$RECV_URL$1\"${2:+,$2}}"
	[ "$STATUS" = 201 ] || fail "webhook $1: HTTP $STATUS $BODY"
	receiver_control "{\"path\":\"$1\",\"secret\":\"$(echo "$BODY" | jq -r .secret)\"}"
	echo "$BODY" | jq -r .id
}
count() { # JQ-FILTER over the receiver's records -> number
	jq -s "[.[] | select($1)] | length" "$TEST_TMP/recv.log"
}
H_PLAIN=$(hook /plain)
H_BACKFILL=$(hook /backfill '"include_backfill":true')
H_CREATED=$(hook /created '"events":["message.created"]')
H_ORDER=$(hook /order)
receiver_control '{"path":"/order","fail":6,"failStatus":500}'
H_BAD=$(hook /bad)
receiver_control '{"path":"/bad","fail":100000,"failStatus":503}'
api "$ALICE" POST /api/v1/webhooks '{"url":"http://127.0.0.1:1/x","secret":"my-own-secret-123456"}'
[ "$(echo "$BODY" | jq -r .secret)" = my-own-secret-123456 ] && pass "a webhook takes a given secret" || fail "$BODY"
api "$ALICE" POST /api/v1/webhooks '{"url":"http://127.0.0.1:1/x","secret":"short"}'
expect_status 400 "a short secret is refused"
api "$ALICE" POST /api/v1/webhooks '{"url":"http://127.0.0.1:1/x","events":["message.exploded"]}'
expect_status 400 "an unknown event type is refused"

A1=$(connect_account "$ALICE" adele adele@contoso.com)
A2=$(connect_account "$ALICE" bobbox bob@contoso.com)
wait_for 60 all_live "$ALICE" "$A1" && wait_for 60 all_live "$ALICE" "$A2" && pass "both mailboxes live" || fail "not live"
backfilled() { [ "$(count '.path=="/backfill" and .backfill and .status==200')" -ge 100 ]; }
wait_for 60 backfilled && pass "include_backfill: the first sync's mail is delivered, marked backfill" ||
	fail "backfill: $(count '.path=="/backfill" and .backfill')"
[ "$(count '.path=="/plain" and .backfill')" = 0 ] && pass "without include_backfill: none of it" || fail "backfill delivered to /plain"

# New mail and changes in both mailboxes.
for i in 1 2 3; do
	sim_admin POST mailboxes/adele@contoso.com/messages "{\"folder\":\"inbox\",\"subject\":\"a$i\"}" >/dev/null
	sim_admin POST mailboxes/bob@contoso.com/messages "{\"folder\":\"inbox\",\"subject\":\"b$i\"}" >/dev/null
done
api "$ALICE" POST "/api/v1/accounts/$A1/sync" '{}'
api "$ALICE" POST "/api/v1/accounts/$A2/sync" '{}'
plain_got() { [ "$(count '.path=="/plain" and .type=="message.created" and .status==200')" -ge 6 ]; }
wait_for 60 plain_got && pass "new mail of both mailboxes delivered" || fail "plain: $(count '.path=="/plain"')"
[ "$(count '.path=="/created" and .type!="message.created"')" = 0 ] && [ "$(count '.path=="/created"')" -ge 6 ] &&
	pass "a webhook for message.created gets only those" || fail "type filter"
order_got() { [ "$(count '.path=="/order" and .type=="message.created" and .status==200')" -ge 6 ]; }
wait_for 60 order_got && pass "the failing endpoint got everything once it answered" || fail "order: $(count '.path=="/order"')"
[ "$(count '.path=="/order" and .status==500')" = 6 ] && pass "after 6 failed attempts (500)" || fail "fails: $(count '.path=="/order" and .status==500')"
for acc in "$A1" "$A2"; do
	# Delivered in seq order per account, and nothing skipped: the feed's
	# events of the account after the webhook was made.
	got=$(jq -s -c --arg a "$acc" '[.[] | select(.path=="/order" and .account_id==$a and .status==200) | .seq]' "$TEST_TMP/recv.log")
	[ "$(echo "$got" | jq '. == sort and . == unique')" = true ] && pass "account $acc: in seq order, each once" || fail "account $acc order: $got"
done
api "$ALICE" GET "/api/v1/webhooks/$H_ORDER/deliveries"
[ "$(echo "$BODY" | jq -c '[.deliveries[] | select(.ok | not) | .http_status] | unique')" = "[500]" ] &&
	pass "the delivery log shows the failed attempts" || fail "$BODY"
[ "$(count '.path=="/bad" and .status==200')" = 0 ] && [ "$(count '.path=="/plain" and .status==200')" -gt 0 ] &&
	pass "an always-failing webhook holds back no other webhook" || fail "bad/plain"
api "$ALICE" GET "/api/v1/webhooks/$H_BAD"
[ "$(echo "$BODY" | jq -r .failing_since)" != null ] && [ "$(echo "$BODY" | jq .queue_depth)" -gt 0 ] &&
	pass "a failing webhook shows since when, and its queue" || fail "$BODY"

# A timeout (no answer within 10 s) is retried.
H_SLOW=$(hook /slow '"events":["message.created"]')
receiver_control '{"path":"/slow","slow":1,"delayMs":12000}'
SLOW_MSG=$(sim_admin POST mailboxes/adele@contoso.com/messages '{"folder":"inbox","subject":"slow"}' | jq -r .id)
api "$ALICE" POST "/api/v1/accounts/$A1/sync" '{}'
slow_ok() { jq -s -e --arg m "$SLOW_MSG" 'any(.[]; .path=="/slow" and .message_id==$m and .status==200)' "$TEST_TMP/recv.log" >/dev/null; }
wait_for 60 slow_ok && pass "delivered after a timed-out attempt" || fail "slow: $(grep /slow "$TEST_TMP/recv.log" | head -3)"
api "$ALICE" GET "/api/v1/webhooks/$H_SLOW/deliveries"
echo "$BODY" | jq -e '.deliveries[] | select(.ok == false and (.error | test("within|timed out|timeout"; "i")))' >/dev/null &&
	pass "the log says the attempt timed out" || fail "$BODY"

# Three days of failures disable a webhook; PATCH enables it again and the
# backlog goes out.
sqlite3 "$INBOXSYNC_HOME/inboxsync.db" "UPDATE webhooks SET failing_since = strftime('%s','now') - 3*86400 - 60 WHERE id = $H_BAD;
	UPDATE webhook_slots SET next_attempt_at = 0 WHERE webhook_id = $H_BAD"
sim_admin POST mailboxes/adele@contoso.com/messages '{"folder":"inbox","subject":"while failing"}' >/dev/null
api "$ALICE" POST "/api/v1/accounts/$A1/sync" '{}'
disabled() { api "$ALICE" GET "/api/v1/webhooks/$H_BAD"; [ "$(echo "$BODY" | jq -r .disabled)" = true ]; }
wait_for 60 disabled && pass "after 3 days of failures the webhook is disabled" || fail "$BODY"
expect_in "$(echo "$BODY" | jq -r .disabled_reason)" "3 days" "and says why"
n_bad=$(count '.path=="/bad"')
sleep 3
[ "$(count '.path=="/bad"')" = "$n_bad" ] && pass "a disabled webhook gets no attempts" || fail "attempts while disabled"
receiver_control '{"path":"/bad","fail":0}'
api "$ALICE" PATCH "/api/v1/webhooks/$H_BAD" '{"enabled":true}'
expect_status 200 "re-enabled by PATCH"
[ "$(echo "$BODY" | jq -r '.disabled, .failing_since' | tr '\n' ' ')" = "false null " ] && pass "enabled, not failing" || fail "$BODY"
bad_caught_up() { [ "$(count '.path=="/bad" and .type=="message.created" and .status==200')" -ge 7 ]; }
wait_for 60 bad_caught_up && pass "the backlog is delivered after re-enabling" || fail "backlog: $(count '.path=="/bad" and .status==200')"
[ "$(jq -s '[.[] | select(.signature_ok != true)] | length' "$TEST_TMP/recv.log")" = 0 ] &&
	pass "every delivery of every webhook was signed correctly" || fail "bad signatures"
validate_log
server_stop
expect_rc 0 "SIGTERM: exit 0"

# Without --allow-private-webhooks: loopback and private addresses refused.
"$INBOXSYNC_BIN" serve --listen 127.0.0.1:0 >"$TEST_TMP/serve2.out" 2>"$TEST_TMP/serve2.err" &
SRV_PID=$!
wait_for 60 test -s "$TEST_TMP/serve2.out"
SRV_URL=$(head -n 1 "$TEST_TMP/serve2.out" | sed -n 's/^listening on //p')
for u in "http://127.0.0.1:8080/x" "http://localhost/x" "http://10.1.2.3/x" "http://192.168.0.1/x" \
	"http://169.254.169.254/latest" "http://[::1]/x" "http://[fd00::1]/x" "http://0.0.0.0/x" \
	"http://[::ffff:127.0.0.1]/x" "http://172.16.5.4/x" "http://100.64.0.1/x"; do
	api "$ALICE" POST /api/v1/webhooks "{\"url\":\"$u\"}"
	[ "$STATUS" = 400 ] || fail "$u accepted without --allow-private-webhooks: $STATUS $BODY"
done
pass "loopback, private, link-local and mapped addresses are refused"
expect_in "$BODY" "allow-private-webhooks" "the error says how to allow them"
server_stop
expect_rc 0 "SIGTERM: exit 0"
finish
