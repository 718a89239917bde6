#!/usr/bin/env bash
# test_progress_terminal.sh — the progress bars of `sync` on a real
# pseudo-terminal: on 80 columns no line reaches the edge (so nothing wraps
# and the in-place redraw never piles lines up), long and wide folder
# names are cut by display width, and when the terminal is resized during
# the sync (SIGWINCH) the bars follow the new width.
. "$(dirname "$0")/lib_scenario.sh"
PTY="python3 $SOURCE_DIR/tests/support/ptyrun.py"
export LANG=C.UTF-8 LC_ALL=C.UTF-8
sim_up --messages 10 --latency-ms 60
provider_for_sim
sim_admin POST users '{"email":"wide@contoso.com","name":"Wide"}' >/dev/null
sim_admin POST mailboxes/wide@contoso.com/folders '{"displayName":"Ünïcødé-Projekte mit einem sehr langen Namen ☕☕☕"}' >/dev/null
sim_admin POST mailboxes/wide@contoso.com/seed '{"count":4000,"seed":21}' >/dev/null
sim_admin POST mailboxes/wide@contoso.com/seed '{"folder":"Ünïcødé-Projekte mit einem sehr langen Namen ☕☕☕","count":800,"seed":22}' >/dev/null
ibx account add wide-account-with-a-long-name --email wide@contoso.com >/dev/null
authorize wide-account-with-a-long-name wide@contoso.com
[ "$RC" -eq 0 ] || { echo "authorize: $ERR" >&2; exit 1; }
A=wide-account-with-a-long-name
ibx folders fetch $A >/dev/null
ibx folders select $A Archive "Inbox/Projects" "Ünïcødé-Projekte mit einem sehr langen Namen ☕☕☕" >/dev/null

# 80 columns, the whole bootstrap.
$PTY 80 24 "$TEST_TMP/tty80.out" -- sh -c "exec '$INBOXSYNC_BIN' sync $A --until-complete >'$TEST_TMP/sum.out'"
RC=$?; ERR=$(tail -c 300 "$TEST_TMP/tty80.out"); OUT=""
expect_rc 0 "sync on an 80-column terminal"
grep -q $'\e\\[' "$TEST_TMP/tty80.out" && pass "progress bars were drawn" || fail "no progress drawn"
grep -q '\[#' "$TEST_TMP/tty80.out" && pass "with bars" || fail "no bar in: $(tail -c 400 "$TEST_TMP/tty80.out")"
if out=$($PTY --check 80 "$TEST_TMP/tty80.out" --final-cols 80); then pass "no line reaches column 80"; else fail "$out"; fi
expect_in "$(cat "$TEST_TMP/tty80.out")" "…" "long labels are cut with …"

# Resized from 120 to 50 columns while it runs: the bars follow.
ibx account stop $A >/dev/null
authorize $A wide@contoso.com
ibx folders fetch $A >/dev/null
ibx folders select $A Archive "Inbox/Projects" "Ünïcødé-Projekte mit einem sehr langen Namen ☕☕☕" >/dev/null
python3 - "$INBOXSYNC_HOME/inboxsync.db" <<'EOF'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
db.execute("DELETE FROM messages")  # a fresh bootstrap to watch
db.commit()
EOF
$PTY 120 30 --resize-after 0.3 50 "$TEST_TMP/tty50.out" -- sh -c "exec '$INBOXSYNC_BIN' sync $A --until-complete >'$TEST_TMP/sum.out'"
RC=$?; ERR=$(tail -c 300 "$TEST_TMP/tty50.out")
expect_rc 0 "sync while the terminal is resized"
if out=$($PTY --check 120 "$TEST_TMP/tty50.out" --final-cols 50); then pass "after SIGWINCH the bars fit 50 columns"; else fail "$out"; fi

# A terminal with fewer rows than folders: as many as fit, and how many more.
$PTY 80 4 "$TEST_TMP/tty4.out" -- sh -c "exec '$INBOXSYNC_BIN' sync $A --once --rescan-folders >'$TEST_TMP/sum.out'"
expect_in "$(cat "$TEST_TMP/tty4.out")" "more folders" "a short terminal says how many more folders there are"
if out=$($PTY --check 80 "$TEST_TMP/tty4.out"); then pass "no line wraps on a short terminal"; else fail "$out"; fi
finish
