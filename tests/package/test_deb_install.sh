#!/usr/bin/env bash
# test_deb_install.sh — the packages as an operator meets them, installed
# on this machine (root, a Debian system): the service user and its data
# directory, the settings file as a conffile, the unit where systemd looks,
# `man inboxsync`; `inboxsync --version` and `config check` under the
# packaged paths; the unit's ExecStart run as the service user the way
# systemd would (setpriv, the unit's environment and umask, a stand-in
# notify socket): READY once it answers, the watchdog fed, journal
# priorities on stderr, the first administrator signing in, a backup,
# STOPPING and exit 0 on SIGTERM; then remove (settings and data kept) and
# purge (nothing left but the system user, which Debian policy keeps).
# Skipped (77) when not root, when inboxsync is installed here already
# (an operator's installation is never touched), or with
# INBOXSYNC_TEST_NO_INSTALL=1 (a machine that must not be changed).
. "$(dirname "$0")/../e2e/lib.sh"
: "${DEB_DIR:?set by ctest}" "${NOTIFY_LISTEN_BIN:?set by ctest}" "${SOURCE_DIR:?set by ctest}"
[ "$(id -u)" = 0 ] || { echo "skipped: installing a package needs root"; exit 77; }
[ -z "${INBOXSYNC_TEST_NO_INSTALL:-}" ] || { echo "skipped: INBOXSYNC_TEST_NO_INSTALL is set"; exit 77; }
command -v dpkg >/dev/null && command -v setpriv >/dev/null || { echo "skipped: not a Debian system"; exit 77; }
if dpkg-query -W -f='${Status}' inboxsync inboxsync-sim 2>/dev/null | grep -q "ok installed"; then
	echo "skipped: inboxsync is installed on this machine already; the test leaves it alone"
	exit 77
fi
exec 9>/tmp/inboxsync-package-test.lock
flock 9
VERSION=$(cat "$SOURCE_DIR/VERSION")
DEB=$(ls "$DEB_DIR"/inboxsync_"$VERSION"_*.deb 2>/dev/null | head -n1)
SIM_DEB=$(ls "$DEB_DIR"/inboxsync-sim_"$VERSION"_*.deb 2>/dev/null | head -n1)
[ -n "$DEB" ] && [ -n "$SIM_DEB" ] || { fail "no packages for $VERSION in $DEB_DIR"; finish; }
USER_EXISTED=$(getent passwd inboxsync >/dev/null && echo yes || echo no)
SERVE_PID=""
LISTEN_PID=""

cleanup() {
	[ -n "$SERVE_PID" ] && kill -KILL "$SERVE_PID" 2>/dev/null
	[ -n "$LISTEN_PID" ] && kill -TERM "$LISTEN_PID" 2>/dev/null
	if dpkg-query -W -f='${Status}' inboxsync inboxsync-sim 2>/dev/null | grep -q installed; then
		dpkg -P inboxsync inboxsync-sim >/dev/null 2>&1
	fi
	[ "$USER_EXISTED" = no ] && getent passwd inboxsync >/dev/null && deluser --system --quiet inboxsync >/dev/null 2>&1
	[ "$USER_EXISTED" = no ] && getent group inboxsync >/dev/null && delgroup --system --quiet inboxsync >/dev/null 2>&1
	cleanup_tmp
}
trap cleanup EXIT
# The commands below run as an operator would: with the system's settings.
unset INBOXSYNC_CONFIG INBOXSYNC_HOME
as_service() { runuser -u inboxsync -- "$@"; }

run dpkg -i "$DEB" "$SIM_DEB"
expect_rc 0 "dpkg -i inboxsync inboxsync-sim"

# what the package put in place
getent passwd inboxsync >/dev/null && pass "the system user inboxsync exists" || fail "no user inboxsync"
uid=$(id -u inboxsync 2>/dev/null || echo 99999)
[ "$uid" -lt 1000 ] && pass "inboxsync is a system user (uid $uid)" || fail "uid $uid"
[ "$(getent passwd inboxsync | cut -d: -f7)" = /usr/sbin/nologin ] && pass "it has no login shell" || fail "shell $(getent passwd inboxsync | cut -d: -f7)"
[ "$(stat -c '%U:%G %a' /var/lib/inboxsync 2>/dev/null)" = "inboxsync:inboxsync 700" ] && pass "/var/lib/inboxsync inboxsync:inboxsync 0700" || fail "data dir: $(stat -c '%U:%G %a' /var/lib/inboxsync 2>&1)"
[ "$(stat -c '%U %a' /etc/inboxsync/inboxsync.conf 2>/dev/null)" = "root 644" ] && pass "the settings file is root's, 0644" || fail "conf: $(stat -c '%U %a' /etc/inboxsync/inboxsync.conf 2>&1)"
dpkg-query -W -f='${Conffiles}\n' inboxsync | grep -q ' /etc/inboxsync/inboxsync.conf ' && pass "the settings file is a conffile" || fail "not a conffile"
[ -f /lib/systemd/system/inboxsync.service ] && pass "the unit is installed" || fail "no unit"
[ -L /etc/systemd/system/multi-user.target.wants/inboxsync.service ] && pass "the unit is enabled" || fail "the unit is not enabled"
for page in inboxsync inboxsync.conf m365sim; do
	man -w "$page" >/dev/null 2>&1 && pass "man $page finds its page" || fail "man $page: $(man -w "$page" 2>&1)"
done
run man inboxsync
expect_in "$OUT" "key rotate" "man inboxsync shows every command"
if command -v systemd-analyze >/dev/null; then
	run systemd-analyze verify /lib/systemd/system/inboxsync.service
	[ "$RC" -eq 0 ] && [ -z "$OUT$ERR" ] && pass "systemd-analyze verify of the installed unit" || fail "verify: $OUT$ERR"
fi

# the program under the packaged paths
run /usr/bin/inboxsync --version
[ "$OUT" = "inboxsync $VERSION" ] && pass "inboxsync --version" || fail "--version: $OUT"
run /usr/bin/m365sim --help
expect_rc 0 "m365sim --help"
# `inboxsync demo` from the packages: the script in /usr/share/inboxsync
# and the simulator in /usr/bin (as root here, in a scratch home)
run env HOME="$TEST_TMP" DEMO_MESSAGES=100 DEMO_PORT=0 DEMO_SERVE=0 /usr/bin/inboxsync demo
expect_rc 0 "inboxsync demo from the installed packages"
expect_in "$OUT" "Open the web UI:" "the demo prints the address of the web UI"
run as_service inboxsync --json config check
expect_rc 0 "config check as the service user"
[ "$(echo "$OUT" | jq -r .file)" = /etc/inboxsync/inboxsync.conf ] && pass "reads /etc/inboxsync/inboxsync.conf" || fail "file: $OUT"
[ "$(echo "$OUT" | jq -r .settings.data_dir.value)" = /var/lib/inboxsync ] && pass "data_dir /var/lib/inboxsync" || fail "data_dir: $OUT"
run inboxsync account list
expect_rc 1 "root refuses to write into the service's data directory"
expect_in "$ERR" "sudo -u inboxsync" "and says how to run it"

# the unit's ExecStart, as the service user, the way systemd runs it
UNIT=/lib/systemd/system/inboxsync.service
EXEC=$(sed -n 's/^ExecStart=//p' "$UNIT")
mapfile -t UNIT_ENV < <(sed -n 's/^Environment=//p' "$UNIT")
UMASK=$(sed -n 's/^UMask=//p' "$UNIT")
WORKDIR=$(sed -n 's/^WorkingDirectory=//p' "$UNIT")
[ "$EXEC" = "/usr/bin/inboxsync serve" ] && pass "ExecStart runs inboxsync serve" || fail "ExecStart=$EXEC"
"$NOTIFY_LISTEN_BIN" "$TEST_TMP/notify.sock" "$TEST_TMP/notify.log" &
LISTEN_PID=$!
for _ in $(seq 1 100); do [ -S "$TEST_TMP/notify.sock" ] && break; sleep 0.05; done
chmod 755 "$TEST_TMP"
: >"$TEST_TMP/serve.err"
JSTREAM=$(stat -c '%d:%i' "$TEST_TMP/serve.err")
# A free port instead of the packaged 8025, which this machine may use.
(cd "$WORKDIR" && umask "$UMASK" && exec env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin "${UNIT_ENV[@]}" \
	INBOXSYNC_LISTEN=127.0.0.1:0 NOTIFY_SOCKET="$TEST_TMP/notify.sock" JOURNAL_STREAM="$JSTREAM" \
	setpriv --reuid=inboxsync --regid=inboxsync --init-groups --no-new-privs --inh-caps=-all \
	bash -c 'export WATCHDOG_PID=$$ WATCHDOG_USEC=2000000; exec '"$EXEC") \
	>"$TEST_TMP/serve.out" 2>>"$TEST_TMP/serve.err" &
SERVE_PID=$!
for _ in $(seq 1 600); do grep -q '^listening on ' "$TEST_TMP/serve.out" 2>/dev/null && break; kill -0 "$SERVE_PID" 2>/dev/null || break; sleep 0.05; done
URL=$(sed -n 's/^listening on //p' "$TEST_TMP/serve.out" | head -n1)
[ -n "$URL" ] && pass "serve listens on $URL" || fail "serve did not start: $(cat "$TEST_TMP/serve.err")"
for _ in $(seq 1 200); do grep -q 'READY=1' "$TEST_TMP/notify.log" 2>/dev/null && break; sleep 0.05; done
grep -q '^READY=1' "$TEST_TMP/notify.log" && pass "READY=1 sent to the notify socket" || fail "no READY: $(cat "$TEST_TMP/notify.log")"
run curl -sS -m 10 "$URL/healthz"
[ "$(echo "$OUT" | jq -r .status)" = ok ] && pass "/healthz answers" || fail "healthz: $OUT $ERR"
for _ in $(seq 1 300); do grep -q '^WATCHDOG=1' "$TEST_TMP/notify.log" && break; sleep 0.05; done
grep -q '^WATCHDOG=1' "$TEST_TMP/notify.log" && pass "the watchdog is fed" || fail "no WATCHDOG=1: $(cat "$TEST_TMP/notify.log")"
[ "$(stat -c %U /proc/"$SERVE_PID" 2>/dev/null)" = inboxsync ] && pass "serve runs as inboxsync" || fail "serve runs as $(stat -c %U /proc/"$SERVE_PID" 2>&1)"
PASSWORD="pw-$(date +%s%N)"
run as_service sh -c "printf '%s\n' '$PASSWORD' | inboxsync user add admin --admin --password-stdin"
expect_rc 0 "the first administrator (as the service user, while it runs)"
run curl -sS -m 10 -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' \
	--data "{\"username\":\"admin\",\"password\":\"$PASSWORD\"}" "$URL/api/v1/session"
[ "$OUT" = 200 ] && pass "the administrator signs in" || fail "sign-in answered $OUT"
run as_service inboxsync backup /var/lib/inboxsync/test-backup.db --with-key /var/lib/inboxsync/test-backup.key
expect_rc 0 "backup while the service runs"
[ "$(stat -c '%U %a' /var/lib/inboxsync/inboxsync.db)" = "inboxsync 600" ] && pass "the store is the service's, 0600" || fail "store: $(stat -c '%U %a' /var/lib/inboxsync/inboxsync.db)"
grep -q '^<[0-7]>' "$TEST_TMP/serve.err" && pass "log lines carry journal priorities" || fail "stderr: $(head -3 "$TEST_TMP/serve.err")"
expect_not_in "$(cat "$TEST_TMP/serve.err")" "$PASSWORD" "the password is not logged"
kill -TERM "$SERVE_PID"
wait "$SERVE_PID" && RC=0 || RC=$?
SERVE_PID=""
[ "$RC" -eq 0 ] && pass "SIGTERM: exit 0" || fail "serve exited $RC: $(tail -5 "$TEST_TMP/serve.err")"
grep -q '^STOPPING=1' "$TEST_TMP/notify.log" && pass "STOPPING=1 sent" || fail "no STOPPING: $(cat "$TEST_TMP/notify.log")"
kill -TERM "$LISTEN_PID"; wait "$LISTEN_PID" 2>/dev/null; LISTEN_PID=""

# remove: the program goes, settings and data stay
FILES=$(dpkg -L inboxsync inboxsync-sim | while read -r f; do [ -f "$f" ] && echo "$f"; done)
run dpkg -r inboxsync inboxsync-sim
expect_rc 0 "dpkg -r"
[ ! -e /usr/bin/inboxsync ] && [ ! -e /usr/bin/m365sim ] && pass "the programs are gone" || fail "programs left"
[ -f /etc/inboxsync/inboxsync.conf ] && pass "remove keeps the settings" || fail "settings gone on remove"
[ -f /var/lib/inboxsync/inboxsync.db ] && pass "remove keeps the data" || fail "data gone on remove"

# purge: nothing left but the user
run dpkg -P inboxsync inboxsync-sim
expect_rc 0 "dpkg -P"
[ ! -e /etc/inboxsync ] && pass "purge removes /etc/inboxsync" || fail "left: $(ls -la /etc/inboxsync)"
[ ! -e /var/lib/inboxsync ] && pass "purge removes /var/lib/inboxsync" || fail "left: $(ls -la /var/lib/inboxsync)"
left=$(for f in $FILES; do [ -e "$f" ] && echo "$f"; done)
[ -z "$left" ] && pass "no file of the packages is left" || fail "left: $left"
left=$(find /etc/systemd /var/lib/systemd -name 'inboxsync*' 2>/dev/null)
[ -z "$left" ] && pass "no systemd link or state is left" || fail "left: $left"
status=$(dpkg-query -W -f='${db:Status-Status}' inboxsync 2>/dev/null || true)
[ -z "$status" ] || [ "$status" = not-installed ] && pass "dpkg knows nothing of inboxsync" || fail "status: $status"
getent passwd inboxsync >/dev/null && pass "the system user stays (Debian policy)" || fail "the user was removed"
finish
