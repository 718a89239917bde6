#!/usr/bin/env bash
# pg_fleet.sh — accounts per node with three `serve` nodes on one
# PostgreSQL, on this machine (called by bench/run.sh; runs alone too).
# Prints JSON lines:
#   fleet_balance          N accounts (BENCH_FLEET_ACCOUNTS, 300) shared by
#                          three nodes: the leases each holds once settled
#                          (fair share ceil(N/3))
#   fleet_accounts_per_node
#                          sync passes per second the fleet runs with every
#                          account due every second (saturated: the
#                          machine's limit), per node, and what that makes
#                          at the default 60 s poll interval — accounts a
#                          node keeps up with; against one node alone with
#                          the same accounts in the same run (the ratio), and
#                          the CPU per pass (nodes plus PostgreSQL), how busy
#                          the machine's cores were (the simulator
#                          included), and the accounts per node the CPU per
#                          pass allows at 60 s with the machine's cores
#                          split three ways
# Everything runs on this machine (m365sim, PostgreSQL with its durable
# defaults via tests/pg/pg_server.sh, the nodes), so the nodes share its
# cores: the figure is what one machine carries split three ways, not what
# three machines would.
# Environment: BUILD_DIR (build), BENCH_FLEET_ACCOUNTS (300),
# BENCH_FLEET_WINDOW_S (20, each measuring window), BENCH_FLEET_WORKERS
# (4 per node), BENCH_KEEP=1 keeps the scratch directory.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=bench/lib.sh
. bench/lib.sh  # say, die, now_ms, ratio
BUILD_DIR=${BUILD_DIR:-build}
IBX=$(realpath -m "$BUILD_DIR/inboxsync")
SIMBIN=$(realpath -m "$BUILD_DIR/m365sim")
N=${BENCH_FLEET_ACCOUNTS:-300}
WINDOW=${BENCH_FLEET_WINDOW_S:-20}
WORKERS=${BENCH_FLEET_WORKERS:-4}
PER=20
CORES=$(nproc)
for tool in jq curl psql; do
	command -v "$tool" >/dev/null || { echo "bench: $tool is missing (make deps)" >&2; exit 1; }
done
TMP=$(mktemp -d /tmp/inboxsync-bench-fleet.XXXXXX)
PGDIR=$(mktemp -d /tmp/inboxsync-bench-fleetdb.XXXXXX)
SIM_PID=""
NODE_PID=("" "" "" "")
NODE_URL=("" "" "" "")

cleanup() {
	for p in "${NODE_PID[@]}" $SIM_PID; do [ -n "$p" ] && kill -9 "$p" 2>/dev/null || true; done
	bash tests/pg/pg_server.sh stop "$PGDIR" || true
	rm -rf "$PGDIR"
	if [ "${BENCH_KEEP:-}" = 1 ]; then say "scratch kept in $TMP"; else rm -rf "$TMP"; fi
}
trap cleanup EXIT

PG_DURABLE=1 bash tests/pg/pg_server.sh start "$PGDIR"
psql -qAt -v ON_ERROR_STOP=1 "$(cat "$PGDIR/url")/postgres" -c "CREATE DATABASE fleet"
export INBOXSYNC_DATABASE="$(cat "$PGDIR/url")/fleet"
export INBOXSYNC_KEY_FILE="$TMP/fleet.key"
export INBOXSYNC_HOME="$TMP/cli"
mkdir -p -m 700 "$INBOXSYNC_HOME"
pg() { psql -qAtX -v ON_ERROR_STOP=1 "$INBOXSYNC_DATABASE" -c "$1"; }
TICK=$(getconf CLK_TCK)
PGPID=$(cat "$PGDIR/pid")
# pg_cpu_ms: CPU of PostgreSQL so far: the postmaster's reaped children
# and its live ones (the nodes' backends), in ms.
pg_cpu_ms() {
	local t=0 c
	t=$(awk '{sub(/^.*\) /, ""); print $14 + $15}' "/proc/$PGPID/stat")
	for c in $(cat "/proc/$PGPID/task/$PGPID/children"); do
		t=$((t + $(awk '{sub(/^.*\) /, ""); print $12 + $13}' "/proc/$c/stat" 2>/dev/null || echo 0)))
	done
	echo $((t * 1000 / TICK))
}
cpu_ms() { awk -v t="$TICK" '{sub(/^.*\) /, ""); print int(($12 + $13) * 1000 / t)}' "/proc/$1/stat"; }
passes() { curl -s "${NODE_URL[$1]}/metrics" | awk '$1 == "inboxsync_sync_passes_total" { print int($2) } END { }' | head -n 1; }
admin() { curl -sS -f -X "$1" -H 'Content-Type: application/json' ${3:+--data "$3"} "$SIM_URL/_sim/$2"; }
parallel_curl() {
	sed -i '$ { /^next$/d }' "$1"
	curl -s --no-progress-meter --parallel --parallel-max 8 -K "$1" >/dev/null
}

"$IBX" migrate >/dev/null
"$SIMBIN" --listen 127.0.0.1:0 --quiet >"$TMP/sim.json" 2>"$TMP/sim.log" &
SIM_PID=$!
for _ in $(seq 1 600); do [ -s "$TMP/sim.json" ] && break; sleep 0.05; done
SIM_URL=$(jq -r .url "$TMP/sim.json")
jq -r .client_secret "$TMP/sim.json" >"$TMP/secret"
"$IBX" provider set microsoft --client-id "$(jq -r .client_id "$TMP/sim.json")" \
	--client-secret-file "$TMP/secret" --login-url "$SIM_URL" --graph-url "$SIM_URL/v1.0" >/dev/null
printf 'bench-password-1\n' | "$IBX" user add bench --password-stdin >/dev/null
TOKEN=$("$IBX" token create bench 2>/dev/null | head -n 1)

# node_up K: node K with a data dir of its own, every account due every
# second.
node_up() {
	local k=$1
	mkdir -p -m 700 "$TMP/node$k"
	: >"$TMP/node$k.out"
	INBOXSYNC_HOME="$TMP/node$k" "$IBX" serve --listen 127.0.0.1:0 --poll-interval 1 \
		--node-id "node$k" --workers "$WORKERS" >"$TMP/node$k.out" 2>>"$TMP/node$k.err" &
	NODE_PID[k]=$!
	for _ in $(seq 1 200); do [ -s "$TMP/node$k.out" ] && break; sleep 0.05; done
	NODE_URL[k]=$(sed -n 's/^listening on //p' "$TMP/node$k.out" | head -n 1)
	[ -n "${NODE_URL[k]}" ] || die "node$k did not start: $(cat "$TMP/node$k.err")"
}

say "m365sim with $N mailboxes of $PER messages; PostgreSQL on port $(cat "$PGDIR/port")"
: >"$TMP/users.cfg"
: >"$TMP/seed.cfg"
for i in $(seq 1 "$N"); do
	printf 'url = "%s/_sim/users"\nheader = "Content-Type: application/json"\ndata = "{\\"email\\":\\"u%d@contoso.com\\"}"\nnext\n' "$SIM_URL" "$i" >>"$TMP/users.cfg"
	printf 'url = "%s/_sim/mailboxes/u%d@contoso.com/seed"\nheader = "Content-Type: application/json"\ndata = "{\\"count\\":%d,\\"folder\\":\\"inbox\\"}"\nnext\n' "$SIM_URL" "$i" "$PER" >>"$TMP/seed.cfg"
done
parallel_curl "$TMP/users.cfg"
parallel_curl "$TMP/seed.cfg"

node_up 1
say "connecting $N accounts through node1"
for i in $(seq 1 "$N"); do
	id=$(curl -s -H "Authorization: Bearer $TOKEN" -d "{\"name\":\"a$i\",\"email\":\"u$i@contoso.com\"}" \
		"${NODE_URL[1]}/api/v1/accounts" | jq -r .id)
	admin POST auto-approve "{\"email\":\"u$i@contoso.com\"}" >/dev/null
	url=$(curl -s -H "Authorization: Bearer $TOKEN" -X POST "${NODE_URL[1]}/api/v1/accounts/$id/authorize" |
		jq -r .authorization_url)
	curl -s -L -o /dev/null "$url"
done
# Each account's folders fetched (which asks for its first sync), all at once.
: >"$TMP/fetch.cfg"
for id in $(pg "SELECT id FROM accounts ORDER BY id"); do
	printf 'url = "%s/api/v1/accounts/%s/folders/fetch"\nheader = "Authorization: Bearer %s"\nrequest = "POST"\nnext\n' \
		"${NODE_URL[1]}" "$id" "$TOKEN" >>"$TMP/fetch.cfg"
done
parallel_curl "$TMP/fetch.cfg"
all_live() {
	[ "$(pg "SELECT count(*) FROM folders WHERE selected AND phase <> 'live'")" = 0 ] &&
		[ "$(pg "SELECT count(DISTINCT account_id) FROM folders WHERE selected")" -ge "$N" ]
}
t0=$(now_ms)
until all_live; do
	sleep 0.5
	[ $(( $(now_ms) - t0 )) -lt 900000 ] || die "accounts not live after 15 minutes"
done
say "every account live ($(( $(now_ms) - t0 )) ms after connecting)"

# measure K...: over WINDOW seconds, the passes of nodes K..., their CPU
# and PostgreSQL's; sets PASSES (sum), PER_NODE (array), CPU (ms, nodes +
# PostgreSQL), RATE (passes/s).
measure() {
	local k p0=() c0=() g0 t0 t1 c=0
	PER_NODE=()
	sleep 3 # past the start-up of a node that just joined
	for k in "$@"; do p0[k]=$(passes "$k"); c0[k]=$(cpu_ms "${NODE_PID[k]}"); done
	g0=$(pg_cpu_ms)
	s0=$(cpu_ms "$SIM_PID")
	t0=$(now_ms)
	sleep "$WINDOW"
	t1=$(now_ms)
	PASSES=0
	for k in "$@"; do
		PER_NODE[k]=$(( $(passes "$k") - p0[k] ))
		PASSES=$(( PASSES + PER_NODE[k] ))
		c=$(( c + $(cpu_ms "${NODE_PID[k]}") - c0[k] ))
	done
	CPU=$(( c + $(pg_cpu_ms) - g0 ))
	BUSY=$(jq -n --argjson c "$(( CPU + $(cpu_ms "$SIM_PID") - s0 ))" --argjson ms "$((t1 - t0))" \
		--argjson n "$CORES" '($c / $ms / $n * 100 | round) / 100')
	RATE=$(jq -n --argjson p "$PASSES" --argjson ms "$((t1 - t0))" '($p * 1000 / $ms * 10 | round) / 10')
}

measure 1
single_rate=$RATE single_cpu=$CPU single_passes=$PASSES single_busy=$BUSY
say "one node: $single_passes passes in ${WINDOW} s ($single_rate/s), CPU $single_cpu ms"

node_up 2
node_up 3
share=$(( (N + 2) / 3 ))
settled() {
	pg "SELECT holder || ' ' || count(*) FROM account_leases WHERE holder <> '' AND
	    expires_at > extract(epoch FROM now())::bigint GROUP BY holder ORDER BY holder" >"$TMP/counts"
	[ "$(wc -l <"$TMP/counts")" = 3 ] &&
		[ "$(awk '{ s += $2 } END { print s + 0 }' "$TMP/counts")" = "$N" ] &&
		awk -v m="$share" '$2 > m { bad = 1 } END { exit bad }' "$TMP/counts"
}
t0=$(now_ms)
until settled; do
	sleep 0.5
	[ $(( $(now_ms) - t0 )) -lt 300000 ] || die "three nodes not settled: $(tr '\n' ' ' <"$TMP/counts")"
done
settle_ms=$(( $(now_ms) - t0 ))
read -r lmin lmax < <(awk '{ print $2 }' "$TMP/counts" | sort -n | awk 'NR == 1 { a = $1 } { b = $1 } END { print a, b }')
say "three nodes settled in $settle_ms ms: $(tr '\n' ' ' <"$TMP/counts")"
jq -nc --argjson n "$N" --argjson share "$share" --argjson lmin "$lmin" --argjson lmax "$lmax" \
	--argjson ms "$settle_ms" '{figure:"fleet_balance", nodes:3, accounts:$n, fair_share:$share,
	leases_min:$lmin, leases_max:$lmax, settled_ms:$ms}'

measure 1 2 3
fleet_rate=$RATE fleet_cpu=$CPU fleet_busy=$BUSY
per_node_rate=$(jq -n --argjson r "$fleet_rate" '($r / 3 * 10 | round) / 10')
say "three nodes: $PASSES passes in ${WINDOW} s ($fleet_rate/s; node1 ${PER_NODE[1]}, node2 ${PER_NODE[2]}, node3 ${PER_NODE[3]}), CPU $fleet_cpu ms"
# With every account due a second after its last pass, and due accounts
# claimed each second, a fleet with room to spare runs between N/2 and N
# passes a second; cores near fully busy say the rate is the machine's.
jq -nc --argjson n "$N" --argjson w "$WINDOW" --argjson fr "$fleet_rate" --argjson pr "$per_node_rate" \
	--argjson sr "$single_rate" --argjson ratio "$(ratio "$fleet_rate" "$single_rate")" \
	--argjson fc "$fleet_cpu" --argjson fp "$PASSES" --argjson sc "$single_cpu" --argjson sp "$single_passes" \
	--argjson p1 "${PER_NODE[1]}" --argjson p2 "${PER_NODE[2]}" --argjson p3 "${PER_NODE[3]}" \
	--argjson cores "$CORES" --argjson workers "$WORKERS" --argjson fb "$fleet_busy" --argjson sb "$single_busy" \
	'{figure:"fleet_accounts_per_node", nodes:3, accounts:$n, window_s:$w, workers_per_node:$workers,
	  passes_per_s:$fr, passes_per_s_per_node:$pr, passes_by_node:[$p1, $p2, $p3],
	  accounts_per_node_at_60s_poll:(($pr * 60) | floor),
	  single_node_passes_per_s:$sr, ratio_vs_single_node:$ratio,
	  cpu_ms_per_pass:(if $fp == 0 then null else ($fc / $fp * 100 | round) / 100 end),
	  single_node_cpu_ms_per_pass:(if $sp == 0 then null else ($sc / $sp * 100 | round) / 100 end),
	  cores_busy:$fb, single_node_cores_busy:$sb,
	  accounts_per_node_at_60s_poll_by_cpu:(if $fp == 0 then null else ($cores * 1000 * 60 / ($fc / $fp) / 3 | floor) end),
	  cores:$cores}'
for k in 1 2 3; do kill -TERM "${NODE_PID[k]}" 2>/dev/null || true; done
for k in 1 2 3; do wait "${NODE_PID[k]}" 2>/dev/null || true; NODE_PID[k]=""; done
