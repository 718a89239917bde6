#!/usr/bin/env bash
# test_account_remove_space.sh — `account remove` leaves nothing of the
# account behind (its change-feed events included) and gives the space
# back: the store file shrinks. Also for a store made before the store
# chose incremental auto-vacuum: it is converted once when opened (small
# stores) or by `inboxsync migrate` (any size).
. "$(dirname "$0")/lib_scenario.sh"
sim_up --messages 10
provider_for_sim
DB="$INBOXSYNC_HOME/inboxsync.db"
q() { python3 -c 'import sqlite3, sys; print(sqlite3.connect(sys.argv[1]).execute(sys.argv[2]).fetchone()[0])' "$DB" "$1"; }
size() { stat -c %s "$DB"; }
legacy() { # turn the store into one made without incremental auto-vacuum
	python3 -c 'import sqlite3, sys; db = sqlite3.connect(sys.argv[1]); db.execute("PRAGMA auto_vacuum = NONE"); db.execute("VACUUM"); db.close()' "$DB"
}
big_account() { # NAME EMAIL: an account with a few thousand messages
	seeded_account "$1" "$2" 4000 8
	ibx folders select "$1" Archive "Inbox/Projects" >/dev/null
	ibx sync "$1" --until-complete >/dev/null || fail "sync $1"
}

# A new store.
big_account one one@contoso.com
[ "$(q 'PRAGMA auto_vacuum')" -eq 2 ] && pass "a new store uses incremental auto-vacuum" || fail "auto_vacuum $(q 'PRAGMA auto_vacuum')"
id=$(ibx --json account show one | jq -r .id)
[ "$(q "SELECT COUNT(*) FROM events WHERE account_id = $id")" -gt 3000 ] && pass "the account has its events" || fail "no events"
before=$(size)
run ibx account remove one
expect_rc 0 "account remove"
after=$(size)
[ "$(q "SELECT COUNT(*) FROM events WHERE account_id = $id")" -eq 0 ] && pass "no events of the account are left" || fail "$(q "SELECT COUNT(*) FROM events WHERE account_id = $id") events left"
[ "$(q "SELECT COUNT(*) FROM messages WHERE account_id = $id")" -eq 0 ] && pass "no messages are left" || fail "messages left"
[ "$(q "SELECT COUNT(*) FROM folders WHERE account_id = $id")" -eq 0 ] && pass "no folders are left" || fail "folders left"
[ "$after" -lt $((before / 2)) ] && pass "the file shrank from $before to $after bytes" || fail "the file went from $before to $after bytes"

# A store made before: converted when opened, then removing gives space back.
big_account two two@contoso.com
legacy
[ "$(q 'PRAGMA auto_vacuum')" -eq 0 ] && pass "a store without auto-vacuum, as older versions made" || fail "legacy setup"
run ibx account list
expect_rc 0 "an older store opens"
[ "$(q 'PRAGMA auto_vacuum')" -eq 2 ] && pass "and is converted to incremental auto-vacuum" || fail "auto_vacuum $(q 'PRAGMA auto_vacuum')"
before=$(size)
ibx account remove two >/dev/null
after=$(size)
[ "$after" -lt $((before / 2)) ] && pass "removing from a converted store shrinks it ($before to $after bytes)" || fail "$before to $after bytes"

# `migrate` converts whatever the size.
big_account three three@contoso.com
legacy
run ibx migrate
expect_rc 0 "migrate"
[ "$(q 'PRAGMA auto_vacuum')" -eq 2 ] && pass "migrate converts the store" || fail "auto_vacuum $(q 'PRAGMA auto_vacuum')"
compare_with_sim three three@contoso.com
finish
