#!/usr/bin/env bash
# test_soak.sh — `inboxsync serve` with many accounts on m365sim for a
# bounded time while a fault script injects, at random, 429 storms, 503s,
# dropped connections, slow answers, expired delta and access tokens and
# revoked grants, between ordinary mailbox changes (new mail, reads, moves,
# deletes). At the end every account equals the simulator's mailbox, or —
# its grant revoked — is auth_invalid saying why; the server's RSS and open
# descriptors, sampled along the way, are flat after the warm-up; no
# mailbox ever had more than 4 requests in flight or more than Outlook's
# 10,000 requests in a 10-minute window, and the simulator never had to
# throttle on its own; no message was created twice in the change feed.
#
# SOAK_ACCOUNTS (40), SOAK_SECONDS (60): the short run of the suite;
# `make soak` runs 200 accounts for 600 s. SOAK_SAMPLE_S (60 from 300 s
# on, else a fifth of the run), SOAK_MESSAGES per mailbox (30), SOAK_POLL_S (5),
# SOAK_WORKERS (8), SOAK_REVOKE (a twentieth of the accounts, at least 1),
# SOAK_SEED (random; printed), SOAK_REPORT=FILE also writes the samples and
# figures there as JSON.
. "$(dirname "$0")/lib_server.sh"
. "$(dirname "$0")/lib_soak.sh"
SOAK_N=${SOAK_ACCOUNTS:-40}
SOAK_SECONDS=${SOAK_SECONDS:-60}
[ "$SOAK_SECONDS" -ge 300 ] && sample_default=60 || sample_default=$(( SOAK_SECONDS / 5 > 0 ? SOAK_SECONDS / 5 : 1 ))
SAMPLE_S=${SOAK_SAMPLE_S:-$sample_default}
PER=${SOAK_MESSAGES:-30}
POLL=${SOAK_POLL_S:-5}
SOAK_REVOKE=${SOAK_REVOKE:-$(( SOAK_N / 20 > 0 ? SOAK_N / 20 : 1 ))}
SEED=${SOAK_SEED:-$(( $(date +%s) % 32768 ))}
RANDOM=$SEED
echo "soak: $SOAK_N accounts, $SOAK_SECONDS s, seed $SEED"
: >"$TEST_TMP/revoked"
: >"$TEST_TMP/actions.log"
: >"$TEST_TMP/accounts.tsv"

# ---- the world: mailboxes, the server, the accounts ------------------------------------
sim_up
soak_make_mailboxes "$SOAK_N" "$PER" || { echo "cannot make the mailboxes" >&2; exit 1; }
provider_for_sim
OWNER=$(make_user soak)
server_up --workers "${SOAK_WORKERS:-8}" --poll-interval "$POLL"
t0=$(date +%s)
for i in $(seq 1 "$SOAK_N"); do
	soak_connect "$OWNER" "$i" || break
done
connected=$(wc -l <"$TEST_TMP/accounts.tsv")
[ "$connected" = "$SOAK_N" ] && pass "$SOAK_N accounts connected in $(( $(date +%s) - t0 )) s" ||
	{ fail "only $connected of $SOAK_N accounts connected"; finish; }
soak_fetch_folders "$OWNER" || { fail "fetching the folders failed"; finish; }
soak_until 600 soak_all_live "$OWNER" && pass "every account live $(( $(date +%s) - t0 )) s after the first was added" ||
	{ fail "not every account live after 10 minutes: $(curl -s "$SRV_URL/metrics" | grep '^inboxsync_folders')"; finish; }
while IFS=$'\t' read -r _ id _; do soak_selected "$OWNER" "$id"; done <"$TEST_TMP/accounts.tsv"

# ---- the soak: faults and changes, the server sampled ------------------------------------
(
	s=0
	while :; do
		echo "$s $(soak_sample "$SRV_PID")" >>"$TEST_TMP/samples"
		[ "$s" -ge "$SOAK_SECONDS" ] && break
		next=$(( s + SAMPLE_S > SOAK_SECONDS ? SOAK_SECONDS : s + SAMPLE_S ))
		sleep $(( next - s ))
		s=$next
	done
) &
SAMPLER=$!
EXTRA_PIDS="$SAMPLER"
start=$(date +%s)
steps=0
while :; do
	elapsed=$(( $(date +%s) - start ))
	[ "$elapsed" -lt "$SOAK_SECONDS" ] || break
	soak_step "$elapsed"
	steps=$(( steps + 1 ))
	sleep 0.2
done
wait "$SAMPLER"
EXTRA_PIDS=""
sim_admin DELETE faults >/dev/null
kill -0 "$SRV_PID" 2>/dev/null && pass "serve ran through $steps actions" || { fail "serve died"; finish; }
awk '$2 != "storm-rule" { print $2 }' "$TEST_TMP/actions.log" | sort | uniq -c | awk '{ printf " %s %s", $2, $1 } END { print "" }' | sed 's/^/soak: actions:/'
for kind in storm-429 fault-503 fault-drop fault-slow expire-delta revoke; do
	grep -q "^[0-9]* $kind" "$TEST_TMP/actions.log" || echo "soak: note: no $kind this run" >&2
done

# ---- every account converges, or shows its revoked grant ------------------------------
# The faults are over: "sync now" for every account, as an operator would
# after an outage (a long backoff would otherwise only delay the end).
revoked_ids=""
while IFS=$'\t' read -r i id email; do
	grep -qx "$i" "$TEST_TMP/revoked" && revoked_ids="$revoked_ids $id"
	api "$OWNER" POST "/api/v1/accounts/$id/sync" '{}'
done <"$TEST_TMP/accounts.tsv"

# A revoked grant counts toward auth_invalid once per failed refresh, and
# the server tries again 30 s after each counted failure: with nobody
# asking, the account says it is auth_invalid within about a minute.
is_auth_invalid() {
	api "$OWNER" GET "/api/v1/accounts/$1"
	[ "$(echo "$BODY" | jq -r .state)" = auth_invalid ]
}
t_revoked=$(date +%s)
for id in $revoked_ids; do
	if soak_until 120 is_auth_invalid "$id"; then
		api "$OWNER" GET "/api/v1/accounts/$id"
		reason=$(echo "$BODY" | jq -r .state_reason)
		case $reason in
		*AADSTS50173*) pass "revoked $(echo "$BODY" | jq -r .name): auth_invalid, $reason" ;;
		*) fail "revoked $(echo "$BODY" | jq -r .name): auth_invalid without the reason: $reason" ;;
		esac
		[ "$(echo "$BODY" | jq -r .fix.code)" = reauthorize ] || fail "its fix is not to authorize again: $(echo "$BODY" | jq -c .fix)"
	else
		fail "revoked account $id is not auth_invalid: $(echo "$BODY" | jq -c '{state, state_reason, last_error}')"
	fi
done
echo "soak: the revoked accounts took $(( $(date +%s) - t_revoked )) s to say so"

t_settle=$(date +%s)
cp "$TEST_TMP/accounts.tsv" "$TEST_TMP/pending"
while [ -s "$TEST_TMP/pending" ] && [ $(( $(date +%s) - t_settle )) -lt 300 ]; do
	: >"$TEST_TMP/still"
	while IFS=$'\t' read -r i id email; do
		grep -qx "$i" "$TEST_TMP/revoked" && continue
		soak_compare "$OWNER" "$id" "$email" || printf '%s\t%s\t%s\n' "$i" "$id" "$email" >>"$TEST_TMP/still"
	done <"$TEST_TMP/pending"
	mv "$TEST_TMP/still" "$TEST_TMP/pending"
	[ -s "$TEST_TMP/pending" ] && sleep 2
done
converged=$(( connected - $(wc -l <"$TEST_TMP/revoked") ))
if [ -s "$TEST_TMP/pending" ]; then
	fail "$(wc -l <"$TEST_TMP/pending") accounts differ from the simulator 5 minutes after the faults"
	while IFS=$'\t' read -r i id email; do
		soak_compare "$OWNER" "$id" "$email"
		echo "m$i ($email): $(head -4 "$TEST_TMP/diff" | tr '\n' ' ')" >&2
		api "$OWNER" GET "/api/v1/accounts/$id"
		echo "  $(echo "$BODY" | jq -c '{state, last_error, throttled_until}')" >&2
	done < <(head -5 "$TEST_TMP/pending")
else
	pass "all $converged accounts equal the simulator ($(( $(date +%s) - t_settle )) s after the faults)"
fi

t_feed=$(date +%s)
dupes=$(feed_all "$OWNER" 2>/dev/null | jq -r 'select(.type == "message.created") | "\(.account_id) \(.data.message.id)"' |
	sort | uniq -d | wc -l)
[ "$dupes" = 0 ] && pass "no message created twice in the change feed ($(( $(date +%s) - t_feed )) s to read it)" ||
	fail "$dupes messages created twice"

# ---- Outlook's limits -------------------------------------------------------------------
sim_admin GET counters >"$TEST_TMP/counters.json"
peak=$(jq '[.in_flight_peak[]] | max // 0' "$TEST_TMP/counters.json")
window=$(jq '[.rate_window_peak[]] | max // 0' "$TEST_TMP/counters.json")
limit=$(sim_admin GET config | jq '.rate_limit.requests')
[ "$peak" -le 4 ] && pass "at most $peak requests in flight per mailbox" ||
	fail "a mailbox had $peak requests in flight: $(jq -c '.in_flight_peak | to_entries | map(select(.value > 4))' "$TEST_TMP/counters.json")"
[ "$window" -le "$limit" ] && pass "at most $window requests per mailbox in a rate window (limit $limit)" ||
	fail "a mailbox asked $window requests in one window (limit $limit)"
[ "$(jq '.events.throttled // 0' "$TEST_TMP/counters.json")" = 0 ] && pass "the simulator never throttled on its own" ||
	fail "the simulator throttled $(jq '.events.throttled' "$TEST_TMP/counters.json") requests on its own"

# ---- RSS and descriptors flat after the warm-up -----------------------------------------
# The sample one interval in (the first faults, re-bootstraps and refreshes
# behind it) is the warm-up; the last may be at most 1.3 times it, plus a
# little (4 MB, 8 descriptors). An ASan build keeps freed memory in
# quarantine, so there only the descriptors are held to it.
echo "soak: samples (seconds into the soak, RSS kB, open fds):"
sed 's/^/soak:   /' "$TEST_TMP/samples"
read -r _ warm_rss warm_fd < <(sed -n 2p "$TEST_TMP/samples")
read -r _ last_rss last_fd < <(tail -n 1 "$TEST_TMP/samples")
max_rss=$(awk '{ if ($2 > m) m = $2 } END { print m }' "$TEST_TMP/samples")
if ldd "$INBOXSYNC_BIN" 2>/dev/null | grep -q libasan; then
	echo "soak: ASan build: RSS not checked"
elif [ "$last_rss" -le $(( warm_rss * 13 / 10 + 4096 )) ]; then
	pass "RSS flat: $warm_rss kB after the warm-up, $last_rss kB at the end (peak $max_rss kB)"
else
	fail "RSS grew: $warm_rss kB after the warm-up, $last_rss kB at the end"
fi
[ "$last_fd" -le $(( warm_fd * 13 / 10 + 8 )) ] && pass "descriptors flat: $warm_fd after the warm-up, $last_fd at the end" ||
	fail "descriptors grew: $warm_fd after the warm-up, $last_fd at the end"

if [ -n "${SOAK_REPORT:-}" ]; then
	jq -n --rawfile s "$TEST_TMP/samples" --argjson n "$SOAK_N" --argjson secs "$SOAK_SECONDS" \
		--argjson seed "$SEED" --argjson steps "$steps" --argjson peak "$peak" --argjson window "$window" \
		--arg date "$(date -u +%Y-%m-%d)" --argjson revoked "$(wc -l <"$TEST_TMP/revoked")" \
		--rawfile actions "$TEST_TMP/actions.log" \
		'{date:$date, accounts:$n, seconds:$secs, seed:$seed, actions:$steps, revoked:$revoked,
		  in_flight_peak:$peak, rate_window_peak:$window,
		  action_counts:([$actions | split("\n")[] | select(length > 0) | split(" ")[1] | select(. != "storm-rule")] | group_by(.) | map({(.[0]): length}) | add),
		  samples:[$s | split("\n")[] | select(length > 0) | split(" ") | map(tonumber) | {s:.[0], rss_kb:.[1], fds:.[2]}]}' \
		>"$SOAK_REPORT"
fi

server_stop
expect_rc 0 "serve stops with exit 0 on SIGTERM"
finish
