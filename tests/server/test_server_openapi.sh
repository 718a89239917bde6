#!/usr/bin/env bash
# test_server_openapi.sh — the OpenAPI document and the server agree both
# ways: every route the server dispatches is documented (same method, path
# and caller), every documented operation is a route; the document served
# at /api/v1/openapi.json is the one in the repository; and every route
# answers — unauthenticated with 401 where it needs a caller.
. "$(dirname "$0")/lib_server.sh"
ibx serve --routes >"$TEST_TMP/routes.jsonl"
if out=$(NODE_PATH="$SERVER_NODE_MODULES" node "$SERVER_DIR/api_check.js" routes \
	"$SOURCE_DIR/docs/openapi.json" "$TEST_TMP/routes.jsonl" 2>&1); then
	pass "route table and document agree ($out)"
else
	fail "route table and document differ: $out"
fi
server_up
api - GET /api/v1/openapi.json
expect_status 200 "the document is served"
if [ "$(echo "$BODY" | jq -S .)" = "$(jq -S . "$SOURCE_DIR/docs/openapi.json")" ]; then
	pass "it is docs/openapi.json"
else
	fail "the served document differs from docs/openapi.json"
fi
[ "$(echo "$BODY" | jq -r .openapi)" = 3.1.0 ] && pass "OpenAPI 3.1" || fail "not OpenAPI 3.1"
# Every route answers: a caller is needed (401) or it answers itself.
while IFS=$'\t' read -r method path who; do
	path=${path//\{id\}/1}
	path=$(echo "$path" | sed -e 's/{[a-z_]*}/1/g')
	api - "$method" "$path" '{}'
	if [ "$who" = anyone ]; then
		case "$STATUS" in 404|405|000) fail "$method $path (anyone) answered $STATUS" ;; *) : ;; esac
	elif [ "$STATUS" != 401 ]; then
		fail "$method $path without credentials: HTTP $STATUS, want 401"
	fi
done < <(jq -r '[.method, .path, .who] | @tsv' "$TEST_TMP/routes.jsonl")
pass "every route answers; those that need a caller say 401 without one"
api - GET /api/v1/no-such-route
expect_status 404 "an unknown API path is 404"
api - PUT /api/v1/me '{}'
expect_status 405 "a known path with another method is 405"
# The web UI: built in, with content types, ETags and a strict CSP.
curl -s -D "$TEST_TMP/h" -o "$TEST_TMP/index" "$SRV_URL/"
grep -qi '^content-type: text/html' "$TEST_TMP/h" && pass "/ is the UI's page" || fail "$(cat "$TEST_TMP/h")"
cmp -s "$TEST_TMP/index" "$SOURCE_DIR/web/index.html" && pass "web/index.html, built in" || fail "another page"
grep -qi "^content-security-policy: default-src 'self'" "$TEST_TMP/h" && pass "CSP default-src 'self'" || fail "no strict CSP"
etag=$(grep -i '^etag:' "$TEST_TMP/h" | cut -d' ' -f2 | tr -d '\r')
[ -n "$etag" ] && [ "$(curl -s -o /dev/null -w '%{http_code}' -H "If-None-Match: $etag" "$SRV_URL/")" = 304 ] &&
	pass "an ETag, and 304 when it matches" || fail "etag '$etag'"
[ "$(curl -s -o /dev/null -w '%{content_type}' "$SRV_URL/style.css")" = "text/css; charset=utf-8" ] &&
	pass "CSS as text/css" || fail "style.css type"
[ "$(curl -s -o /dev/null -w '%{http_code}' "$SRV_URL/nope.js")" = 404 ] && pass "a missing file is 404" || fail "nope.js"
[ "$(curl -s -o /dev/null -w '%{http_code}' "$SRV_URL/accounts/7")" = 200 ] && pass "the UI's own routes get the page" || fail "spa route"
[ "$(curl -s -o /dev/null -w '%{http_code}' "$SRV_URL/../../etc/passwd" --path-as-is)" = 404 ] && pass "no way out of web/" || fail "traversal"
grep -qi '^cache-control: no-store' <<<"$HEADERS" && pass "API answers are not cached" || fail "cache-control"
validate_log
server_stop
expect_rc 0 "SIGTERM: exit 0"
finish
