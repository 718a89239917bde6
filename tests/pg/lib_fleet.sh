# lib_fleet.sh — helpers for the many-node tests (run by tests/pg/with_pg.sh,
# sourced after setting N, the number of mailboxes u1..uN@contoso.com, and
# TTL, the lease TTL in seconds): `inboxsync serve` nodes on the shared
# database and key file (each with a data dir of its own), what the
# leases say, and the mailboxes compared with the simulator's truth.
. "$(dirname "${BASH_SOURCE[0]}")/../server/lib_server.sh"
: "${INBOXSYNC_TEST_PG_DIR:?run by tests/pg/with_pg.sh}"
: "${INBOXSYNC_DATABASE:?run by tests/pg/with_pg.sh}"
: "${N:?set N before sourcing lib_fleet.sh}" "${TTL:?set TTL before sourcing lib_fleet.sh}"
export INBOXSYNC_KEY_FILE="$TEST_TMP/fleet.key"
NODE_PID=("" "" "" "" "")
NODE_URL=("" "" "" "" "")

pg() { psql -qAtX -v ON_ERROR_STOP=1 "$INBOXSYNC_DATABASE" -c "$1"; }

# node_up K [ENV=VALUE...]: node K (node1..node4) on a free port with a
# data dir of its own, with the environment variables given (e.g.
# INBOXSYNC_CRASH_AT=...); its log is $TEST_TMP/nodeK/inboxsync.log
# (stderr: nodeK.err).
node_up() {
	local k=$1 out="$TEST_TMP/node$1.out"
	shift
	: >"$out"
	mkdir -p -m 700 "$TEST_TMP/node$k"
	env INBOXSYNC_HOME="$TEST_TMP/node$k" "$@" "$INBOXSYNC_BIN" serve --listen 127.0.0.1:0 \
		--poll-interval 1 --lease-ttl "$TTL" --node-id "node$k" --workers 4 \
		--allow-private-webhooks >"$out" 2>>"$TEST_TMP/node$k.err" &
	NODE_PID[k]=$!
	EXTRA_PIDS="${NODE_PID[*]} ${SAMPLER:-}"
	wait_for 20 grep -q '^listening on ' "$out" || { cat "$TEST_TMP/node$k.err" >&2; echo "node$k did not start" >&2; exit 1; }
	NODE_URL[k]=$(sed -n 's/^listening on //p' "$out" | head -n 1)
}

# node_stop K: SIGTERM; $RC gets its exit status.
node_stop() {
	SRV_PID=${NODE_PID[$1]}
	server_stop
	NODE_PID[$1]=""
}

LIVE="expires_at > extract(epoch FROM now())::bigint"
# leases_of NODE: "account_id generation" of the live leases NODE holds.
leases_of() {
	pg "SELECT account_id || ' ' || generation FROM account_leases WHERE holder = '$1'
	    AND $LIVE ORDER BY account_id"
}
holds_some() { [ -n "$(leases_of "$1")" ]; }
# holders: "account_id<TAB>holder" of every account ("" when nobody holds it).
holders() {
	pg "SELECT a.id || E'\t' || coalesce(l.holder, '') FROM accounts a
	    LEFT JOIN account_leases l ON l.account_id = a.id AND l.holder <> '' AND l.$LIVE
	    ORDER BY a.id"
}
# lease_counts: "holder count" of the live leases, by holder.
lease_counts() {
	pg "SELECT holder || ' ' || count(*) FROM account_leases WHERE holder <> '' AND $LIVE
	    GROUP BY holder ORDER BY holder"
}
# settled K: every account held, by K nodes, none with more than its
# share, ceil(N/K) (the counts by holder in $TEST_TMP/counts).
settled() {
	local k=$1 share=$(( (N + $1 - 1) / $1 ))
	lease_counts >"$TEST_TMP/counts"
	[ "$(wc -l <"$TEST_TMP/counts")" = "$k" ] &&
		[ "$(awk '{ s += $2 } END { print s + 0 }' "$TEST_TMP/counts")" = "$N" ] &&
		awk -v m="$share" '$2 > m { bad = 1 } END { exit bad }' "$TEST_TMP/counts"
}

# truth / local_state: "email<TAB>id<TAB>folder<TAB>isRead" of every
# message in the selected folders, sorted (duplicates kept, so that they
# show).
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
# to SECONDS, 120 + N); says what differs otherwise.
converged() {
	local what=$1 secs=${2:-$(( 120 + N ))} t
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

# mailboxes COUNT: users u1..uN in the simulator with COUNT messages each
# in the inbox.
mailboxes() {
	for i in $(seq 1 "$N"); do
		sim_admin POST users "{\"email\":\"u$i@contoso.com\",\"name\":\"User $i\"}" >/dev/null
		sim_admin POST "mailboxes/u$i@contoso.com/seed" "{\"count\":$1,\"folder\":\"inbox\",\"seed\":$i}" >/dev/null
	done
}

# connect_all TOKEN K...: the N accounts connected through the API of the
# nodes K... in turn.
connect_all() {
	local token=$1 i
	shift
	local nodes=("$@")
	for i in $(seq 1 "$N"); do
		SRV_URL=${NODE_URL[${nodes[$(( i % ${#nodes[@]} ))]}]}
		connect_account "$token" "a$i" "u$i@contoso.com" >/dev/null
	done
}

# phase WHAT: when it happened, for reading the logs afterwards.
phase() { echo "$(date +%s%3N) $1"; }
