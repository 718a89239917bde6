#!/usr/bin/env bash
# test_imap_probe.sh — Test & Confirm of the IMAP OAuth2 transport against
# a real Dovecot on loopback whose oauth2 passdb has m365sim introspect the
# tokens (as Exchange Online checks its own): authorizing confirms incoming
# (IMAP XOAUTH2 login + LIST) and outgoing (SMTP submission XOAUTH2 login,
# nothing sent); an expired access token is refreshed and the login
# retried; a server that refuses a valid token gives the admin's fix and
# never counts toward auth_invalid; a revoked grant fails with exit 4 and
# the way out; Dovecot down fails with exit 5 and is not an auth failure.
. "$(dirname "$0")/lib_scenario.sh"

. "$(dirname "$0")/lib_dovecot.sh"

account_field() { ibx --json account show box | jq -r "$1"; }

# retry_until RC CMD...: `run CMD` until it exits with RC (a reloaded
# Dovecot may answer a moment with its old auth process), at most ~3 s.
retry_until() {
	local want=$1
	shift
	for _ in $(seq 1 15); do
		run "$@"
		[ "$RC" -eq "$want" ] && return 0
		sleep 0.2
	done
}

sim_up
dovecot_oauth2_conf true
dovecot_up
provider_for_sim --transports graph,imap --imap "127.0.0.1:$IMAP_PORT" --smtp "127.0.0.1:$SMTP_PORT"
run ibx account add box --email adele@contoso.com --transport imap
expect_rc 0 "add an IMAP OAuth2 account"

# authorize: Test & Confirm runs over IMAP and SMTP with the outlook token
authorize box adele@contoso.com
expect_rc 0 "authorize the IMAP account"
expect_in "$OUT" "Incoming: Confirmed" "authorize reports incoming confirmed"
expect_in "$OUT" "Outgoing: ok" "authorize reports outgoing ok"
run ibx --json account show box
[ "$(echo "$OUT" | jq -r .incoming.status)" = "confirmed" ] && pass "incoming confirmed" || fail "incoming: $OUT"
[ "$(echo "$OUT" | jq -r .outgoing.status)" = "ok" ] && pass "outgoing ok" || fail "outgoing: $OUT"
[ "$(echo "$OUT" | jq -r .state)" = "confirmed" ] && pass "state confirmed" || fail "state: $OUT"
expect_in "$(echo "$OUT" | jq -r .state_reason)" "4 folders readable" "LIST counted INBOX, Drafts, Sent, Trash"
[ "$(echo "$OUT" | jq -r .server.imap_server)" = "127.0.0.1:$IMAP_PORT" ] && pass "IMAP server filled in" || fail "imap_server: $OUT"
[ "$(echo "$OUT" | jq -r .server.smtp_server)" = "127.0.0.1:$SMTP_PORT" ] && pass "SMTP server filled in" || fail "smtp_server: $OUT"
dlog=$(cat "$DOVE_DIR/dovecot.log")
expect_in "$dlog" "imap-login: Info: Login: user=<adele@contoso.com>, method=XOAUTH2" "Dovecot saw an IMAP XOAUTH2 login"
expect_in "$dlog" "submission-login: Info: Login: user=<adele@contoso.com>, method=XOAUTH2" "Dovecot saw an SMTP XOAUTH2 login"

# an expired access token: refused once, refreshed, the login retried
sim_admin POST users/adele@contoso.com/expire-tokens >/dev/null
run ibx account test box
expect_rc 0 "an expired access token is refreshed and the login retried"
expect_in "$(cat "$DOVE_DIR/dovecot.log")" "oauth2 failed" "Dovecot did refuse the expired token first"

# a server that refuses a valid token (IMAP or SMTP AUTH disabled for the
# mailbox): the admin's fix, and no count toward auth_invalid
dovecot_oauth2_conf never
dovecot_reload
retry_until 4 ibx account test box --incoming
for _ in 1 2 3; do run ibx account test box --incoming; done
expect_rc 4 "a refused IMAP login"
expect_in "$ERR" "refused the XOAUTH2 login" "says the IMAP server refused the login"
expect_in "$ERR" "authenticated IMAP" "names the administrator's fix that enables IMAP"
run ibx account test box --outgoing
expect_rc 4 "a refused SMTP login"
expect_in "$ERR" "authenticated SMTP" "names the administrator's fix that enables SMTP AUTH"
[ "$(account_field .state)" = "confirmed" ] && pass "refused logins do not make the account auth_invalid" || fail "state: $(account_field .state)"
[ "$(account_field .incoming.status)" = "not_confirmed" ] && pass "incoming recorded as not confirmed" || fail "incoming: $(account_field .incoming)"
[ "$(account_field .outgoing.status)" = "failed" ] && pass "outgoing recorded as failed" || fail "outgoing: $(account_field .outgoing)"
dovecot_oauth2_conf true
dovecot_reload
retry_until 0 ibx account test box
expect_rc 0 "Test & Confirm passes again once the server accepts the token"
[ "$(account_field .incoming.status)" = "confirmed" ] && pass "incoming confirmed again" || fail "incoming: $(account_field .incoming)"

# the folders are read over IMAP too (test_imap_sync_cli.sh syncs them)
run ibx folders fetch box
expect_rc 0 "folders fetch over IMAP"

# a revoked grant: the cached token is refused, the refresh fails for good
sim_admin POST users/adele@contoso.com/revoke >/dev/null
sim_admin POST users/adele@contoso.com/expire-tokens >/dev/null
run ibx account test box
expect_rc 4 "a revoked grant fails the test with exit 4"
expect_in "$ERR" "refused the access token and getting a new one failed" "says what failed"
expect_in "$ERR" "inboxsync account authorize box" "says how to sign in again"
[ "$(account_field .incoming.status)" = "not_confirmed" ] && pass "incoming not confirmed after revocation" || fail "incoming: $(account_field .incoming)"
expect_in "$(account_field .incoming.last_error)" "Authorize the mailbox again" "the recorded error says how to recover"

# authorizing again clears it; then Dovecot goes away: exit 5, not auth
authorize box adele@contoso.com
expect_rc 0 "authorize again after the revocation"
[ "$(account_field .incoming.status)" = "confirmed" ] && pass "confirmed after authorizing again" || fail "incoming: $(account_field .incoming)"
dovecot_down
for _ in 1 2 3 4; do run ibx account test box; done
expect_rc 5 "Dovecot down fails the test with exit 5"
expect_in "$ERR" "could not be reached" "says the server could not be reached"
[ "$(account_field .incoming.status)" = "not_confirmed" ] && pass "incoming not confirmed while the server is down" || fail "incoming: $(account_field .incoming)"
[ "$(account_field .outgoing.status)" = "failed" ] && pass "outgoing failed while the server is down" || fail "outgoing: $(account_field .outgoing)"
[ "$(account_field .state)" != "auth_invalid" ] && pass "network failures never lead to auth_invalid" || fail "state: $(account_field .state)"

# no token in inboxsync's log or output
if grep -a -E -q 'Bearer [A-Za-z0-9]' "$INBOXSYNC_HOME/inboxsync.log" 2>/dev/null; then fail "a bearer token in the log"; else pass "no bearer token in the log"; fi
finish
