#!/usr/bin/env bash
# test_token_lifecycle.sh — tokens stay fresh, and failures are told apart:
# refresh-token rotation survives a crash between receiving and storing the
# new token; a revoked grant gives exactly N failures, then auth_invalid and
# no more token requests; temporary failures (503, dropped connections)
# never count; authorizing again clears auth_invalid.
. "$(dirname "$0")/lib_scenario.sh"
sim_up --messages 200
setup_account work adele@contoso.com
tokens() { sim_counter '[.token_requests.by_grant[]?] | add'; }

# every use of a token now needs a refresh (lifetime far below the skew)
sim_admin POST config '{"access_token_lifetime":2}' >/dev/null
sim_admin POST users/adele@contoso.com/expire-tokens '{}' >/dev/null
before=$(tokens)
run ibx sync work
expect_rc 0 "sync after the access token expired (401, refresh, retry)"
[ "$(tokens)" -gt "$before" ] && pass "the token was refreshed" || fail "no refresh happened"

# crash after Microsoft issued a new refresh token, before it was stored
INBOXSYNC_CRASH_AT=auth:before_store_refresh "$INBOXSYNC_BIN" sync work >/dev/null 2>&1 && RC=0 || RC=$?
[ "$RC" -eq 137 ] && pass "killed between receiving and storing the new token" || fail "crash point not reached (exit $RC)"
run ibx sync work
expect_rc 0 "the grant survived the crash"
run ibx account test work --incoming
expect_rc 0 "incoming still confirmed"

# revoked grant: exactly 3 definitive failures, then auth_invalid
sim_admin POST users/adele@contoso.com/revoke '{}' >/dev/null
sim_admin POST users/adele@contoso.com/expire-tokens '{}' >/dev/null
before=$(tokens)
for i in 1 2 3; do
	run ibx sync work
	expect_rc 4 "sync $i after revocation needs authorization"
	failures=$(ibx --json account show work | jq .auth_failures)
	[ "$failures" = "$i" ] && pass "failure $i counted" || fail "auth_failures=$failures after sync $i"
done
run ibx --json account show work
[ "$(echo "$OUT" | jq -r .state)" = "auth_invalid" ] && pass "auth_invalid after 3 failures" || fail "state: $OUT"
reason=$(echo "$OUT" | jq -r .state_reason)
expect_in "$reason" "AADSTS50173" "reason names the AADSTS code"
[ "$(echo "$OUT" | jq -r .fix.code)" = reauthorize ] && pass "the fix is to authorize again" || fail "fix: $(echo "$OUT" | jq -c .fix)"
expect_in "$(ibx account show work)" "inboxsync account authorize work" "account show names the command"
after=$(tokens)
[ $((after - before)) -eq 3 ] && pass "exactly 3 token requests" || fail "token requests: $((after - before))"

graph_requests() { sim_counter '[.requests | to_entries[] | select(.key | contains("/_sim/") | not) | .value[]] | add'; }
requests=$(graph_requests)
run ibx sync work
expect_rc 4 "auth_invalid: sync refused"
expect_in "$ERR" "auth_invalid" "says auth_invalid"
run ibx account test work
expect_rc 4 "auth_invalid: test refused"
run ibx send work --to bob@contoso.com --subject x --body y
expect_rc 4 "auth_invalid blocks sending"
expect_in "$ERR" "authorize" "names the fix for sending"
[ "$(graph_requests)" = "$requests" ] && pass "no request to Microsoft while auth_invalid" || fail "requests while auth_invalid: $requests -> $(graph_requests)"

# authorizing again clears it
authorize work adele@contoso.com
expect_rc 0 "authorize again"
run ibx --json account show work
[ "$(echo "$OUT" | jq -r .state)" = "confirmed" ] && pass "auth_invalid cleared" || fail "state after re-authorize: $OUT"
[ "$(echo "$OUT" | jq .auth_failures)" = "0" ] && pass "failures reset" || fail "failures: $OUT"
run ibx sync work
expect_rc 0 "sync works again"

# temporary failures at the token endpoint never count
sim_admin POST faults '{"kind":"503","path":"/oauth2/v2.0/token","count":4}' >/dev/null
for i in 1 2; do
	run ibx sync work
	expect_rc 5 "503 from the token endpoint is temporary ($i)"
done
sim_admin POST faults '{"kind":"drop","path":"/oauth2/v2.0/token","count":2}' >/dev/null
for i in 1 2; do
	run ibx sync work
	expect_rc 5 "a dropped connection is temporary ($i)"
done
run ibx --json account show work
[ "$(echo "$OUT" | jq .auth_failures)" = "0" ] && pass "temporary failures not counted" || fail "failures: $OUT"
[ "$(echo "$OUT" | jq -r .state)" != "auth_invalid" ] && pass "never auth_invalid on 503s" || fail "auth_invalid after 503s"
sim_admin DELETE faults >/dev/null
run ibx sync work
expect_rc 0 "recovers when the service does"
grep -a -E -q 'Bearer [A-Za-z0-9]' "$INBOXSYNC_HOME/inboxsync.log" && fail "bearer token in the log" || pass "no bearer token in the log"
finish
