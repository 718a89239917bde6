#!/usr/bin/env bash
# test_imap_sync_kill.sh — the crash-safety invariant over IMAP: `sync` is
# killed with SIGKILL at 50 random points during the round, the backfill
# and the polls of a real Dovecot mailbox (while another client keeps
# flagging, expunging, moving and delivering), restarted each time, and in
# the end the store equals the server folder by folder: nothing lost,
# nothing duplicated, the database intact.
. "$(dirname "$0")/lib_scenario.sh"
DOVE_MAILBOXES='mailbox Archive {
	    special_use = \Archive
	    auto = create
	  }'
. "$(dirname "$0")/lib_dovecot.sh"
KILLS=${KILLS:-50}

sim_up
dovecot_oauth2_conf true
seed_maildir 1 5000
dovecot_up
provider_for_sim --transports graph,imap --imap "127.0.0.1:$IMAP_PORT" --smtp "127.0.0.1:$SMTP_PORT"
ibx account add box --email "$USER_ADDR" --transport imap >/dev/null
authorize box "$USER_ADDR"
[ "$RC" -eq 0 ] || { echo "authorize failed: $ERR" >&2; exit 1; }
ibx folders fetch box >/dev/null
ibx folders select box INBOX Archive >/dev/null
RANDOM=4242
killed=0
next=6000

# change_something: what another client does between two runs.
change_something() {
	local id="<cli-$((1 + RANDOM % 5000))@test.example>"
	case $((RANDOM % 4)) in
	0) seed INBOX $next $((next + 1)) $((next + 2)); next=$((next + 3)) ;;
	1) dove_adm flags add -u "$USER_ADDR" '\Seen' mailbox INBOX header message-id "$id" ;;
	2) dove_adm move -u "$USER_ADDR" Archive mailbox INBOX header message-id "$id" ;;
	3) dove_adm expunge -u "$USER_ADDR" mailbox INBOX header message-id "$id" ;;
	esac
}

for i in $(seq 1 "$KILLS"); do
	[ $((i % 2)) -eq 0 ] && change_something
	"$INBOXSYNC_BIN" sync box --until-complete >/dev/null 2>&1 &
	pid=$!
	# a random moment between 5 and 100 ms (a run with little to do may
	# finish before it: it resumes the work of the killed ones all the same)
	sleep "0.$(printf "%03d" $((5 + RANDOM % 95)))"
	if kill -9 "$pid" 2>/dev/null; then killed=$((killed + 1)); fi
	wait "$pid" 2>/dev/null || true
done
echo "killed $killed of $KILLS runs mid-flight"
[ "$killed" -ge $((KILLS / 3)) ] && pass "runs were killed mid-flight ($killed)" || fail "only $killed runs were killed mid-flight"

run ibx sync box --until-complete
expect_rc 0 "final sync after $KILLS kills"
matches INBOX "the Inbox equals the server after $KILLS kills"
matches Archive "Archive equals the server after $KILLS kills"
run ibx --json messages list box --limit 100000
[ "$(echo "$OUT" | jq -r '.[].internet_message_id' | sort | uniq -d | wc -l)" -eq 0 ] &&
	pass "zero duplicated" || fail "duplicates after kills"
[ "$(echo "$OUT" | jq -r '.[] | select(.internet_message_id == "<cli-1@test.example>") | .id' | wc -l)" -le 1 ] &&
	pass "one row per message" || fail "cli-1 twice"
sqlite3 "$INBOXSYNC_HOME/inboxsync.db" 'PRAGMA integrity_check' | grep -qx ok && pass "database intact" || fail "database damaged"
finish
