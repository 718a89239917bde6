#!/usr/bin/env bash
# test_config.sh — the configuration file as an operator uses it: which
# file is read (--config, $INBOXSYNC_CONFIG, none), the documented order
# file < environment < flag, a mistake that fails every command with its
# line, `config check` with passwords masked and secret files checked,
# the client secret from a file or a systemd credential taking the place
# of the stored one (proven by Microsoft's answer in m365sim, never
# printed), the log level and the journal's priority prefixes, and root
# refusing to write into the service user's data directory.
. "$(dirname "$0")/lib_scenario.sh"
sim_up --messages 0

CONF="$TEST_TMP/inboxsync.conf"
cat >"$CONF" <<EOF
# written by the test
data_dir = $TEST_TMP/from-file
poll_interval = 120
workers = 3
EOF

# no file at all: the defaults, and the data dir of the environment
run env INBOXSYNC_CONFIG= "$INBOXSYNC_BIN" --json config check
expect_rc 0 "config check without a file"
[ "$(echo "$OUT" | jq -r .file)" = null ] && pass "no file read" || fail "file: $OUT"
[ "$(echo "$OUT" | jq -r .settings.poll_interval.value)" = 60 ] && pass "default poll interval" || fail "poll: $OUT"

# the file through --config and through $INBOXSYNC_CONFIG
for how in flag env; do
	if [ $how = flag ]; then
		run env -u INBOXSYNC_HOME "$INBOXSYNC_BIN" --config "$CONF" --json config check
	else
		run env -u INBOXSYNC_HOME INBOXSYNC_CONFIG="$CONF" "$INBOXSYNC_BIN" --json config check
	fi
	expect_rc 0 "config check with the file ($how)"
	[ "$(echo "$OUT" | jq -r .file)" = "$CONF" ] && pass "reads the file ($how)" || fail "file ($how): $OUT"
	[ "$(echo "$OUT" | jq -r .settings.data_dir.value)" = "$TEST_TMP/from-file" ] && pass "data_dir from the file ($how)" || fail "data_dir: $OUT"
	[ "$(echo "$OUT" | jq -r .settings.data_dir.source)" = file ] && pass "source file ($how)" || fail "source: $OUT"
	[ "$(echo "$OUT" | jq -r .settings.database.value)" = "$TEST_TMP/from-file/inboxsync.db" ] && pass "store follows data_dir ($how)" || fail "database: $OUT"
done

# environment over the file, flags over both
run env INBOXSYNC_HOME="$TEST_TMP/from-env" INBOXSYNC_POLL_INTERVAL=90 "$INBOXSYNC_BIN" --config "$CONF" --json config check
[ "$(echo "$OUT" | jq -r .settings.data_dir.value)" = "$TEST_TMP/from-env" ] && pass "environment over the file" || fail "env: $OUT"
[ "$(echo "$OUT" | jq -r .settings.poll_interval.value)" = 90 ] && pass "INBOXSYNC_POLL_INTERVAL over the file" || fail "poll env: $OUT"
[ "$(echo "$OUT" | jq -r .settings.poll_interval.source)" = environment ] && pass "source environment" || fail "source env: $OUT"
[ "$(echo "$OUT" | jq -r .settings.workers.value)" = 3 ] && pass "the file still gives the rest" || fail "workers: $OUT"
run env INBOXSYNC_HOME="$TEST_TMP/from-env" "$INBOXSYNC_BIN" --config "$CONF" --data-dir "$TEST_TMP/from-flag" -v --json config check
[ "$(echo "$OUT" | jq -r .settings.data_dir.value)" = "$TEST_TMP/from-flag" ] && pass "flag over environment and file" || fail "flag: $OUT"
[ "$(echo "$OUT" | jq -r .settings.log_level.value)" = debug ] && pass "-v means log level debug" || fail "level: $OUT"

# commands use it: the store lands in the file's data dir
run env -u INBOXSYNC_HOME "$INBOXSYNC_BIN" --config "$CONF" account list
expect_rc 0 "a command with the file"
[ -f "$TEST_TMP/from-file/inboxsync.db" ] && pass "the store is in the file's data_dir" || fail "no store in $TEST_TMP/from-file"

# a mistake fails every command, naming the file and the line
printf 'listen = 127.0.0.1:8025\npoll_intervall = 5\n' >"$TEST_TMP/bad.conf"
for cmd in "config check" "account list" "migrate"; do
	run ibx --config "$TEST_TMP/bad.conf" $cmd
	expect_rc 1 "$cmd with a bad file"
	expect_in "$ERR" "$TEST_TMP/bad.conf line 2: unknown setting 'poll_intervall'" "$cmd names the line"
done
run ibx --config "$TEST_TMP/missing.conf" config check
expect_rc 1 "a --config file that does not exist"
expect_in "$ERR" "cannot read the configuration file" "says it cannot read it"
run env INBOXSYNC_WORKERS=lots "$INBOXSYNC_BIN" config check
expect_rc 1 "a bad environment variable"
expect_in "$ERR" "INBOXSYNC_WORKERS" "names the variable"

# the human listing: every key, a masked database password, the sources
PGPW="pw-$(date +%s%N)"
run ibx --config "$CONF" --database "postgresql://ibx:$PGPW@db.example/inboxsync" config check
expect_rc 0 "config check with a PostgreSQL URL"
expect_not_in "$OUT$ERR" "$PGPW" "the URL's password is not shown"
expect_in "$OUT" "postgresql://ibx:****@db.example/inboxsync" "the URL is shown masked"
expect_in "$OUT" "poll_interval            = 120  # file" "a value with its source"
expect_in "$ERR" "the configuration is valid" "says it is valid"
for key in $(ibx config sample | sed -n 's/^#\([a-z_]*\) =.*/\1/p'); do
	expect_in "$OUT" "$key" "config check lists $key"
done

# secrets: a file readable by every user is refused; the value is never shown
SECRET=$(cat "$TEST_TMP/secret")
cp "$TEST_TMP/secret" "$TEST_TMP/client-secret"
chmod 644 "$TEST_TMP/client-secret"
run env INBOXSYNC_CLIENT_SECRET_FILE="$TEST_TMP/client-secret" "$INBOXSYNC_BIN" config check
expect_rc 1 "a world-readable secret file"
expect_in "$ERR" "can be read by every user" "says why"
chmod 600 "$TEST_TMP/client-secret"
run env INBOXSYNC_CLIENT_SECRET_FILE="$TEST_TMP/client-secret" "$INBOXSYNC_BIN" --json config check
expect_rc 0 "a private secret file"
[ "$(echo "$OUT" | jq -r .secrets.client_secret.from)" = "$TEST_TMP/client-secret" ] && pass "says where the secret comes from" || fail "secret: $OUT"
expect_not_in "$OUT$ERR" "$SECRET" "the secret is not shown"
mkdir -p "$TEST_TMP/pgcreds"
printf 'pg-secret-%s\n' "$$" >"$TEST_TMP/pgcreds/database-password"
chmod 400 "$TEST_TMP/pgcreds/database-password"
run env CREDENTIALS_DIRECTORY="$TEST_TMP/pgcreds" "$INBOXSYNC_BIN" --json config check
[ "$(echo "$OUT" | jq -r .secrets.database_password.from)" = "$TEST_TMP/pgcreds/database-password" ] &&
	pass "the database password from the systemd credential" || fail "database password: $OUT"
expect_not_in "$OUT$ERR" "pg-secret-$$" "the database password is not shown"

# the secret in place of the stored one: the app is a confidential client
# in m365sim, so signing in works only when the secret is sent
ibx provider set microsoft --client-id "$SIM_CLIENT_ID" --no-client-secret \
	--login-url "$SIM_URL" --graph-url "$SIM_URL/v1.0" >/dev/null
ibx account add work --email adele@contoso.com >/dev/null
authorize work adele@contoso.com
expect_rc 3 "without the secret Microsoft refuses the sign-in (OAuth not configured correctly)"
expect_in "$ERR" "7000218" "because no client secret was sent"
export INBOXSYNC_CLIENT_SECRET_FILE="$TEST_TMP/client-secret"
authorize work adele@contoso.com
expect_rc 0 "with client_secret_file the sign-in works"
expect_not_in "$OUT$ERR" "$SECRET" "the secret is not printed"
unset INBOXSYNC_CLIENT_SECRET_FILE
mkdir -p "$TEST_TMP/creds"
printf 'not-the-secret\n' >"$TEST_TMP/creds/client-secret"
chmod 400 "$TEST_TMP/creds/client-secret"
export CREDENTIALS_DIRECTORY="$TEST_TMP/creds"
ibx account add work2 --email bob@contoso.com >/dev/null
authorize work2 bob@contoso.com
expect_rc 3 "a wrong systemd credential is the secret Microsoft sees"
expect_in "$ERR" "7000215" "Microsoft says the secret is wrong"
rm -f "$TEST_TMP/creds/client-secret"
cp "$TEST_TMP/client-secret" "$TEST_TMP/creds/client-secret"
authorize work2 bob@contoso.com
expect_rc 0 "the systemd credential client-secret is used"
unset CREDENTIALS_DIRECTORY
run ibx --json provider show
[ "$(echo "$OUT" | jq -r .has_client_secret)" = false ] && pass "the store still holds no secret" || fail "stored: $OUT"
run env INBOXSYNC_CLIENT_SECRET_FILE="$TEST_TMP/client-secret" "$INBOXSYNC_BIN" --json provider show
[ "$(echo "$OUT" | jq -r .has_client_secret)" = true ] && pass "provider show counts the file's secret" || fail "show: $OUT"
if grep -a -q -- "$SECRET" "$INBOXSYNC_HOME"/* 2>/dev/null; then fail "secret in the data dir"; else pass "the secret is in no file of the data dir"; fi

# log level and destination ('provider set' logs at info, requests at debug)
printf 'log_level = info\nlog_file = stderr\n' >"$TEST_TMP/log.conf"
run ibx --config "$TEST_TMP/log.conf" provider set microsoft --tenant common
expect_in "$ERR" " info provider: Microsoft provider settings changed" "log_file stderr"
printf 'log_level = error\n' >"$TEST_TMP/quiet.conf"
: >"$INBOXSYNC_HOME/inboxsync.log"
run ibx --config "$TEST_TMP/quiet.conf" provider set microsoft --tenant common
[ ! -s "$INBOXSYNC_HOME/inboxsync.log" ] && pass "log_level error keeps info lines out" || fail "log: $(head -3 "$INBOXSYNC_HOME/inboxsync.log")"
run ibx provider set microsoft --tenant common
[ -s "$INBOXSYNC_HOME/inboxsync.log" ] && pass "the default log file gets info lines" || fail "no default log"
# under systemd stderr is the journal: priority prefixes, no time
: >"$TEST_TMP/journal"
JOURNAL_STREAM=$(stat -c '%d:%i' "$TEST_TMP/journal") "$INBOXSYNC_BIN" provider set microsoft --tenant common >/dev/null 2>"$TEST_TMP/journal" || true
grep -q '^<6>provider: Microsoft provider settings changed$' "$TEST_TMP/journal" && pass "info lines carry <6> and no time" || fail "journal: $(head -3 "$TEST_TMP/journal")"
JOURNAL_STREAM=$(stat -c '%d:%i' "$TEST_TMP/journal") "$INBOXSYNC_BIN" -v account test work >/dev/null 2>"$TEST_TMP/journal" || true
grep -q '^<7>http: ' "$TEST_TMP/journal" && pass "debug lines carry <7>" || fail "journal debug: $(head -3 "$TEST_TMP/journal")"
JOURNAL_STREAM=1:2 "$INBOXSYNC_BIN" provider set microsoft --tenant common >/dev/null 2>"$TEST_TMP/notjournal" || true
grep -q '^<' "$TEST_TMP/notjournal" && fail "prefixes on a stderr that is not the journal" || pass "another JOURNAL_STREAM is not ours"

# root does not write into a data directory that belongs to another user
if [ "$(id -u)" = 0 ]; then
	mkdir -p "$TEST_TMP/service-data"
	chown nobody "$TEST_TMP/service-data"
	run ibx --data-dir "$TEST_TMP/service-data" account list
	expect_rc 1 "root in the service user's data dir"
	expect_in "$ERR" "run this command as that user (sudo -u nobody" "says to run it as the owner"
	[ ! -e "$TEST_TMP/service-data/inboxsync.db" ] && pass "nothing written there" || fail "root created the store"
fi
finish
