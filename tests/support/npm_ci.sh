#!/usr/bin/env bash
# npm_ci.sh — installs the npm packages of a test directory (its
# package.json and package-lock.json, with npm ci) into DEST/node_modules;
# the tests then find them through NODE_PATH. ctest runs it as a fixture
# (sdk/npm_ci, browser/npm_ci) before the tests that need the packages:
# the only step that reaches the npm registry. It does nothing when DEST
# already holds this lock's packages, so later runs stay offline.
# Usage: npm_ci.sh SRC_DIR DEST_DIR
set -euo pipefail
src=$(cd "${1:?usage: npm_ci.sh SRC_DIR DEST_DIR}" && pwd)
dest=${2:?usage: npm_ci.sh SRC_DIR DEST_DIR}
command -v node >/dev/null && command -v npm >/dev/null || {
	echo "npm_ci.sh: node and npm are needed (scripts/install-deps.sh installs them)" >&2
	exit 1
}
mkdir -p "$dest"
if cmp -s "$src/package-lock.json" "$dest/node_modules/.inboxsync-lock.json"; then
	exit 0
fi
cp "$src/package.json" "$src/package-lock.json" "$dest/"
(cd "$dest" && npm ci --no-audit --no-fund --prefer-offline --loglevel=error)
cp "$src/package-lock.json" "$dest/node_modules/.inboxsync-lock.json"
