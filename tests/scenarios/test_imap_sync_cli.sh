#!/usr/bin/env bash
# test_imap_sync_cli.sh — the IMAP OAuth2 transport end to end through the
# CLI, as a user drives it: authorize over IMAP, fetch the folders (roles
# from SPECIAL-USE), select Inbox, Archive and Deleted Items, sync to
# completion and match the server exactly (Message-IDs per folder, read
# flags); another IMAP client's flags, expunges, moves and new mail
# converge; our own move, mark and delete write back and stay one
# message; the body is fetched on open. Dovecot is real (its oauth2
# passdb asks m365sim about every token); doveadm is the other client.
. "$(dirname "$0")/lib_scenario.sh"
DOVE_MAILBOXES='mailbox Archive {
	    special_use = \Archive
	    auto = create
	  }'
. "$(dirname "$0")/lib_dovecot.sh"

id_of() { ibx --json messages list box --folder "$1" --limit 1000 | jq -r ".[] | select(.internet_message_id == \"<cli-$2@test.example>\") | .id"; }

sim_up
dovecot_oauth2_conf true
dovecot_up
seed INBOX $(seq 1 30)
seed Archive 101 102
provider_for_sim --transports graph,imap --imap "127.0.0.1:$IMAP_PORT" --smtp "127.0.0.1:$SMTP_PORT"
ibx account add box --email "$USER_ADDR" --transport imap >/dev/null
authorize box "$USER_ADDR"
expect_rc 0 "authorize the IMAP account"

# folders and roles from SPECIAL-USE
run ibx folders fetch box
expect_rc 0 "folders fetch over IMAP"
FOLDERS=$(ibx --json folders list box)
for pair in INBOX:inbox Sent:sent Drafts:drafts Trash:deleted Archive:archive; do
	f=${pair%%:*} r=${pair##*:}
	[ "$(echo "$FOLDERS" | jq -r ".[] | select(.id == \"$f\") | .role")" = "$r" ] &&
		pass "$f has the role $r" || fail "$f role: $FOLDERS"
done
run ibx folders select box INBOX Archive Trash
expect_rc 0 "select Inbox, Archive and Deleted Items"

# sync to completion: the store equals the server
run ibx sync box --until-complete
expect_rc 0 "sync over IMAP completes"
matches INBOX "Inbox matches the server after the first sync"
matches Archive "Archive matches the server after the first sync"
[ "$(ibx --json folders list box | jq -r '.[] | select(.id == "INBOX") | .sync.phase')" = live ] &&
	pass "the Inbox is live" || fail "Inbox phase: $(ibx --json folders list box)"

# another client: flags, an expunge, a move, new mail
dove_adm flags add -u "$USER_ADDR" '\Seen' mailbox INBOX header message-id '<cli-4@test.example>'
dove_adm expunge -u "$USER_ADDR" mailbox INBOX header message-id '<cli-5@test.example>'
dove_adm move -u "$USER_ADDR" Archive mailbox INBOX header message-id '<cli-6@test.example>'
seed INBOX 31
run ibx sync box --until-complete
expect_rc 0 "sync after another client's changes"
matches INBOX "another client's flags, expunge, move and new mail converge (Inbox)"
matches Archive "another client's move converges (Archive)"
[ "$(ibx --json messages list box --folder INBOX --limit 1000 | jq -r '.[] | select(.internet_message_id == "<cli-4@test.example>") | .is_read')" = true ] &&
	pass "a flag set by another client arrives" || fail "is_read of cli-4"

# our own changes write back and stay one message
ID=$(id_of INBOX 7)
run ibx messages move box "$ID" Archive
expect_rc 0 "move a message to Archive"
run ibx sync box --until-complete
matches INBOX "after our move: Inbox"
matches Archive "after our move: Archive"
[ "$(local_ids Archive | grep -c 'cli-7@')" -eq 1 ] && pass "the moved message is one message" ||
	fail "cli-7 in Archive: $(local_ids Archive)"
ID=$(id_of INBOX 8)
run ibx messages mark box "$ID" --read
expect_rc 0 "mark a message read"
[ "$(dove_adm search -u "$USER_ADDR" mailbox INBOX header message-id '<cli-8@test.example>' SEEN | wc -l)" -eq 1 ] &&
	pass "the read flag reached the server" || fail "cli-8 not seen on the server"
ID=$(id_of INBOX 9)
run ibx messages delete box "$ID"
expect_rc 0 "delete a message"
run ibx sync box --until-complete
matches INBOX "after delete: Inbox"
matches Trash "after delete: Deleted Items holds it"

# the Inbox renumbered on the server (UIDVALIDITY): synchronized again and
# reconciled, each message once
dove_adm mailbox update -u "$USER_ADDR" --uid-validity 777 INBOX
run ibx sync box --until-complete
expect_rc 0 "sync after the Inbox was renumbered"
matches INBOX "after the renumbering: Inbox"
[ "$(local_ids INBOX | uniq -d | wc -l)" -eq 0 ] && pass "no message twice after the renumbering" ||
	fail "duplicates after the renumbering"
[ "$(ibx --json messages list box --folder INBOX --limit 1 | jq -r '.[0].id' | cut -d: -f1)" = 777 ] &&
	pass "ids of the new numbering" || fail "ids: $(ibx --json messages list box --folder INBOX --limit 1)"

# the body on open
ID=$(id_of INBOX 10)
run ibx --json messages show box "$ID"
expect_rc 0 "show a message"
expect_in "$OUT" "body of message 10" "the body is fetched from the server"

finish
