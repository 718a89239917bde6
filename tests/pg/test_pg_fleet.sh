#!/usr/bin/env bash
# test_pg_fleet.sh — many nodes on one PostgreSQL (run by tests/pg/with_pg.sh):
# m365sim, three `inboxsync serve` nodes on the same database and key file
# (each with a data dir of its own, so nothing else is shared), FLEET_ACCOUNTS
# (30; 200 in the slow-labelled pg/test_pg_fleet_200) mailboxes connected
# through the API, and a webhook receiver. Checks:
#   (a) every mailbox converges to the simulator's truth, and every node
#       holds leases and works;
#   (b) a node killed (SIGKILL) mid-sync: its accounts are taken over by the
#       others (their lease generation moves on) and every mailbox converges
#       with nothing lost or duplicated;
#   (c) a node stopped (SIGSTOP) past its lease while its mailboxes change,
#       then resumed: its stale commits are refused (lease_lost in its log)
#       and no stale message state appears (cursors go in the same fenced
#       commits; the test looks at the messages and read flags);
#   (d) the webhook got each message.created exactly once across the nodes,
#       the same set as the change feed, which has no duplicate either (but
#       for events the killed or the paused node had sent and not yet
#       recorded: those go out again from another node, at least once);
#   (e) PostgreSQL restarted under load: the nodes reconnect and carry on;
#   and nodes stopped with SIGTERM exit 0 and leave no lease behind.
# Each node logs to $TEST_TMP/nodeK/inboxsync.log; the phases are printed
# with their times in ms, to read the logs and the receiver's records by.
N=${FLEET_ACCOUNTS:-30}
TTL=5
. "$(dirname "$0")/lib_fleet.sh"

# passes_running K: node K runs a sync pass now (and so holds its lease).
passes_running() {
	local r
	r=$(curl -s "${NODE_URL[$1]}/metrics" | awk '$1 == "inboxsync_sync_passes_running" { print $2 }')
	[ "${r:-0}" -gt 0 ] && holds_some "node$1"
}

# freeze_holding K FILE: node K stopped (SIGSTOP) in the middle of a pass
# (a node keeps leases between passes too), with its leases in FILE (read once
# it is stopped: a lease seen just before may be gone by then); resumed
# and tried again while it holds none.
freeze_holding() {
	local k=$1 file=$2
	: >"$file"
	for _ in $(seq 1 100); do
		wait_for 30 passes_running "$k" || return 1
		phase "SIGSTOP node$k"
		STOP_MS=$(date +%s%3N)
		kill -STOP "${NODE_PID[k]}"
		leases_of "node$k" >"$file"
		[ -s "$file" ] && return 0
		kill -CONT "${NODE_PID[k]}"
	done
	return 1
}

# moved_on FILE: every lease of FILE ("account generation") is at a newer
# generation now: another node took it.
moved_on() {
	local id gen
	while read -r id gen; do
		[ "$(pg "SELECT generation FROM account_leases WHERE account_id = $id")" -gt "$gen" ] || return 1
	done <"$1"
}

# sample_holders FILE: in the background, the holders of live leases every
# 0.2 s into FILE; sets SAMPLER.
sample_holders() {
	(while :; do
		pg "SELECT holder FROM account_leases WHERE holder <> ''
		    AND expires_at > extract(epoch FROM now())::bigint" 2>/dev/null
		sleep 0.2
	done) >>"$1" &
	SAMPLER=$!
	EXTRA_PIDS="${NODE_PID[*]} $SAMPLER"
}
stop_sampler() { kill "$SAMPLER" 2>/dev/null; wait "$SAMPLER" 2>/dev/null; SAMPLER=""; }

# ---- set-up ------------------------------------------------------------------
sim_up --seed 15
# Small pages and some latency: a pass takes a while, so nodes are caught
# in the middle of one.
sim_admin POST config '{"max_page_size":10,"latency_ms":20,"latency_jitter_ms":20}' >/dev/null
provider_for_sim
ALICE=$(make_user alice)
for k in 1 2 3; do node_up "$k"; done
[ "$(curl -s "${NODE_URL[2]}/healthz" | jq -r .node)" = node2 ] && pass "each node names itself in /healthz" ||
	fail "healthz: $(curl -s "${NODE_URL[2]}/healthz")"
receiver_up
SRV_URL=${NODE_URL[1]}
api "$ALICE" POST /api/v1/webhooks "{\"url\":\"$RECV_URL/hook\",\"include_backfill\":true}"
[ "$STATUS" = 201 ] || fail "webhook: HTTP $STATUS $BODY"
receiver_control "{\"path\":\"/hook\",\"secret\":\"$(echo "$BODY" | jq -r .secret)\"}"

mailboxes 30
sample_holders "$TEST_TMP/holders-a.txt"
# Accounts are connected through different nodes: any node answers the API.
connect_all "$ALICE" 1 2 3
SRV_URL=${NODE_URL[1]}
[ "$(pg "SELECT count(*) FROM accounts WHERE authorized_at > 0")" = "$N" ] &&
	pass "$N accounts connected through the three nodes" || fail "accounts: $(pg "SELECT count(*) FROM accounts")"

# ---- (a) the fleet shares the work ---------------------------------------------
converged "(a) three nodes" $(( 180 + N ))
stop_sampler
for k in 1 2 3; do
	c=$(grep -c "^node$k\$" "$TEST_TMP/holders-a.txt")
	[ "$c" -gt 0 ] && pass "(a) node$k held leases ($c samples)" || fail "(a) node$k never held a lease"
	r=$(curl -s "${NODE_URL[k]}/metrics" | awk '/^inboxsync_microsoft_requests_total/ {s += $NF} END {print s + 0}')
	[ "${r%.*}" -gt 0 ] && pass "(a) node$k talked to Microsoft ($r requests)" || fail "(a) node$k made no request"
done

# ---- (b) a node killed mid-sync ----------------------------------------------------
new_mail 40
# Killed while it holds leases (frozen while they are read).
freeze_holding 2 "$TEST_TMP/killed.txt" || fail "(b) node2 took no lease after new mail"
KILL_MS=$(date +%s%3N)
phase "SIGKILL node2"
kill -KILL "${NODE_PID[2]}"
wait "${NODE_PID[2]}" 2>/dev/null
t0=$(date +%s)
echo "killed node2 holding $(wc -l <"$TEST_TMP/killed.txt") leases"
if wait_for $(( 60 + N / 2 )) moved_on "$TEST_TMP/killed.txt"; then
	pass "(b) the killed node's $(wc -l <"$TEST_TMP/killed.txt") accounts were taken over by the others"
	echo "taken over $(( $(date +%s) - t0 )) s after the kill (lease TTL $TTL s)"
else
	fail "(b) accounts of the killed node not taken over: $(cat "$TEST_TMP/killed.txt")"
fi
[ -z "$(pg "SELECT account_id FROM account_leases WHERE holder = 'node2' AND expires_at > extract(epoch FROM now())::bigint")" ] &&
	pass "(b) no live lease names the dead node" || fail "(b) node2 still holds leases"
converged "(b) after the kill"
# A node joining takes a share again.
node_up 2
new_mail 10
wait_for 60 holds_some node2 && pass "(b) a restarted node takes accounts again" ||
	fail "(b) the restarted node took no lease"
converged "(b) node2 back"

# ---- (c) a node paused past its lease --------------------------------------------
# Slow answers: a pass caught by the SIGSTOP still has pages to commit
# when it resumes (not just the end of a quick poll).
sim_admin POST config '{"max_page_size":10,"latency_ms":300,"latency_jitter_ms":0}' >/dev/null
new_mail 40
freeze_holding 3 "$TEST_TMP/paused.txt" || fail "(c) node3 took no lease after new mail"
echo "stopped node3 holding: $(tr '\n' ' ' <"$TEST_TMP/paused.txt")"
# Meanwhile the paused node's mailboxes change: mail read, moved away,
# deleted and new.
while read -r id _; do
	email=$(pg "SELECT email FROM accounts WHERE id = $id")
	sim_admin GET "mailboxes/$email/dump?folder=inbox" | jq -r '.messages[].id' | head -n 6 >"$TEST_TMP/ids"
	{ read -r m1; read -r m2; read -r m3; read -r m4; } <"$TEST_TMP/ids"
	for m in $m1 $m2; do sim_admin PATCH "mailboxes/$email/messages/$m" '{"isRead":true}' >/dev/null; done
	sim_admin POST "mailboxes/$email/messages/$m3/move" '{"folder":"archive"}' >/dev/null
	sim_admin DELETE "mailboxes/$email/messages/$m4?permanent=true" >/dev/null
	sim_admin POST "mailboxes/$email/messages" '{"folder":"inbox","subject":"while paused"}' >/dev/null
done <"$TEST_TMP/paused.txt"
wait_for $(( 60 + N / 2 )) moved_on "$TEST_TMP/paused.txt" && pass "(c) the paused node's accounts were taken over" ||
	fail "(c) the paused node's accounts not taken over"
converged "(c) while node3 is paused"
phase "SIGCONT node3"
kill -CONT "${NODE_PID[3]}"
# Let it finish what it was doing when paused, then look at what it left.
lease_lost_logged() { grep -q 'warn sched: account [0-9]*: lease_lost' "$TEST_TMP/node3/inboxsync.log"; }
wait_for 30 lease_lost_logged && pass "(c) the resumed node's stale commit was refused (lease_lost)" ||
	fail "(c) no lease_lost in the resumed node's log: $(tail -n 5 "$TEST_TMP/node3/inboxsync.log")"
sim_admin POST config '{"max_page_size":10,"latency_ms":20,"latency_jitter_ms":20}' >/dev/null
sleep $(( TTL + 2 ))
converged "(c) after node3 resumed"
kill -0 "${NODE_PID[3]}" && pass "(c) the resumed node carries on" || fail "(c) node3 exited"

# ---- (e) PostgreSQL restarted under load ------------------------------------------
new_mail 30
sleep 1
phase "restarting PostgreSQL"
bash "$INBOXSYNC_TEST_PG_SERVER" restart "$INBOXSYNC_TEST_PG_DIR" || fail "(e) PostgreSQL did not restart"
new_mail 5
converged "(e) after PostgreSQL restarted"
for k in 1 2 3; do
	health=$(curl -s "${NODE_URL[k]}/healthz")
	kill -0 "${NODE_PID[k]}" 2>/dev/null && [ "$(echo "$health" | jq -r .status)" = ok ] &&
		pass "(e) node$k is up and healthy" || fail "(e) node$k: $health"
done
SRV_URL=${NODE_URL[2]}
api "$ALICE" GET /api/v1/accounts
expect_status 200 "(e) the API answers from the database again"

# ---- (d) each event once per webhook, across the nodes -----------------------------
feed_all "$ALICE" 2>/dev/null | jq -r 'select(.type == "message.created") | "\(.account_id)\t\(.data.message.id)"' |
	sort >"$TEST_TMP/feed_created.tsv"
[ "$(uniq -d "$TEST_TMP/feed_created.tsv" | wc -l)" = 0 ] && pass "(d) the feed has each message.created once" ||
	fail "(d) the feed repeats message.created: $(uniq -d "$TEST_TMP/feed_created.tsv" | head -3)"
sort -u "$TEST_TMP/feed_created.tsv" >"$TEST_TMP/want.tsv"
got_all() {
	jq -r 'select(.path == "/hook" and .type == "message.created" and .status == 200) | "\(.account_id)\t\(.message_id)"' \
		"$TEST_TMP/recv.log" | sort >"$TEST_TMP/got.tsv"
	sort -u "$TEST_TMP/got.tsv" | cmp -s - "$TEST_TMP/want.tsv"
}
if wait_for 120 got_all; then
	pass "(d) the webhook got every message.created of the feed ($(wc -l <"$TEST_TMP/want.tsv"))"
else
	fail "(d) webhook and feed differ: $(sort -u "$TEST_TMP/got.tsv" | diff - "$TEST_TMP/want.tsv" | head -5)"
fi
# An event the killed node had sent but not yet recorded goes out again
# (at least once): a repeat whose first copy came before the SIGKILL and
# the second after it is that; so is one the paused node had sent just
# before its SIGSTOP, whose delivery claim then expired and another node
# took over. Any other repeat is one too many.
jq -r 'select(.path == "/hook" and .type == "message.created" and .status == 200) | "\(.account_id)\t\(.message_id)\t\(.at)"' \
	"$TEST_TMP/recv.log" | sort -t "$(printf '\t')" -k1,2 -k3,3n >"$TEST_TMP/got_at.tsv"
awk -F'\t' -v kill="$KILL_MS" -v stop="$STOP_MS" '
	function cut(t) { return (first[k] <= t && $3 > t) }
	{ k = $1 "\t" $2; n[k]++; if (n[k] == 1) first[k] = $3; else if (!(cut(kill) || cut(stop)) || n[k] > 2) bad[k] = 1; else again[k] = 1 }
	END { for (k in bad) print "bad\t" k; for (k in again) if (!(k in bad)) print "again\t" k }' \
	"$TEST_TMP/got_at.tsv" >"$TEST_TMP/repeats.tsv"
again=$(grep -c '^again' "$TEST_TMP/repeats.tsv")
[ "$again" = 0 ] || echo "$again event(s) in flight at the SIGKILL or the SIGSTOP were delivered again (at least once)"
dups=$(grep -c '^bad' "$TEST_TMP/repeats.tsv")
[ "$dups" = 0 ] && pass "(d) ... each exactly once across the nodes" ||
	fail "(d) $dups events delivered more than once: $(grep '^bad' "$TEST_TMP/repeats.tsv" | head -3 | while read -r _ a m; do
		jq -c --arg m "$m" 'select(.message_id == $m) | {seq, delivery, at, status}' "$TEST_TMP/recv.log"; done)"
[ "$(jq -s '[.[] | select(.signature_ok != true)] | length' "$TEST_TMP/recv.log")" = 0 ] &&
	pass "(d) every delivery was signed" || fail "(d) unsigned deliveries"

for k in 1 2 3; do
	SRV_PID=${NODE_PID[k]}
	server_stop
	expect_rc 0 "node$k: SIGTERM, exit 0"
done
[ -z "$(pg "SELECT account_id FROM account_leases WHERE holder <> '' AND expires_at > extract(epoch FROM now())::bigint")" ] &&
	pass "stopped nodes gave their leases back" || fail "leases left: $(pg "SELECT * FROM account_leases WHERE holder <> ''")"
finish
