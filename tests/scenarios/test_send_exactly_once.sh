#!/usr/bin/env bash
# test_send_exactly_once.sh — a send killed (SIGKILL) at every step of the
# outbox is delivered exactly once: whether the next `sync` or the same
# `send --idempotency-key` again finishes it, whether the sync that drains
# it is killed too (once or twice in a row), and when the server's answer
# to the draft creation or the send itself is lost on the wire. After each
# case the simulator's truth is compared: one copy in adele's Sent Items,
# no draft left, one delivery in bob's Inbox, one entry in the sent log,
# and locally one confirmed Sent entry with the server's id. A draft that
# another client deletes before it is sent does not lose the message.
. "$(dirname "$0")/lib_scenario.sh"
sim_up --messages 20
setup_account work adele@contoso.com
run ibx sync work --until-complete
expect_rc 0 "initial sync"
STEPS="after_accept before_draft after_draft after_draft_stored before_send after_send"

# crash POINT CMD...: runs an inboxsync command that must die at POINT.
crash() {
	local point=$1
	shift
	{ INBOXSYNC_CRASH_AT="outbox:$point" "$INBOXSYNC_BIN" "$@" >"$TEST_TMP/crash.out" 2>&1; } 2>/dev/null && RC=0 || RC=$?
	if [ "$RC" -eq 137 ]; then pass "killed at outbox:$point ($2)"
	else fail "outbox:$point not reached by '$1 $2' (exit $RC): $(cat "$TEST_TMP/crash.out")"; fi
}

# send_msg SUBJECT [args...]: a message to bob with a unique subject.
send_msg() {
	local subject=$1
	shift
	"$INBOXSYNC_BIN" send work --to bob@contoso.com --subject "$subject" --body "body of $subject" "$@"
}

# imid_of SUBJECT: the Message-ID of the outbox entry with that subject.
imid_of() {
	ibx --json outbox list work | jq -r --arg s "$1" '[.[] | select(.request.subject == $s)] |
		if length == 1 then .[0].internet_message_id else "outbox entries: \(length)" end'
}

# check_once SUBJECT: exactly one send, one delivery, one local entry.
check_once() {
	local subject=$1 imid entry n sent_id local
	imid=$(imid_of "$subject")
	case "$imid" in "<"*">") ;; *) fail "$subject: $imid"; return ;; esac
	entry=$(ibx --json outbox list work | jq -c --arg m "$imid" '.[] | select(.internet_message_id == $m)')
	case "$(echo "$entry" | jq -r .state)" in
	confirmed) pass "$subject: outbox entry confirmed" ;;
	*) fail "$subject: outbox entry not confirmed: $entry" ;;
	esac
	sim_admin GET mailboxes/adele@contoso.com/dump >"$TEST_TMP/adele.json"
	n=$(jq --arg m "$imid" '[.messages[] | select(.internetMessageId == $m and .folderPath == "Sent Items" and (.isDraft | not))] | length' "$TEST_TMP/adele.json")
	[ "$n" = 1 ] && pass "$subject: one copy in Sent Items" || fail "$subject: $n copies in Sent Items"
	n=$(jq --arg m "$imid" '[.messages[] | select(.internetMessageId == $m)] | length' "$TEST_TMP/adele.json")
	[ "$n" = 1 ] && pass "$subject: no draft or other copy left" || fail "$subject: $n copies in adele's mailbox: $(jq -c --arg m "$imid" '[.messages[] | select(.internetMessageId == $m) | .folderPath]' "$TEST_TMP/adele.json")"
	sent_id=$(jq -r --arg m "$imid" '.messages[] | select(.internetMessageId == $m and .folderPath == "Sent Items") | .id' "$TEST_TMP/adele.json" | head -n 1)
	n=$(sim_admin GET mailboxes/bob@contoso.com/dump | jq --arg m "$imid" '[.messages[] | select(.internetMessageId == $m and .folderPath == "Inbox")] | length')
	[ "$n" = 1 ] && pass "$subject: delivered once to bob" || fail "$subject: $n deliveries to bob"
	n=$(sim_admin GET sent | jq --arg m "$imid" '[.value[] | select(.internetMessageId == $m)] | length')
	[ "$n" = 1 ] && pass "$subject: one send in the sent log" || fail "$subject: $n sends in the sent log"
	local=$(ibx --json messages list work --folder "Sent Items" --limit 1000 |
		jq -c --arg m "$imid" '[.[] | select(.internet_message_id == $m) | {id, pending}]')
	[ "$local" = "[{\"id\":\"$sent_id\",\"pending\":false}]" ] &&
		pass "$subject: one local Sent entry with the server's id" ||
		fail "$subject: local Sent entries $local, want the server's $sent_id"
}

no_pending_left() {
	local n
	n=$(ibx --json messages list work --limit 100000 | jq '[.[] | select(.pending)] | length')
	[ "$n" = 0 ] && pass "no pending local entry left" || fail "$n pending local entries left"
	n=$(ibx --json outbox list work | jq '[.[] | select(.state != "confirmed")] | length')
	[ "$n" = 0 ] && pass "every outbox entry confirmed" || fail "outbox: $(ibx --json outbox list work | jq -c '[.[] | {state, subject: .request.subject, last_error}]')"
}

# 1. `send` killed at each step; the next sync finishes the send.
for step in $STEPS; do
	crash "$step" send work --to bob@contoso.com --subject "killed $step, then sync" --body "body"
	run ibx sync work --until-complete
	expect_rc 0 "sync after the kill at $step"
	check_once "killed $step, then sync"
done

# 2. `send` killed at each step; the user runs the same send again with the
#    same idempotency key (the retry a script would make).
for step in $STEPS; do
	crash "$step" send work --to bob@contoso.com --subject "killed $step, then send again" \
		--body "body of killed $step, then send again" --idempotency-key "again-$step"
	run send_msg "killed $step, then send again" --idempotency-key "again-$step"
	expect_rc 0 "the same send again after the kill at $step"
	run ibx sync work --until-complete
	expect_rc 0 "sync after sending again ($step)"
	check_once "killed $step, then send again"
done

# 3. the sync that drains the outbox is killed at each step.
for step in $STEPS; do
	[ "$step" = after_accept ] && continue
	crash after_accept send work --to bob@contoso.com --subject "sync killed $step" --body "body"
	crash "$step" sync work --until-complete
	run ibx sync work --until-complete
	expect_rc 0 "sync after the sync was killed at $step"
	check_once "sync killed $step"
done

# 4. killed three times in a row at successive steps.
crash after_draft send work --to bob@contoso.com --subject "killed thrice" --body "body"
crash before_send sync work --until-complete
crash after_send sync work --until-complete
run ibx sync work --until-complete
expect_rc 0 "sync after three kills"
check_once "killed thrice"

# 5. Graph unavailable during the send: it stays queued; the sync that
#    picks it up is killed after creating the draft; the next one sends it.
sim_admin POST faults '{"kind":"503","path":"/v1.0/me/messages","count":3}' >/dev/null
run send_msg "queued by 503s"
expect_rc 5 "send during 503s: temporary"
expect_in "$ERR" "queued" "says the message is queued"
state=$(ibx --json outbox list work | jq -r '.[] | select(.request.subject == "queued by 503s") | .state')
[ "$state" = queued ] && pass "the entry is queued" || fail "state after 503s: $state"
crash after_draft sync work --until-complete
run ibx sync work --until-complete
expect_rc 0 "sync after the 503s and the kill"
check_once "queued by 503s"

# 6. the answer is lost on the wire after the server acted: the draft was
#    created (the retry finds it by Message-ID), or the send happened (the
#    retry sees the draft is no longer a draft and does not send again).
# answer_lost PATH SUBJECT: the next answer to PATH is cut off; the send
# still succeeds, and after a sync the message exists exactly once.
answer_lost() {
	sim_admin POST faults "{\"kind\":\"drop\",\"path\":\"$1\",\"count\":1}" >/dev/null
	run send_msg "$2"
	expect_rc 0 "send ($2)"
	run ibx sync work --until-complete
	expect_rc 0 "sync ($2)"
	check_once "$2"
}
answer_lost /v1.0/me/messages "create answer lost"
answer_lost /send "send answer lost"
sim_admin POST faults '{"kind":"drop","path":"/send","count":1}' >/dev/null
crash after_accept send work --to bob@contoso.com --subject "send answer lost in sync" --body "body"
run ibx sync work --until-complete
expect_rc 0 "sync when the send's answer is lost"
check_once "send answer lost in sync"

# 7. another client removes the draft while inboxsync is down: moved to
#    Deleted Items (still a draft: it is sent from there), or deleted for
#    good (gone, and no sent copy: a new draft is made and sent).
for how in "" "?permanent=true"; do
	subject="draft deleted${how:+ for good} before the send"
	crash after_draft_stored send work --to bob@contoso.com --subject "$subject" --body "body"
	draft=$(sim_admin GET mailboxes/adele@contoso.com/dump | jq -r --arg m "$(imid_of "$subject")" \
		'.messages[] | select(.internetMessageId == $m) | .id')
	sim_admin DELETE "mailboxes/adele@contoso.com/messages/$draft$how" >/dev/null
	run ibx sync work --until-complete
	expect_rc 0 "sync after the draft was deleted${how:+ for good}"
	check_once "$subject"
done

no_pending_left
n=$(sim_admin GET sent | jq '.value | length')
want=$(ibx --json outbox list work | jq length)
[ "$n" = "$want" ] && pass "the sent log holds exactly the $want sends" || fail "sent log: $n sends for $want outbox entries"
compare_with_sim work adele@contoso.com
finish
