#!/usr/bin/env bash
# tests/valgrind-inboxsync.sh — inboxsync under valgrind memcheck, for
# scenario tests run by tests/valgrind.sh (it sets INBOXSYNC_BIN to this).
# One log per process in $INBOXSYNC_VALGRIND_LOGS, named after the test.
# Memcheck errors make the command exit 99 (VALGRIND_OPTS).
exec valgrind --log-file="$INBOXSYNC_VALGRIND_LOGS/${VALGRIND_TEST:-scenario}.vg.%p" \
	"$INBOXSYNC_REAL_BIN" "$@"
