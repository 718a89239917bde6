#!/usr/bin/env bash
# test_store_faults.sh — storage that fails under a sync: the disk full in
# the middle of a bootstrap (a file size limit, so SQLite's writes fail as
# on a full disk), the store locked by another process beyond the busy
# timeout (sqlite3's BEGIN EXCLUSIVE), the store file deleted while a sync
# runs, and pages of it overwritten. Each gives a clear error that names
# the file and the fix, leaves nothing half-written, and once the condition
# is gone the next sync ends exactly where the server is.
. "$(dirname "$0")/lib_scenario.sh"
[ -z "${INBOXSYNC_TEST_STORE_URL:-}" ] || { echo "SQLite only"; exit 0; }
sim_up --messages 1500 --seed 21
setup_account work adele@contoso.com
D=$INBOXSYNC_HOME
DB=$D/inboxsync.db
integrity() { sqlite3 "$DB" "PRAGMA integrity_check"; }
nlocal() { sqlite3 "$DB" "SELECT COUNT(*) FROM messages"; }
no_dupes() {
	run ibx --json messages list work --limit 100000
	[ "$(echo "$OUT" | jq -r '.[].id' | sort | uniq -d | wc -l)" -eq 0 ] && pass "$1: no duplicates" || fail "$1: duplicates"
}

# 1. The disk fills in the middle of the bootstrap. `ulimit -f` caps what
#    the process may write (SIGXFSZ ignored, so the write fails with EFBIG
#    as it fails with ENOSPC on a full disk).
limit_kb=$(( $(stat -c %s "$DB") / 1024 + 96 ))
run bash -c 'trap "" XFSZ; ulimit -f "$1"; shift; exec "$@"' limit "$limit_kb" \
	timeout 120 "$INBOXSYNC_BIN" sync work --until-complete
expect_rc 5 "disk full: a temporary failure (exit 5)"
expect_in "$ERR" "$DB" "names the store file"
expect_in "$ERR" "full" "says the disk is full"
expect_in "$ERR" "free disk space" "says to free disk space"
expect_not_in "$ERR" "disk I/O error" "no bare I/O error"
[ "$(integrity)" = ok ] && pass "the store is intact after the failed writes" || fail "integrity: $(integrity)"
partial=$(nlocal)
[ "$partial" -lt 1500 ] && pass "the sync stopped part way ($partial messages kept)" || fail "the limit did not bite ($partial)"
# What was committed is whole: every kept message belongs to a folder
# whose cursor or bootstrap state says so (no message rows without their
# folder, no folder marked live without its messages).
orphans=$(sqlite3 "$DB" "SELECT COUNT(*) FROM messages m WHERE NOT EXISTS (SELECT 1 FROM folders f WHERE f.id = m.folder_id)")
[ "$orphans" -eq 0 ] && pass "no message without its folder" || fail "$orphans orphans"
run ibx sync work --until-complete
expect_rc 0 "with space again the sync completes"
compare_with_sim work adele@contoso.com
no_dupes "after the full disk"

# 1b. A real full disk where the machine allows one: the data dir on a
#     tmpfs barely larger than the store (ENOSPC: SQLite's SQLITE_FULL),
#     then the disk made larger. Needs root (mount); skipped otherwise.
M=$TEST_TMP/small
mkdir -m 700 "$M"
if [ "$(id -u)" -eq 0 ] && mount -t tmpfs -o size=$(( $(stat -c %s "$DB") + 256 * 1024 )),mode=700 tmpfs "$M" 2>/dev/null; then
	trap 'umount "$M" 2>/dev/null; scenario_cleanup' EXIT
	sim_admin POST "mailboxes/adele@contoso.com/seed" '{"folder":"inbox","count":1500,"seed":23}' >/dev/null
	sqlite3 "$DB" "PRAGMA wal_checkpoint(TRUNCATE)" >/dev/null
	cp -a "$D" "$M/data"
	HOME_BEFORE=$INBOXSYNC_HOME
	export INBOXSYNC_HOME=$M/data
	run ibx sync work --until-complete
	expect_rc 5 "a full tmpfs: a temporary failure (exit 5)"
	expect_in "$ERR" "$M/data/inboxsync.db" "names the store file"
	expect_in "$ERR" "the disk holding it is full" "says the disk is full"
	expect_in "$ERR" "free disk space" "says to free disk space"
	[ "$(sqlite3 "$M/data/inboxsync.db" "PRAGMA integrity_check")" = ok ] && pass "intact on the full disk" || fail "integrity on the full disk"
	mount -o remount,size=64m "$M"
	run ibx sync work --until-complete
	expect_rc 0 "with a larger disk the sync completes"
	compare_with_sim work adele@contoso.com
	export INBOXSYNC_HOME=$HOME_BEFORE
	umount "$M"
	run ibx sync work --until-complete
	expect_rc 0 "the data dir on the ordinary disk catches up too"
else
	echo "skipped: no tmpfs can be mounted here (the file size limit above stands in)"
fi

# 2. Another process holds the write lock beyond the busy timeout.
sim_admin POST "mailboxes/adele@contoso.com/messages" '{"folder":"inbox","subject":"while locked"}' >/dev/null
mkfifo "$TEST_TMP/lock.in"
sqlite3 "$DB" <"$TEST_TMP/lock.in" >"$TEST_TMP/lock.out" 2>&1 &
locker=$!
exec 3>"$TEST_TMP/lock.in"
printf 'BEGIN EXCLUSIVE;\nSELECT '"'"'held'"'"';\n' >&3
for _ in $(seq 1 100); do grep -q held "$TEST_TMP/lock.out" 2>/dev/null && break; sleep 0.05; done
grep -q held "$TEST_TMP/lock.out" && pass "another process holds the write lock" || fail "no lock: $(cat "$TEST_TMP/lock.out")"
run ibx sync work --once
expect_rc 5 "store locked: a temporary failure (exit 5)"
expect_in "$ERR" "busy" "says the store is busy"
expect_in "$ERR" "$DB" "names the store file"
expect_in "$ERR" "another process" "says another process holds it"
expect_in "$ERR" "temporary" "says it is temporary"
printf 'COMMIT;\n' >&3
exec 3>&-
wait "$locker"
run ibx sync work --once
expect_rc 0 "once released, the sync succeeds"
compare_with_sim work adele@contoso.com

# 3. The store file deleted while a sync runs: the sync stops with an
#    error naming it instead of writing into a file nobody can see.
sim_admin POST "mailboxes/adele@contoso.com/seed" '{"folder":"inbox","count":1200,"seed":22}' >/dev/null
sim_admin POST faults '{"kind":"slow","path":"/messages/delta","count":1000,"delay_ms":1000}' >/dev/null
cp "$DB" "$TEST_TMP/before-delete.db"
before=$(nlocal)
"$INBOXSYNC_BIN" sync work --until-complete >"$TEST_TMP/del.out" 2>"$TEST_TMP/del.err" &
syncer=$!
for _ in $(seq 1 200); do
	[ "$(nlocal 2>/dev/null || echo 0)" -gt "$before" ] && break
	sleep 0.1
done
rm -f "$DB" "$DB-wal" "$DB-shm"
wait "$syncer" && RC=0 || RC=$?
ERR=$(cat "$TEST_TMP/del.err")
sim_admin DELETE faults >/dev/null
[ "$RC" -ne 0 ] && pass "the sync fails once its store is gone (exit $RC)" || fail "exit 0 with the store deleted"
expect_in "$ERR" "$DB" "names the store file"
expect_in "$ERR" "deleted" "says it was deleted"
[ ! -e "$DB" ] && pass "no store was made again in its place" || fail "$DB was re-created"
run ibx account list
[ "$RC" -ne 0 ] && pass "a command on the data dir without its store refuses" || fail "account list: exit 0: $OUT"
expect_in "$ERR" "$DB" "names the missing store"
expect_in "$ERR" "backup" "points at restoring a backup"
cp "$TEST_TMP/before-delete.db" "$DB"
run ibx sync work --until-complete
expect_rc 0 "the restored store syncs again"
compare_with_sim work adele@contoso.com
no_dupes "after the restore"

# 4. Pages of the store overwritten (a bad disk, a stray write).
run ibx backup "$TEST_TMP/good.db"
expect_rc 0 "a backup is made"
pages=$(sqlite3 "$DB" "PRAGMA page_count")
sqlite3 "$DB" "PRAGMA wal_checkpoint(TRUNCATE)" >/dev/null
dd if=/dev/urandom of="$DB" bs=4096 seek=2 count=$(( pages - 3 )) conv=notrunc status=none
run ibx sync work --once
[ "$RC" -ne 0 ] && pass "a damaged store is refused (exit $RC)" || fail "exit 0 on a damaged store"
expect_in "$ERR" "$DB" "names the store file"
expect_in "$ERR" "damaged" "says it is damaged"
expect_in "$ERR" "backup" "points at restoring the backup"
cp "$TEST_TMP/good.db" "$DB"
rm -f "$DB-wal" "$DB-shm"
sim_admin POST "mailboxes/adele@contoso.com/messages" '{"folder":"inbox","subject":"after the restore"}' >/dev/null
run ibx sync work --until-complete
expect_rc 0 "the restored backup syncs"
compare_with_sim work adele@contoso.com
finish
