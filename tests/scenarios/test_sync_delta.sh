#!/usr/bin/env bash
# test_sync_delta.sh — incremental sync of changes made by another mail
# client: new mail, read/flag changes, deletions (to Deleted Items and
# permanent), moves between selected folders (one row moves, its cached
# body stays), moves out to an unselected folder and in from one; and the
# cost of polling an unchanged account: one HTTP request for all folders.
. "$(dirname "$0")/lib_scenario.sh"
sim_up --messages 400 --seed 5
setup_account work adele@contoso.com
ibx folders select work Archive >/dev/null
run ibx sync work --until-complete
expect_rc 0 "initial sync"
compare_with_sim work adele@contoso.com
M=mailboxes/adele@contoso.com
sim_admin GET $M/dump >"$TEST_TMP/d0.json"
ids() { jq -r --arg f "$1" '[.messages[] | select(.folderPath==$f)] | sort_by(.receivedDateTime) | reverse | .[].id' "$TEST_TMP/d0.json"; }
mapfile -t inbox < <(ids Inbox)
mapfile -t archive < <(ids Archive)

# A body fetched before the move must survive it (one row moves).
moved=${inbox[3]}
run ibx --json messages show work "$moved"
expect_rc 0 "open a message (body fetched)"
body_before=$(echo "$OUT" | jq -r .body.content)

# Another client changes things.
for i in 1 2 3; do
	sim_admin POST $M/messages "{\"folder\":\"inbox\",\"subject\":\"new mail $i\"}" >/dev/null
done
sim_admin PATCH "$M/messages/${inbox[5]}" '{"isRead":true}' >/dev/null
sim_admin PATCH "$M/messages/${inbox[6]}" '{"isRead":false}' >/dev/null
sim_admin DELETE "$M/messages/${inbox[7]}" >/dev/null                 # to Deleted Items
sim_admin DELETE "$M/messages/${inbox[8]}?permanent=true" >/dev/null  # gone
sim_admin POST "$M/messages/$moved/move" '{"folder":"archive"}' >/dev/null
sim_admin POST "$M/messages/${archive[0]}/move" '{"folder":"inbox"}' >/dev/null
sim_admin POST "$M/messages/${inbox[9]}/move" '{"folder":"drafts"}' >/dev/null   # out of the synced set
junk=$(sim_admin POST $M/messages '{"folder":"junkemail","subject":"from junk"}' | jq -r .id)

run ibx sync work
expect_rc 0 "sync the changes"
compare_with_sim work adele@contoso.com

sim_admin POST "$M/messages/$junk/move" '{"folder":"inbox"}' >/dev/null  # into the synced set
run ibx sync work
expect_rc 0 "sync a move in from an unselected folder"
compare_with_sim work adele@contoso.com

body_requests() { sim_counter '.requests["GET /v1.0/me/messages/{id}"]["200"] // 0'; }
before=$(body_requests)
run ibx --json messages show work "$moved"
expect_rc 0 "open the moved message"
[ "$(echo "$OUT" | jq -r .folder)" = "Archive" ] && pass "moved message is in Archive" || fail "folder: $(echo "$OUT" | jq -r .folder)"
[ "$(echo "$OUT" | jq -r .body.content)" = "$body_before" ] && pass "cached body kept across the move" || fail "body changed"
[ "$(body_requests)" = "$before" ] && pass "no body download after the move (one row moved)" || fail "body fetched again"
run ibx --json messages list work --limit 100000
[ "$(echo "$OUT" | jq "[.[] | select(.id==\"$moved\")] | length")" = "1" ] && pass "moved message listed once" || fail "moved message count"

# Polling an unchanged account: one HTTP request (a $batch) for every folder.
ibx folders select work Drafts "Deleted Items" "Inbox/Projects" >/dev/null
run ibx sync work --until-complete
expect_rc 0 "sync five folders"
compare_with_sim work adele@contoso.com
lines_before=$(grep -a -c 'debug http:' "$INBOXSYNC_HOME/inboxsync.log" || true)
run ibx -v sync work --once
expect_rc 0 "poll an unchanged account"
lines_after=$(grep -a -c 'debug http:' "$INBOXSYNC_HOME/inboxsync.log" || true)
[ $((lines_after - lines_before)) -eq 1 ] && pass "one HTTP request per poll for 5 folders" ||
	fail "$((lines_after - lines_before)) requests per poll"
grep -a 'debug http:' "$INBOXSYNC_HOME/inboxsync.log" | tail -1 | grep -q 'POST .*\$batch' && pass "the poll is a \$batch" || fail "poll is not a batch"
finish
