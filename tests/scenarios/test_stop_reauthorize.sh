#!/usr/bin/env bash
# test_stop_reauthorize.sh — "Stop synchronization" then authorizing again
# gives exactly what a first authorization gives: roles from the server's
# well-known folders, Inbox and Sent Items preselected, selecting Inbox
# maps it as the inbox; `send` claims a Sent entry only when one exists;
# the account's reason follows each step (never a stale "fetch folders");
# and the browser page says how the sign-in ended.
. "$(dirname "$0")/lib_scenario.sh"
sim_up --messages 200 --seed 5
setup_account work adele@contoso.com
run ibx sync work --until-complete
expect_rc 0 "first sync"
state() { ibx --json account show work | jq -r "$1"; }
role_of() { ibx --json folders list work | jq -r --arg p "$1" '.[] | select(.path == $p) | "\(.role) \(.selected)"'; }

# What a first authorization gives, kept to compare.
ibx --json folders list work | jq -c '[.[] | {path, role, selected}]' >"$TEST_TMP/first.json"

# The exact walk of the issue: stop, authorize, fetch, list, select, send.
run ibx account stop work
expect_rc 0 "account stop"
[ "$(state .state)" = stopped ] && pass "stopped" || fail "state $(state .state)"
[ "$(state .folders_selected)" -eq 0 ] && pass "stop removes the folder mappings" || fail "folders still selected"
run ibx send work --to bob@contoso.com --subject "while stopped" --body x
expect_rc 4 "a stopped account cannot send (authorization needed)"
authorize work adele@contoso.com
expect_rc 0 "authorize again after the stop"
expect_in "$OUT" "Next: inboxsync folders fetch work" "authorize says to fetch the folders"
expect_in "$AUTH_PAGE" "<h1>Authorized</h1>" "the browser page says it is authorized"
expect_in "$AUTH_PAGE" "adele@contoso.com is connected as account 'work'" "and as what"
run ibx folders fetch work
expect_rc 0 "folders fetch"
ibx --json folders list work | jq -c '[.[] | {path, role, selected}]' >"$TEST_TMP/again.json"
diff -q "$TEST_TMP/first.json" "$TEST_TMP/again.json" >/dev/null &&
	pass "roles and preselection are what the first authorization gave" ||
	fail "after stop + authorize: $(diff "$TEST_TMP/first.json" "$TEST_TMP/again.json")"
[ "$(role_of Inbox)" = "inbox true" ] && pass "Inbox preselected as inbox" || fail "Inbox: $(role_of Inbox)"
[ "$(role_of "Sent Items")" = "sent true" ] && pass "Sent Items preselected as sent" || fail "Sent Items: $(role_of "Sent Items")"
[ "$(role_of Archive)" = "archive false" ] && pass "Archive keeps its role, unselected" || fail "Archive: $(role_of Archive)"
run ibx folders list work
expect_not_in "$(echo "$OUT" | grep -E '^\[x\] (Inbox|Sent Items) ')" " - " "the human list shows the roles"
run ibx folders select work Inbox
expect_rc 0 "select Inbox"
expect_not_in "$OUT" "custom" "Inbox is not selected as custom"
expect_in "$OUT" "Selected Inbox as Inbox" "Inbox keeps the inbox role"
reason=$(state .state_reason)
expect_not_in "$reason" "fetch" "the reason no longer asks to fetch folders: $reason"
expect_in "$reason" "Ready to synchronize 2 selected folders" "the reason says what is next"
[ "$(state .fix.code)" = "" ] && pass "no fix is pending" || fail "fix $(state .fix.code)"

run ibx send work --to bob@contoso.com --subject "after re-authorizing" --body "Hello"
expect_rc 0 "send"
expect_in "$OUT" "It is in Sent Items now" "send says the message is in Sent Items"
run ibx --json messages list work --folder "Sent Items"
[ "$(echo "$OUT" | jq '[.[] | select(.pending and .subject == "after re-authorizing")] | length')" -eq 1 ] &&
	pass "and the local Sent entry exists" || fail "no local Sent entry: $OUT"

# Without Sent Items selected, send says so (naming the account) and
# makes no entry.
ibx folders unselect work "Sent Items" >/dev/null
run ibx send work --to bob@contoso.com --subject "no sent folder" --body "Hello"
expect_rc 0 "send without Sent Items selected"
expect_not_in "$OUT" "It is in Sent Items now" "no claim of a Sent entry"
expect_in "$OUT" "Sent Items is not synchronized for 'work'" "says Sent Items is not synchronized"
expect_in "$OUT" "folders select work \"Sent Items\"" "names the account in the command to run"
run ibx --json send work --to bob@contoso.com --subject "no sent folder 2" --body "Hello"
[ "$(echo "$OUT" | jq -r .sent_entry)" = false ] && pass "--json says sent_entry false" || fail "sent_entry: $OUT"
ibx folders select work "Sent Items" >/dev/null
run ibx sync work --until-complete
expect_rc 0 "sync after the sends"
compare_with_sim work adele@contoso.com

# Re-authorizing a synced account (without a stop): its folders stay, and
# its reason says synchronization resumes, not "fetch folders".
sim_admin POST users/adele@contoso.com/revoke '{}' >/dev/null
sim_admin POST users/adele@contoso.com/expire-tokens '{}' >/dev/null
for _ in 1 2 3; do ibx sync work --once >/dev/null 2>&1; done
[ "$(state .state)" = auth_invalid ] && pass "revoked grant: auth_invalid" || fail "state $(state .state)"
authorize work adele@contoso.com
expect_rc 0 "authorize the synced account again"
expect_not_in "$OUT" "folders fetch" "authorize does not ask to fetch folders"
reason=$(state .state_reason)
expect_not_in "$reason" "fetch" "reason after re-authorizing: $reason"
expect_in "$reason" "resumes" "the reason says synchronization resumes"
[ "$(state .folders_selected)" -eq 2 ] && pass "the selection is kept" || fail "selected $(state .folders_selected)"
run ibx sync work --once
expect_rc 0 "sync resumes"
finish
