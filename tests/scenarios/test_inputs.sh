#!/usr/bin/env bash
# test_inputs.sh — bad input gets a clear error and loses nothing: what
# --attach and --body-file refuse (directories, devices, pipes), options
# without their value, --body with --body-file, an idempotency key reused
# for another message (refused, as payment APIs do), a subject Exchange
# would cut, the same mailbox added twice (any case), and an IMAP account
# added without any note that it cannot sync (the transport syncs).
. "$(dirname "$0")/lib_scenario.sh"
sim_up --messages 20
setup_account work adele@contoso.com
sent() { sim_admin GET sent | jq '.value | length'; }
outbox() { ibx --json outbox list work | jq length; }
send() { ibx send work --to bob@contoso.com "$@"; }

# Attachments and body files must be regular files.
mkdir "$TEST_TMP/adir"
mkfifo "$TEST_TMP/fifo"
run send --subject s --body b --attach "$TEST_TMP/adir"
expect_rc 2 "--attach a directory: usage error"
expect_in "$ERR" "is a directory, not a regular file" "says it is a directory"
run send --subject s --body b --attach /dev/null
expect_rc 2 "--attach /dev/null"
expect_in "$ERR" "is a device, not a regular file" "says it is a device"
run timeout 10 "$INBOXSYNC_BIN" send work --to bob@contoso.com --subject s --body b --attach "$TEST_TMP/fifo"
expect_rc 2 "--attach a FIFO (without blocking on it)"
expect_in "$ERR" "is a pipe (FIFO), not a regular file" "says it is a pipe"
run send --subject s --body-file "$TEST_TMP/adir"
expect_rc 2 "--body-file a directory"
expect_in "$ERR" "the body file" "names the body file"
run send --subject s --body b --attach "$TEST_TMP/missing.pdf"
expect_rc 2 "--attach a missing file"
expect_in "$ERR" "No such file or directory" "says it does not exist"
expect_in "$ERR" "missing.pdf" "and names it"
echo hello >"$TEST_TMP/body.txt"
run send --subject s --body b --body-file "$TEST_TMP/body.txt"
expect_rc 2 "--body with --body-file"
expect_in "$ERR" "either with --body or with --body-file, not both" "says to pick one"
[ "$(outbox)" -eq 0 ] && [ "$(sent)" -eq 0 ] && pass "nothing was queued or sent" || fail "outbox $(outbox), sent $(sent)"

# Options without their value.
run ibx account add x --email
expect_rc 2 "--email without a value"
expect_in "$ERR" "option --email needs a value" "names the long option"
run ibx --data-dir
expect_rc 2 "--data-dir without a value"
expect_in "$ERR" "option --data-dir needs a value" "says --data-dir needs a value"
expect_not_in "$ERR" "unknown global option" "not 'unknown global option'"
run ibx --data-dir= account list
expect_rc 2 "--data-dir= (empty)"
run send --subject
expect_rc 2 "--subject without a value"
expect_in "$ERR" "option --subject needs a value" "names it"

# An idempotency key reused: the same message answers as the first did,
# another message is refused and not sent.
run send --subject "Invoice 42" --body "Here it is" --idempotency-key inv-42
expect_rc 0 "first send with a key"
run send --subject "Invoice 42" --body "Here it is" --idempotency-key inv-42
expect_rc 0 "the same message again: answered as before"
expect_in "$ERR" "not sent again" "says it is not sent again"
run send --subject "Invoice 43" --body "Another one" --idempotency-key inv-42
expect_rc 1 "another message under the same key: refused"
expect_in "$ERR" "already used for a different message" "says the key was used for another message"
expect_in "$ERR" "this one was not sent" "says the new content was not sent"
run send --subject "Invoice 42" --body "changed body" --idempotency-key inv-42
expect_rc 1 "a different body under the same key: refused"
run ibx --json send work --to bob@contoso.com --subject "Invoice 43" --body x --idempotency-key inv-42
[ "$(echo "$OUT" | jq -r .error.code)" = conflict ] && pass "--json: error code conflict" || fail "json: $OUT"
[ "$(sim_admin GET sent | jq '[.value[] | select(.subject == "Invoice 42")] | length')" -eq 1 ] && pass "Invoice 42 went out once" || fail "sent: $(sim_admin GET sent | jq -c '[.value[].subject]')"
[ "$(sim_admin GET sent | jq '[.value[] | select(.subject == "Invoice 43")] | length')" -eq 0 ] && pass "Invoice 43 was not sent" || fail "Invoice 43 sent"

# Subjects: Exchange keeps 255 characters; a longer one is refused, not cut.
long=$(head -c 120000 /dev/zero | tr '\0' 'x')
run send --subject "$long" --body b
expect_rc 2 "a 120 KB subject is refused"
expect_in "$ERR" "more than 255 characters" "says the limit"
expect_in "$ERR" "nothing was sent" "says nothing was sent"
emoji=$(for _ in $(seq 1 255); do printf '🎉'; done)
run send --subject "$emoji" --body b
expect_rc 0 "255 characters (1020 bytes of emoji) are fine"
run send --subject "x$emoji" --body b
expect_rc 2 "256 characters are not"
[ "$(sim_admin GET sent | jq '[.value[] | select((.subject | length) > 300)] | length')" -eq 0 ] && pass "the long subject never went out" || fail "long subject sent"

# The same mailbox twice, in any case, is refused at add.
run ibx account add work2 --email ADELE@Contoso.COM
expect_rc 1 "the same mailbox again (other case): refused"
expect_in "$ERR" "already connected as account 'work'" "names the account that has it"
run ibx account list --json
[ "$(echo "$OUT" | jq length)" -eq 1 ] && pass "no second account was made" || fail "accounts: $OUT"
run ibx account add work --email carol@contoso.com
expect_rc 1 "a name already used"
expect_in "$ERR" "already exists" "says the name is taken"

# IMAP OAuth2: accepted like any other, with no note that it cannot sync.
run ibx account add viaimap --email carol@contoso.com --transport imap
expect_rc 0 "an IMAP account can be added"
expect_not_in "$ERR" "cannot sync" "with no claim that it cannot sync mail"
run ibx account add badtransport --email dave@contoso.com --transport pop3
expect_rc 2 "an unknown transport is a usage error"
finish
