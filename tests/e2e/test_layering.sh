#!/usr/bin/env bash
# test_layering.sh — the layering rules of DESIGN.md, checked on the
# sources: the sync engine (src/sync) and the command line (src/cli) see
# no SQLite, curl, jansson, libpq or libetpan header, not even through our
# own headers; library code outside the command line names no command to
# run (fixes travel as values and each front end renders them); the store
# and the drivers do not reach up into the engine or the front ends.
. "$(dirname "$0")/lib.sh"
: "${SOURCE_DIR:?set by ctest}"
cd "$SOURCE_DIR"

flags="-std=c11 -D_GNU_SOURCE -Iinclude -I${BUILD_DIR:?set by ctest}/include -Isrc $(pkg-config --cflags jansson sqlite3 libcurl gmime-3.0 libmicrohttpd 2>/dev/null)"

# headers_of FILE: every header FILE pulls in, one per line.
headers_of() {
	# shellcheck disable=SC2086
	gcc $flags -M "$1" 2>/dev/null | tr ' \\' '\n\n' | grep '\.h$'
}

for f in src/sync/*.c src/cli/*.c; do
	bad=$(headers_of "$f" | grep -E '(^|/)(sqlite3\.h|jansson\.h|libpq-fe\.h)$|/curl/|/libetpan/' | sort -u)
	if [ -n "$bad" ]; then fail "$f reaches $(echo "$bad" | tr '\n' ' ')"; else pass "$f: no storage, HTTP or JSON library headers"; fi
done

# Commands belong to the command line: the library returns fixes.
hits=$(grep -rn "'inboxsync [a-z]" src --include='*.c' | grep -v '^src/cli/' || true)
[ -z "$hits" ] && pass "no command lines in library messages" || fail "library code names commands: $hits"

# The engine and the service layer never include a backend or a driver's
# internals; drivers and stores never include the engine or front ends.
hits=$(grep -rln '#include "store/sqlite\|#include "store/pg\|graph_internal.h\|imap_internal.h' src/sync src/service src/cli 2>/dev/null || true)
[ -z "$hits" ] && pass "no backend or driver internals above the interfaces" || fail "internals used by: $hits"
hits=$(grep -rln '#include "inboxsync/\(engine\|sched\|service\|outbox\|account\)\.h"' src/store src/graph src/imap 2>/dev/null || true)
[ -z "$hits" ] && pass "stores and drivers stay below the engine" || fail "layering reversed in: $hits"

finish
