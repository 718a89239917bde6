#!/usr/bin/env bash
# test_select_account.sh — the "wrong Microsoft account" trap and why no
# private window is needed: a browser already signed in to bob would, on a
# plain authorization request, be signed in silently as bob; inboxsync's
# request carries prompt=select_account, so Microsoft shows its account
# picker and adele can be chosen. Walks the simulator's real HTML sign-in
# pages (account picker, e-mail, password, consent) with a cookie jar.
. "$(dirname "$0")/lib_scenario.sh"
sim_up
provider_for_sim
JAR="$TEST_TMP/cookies"
PAGE="$TEST_TMP/page.html"

# form_post STEP FIELDS...: submit the current page's form (its action and
# txn), following redirects like a browser. Leaves the page in $PAGE.
form_post() {
	local step=$1; shift
	local action txn
	action=$(grep -o 'action="[^"]*"' "$PAGE" | head -1 | sed 's/^action="//; s/"$//; s/&amp;/\&/g')
	txn=$(grep -o 'name="txn" value="[^"]*"' "$PAGE" | head -1 | sed 's/.*value="//; s/"$//')
	case "$action" in
	http*) ;;
	/*) action="$SIM_URL$action" ;;
	*) action="$(dirname "${CUR_URL%%\?*}")/$action" ;;
	esac
	local args=(-sS -L -b "$JAR" -c "$JAR" -o "$PAGE" -w '%{url_effective}' --data-urlencode "txn=$txn" --data-urlencode "step=$step")
	for kv in "$@"; do args+=(--data-urlencode "$kv"); done
	CUR_URL=$(curl "${args[@]}" "$action")
}

# get URL: load a page like a browser, remembering where it ended up.
get() { CUR_URL=$(curl -sS -L -b "$JAR" -c "$JAR" -o "$PAGE" -w '%{url_effective}' "$1"); }

start_authorize() { # NAME -> $URL, background pid $PID
	: >"$TEST_TMP/a.out"
	"$INBOXSYNC_BIN" account authorize "$1" --print-url --timeout 30 >"$TEST_TMP/a.out" 2>"$TEST_TMP/a.err" &
	PID=$!
	for _ in $(seq 1 200); do [ -s "$TEST_TMP/a.out" ] && break; sleep 0.05; done
	URL=$(head -n1 "$TEST_TMP/a.out")
}

# 1. The browser signs in to bob once (bob's own account in inboxsync).
ibx account add bobs --email bob@contoso.com >/dev/null
start_authorize bobs
get "$URL"
grep -q 'name="loginfmt"' "$PAGE" && pass "sign-in page shown" || fail "no sign-in page"
form_post email loginfmt=bob@contoso.com
form_post password passwd=pass
grep -q 'value="accept"' "$PAGE" && pass "consent screen lists the permissions" || fail "no consent screen"
grep -q 'Mail.Send' "$PAGE" && pass "consent names Mail.Send" || fail "consent lacks Mail.Send"
form_post consent action=accept
wait $PID && RC=0 || RC=$?
ERR=$(cat "$TEST_TMP/a.err"); OUT=""
expect_rc 0 "bob authorized through the HTML pages"

# 2. Now adele authorizes in the same browser.
ibx account add work --email adele@contoso.com >/dev/null
start_authorize work
# Without prompt=select_account the remembered session would be used
# silently: a redirect with a code for bob (the trap).
plain=$(echo "$URL" | sed 's/&prompt=select_account//; s/&login_hint=[^&]*//')
status=$(curl -sS -b "$JAR" -o /dev/null -w '%{http_code}' "$plain")
[ "$status" = "302" ] && pass "a plain request would silently sign in the remembered account" || fail "plain request gave $status"
# inboxsync's request shows the account picker instead.
status=$(curl -sS -b "$JAR" -c "$JAR" -o "$PAGE" -w '%{http_code}' "$URL")
CUR_URL=$URL
[ "$status" = "200" ] && grep -q 'Pick an account' "$PAGE" && pass "prompt=select_account shows the account picker" || fail "no picker ($status)"
grep -q 'bob@contoso.com' "$PAGE" && pass "the picker offers the remembered account" || fail "picker lacks bob"
form_post pick loginfmt=              # "Use another account"
form_post email loginfmt=adele@contoso.com
form_post password passwd=pass
form_post consent action=accept
wait $PID && RC=0 || RC=$?
ERR=$(cat "$TEST_TMP/a.err")
expect_rc 0 "adele authorized in a browser signed in to bob, no private window"
[ "$(ibx --json account show work | jq -r .server.identity)" = "adele@contoso.com" ] && pass "the right mailbox is connected" || fail "wrong mailbox"

# 3. Cancel on the consent screen (a user who never consented).
sim_admin POST users '{"email":"carol@contoso.com","password":"pass","name":"Carol Lee"}' >/dev/null
ibx account add third --email carol@contoso.com >/dev/null
start_authorize third
get "$URL"
form_post pick loginfmt=
form_post email loginfmt=carol@contoso.com
form_post password passwd=pass
grep -q 'value="accept"' "$PAGE" && pass "consent asked of a new user" || fail "no consent screen for carol"
form_post consent action=cancel
wait $PID && RC=0 || RC=$?
ERR=$(cat "$TEST_TMP/a.err")
expect_rc 4 "cancel on the consent screen"
expect_in "$ERR" "cancelled" "says consent was cancelled"
finish
