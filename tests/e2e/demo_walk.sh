#!/usr/bin/env bash
# demo_walk.sh — `make demo`'s script as CI runs it (no terminal): the walk
# through the REST API against m365sim ends with the web UI's address and
# the printed logins, the logins work, and the script exits 0 with
# everything it started stopped; `inboxsync demo` runs the same walk.
. "$(dirname "$0")/lib.sh"
run env BUILD="$(realpath --relative-to="$SOURCE_DIR" "$BUILD_DIR")" DEMO_MESSAGES=300 DEMO_PORT=0 DEMO_SERVE=0 \
	bash "$SOURCE_DIR/scripts/demo.sh"
expect_rc 0 "the demo walks the main flow and exits 0"
expect_in "$OUT" "Incoming: confirmed  Outgoing: ok" "Test & Confirm and Test succeed"
expect_in "$OUT" "Outlook's copy replaced the local entry" "the sent message is in Sent Items once"
expect_in "$OUT" "Open the web UI:" "the address of the web UI is printed"
expect_in "$OUT" "demo-admin / " "the administrator's login is printed"
expect_not_in "$OUT" "sim-secret" "the client secret is never printed"
url=$(echo "$OUT" | sed -n 's/.*Open the web UI:[^h]*\(http[^ ]*\)\/.*/\1/p' | head -n 1)
if [ -n "$url" ] && curl -s -m 2 "$url/healthz" >/dev/null 2>&1; then
	fail "the server still answers after the demo exited"
else
	pass "the server is stopped"
fi
expect_not_in "$OUT" "$(printf '\033')" "no terminal escapes when the output is not a terminal"

# `inboxsync demo` (INTERFACE.md) is the same walk, found next to the binary.
run env DEMO_MESSAGES=100 DEMO_PORT=0 DEMO_SERVE=0 "$INBOXSYNC_BIN" demo
expect_rc 0 "inboxsync demo walks the main flow and exits 0"
expect_in "$OUT" "Open the web UI:" "inboxsync demo prints the address of the web UI"
finish
