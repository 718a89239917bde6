#!/usr/bin/env bash
# test_message_show.sh — reading one message at the terminal: From, To and
# Cc, the attachments listed (read from the message's MIME), an HTML body
# laid out as text (no tags, no scripts); `messages attachment` saves one
# attachment byte for byte and never overwrites a file; and the help and
# listings the issue found out of step with what the commands do.
. "$(dirname "$0")/lib_scenario.sh"
export LANG=C.UTF-8 LC_ALL=C.UTF-8
sim_up --messages 0
provider_for_sim
head -c 70000 /dev/urandom >"$TEST_TMP/blob.bin"
printf 'first line\nsecond line\n' >"$TEST_TMP/notes.txt"
html='<html><head><title>T</title><style>p{color:red}</style></head><body><h1>Quarterly&nbsp;report</h1><p>Hello <b>Bob</b>,<br>see the <a href="https://example.com/r">figures</a> &amp; the attachments.</p><ul><li>one</li><li>two</li></ul><script>alert(1)</script></body></html>'
jq -n --arg html "$html" --arg b64 "$(base64 -w0 "$TEST_TMP/blob.bin")" --arg txt "$(base64 -w0 "$TEST_TMP/notes.txt")" '{
	subject: "Report", bodyType: "html", body: $html,
	from: {name: "Zoë Länger", address: "zoe@example.com"},
	to: ["bob@contoso.com", {name: "Carol Lee", address: "carol@contoso.com"}],
	cc: [{name: "Dave", address: "dave@contoso.com"}],
	attachments: [
		{"@odata.type": "#microsoft.graph.fileAttachment", name: "blob.bin", contentType: "application/octet-stream", contentBytes: $b64},
		{"@odata.type": "#microsoft.graph.fileAttachment", name: "Ünïcødé notes.txt", contentType: "text/plain", contentBytes: $txt}]}' >"$TEST_TMP/msg.json"
sim_admin POST mailboxes/adele@contoso.com/messages "$(cat "$TEST_TMP/msg.json")" >/dev/null
sim_admin POST mailboxes/adele@contoso.com/messages '{"subject":"plain one","body":"just text\nsecond line"}' >/dev/null
setup_account work adele@contoso.com
ibx sync work --until-complete >/dev/null || fail "sync"
id=$(ibx --json messages list work | jq -r '.[] | select(.subject == "Report") | .id')
plain=$(ibx --json messages list work | jq -r '.[] | select(.subject == "plain one") | .id')

run ibx messages show work "$id"
expect_rc 0 "messages show"
expect_in "$OUT" "From:     Zoë Länger <zoe@example.com>" "From with the name"
expect_in "$OUT" "Carol Lee <carol@contoso.com>" "To lists every recipient"
expect_in "$OUT" "Cc:       Dave <dave@contoso.com>" "Cc"
expect_in "$OUT" "1. blob.bin (application/octet-stream, 68.4 KB)" "attachment 1 with type and size"
expect_in "$OUT" "2. Ünïcødé notes.txt (text/plain, 23 B)" "attachment 2"
expect_in "$OUT" "inboxsync messages attachment work $id N --output FILE" "how to save one"
expect_in "$OUT" "Quarterly report" "the heading as text"
expect_in "$OUT" "see the figures <https://example.com/r> & the attachments." "a link with its address, entities decoded"
expect_in "$OUT" "- one" "list items"
expect_not_in "$OUT" "<p>" "no tags"
expect_not_in "$OUT" "alert(1)" "no scripts"
expect_not_in "$OUT" "color:red" "no styles"
run ibx messages show work "$plain"
expect_in "$OUT" "just text" "a text body as it is"
expect_not_in "$OUT" "Attachments:" "no attachment list without attachments"
run ibx --json messages show work "$id"
[ "$(echo "$OUT" | jq -r .body.content_type)" = html ] && pass "--json keeps the HTML" || fail "json body: $(echo "$OUT" | jq -c .body.content_type)"
[ "$(echo "$OUT" | jq '.attachments | map(.size)')" = "$(jq -n "[$(stat -c %s "$TEST_TMP/blob.bin"), 23]")" ] && pass "--json lists the attachments with sizes" || fail "json attachments: $(echo "$OUT" | jq -c .attachments)"

# Saving one.
run ibx messages attachment work "$id" 1 --output "$TEST_TMP/saved.bin"
expect_rc 0 "messages attachment"
cmp -s "$TEST_TMP/blob.bin" "$TEST_TMP/saved.bin" && pass "saved byte for byte" || fail "saved file differs"
expect_in "$OUT" "Saved attachment 1 (blob.bin" "says what it saved"
run ibx messages attachment work "$id" 2 --output "$TEST_TMP/saved.bin"
expect_rc 1 "an existing file is not overwritten"
expect_in "$ERR" "nothing was written" "says nothing was written"
cmp -s "$TEST_TMP/blob.bin" "$TEST_TMP/saved.bin" && pass "the existing file is untouched" || fail "the file changed"
"$INBOXSYNC_BIN" messages attachment work "$id" 2 --output - >"$TEST_TMP/stdout.txt"
cmp -s "$TEST_TMP/notes.txt" "$TEST_TMP/stdout.txt" && pass "--output - writes it to stdout" || fail "stdout differs"
run ibx messages attachment work "$id" 3 --output "$TEST_TMP/x"
expect_rc 1 "an attachment number that is not there"
expect_in "$ERR" "the message has 2" "says how many there are"
run ibx messages attachment work "$id" two --output "$TEST_TMP/x"
expect_rc 2 "a number that is not a number"
run ibx messages attachment work "$id" 1
expect_rc 2 "--output is required"
run ibx --json messages attachment work "$id" 2 --output "$TEST_TMP/n.txt"
[ "$(echo "$OUT" | jq -r .name)" = "Ünïcødé notes.txt" ] && pass "--json names the saved attachment" || fail "json: $OUT"

# What the issue found out of step.
ibx send work --to bob@contoso.com --subject "$(printf 'S%.0s' $(seq 1 200))" --body x --idempotency-key key-shown-1 >/dev/null
run ibx outbox list work
expect_in "$OUT" "KEY" "outbox list has a KEY column"
expect_in "$OUT" "key-shown-1" "with the key 'outbox retry' takes"
line=$(echo "$OUT" | grep key-shown-1)
[ "${#line}" -lt 140 ] && pass "a long subject is cut in the list" || fail "line of ${#line} characters"
ibx folders unselect work "Sent Items" >/dev/null
run ibx messages list work --folder "Sent Items"
expect_rc 1 "an unselected folder is not listed"
expect_in "$ERR" "not selected" "and says why"
run ibx folders fetch --help
expect_in "$OUT" "--json" "folders fetch --help mentions --json"
run ibx messages attachment --help
expect_rc 0 "messages attachment --help"
expect_in "$OUT" "--output" "explains --output"
run ibx messages --help
expect_in "$OUT" "messages attachment NAME ID N --output FILE" "the group lists the new command"
finish
