#!/usr/bin/env bash
# test_secrets_at_rest.sh — what keeps secrets private on the machine: the
# data dir made 0700 and the key file 0600; a data dir or key file open to
# other users refused at start with the file and the chmod that fixes it;
# a missing key file refused (never replaced by a new key that would open
# none of the stored tokens), and once it is back the sync resumes; `serve`
# (like every inboxsync process) not dumpable, so another process of the
# same user cannot read its memory or environment; the CLI neither.
. "$(dirname "$0")/lib_scenario.sh"
sim_up --messages 200 --seed 31
setup_account work adele@contoso.com
D=$INBOXSYNC_HOME
KEY=$D/secret.key
mode() { stat -c %a "$1"; }

# 1. Made private.
[ "$(mode "$D")" = 700 ] && pass "the data dir is 0700" || fail "data dir mode $(mode "$D")"
[ "$(mode "$KEY")" = 600 ] && pass "the key file is 0600" || fail "key file mode $(mode "$KEY")"
run ibx sync work --until-complete
expect_rc 0 "first sync"

# 2. A key file others may read.
chmod 644 "$KEY"
sim_admin POST "mailboxes/adele@contoso.com/messages" '{"folder":"inbox","subject":"after the key came back"}' >/dev/null
run ibx sync work --once
expect_rc 1 "a key file readable by others: refused"
expect_in "$ERR" "$KEY" "names the key file"
expect_in "$ERR" "chmod 600 $KEY" "names the fix"
chmod 600 "$KEY"

# 3. The key file missing: no new key, the tokens stay openable.
mv "$KEY" "$TEST_TMP/key.saved"
run ibx sync work --once
expect_rc 1 "a missing key file: refused"
expect_in "$ERR" "$KEY" "names the key file"
expect_in "$ERR" "missing" "says it is missing"
expect_in "$ERR" "backup" "points at the backup"
run ibx provider set microsoft --client-secret-file "$TEST_TMP/secret"
[ "$RC" -ne 0 ] && pass "setting a secret does not start a new key" || fail "provider set: exit 0"
expect_in "$ERR" "$KEY" "and names the key file"
[ ! -e "$KEY" ] && pass "no new key file was made" || fail "a new key file appeared"
mv "$TEST_TMP/key.saved" "$KEY"
run ibx sync work --until-complete
expect_rc 0 "with the key back the sync resumes"
compare_with_sim work adele@contoso.com

# 4. A data dir others may enter.
chmod 755 "$D"
run ibx account list
expect_rc 1 "a data dir open to others: refused"
expect_in "$ERR" "$D" "names the data dir"
expect_in "$ERR" "chmod 700 $D" "names the fix"
chmod 700 "$D"
run ibx account list
expect_rc 0 "0700 again: works"

# 5. Not dumpable: another process of the same user may not read serve's
#    memory or environment (/proc/PID/environ needs a dumpable process).
#    As root (who may read anything), serve runs as nobody.
if [ "$(id -u)" -eq 0 ]; then
	AS=(setpriv --reuid=nobody --regid=nogroup --clear-groups --)
	chmod 711 "$TEST_TMP"
	mkdir -m 700 "$TEST_TMP/svc"
	chown nobody "$TEST_TMP/svc"
else
	AS=()
	mkdir -m 700 "$TEST_TMP/svc"
fi
# the control: a process of the same user that is dumpable
"${AS[@]}" sleep 60 &
ctl=$!
sleep 0.2
"${AS[@]}" cat "/proc/$ctl/environ" >/dev/null 2>&1 && pass "control: a dumpable process's environment is readable" || fail "control unreadable"

# The CLI: a mailbox test held up by a slow answer, on a copy of the data dir.
cp -a "$D" "$TEST_TMP/svc/data"
[ "${#AS[@]}" -eq 0 ] || chown -R nobody "$TEST_TMP/svc/data"
sim_admin POST faults '{"kind":"slow","count":1,"delay_ms":3000}' >/dev/null
"${AS[@]}" env HOME="$TEST_TMP/svc" INBOXSYNC_HOME="$TEST_TMP/svc/data" "$INBOXSYNC_BIN" \
	account test work --incoming >"$TEST_TMP/cli.out" 2>"$TEST_TMP/cli.err" &
cli=$!
sleep 1 # in its first (3 s) request
if kill -0 "$cli" 2>/dev/null; then
	pass "the CLI is waiting for an answer"
	"${AS[@]}" cat "/proc/$cli/environ" >/dev/null 2>&1 && fail "the CLI's environment is readable by its user" || pass "the CLI's environment is not readable (not dumpable)"
	kill -0 "$cli" 2>/dev/null && pass "(and it was still running)" || fail "the CLI ended before the check"
else
	fail "the CLI did not wait: $(cat "$TEST_TMP/cli.err")"
fi
wait "$cli"
sim_admin DELETE faults >/dev/null
: >"$TEST_TMP/serve.out"
"${AS[@]}" env HOME="$TEST_TMP/svc" INBOXSYNC_HOME="$TEST_TMP/svc/data" "$INBOXSYNC_BIN" \
	serve --listen 127.0.0.1:0 >"$TEST_TMP/serve.out" 2>"$TEST_TMP/serve.err" &
srv=$!
for _ in $(seq 1 200); do [ -s "$TEST_TMP/serve.out" ] && break; kill -0 "$srv" 2>/dev/null || break; sleep 0.05; done
grep -q "listening on" "$TEST_TMP/serve.out" && pass "serve runs" || fail "serve: $(cat "$TEST_TMP/serve.err")"
"${AS[@]}" cat "/proc/$srv/environ" >/dev/null 2>&1 && fail "serve's environment is readable by its user" || pass "serve's environment is not readable (not dumpable)"
kill "$ctl" 2>/dev/null
kill -TERM "$srv" 2>/dev/null
for _ in $(seq 1 100); do kill -0 "$srv" 2>/dev/null || break; sleep 0.1; done
kill -9 "$srv" 2>/dev/null
wait "$srv" 2>/dev/null
[ "$(mode "$TEST_TMP/svc/data")" = 700 ] && pass "serve made its data dir 0700" || fail "serve data dir $(mode "$TEST_TMP/svc/data")"
finish
