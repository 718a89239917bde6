#!/usr/bin/env bash
# test_authorize.sh — authorizing a mailbox against m365sim over real HTTP:
# the loopback redirect, Test & Confirm, the wrong-account guard, cancelled
# consent, state mismatch and replay, an expired code, a bad client secret,
# the device code flow, the same mailbox twice, stop and remove, and that
# no token ever shows in output or logs.
. "$(dirname "$0")/lib_scenario.sh"
sim_up --messages 300
provider_for_sim
ibx account add work --email adele@contoso.com --sender-name "Adele Vance" >/dev/null

# wrong account: the browser signs in as bob
authorize work bob@contoso.com
expect_rc 1 "wrong account is refused"
expect_in "$ERR" "bob@contoso.com" "names the signed-in account"
expect_in "$ERR" "adele@contoso.com" "names the configured account"
expect_in "$ERR" "nothing was stored" "says nothing was stored"
run ibx --json account show work
[ "$(echo "$OUT" | jq -r .state)" = "new" ] && pass "still new after wrong account" || fail "state after wrong account: $OUT"
[ "$(echo "$OUT" | jq -r .server.identity)" = "" ] && pass "no server settings stored" || fail "settings stored: $OUT"

# happy path through the loopback redirect
authorize work adele@contoso.com
expect_rc 0 "authorize via loopback redirect"
expect_in "$AUTH_URL" "prompt=select_account" "asks Microsoft for the account picker"
expect_in "$AUTH_URL" "code_challenge_method=S256" "uses PKCE"
expect_in "$AUTH_URL" "login_hint=adele%40contoso.com" "hints the account's address"
run ibx --json account show work
[ "$(echo "$OUT" | jq -r .incoming.status)" = "confirmed" ] && pass "incoming confirmed" || fail "incoming: $OUT"
[ "$(echo "$OUT" | jq -r .outgoing.status)" = "ok" ] && pass "outgoing ok" || fail "outgoing: $OUT"
[ "$(echo "$OUT" | jq -r .state)" = "confirmed" ] && pass "state confirmed" || fail "state: $OUT"
[ "$(echo "$OUT" | jq -r .server.identity)" = "adele@contoso.com" ] && pass "identity filled in" || fail "identity: $OUT"
[ -n "$(echo "$OUT" | jq -r '.server.tenant_id | select(length>0)')" ] && pass "tenant id filled in" || fail "tenant id"
[ -n "$(echo "$OUT" | jq -r '.server.object_id | select(length>0)')" ] && pass "object id filled in" || fail "object id"
drafts=$(sim_admin GET mailboxes/adele@contoso.com/dump | jq '[.messages[] | select(.folderPath=="Drafts")] | length')
[ "$drafts" = "0" ] && pass "outgoing test left no draft behind" || fail "drafts left: $drafts"

# the same Microsoft mailbox connected twice: refused when the account is
# added (the address, in any case), before anyone signs in
run ibx account add again --email ADELE@contoso.com
expect_rc 1 "same mailbox twice is refused"
expect_in "$ERR" "already connected as account 'work'" "names the other account"

# cancelled consent: the redirect carries error=access_denied
ibx account add second --email bob@contoso.com >/dev/null
cancel_authorize second
expect_rc 4 "cancelled consent"
expect_in "$ERR" "cancelled" "explains the cancellation"

# state mismatch / replay: a redirect with an unknown state
"$INBOXSYNC_BIN" account authorize second --print-url --timeout 20 >"$TEST_TMP/c.out" 2>"$TEST_TMP/c.err" &
pid=$!
for _ in $(seq 1 200); do [ -s "$TEST_TMP/c.out" ] && break; sleep 0.05; done
url=$(head -n1 "$TEST_TMP/c.out")
redirect=$(echo "$url" | sed -n 's/.*[?&]redirect_uri=\([^&]*\).*/\1/p' | sed 's/%3A/:/g; s#%2F#/#g')
curl -sS -o /dev/null "$redirect?code=forged&state=$AUTH_STATE"   # the old, used state
wait $pid && RC=0 || RC=$?
ERR=$(cat "$TEST_TMP/c.err")
expect_rc 1 "replayed state is refused"
expect_in "$ERR" "does not belong to an authorization in progress" "explains the state mismatch"

# expired code: redeemed after its lifetime
sim_admin POST config '{"code_lifetime":1}' >/dev/null
sim_admin POST auto-approve '{"email":"bob@contoso.com"}' >/dev/null
"$INBOXSYNC_BIN" account authorize second --print-url --timeout 20 >"$TEST_TMP/c.out" 2>"$TEST_TMP/c.err" &
pid=$!
for _ in $(seq 1 200); do [ -s "$TEST_TMP/c.out" ] && break; sleep 0.05; done
location=$(curl -sS -o /dev/null -w '%{redirect_url}' "$(head -n1 "$TEST_TMP/c.out")")
sleep 2.2
curl -sS -o /dev/null "$location"
wait $pid && RC=0 || RC=$?
ERR=$(cat "$TEST_TMP/c.err")
expect_rc 4 "expired code"
expect_in "$ERR" "AADSTS" "names the AADSTS code"
sim_admin POST config '{"code_lifetime":600}' >/dev/null

# bad client secret
echo "wrong-secret" >"$TEST_TMP/bad"
ibx provider set microsoft --client-secret-file "$TEST_TMP/bad" >/dev/null
authorize second bob@contoso.com
# the app registration's failure is the administrator's: "OAuth not
# configured" (exit 3), never counted against the mailbox
expect_rc 3 "bad client secret"
expect_in "$ERR" "client secret" "says the client secret is wrong"
[ "$(ibx --json account show second | jq -r .auth_failures)" = 0 ] &&
	pass "the mailbox is not blamed" || fail "auth failures counted: $(ibx --json account show second)"
provider_for_sim

# device code flow
"$INBOXSYNC_BIN" account authorize second --device-code >"$TEST_TMP/d.out" 2>"$TEST_TMP/d.err" &
pid=$!
code=""
for _ in $(seq 1 200); do
	code=$(grep -o 'enter the code [A-Z0-9-]*' "$TEST_TMP/d.err" 2>/dev/null | awk '{print $4}')
	[ -n "$code" ] && break
	sleep 0.05
done
[ -n "$code" ] && pass "device code shown" || fail "no device code: $(cat "$TEST_TMP/d.err")"
sim_admin POST device/approve "{\"user_code\":\"$code\",\"email\":\"bob@contoso.com\"}" >/dev/null
wait $pid && RC=0 || RC=$?
ERR=$(cat "$TEST_TMP/d.err"); OUT=$(cat "$TEST_TMP/d.out")
expect_rc 0 "device code authorization"
[ "$(ibx --json account show second | jq -r .state)" = "confirmed" ] && pass "device-code account confirmed" || fail "device-code state"

# stop keeps mail, removes grant, settings and folder mappings
ibx folders fetch work >/dev/null
ibx sync work >/dev/null
before=$(ibx --json account show work | jq .messages)
run ibx account stop work
expect_rc 0 "account stop"
run ibx --json account show work
[ "$(echo "$OUT" | jq -r .state)" = "stopped" ] && pass "stopped" || fail "state after stop: $OUT"
[ "$(echo "$OUT" | jq -r .server.identity)" = "" ] && pass "server settings removed" || fail "settings kept"
[ "$(echo "$OUT" | jq .folders_selected)" = "0" ] && pass "folder mappings removed" || fail "mappings kept"
[ "$(echo "$OUT" | jq .messages)" = "$before" ] && [ "$before" != "0" ] && pass "synced mail kept ($before)" || fail "mail after stop: $OUT (before $before)"
run ibx sync work
expect_rc 4 "a stopped account needs authorization"
run ibx account stop work --purge
[ "$(ibx --json account show work | jq .messages)" = "0" ] && pass "purge deletes mail" || fail "purge"
authorize work adele@contoso.com
expect_rc 0 "authorize again after stop"
run ibx account remove work
expect_rc 0 "remove"
run ibx account show work
expect_rc 1 "removed account is gone"

# no token ever in output or logs: the simulator's tokens start with a
# recognizable prefix; none may appear anywhere.
sim_admin GET world >"$TEST_TMP/world.json" 2>/dev/null || true
if grep -a -E -q 'Bearer [A-Za-z0-9]' "$INBOXSYNC_HOME/inboxsync.log"; then fail "a bearer token in the log"; else pass "no bearer token in the log"; fi
if grep -a -E -q '"(access|refresh|id)_token" *: *"[^[]' "$INBOXSYNC_HOME/inboxsync.log"; then fail "a token field in the log"; else pass "no token fields in the log"; fi
if grep -a -q "$(cat "$TEST_TMP/secret")" "$INBOXSYNC_HOME"/* ; then fail "client secret in clear text"; else pass "client secret never in clear text"; fi
finish
