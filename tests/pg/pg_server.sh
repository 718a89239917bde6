#!/usr/bin/env bash
# pg_server.sh — a private PostgreSQL 15 for tests and benchmarks, in a
# directory of its own: initdb as an unprivileged user (nobody when run as
# root, since PostgreSQL refuses root), a random password, listening on
# 127.0.0.1 on a free port (and a unix socket in the directory), stopped by
# its pid.
#   pg_server.sh start DIR     init and start; DIR/url gets the URL
#                              (postgresql://inboxsync:PASSWORD@127.0.0.1:PORT,
#                              no database), DIR/pid the server's pid
#   pg_server.sh stop DIR      stop the server by pid (fast shutdown)
#   pg_server.sh restart DIR   stop, then start again on the same port
# DIR must be missing or empty for start (it is made and given to the
# server's user).
# PG_DURABLE=1 keeps PostgreSQL's durable defaults (fsync, synchronous
# commit, full page writes), for benchmarks; tests run without them.
set -euo pipefail

die() { echo "pg_server: $*" >&2; exit 1; }

pg_bin() {
	local d
	for d in "$(pg_config --bindir 2>/dev/null || true)" /usr/lib/postgresql/*/bin; do
		[ -n "$d" ] && [ -x "$d/postgres" ] && [ -x "$d/initdb" ] && { echo "$d"; return 0; }
	done
	die "PostgreSQL server binaries not found (install postgresql-15: make deps)"
}

# as_server CMD...: run CMD as the server's user.
as_server() {
	if [ "$(id -u)" -eq 0 ]; then
		setpriv --reuid=nobody --regid=nogroup --clear-groups -- "$@"
	else
		"$@"
	fi
}

# launch DIR PORT: start postgres in the background; 0 when it accepts
# connections, 2 when the port was taken, 1 on any other failure.
launch() {
	local dir=$1 port=$2 bin pid durable=()
	bin=$(pg_bin)
	if [ "${PG_DURABLE:-}" != 1 ]; then
		durable=(-c fsync=off -c synchronous_commit=off -c full_page_writes=off)
	fi
	: >"$dir/server.log"
	[ "$(id -u)" -eq 0 ] && chown nobody:nogroup "$dir/server.log"
	local args=(-D "$dir/data" -k "$dir" -c listen_addresses=127.0.0.1 -p "$port"
		-c max_connections=200 -c shared_buffers=64MB "${durable[@]}")
	# Started directly (setpriv execs), so that $! is the postmaster.
	if [ "$(id -u)" -eq 0 ]; then
		setpriv --reuid=nobody --regid=nogroup --clear-groups -- \
			"$bin/postgres" "${args[@]}" </dev/null >>"$dir/server.log" 2>&1 &
	else
		"$bin/postgres" "${args[@]}" </dev/null >>"$dir/server.log" 2>&1 &
	fi
	pid=$!
	for _ in $(seq 1 300); do
		if ! kill -0 "$pid" 2>/dev/null; then
			grep -q "could not bind\|Address already in use" "$dir/server.log" && return 2
			cat "$dir/server.log" >&2
			return 1
		fi
		if "$bin/pg_isready" -q -h 127.0.0.1 -p "$port" -t 1 2>/dev/null; then
			echo "$pid" >"$dir/pid"
			echo "$port" >"$dir/port"
			return 0
		fi
		sleep 0.1
	done
	kill -KILL "$pid" 2>/dev/null || true
	die "PostgreSQL did not start within 30 s (log: $dir/server.log)"
}

start() {
	local dir=$1 bin password port rc low
	[ -z "$(ls -A "$dir" 2>/dev/null)" ] || die "$dir is not empty"
	bin=$(pg_bin)
	mkdir -p "$dir"
	chmod 700 "$dir"
	password=$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')
	printf '%s\n' "$password" >"$dir/pwfile"
	[ "$(id -u)" -eq 0 ] && chown -R nobody:nogroup "$dir"
	as_server "$bin/initdb" -D "$dir/data" -U inboxsync --pwfile="$dir/pwfile" \
		--auth-local=trust --auth-host=scram-sha-256 -E UTF8 --locale=C.UTF-8 \
		--no-sync >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; die "initdb failed"; }
	rm -f "$dir/pwfile"
	# Below the kernel's ephemeral range: a port there may be the local
	# end of an outgoing connection, which makes the listen fail.
	read -r low _ </proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || low=32768
	[ "$low" -gt 21000 ] || low=32768
	for _ in $(seq 1 20); do
		port=$((20000 + RANDOM % (low - 20000)))
		rc=0
		launch "$dir" "$port" || rc=$?
		[ "$rc" -eq 0 ] && break
		[ "$rc" -eq 2 ] || die "PostgreSQL did not start (log: $dir/server.log)"
	done
	[ "$rc" -eq 0 ] || die "no free port found"
	echo "postgresql://inboxsync:$password@127.0.0.1:$port" >"$dir/url"
}

stop() {
	local dir=$1 pid
	[ -f "$dir/pid" ] || return 0
	pid=$(cat "$dir/pid")
	if kill -0 "$pid" 2>/dev/null; then
		kill -INT "$pid" 2>/dev/null || true
		for _ in $(seq 1 300); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$pid" 2>/dev/null || true
		for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
	fi
	rm -f "$dir/pid"
}

restart() {
	local dir=$1
	stop "$dir"
	launch "$dir" "$(cat "$dir/port")" || die "PostgreSQL did not start again"
}

[ $# -eq 2 ] || die "usage: pg_server.sh start|stop|restart DIR"
case $1 in
start) start "$2" ;;
stop) stop "$2" ;;
restart) restart "$2" ;;
*) die "usage: pg_server.sh start|stop|restart DIR" ;;
esac
