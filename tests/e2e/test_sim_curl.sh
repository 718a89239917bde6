#!/usr/bin/env bash
# test_sim_curl.sh — m365sim driven by curl and jq alone, the way the issue
# says it will be checked: the start-up JSON line and port file, sign-in with
# --auto-approve, a full delta sync of a folder followed link by link (the
# result equals the admin dump), a change round, device code, and a clean
# exit on SIGTERM.
set -euo pipefail
. "${SOURCE_DIR:-$(dirname "$0")/../..}/tests/e2e/lib_sim.sh"

fail() { echo "FAIL: $*" >&2; exit 1; }
trap 'sim_stop >/dev/null 2>&1 || true' EXIT

# bad command lines are usage errors (exit 2)
bin="${M365SIM_BIN:-${BUILD_DIR:-.}/m365sim}"
set +e
"$bin" --listen 0.0.0.0:0 >/dev/null 2>&1; rc=$?
set -e
[ "$rc" -eq 2 ] || fail "--listen on a non-loopback address should exit 2 (got $rc)"

sim_start --quiet --messages 300 --seed 4 --auto-approve adele@contoso.com
[ "$(printf '%s' "$SIM_INFO" | jq -r .tenant_domain)" = contoso.onmicrosoft.com ] || fail "tenant_domain"
[ "$(printf '%s' "$SIM_INFO" | jq -r '.users | length')" -ge 2 ] || fail "users in the JSON line"
port=$(cat "$_SIM_DIR/port")
[ "$SIM_URL" = "http://127.0.0.1:$port" ] || fail "port file ($port) does not match $SIM_URL"

# --auto-approve: /authorize redirects at once with a code
loc=$(curl -s -o /dev/null -w '%{redirect_url}' -G "$SIM_URL/common/oauth2/v2.0/authorize" \
	--data-urlencode "client_id=$SIM_CLIENT_ID" --data-urlencode response_type=code \
	--data-urlencode redirect_uri=http://localhost:8400/callback --data-urlencode "scope=openid Mail.Read" \
	--data-urlencode state=abc)
case "$loc" in http://localhost:8400/callback\?code=*state=abc*) ;; *) fail "auto-approve redirect: $loc" ;; esac

sim_login adele@contoso.com
auth=(-H "Authorization: Bearer $SIM_ACCESS_TOKEN" -H 'Prefer: odata.maxpagesize=50, IdType="ImmutableId"')

curl -s "${auth[@]}" "$SIM_URL/v1.0/me" | jq -e '.userPrincipalName == "adele@contoso.com"' >/dev/null || fail "/me"
curl -s "${auth[@]}" "$SIM_URL/v1.0/me/mailFolders?\$top=100" | jq -e '[.value[].displayName] | index("Inbox")' >/dev/null || fail "folders"

# full delta sync of Inbox by curl
ids=$(mktemp)
link="$SIM_URL/v1.0/me/mailFolders/inbox/messages/delta?\$select=subject,receivedDateTime&\$orderby=receivedDateTime%20desc"
pages=0
while :; do
	page=$(curl -s "${auth[@]}" "$link")
	printf '%s' "$page" | jq -r '.value[] | select(has("@removed") | not) | .id' >>"$ids"
	pages=$((pages + 1))
	next=$(printf '%s' "$page" | jq -r '."@odata.nextLink" // empty')
	if [ -z "$next" ]; then
		delta=$(printf '%s' "$page" | jq -r '."@odata.deltaLink"')
		break
	fi
	link=$next
done
[ "$pages" -gt 2 ] || fail "expected several pages, got $pages"
sim_admin GET "/_sim/mailboxes/adele@contoso.com/messages?folder=inbox" | jq -r '.messages[].id' | sort >"$ids.truth"
sort "$ids" | diff - "$ids.truth" >/dev/null || fail "delta sync does not match the dump"

# another client acts; the next round sees it
new=$(sim_admin POST /_sim/mailboxes/adele@contoso.com/messages '{"subject":"from curl","from":"x@fabrikam.com"}' | jq -r .id)
round=$(curl -s "${auth[@]}" "$delta")
printf '%s' "$round" | jq -e --arg id "$new" '[.value[].id] | index($id)' >/dev/null || fail "new mail not in the next round"
printf '%s' "$round" | jq -e '."@odata.deltaLink"' >/dev/null || fail "no deltaLink after the change round"

# expired delta token → 410
sim_admin POST /_sim/mailboxes/adele@contoso.com/expire-delta '{"folder":"inbox"}' >/dev/null
code=$(curl -s -o "$ids.410" -w '%{http_code}' "${auth[@]}" "$delta")
[ "$code" = 410 ] || fail "expired deltaLink gave $code"
jq -e '.error.code == "SyncStateNotFound"' "$ids.410" >/dev/null || fail "410 body"

# device code with admin approval
sim_admin POST /_sim/config '{"device_code_interval":0}' >/dev/null
dc=$(curl -s "$SIM_URL/organizations/oauth2/v2.0/devicecode" --data-urlencode "client_id=$SIM_CLIENT_ID" \
	--data-urlencode "scope=openid offline_access Mail.Read")
poll() {
	curl -s "$SIM_URL/organizations/oauth2/v2.0/token" \
		--data-urlencode grant_type=urn:ietf:params:oauth:grant-type:device_code \
		--data-urlencode "client_id=$SIM_CLIENT_ID" --data-urlencode "client_secret=$SIM_CLIENT_SECRET" \
		--data-urlencode "device_code=$(printf '%s' "$dc" | jq -r .device_code)"
}
poll | jq -e '.error == "authorization_pending"' >/dev/null || fail "device code should be pending"
sim_admin POST /_sim/device/approve "{\"user_code\":\"$(printf '%s' "$dc" | jq -r .user_code)\",\"email\":\"bob@contoso.com\"}" >/dev/null
poll | jq -e '.access_token and .refresh_token' >/dev/null || fail "device code approval"

rm -f "$ids" "$ids.truth" "$ids.410"
sim_stop || fail "m365sim did not exit cleanly"
trap - EXIT
echo "ok"
