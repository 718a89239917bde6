#!/usr/bin/env bash
# test_sync_faults.sh — a mailbox that misbehaves: 429 storms (Retry-After
# obeyed), 503s, a connection dropped mid-page, malformed and oversized
# responses. Each gives a clear error or a retry, never a crash or a
# corrupt store; in the end the store equals the server. A throttled
# mailbox never delays another one.
. "$(dirname "$0")/lib_scenario.sh"
sim_up --messages 3000 --seed 3
setup_account work adele@contoso.com
ibx folders select work Archive >/dev/null
fault() { sim_admin POST faults "$1" >/dev/null; }

# Single passes report what went wrong and keep what was committed.
fault '{"kind":"malformed","path":"/messages/delta","count":1}'
run ibx sync work --once
expect_rc 5 "malformed page: temporary failure"
expect_in "$ERR" "JSON" "names the malformed JSON"
fault '{"kind":"oversized","path":"/messages/delta","count":1,"bytes":40000000}'
run ibx sync work --once
expect_rc 5 "oversized page: temporary failure"
expect_in "$ERR" "size cap" "names the size cap"
fault '{"kind":"drop","path":"/messages/delta","count":1}'
run ibx sync work --once
expect_rc 5 "dropped connection: temporary failure"
fault '{"kind":"429","path":"/messages/delta","count":1,"retry_after":7}'
run ibx sync work --once
expect_rc 5 "throttled: try later"
expect_in "$ERR" "throttl" "says throttled"
run ibx --json account show work
[ "$(echo "$OUT" | jq -r .state)" = "throttled" ] && pass "state throttled" || fail "state: $(echo "$OUT" | jq -r .state)"
expect_in "$(echo "$OUT" | jq -r .state_reason)" "Retry-After" "reason mentions Retry-After"
[ "$(echo "$OUT" | jq -r .throttled_until)" != null ] && pass "throttled_until recorded" || fail "no throttled_until"
sim_admin DELETE faults >/dev/null

# Storms during --until-complete: recovered, Retry-After obeyed.
fault '{"kind":"429","path":"/messages/delta","count":3,"retry_after":2}'
fault '{"kind":"503","path":"/messages/delta","count":2}'
fault '{"kind":"drop","path":"/messages/delta","count":2}'
fault '{"kind":"malformed","path":"/messages/delta","count":1}'
start=$(date +%s%N)
run ibx sync work --until-complete
elapsed_ms=$(( ($(date +%s%N) - start) / 1000000 ))
expect_rc 0 "sync completes through the storm"
[ "$elapsed_ms" -ge 5500 ] && pass "waited as Retry-After asked (${elapsed_ms} ms for 3 x 2 s)" || fail "did not wait for Retry-After (${elapsed_ms} ms)"
compare_with_sim work adele@contoso.com
run ibx --json messages list work --limit 100000
[ "$(echo "$OUT" | jq -r '.[].id' | sort | uniq -d | wc -l)" -eq 0 ] && pass "no duplicates" || fail "duplicates"

# A throttled mailbox never delays another one.
sim_admin POST mailboxes/bob@contoso.com/seed '{"folder":"inbox","count":300,"seed":4}' >/dev/null
ibx account add bob --email bob@contoso.com >/dev/null
authorize bob bob@contoso.com
expect_rc 0 "authorize bob"
ibx folders fetch bob >/dev/null
fault '{"kind":"429","mailbox":"adele@contoso.com","count":1000,"retry_after":30}'
sim_admin POST $"mailboxes/adele@contoso.com/messages" '{"folder":"inbox","subject":"while throttled"}' >/dev/null
"$INBOXSYNC_BIN" sync --until-complete >"$TEST_TMP/both.out" 2>&1 &
pid=$!
# No clock in the assertion: bob must be done while adele's Retry-After
# (30 s, stored on her account) still runs.
bob_done=""
for _ in $(seq 1 1200); do
	if [ "$(ibx --json account show bob | jq -r .state)" = "idle" ]; then bob_done=1; break; fi
	sleep 0.1
done
adele=$(ibx --json account show work)
adele_state=$(echo "$adele" | jq -r .state)
adele_until=$(echo "$adele" | jq -r '.throttled_until // empty')
kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null || true
[ -n "$bob_done" ] && [ -n "$adele_until" ] &&
	pass "bob synced while adele was still throttled (until $adele_until)" ||
	fail "bob delayed: done=$bob_done, adele throttled until '$adele_until'"
[ "$adele_state" = "throttled" ] && pass "adele waits as throttled" || fail "adele state $adele_state"
sim_admin DELETE faults >/dev/null
compare_with_sim bob bob@contoso.com
finish
