#!/usr/bin/env bash
# test_sync_kill.sh — the crash-safety invariant: the sync process is
# killed with SIGKILL at 50 random points during bootstrap, backfill and
# delta (while another client keeps changing the mailbox), restarted each
# time, and in the end the store equals the simulator's true mailbox: zero
# lost, zero duplicated.
. "$(dirname "$0")/lib_scenario.sh"
KILLS=${KILLS:-50}
sim_up --messages 30000 --seed 21
setup_account work adele@contoso.com
ibx folders select work Archive "Inbox/Projects" >/dev/null
M=mailboxes/adele@contoso.com
sim_admin GET $M/dump | jq -r '.messages[] | select(.folderPath=="Inbox") | .id' >"$TEST_TMP/inbox_ids"
RANDOM=4242
killed=0

change_something() {
	local id
	case $((RANDOM % 4)) in
	0) sim_admin POST $M/seed "{\"folder\":\"inbox\",\"count\":300,\"seed\":$1}" >/dev/null ;;
	1) id=$(shuf -n1 --random-source=<(yes "$1") "$TEST_TMP/inbox_ids"); sim_admin PATCH "$M/messages/$id" '{"isRead":true}' >/dev/null 2>&1 || true ;;
	2) id=$(shuf -n1 --random-source=<(yes "$1") "$TEST_TMP/inbox_ids"); sim_admin POST "$M/messages/$id/move" '{"folder":"archive"}' >/dev/null 2>&1 || true ;;
	3) id=$(shuf -n1 --random-source=<(yes "$1") "$TEST_TMP/inbox_ids"); sim_admin DELETE "$M/messages/$id?permanent=true" >/dev/null 2>&1 || true ;;
	esac
}

for i in $(seq 1 "$KILLS"); do
	[ $((i % 2)) -eq 0 ] && change_something "$i"
	"$INBOXSYNC_BIN" sync work --until-complete >/dev/null 2>&1 &
	pid=$!
	# a random moment between 5 and 100 ms (a run with little to do, once
	# the mailbox is mostly synced, may finish before it: it resumes the
	# work of the killed ones all the same)
	sleep "0.$(printf "%03d" $((5 + RANDOM % 95)))"
	if kill -9 "$pid" 2>/dev/null; then killed=$((killed + 1)); fi
	wait "$pid" 2>/dev/null || true
done
echo "killed $killed of $KILLS runs mid-flight"
[ "$killed" -ge $((KILLS / 3)) ] && pass "runs were killed mid-flight ($killed)" || fail "only $killed runs were killed mid-flight"

run ibx sync work --until-complete
expect_rc 0 "final sync after $KILLS kills"
compare_with_sim work adele@contoso.com
run ibx --json messages list work --limit 100000
[ "$(echo "$OUT" | jq -r '.[].id' | sort | uniq -d | wc -l)" -eq 0 ] && pass "zero duplicated" || fail "duplicates after kills"
sqlite3 "$INBOXSYNC_HOME/inboxsync.db" 'PRAGMA integrity_check' | grep -qx ok && pass "database intact" || fail "database damaged"
finish
