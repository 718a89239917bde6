#!/usr/bin/env bash
# test_server_warnings.sh — early warnings before anything fails, on
# `account show`, the API and /metrics: a client secret expiring within
# 30 days (the date the administrator entered), and a grant whose refresh
# token has not been used for 60 of the 90 days after which it lapses; and
# the provider check with the server's redirect URI.
. "$(dirname "$0")/lib_server.sh"
sim_up
soon=$(date -u -d '+10 days' +%Y-%m-%d)
provider_for_sim --client-secret-expires "$soon"
ADMIN=$(make_user root --admin)
server_up
ID=$(connect_account "$ADMIN" work adele@contoso.com)
api "$ADMIN" GET "/api/v1/accounts/$ID"
[ "$(echo "$BODY" | jq -r '.warnings[].code')" = client_secret_expiring ] && pass "the API warns of the expiring secret" || fail "$BODY"
run ibx account show work
expect_in "$OUT" "client secret expires on ${soon}" "account show warns too"
curl -s "$SRV_URL/metrics" >"$TEST_TMP/m.txt"
grep -Eq '^inboxsync_client_secret_expires_in_seconds [0-9]+' "$TEST_TMP/m.txt" && pass "and /metrics" || fail "no secret expiry metric"
grep -q '^inboxsync_stale_grants 0' "$TEST_TMP/m.txt" && pass "no stale grant yet" || fail "$(grep stale "$TEST_TMP/m.txt")"
old=$(( $(date +%s) - 61 * 86400 ))
sqlite3 "$INBOXSYNC_HOME/inboxsync.db" "UPDATE credentials SET used_at = $old, updated_at = $old"
api "$ADMIN" GET "/api/v1/accounts/$ID"
echo "$BODY" | jq -e '.warnings[] | select(.code=="grant_unused")' >/dev/null && pass "a grant unused for 61 days is warned about" || fail "$BODY"
run ibx account show work
expect_in "$OUT" "not been used for 61 days" "account show names the days"
curl -s "$SRV_URL/metrics" | grep -q '^inboxsync_stale_grants 1' && pass "/metrics counts the stale grant" || fail "stale grants metric"
api "$ADMIN" POST /api/v1/provider/check '{}'
expect_status 200 "provider check"
expect_in "$(echo "$BODY" | jq -r '.checks[] | select(.name=="redirect_uri") | .message')" "$SRV_URL/oauth/callback" \
	"it names the redirect URI to register"
[ "$(echo "$BODY" | jq -r '.checks[] | select(.name=="app_registration") | .ok')" = true ] && pass "the app registration is proven" || fail "$BODY"
[ "$(echo "$BODY" | jq -r '.checks[] | select(.name=="client_secret_expiry") | .ok')" = false ] && pass "and the expiry flagged" || fail "$BODY"
sim_admin POST "apps/$SIM_CLIENT_ID/secret" '{"secret":"rotated"}' >/dev/null
api "$ADMIN" POST /api/v1/provider/check '{}'
reg=$(echo "$BODY" | jq -r '.checks[] | select(.name=="app_registration") | "\(.ok) \(.message) \(.fix)"')
expect_in "$reg" "false" "a wrong secret fails the check"
expect_in "$reg" "secret" "and says the secret is wrong"
api "$ADMIN" PUT /api/v1/provider '{"client_secret":"rotated","client_secret_expires_at":""}'
expect_status 200 "the administrator enters the new secret"
[ "$(echo "$BODY" | jq 'has("client_secret_sealed") or (.client_secret == "rotated")')" = false ] && pass "the secret is never returned" || fail "$BODY"
api "$ADMIN" POST /api/v1/provider/check '{}'
[ "$(echo "$BODY" | jq -r .ok)" = true ] && pass "the check passes again" || fail "$BODY"
api "$ADMIN" GET "/api/v1/accounts/$ID"
[ "$(echo "$BODY" | jq '[.warnings[] | select(.code=="client_secret_expiring")] | length')" = 0 ] && pass "the secret warning is gone" || fail "$BODY"
validate_log
server_stop
expect_rc 0 "SIGTERM: exit 0"
finish
