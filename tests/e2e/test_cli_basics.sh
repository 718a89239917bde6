#!/usr/bin/env bash
# test_cli_basics.sh — the CLI as an administrator and a user first meet it:
# usage errors and their exit codes, "OAuth not configured" (exit 3),
# provider settings with an encrypted secret that never shows anywhere, and
# account add/list/show/remove with validation.
. "$(dirname "$0")/lib.sh"
SECRET="s3cr3t-$(date +%s%N)-value"

run ibx account add x --email not-an-address
expect_rc 2 "bad address is a usage error"
expect_in "$ERR" "not a valid e-mail address" "bad address message"

run ibx provider show
expect_rc 3 "provider show without settings"
expect_in "$ERR" "OAuth not configured" "says OAuth not configured"
expect_in "$ERR" "provider set microsoft --client-id" "says what to set"

run ibx --json provider show
expect_rc 3 "provider show --json without settings"
[ "$(echo "$OUT" | jq -r .error.code)" = "oauth_not_configured" ] && pass "json error code" || fail "json error code: $OUT"

run ibx account add work --email adele@contoso.com
expect_rc 3 "account add before the provider is configured"

run ibx provider set microsoft --client-secret x
expect_rc 2 "client id is required the first time"

run ibx provider set microsoft --client-id app-1 --graph-url http://graph.example.com/v1.0
expect_rc 2 "plain http to a non-loopback host is refused"
expect_in "$ERR" "only loopback" "explains the http rule"

printf '%s\n' "$SECRET" >"$TEST_TMP/secret"
run ibx provider set microsoft --client-id app-1 --client-secret-file "$TEST_TMP/secret" --tenant contoso.onmicrosoft.com
expect_rc 0 "provider set with a secret file"
expect_not_in "$OUT$ERR" "$SECRET" "secret not echoed"

run ibx provider show
expect_rc 0 "provider show"
expect_in "$OUT" "set (stored encrypted)" "secret shown only as set"
expect_not_in "$OUT" "$SECRET" "secret not printed"
run ibx --json provider show
[ "$(echo "$OUT" | jq -r .client_id)" = "app-1" ] && pass "json client id" || fail "json client id: $OUT"
expect_not_in "$OUT" "$SECRET" "secret not in json"

if grep -a -q -- "$SECRET" "$INBOXSYNC_HOME"/* 2>/dev/null; then fail "secret found in clear text in the data dir"; else pass "secret encrypted at rest"; fi
[ "$(stat -c %a "$INBOXSYNC_HOME/secret.key")" = "600" ] && pass "key file is 0600" || fail "key file mode"

run ibx account add work --email adele@contoso.com --sender-name "Adele Vance"
expect_rc 0 "account add"
run ibx account add work --email other@contoso.com
# a name that is taken is a failed operation (exit 1), not a usage error (docs/cli.md)
expect_rc 1 "duplicate account name"
expect_in "$ERR" "already exists" "duplicate message"
run ibx account add w2 --email a@contoso.com --transport pop3
expect_rc 2 "unknown transport"
expect_in "$ERR" "unknown transport" "unknown transport message"
run ibx account add "bad name" --email a@contoso.com
expect_rc 2 "bad account name"

run ibx provider set microsoft --transports graph
expect_rc 0 "restrict transports to graph"
run ibx account add imapbox --email i@contoso.com --transport imap
expect_rc 3 "a disabled transport is not offered"
expect_in "$ERR" "IMAP OAuth2 transport is not enabled" "names the disabled transport"

run ibx --json account show work
expect_rc 0 "account show --json"
for field in name email sender_name transport state state_reason incoming outgoing folders_selected messages; do
	echo "$OUT" | jq -e "has(\"$field\")" >/dev/null && pass "show has $field" || fail "show lacks $field: $OUT"
done
[ "$(echo "$OUT" | jq -r .state)" = "new" ] && pass "new account state" || fail "state: $OUT"
[ "$(echo "$OUT" | jq -r .incoming.status)" = "not_confirmed" ] && pass "incoming not confirmed" || fail "incoming"
[ "$(echo "$OUT" | jq -r .outgoing.status)" = "untested" ] && pass "outgoing untested" || fail "outgoing"

run ibx account list
expect_in "$OUT" "adele@contoso.com" "account list shows the address"
run ibx account test work
expect_rc 4 "test before authorization needs authorization"
run ibx sync work
expect_rc 4 "sync before authorization needs authorization"
run ibx account show nosuch
expect_rc 1 "unknown account"

run ibx provider set microsoft --disable
run ibx account add another --email b@contoso.com
expect_rc 3 "disabled provider"
expect_in "$ERR" "disabled" "says disabled"
run ibx provider set microsoft --enable

run ibx account remove work
expect_rc 0 "account remove"
run ibx --json account list
[ "$(echo "$OUT" | jq length)" = "0" ] && pass "no accounts left" || fail "accounts left: $OUT"

for cmd in "provider set" "provider show" "account add" "account list" "account show" \
	   "account authorize" "account test" "account stop" "account remove" \
	   "folders fetch" "folders list" "folders select" "folders unselect" sync \
	   "messages list" "messages show"; do
	run ibx $cmd --help
	expect_rc 0 "$cmd --help"
	expect_in "$OUT" "usage: inboxsync $cmd" "$cmd --help shows usage"
done
run ibx nosuchcommand
expect_rc 2 "unknown command"
run ibx account
expect_rc 2 "group without subcommand"
run ibx --version
expect_rc 0 "--version"

if grep -a -q -- "$SECRET" "$INBOXSYNC_HOME/inboxsync.log" 2>/dev/null; then fail "secret in the log"; else pass "secret not in the log"; fi
finish
