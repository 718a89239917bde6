#!/usr/bin/env bash
# test_send_compose.sh — what a sender sees: the message is in Sent at once
# as a local entry and the next sync turns it into the server's copy (one
# entry, never two — also when Drafts is synced and the draft was seen
# before it was sent); the seeds' self-test (send to yourself, it arrives
# in the Inbox, reply to that copy, both in one conversation); attachments
# arrive byte-exact at the recipient; a repeated idempotency key sends
# nothing twice.
. "$(dirname "$0")/lib_scenario.sh"
command -v ripmime >/dev/null || { echo "ripmime is missing (scripts/install-deps.sh installs it)" >&2; exit 1; }
sim_up --messages 20
setup_account work adele@contoso.com
run ibx sync work --until-complete
expect_rc 0 "initial sync"

sent_list() { ibx --json messages list "${2:-work}" --folder "${3:-Sent Items}" --limit 1000 | jq -c --arg s "$1" '[.[] | select(.subject == $s)]'; }
server_copy() { # server_copy EMAIL FOLDER IMID: the id of the one copy there
	sim_admin GET "mailboxes/$1/dump" | jq -r --arg f "$2" --arg m "$3" \
		'[.messages[] | select(.folderPath == $f and .internetMessageId == $m)] | if length == 1 then .[0].id else "copies: \(length)" end'
}

# --- the local Sent entry, replaced by the server's copy ----------------------
run ibx --json send work --to "Bob Example <bob@contoso.com>" --cc nestor@contoso.com \
	--subject "Quarterly numbers" --body "The numbers are attached in spirit."
expect_rc 0 "send"
imid=$(echo "$OUT" | jq -r .internet_message_id)
key=$(echo "$OUT" | jq -r .idempotency_key)
[ "$(echo "$OUT" | jq -r .state)" = submitted ] && pass "submitted at once" || fail "send: $OUT"
entry=$(sent_list "Quarterly numbers")
[ "$(echo "$entry" | jq length)" = 1 ] && pass "in Sent at once" || fail "Sent right after send: $entry"
[ "$(echo "$entry" | jq -r '.[0].id')" = "local:$key" ] && pass "a local id (local:<key>)" || fail "local id: $entry"
[ "$(echo "$entry" | jq -r '.[0].pending')" = true ] && pass "marked pending" || fail "pending: $entry"
[ "$(echo "$entry" | jq -r '.[0].internet_message_id')" = "$imid" ] && pass "carries our Message-ID" || fail "imid: $entry"
[ "$(echo "$entry" | jq -r '.[0].from.address')" = adele@contoso.com ] && pass "from the account" || fail "from: $entry"
[ "$(echo "$entry" | jq -c '[.[0].to[].address, .[0].cc[].address]')" = '["bob@contoso.com","nestor@contoso.com"]' ] &&
	pass "to and cc as given" || fail "recipients: $entry"
run ibx messages show work "local:$key"
expect_in "$OUT" "The numbers are attached in spirit." "the local entry's body can be read"
run ibx sync work --until-complete
expect_rc 0 "sync after the send"
server_id=$(server_copy adele@contoso.com "Sent Items" "$imid")
entry=$(sent_list "Quarterly numbers")
[ "$(echo "$entry" | jq -c '[.[] | {id, pending}]')" = "[{\"id\":\"$server_id\",\"pending\":false}]" ] &&
	pass "after sync: one entry, the server's id, not pending" || fail "after sync: $entry (server $server_id)"
[ -n "$(echo "$entry" | jq -r '.[0].conversation_id | select(length > 0)')" ] && pass "the server's conversation id" || fail "no conversation id: $entry"
run ibx sync work --until-complete
[ "$(sent_list "Quarterly numbers" | jq length)" = 1 ] && pass "still one entry after another sync" || fail "entries: $(sent_list "Quarterly numbers")"
[ "$(ibx --json outbox list work | jq -r --arg k "$key" '.[] | select(.idempotency_key == $k) | .state')" = confirmed ] &&
	pass "outbox entry confirmed" || fail "outbox: $(ibx --json outbox list work)"
run ibx messages show work "$server_id"
expect_in "$OUT" "The numbers are attached in spirit." "the server copy's body"

# --- Drafts synced too: the draft is seen by a sync before it is sent ------------
ibx folders select work Drafts >/dev/null
run ibx sync work --until-complete
expect_rc 0 "sync with Drafts selected"
{ INBOXSYNC_CRASH_AT=outbox:after_draft_stored "$INBOXSYNC_BIN" send work --to bob@contoso.com \
	--subject "Seen as a draft first" --body "x" --idempotency-key seen-as-draft >/dev/null 2>&1; } 2>/dev/null
imid=$(ibx --json outbox list work | jq -r '.[] | select(.request.subject == "Seen as a draft first") | .internet_message_id')
sim_admin POST faults '{"kind":"503","path":"/send","count":1}' >/dev/null
run ibx sync work --once                     # the send is refused: retried later
expect_rc 5 "sync: the send is refused for now (503)"
run ibx sync work --once                     # not due yet: the folders sync, the draft shows
expect_rc 0 "sync while the send waits"
[ "$(ibx --json messages list work --folder Drafts | jq --arg m "$imid" '[.[] | select(.internet_message_id == $m)] | length')" = 1 ] &&
	pass "the draft was synced into Drafts" || fail "draft not in Drafts locally"
run ibx send work --to bob@contoso.com --subject "Seen as a draft first" --body "x" --idempotency-key seen-as-draft
expect_rc 0 "the same send again delivers it now"
run ibx sync work --until-complete
expect_rc 0 "sync brings the Sent copy"
run ibx sync work --until-complete
server_id=$(server_copy adele@contoso.com "Sent Items" "$imid")
entry=$(sent_list "Seen as a draft first")
[ "$(echo "$entry" | jq -c '[.[] | {id, pending}]')" = "[{\"id\":\"$server_id\",\"pending\":false}]" ] &&
	pass "a draft moved to Sent replaces the local entry: one entry" || fail "Sent entries: $entry (server $server_id)"
[ "$(ibx --json messages list work --folder Drafts | jq --arg m "$imid" '[.[] | select(.internet_message_id == $m)] | length')" = 0 ] &&
	pass "nothing left in Drafts" || fail "still in Drafts locally"
ibx folders unselect work Drafts >/dev/null

# --- the seeds' self-test -----------------------------------------------------
run ibx --json send work --to adele@contoso.com --subject "Note to self" --body "Remember the milk."
expect_rc 0 "send to yourself"
imid=$(echo "$OUT" | jq -r .internet_message_id)
[ "$(sent_list "Note to self" | jq -r '.[0].pending')" = true ] && pass "in Sent at once" || fail "not in Sent: $(sent_list "Note to self")"
[ "$(sent_list "Note to self" work Inbox | jq length)" = 0 ] && pass "not in the Inbox before the sync" || fail "in the Inbox already"
run ibx sync work --until-complete
expect_rc 0 "sync after sending to yourself"
inbox=$(sent_list "Note to self" work Inbox)
sent=$(sent_list "Note to self")
[ "$(echo "$inbox" | jq length)" = 1 ] && pass "arrived in the Inbox" || fail "Inbox: $inbox"
[ "$(echo "$sent" | jq -c '[.[] | .pending]')" = '[false]' ] && pass "one Sent entry, the server's" || fail "Sent: $sent"
inbox_id=$(echo "$inbox" | jq -r '.[0].id')
[ "$inbox_id" != "$(echo "$sent" | jq -r '.[0].id')" ] && pass "Inbox and Sent copies are two messages" || fail "same id in Inbox and Sent"
[ "$(echo "$inbox" | jq -r '.[0].internet_message_id')" = "$imid" ] && pass "the Inbox copy has our Message-ID" || fail "Inbox imid: $inbox"
run ibx --json send work --to adele@contoso.com --subject "RE: Note to self" --body "Bought it." --reply-to-id "$inbox_id"
expect_rc 0 "reply to the Inbox copy"
reply_imid=$(echo "$OUT" | jq -r .internet_message_id)
run ibx sync work --until-complete
expect_rc 0 "sync after the reply"
conv=$(ibx --json messages list work --limit 1000 |
	jq -c --arg a "$imid" --arg b "$reply_imid" '[.[] | select(.internet_message_id == $a or .internet_message_id == $b) | {folder, conversation_id, pending}] | sort_by(.folder)')
[ "$(echo "$conv" | jq length)" = 4 ] && pass "note and reply, each in Inbox and Sent" || fail "copies: $conv"
[ "$(echo "$conv" | jq '[.[].conversation_id] | unique | length')" = 1 ] && [ -n "$(echo "$conv" | jq -r '.[0].conversation_id | select(length > 0)')" ] &&
	pass "locally all in one conversation" || fail "conversations: $conv"
[ "$(echo "$conv" | jq '[.[] | select(.pending)] | length')" = 0 ] && pass "nothing pending" || fail "pending: $conv"
[ "$(sim_admin GET mailboxes/adele@contoso.com/dump | jq --arg a "$imid" --arg b "$reply_imid" \
	'[.messages[] | select(.internetMessageId == $a or .internetMessageId == $b) | .conversationId] | [length, (unique | length)]' | jq -c .)" = "[4,1]" ] &&
	pass "on the server all in one conversation" || fail "server conversations differ"
reply_inbox=$(sent_list "RE: Note to self" work Inbox | jq -r '.[0].id')
run ibx messages show work "$reply_inbox" --raw
expect_in "$(echo "$OUT" | tr -d '\r' | grep -i '^In-Reply-To:')" "$imid" "the reply has In-Reply-To"
expect_in "$(echo "$OUT" | tr -d '\r' | grep -i '^References:')" "$imid" "the reply has References"

# --- attachments round-trip byte-exact -------------------------------------------
head -c 400000 /dev/urandom >"$TEST_TMP/blob.bin"
{ printf 'line one\r\nline two\nno final newline\tand a tab \xc3\xa9'; head -c 3000 /dev/urandom | base64; } >"$TEST_TMP/notes.txt"
printf '%%PDF-1.4\n%%\xe2\xe3\xcf\xd3\n' >"$TEST_TMP/empty-ish.pdf"
run ibx --json send work --to bob@contoso.com --subject "Files for you" --body "Three files." \
	--attach "$TEST_TMP/blob.bin" --attach "$TEST_TMP/notes.txt" --attach "$TEST_TMP/empty-ish.pdf"
expect_rc 0 "send with three attachments"
imid=$(echo "$OUT" | jq -r .internet_message_id)
[ "$(sent_list "Files for you" | jq -r '.[0].has_attachments')" = true ] && pass "the local entry has attachments" || fail "has_attachments: $(sent_list "Files for you")"
[ "$(sim_admin GET sent | jq --arg m "$imid" '.value[] | select(.internetMessageId == $m) | .attachments')" = 3 ] &&
	pass "the server saw three attachments" || fail "sent log: $(sim_admin GET sent | jq -c --arg m "$imid" '.value[] | select(.internetMessageId == $m)')"
setup_account bob bob@contoso.com
run ibx sync bob --until-complete
expect_rc 0 "bob syncs"
bob_id=$(sent_list "Files for you" bob Inbox | jq -r '.[0].id')
[ "$(sent_list "Files for you" bob Inbox | jq -r '.[0].has_attachments')" = true ] && pass "bob's copy has attachments" || fail "bob: $(sent_list "Files for you" bob Inbox)"
check_parts() { # check_parts MIMEFILE WHO
	rm -rf "$TEST_TMP/parts" && mkdir -p "$TEST_TMP/parts"
	ripmime -i "$1" -d "$TEST_TMP/parts" --no-nameless >/dev/null 2>&1
	for f in blob.bin notes.txt empty-ish.pdf; do
		if cmp -s "$TEST_TMP/$f" "$TEST_TMP/parts/$f"; then pass "$2: $f byte-exact"
		else fail "$2: $f differs or is missing ($(ls "$TEST_TMP/parts" | tr '\n' ' '))"; fi
	done
}
ibx messages show bob "$bob_id" --raw >"$TEST_TMP/bob.eml"
check_parts "$TEST_TMP/bob.eml" "bob's copy"
run ibx sync work --until-complete
sent_id=$(sent_list "Files for you" | jq -r '.[0].id')
case "$sent_id" in local:*) fail "Sent entry still local after sync" ;; esac
ibx messages show work "$sent_id" --raw >"$TEST_TMP/sent.eml"
check_parts "$TEST_TMP/sent.eml" "the Sent Items copy"
grep -q -i "^Message-ID: *$imid" <(tr -d '\r' <"$TEST_TMP/bob.eml") && pass "bob's copy has our Message-ID" || fail "Message-ID not in bob's copy"

# --- the same idempotency key twice sends once -------------------------------------
run ibx --json send work --to bob@contoso.com --subject "Only once" --body "a" --idempotency-key order-4711
expect_rc 0 "send with an idempotency key"
first=$(echo "$OUT" | jq -r .internet_message_id)
run ibx --json send work --to bob@contoso.com --subject "Only once" --body "a" --idempotency-key order-4711
expect_rc 0 "the same key again is not an error"
[ "$(echo "$OUT" | jq -r .internet_message_id)" = "$first" ] && pass "answers with the first send" || fail "second send: $OUT"
run ibx sync work --until-complete
[ "$(sim_admin GET sent | jq --arg m "$first" '[.value[] | select(.internetMessageId == $m)] | length')" = 1 ] && pass "sent once" || fail "sent more than once"
[ "$(sent_list "Only once" | jq length)" = 1 ] && pass "one Sent entry" || fail "Sent entries: $(sent_list "Only once")"
[ "$(sim_admin GET mailboxes/bob@contoso.com/dump | jq '[.messages[] | select(.subject == "Only once")] | length')" = 1 ] &&
	pass "bob got it once" || fail "bob got it more than once"

[ "$(ibx --json messages list work --limit 100000 | jq '[.[] | select(.pending)] | length')" = 0 ] && pass "no pending entry left" || fail "pending entries left"
compare_with_sim work adele@contoso.com
finish
