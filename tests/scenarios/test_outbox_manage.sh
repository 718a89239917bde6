#!/usr/bin/env bash
# test_outbox_manage.sh — what a user can do with a message that failed:
# see it with its reason, queue it again (the retry asks the server first,
# so it never sends twice), or remove it; messages still on their way can
# be neither retried nor removed.
. "$(dirname "$0")/lib_scenario.sh"
sim_up
setup_account work adele@contoso.com
run ibx --json send work --to 'lynne@[10.0.0.1]' --subject "bad address" --body x --idempotency-key k-bad
expect_rc 1 "a rejected recipient fails the send"
run ibx --json outbox list work
[ "$(echo "$OUT" | jq -r '.[] | select(.idempotency_key=="k-bad") | .state')" = failed ] && pass "entry failed, kept" || fail "entry: $OUT"
expect_in "$(echo "$OUT" | jq -r '.[0].last_error')" "ErrorInvalidRecipients" "the reason is kept"

run ibx outbox retry work k-bad
expect_rc 0 "retry a failed message"
[ "$(ibx --json outbox list work | jq -r '.[0].state')" = queued ] && pass "queued again" || fail "not queued"
run ibx sync work --until-complete
expect_rc 1 "the retry fails the same way"
[ "$(ibx --json outbox list work | jq -r '.[0].state')" = failed ] && pass "failed again" || fail "state after retry"
[ "$(sim_admin GET sent | jq ".value | length")" = 0 ] && pass "nothing was sent to anyone" || fail "something was sent"

run ibx outbox remove work k-bad
expect_rc 0 "remove a failed message"
[ "$(ibx --json outbox list work | jq length)" = 0 ] && pass "outbox empty" || fail "outbox not empty"
run ibx outbox retry work nosuchkey
expect_rc 1 "unknown key"

sim_admin POST faults '{"kind":"503","path":"/v1.0/me/messages","count":100}' >/dev/null
run ibx send work --to bob@contoso.com --subject queued --body x --idempotency-key k-q
expect_rc 5 "a send that keeps failing stays queued"
run ibx outbox remove work k-q
expect_rc 1 "a queued message cannot be removed (its state, not the command line: exit 1)"
run ibx outbox retry work k-q
expect_rc 1 "a queued message needs no retry"
sim_admin DELETE faults >/dev/null
run ibx sync work --until-complete
expect_rc 0 "the queue drains"
[ "$(sim_admin GET sent | jq '[.value[] | select(.subject=="queued")] | length')" = 1 ] && pass "sent exactly once" || fail "sent log: $(sim_admin GET sent)"
finish
