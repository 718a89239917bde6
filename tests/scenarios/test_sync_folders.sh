#!/usr/bin/env bash
# test_sync_folders.sh — the folder tree changes on the server: a selected
# folder is deleted (sync notices and removes it with its mail), another is
# renamed and a new one created (the next folder re-read follows, keeping
# selection and synced mail); sync only touches selected folders.
. "$(dirname "$0")/lib_scenario.sh"
sim_up --messages 800 --seed 13
M=mailboxes/adele@contoso.com
receipts=$(sim_admin POST "$M/folders" '{"displayName":"Receipts"}' | jq -r .id)
for i in 1 2 3; do
	sim_admin POST $M/messages "{\"folder\":\"$receipts\",\"subject\":\"receipt $i\"}" >/dev/null
done
setup_account work adele@contoso.com
ibx folders select work Archive "Inbox/Projects" Receipts >/dev/null
run ibx sync work --until-complete
expect_rc 0 "initial sync"
sim_admin GET $M/dump >"$TEST_TMP/d.json"
projects=$(jq -r '.folders[] | select(.path=="Inbox/Projects") | .id' "$TEST_TMP/d.json")
n_projects=$(ibx --json messages list work --folder "Inbox/Projects" --limit 100000 | jq length)

[ "$(ibx --json messages list work --folder Receipts | jq length)" = 3 ] && pass "custom folder synced" || fail "Receipts not synced"
sim_admin DELETE "$M/folders/$receipts" >/dev/null
run ibx sync work
expect_rc 0 "sync after a selected folder was deleted on the server"
ibx --json folders list work | jq -r '.[].path' | grep -qx Receipts && fail "deleted folder still listed" || pass "deleted folder removed"
ibx --json messages list work --limit 100000 | jq -r '.[].folder' | grep -qx Receipts && fail "its mail still listed" || pass "its mail removed"

sim_admin PATCH "$M/folders/$projects" '{"displayName":"Clients"}' >/dev/null
sim_admin POST "$M/folders" '{"displayName":"Travel"}' >/dev/null
run ibx sync work --rescan-folders
expect_rc 0 "sync re-reading the folder tree"
run ibx --json folders list work
echo "$OUT" | jq -e '.[] | select(.path=="Inbox/Clients" and .selected)' >/dev/null && pass "rename followed, still selected" || fail "rename: $OUT"
echo "$OUT" | jq -e '.[] | select(.path=="Travel" and (.selected|not))' >/dev/null && pass "new folder listed, not selected" || fail "new folder"
n=$(ibx --json messages list work --folder "Inbox/Clients" --limit 100000 | jq length)
[ "$n" = "$n_projects" ] && [ "$n" -gt 0 ] && pass "renamed folder keeps its $n messages" || fail "renamed folder has $n (had $n_projects)"
compare_with_sim work adele@contoso.com
finish
