#!/usr/bin/env bash
# test_state_fresh.sh — what an account and its folders say stays true:
# the server's folder counts (TOTAL, UNREAD) are read again when a folder's
# first round completes and when changes arrive on stale counts, and the
# list says when they were read; a wrong-account or cancelled sign-in is
# recorded on the account and the browser page says how it ended; a failed
# `folders fetch` neither claims it "will be retried" (nothing retries it)
# nor advises options that do not exist, and a Retry-After it hears is
# kept for the mailbox.
. "$(dirname "$0")/lib_scenario.sh"
sim_up --messages 300 --seed 4
setup_account work adele@contoso.com
inbox() { ibx --json folders list work | jq -r '.[] | select(.path == "Inbox") | "\(.total) \(.unread) \(.sync.synced)"'; }
sim_inbox() { sim_admin GET mailboxes/adele@contoso.com/dump | jq -r '.folders[] | select(.path == "Inbox") | "\(.total) \(.unread)"'; }
age_scan() {
	python3 - "$INBOXSYNC_HOME/inboxsync.db" <<'EOF'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
db.execute("UPDATE accounts SET folders_scanned_at = folders_scanned_at - 120")
db.commit()
EOF
}

# Mail arrives between the folder read and the first sync: the counts
# read at fetch time are stale by the end of the bootstrap.
for i in 1 2 3 4 5; do
	sim_admin POST mailboxes/adele@contoso.com/messages "{\"subject\":\"arrived $i\"}" >/dev/null
done
run ibx sync work --until-complete
expect_rc 0 "bootstrap"
read -r total unread synced <<<"$(inbox)"
[ "$total" -eq "$synced" ] && pass "after the bootstrap TOTAL equals SYNCED ($total)" || fail "TOTAL $total, SYNCED $synced"
[ "$total $unread" = "$(sim_inbox)" ] && pass "TOTAL and UNREAD are the server's" || fail "local $total $unread, server $(sim_inbox)"

# Later changes on counts over a minute old: one pass brings them up to date.
for i in 1 2 3; do
	sim_admin POST mailboxes/adele@contoso.com/messages "{\"subject\":\"later $i\"}" >/dev/null
done
for id in $(sim_admin GET mailboxes/adele@contoso.com/dump | jq -r '[.messages[] | select(.folderPath == "Inbox" and .isRead == false)][0:2][].id'); do
	sim_admin PATCH "mailboxes/adele@contoso.com/messages/$id" '{"isRead":true}' >/dev/null
done
age_scan
run ibx sync work --once
expect_rc 0 "a pass with changes"
read -r total unread synced <<<"$(inbox)"
[ "$total" -eq "$synced" ] && pass "TOTAL follows the new mail ($total)" || fail "TOTAL $total, SYNCED $synced"
[ "$total $unread" = "$(sim_inbox)" ] && pass "UNREAD follows the read flags" || fail "local $total $unread, server $(sim_inbox)"
# Without changes the tree is not read again (it costs requests).
before=$(sim_counter '.requests["GET /v1.0/me/mailFolders"]["200"]')
age_scan
ibx sync work --once >/dev/null
[ "$(sim_counter '.requests["GET /v1.0/me/mailFolders"]["200"]')" = "$before" ] && pass "a quiet pass does not re-read the folders" || fail "folders re-read without changes"
run ibx folders list work
expect_in "$OUT" "TOTAL and UNREAD are Microsoft's counts as of 20" "the list says when TOTAL was read"

# A sign-in as the wrong account: recorded on the account, and the
# browser is told.
ibx account add other --email bob@contoso.com >/dev/null
authorize other adele@contoso.com
expect_rc 1 "wrong account: exit 1"
doc=$(ibx --json account show other)
[ "$(echo "$doc" | jq -r .last_error.code)" = wrong_account ] && pass "the account records wrong_account" || fail "last_error: $(echo "$doc" | jq -c .last_error)"
expect_in "$(echo "$doc" | jq -r .last_error.message)" "adele@contoso.com" "naming who signed in"
expect_in "$(echo "$doc" | jq -r .last_error.message)" "bob@contoso.com" "and who should have"
expect_in "$AUTH_PAGE" "<h1>Not authorized</h1>" "the browser page says it was not authorized"
expect_in "$AUTH_PAGE" "adele@contoso.com" "and why"
expect_not_in "$AUTH_PAGE" "Sign-in received" "no vague 'received' page"
expect_in "$(ibx account show other)" "Last error:" "account show has the last error"

# A cancelled sign-in (Microsoft redirects with access_denied).
cancel_authorize other
[ "$RC" -ne 0 ] && pass "a cancelled sign-in fails (exit $RC)" || fail "cancelled sign-in exit 0"
expect_in "$ERR" "cancelled" "the terminal says it was cancelled"
expect_in "$AUTH_PAGE" "<h1>Not authorized</h1>" "the browser page says it was not authorized"
expect_in "$AUTH_PAGE" "cancelled" "and that it was cancelled"
[ "$(ibx --json account show other | jq -r .last_error.code)" = access_denied ] && pass "the account records the cancel" || fail "last_error: $(ibx --json account show other | jq -c .last_error)"

# A failed folders fetch says what is true.
fetch_with() { sim_admin DELETE faults >/dev/null; sim_admin POST faults "$1" >/dev/null; run ibx folders fetch work; }
fetch_with '{"kind":"503","path":"mailFolders","count":5}'
expect_rc 5 "503 on folders fetch: try later"
expect_not_in "$ERR" "will be retried" "no claim that it will be retried"
expect_in "$ERR" "run 'inboxsync folders fetch' again" "says to run it again"
fetch_with '{"kind":"oversized","path":"mailFolders","count":1,"bytes":40000000}'
expect_rc 5 "an oversized listing: try later"
expect_not_in "$ERR" "smaller pages" "no advice about options that do not exist"
expect_not_in "$ERR" "will be retried" "no claim that it will be retried"
fetch_with '{"kind":"429","path":"mailFolders","count":1,"retry_after":30}'
expect_rc 5 "429 on folders fetch"
expect_in "$ERR" "again from" "says when to run it again"
[ "$(ibx --json account show work | jq -r .throttled_until)" != null ] && pass "the Retry-After is kept for the mailbox" || fail "no throttled_until"
before=$(sim_requests)
run ibx folders fetch work
expect_rc 5 "a second fetch inside the window"
run ibx sync work
expect_rc 5 "and a sync inside the window"
after=$(sim_requests)
[ "$after" -eq "$before" ] && pass "neither makes a request" || fail "$((after - before)) requests inside the window"
finish
