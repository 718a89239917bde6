# lib_soak.sh — the pieces of the soak test (test_soak.sh): many simulator
# mailboxes made at once, accounts connected through /oauth/callback in a
# loop, the server's RSS and open descriptors, one random fault or mailbox
# change at a time (the fault script), and an account compared with the
# simulator's true mailbox over the API. Sourced after lib_server.sh.

# soak_email I: the simulator address of mailbox I.
soak_email() { printf 's%d@contoso.com' "$1"; }

# soak_parallel CONFIG: the curl config's requests, 8 at a time (blocks
# separated by "next" lines; a trailing one is dropped).
soak_parallel() {
	sed -i '$ { /^next$/d }' "$1"
	curl -s --no-progress-meter --fail-with-body --parallel --parallel-max 8 -K "$1" >/dev/null
}

# soak_make_mailboxes N PER: simulator users s1..sN, PER seeded messages
# each, spread over Inbox, Sent Items, Archive and Inbox/Projects.
soak_make_mailboxes() {
	local cfg="$TEST_TMP/mailboxes.cfg" i
	: >"$cfg"
	for i in $(seq 1 "$1"); do
		printf 'url = "%s/_sim/users"\nheader = "Content-Type: application/json"\ndata = "{\\"email\\":\\"%s\\"}"\nnext\n' \
			"$SIM_URL" "$(soak_email "$i")" >>"$cfg"
	done
	soak_parallel "$cfg"
	: >"$cfg"
	for i in $(seq 1 "$1"); do
		printf 'url = "%s/_sim/mailboxes/%s/seed"\nheader = "Content-Type: application/json"\ndata = "{\\"count\\":%d,\\"seed\\":%d}"\nnext\n' \
			"$SIM_URL" "$(soak_email "$i")" "$2" "$i" >>"$cfg"
	done
	soak_parallel "$cfg"
}

# soak_connect TOKEN I: account m<I> for mailbox I, created over the API and
# authorized through /oauth/callback (the simulator approves that address:
# one account at a time); "I<TAB>ID<TAB>EMAIL" is appended to
# $TEST_TMP/accounts.tsv. Returns 1 when it did not connect.
soak_connect() {
	local token=$1 i=$2 email id url
	email=$(soak_email "$i")
	api "$token" POST /api/v1/accounts "{\"name\":\"m$i\",\"email\":\"$email\"}"
	[ "$STATUS" = 201 ] || { echo "account m$i: HTTP $STATUS $BODY" >&2; return 1; }
	id=$(echo "$BODY" | jq -r .id)
	sim_admin POST auto-approve "{\"email\":\"$email\"}" >/dev/null
	api "$token" POST "/api/v1/accounts/$id/authorize" '{}'
	url=$(echo "$BODY" | jq -r .authorization_url)
	curl -s -L -o "$TEST_TMP/callback.html" "$url"
	api "$token" GET "/api/v1/accounts/$id"
	[ "$(echo "$BODY" | jq -r .incoming.status)" = confirmed ] ||
		{ echo "account m$i: not confirmed: $BODY" >&2; return 1; }
	printf '%s\t%s\t%s\n' "$i" "$id" "$email" >>"$TEST_TMP/accounts.tsv"
}

# soak_fetch_folders TOKEN: every connected account's folders fetched (which
# selects the default ones and asks for a sync), 8 at a time.
soak_fetch_folders() {
	local cfg="$TEST_TMP/fetch.cfg" id
	: >"$cfg"
	while IFS=$'\t' read -r _ id _; do
		printf 'url = "%s/api/v1/accounts/%s/folders/fetch"\nheader = "Authorization: Bearer %s"\nrequest = "POST"\nnext\n' \
			"$SRV_URL" "$id" "$1" >>"$cfg"
	done <"$TEST_TMP/accounts.tsv"
	soak_parallel "$cfg"
}

# soak_all_live TOKEN: every selected folder of every account live (the
# accounts' folders_selected against /metrics' live folders).
soak_all_live() {
	local m live selected
	api "$1" GET /api/v1/accounts
	selected=$(echo "$BODY" | jq '[.accounts[].folders_selected] | add // 0')
	m=$(curl -s "$SRV_URL/metrics")
	live=$(echo "$m" | awk '$1 == "inboxsync_folders{phase=\"live\"}" { print $2 + 0 }')
	[ "$selected" -gt 0 ] && [ "${live:-0}" = "$selected" ] &&
		[ "$(echo "$m" | awk '/^inboxsync_folders\{/ && $1 !~ /"live"/ { n += $2 } END { print n + 0 }')" = 0 ]
}

# soak_until SECONDS CMD...: until CMD succeeds, checking every second;
# returns 1 when SECONDS have passed.
soak_until() {
	local end=$(( $(date +%s) + $1 ))
	shift
	until "$@"; do
		[ "$(date +%s)" -lt "$end" ] || return 1
		sleep 1
	done
}

# soak_sample PID: "RSS_KB FDS" of a process.
soak_sample() {
	printf '%s %s\n' "$(awk '/^VmRSS/ { print $2 }' "/proc/$1/status")" "$(find "/proc/$1/fd" -mindepth 1 -maxdepth 1 | wc -l)"
}

# ---- the fault script: one random action per call ------------------------------------

soak_log() { printf '%s %s\n' "$(date +%s)" "$*" >>"$TEST_TMP/actions.log"; }

# soak_pick_mailbox: a random mailbox number that is not revoked.
soak_pick_mailbox() {
	local i
	for _ in 1 2 3 4 5 6 7 8; do
		i=$(( RANDOM % SOAK_N + 1 ))
		grep -qx "$i" "$TEST_TMP/revoked" || { echo "$i"; return; }
	done
	echo "$i"
}

soak_fault() { # JSON [LOG]: a fault rule, logged as LOG or by its kind
	sim_admin POST faults "$1" >/dev/null && soak_log "${2:-fault-$(echo "$1" | jq -r .kind)} $1"
}

# soak_random_message EMAIL FOLDER: the immutable id of a random message in
# the folder, empty when it has none.
soak_random_message() {
	sim_admin GET "mailboxes/$1/messages?folder=$2&ids=true" |
		jq -r --argjson r "$RANDOM" '.messages | if length == 0 then empty else .[$r % length].id end'
}

# soak_change EMAIL: an ordinary change as another mail client makes it:
# new mail, a message read, moved to Archive or deleted.
soak_change() {
	local email=$1 id folder
	case $(( RANDOM % 4 )) in
	0)
		sim_admin POST "mailboxes/$email/messages" \
			"{\"folder\":\"inbox\",\"subject\":\"soak $RANDOM\",\"from\":\"peer@fabrikam.com\",\"body\":\"hello\"}" >/dev/null &&
			soak_log "new-mail $email"
		;;
	1)
		id=$(soak_random_message "$email" inbox)
		[ -n "$id" ] && sim_admin PATCH "mailboxes/$email/messages/$id" '{"isRead":true}' >/dev/null &&
			soak_log "read $email $id"
		;;
	2)
		id=$(soak_random_message "$email" inbox)
		[ -n "$id" ] && sim_admin POST "mailboxes/$email/messages/$id/move" '{"folder":"archive"}' >/dev/null &&
			soak_log "move $email $id"
		;;
	3)
		[ $(( RANDOM % 2 )) = 0 ] && folder=inbox || folder=archive
		id=$(soak_random_message "$email" "$folder")
		[ -n "$id" ] && sim_admin DELETE "mailboxes/$email/messages/$id" >/dev/null &&
			soak_log "delete $email $id"
		;;
	esac
	return 0
}

# soak_revoke EMAIL: the user's grants revoked and its access tokens
# expired, so the next request needs a refresh that fails for good.
soak_revoke() {
	sim_admin POST "users/$1/revoke" '{}' >/dev/null
	sim_admin POST "users/$1/expire-tokens" '{}' >/dev/null
	soak_log "revoke $1"
}

# soak_step ELAPSED: one random action. Half are mailbox changes; the rest
# are 429 storms (all of Microsoft for a few seconds, or a tenth of the
# mailboxes for longer), 503s, dropped connections, slow answers, expired
# delta tokens, expired access tokens, and — in the first half of the run,
# until SOAK_REVOKE mailboxes are revoked — revoked grants.
soak_step() {
	local elapsed=$1 i email k
	i=$(soak_pick_mailbox)
	email=$(soak_email "$i")
	case $(( RANDOM % 20 )) in
	0 | 1 | 2 | 3 | 4 | 5 | 6 | 7 | 8 | 9) soak_change "$email" ;;
	10)
		if [ $(( RANDOM % 3 )) = 0 ]; then
			soak_fault "{\"kind\":\"429\",\"seconds\":$(( RANDOM % 3 + 2 )),\"retry_after\":$(( RANDOM % 3 + 1 ))}" storm-429-all
		else
			soak_log "storm-429-mailboxes $(( SOAK_N / 10 + 1 ))"
			for k in $(seq 1 $(( SOAK_N / 10 + 1 ))); do
				soak_fault "{\"kind\":\"429\",\"mailbox\":\"$(soak_email "$(soak_pick_mailbox)")\",\"seconds\":$(( RANDOM % 10 + 5 )),\"retry_after\":$(( RANDOM % 5 + 1 ))}" storm-rule
			done
		fi
		;;
	11 | 12)
		if [ $(( RANDOM % 2 )) = 0 ]; then
			soak_fault "{\"kind\":\"503\",\"mailbox\":\"$email\",\"count\":$(( RANDOM % 3 + 1 ))}"
		else
			soak_fault "{\"kind\":\"503\",\"mailbox\":\"$email\",\"count\":$(( RANDOM % 3 + 1 )),\"retry_after\":$(( RANDOM % 3 + 1 ))}"
		fi
		;;
	13 | 14) soak_fault "{\"kind\":\"drop\",\"mailbox\":\"$email\",\"count\":$(( RANDOM % 2 + 1 )),\"bytes\":$(( RANDOM % 2000 + 32 ))}" ;;
	15 | 16) soak_fault "{\"kind\":\"slow\",\"mailbox\":\"$email\",\"count\":$(( RANDOM % 2 + 1 )),\"bytes\":4096,\"delay_ms\":$(( RANDOM % 300 + 100 ))}" ;;
	17)
		if [ $(( RANDOM % 2 )) = 0 ]; then
			sim_admin POST "mailboxes/$email/expire-delta" '{}' >/dev/null && soak_log "expire-delta $email"
		else
			sim_admin POST "mailboxes/$email/expire-delta" '{"folder":"inbox"}' >/dev/null && soak_log "expire-delta inbox $email"
		fi
		;;
	18) sim_admin POST "users/$email/expire-tokens" '{}' >/dev/null && soak_log "expire-tokens $email" ;;
	19)
		if [ "$elapsed" -lt $(( SOAK_SECONDS / 2 )) ] && [ "$(wc -l <"$TEST_TMP/revoked")" -lt "$SOAK_REVOKE" ]; then
			echo "$i" >>"$TEST_TMP/revoked"
			soak_revoke "$email"
		else
			soak_change "$email"
		fi
		;;
	esac
}

# ---- the end: the store against the simulator ------------------------------------------

# soak_selected TOKEN ID: the account's selected folder paths (a JSON
# array), kept in $TEST_TMP/selected-ID.json for soak_compare.
soak_selected() {
	api "$1" GET "/api/v1/accounts/$2/folders"
	echo "$BODY" | jq '[.folders[] | select(.selected) | .path]' >"$TEST_TMP/selected-$2.json"
}

# soak_compare TOKEN ID EMAIL: the account's messages (over the API) are
# exactly the simulator's in the account's selected folders (same ids,
# folders, read flags), none twice. Differences in $TEST_TMP/diff.
soak_compare() {
	local token=$1 id=$2 email=$3 cursor=""
	[ -s "$TEST_TMP/selected-$id.json" ] || soak_selected "$token" "$id"
	sim_admin GET "mailboxes/$email/messages" |
		jq -r --slurpfile sel "$TEST_TMP/selected-$id.json" \
			'.messages[] | select(.folderPath as $p | $sel[0] | index($p)) | "\(.id)\t\(.folderPath)\t\(.isRead)"' |
		sort >"$TEST_TMP/server.tsv"
	: >"$TEST_TMP/local.tsv"
	while :; do
		api "$token" GET "/api/v1/accounts/$id/messages?limit=1000${cursor:+&cursor=$cursor}"
		[ "$STATUS" = 200 ] || return 1
		echo "$BODY" | jq -r '.messages[] | "\(.id)\t\(.folder)\t\(.is_read)"' >>"$TEST_TMP/local.tsv"
		cursor=$(echo "$BODY" | jq -r '.next_cursor // empty')
		[ -n "$cursor" ] || break
	done
	sort -o "$TEST_TMP/local.tsv" "$TEST_TMP/local.tsv"
	diff "$TEST_TMP/server.tsv" "$TEST_TMP/local.tsv" >"$TEST_TMP/diff"
}
