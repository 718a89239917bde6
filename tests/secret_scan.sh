#!/usr/bin/env bash
# tests/secret_scan.sh — no secret left behind (make secret-scan): runs the
# scenario tests keeping everything they leave (the data dir with the
# store, key and log, every output captured, each script's own stdout and
# stderr), then searches all of it for what the simulator handed out:
# every client secret and user password (exactly, from the simulator's
# world saved before it stops) and every access token, refresh token,
# authorization code and device code (by the shape the simulator gives
# them: "EwB…", "1.A…", "0.A…", "DAQABAAEAAAD…"). Zero hits passes. Files
# that are the tests' own inputs or the simulator's (the secret file the
# provider is set from, the simulator's start-up line and log, its world
# as a test saved it) are not inboxsync's output and are left out. Browser
# cookies never reach inboxsync (the tests' curl keeps them in memory).
#
#   SECRET_SCAN_TESTS="test_sync_delta test_authorize"   only these
#   SECRET_SCAN_KEEP=1                                   keep the scan dir
set -uo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${BUILD:-$root/build}
scan=$(mktemp -d /tmp/inboxsync-secret-scan.XXXXXX)
export SECRET_SCAN_DIR=$scan INBOXSYNC_BIN=$build/inboxsync M365SIM_BIN=$build/m365sim \
	SOURCE_DIR=$root BUILD_DIR=$build

if [ -n "${SECRET_SCAN_TESTS:-}" ]; then
	read -r -a tests <<<"$SECRET_SCAN_TESTS"
else
	tests=()
	for s in "$root"/tests/scenarios/test_*.sh; do tests+=("$(basename "$s" .sh)"); done
fi

for t in "${tests[@]}"; do
	if bash "$root/tests/scenarios/$t.sh" >"$scan/$t.stdout" 2>"$scan/$t.stderr"; then
		echo "secret-scan: ran $t"
	else
		echo "secret-scan: $t failed (what it left is scanned all the same)" >&2
	fi
done

secrets=$scan/secrets.txt
cat "$scan"/*/scan-world.json 2>/dev/null |
	jq -r '(.apps[]?.secret // empty), (.users[]?.password // empty)' |
	awk 'length >= 8' | sort -u >"$secrets"
# The simulator's tokens: a prefix and base64url of 40, 64 or 48 random
# bytes, whole (bounded by characters that cannot be base64), so that the
# base64 of an attachment in the store does not match by chance.
b='[^A-Za-z0-9_+/=.-]'
shapes="(^|$b)(EwB[A-Za-z0-9_-]{54}|1\\.A[A-Za-z0-9_-]{86}|0\\.A[A-Za-z0-9_-]{64}|DAQABAAEAAAD[A-Za-z0-9_-]{64})(\$|$b)"
not_ours=(--exclude=scan-world.json --exclude=world.json --exclude=secret --exclude=sim.json --exclude=sim.log
	  --exclude=secrets.txt)

hits=$( { [ -s "$secrets" ] && grep -a -r -l -F -f "$secrets" "${not_ours[@]}" "$scan";
	  grep -a -r -l -E "$shapes" "${not_ours[@]}" "$scan"; } | sort -u)
echo "secret-scan: $(wc -l <"$secrets") secrets and 4 token shapes searched in" \
	"$(find "$scan" -type f | wc -l) files of ${#tests[@]} scenario tests"
if [ -n "${SECRET_SCAN_KEEP:-}" ]; then
	echo "secret-scan: kept $scan"
fi
if [ -n "$hits" ]; then
	echo "secret-scan: FAILED — a secret or token is in:" >&2
	echo "$hits" >&2
	[ -n "${SECRET_SCAN_KEEP:-}" ] || echo "(SECRET_SCAN_KEEP=1 keeps them to look at)" >&2
	[ -n "${SECRET_SCAN_KEEP:-}" ] || rm -rf "$scan"
	exit 1
fi
[ -n "${SECRET_SCAN_KEEP:-}" ] || rm -rf "$scan"
echo "secret-scan: zero hits"
