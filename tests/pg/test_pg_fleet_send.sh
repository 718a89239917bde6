#!/usr/bin/env bash
# test_pg_fleet_send.sh — a send drained while its node dies is delivered
# exactly once, by whichever node finishes it (run by tests/pg/with_pg.sh):
# two `serve` nodes and SEND_ACCOUNTS (8) mailboxes on m365sim. For each
# of the outbox's crash points after_draft, before_send and after_send
# (the send requested, its outcome unknown to the store), node1 is started
# with INBOXSYNC_CRASH_AT=outbox:POINT:2; once it holds its share of the
# accounts, three sends per account are queued through node1's API; node1
# dies (SIGKILL, from the crash point) while it drains its accounts'
# sends; node2 takes its accounts over within the lease TTL. Then every
# send is in the simulator's sent log exactly once, one copy in the
# sender's Sent Items and nothing else with its Message-ID (no draft left),
# and the outbox shows it confirmed (sent, and the server's copy synced).
N=${SEND_ACCOUNTS:-8}
TTL=5
PER_ACCOUNT=3
. "$(dirname "$0")/lib_fleet.sh"

sim_up --seed 17
sim_admin POST config '{"max_page_size":25,"latency_ms":5}' >/dev/null
provider_for_sim
ALICE=$(make_user alice)
node_up 2
mailboxes 5
connect_all "$ALICE" 2
converged "one node" 120
ids=$(pg "SELECT id FROM accounts ORDER BY id")
: >"$TEST_TMP/sends.tsv"

# all_shown_sent FILE: every send of FILE ("account<TAB>imid") is shown as
# confirmed by node2's API.
all_shown_sent() {
	local id
	SRV_URL=${NODE_URL[2]}
	for id in $ids; do
		api "$ALICE" GET "/api/v1/accounts/$id/outbox"
		echo "$BODY" | jq -r --arg a "$id" '.outbox[] | "\($a)\t\(.internet_message_id)\t\(.state)"'
	done >"$TEST_TMP/outbox.tsv"
	awk -F'\t' 'NR == FNR { st[$1 "\t" $2] = $3; next } st[$1 "\t" $2] != "confirmed" { bad = 1 } END { exit bad }' \
		"$TEST_TMP/outbox.tsv" "$1"
}

# exactly_once FILE WHAT: each send of FILE once in the sent log, once in
# its sender's mailbox (in Sent Items, not a draft).
exactly_once() {
	local file=$1 what=$2 bad=0 id imid email n m
	sim_admin GET sent | jq -r '.value[].internetMessageId' | sort | uniq -c |
		awk '{ print $2 "\t" $1 }' >"$TEST_TMP/sentlog.tsv"
	while IFS=$'\t' read -r id imid; do
		n=$(awk -F'\t' -v m="$imid" '$1 == m { print $2 }' "$TEST_TMP/sentlog.tsv")
		email=$(pg "SELECT email FROM accounts WHERE id = $id")
		m=$(sim_admin GET "mailboxes/$email/dump" | jq --arg m "$imid" \
			'[.messages[] | select(.internetMessageId == $m) | "\(.folderPath)/\(.isDraft)"] | join(",")')
		if [ "${n:-0}" != 1 ] || [ "$m" != '"Sent Items/false"' ]; then
			bad=$((bad + 1))
			echo "$imid: ${n:-0} in the sent log, in the mailbox: $m" >&2
		fi
	done <"$file"
	[ "$bad" = 0 ] && pass "$what: each of the $(wc -l <"$file") sends delivered exactly once (sent log, Sent Items, no draft left)" ||
		fail "$what: $bad sends not delivered exactly once"
}

for point in after_draft before_send after_send; do
	phase "node1 up, to die at outbox:$point"
	node_up 1 INBOXSYNC_CRASH_AT="outbox:$point:2"
	wait_for 60 settled 2 && pass "$point: node1 holds its share ($(tr '\n' ' ' <"$TEST_TMP/counts"))" ||
		fail "$point: node1 took no share: $(lease_counts | tr '\n' ' ')"
	SRV_URL=${NODE_URL[1]}
	: >"$TEST_TMP/round.tsv"
	for id in $ids; do
		for j in $(seq 1 "$PER_ACCOUNT"); do
			api "$ALICE" POST "/api/v1/accounts/$id/send" \
				"{\"to\":[{\"address\":\"someone@fabrikam.com\"}],\"subject\":\"$point $id $j\",\"body\":{\"content\":\"Hi.\"}}" \
				-H "Idempotency-Key: $point-$id-$j"
			if [ "$STATUS" = 202 ]; then
				printf '%s\t%s\n' "$id" "$(echo "$BODY" | jq -r .internet_message_id)" >>"$TEST_TMP/round.tsv"
			elif kill -0 "${NODE_PID[1]}" 2>/dev/null; then
				fail "$point: send $id/$j: HTTP $STATUS $BODY"
			else
				# node1 died under the request: the same send through node2
				# (the same key: accepted once, whichever node answered).
				SRV_URL=${NODE_URL[2]}
				api "$ALICE" POST "/api/v1/accounts/$id/send" \
					"{\"to\":[{\"address\":\"someone@fabrikam.com\"}],\"subject\":\"$point $id $j\",\"body\":{\"content\":\"Hi.\"}}" \
					-H "Idempotency-Key: $point-$id-$j"
				expect_status 202 "$point: send $id/$j through node2 once node1 died"
				printf '%s\t%s\n' "$id" "$(echo "$BODY" | jq -r .internet_message_id)" >>"$TEST_TMP/round.tsv"
			fi
		done
	done
	node1_dead() { ! kill -0 "${NODE_PID[1]}" 2>/dev/null; }
	if wait_for 60 node1_dead; then
		wait "${NODE_PID[1]}" 2>/dev/null && rc=0 || rc=$?
		[ "$rc" = 137 ] && pass "$point: node1 died (SIGKILL) at outbox:$point while draining" ||
			fail "$point: node1 exited $rc"
	else
		fail "$point: node1 never reached outbox:$point"
		kill -KILL "${NODE_PID[1]}"
		wait "${NODE_PID[1]}" 2>/dev/null
	fi
	phase "node1 dead"
	NODE_PID[1]=""
	wait_for 120 all_shown_sent "$TEST_TMP/round.tsv" &&
		pass "$point: every send shown as sent (confirmed) once node2 finished" ||
		fail "$point: not all confirmed: $(awk -F'\t' '$3 != "confirmed"' "$TEST_TMP/outbox.tsv" | head -5 | tr '\n' ' ')"
	exactly_once "$TEST_TMP/round.tsv" "$point"
	echo "$point: node1 logged $(grep -c 'outbox: sent' "$TEST_TMP/node1/inboxsync.log") sends in all, node2 $(grep -c 'outbox: sent' "$TEST_TMP/node2/inboxsync.log")"
	cat "$TEST_TMP/round.tsv" >>"$TEST_TMP/sends.tsv"
done
exactly_once "$TEST_TMP/sends.tsv" "all rounds"
[ "$(sim_admin GET sent | jq '.value | length')" = "$(wc -l <"$TEST_TMP/sends.tsv")" ] &&
	pass "the sent log holds these sends and nothing else" ||
	fail "sent log: $(sim_admin GET sent | jq '.value | length') sends, want $(wc -l <"$TEST_TMP/sends.tsv")"
node_stop 2
expect_rc 0 "node2: SIGTERM, exit 0"
finish
