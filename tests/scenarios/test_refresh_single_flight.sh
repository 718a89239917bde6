#!/usr/bin/env bash
# test_refresh_single_flight.sh — one refresh at a time per account, even
# with several processes needing a new token at once: with refresh-token
# rotation, two refreshes racing on the same refresh token would cost the
# grant. Six processes hit an expired access token together; exactly one
# refresh reaches Microsoft, all six succeed, nothing counts as a failure.
. "$(dirname "$0")/lib_scenario.sh"
sim_up --messages 100
setup_account work adele@contoso.com
run ibx sync work --until-complete
expect_rc 0 "initial sync"
refreshes() { sim_counter '.token_requests.by_grant.refresh_token // 0'; }
sim_admin POST config '{"access_token_lifetime":3600}' >/dev/null
for round in 1 2; do
	sim_admin POST users/adele@contoso.com/expire-tokens '{}' >/dev/null
	before=$(refreshes)
	pids=()
	for i in 1 2 3 4 5 6; do
		"$INBOXSYNC_BIN" account test work --incoming >"$TEST_TMP/p$i.out" 2>&1 &
		pids+=($!)
	done
	ok=0
	for pid in "${pids[@]}"; do wait "$pid" && ok=$((ok + 1)); done
	[ "$ok" -eq 6 ] && pass "round $round: all six processes succeeded" || fail "round $round: $ok of 6 succeeded: $(cat "$TEST_TMP"/p*.out)"
	n=$(( $(refreshes) - before ))
	[ "$n" -eq 1 ] && pass "round $round: exactly one refresh" || fail "round $round: $n refreshes"
done
[ "$(ibx --json account show work | jq .auth_failures)" = 0 ] && pass "no failure counted" || fail "failures counted"
run ibx sync work
expect_rc 0 "the grant still works"
finish
