#!/usr/bin/env bash
# test_server_auth.sh — who may do what: users and tokens from the CLI and
# the API, revoked tokens, admin routes (403 for others), another user's
# account, webhook and token on every route of the table (404, exactly as
# a missing id), sessions with HttpOnly/SameSite cookies and CSRF tokens,
# sign-in throttling (429 with Retry-After), and hostile bodies: too large
# (413), not JSON (400), wrong types (400), unknown fields (ignored).
. "$(dirname "$0")/lib_server.sh"
sim_up
provider_for_sim
ADMIN=$(make_user root --admin)
ALICE=$(make_user alice)
BOB=$(make_user bob)
server_up

# ---- tokens and users ------------------------------------------------------
api "$ALICE" GET /api/v1/me
expect_status 200 "a token from the CLI works"
[ "$(echo "$BODY" | jq -r .username)" = alice ] && pass "it acts for alice" || fail "me: $BODY"
api "$ALICE" POST /api/v1/tokens '{"label":"ci"}'
expect_status 201 "a user creates a token"
NEW=$(echo "$BODY" | jq -r .token)
NEW_ID=$(echo "$BODY" | jq -r .id)
api "$NEW" GET /api/v1/me
expect_status 200 "the new token works"
api "$ALICE" GET /api/v1/tokens
[ "$(echo "$BODY" | jq '[.tokens[] | select(has("token") or has("hash"))] | length')" = 0 ] &&
	pass "listed tokens carry neither the token nor its hash" || fail "tokens listed: $BODY"
api "$ALICE" DELETE "/api/v1/tokens/$NEW_ID"
expect_status 204 "the token is revoked"
api "$NEW" GET /api/v1/me
expect_status 401 "a revoked token is refused"
api "${ALICE}x" GET /api/v1/me
expect_status 401 "a token with a wrong secret is refused"
api "ibx_1_$(printf 'A%.0s' $(seq 43))" GET /api/v1/me
expect_status 401 "a made-up token is refused"
ibx token list alice >"$TEST_TMP/tokens.txt"
grep -q "ibx_" "$TEST_TMP/tokens.txt" && fail "token list shows a token" || pass "token list shows no token"
! grep -rq -- "$ALICE" "$INBOXSYNC_HOME"/inboxsync.db* && pass "the token is not in the store" || fail "token stored"
grep -q 'alice-password-1' "$INBOXSYNC_HOME"/inboxsync.db* && fail "password stored" || pass "the password is not in the store"

api "$ALICE" GET /api/v1/users
expect_status 403 "users: admin only"
api "$ALICE" GET /api/v1/provider
expect_status 403 "provider: admin only"
api "$ALICE" PUT /api/v1/provider '{"enabled":false}'
expect_status 403 "changing the provider: admin only"
api "$ALICE" DELETE /api/v1/users/bob
expect_status 403 "removing a user: admin only"
api "$ADMIN" POST /api/v1/users '{"username":"carol","password":"carol-password-1","admin":false}'
expect_status 201 "an admin adds a user"
api "$ADMIN" POST /api/v1/users '{"username":"carol","password":"carol-password-1"}'
expect_status 409 "a taken user name is a conflict"
api "$ADMIN" POST /api/v1/users '{"username":"dave","password":"short"}'
expect_status 400 "a short password is refused"
api "$ADMIN" GET /api/v1/users
[ "$(echo "$BODY" | jq -c '[.users[].username] | sort')" = '["alice","bob","carol","local","root"]' ] &&
	pass "users listed" || fail "users: $BODY"
api "$ADMIN" PATCH /api/v1/users/carol '{"password":"carol-password-2"}'
expect_status 200 "an admin sets a password"
api "$ADMIN" DELETE /api/v1/users/local
expect_status 403 "the built-in local user cannot be removed"

# ---- another user's objects: 404 on every route ------------------------------
api "$BOB" POST /api/v1/accounts '{"name":"bobs","email":"bob@contoso.com"}'
expect_status 201 "bob creates an account"
BOB_ACC=$(echo "$BODY" | jq -r .id)
api "$BOB" POST /api/v1/webhooks "{\"url\":\"http://127.0.0.1:9/hook\"}"
expect_status 201 "bob creates a webhook"
BOB_HOOK=$(echo "$BODY" | jq -r .id)
BOB_TOKEN_ID=$(ibx --json token list bob | jq -r '.[0].id')
api "$ALICE" GET /api/v1/accounts/999999
MISSING=$(echo "$BODY" | jq -c '.error | {code}')
ibx serve --routes >"$TEST_TMP/routes.jsonl"
n=0
while IFS=$'\t' read -r method path who; do
	case "$path" in
	*/accounts/\{id\}*) id=$BOB_ACC ;;
	*/webhooks/\{id\}*) id=$BOB_HOOK ;;
	*/tokens/\{id\}*) id=$BOB_TOKEN_ID ;;
	*) continue ;;
	esac
	p=${path//\{id\}/$id}
	p=$(echo "$p" | sed -e 's/{[a-z_]*}/x/g')
	api "$ALICE" "$method" "$p" '{}'
	n=$((n + 1))
	if [ "$STATUS" != 404 ] || [ "$(echo "$BODY" | jq -c '.error | {code}')" != "$MISSING" ]; then
		fail "$method $p as alice: HTTP $STATUS $BODY (want 404 as for a missing id)"
	fi
done < <(jq -r '[.method, .path, .who] | @tsv' "$TEST_TMP/routes.jsonl")
pass "$n routes with another user's account, webhook or token id answer 404 like a missing id"
api "$ALICE" GET /api/v1/accounts
[ "$(echo "$BODY" | jq '.accounts | length')" = 0 ] && pass "alice lists none of bob's accounts" || fail "$BODY"
api "$ALICE" GET /api/v1/webhooks
[ "$(echo "$BODY" | jq '.webhooks | length')" = 0 ] && pass "alice lists none of bob's webhooks" || fail "$BODY"
api "$ALICE" GET "/api/v1/changes?account_id=$BOB_ACC"
expect_status 404 "the feed of bob's account is 404 for alice"
api "$ALICE" GET /api/v1/changes
[ "$(echo "$BODY" | jq '.changes | length')" = 0 ] && pass "alice's feed has none of bob's events" || fail "$BODY"
api "$BOB" GET "/api/v1/accounts/$BOB_ACC"
expect_status 200 "bob still sees his account"
api "$ADMIN" GET "/api/v1/accounts/$BOB_ACC"
expect_status 404 "an administrator's API token does not see other users' accounts either"

# ---- sessions and CSRF ---------------------------------------------------------
api - POST /api/v1/session '{"username":"alice","password":"alice-password-1"}' -c "$TEST_TMP/jar"
expect_status 200 "alice signs in"
CSRF=$(echo "$BODY" | jq -r .csrf_token)
cookie=$(grep -i '^set-cookie:' <<<"$HEADERS")
expect_in "$cookie" "HttpOnly" "the cookie is HttpOnly"
expect_in "$cookie" "SameSite=Strict" "the cookie is SameSite=Strict"
expect_not_in "$cookie" "Secure" "no Secure flag behind http"
api - GET /api/v1/me '' -b "$TEST_TMP/jar"
expect_status 200 "the cookie authenticates"
api - POST /api/v1/accounts '{"name":"viaweb","email":"viaweb@contoso.com"}' -b "$TEST_TMP/jar"
expect_status 403 "a write without X-CSRF-Token is refused"
api - POST /api/v1/accounts '{"name":"viaweb","email":"viaweb@contoso.com"}' -b "$TEST_TMP/jar" -H "X-CSRF-Token: wrong"
expect_status 403 "a write with a wrong X-CSRF-Token is refused"
api - POST /api/v1/accounts '{"name":"viaweb","email":"viaweb@contoso.com"}' -b "$TEST_TMP/jar" -H "X-CSRF-Token: $CSRF"
expect_status 201 "a write with the CSRF token works"
api - DELETE /api/v1/session '' -b "$TEST_TMP/jar" -H "X-CSRF-Token: $CSRF"
expect_status 204 "sign out"
api - GET /api/v1/me '' -b "$TEST_TMP/jar"
expect_status 401 "the session is over"
for i in 1 2 3 4 5; do
	api - POST /api/v1/session '{"username":"bob","password":"wrong-password"}'
done
expect_status 401 "wrong passwords are 401"
api - POST /api/v1/session '{"username":"bob","password":"bob-password-1"}'
expect_status 429 "after repeated failures sign-in is throttled"
grep -qi '^retry-after: [0-9]' <<<"$HEADERS" && pass "with Retry-After" || fail "no Retry-After: $HEADERS"
api - POST /api/v1/session '{"username":"nobody","password":"whatever-1"}'
expect_status 401 "an unknown user is the same 401"

# ---- hostile bodies ----------------------------------------------------------------
head -c 2000000 /dev/zero | tr '\0' 'a' >"$TEST_TMP/big"
printf '{"name":"big","email":"big@contoso.com","sender_name":"' >"$TEST_TMP/big.json"
cat "$TEST_TMP/big" >>"$TEST_TMP/big.json"
printf '"}' >>"$TEST_TMP/big.json"
api "$ALICE" POST /api/v1/accounts "" --data-binary "@$TEST_TMP/big.json" -H 'Content-Type: application/json'
expect_status 413 "a 2 MB body is 413"
api "$ALICE" POST /api/v1/accounts "" --data-binary "@$TEST_TMP/big.json" -H 'Content-Type: application/json' -H 'Transfer-Encoding: chunked'
expect_status 413 "a 2 MB chunked body is 413"
api "$ALICE" POST /api/v1/accounts '{"name": "x", '
expect_status 400 "malformed JSON is 400"
[ "$(echo "$BODY" | jq -r .error.code)" = invalid_request ] && pass "code invalid_request" || fail "$BODY"
api "$ALICE" POST /api/v1/accounts '[1,2]'
expect_status 400 "a JSON array body is 400"
api "$ALICE" POST /api/v1/accounts '{"name":5,"email":"five@contoso.com"}'
expect_status 400 "a number for a string is 400"
expect_in "$BODY" "name" "the error names the field"
api "$ALICE" POST /api/v1/accounts '{"email":"x@contoso.com"}'
expect_status 400 "a missing required field is 400"
api "$ALICE" POST /api/v1/accounts '{"name":"extra","email":"extra@contoso.com","colour":"blue","nested":{"a":[1]}}'
expect_status 201 "unknown fields are ignored"
EXTRA=$(echo "$BODY" | jq -r .id)
api "$ALICE" PATCH "/api/v1/accounts/$EXTRA" '{"sender_name":["x"]}'
expect_status 400 "an array for a string is 400"
api "$ALICE" GET "/api/v1/accounts/$EXTRA/messages?limit=abc"
expect_status 400 "a bad query number is 400"
api "$ALICE" POST /api/v1/webhooks '{"url":"ftp://example.com/x"}'
expect_status 400 "a webhook URL that is not http(s) is 400"
api "$ALICE" POST /api/v1/accounts "$(printf '{"name":"nul","email":"a@b.com","sender_name":"a\\u0000b"}')"
[ "$STATUS" = 400 ] || [ "$STATUS" = 201 ] && pass "an escaped NUL neither crashes nor hangs ($STATUS)" || fail "NUL: $STATUS"
api "$ALICE" GET "/api/v1/accounts/$EXTRA%00/messages"
[ "$STATUS" = 404 ] && pass "an encoded NUL in a path is 404" || fail "NUL path: $STATUS"
grep -q -- "$ALICE" "$INBOXSYNC_HOME/inboxsync.log" && fail "a token is in the log" || pass "no token in the log"
grep -q -- "alice-password-1" "$INBOXSYNC_HOME/inboxsync.log" && fail "a password is in the log" || pass "no password in the log"
grep -q -- "$CSRF" "$INBOXSYNC_HOME/inboxsync.log" && fail "a CSRF token is in the log" || pass "no CSRF token in the log"
validate_log
server_stop
expect_rc 0 "SIGTERM: exit 0"
finish
