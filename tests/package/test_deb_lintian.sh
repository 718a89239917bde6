#!/usr/bin/env bash
# test_deb_lintian.sh — the Debian packages built by package/build_deb are
# lintian-clean: no tag at any level, pedantic included, but the ones
# debian/*.lintian-overrides justify (each with its reason).
. "$(dirname "$0")/../e2e/lib.sh"
: "${DEB_DIR:?set by ctest}" "${SOURCE_DIR:?set by ctest}"
command -v lintian >/dev/null || { echo "skipped: no lintian"; exit 77; }
changes=$(ls "$DEB_DIR"/inboxsync_*.changes 2>/dev/null | head -n1)
[ -n "$changes" ] && pass "the packages were built" || { fail "no .changes in $DEB_DIR"; finish; }
run lintian --pedantic --display-info --fail-on error,warning,info,pedantic "$changes"
expect_rc 0 "lintian --pedantic finds nothing"
tags=$(echo "$OUT" | grep -E '^[EWIPX]: ' || true)
[ -z "$tags" ] && pass "no tag is shown" || fail "lintian: $tags"
# every override carries a comment saying why
for f in "$SOURCE_DIR"/debian/*.lintian-overrides; do
	awk '/^#/ { c = 1; next } /^$/ { c = 0; next } { if (!c) bad = 1; c = 0 } END { exit bad }' "$f" &&
		pass "$(basename "$f"): each override is explained" || fail "$(basename "$f"): an override without a comment"
done
finish
