#!/usr/bin/env bash
# build-deb.sh — build the Debian packages inboxsync and inboxsync-sim
# with Debian's own tools (dpkg-buildpackage, debhelper) from a clean copy
# of the source tree, so that nothing lands beside the checkout:
#   scripts/build-deb.sh [OUT_DIR]     (default build-deb)
# leaves OUT_DIR/inboxsync_VERSION_ARCH.deb, inboxsync-sim_..., .changes
# and .buildinfo. The build dependencies come from install-deps.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=$(realpath -m "${1:-build-deb}")
SRC="$OUT/inboxsync-$(cat VERSION)"

rm -rf "$OUT"
mkdir -p "$SRC"
# The files of the project (git's list when there is a checkout), never
# build trees.
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
	git ls-files -z --cached --others --exclude-standard |
		grep -zv -e '^build' -e '/node_modules/' |
		xargs -0 cp --parents -t "$SRC"
else
	tar --exclude='./build*' --exclude='*/node_modules' -cf - . | tar -xf - -C "$SRC"
fi
cd "$SRC"
DEB_BUILD_OPTIONS="parallel=${JOBS:-2} ${DEB_BUILD_OPTIONS:-}" \
	dpkg-buildpackage -us -uc -b >"$OUT/build.log" 2>&1 || {
	tail -40 "$OUT/build.log" >&2
	echo "build-deb: dpkg-buildpackage failed; the whole log is $OUT/build.log" >&2
	exit 1
}
ls "$OUT"/*.deb
