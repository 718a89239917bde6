#!/usr/bin/env bash
# test_send_failures.sh — sending when Microsoft says no: throttling (429
# with Retry-After) and unavailability (503) are retried within a bound and
# the message goes out exactly once, now or from the next sync; retries
# that never succeed end as `failed`; permanent rejections (a recipient
# Exchange cannot resolve, a message larger than the mailbox accepts) fail
# the entry with a readable reason, keep the message and remove its local
# Sent entry, and make `sync --until-complete` exit 1; a message too large
# for one Graph request is refused before any request; a message queued
# when the grant is revoked waits and goes out once after authorizing again.
. "$(dirname "$0")/lib_scenario.sh"
sim_up --messages 20
setup_account work adele@contoso.com
run ibx sync work --until-complete
expect_rc 0 "initial sync"

graph_requests() { sim_counter '[.requests | to_entries[] | select(.key | contains("/_sim/") | not) | .value[]] | add'; }
entry_of() { ibx --json outbox list work | jq -c --arg s "$1" '[.[] | select(.request.subject == $s)] | if length == 1 then .[0] else {state: "entries: \(length)"} end'; }
sent_entries() { ibx --json messages list work --folder "Sent Items" --limit 1000 | jq --arg s "$1" '[.[] | select(.subject == $s)] | length'; }
# once SUBJECT: sent exactly once (sent log, Sent Items, bob's Inbox), and
# after a sync one confirmed local entry.
once() {
	local imid n
	imid=$(entry_of "$1" | jq -r .internet_message_id)
	n=$(sim_admin GET sent | jq --arg m "$imid" '[.value[] | select(.internetMessageId == $m)] | length')
	[ "$n" = 1 ] && pass "$1: sent once" || fail "$1: sent $n times"
	n=$(sim_admin GET mailboxes/adele@contoso.com/dump | jq --arg m "$imid" '[.messages[] | select(.internetMessageId == $m)] | map(.folderPath) | join(",")')
	[ "$n" = '"Sent Items"' ] && pass "$1: one copy, in Sent Items" || fail "$1: adele's copies: $n"
	n=$(sim_admin GET mailboxes/bob@contoso.com/dump | jq --arg m "$imid" '[.messages[] | select(.internetMessageId == $m)] | length')
	[ "$n" = 1 ] && pass "$1: bob got it once" || fail "$1: bob got it $n times"
	run ibx sync work --until-complete
	expect_rc 0 "$1: sync"
	[ "$(entry_of "$1" | jq -r .state)" = confirmed ] && pass "$1: confirmed" || fail "$1: $(entry_of "$1")"
	[ "$(sent_entries "$1")" = 1 ] && pass "$1: one local Sent entry" || fail "$1: $(sent_entries "$1") local Sent entries"
}

# --- throttling and unavailability -------------------------------------------------
sim_admin POST faults '{"kind":"429","path":"/send","count":2,"retry_after":1}' >/dev/null
start=$(date +%s%N)
run ibx send work --to bob@contoso.com --subject "Through two 429s" --body "x"
elapsed=$(( ($(date +%s%N) - start) / 1000000 ))
expect_rc 0 "two 429s on /send: sent within the retry bound"
expect_in "$ERR" "retrying in 1 s" "waits as long as Retry-After says"
[ "$elapsed" -ge 2000 ] && pass "honoured Retry-After (${elapsed} ms)" || fail "did not wait for Retry-After: ${elapsed} ms"
once "Through two 429s"

sim_admin POST faults '{"kind":"503","path":"/v1.0/me/messages","count":2}' >/dev/null
run ibx send work --to bob@contoso.com --subject "Through two 503s" --body "x"
expect_rc 0 "two 503s on /me/messages: sent within the retry bound"
once "Through two 503s"

sim_admin POST faults '{"kind":"429","path":"/send","count":3,"retry_after":2}' >/dev/null
run ibx send work --to bob@contoso.com --subject "Throttled longer than send waits" --body "x"
expect_rc 5 "throttled through every try: temporary (exit 5)"
expect_in "$ERR" "queued and 'inboxsync sync' will send it" "says the next sync sends it"
[ "$(entry_of "Throttled longer than send waits" | jq -r .state)" = sending ] && pass "the entry waits (sending, not sent)" || fail "entry: $(entry_of "Throttled longer than send waits")"
[ "$(sent_entries "Throttled longer than send waits")" = 1 ] && pass "still shown in Sent meanwhile" || fail "not in Sent while waiting"
run ibx sync work --until-complete
expect_rc 0 "the next sync sends it"
once "Throttled longer than send waits"

# retries are bounded: a send that is never accepted ends as failed
sim_admin POST faults '{"kind":"503","path":"/send","seconds":60}' >/dev/null
for i in 1 2; do
	run ibx send work --to bob@contoso.com --subject "Never accepted" --body "x" --idempotency-key never-accepted
	expect_rc 5 "503 on every send, try $i: still queued"
done
run ibx send work --to bob@contoso.com --subject "Never accepted" --body "x" --idempotency-key never-accepted
expect_rc 1 "after $(entry_of "Never accepted" | jq .attempts) attempts it fails for good"
entry=$(entry_of "Never accepted")
[ "$(echo "$entry" | jq -r .state)" = failed ] && pass "the entry is failed" || fail "entry: $entry"
expect_in "$(echo "$entry" | jq -r .last_error)" "gave up after" "the reason says it gave up"
[ "$(sent_entries "Never accepted")" = 0 ] && pass "the local Sent entry is gone (it was not sent)" || fail "a Sent entry for a message that was never sent"
sim_admin DELETE faults >/dev/null
[ "$(sim_admin GET sent | jq '[.value[] | select(.subject == "Never accepted")] | length')" = 0 ] && pass "nothing was sent" || fail "it was sent"
run ibx sync work --until-complete
expect_rc 0 "an old failure does not fail every later sync"
[ "$(sent_entries "Never accepted")" = 0 ] && pass "still no Sent entry after sync" || fail "Sent entry came back"

# --- permanent rejections ----------------------------------------------------------
run ibx send work --to "bob@contoso.com, lynne@[10.0.0.1]" --subject "Unresolvable recipient" --body "x"
expect_rc 1 "an unresolvable recipient fails the send"
expect_in "$ERR" "ErrorInvalidRecipients" "names Microsoft's error"
expect_in "$ERR" "lynne@[10.0.0.1]" "names the recipient"
expect_in "$ERR" "correct the recipients" "says what to do"
entry=$(entry_of "Unresolvable recipient")
[ "$(echo "$entry" | jq -r .state)" = failed ] && pass "the entry is failed" || fail "entry: $entry"
expect_in "$(echo "$entry" | jq -r .last_error)" "lynne@[10.0.0.1]" "the kept reason names the recipient"
[ "$(echo "$entry" | jq -c '[.request.to[].address]')" = '["bob@contoso.com","lynne@[10.0.0.1]"]' ] && pass "the message is kept (outbox list shows it)" || fail "request: $entry"
[ "$(sent_entries "Unresolvable recipient")" = 0 ] && pass "the local Sent entry is gone" || fail "still in Sent"
imid=$(echo "$entry" | jq -r .internet_message_id)
[ "$(sim_admin GET mailboxes/adele@contoso.com/dump | jq -c --arg m "$imid" '[.messages[] | select(.internetMessageId == $m) | .folderPath]')" = '["Drafts"]' ] &&
	pass "its draft is kept in Drafts" || fail "server copies: $(sim_admin GET mailboxes/adele@contoso.com/dump | jq -c --arg m "$imid" '[.messages[] | select(.internetMessageId == $m) | .folderPath]')"
[ "$(sim_admin GET mailboxes/bob@contoso.com/dump | jq '[.messages[] | select(.subject == "Unresolvable recipient")] | length')" = 0 ] &&
	pass "nobody got it (not even the valid recipient)" || fail "bob got a rejected message"
run ibx --json outbox list work
expect_rc 0 "outbox list"
run ibx outbox list work
expect_in "$OUT" "failed" "outbox list shows the failure"

# the same rejection when the sync delivers it: sync --until-complete exits 1
{ INBOXSYNC_CRASH_AT=outbox:after_accept "$INBOXSYNC_BIN" send work --to "lynne@[10.0.0.1]" \
	--subject "Rejected during sync" --body "x" >/dev/null 2>&1; } 2>/dev/null
[ "$(entry_of "Rejected during sync" | jq -r .state)" = queued ] && pass "queued (send killed after accepting)" || fail "entry: $(entry_of "Rejected during sync")"
run ibx sync work --until-complete
expect_rc 1 "sync --until-complete exits 1 when a send failed for good"
expect_in "$ERR" "could not be sent" "says a message could not be sent"
expect_in "$ERR" "inboxsync outbox list work" "names the command that shows why"
[ "$(entry_of "Rejected during sync" | jq -r .state)" = failed ] && pass "failed" || fail "entry: $(entry_of "Rejected during sync")"
[ "$(sent_entries "Rejected during sync")" = 0 ] && pass "its local Sent entry is gone" || fail "still in Sent"
run ibx sync work --until-complete
expect_rc 0 "the next sync is fine again"

# larger than the mailbox accepts (the server says 413 ErrorMessageSizeExceeded)
sim_admin POST config '{"max_message_bytes":65536}' >/dev/null
head -c 100000 /dev/urandom >"$TEST_TMP/100k.bin"
run ibx send work --to bob@contoso.com --subject "Over the mailbox limit" --body "x" --attach "$TEST_TMP/100k.bin"
expect_rc 1 "too large for the mailbox"
expect_in "$ERR" "ErrorMessageSizeExceeded" "names Microsoft's error"
expect_in "$ERR" "make it smaller" "says what to do"
entry=$(entry_of "Over the mailbox limit")
[ "$(echo "$entry" | jq -r .state)" = failed ] && pass "the entry is failed" || fail "entry: $entry"
[ "$(echo "$entry" | jq -c .request.attachments)" = '["100k.bin"]' ] && pass "the message is kept with its attachment" || fail "request: $entry"
[ "$(sent_entries "Over the mailbox limit")" = 0 ] && pass "the local Sent entry is gone" || fail "still in Sent"
sim_admin POST config '{"max_message_bytes":36700160}' >/dev/null

# --- too large for one Graph request: refused before any request --------------------
head -c 3300000 /dev/urandom >"$TEST_TMP/3.3m.bin"
head -c 2900000 /dev/urandom >"$TEST_TMP/2.9m.bin"
head -c 2000000 /dev/urandom >"$TEST_TMP/2.0m.bin"
outbox_before=$(ibx --json outbox list work | jq length)
for f in 3.3m.bin 2.9m.bin; do
	before=$(graph_requests)
	run ibx send work --to bob@contoso.com --subject "Attachment $f" --body "x" --attach "$TEST_TMP/$f"
	expect_rc 1 "a $f attachment is refused"
	expect_in "$ERR" "too large" "says it is too large ($f)"
	expect_in "$ERR" "nothing was sent" "says nothing was sent ($f)"
	[ "$(graph_requests)" = "$before" ] && pass "no request to Microsoft ($f)" || fail "requests went out for $f: $before -> $(graph_requests)"
	[ "$(sent_entries "Attachment $f")" = 0 ] && pass "not in Sent ($f)" || fail "in Sent ($f)"
done
[ "$(ibx --json outbox list work | jq length)" = "$outbox_before" ] && pass "nothing added to the outbox" || fail "outbox grew"
before=$(sim_counter .bytes_in)
run ibx send work --to bob@contoso.com --subject "Attachment 2.0m.bin" --body "x" --attach "$TEST_TMP/2.0m.bin"
expect_rc 0 "a 2 MB attachment is sent"
bytes=$(( $(sim_counter .bytes_in) - before ))
[ "$bytes" -lt 4194304 ] && pass "its requests stay under Graph's 4 MB ($bytes bytes)" || fail "requests of $bytes bytes (Graph takes 4 MB per request)"
once "Attachment 2.0m.bin"

# --- a queued message outlives a revoked grant ---------------------------------------
{ INBOXSYNC_CRASH_AT=outbox:after_accept "$INBOXSYNC_BIN" send work --to bob@contoso.com \
	--subject "Queued before the revocation" --body "x" >/dev/null 2>&1; } 2>/dev/null
sim_admin POST users/adele@contoso.com/revoke '{}' >/dev/null
sim_admin POST users/adele@contoso.com/expire-tokens '{}' >/dev/null
for i in 1 2 3; do run ibx sync work; done
[ "$(ibx --json account show work | jq -r .state)" = auth_invalid ] && pass "auth_invalid" || fail "state: $(ibx --json account show work | jq -c '{state, state_reason}')"
[ "$(entry_of "Queued before the revocation" | jq -r .state)" = queued ] && pass "the queued message waits" || fail "entry: $(entry_of "Queued before the revocation")"
[ "$(sent_entries "Queued before the revocation")" = 1 ] && pass "and stays in Sent meanwhile" || fail "gone from Sent"
authorize work adele@contoso.com
expect_rc 0 "authorize again"
run ibx sync work --until-complete
expect_rc 0 "sync after authorizing again"
once "Queued before the revocation"

[ "$(ibx --json messages list work --limit 100000 | jq '[.[] | select(.pending)] | length')" = 0 ] && pass "no pending entry left" || fail "pending entries left"
compare_with_sim work adele@contoso.com
finish
