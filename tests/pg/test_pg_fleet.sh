#!/usr/bin/env bash
# test_pg_fleet.sh — many nodes on one PostgreSQL (run by tests/pg/with_pg.sh):
# m365sim, three `inboxsync serve` nodes on the same database and key file
# (each with a data dir of its own, so nothing else is shared), FLEET_ACCOUNTS
# (30) mailboxes connected through the API, and a webhook receiver. Checks:
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
#       for events the killed node had sent and not yet recorded: those go
#       out again after the kill, at least once);
#   (e) PostgreSQL restarted under load: the nodes reconnect and carry on;
#   and nodes stopped with SIGTERM exit 0 and leave no lease behind.
# Each node logs to $TEST_TMP/nodeK/inboxsync.log; the phases are printed
# with their times in ms, to read the logs and the receiver's records by.
. "$(dirname "$0")/../server/lib_server.sh"
: "${INBOXSYNC_TEST_PG_DIR:?run by tests/pg/with_pg.sh}"
: "${INBOXSYNC_DATABASE:?run by tests/pg/with_pg.sh}"
N=${FLEET_ACCOUNTS:-30}
TTL=5
export INBOXSYNC_KEY_FILE="$TEST_TMP/fleet.key"
NODE_PID=("" "" "" "")
NODE_URL=("" "" "" "")

pg() { psql -qAtX -v ON_ERROR_STOP=1 "$INBOXSYNC_DATABASE" -c "$1"; }

# node_up K: node K (node1..node3) on a free port with a data dir of its
# own; its log is $TEST_TMP/nodeK/inboxsync.log (stderr: nodeK.err).
node_up() {
	local k=$1 out="$TEST_TMP/node$1.out"
	: >"$out"
	mkdir -p -m 700 "$TEST_TMP/node$k"
	INBOXSYNC_HOME="$TEST_TMP/node$k" "$INBOXSYNC_BIN" serve --listen 127.0.0.1:0 \
		--poll-interval 1 --lease-ttl "$TTL" --node-id "node$k" --workers 4 \
		--allow-private-webhooks >"$out" 2>>"$TEST_TMP/node$k.err" &
	NODE_PID[k]=$!
	EXTRA_PIDS="${NODE_PID[*]}"
	wait_for 20 grep -q '^listening on ' "$out" || { cat "$TEST_TMP/node$k.err" >&2; echo "node$k did not start" >&2; exit 1; }
	NODE_URL[k]=$(sed -n 's/^listening on //p' "$out" | head -n 1)
}

# leases_of NODE: "account_id generation" of the live leases NODE holds.
leases_of() {
	pg "SELECT account_id || ' ' || generation FROM account_leases WHERE holder = '$1'
	    AND expires_at > extract(epoch FROM now())::bigint ORDER BY account_id"
}
holds_some() { [ -n "$(leases_of "$1")" ]; }

# freeze_holding K FILE: node K stopped (SIGSTOP) while it holds leases,
# which go to FILE (read once it is stopped: a lease seen just before may
# be gone by then); resumed and tried again while it holds none.
freeze_holding() {
	local k=$1 file=$2
	: >"$file"
	for _ in $(seq 1 100); do
		wait_for 30 holds_some "node$k" || return 1
		phase "SIGSTOP node$k"
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

# truth / local: "email<TAB>id<TAB>folder<TAB>isRead" of every message in
# the selected folders, sorted (duplicates kept, so that they show).
truth() {
	pg "SELECT a.email || E'\t' || f.path FROM folders f JOIN accounts a ON a.id = f.account_id
	    WHERE f.selected" | sort -u >"$TEST_TMP/selected.tsv"
	for i in $(seq 1 "$N"); do
		sim_admin GET "mailboxes/u$i@contoso.com/dump" |
			jq -r --arg e "u$i@contoso.com" '.messages[] | "\($e)\t\(.id)\t\(.folderPath)\t\(.isRead)"'
	done | awk -F'\t' 'NR == FNR { sel[$1 "\t" $2] = 1; next } ($1 "\t" $3) in sel' \
		"$TEST_TMP/selected.tsv" - | sort >"$TEST_TMP/truth.tsv"
}
local_state() {
	pg "SELECT a.email || E'\t' || m.remote_id || E'\t' || f.path || E'\t' ||
	    CASE WHEN m.is_read THEN 'true' ELSE 'false' END
	    FROM messages m JOIN folders f ON f.id = m.folder_id JOIN accounts a ON a.id = m.account_id
	    WHERE f.selected AND NOT m.orphan" | sort >"$TEST_TMP/local.tsv"
}
in_step() { truth; local_state; [ "$(wc -l <"$TEST_TMP/truth.tsv")" -gt 0 ] && cmp -s "$TEST_TMP/truth.tsv" "$TEST_TMP/local.tsv"; }

# converged WHAT [SECONDS]: every mailbox equals the simulator's (waits up
# to SECONDS, 120); says what differs otherwise.
converged() {
	local what=$1 secs=${2:-120} t
	for t in $(seq 1 "$secs"); do
		in_step && break
		sleep 1
	done
	if cmp -s "$TEST_TMP/truth.tsv" "$TEST_TMP/local.tsv"; then
		pass "$what: every mailbox equals the simulator's ($(wc -l <"$TEST_TMP/local.tsv") messages)"
	else
		fail "$what: the store differs from the simulator: $(diff "$TEST_TMP/truth.tsv" "$TEST_TMP/local.tsv" | head -5)"
		echo "truth $(wc -l <"$TEST_TMP/truth.tsv") local $(wc -l <"$TEST_TMP/local.tsv") duplicated $(cut -f2 "$TEST_TMP/local.tsv" | sort | uniq -d | wc -l)" >&2
	fi
	[ "$(cut -f1,2 "$TEST_TMP/local.tsv" | sort | uniq -d | wc -l)" = 0 ] &&
		pass "$what: no message stored twice" || fail "$what: duplicated messages"
}

# new_mail COUNT: COUNT new messages in every mailbox's inbox (seeded,
# reported as new by the next delta round).
new_mail() {
	for i in $(seq 1 "$N"); do
		sim_admin POST "mailboxes/u$i@contoso.com/seed" "{\"count\":$1,\"folder\":\"inbox\",\"seed\":$RANDOM}" >/dev/null
	done
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
# phase WHAT: when it happened, for reading the logs afterwards.
phase() { echo "$(date +%s%3N) $1"; }
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

for i in $(seq 1 "$N"); do
	sim_admin POST users "{\"email\":\"u$i@contoso.com\",\"name\":\"User $i\"}" >/dev/null
	sim_admin POST "mailboxes/u$i@contoso.com/seed" "{\"count\":30,\"folder\":\"inbox\",\"seed\":$i}" >/dev/null
done
sample_holders "$TEST_TMP/holders-a.txt"
# Accounts are connected through different nodes: any node answers the API.
for i in $(seq 1 "$N"); do
	SRV_URL=${NODE_URL[$(( i % 3 + 1 ))]}
	connect_account "$ALICE" "a$i" "u$i@contoso.com" >/dev/null
done
SRV_URL=${NODE_URL[1]}
[ "$(pg "SELECT count(*) FROM accounts WHERE authorized_at > 0")" = "$N" ] &&
	pass "$N accounts connected through the three nodes" || fail "accounts: $(pg "SELECT count(*) FROM accounts")"

# ---- (a) the fleet shares the work ---------------------------------------------
converged "(a) three nodes" 180
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
if wait_for 60 moved_on "$TEST_TMP/killed.txt"; then
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
wait_for 60 moved_on "$TEST_TMP/paused.txt" && pass "(c) the paused node's accounts were taken over" ||
	fail "(c) the paused node's accounts not taken over"
converged "(c) while node3 is paused"
phase "SIGCONT node3"
kill -CONT "${NODE_PID[3]}"
# Let it finish what it was doing when paused, then look at what it left.
lease_lost_logged() { grep -q 'warn sched: account [0-9]*: lease_lost' "$TEST_TMP/node3/inboxsync.log"; }
wait_for 30 lease_lost_logged && pass "(c) the resumed node's stale commit was refused (lease_lost)" ||
	fail "(c) no lease_lost in the resumed node's log: $(tail -n 5 "$TEST_TMP/node3/inboxsync.log")"
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
# the second after it is that. Any other repeat is one too many.
jq -r 'select(.path == "/hook" and .type == "message.created" and .status == 200) | "\(.account_id)\t\(.message_id)\t\(.at)"' \
	"$TEST_TMP/recv.log" | sort -t "$(printf '\t')" -k1,2 -k3,3n >"$TEST_TMP/got_at.tsv"
awk -F'\t' -v kill="$KILL_MS" '{ k = $1 "\t" $2; n[k]++; if (n[k] == 1) first[k] = $3; else if (!(first[k] <= kill && $3 > kill) || n[k] > 2) bad[k] = 1; else again[k] = 1 }
	END { for (k in bad) print "bad\t" k; for (k in again) if (!(k in bad)) print "again\t" k }' \
	"$TEST_TMP/got_at.tsv" >"$TEST_TMP/repeats.tsv"
again=$(grep -c '^again' "$TEST_TMP/repeats.tsv")
[ "$again" = 0 ] || echo "$again event(s) in flight at the SIGKILL were delivered again (at least once)"
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
