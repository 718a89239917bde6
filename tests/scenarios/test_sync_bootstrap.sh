#!/usr/bin/env bash
# test_sync_bootstrap.sh — the first sync of several folders: the newest
# messages arrive first (a first screen), older mail is backfilled page by
# page, every folder ends live, and the store equals the server. Also: with
# no folder selected sync says so, and unselecting a folder stops its sync.
. "$(dirname "$0")/lib_scenario.sh"
sim_up --messages 2000 --seed 11
setup_account work adele@contoso.com
ibx folders select work Archive "Inbox/Projects" >/dev/null

# Kill right after the first committed page: it must hold the newest 50 of
# the first folder (Archive sorts first).
INBOXSYNC_CRASH_AT=engine:after_page:1 "$INBOXSYNC_BIN" sync work >/dev/null 2>&1 && RC=0 || RC=$?
[ "$RC" -eq 137 ] && pass "stopped after the first page" || fail "crash point not reached ($RC)"
sim_admin GET mailboxes/adele@contoso.com/dump >"$TEST_TMP/dump.json"
jq -r '[.messages[] | select(.folderPath=="Archive")] | sort_by(.receivedDateTime) | reverse | .[0:50] | .[].id' \
	"$TEST_TMP/dump.json" | sort >"$TEST_TMP/newest.txt"
ibx --json messages list work --folder Archive --limit 1000 | jq -r '.[].id' | sort >"$TEST_TMP/first.txt"
if cmp -s "$TEST_TMP/newest.txt" "$TEST_TMP/first.txt"; then pass "first page = the 50 newest messages"; else
	fail "first page is not the newest 50 ($(wc -l <"$TEST_TMP/first.txt") local)"; fi
phase=$(ibx --json folders list work | jq -r '.[] | select(.path=="Archive") | .sync.phase')
[ "$phase" = "newest" ] && pass "phase newest after the first page" || fail "phase $phase"

# Two more pages, then look at the order: everything stored is newer than
# everything not yet stored (backfill goes newest to oldest).
INBOXSYNC_CRASH_AT=engine:after_page:3 "$INBOXSYNC_BIN" sync work >/dev/null 2>&1 || true
ibx --json messages list work --folder Inbox --limit 100000 | jq -r '.[].received_at' | sort | head -1 >"$TEST_TMP/oldest_local"
n_local=$(ibx --json messages list work --folder Inbox --limit 100000 | jq length)
on_server_since=$(jq -r --arg t "$(cat "$TEST_TMP/oldest_local")" \
	'[.messages[] | select(.folderPath=="Inbox" and .receivedDateTime >= $t)] | length' "$TEST_TMP/dump.json")
[ "$n_local" -gt 0 ] && [ "$on_server_since" -eq "$n_local" ] && pass "backfill is newest first ($n_local stored, none newer missing)" ||
	fail "backfill order: $n_local local, $on_server_since on the server since the oldest stored"

run ibx sync work --until-complete
expect_rc 0 "sync until complete"
run ibx --json folders list work
[ "$(echo "$OUT" | jq '[.[] | select(.selected and .sync.phase != "live")] | length')" = "0" ] && pass "every selected folder is live" || fail "not live: $OUT"
compare_with_sim work adele@contoso.com
state=$(ibx --json account show work | jq -r .state)
[ "$state" = "idle" ] && pass "account idle when up to date" || fail "state $state"

# Unselecting a folder stops its sync.
ibx folders unselect work Archive >/dev/null
sim_admin POST mailboxes/adele@contoso.com/messages '{"folder":"archive","subject":"not for us"}' >/dev/null
run ibx -v sync work
expect_rc 0 "sync after unselecting"
ibx --json messages list work --limit 100000 | jq -r '.[].subject' | grep -q "not for us" && fail "unselected folder synced" || pass "unselected folder not synced"
ibx --json messages list work --limit 100000 | jq -r '.[].folder' | grep -q '^Archive$' && fail "unselected folder still listed" || pass "unselected folder not listed"
compare_with_sim work adele@contoso.com

# No folder selected at all.
for f in Inbox "Sent Items" "Inbox/Projects"; do ibx folders unselect work "$f" >/dev/null; done
run ibx sync work
expect_rc 0 "sync with no folder selected"
expect_in "$OUT" "No folders selected" "says no folder is selected"
finish
