#!/usr/bin/env bash
# setup.sh — installs the SDK tests' npm packages (package-lock.json, with
# npm ci) into DEST/node_modules; the tests then find them through
# NODE_PATH. ctest runs it as the fixture sdk/npm_ci before the sdk tests:
# the only step that reaches the npm registry. It does nothing when DEST
# already holds this lock's packages, so later runs stay offline. A second
# argument names another directory with a package.json and lock to install
# the same way (tests/server uses it).
set -euo pipefail
dest=${1:?usage: setup.sh DEST_DIR [SOURCE_DIR]}
src=$(cd "${2:-$(dirname "$0")}" && pwd)
command -v node >/dev/null && command -v npm >/dev/null || {
	echo "setup.sh: node and npm are needed (scripts/install-deps.sh installs them)" >&2
	exit 1
}
mkdir -p "$dest"
if cmp -s "$src/package-lock.json" "$dest/node_modules/.inboxsync-sdk-lock.json"; then
	exit 0
fi
cp "$src/package.json" "$src/package-lock.json" "$dest/"
(cd "$dest" && npm ci --no-audit --no-fund --prefer-offline --loglevel=error)
cp "$src/package-lock.json" "$dest/node_modules/.inboxsync-sdk-lock.json"
