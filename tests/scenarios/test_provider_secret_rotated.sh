#!/usr/bin/env bash
# test_provider_secret_rotated.sh — one administrator's mistake never costs
# every owner a sign-in. The client secret is rotated at Microsoft
# (AADSTS7000215): every account's sync exits 3 naming what the
# administrator must fix, no account counts it toward auth_invalid, and the
# accounts and the provider show the provider's problem; once the
# administrator enters the new secret with `provider set`, every account
# syncs again with no owner signing in. A disabled provider shows on every
# account the same way.
. "$(dirname "$0")/lib_scenario.sh"
sim_up --messages 60 --seed 2
provider_for_sim
sim_admin POST users '{"email":"bob@contoso.com","name":"Bob"}' >/dev/null
sim_admin POST mailboxes/bob@contoso.com/seed '{"count":40,"seed":3}' >/dev/null
for who in adele bob; do
	ibx account add "$who" --email "$who@contoso.com" >/dev/null
	authorize "$who" "$who@contoso.com"
	[ "$RC" -eq 0 ] || { echo "authorize $who: $ERR" >&2; exit 1; }
	ibx folders fetch "$who" >/dev/null
done
run ibx sync --until-complete
expect_rc 0 "both accounts sync"
signins() { sim_admin GET counters | jq '(.token_requests.by_grant.authorization_code // 0) + (.token_requests.by_grant["urn:ietf:params:oauth:grant-type:device_code"] // 0)'; }
signins_before=$(signins)

# The secret is rotated at Microsoft; cached access tokens run out.
sim_admin POST "apps/$SIM_CLIENT_ID/secret" '{"secret":"rotated-secret-2"}' >/dev/null
for who in adele bob; do sim_admin POST "users/$who@contoso.com/expire-tokens" '{}' >/dev/null; done
run ibx sync
expect_rc 3 "sync of all accounts: OAuth not configured (exit 3)"
expect_in "$ERR" "AADSTS7000215" "names Microsoft's code"
expect_in "$ERR" "client secret" "names what is wrong"
expect_in "$ERR" "an administrator must" "says it is the administrator's to fix"
expect_in "$ERR" "inboxsync provider set microsoft" "and how"
for i in 1 2 3 4; do
	for who in adele bob; do
		run ibx sync "$who" --once
		[ "$RC" -eq 3 ] || fail "sync $who (try $i): exit $RC, want 3: $ERR"
	done
done
pass "every account's sync keeps exiting 3, never 4"
for who in adele bob; do
	doc=$(ibx --json account show "$who")
	[ "$(echo "$doc" | jq .auth_failures)" -eq 0 ] && pass "$who: auth_failures stays 0" || fail "$who: auth_failures $(echo "$doc" | jq .auth_failures)"
	[ "$(echo "$doc" | jq -r .state)" != auth_invalid ] && pass "$who: not auth_invalid" || fail "$who is auth_invalid"
	expect_in "$(echo "$doc" | jq -r .state_reason)" "OAuth not configured" "$who: the reason is the provider's problem"
	[ "$(echo "$doc" | jq -r .fix.code)" = configure_provider ] && pass "$who: the fix is the administrator's" || fail "$who: fix $(echo "$doc" | jq -c .fix)"
	[ "$(echo "$doc" | jq -r .provider_ok)" = false ] && pass "$who: provider_ok false" || fail "$who: provider_ok"
done
run ibx provider show
expect_in "$OUT" "Problem:" "provider show has the problem"
expect_in "$OUT" "client secret is wrong" "and what it is"
run ibx provider check
expect_rc 3 "provider check fails (exit 3)"
run ibx account show adele
expect_in "$OUT" "Next:           an administrator must" "account show: the next step is the administrator's"
expect_not_in "$OUT" "account authorize" "no owner is asked to sign in"

# The administrator enters the new secret: every account recovers by itself.
echo "rotated-secret-2" >"$TEST_TMP/new-secret"
run ibx provider set microsoft --client-secret-file "$TEST_TMP/new-secret"
expect_rc 0 "provider set with the new secret"
run ibx account list
[ "$(echo "$OUT" | grep -c 'The provider settings changed after this failed')" -eq 2 ] &&
	pass "the accounts say the settings changed since the failure" || fail "account list: $OUT"
run ibx provider show
expect_not_in "$OUT" "Problem:" "the provider's problem is cleared"
run ibx sync --until-complete
expect_rc 0 "every account syncs again"
for who in adele bob; do
	doc=$(ibx --json account show "$who")
	[ "$(echo "$doc" | jq -r .state)" = idle ] && pass "$who: idle" || fail "$who: $(echo "$doc" | jq -c '{state,state_reason}')"
	[ "$(echo "$doc" | jq .auth_failures)" -eq 0 ] && pass "$who: still no auth failures" || fail "$who: auth_failures"
	compare_with_sim "$who" "$who@contoso.com"
done
[ "$(signins)" -eq "$signins_before" ] && pass "no owner signed in again" || fail "$(( $(signins) - signins_before )) sign-ins"

# A disabled provider shows on every account, and sync says so (exit 3).
ibx provider set microsoft --disable >/dev/null
for who in adele bob; do
	doc=$(ibx --json account show "$who")
	expect_in "$(echo "$doc" | jq -r .state_reason)" "disabled" "$who: shows the disabled provider"
	[ "$(echo "$doc" | jq -r .state)" = error ] && pass "$who: not shown as idle or authorized" || fail "$who: state $(echo "$doc" | jq -r .state)"
	[ "$(echo "$doc" | jq -r .provider_ok)" = false ] && pass "$who: provider_ok false" || fail "$who: provider_ok"
done
expect_in "$(ibx account list)" "OAuth not configured" "account list shows the provider problem"
run ibx sync adele
expect_rc 3 "sync with the provider disabled: exit 3"
ibx provider set microsoft --enable >/dev/null
run ibx sync
expect_rc 0 "enabled again: sync works"
finish
