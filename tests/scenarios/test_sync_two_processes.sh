#!/usr/bin/env bash
# test_sync_two_processes.sh — one mailbox is synchronized by one process at
# a time: two `sync big --until-complete` started together on one data dir
# never have more than the promised 4 requests in flight at the mailbox
# (m365sim's in_flight_peak counter), make together about as many page
# requests as one sync alone, and the second one says who holds the
# mailbox while it waits. Two different mailboxes still sync side by side.
. "$(dirname "$0")/lib_scenario.sh"
# Latency keeps requests in flight long enough to overlap.
sim_up --messages 10 --latency-ms 15
provider_for_sim
DELTA='GET /v1.0/me/mailFolders/{id}/messages/delta'
delta_requests() { sim_admin GET counters | jq --arg k "$DELTA" '[.requests[$k] // {} | .[]] | add // 0'; }
peak() { sim_admin GET counters | jq -r --arg m "$1" '.in_flight_peak[$m] // 0'; }

# Two identical mailboxes: "twin" measures what one sync alone costs.
for box in big twin; do
	seeded_account "$box" "$box@contoso.com" 12000 11
	# Four folders: one process alone keeps up to 4 requests in flight.
	ibx folders select "$box" Archive "Inbox/Projects" >/dev/null
done

sim_admin POST counters/reset >/dev/null
run ibx sync twin --until-complete
expect_rc 0 "one sync alone completes"
alone=$(delta_requests)
alone_peak=$(peak twin@contoso.com)
[ "$alone_peak" -ge 1 ] && [ "$alone_peak" -le 4 ] && pass "one process keeps at most 4 requests in flight ($alone_peak)" || fail "one process had $alone_peak in flight"

# two_syncs A B: `sync A --until-complete` and `sync B --until-complete`
# at once; exit codes in $ra and $rb, stderr in a.err and b.err.
two_syncs() {
	"$INBOXSYNC_BIN" sync "$1" --until-complete >"$TEST_TMP/a.out" 2>"$TEST_TMP/a.err" &
	local pa=$!
	"$INBOXSYNC_BIN" sync "$2" --until-complete >"$TEST_TMP/b.out" 2>"$TEST_TMP/b.err" &
	local pb=$!
	wait "$pa" && ra=0 || ra=$?
	wait "$pb" && rb=0 || rb=$?
}

sim_admin POST counters/reset >/dev/null
two_syncs big big
[ "$ra" -eq 0 ] && [ "$rb" -eq 0 ] && pass "both syncs end well" || fail "exit codes $ra and $rb: $(cat "$TEST_TMP/a.err" "$TEST_TMP/b.err")"
both_peak=$(peak big@contoso.com)
[ "$both_peak" -le 4 ] && pass "never more than 4 requests in flight at the mailbox ($both_peak)" || fail "$both_peak requests in flight at once"
together=$(delta_requests)
[ "$together" -le $((alone + alone / 10 + 4)) ] && pass "together $together page requests, one alone $alone" || fail "together $together page requests, one alone $alone"
waited=$(cat "$TEST_TMP/a.err" "$TEST_TMP/b.err")
expect_in "$waited" "another inboxsync process (" "the one that waits says who holds the mailbox"
expect_in "$waited" "is synchronizing 'big'" "and which account"
[ "$(sim_counter '.events.throttled')" -eq 0 ] && pass "Microsoft never throttled the mailbox" || fail "throttled $(sim_counter '.events.throttled') times"
compare_with_sim big big@contoso.com
run ibx --json messages list big --limit 100000
[ "$(echo "$OUT" | jq -r '.[].id' | sort | uniq -d | wc -l)" -eq 0 ] && pass "no duplicates" || fail "duplicates"

# Different accounts are not serialized: neither waits for the other.
sim_admin POST mailboxes/big@contoso.com/seed '{"count":300,"seed":12}' >/dev/null
sim_admin POST mailboxes/twin@contoso.com/seed '{"count":300,"seed":12}' >/dev/null
two_syncs big twin
[ "$ra" -eq 0 ] && [ "$rb" -eq 0 ] && pass "two accounts sync at once" || fail "exit codes $ra and $rb"
expect_not_in "$(cat "$TEST_TMP/a.err" "$TEST_TMP/b.err")" "Waiting" "no account waits for another account"
compare_with_sim twin twin@contoso.com
finish
