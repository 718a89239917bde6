#!/usr/bin/env bash
# test_exit_codes.sh — one exit-code rule for every command (docs/cli.md):
# 2 only for a command line that is wrong as such; an unknown account,
# folder, message or outbox key, a name taken, a mailbox already connected
# and a port in use are failures (1); OAuth not configured is 3,
# authorization 4, throttled or temporary 5, an interrupted run 130; and
# `sync` of all accounts exits with the most severe outcome among them.
. "$(dirname "$0")/lib_scenario.sh"
sim_up --messages 30 --latency-ms 25
want() { # WANT DESCRIPTION COMMAND...
	local w=$1 d=$2; shift 2
	run "$@"
	expect_rc "$w" "$d"
}

# Before any provider: 3, with the administrator's fix.
want 3 "account add before the provider is set up" ibx account add work --email adele@contoso.com
want 3 "provider show before the provider is set up" ibx provider show
want 3 "provider check before the provider is set up" ibx provider check

provider_for_sim
sim_admin POST users '{"email":"big@contoso.com","name":"Big"}' >/dev/null
sim_admin POST mailboxes/big@contoso.com/seed '{"count":20000,"seed":5}' >/dev/null
ibx account add work --email adele@contoso.com >/dev/null
want 4 "sync of an account never authorized" ibx sync work
want 4 "account test of an account never authorized" ibx account test work
want 4 "send from an account never authorized" ibx send work --to bob@contoso.com --subject s --body b
authorize work adele@contoso.com
expect_rc 0 "authorize"
ibx folders fetch work >/dev/null
ibx sync work --until-complete >/dev/null
id=$(ibx --json messages list work --limit 1 | jq -r '.[0].id')

# 2: the command line itself.
want 2 "an unknown command" ibx frobnicate
want 2 "an unknown option" ibx messages list work --colour
want 2 "a missing argument" ibx messages show work
want 2 "an extra argument" ibx account show work extra
want 2 "a value that is not a number" ibx messages list work --limit many
want 2 "options that do not go together" ibx sync work --once --until-complete
want 2 "an unknown role" ibx folders select work Archive --role boss
want 2 "an address that is not one" ibx account add x --email not-an-address
want 2 "a group without its subcommand" ibx folders

# 1: the command line is fine, the operation failed.
want 1 "an unknown account" ibx account show nope
want 1 "an unknown account (sync)" ibx sync nope
want 1 "an unknown folder" ibx folders select work "No Such Folder"
want 1 "an unknown folder (messages list)" ibx messages list work --folder "No Such Folder"
want 1 "an unknown message" ibx messages show work AAAAnope
want 1 "an unknown message (mark)" ibx messages mark work AAAAnope --read
want 1 "an unknown outbox key" ibx outbox retry work no-such-key
want 1 "a folder that is not selected" ibx messages list work --folder Archive
want 1 "an account name already used" ibx account add work --email carol@contoso.com
want 1 "a mailbox already connected" ibx account add work2 --email adele@contoso.com
port=$(echo "$SIM_URL" | sed 's/.*://')
ibx account add bigbox --email big@contoso.com >/dev/null
want 1 "the redirect port in use" ibx account authorize bigbox --redirect-port "$port" --print-url --timeout 5
expect_in "$ERR" "--redirect-port" "says how to choose another port"

# --json failures carry the code too.
run ibx --json account show nope
[ "$(echo "$OUT" | jq -r .error.code)" = not_found ] && pass "--json: not_found" || fail "json: $OUT"

# 130: interrupted.
authorize bigbox big@contoso.com
ibx folders fetch bigbox >/dev/null
"$INBOXSYNC_BIN" sync bigbox --until-complete >"$TEST_TMP/int.out" 2>"$TEST_TMP/int.err" &
pid=$!
for _ in $(seq 1 100); do
	[ "$(ibx --json account show bigbox | jq .messages)" -gt 0 ] && break
	sleep 0.1
done
kill -INT "$pid"
wait "$pid" && RC=0 || RC=$?
ERR=$(cat "$TEST_TMP/int.err"); OUT=""
expect_rc 130 "Ctrl-C during a sync exits 130"
expect_in "$ERR" "interrupted" "and says it was interrupted"
"$INBOXSYNC_BIN" sync bigbox --until-complete >/dev/null 2>&1 &
pid=$!
sleep 0.5
kill -TERM "$pid"
wait "$pid" && RC=0 || RC=$?
expect_rc 130 "SIGTERM during a sync exits 130 too"
run ibx sync bigbox --until-complete
expect_rc 0 "and the next sync completes"

# sync of all accounts: the most severe outcome of those asked for.
ibx account remove bigbox >/dev/null
sim_admin POST users/adele@contoso.com/revoke '{}' >/dev/null
sim_admin POST users/adele@contoso.com/expire-tokens '{}' >/dev/null
for _ in 1 2 3; do ibx sync work >/dev/null 2>&1; done
[ "$(ibx --json account show work | jq -r .state)" = auth_invalid ] && pass "work is auth_invalid" || fail "state"
want 4 "sync NAME of an auth_invalid account" ibx sync work
want 4 "sync of all accounts when the only one is auth_invalid" ibx sync
ibx account add other --email bob@contoso.com >/dev/null
authorize other bob@contoso.com
ibx folders fetch other >/dev/null
want 4 "one account fine, one auth_invalid: 4" ibx sync
sim_admin POST faults '{"kind":"429","mailbox":"bob@contoso.com","count":100,"retry_after":30}' >/dev/null
want 4 "auth_invalid outranks throttled" ibx sync
ibx account remove work >/dev/null
want 5 "only a throttled account: 5" ibx sync
finish
