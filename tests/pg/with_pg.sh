#!/usr/bin/env bash
# with_pg.sh CMD... — runs CMD against a private PostgreSQL: starts one
# with tests/pg/pg_server.sh in a new directory, exports
# INBOXSYNC_TEST_STORE_URL (the server, without a database: each test makes
# its own, see tests/support/store_fixture.h), INBOXSYNC_TEST_PG_DIR and
# INBOXSYNC_TEST_PG_SERVER (for tests that restart the server), runs CMD,
# then stops the server by pid and removes the directory. Exits with CMD's
# status.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
dir=$(mktemp -d /tmp/inboxsync-pg.XXXXXX)
cleanup() {
	bash "$here/pg_server.sh" stop "$dir"
	rm -rf "$dir"
}
trap cleanup EXIT
bash "$here/pg_server.sh" start "$dir" || exit 1
INBOXSYNC_TEST_STORE_URL=$(cat "$dir/url")
export INBOXSYNC_TEST_STORE_URL INBOXSYNC_TEST_PG_DIR=$dir
export INBOXSYNC_TEST_PG_SERVER="$here/pg_server.sh"
"$@"
