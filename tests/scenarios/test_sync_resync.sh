#!/usr/bin/env bash
# test_sync_resync.sh — an expired delta token (410 SyncStateNotFound)
# re-bootstraps the folder by itself: nothing duplicated, deletions made
# while the token was dead are applied, new mail arrives, cached bodies
# survive, and the account says what happened.
. "$(dirname "$0")/lib_scenario.sh"
sim_up --messages 600 --seed 9
setup_account work adele@contoso.com
run ibx sync work --until-complete
expect_rc 0 "initial sync"
M=mailboxes/adele@contoso.com
sim_admin GET $M/dump >"$TEST_TMP/d0.json"
mapfile -t inbox < <(jq -r '[.messages[] | select(.folderPath=="Inbox")] | .[].id' "$TEST_TMP/d0.json")
kept=${inbox[10]}
run ibx --json messages show work "$kept"
body=$(echo "$OUT" | jq -r .body.content)

# While the token is dead: deletions, a move out, new mail.
sim_admin DELETE "$M/messages/${inbox[1]}?permanent=true" >/dev/null
sim_admin DELETE "$M/messages/${inbox[2]}?permanent=true" >/dev/null
sim_admin POST "$M/messages/${inbox[3]}/move" '{"folder":"junkemail"}' >/dev/null
sim_admin POST $M/messages '{"folder":"inbox","subject":"arrived while expired"}' >/dev/null
sim_admin POST $M/expire-delta '{}' >/dev/null

run ibx sync work --until-complete
expect_rc 0 "sync after the delta token expired"
compare_with_sim work adele@contoso.com
run ibx --json messages list work --limit 100000
dupes=$(echo "$OUT" | jq -r '.[].id' | sort | uniq -d | wc -l)
[ "$dupes" -eq 0 ] && pass "no duplicates after re-bootstrap" || fail "$dupes duplicates"
echo "$OUT" | jq -r '.[].subject' | grep -q "arrived while expired" && pass "new mail arrived" || fail "new mail missing"
run ibx --json messages show work "$kept"
[ "$(echo "$OUT" | jq -r .body.content)" = "$body" ] && [ "$(echo "$OUT" | jq -r .body_fetched)" = true ] && pass "cached body kept (local state survives)" || fail "body lost"
reason=$(ibx --json account show work | jq -r .state_reason)
expect_in "$reason" "re-synchronized" "the account says what happened"
run ibx --json folders list work
[ "$(echo "$OUT" | jq '[.[] | select(.selected and .sync.phase != "live")] | length')" = "0" ] && pass "folders live again" || fail "not live"

# An expired token in the middle of a bootstrap (skip token) too.
ibx folders select work Archive >/dev/null
INBOXSYNC_CRASH_AT=engine:after_page:1 "$INBOXSYNC_BIN" sync work >/dev/null 2>&1 || true
sim_admin POST $M/expire-delta '{}' >/dev/null
run ibx sync work --until-complete
expect_rc 0 "resume after a mid-round expiry"
compare_with_sim work adele@contoso.com

# Every folder's token dead at once: one pass (not only --until-complete)
# re-synchronizes them all; a poll the batch did not run because another
# failed first is made on its own.
ibx folders select work "Sent Items" Drafts >/dev/null
ibx sync work --until-complete >/dev/null
sim_admin POST $M/expire-delta '{}' >/dev/null
run ibx sync work --once
expect_rc 0 "one pass after every token expired"
expect_not_in "$ERR" "HTTP 424" "no dependency failure reaches the user"
run ibx --json folders list work
[ "$(echo "$OUT" | jq '[.[] | select(.selected and .sync.phase != "live")] | length')" = "0" ] && pass "every folder live after one pass" || fail "not live: $OUT"
compare_with_sim work adele@contoso.com
finish
