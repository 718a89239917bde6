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
validate_log
server_stop
expect_rc 0 "SIGTERM: exit 0"
finish
