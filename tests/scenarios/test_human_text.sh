#!/usr/bin/env bash
# test_human_text.sh — human output on a UTF-8 terminal: names and subjects
# are cut and padded by display width (wide characters two columns,
# combining marks none), never inside a character, so columns line up for
# "Zoë Ünïcødé-Länger", "Café", "—" and emoji; control characters in
# remote text (subjects, names, folder names, reasons) are shown as
# escapes and never reach the terminal.
. "$(dirname "$0")/lib_scenario.sh"
TT="python3 $SOURCE_DIR/tests/support/termtext.py"
export LANG=C.UTF-8 LC_ALL=C.UTF-8
sim_up --messages 0
sim_admin POST users '{"email":"zoe@contoso.com","name":"Zoë \u001b]0;owned\u0007Ünïcødé"}' >/dev/null
sim_admin POST mailboxes/zoe@contoso.com/folders '{"displayName":"Projekte ☕ Café — Ünïcødé-Länger-Name"}' >/dev/null
sim_admin POST mailboxes/zoe@contoso.com/folders '{"displayName":"Alarm\u001b[2J\u0007"}' >/dev/null
msg() { sim_admin POST mailboxes/zoe@contoso.com/messages "$1" >/dev/null; }
msg '{"subject":"Café — réunion","from":{"name":"Zoë Ünïcødé-Länger von Habsburg-Lothringen","address":"zoe@example.com"}}'
msg '{"subject":"🎉🎉 Fête 🎉 — a long subject that needs cutting after fifty columns 🎉🎉🎉","from":{"name":"Café","address":"cafe@example.com"}}'
msg '{"subject":"—","from":{"name":"😀😀😀😀😀😀😀😀😀😀😀😀😀😀","address":"emoji@example.com"}}'
msg '{"subject":"Cafe\u0301 combining","from":{"name":"Jose\u0301","address":"jose@example.com"}}'
msg '{"subject":"\u001b[31mred\u001b[0m and a bell\u0007","from":{"name":"Evil\u001b[2J","address":"evil@example.com"},"body":"line one\r\nline two \u001b[5mblink\u001b[0m\r\n"}'
msg '{"subject":"plain ascii subject","from":{"name":"Plain Sender","address":"plain@example.com"}}'
setup_account zoe zoe@contoso.com
ibx folders select zoe "Projekte ☕ Café — Ünïcødé-Länger-Name" >/dev/null
run ibx sync zoe --until-complete
expect_rc 0 "sync"

check_clean() { # FILE WHAT
	if out=$($TT clean "$1"); then pass "$2: valid UTF-8, no control characters"; else fail "$2: $out"; fi
}
ibx messages list zoe >"$TEST_TMP/list.txt"
check_clean "$TEST_TMP/list.txt" "messages list"
# date (20) + ' ' + flag + ' ' + from (24) + ' ' + subject (50) + ' ' + id
if out=$($TT column "$TEST_TMP/list.txt" 47); then pass "messages list: the subject column starts at one place"; else fail "$out"; fi
if out=$($TT column "$TEST_TMP/list.txt" 98); then pass "messages list: the id column starts at one place"; else fail "$out"; fi
expect_in "$(cat "$TEST_TMP/list.txt")" "Zoë Ünïcødé-Länger von …" "a long name is cut by width, with …"
expect_in "$(cat "$TEST_TMP/list.txt")" "\\x1b[31mred" "an escape in a subject is shown, not sent"

ibx folders list zoe >"$TEST_TMP/folders.txt"
check_clean "$TEST_TMP/folders.txt" "folders list"
grep '^\[' "$TEST_TMP/folders.txt" >"$TEST_TMP/folder-rows.txt"
if out=$($TT column "$TEST_TMP/folder-rows.txt" 36); then pass "folders list: the ROLE column starts at one place"; else fail "$out"; fi
expect_in "$(cat "$TEST_TMP/folders.txt")" "Projekte ☕ Café — Ünïcødé-Läng…" "a long folder path is cut by width"
ibx folders select zoe "Alarm"$'\e'"[2J"$'\a' >"$TEST_TMP/select.txt" 2>&1
check_clean "$TEST_TMP/select.txt" "folders select"

id=$(ibx --json messages list zoe | jq -r '.[] | select(.subject | startswith("\u001b")) | .id')
ibx messages show zoe "$id" >"$TEST_TMP/show.txt"
check_clean "$TEST_TMP/show.txt" "messages show"
expect_in "$(cat "$TEST_TMP/show.txt")" "line two \\x1b[5mblink" "the body's escape is shown as text"
expect_in "$(cat "$TEST_TMP/show.txt")" "Evil\\x1b[2J" "the sender's name too"

ibx account show zoe >"$TEST_TMP/account.txt"
check_clean "$TEST_TMP/account.txt" "account show (display name from the server)"
expect_in "$(cat "$TEST_TMP/account.txt")" "Zoë \\x1b]0;owned\\x07Ünïcødé" "the display name is shown with escapes"
ibx account list >"$TEST_TMP/accounts.txt"
check_clean "$TEST_TMP/accounts.txt" "account list"

ibx send zoe --to bob@contoso.com --subject "Ünïcødé 🎉 $(printf 'ä%.0s' $(seq 1 120))" --body x >/dev/null
ibx outbox list zoe >"$TEST_TMP/outbox.txt"
check_clean "$TEST_TMP/outbox.txt" "outbox list"
[ "$($TT widest "$TEST_TMP/outbox.txt")" -le 110 ] && pass "outbox list cuts a long subject" || fail "outbox line $($TT widest "$TEST_TMP/outbox.txt") columns"

# Remote text in an error: a folder whose name carries escapes.
run ibx messages list zoe --folder "Alarm"$'\e'"[2J"$'\a'"x"
printf '%s' "$ERR" >"$TEST_TMP/err.txt"
check_clean "$TEST_TMP/err.txt" "an error naming remote text"
finish
