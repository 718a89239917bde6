#!/usr/bin/env bash
# test_retry_after_kept.sh — Microsoft's Retry-After belongs to the mailbox,
# not to the process that heard it: after a 429 with Retry-After 30, every
# new `sync` process inside the window makes no request at all (the
# simulator's counters do not move), exits 5 and says when it may run;
# `sync --until-complete` waits the window out; the account's reason names
# the time and is not stale after it; the summary of a throttled pass still
# counts the folders.
. "$(dirname "$0")/lib_scenario.sh"
sim_up --messages 400 --seed 9
setup_account work adele@contoso.com
run ibx sync work --until-complete
expect_rc 0 "first sync"
total() { sim_requests; }
hits() { sim_admin GET faults | jq '[.faults[].hits] | add // 0'; }

sim_admin POST mailboxes/adele@contoso.com/messages '{"subject":"new while throttled"}' >/dev/null
sim_admin POST faults '{"kind":"429","path":"/messages/delta","count":1000,"retry_after":30}' >/dev/null
forget_wait() { # move the stored wait to now + $1 seconds
	python3 - "$INBOXSYNC_HOME/inboxsync.db" "$1" <<'EOF'
import sqlite3, sys, time
db = sqlite3.connect(sys.argv[1])
db.execute("UPDATE accounts SET throttled_until = ?, next_due_at = 0", (int(time.time()) + int(sys.argv[2]),))
db.commit()
EOF
}
run ibx --json sync work --once
expect_rc 5 "a 429 ends the pass: try later"
[ "$(echo "$OUT" | jq '.accounts[0].folders_selected')" -eq 2 ] && pass "the throttled pass still counts the selected folders" || fail "summary: $OUT"
[ "$(echo "$OUT" | jq -r '.accounts[0].error.code')" = throttled ] && pass "the summary says throttled" || fail "summary: $OUT"
forget_wait -1
run ibx sync work --once
expect_rc 5 "throttled again"
expect_in "$OUT" "2 of 2 folders up to date" "the human summary counts the folders"
first_hits=$(hits)
until=$(ibx --json account show work | jq -r .throttled_until)
[ "$until" != null ] && pass "the wait is stored on the mailbox ($until)" || fail "no throttled_until"
expect_in "$(ibx --json account show work | jq -r .state_reason)" "$until" "the reason names the time"

# New processes inside the window: no request, exit 5, and when.
before=$(total)
for i in 1 2 3; do
	run ibx sync work --once
	expect_rc 5 "sync process $i inside the window exits 5"
	expect_in "$ERR" "may run again from $until" "process $i says when it may run"
done
run ibx sync
expect_rc 5 "sync of all accounts inside the window exits 5"
expect_in "$ERR" "$until" "and says until when"
run ibx --json sync work
expect_rc 5 "--json too"
[ "$(echo "$OUT" | jq -r .error.code)" = throttled ] && pass "--json error code throttled" || fail "json: $OUT"
[ "$(echo "$OUT" | jq -r .error.retry_after)" -gt 0 ] && pass "--json gives retry_after" || fail "json: $OUT"
[ "$(total)" -eq "$before" ] && pass "no request reached Microsoft inside the window" || fail "$(( $(total) - before )) requests inside the window"
[ "$(hits)" -eq "$first_hits" ] && pass "the throttled endpoint was not hit again ($first_hits)" || fail "hits went from $first_hits to $(hits)"

# --until-complete waits for the window, then completes. A short window
# here: Retry-After 4.
sim_admin DELETE faults >/dev/null
forget_wait 4
until=$(ibx --json account show work | jq -r .throttled_until)
before=$(total)
"$INBOXSYNC_BIN" sync work --until-complete >"$TEST_TMP/u.out" 2>"$TEST_TMP/u.err" &
pid=$!
sleep 1
[ "$(total)" -eq "$before" ] && pass "--until-complete makes no request before the window ends" || fail "request before $until"
wait "$pid" && RC=0 || RC=$?
ERR=$(cat "$TEST_TMP/u.err"); OUT=$(cat "$TEST_TMP/u.out")
expect_rc 0 "--until-complete completes after the window"
[ "$(total)" -gt "$before" ] && pass "and then synchronizes" || fail "no request after the window"
compare_with_sim work adele@contoso.com
[ "$(ibx --json account show work | jq -r .state)" = idle ] && pass "idle afterwards" || fail "state $(ibx --json account show work | jq -r .state)"

# A window that passed without a sync: the account does not keep saying
# it waits.
python3 - "$INBOXSYNC_HOME/inboxsync.db" <<'EOF'
import sqlite3, sys, time
db = sqlite3.connect(sys.argv[1])
db.execute("UPDATE accounts SET state = 'throttled', state_reason = 'Microsoft is throttling this mailbox; synchronization waits until then', throttled_until = ?", (int(time.time()) - 5,))
db.commit()
EOF
doc=$(ibx --json account show work)
[ "$(echo "$doc" | jq -r .state)" != throttled ] && pass "no longer shown as throttled after the window" || fail "still throttled: $doc"
expect_in "$(echo "$doc" | jq -r .state_reason)" "wait ended" "the reason says the wait is over"
expect_not_in "$(ibx account list)" "waits until" "account list is not stale"
run ibx sync work --once
expect_rc 0 "sync runs after the window"
finish
