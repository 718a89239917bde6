# lib.sh — helpers for the shell end-to-end tests: a private data dir (and,
# when the run has a PostgreSQL server in $INBOXSYNC_TEST_STORE_URL, a new
# database on it as the store: tests/pg/with_pg.sh), the inboxsync binary,
# and assertions that print what went wrong.
set -u
: "${INBOXSYNC_BIN:?set by ctest}"
TEST_TMP=$(mktemp -d /tmp/inboxsync-e2e.XXXXXX)
export INBOXSYNC_HOME="$TEST_TMP/data"
# Tests never read the machine's /etc/inboxsync/inboxsync.conf.
export INBOXSYNC_CONFIG=""
FAILURES=0

# With SECRET_SCAN_DIR set (tests/secret_scan.sh), the private dir, with
# every output captured by run, is kept there for the scan instead.
cleanup_tmp() {
	if [ -n "${SECRET_SCAN_DIR:-}" ] && [ -d "$TEST_TMP" ]; then
		mv "$TEST_TMP" "$SECRET_SCAN_DIR/$(basename "$0" .sh).$$"
	else
		rm -rf "$TEST_TMP"
	fi
}
trap cleanup_tmp EXIT

# With a test PostgreSQL: a fresh database for this script, migrated, as
# $INBOXSYNC_DATABASE (the server is the wrapper's to stop).
if [ -n "${INBOXSYNC_TEST_STORE_URL:-}" ]; then
	db=$(basename "$0" .sh | tr -c 'a-z0-9\n' '_')_$$
	psql -qAt -v ON_ERROR_STOP=1 "$INBOXSYNC_TEST_STORE_URL/postgres" -c "CREATE DATABASE $db" >/dev/null ||
		{ echo "cannot create the test database $db" >&2; exit 1; }
	export INBOXSYNC_DATABASE="$INBOXSYNC_TEST_STORE_URL/$db"
	"$INBOXSYNC_BIN" migrate >/dev/null || { echo "cannot migrate $db" >&2; exit 1; }
	unset db
fi

ibx() { "$INBOXSYNC_BIN" "$@"; }

# run CMD...: runs it, keeping stdout in $OUT, stderr in $ERR, status in $RC.
run() {
	OUT=$("$@" 2>"$TEST_TMP/stderr") && RC=0 || RC=$?
	ERR=$(cat "$TEST_TMP/stderr")
	[ -z "${SECRET_SCAN_DIR:-}" ] || printf '%s\n%s\n' "$OUT" "$ERR" >>"$TEST_TMP/outputs.txt"
}

fail() { echo "FAIL: $*" >&2; FAILURES=$((FAILURES + 1)); }
pass() { echo "ok: $*"; }

expect_rc() { # expect_rc WANT DESCRIPTION
	if [ "$RC" -eq "$1" ]; then pass "$2"; else fail "$2: exit $RC, want $1; stderr: $ERR; stdout: $OUT"; fi
}
expect_in() { # expect_in HAYSTACK NEEDLE DESCRIPTION
	case "$1" in *"$2"*) pass "$3" ;; *) fail "$3: '$2' not in: $1" ;; esac
}
expect_not_in() {
	case "$1" in *"$2"*) fail "$3: '$2' found in: $1" ;; *) pass "$3" ;; esac
}
finish() {
	if [ "$FAILURES" -ne 0 ]; then echo "$FAILURES failure(s)" >&2; exit 1; fi
	echo "all passed"
}
