#!/usr/bin/env bash
# test_pg_fleet_balance.sh — a node joining a fleet takes a fair share
# without every account moving (run by tests/pg/with_pg.sh): two `serve`
# nodes and BALANCE_ACCOUNTS (30) mailboxes on m365sim; once every account
# is held and neither node holds more than its share, ceil(N/2), the
# account→node map is recorded; a third node joins; once every account is
# held and no node holds more than ceil(N/3), the third node holds its
# share and at most ceil(N/3) + 2 accounts changed node (the ones it took:
# the others kept theirs). Then mail still arrives everywhere, and a node
# stopped with SIGTERM gives its accounts back to the two others.
N=${BALANCE_ACCOUNTS:-30}
TTL=5
. "$(dirname "$0")/lib_fleet.sh"

# settle K WHAT: wait for settled K, then a second look 2 s later must agree.
settle() {
	if wait_for 90 settled "$1"; then
		holders >"$TEST_TMP/map1"
		sleep 2
		settled "$1" && holders | cmp -s - "$TEST_TMP/map1" &&
			pass "$2: settled, each node at most ceil($N/$1): $(tr '\n' ' ' <"$TEST_TMP/counts")" ||
			fail "$2: the leases keep moving: $(tr '\n' ' ' <"$TEST_TMP/counts")"
	else
		fail "$2: not settled: $(lease_counts | tr '\n' ' ')"
	fi
}

sim_up --seed 16
sim_admin POST config '{"max_page_size":25,"latency_ms":5}' >/dev/null
provider_for_sim
ALICE=$(make_user alice)
node_up 1
node_up 2
mailboxes 10
connect_all "$ALICE" 1 2
converged "two nodes" 120
settle 2 "two nodes"
holders >"$TEST_TMP/before.tsv"

phase "node3 joins"
node_up 3
settle 3 "three nodes"
holders >"$TEST_TMP/after.tsv"
share=$(( (N + 2) / 3 ))
moved=$(paste "$TEST_TMP/before.tsv" "$TEST_TMP/after.tsv" | awk -F'\t' '$2 != $4' | wc -l)
took=$(awk -F'\t' '$2 == "node3"' "$TEST_TMP/after.tsv" | wc -l)
echo "$moved of $N accounts changed node; node3 holds $took"
[ "$took" -ge $(( N / 3 - 1 )) ] && pass "node3 took its share ($took of $N)" ||
	fail "node3 holds $took accounts, want about $(( N / 3 ))"
[ "$moved" -le $(( share + 2 )) ] && pass "only the accounts node3 took moved ($moved, at most $share + 2)" ||
	fail "$moved accounts moved, want at most $share + 2: $(paste "$TEST_TMP/before.tsv" "$TEST_TMP/after.tsv" | awk -F'\t' '$2 != $4' | head -5 | tr '\n' ' ')"
# Every move went to node3: nodes 1 and 2 gave accounts, took none.
[ "$(paste "$TEST_TMP/before.tsv" "$TEST_TMP/after.tsv" | awk -F'\t' '$2 != $4 && $4 != "node3"' | wc -l)" = 0 ] &&
	pass "no account moved between the two first nodes" ||
	fail "accounts moved between node1 and node2"
new_mail 3
converged "three nodes, new mail"

# A node leaving: its accounts go back to the two others.
phase "node1 stops"
node_stop 1
expect_rc 0 "node1: SIGTERM, exit 0"
[ -z "$(leases_of node1)" ] && pass "node1 gave its leases back" || fail "node1 left leases"
settle 2 "node1 gone"
new_mail 2
converged "node1 gone, new mail"
for k in 2 3; do
	node_stop "$k"
	expect_rc 0 "node$k: SIGTERM, exit 0"
done
[ -z "$(pg "SELECT account_id FROM account_leases WHERE holder <> '' AND $LIVE")" ] &&
	pass "stopped nodes gave their leases back" || fail "leases left: $(lease_counts)"
[ "$(pg "SELECT count(*) FROM fleet_nodes")" = 0 ] && pass "stopped nodes left the fleet" ||
	fail "fleet_nodes: $(pg "SELECT node FROM fleet_nodes")"
finish
