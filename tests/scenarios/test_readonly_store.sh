#!/usr/bin/env bash
# test_readonly_store.sh — a data dir the user may read but not write:
# read-only commands work (also on a WAL store whose directory is not
# writable, with and without a write-ahead log waiting), and what needs to
# write says that the store is read-only, with the path and the permission
# needed; an unwritable directory without a store says so too. Runs the
# commands as a user without write permission: `nobody` when the test
# runs as root (root ignores permissions), else the test's own user.
. "$(dirname "$0")/lib_scenario.sh"
sim_up --messages 80 --seed 6
setup_account work adele@contoso.com
ibx sync work --until-complete >/dev/null || fail "first sync"
ibx send work --to bob@contoso.com --subject "in the outbox" --body x >/dev/null
D=$INBOXSYNC_HOME
if [ "$(id -u)" -eq 0 ]; then
	AS=(setpriv --reuid=nobody --regid=nogroup --clear-groups --)
	ME=nobody
else
	AS=()
	ME=$(id -un)
fi
# The reader must reach the files (the test dir is private by default).
chmod 755 "$TEST_TMP"
reader() { run "${AS[@]}" env HOME="$TEST_TMP" INBOXSYNC_HOME="$1" "$INBOXSYNC_BIN" "${@:2}"; }
lock_down() { # DIR: readable, writable by nobody but root (or nobody at all)
	chmod 755 "$1"
	chmod 644 "$1"/*
	[ "${#AS[@]}" -gt 0 ] || { chmod 555 "$1"; chmod 444 "$1"/*; }
}

# 1. A directory the reader cannot write (so SQLite cannot make its
#    journal or WAL index there), no write-ahead log waiting.
lock_down "$D"
[ ! -e "$D/inboxsync.db-wal" ] && pass "no write-ahead log is waiting" || fail "a -wal file is left"
for cmd in "account list" "account show work" "folders list work" "messages list work" "outbox list work" "provider show"; do
	# shellcheck disable=SC2086
	reader "$D" $cmd
	expect_rc 0 "$ME: '$cmd' works on a read-only store"
done
reader "$D" --json messages list work --limit 1000
[ "$(echo "$OUT" | jq length)" -gt 50 ] && pass "and reads the mail" || fail "messages: $OUT"
expect_not_in "$ERR" "enabling WAL" "no WAL error"
reader "$D" account add second --email bob@contoso.com
expect_rc 1 "$ME: a command that writes fails (exit 1)"
expect_in "$ERR" "read-only" "says the store is read-only"
expect_in "$ERR" "$D/inboxsync.db" "names the store"
expect_in "$ERR" "directory $D is" "names the directory"
expect_in "$ERR" "writable for this user" "says what is not writable"
expect_in "$ERR" "write permission" "says which permission is needed"

# 2. A write-ahead log waiting while the directory is read-only: another
#    process (with permission) wrote and still holds the store open.
chmod 755 "$D"; chmod 644 "$D"/*
python3 - "$D/inboxsync.db" "$TEST_TMP/held" <<'EOF' &
import sqlite3, sys, time, os
db = sqlite3.connect(sys.argv[1])
db.execute("PRAGMA wal_autocheckpoint = 0")
db.execute("UPDATE accounts SET sender_name = 'Written Since'")
db.commit()
open(sys.argv[2], "w").close()
time.sleep(60)
EOF
holder=$!
for _ in $(seq 1 100); do [ -e "$TEST_TMP/held" ] && break; sleep 0.05; done
chmod a+r "$D"/*
[ "${#AS[@]}" -gt 0 ] || chmod 555 "$D"
[ -s "$D/inboxsync.db-wal" ] && pass "a write-ahead log is waiting" || fail "no -wal"
reader "$D" --json account show work
expect_rc 0 "$ME: account show with a waiting write-ahead log"
[ "$(echo "$OUT" | jq -r .sender_name)" = "Written Since" ] && pass "and sees what was written since the last checkpoint" || fail "sender: $(echo "$OUT" | jq -r .sender_name) $ERR"
kill "$holder" 2>/dev/null; wait "$holder" 2>/dev/null
chmod 755 "$D"

# 3. The file read-only, the directory writable.
C="$TEST_TMP/copy"
mkdir -m 700 "$C" # private, as a data dir must be
cp "$D/inboxsync.db" "$C/"
[ "${#AS[@]}" -gt 0 ] && chown nobody "$C"
chmod 444 "$C/inboxsync.db"
reader "$C" account list
expect_rc 0 "$ME: account list on a read-only file"
reader "$C" folders list work
expect_rc 0 "$ME: folders list on a read-only file"
reader "$C" account remove work
expect_rc 1 "$ME: remove fails on a read-only file"
expect_in "$ERR" "the file is not writable" "says the file is not writable"
expect_in "$ERR" "$C/inboxsync.db" "and names it"

# 4. No store yet in a directory the reader cannot write.
E="$TEST_TMP/empty"
mkdir "$E"
chmod 755 "$E"
[ "${#AS[@]}" -gt 0 ] || chmod 555 "$E"
reader "$E" account list
expect_rc 1 "$ME: no store and an unwritable directory: exit 1"
expect_in "$ERR" "cannot create the store $E/inboxsync.db" "says the store cannot be created"
expect_in "$ERR" "its directory $E is not writable" "names the directory"
chmod -R u+w "$D" "$E" "$C" 2>/dev/null
finish
