#!/usr/bin/env bash
# test_hostile_text.sh — what senders and the server choose (a subject, a
# sender's name, a body, a folder name) never reaches the terminal raw:
# human output shows terminal escapes, C1 and bidi controls escaped (the
# body keeps its lines), while --json keeps the exact text.
. "$(dirname "$0")/lib_scenario.sh"
sim_up --messages 5 --seed 3
setup_account work adele@contoso.com
M=mailboxes/adele@contoso.com
ESC=$'\e' BEL=$'\a' CSI=$'\xc2\x9b' RLO=$'\xe2\x80\xae'

# no_raw TEXT WHAT: none of the dangerous characters is in TEXT.
no_raw() {
	case "$1" in
	*"$ESC"* | *"$BEL"* | *"$CSI"* | *"$RLO"*) fail "$2: a raw control character reached the terminal" ;;
	*) pass "$2: no raw control character" ;;
	esac
}

sim_admin POST $M/folders '{"displayName":"Evil\u001b[2JFolder"}' >/dev/null
sim_admin POST $M/messages '{"folder":"inbox",
	"subject":"Pay \u001b[31mnow\u001b[0m \u202eexe.pdf",
	"from":{"name":"Boss\u0007\u009b","address":"boss@fabrikam.com"},
	"body":"line1\nline2 \u001b]52;c;cGF5\u0007 end"}' >/dev/null

run ibx folders fetch work
expect_rc 0 "fetch the folders"
run ibx folders list work
no_raw "$OUT" "folders list"
expect_in "$OUT" 'Evil\x1b[2JFolder' "a folder name is shown escaped"

run ibx sync work --until-complete
expect_rc 0 "sync"
run ibx messages list work
no_raw "$OUT" "messages list"
expect_in "$OUT" 'Pay \x1b[31mnow\x1b[0m \u202eexe.pdf' "a subject is shown escaped"
expect_in "$OUT" 'Boss\x07\u009b' "a sender's name is shown escaped"

run ibx --json messages list work
id=$(echo "$OUT" | jq -r '.[] | select(.subject | startswith("Pay")) | .id')
subject=$(echo "$OUT" | jq -r --arg id "$id" '.[] | select(.id == $id) | .subject')
if [ "$subject" = "Pay ${ESC}[31mnow${ESC}[0m ${RLO}exe.pdf" ]; then
	pass "--json keeps the exact subject"
else
	fail "--json changed the subject: $subject"
fi

run ibx messages show work "$id"
expect_rc 0 "show the message"
no_raw "$OUT" "messages show"
expect_in "$OUT" 'line2 \x1b]52;c;cGF5\x07 end' "the body is shown escaped"
expect_in "$OUT" $'line1\nline2' "the body keeps its lines"
finish
