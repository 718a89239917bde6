#!/usr/bin/env bash
# install-deps.sh — installs every Debian package that building, testing and
# benchmarking inboxsync needs. Idempotent: quiet and fast when everything is
# already present. Run as root or with sudo available.
set -euo pipefail

PACKAGES=(
	build-essential cmake pkg-config clang curl ca-certificates procps
	libcurl4-gnutls-dev libjansson-dev libcjson-dev libsqlite3-dev sqlite3 libpq-dev
	postgresql-15 postgresql-client-15
	libmicrohttpd-dev libsodium-dev libetpan-dev libgmime-3.0-dev libgnutls28-dev
	libsystemd-dev libxml2-dev
	ripmime
	libcmocka-dev libclang-rt-14-dev jq psmisc time wrk
	cppcheck clang-tidy clang-tools valgrind llvm
	dovecot-imapd dovecot-submissiond isync
	chromium
	# the Debian packages (make deb) and their tests (tests/package)
	debhelper dpkg-dev fakeroot lintian adduser systemd man-db groff-base bsdextrautils
)
# chromium: the browser tests (tests/browser) drive Debian's build through
# playwright-core, which never downloads a browser of its own.
# Node.js runs the SDK and browser tests; a machine that already has a node
# (Debian's or another packaging) keeps it.
command -v node >/dev/null 2>&1 || PACKAGES+=(nodejs npm)

missing=()
for p in "${PACKAGES[@]}"; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
		missing+=("$p")
	fi
done
[ "${#missing[@]}" -eq 0 ] && exit 0

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
	command -v sudo >/dev/null 2>&1 || { echo "install-deps: need root (or sudo) to install: ${missing[*]}" >&2; exit 1; }
	SUDO="sudo"
fi
# The tests and benchmarks start PostgreSQL servers of their own
# (tests/pg/pg_server.sh): installing the server package should not also
# create and start a system cluster on port 5432.
if [[ " ${missing[*]} " == *" postgresql-15 "* ]] && [ ! -e /etc/postgresql-common/createcluster.conf ]; then
	$SUDO mkdir -p /etc/postgresql-common
	echo "create_main_cluster = false" | $SUDO tee /etc/postgresql-common/createcluster.conf >/dev/null
fi
echo "install-deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq >/dev/null
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
