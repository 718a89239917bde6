#!/usr/bin/env bash
# test_version.sh — the version is written once (VERSION) and everything
# else says the same: inboxsync --version, the Debian changelog's newest
# entry, the manual pages, the CMake project.
. "$(dirname "$0")/../e2e/lib.sh"
: "${SOURCE_DIR:?set by ctest}" "${BUILD_DIR:?set by ctest}"
WANT=$(cat "$SOURCE_DIR/VERSION")
[[ "$WANT" =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]] && pass "VERSION is MAJOR.MINOR.PATCH ($WANT)" || fail "VERSION: '$WANT'"
run ibx --version
[ "$OUT" = "inboxsync $WANT" ] && pass "inboxsync --version" || fail "--version says '$OUT'"
changelog=$(dpkg-parsechangelog -l "$SOURCE_DIR/debian/changelog" -S Version)
[ "$changelog" = "$WANT" ] && pass "debian/changelog's newest entry is $WANT" ||
	fail "debian/changelog says $changelog, VERSION says $WANT: add a changelog entry (dch -v $WANT)"
for page in inboxsync.1 inboxsync.conf.5; do
	grep -q "^\.TH .* \"inboxsync $WANT\"" "$BUILD_DIR/man/$page" && pass "$page says $WANT" || fail "$page: $(grep '^\.TH' "$BUILD_DIR/man/$page")"
done
grep -q "^CMAKE_PROJECT_VERSION:STATIC=$WANT$" "$BUILD_DIR/CMakeCache.txt" && pass "the CMake project is $WANT" || fail "CMake: $(grep CMAKE_PROJECT_VERSION "$BUILD_DIR/CMakeCache.txt")"
finish
