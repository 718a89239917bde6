#!/usr/bin/env bash
# tests/fuzz/seeds.sh — (re)make the seed corpora of the fuzz targets from
# m365sim's real answers: delta pages and listings, $batch answers, Graph
# error bodies, token-endpoint answers and errors, id_tokens and the
# device-code flow. Hand-written seeds (Graph's documented shapes from
# PROTOCOL.md, IMAP/SMTP replies, MIME fields) live next to them and are
# not touched. Needs a built m365sim (BUILD_DIR, default build/), curl, jq
# and openssl. Run it after the simulator's answers change, then commit.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
export BUILD_DIR=${BUILD_DIR:-$root/build}
corpus=$root/tests/fuzz/corpus
. "$root/tests/e2e/lib_sim.sh"
trap 'sim_stop >/dev/null 2>&1 || true' EXIT

# put TARGET NAME: stdin becomes corpus/TARGET/sim_NAME, the simulator's
# address replaced by Graph's (the targets' drivers take links only from
# their own origin, https://graph.microsoft.com).
put() {
	mkdir -p "$corpus/$1"
	sed "s|$SIM_URL|https://graph.microsoft.com|g" >"$corpus/$1/sim_$2"
}
# put_op TARGET NAME OP MOD: the same, padded with spaces (JSON allows
# them) to a length whose remainder by MOD is OP: the targets that drive
# several requests pick one by the input's length.
put_op() {
	local f=$corpus/$1/sim_$2
	put "$1" "$2"
	while [ $(($(stat -c %s "$f") % $4)) -ne "$3" ]; do printf ' ' >>"$f"; done
}
# header STATUS [BYTE...]: the binary prefix of the error targets (status
# as two bytes of STATUS-100, then the given bytes).
header() {
	local s=$(($1 - 100)); shift
	printf "\\x$(printf %02x $((s >> 8)))\\x$(printf %02x $((s & 255)))"
	for b in "$@"; do printf "\\x$(printf %02x "$b")"; done
}
# answer METHOD URL [BODY]: "STATUS\n" then the body, with the token.
answer() {
	local out code
	out=$(mktemp)
	code=$(curl -s -o "$out" -w '%{http_code}' -X "$1" -H "Authorization: Bearer ${TOKEN:-none}" \
		-H 'Prefer: odata.maxpagesize=3, IdType="ImmutableId"' \
		-H 'Content-Type: application/json' ${3:+--data-binary "$3"} "$2")
	printf '%s\n' "$code"
	cat "$out"
	rm -f "$out"
}
status_of() { head -n1; }
body_of() { tail -n +2; }
token_call() { # token_call FORM-ARGS... : the token endpoint's raw answer
	curl -s -w '\n%{http_code}' "$SIM_URL/common/oauth2/v2.0/token" "$@"
}

sim_start --quiet --messages 30 --seed 7
sim_login adele@contoso.com
TOKEN=$SIM_ACCESS_TOKEN
G=$SIM_URL/v1.0
SELECT='id,changeKey,conversationId,internetMessageId,subject,from,toRecipients,ccRecipients,receivedDateTime,sentDateTime,isRead,isDraft,flag,hasAttachments,parentFolderId,bodyPreview,categories'
delta="$G/me/mailFolders/inbox/messages/delta?\$select=$SELECT&\$orderby=receivedDateTime%20desc"
# (pages of 3: libFuzzer reads at most 4 KiB of a seed)

# ---- pages ----
answer GET "$delta" | body_of | put fuzz_graph_page delta_first
link=$delta
while :; do
	page=$(answer GET "$link" | body_of)
	next=$(printf '%s' "$page" | jq -r '."@odata.nextLink" // empty')
	[ -n "$next" ] || break
	link=$next
done
printf '%s' "$page" | put fuzz_graph_page delta_last
dlink=$(printf '%s' "$page" | jq -r '."@odata.deltaLink"')
M=/_sim/mailboxes/adele@contoso.com
first=$(sim_admin GET "$M/messages?folder=inbox" | jq -r '.messages[0].id')
second=$(sim_admin GET "$M/messages?folder=inbox" | jq -r '.messages[1].id')
sim_admin PATCH "$M/messages/$first" '{"isRead":true,"flag":"flagged","categories":["Red"]}' >/dev/null
sim_admin DELETE "$M/messages/$second?permanent=true" >/dev/null
sim_admin POST "$M/messages" '{"subject":"Grüße — new","from":{"name":"Bob","address":"bob@fabrikam.com"},"cc":["c@fabrikam.com"]}' >/dev/null
answer GET "$dlink" | body_of | put fuzz_graph_page delta_changes
answer GET "$G/me/mailFolders/inbox/messages?\$select=$SELECT&\$orderby=receivedDateTime%20desc&\$top=3" |
	body_of | put fuzz_graph_page list_newest

# ---- $batch ----
# (small pages: libFuzzer reads at most 4 KiB of a seed)
batch=$(jq -nc --arg l "${dlink#"$G"}" '{requests:[
	{id:"1",method:"GET",url:"/me/mailFolders/inbox/messages/delta?$select=id,subject,isRead",
	 headers:{Prefer:"odata.maxpagesize=2"}},
	{id:"2",method:"GET",url:$l,dependsOn:["1"]},
	{id:"3",method:"GET",url:"/me/messages/AAMkAGnope?$select=id,parentFolderId"},
	{id:"4",method:"GET",url:"/me/mailFolders/sentitems/messages/delta?$select=id,isRead",
	 headers:{Prefer:"odata.maxpagesize=2"}}]}')
answer POST "$G/\$batch" "$batch" | body_of | put_op fuzz_graph_batch poll_mixed 0 3
sim_admin POST /_sim/faults '{"kind":"429","path":"sentitems","retry_after":7}' >/dev/null
answer POST "$G/\$batch" "$batch" | body_of | put_op fuzz_graph_batch poll_throttled_item 1 3
sim_admin DELETE /_sim/faults >/dev/null
ids=$(sim_admin GET "$M/messages" | jq -c '[.messages[0:5][] | .id]')
locate=$(jq -nc --argjson ids "$ids" '{requests:[$ids | to_entries[] |
	{id:"\(.key + 1)",method:"GET",url:"/me/messages/\(.value)?$select=id,parentFolderId"}]}')
answer POST "$G/\$batch" "$locate" | body_of | put_op fuzz_graph_batch locate 2 3

# ---- other answers of the driver (op numbers: fuzz_graph_answers.c) ----
A=fuzz_graph_answers
answer GET "$G/me?\$select=id,displayName,mail,userPrincipalName" | body_of | put_op $A me 0 9
walk=$(jq -nc '{requests:([{id:"1",method:"GET",url:"/me/mailFolders?$top=100&includeHiddenFolders=true"}] +
	([["inbox",2],["sentitems",3],["drafts",4],["deleteditems",5],["archive",6],["junkemail",7]] |
	 map({id:"\(.[1])",method:"GET",url:"/me/mailFolders/\(.[0])?$select=id",dependsOn:["\(.[1] - 1)"]})))}')
answer POST "$G/\$batch" "$walk" | body_of | put_op $A folder_walk 1 9
answer GET "$G/me/mailFolders?\$top=100&includeHiddenFolders=true" | body_of | put_op $A folder_listing 1 9
answer GET "$delta" | body_of | put_op $A delta_first 2 9
answer GET "$dlink" | body_of | put_op $A delta_link 3 9
answer GET "$G/me/mailFolders/inbox/messages?\$select=$SELECT&\$top=2" | body_of | put_op $A newest 4 9
answer GET "$G/me/messages/$first?\$select=body" | body_of | put_op $A body 5 9
answer GET "$G/me/messages/$first?\$select=id,isDraft,parentFolderId,internetMessageId,conversationId" |
	body_of | put_op $A state 6 9
imid=$(answer GET "$G/me/messages/$first?\$select=internetMessageId" | body_of | jq -r .internetMessageId)
answer GET "$G/me/messages?\$filter=internetMessageId%20eq%20'$(jq -rn --arg v "$imid" '$v|@uri')'&\$select=id,isDraft,parentFolderId,internetMessageId,conversationId" |
	body_of | put_op $A find_by_message_id 7 9
mime=$(printf 'From: adele@contoso.com\r\nTo: bob@contoso.com\r\nSubject: seed\r\nMessage-ID: <seed.inboxsync@contoso.com>\r\n\r\nbody\r\n' | base64 -w0)
curl -s -H "Authorization: Bearer $TOKEN" -H 'Content-Type: text/plain' -H 'Prefer: IdType="ImmutableId"' \
	--data-binary "$mime" "$G/me/messages" | put_op $A draft 8 9

# ---- Graph errors (status, Retry-After byte, target byte, body) ----
err_seed() { # err_seed NAME TARGET-BYTE METHOD URL [BODY]
	local name=$1 tb=$2 out status; shift 2
	out=$(answer "$@")
	status=$(printf '%s\n' "$out" | status_of)
	{ header "$status" 255 "$tb"; printf '%s\n' "$out" | body_of; } | put fuzz_graph_error "$name"
}
err_seed 404_message 2 GET "$G/me/messages/AAMkAGnope"
err_seed 400_bad_top 1 GET "$G/me/mailFolders/inbox/messages?\$top=abc"
sim_admin POST "$M/expire-delta" '{"folder":"inbox"}' >/dev/null
err_seed 410_sync_state 1 GET "$dlink"
sim_admin POST /_sim/faults '{"kind":"429","count":1,"retry_after":3}' >/dev/null
err_seed 429_throttled 1 GET "$G/me/mailFolders"
sim_admin POST /_sim/faults '{"kind":"503","count":1}' >/dev/null
err_seed 503_unavailable 0 GET "$G/me"
sim_admin POST /_sim/faults '{"kind":"500","count":1}' >/dev/null
err_seed 500_internal 2 GET "$G/me/messages/$first"
TOKEN=not-a-token err_seed 401_bad_token 0 GET "$G/me"

# ---- the token endpoint ----
sim_login adele@contoso.com
refresh() { # refresh RT [SECRET]: the token endpoint's answer then its status
	token_call --data-urlencode grant_type=refresh_token --data-urlencode "client_id=$SIM_CLIENT_ID" \
		--data-urlencode "client_secret=${2:-$SIM_CLIENT_SECRET}" --data-urlencode "refresh_token=$1" \
		--data-urlencode "scope=offline_access Mail.ReadWrite"
}
oauth_seed() { # oauth_seed NAME (stdin: body, last line the status)
	local all status
	all=$(cat)
	status=$(printf '%s\n' "$all" | tail -n1)
	{ header "$status" 0; printf '%s\n' "$all" | sed '$d'; } | put fuzz_oauth_error "$1"
}
ok=$(refresh "$SIM_REFRESH_TOKEN" | sed '$d')
printf '%s' "$ok" | put fuzz_token_response refresh
idt=$(printf '%s' "$ok" | jq -r .id_token)
printf '%s' "$idt" | put fuzz_id_token id_token
printf '%s' "$idt" | cut -d. -f2 | tr '_-' '/+' | base64 -d 2>/dev/null | put fuzz_id_token claims || true
refresh "0.AAA-not-a-refresh-token" | oauth_seed invalid_grant
refresh "$SIM_REFRESH_TOKEN" wrong-secret | oauth_seed invalid_client
sim_admin POST /_sim/users/adele@contoso.com/revoke >/dev/null
refresh "$SIM_REFRESH_TOKEN" | oauth_seed revoked
sim_admin POST /_sim/faults '{"kind":"429","path":"token","count":1,"retry_after":2}' >/dev/null
refresh "$SIM_REFRESH_TOKEN" | oauth_seed throttled
sim_admin POST /_sim/faults '{"kind":"503","path":"token","count":1}' >/dev/null
refresh "$SIM_REFRESH_TOKEN" | oauth_seed unavailable

# ---- device code ----
sim_admin POST /_sim/config '{"device_code_interval":0}' >/dev/null
dc=$(curl -s "$SIM_URL/organizations/oauth2/v2.0/devicecode" --data-urlencode "client_id=$SIM_CLIENT_ID" \
	--data-urlencode "scope=openid offline_access Mail.Read")
printf '%s' "$dc" | put fuzz_device_code start
poll() {
	curl -s -w '\n%{http_code}' "$SIM_URL/organizations/oauth2/v2.0/token" \
		--data-urlencode grant_type=urn:ietf:params:oauth:grant-type:device_code \
		--data-urlencode "client_id=$SIM_CLIENT_ID" --data-urlencode "client_secret=$SIM_CLIENT_SECRET" \
		--data-urlencode "device_code=$(printf '%s' "$dc" | jq -r .device_code)"
}
poll | sed '$d' | put fuzz_device_code pending
poll | oauth_seed device_pending
sim_admin POST /_sim/device/approve "{\"user_code\":\"$(printf '%s' "$dc" | jq -r .user_code)\",\"email\":\"bob@contoso.com\"}" >/dev/null
poll | sed '$d' | put fuzz_device_code approved
echo "seeds.sh: $(find "$corpus" -name 'sim_*' | wc -l) seeds from m365sim in $corpus"
