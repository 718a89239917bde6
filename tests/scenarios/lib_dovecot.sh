# lib_dovecot.sh — a private Dovecot for shell scenarios (sourced after
# lib_scenario.sh): IMAP and submission on free loopback ports without
# TLS, XOAUTH2 only (as Exchange Online offers), its oauth2 passdb asking
# m365sim's introspection endpoint about every token; mail processes run
# as the unprivileged "dovecot" user when the test runs as root (Dovecot
# refuses mail access as root). Started as our child, stopped by pid.
# DOVE_MAILBOXES (optional) adds mailbox blocks to the namespace,
# DOVE_MECHANISMS and DOVE_PASSDB_EXTRA another login (the benchmark's
# mbsync logs in with PLAIN); doveadm runs with this configuration
# through dove_adm.
DOVECOT_BIN=$(command -v dovecot || echo /usr/sbin/dovecot)
if [ ! -x "$DOVECOT_BIN" ]; then
	echo "FAIL: dovecot is not installed (scripts/install-deps.sh installs dovecot-imapd and dovecot-submissiond)" >&2
	exit 1
fi

# Dovecot's own directory: its mail processes run as an unprivileged user,
# who cannot enter TEST_TMP (0700).
DOVE_DIR=$(mktemp -d /tmp/inboxsync-dovecot.XXXXXX)
chmod 0755 "$DOVE_DIR"
DOVE_PID=""

dovecot_down() {
	[ -n "$DOVE_PID" ] || return 0
	kill "$DOVE_PID" 2>/dev/null || true
	for _ in $(seq 1 100); do kill -0 "$DOVE_PID" 2>/dev/null || break; sleep 0.1; done
	kill -9 "$DOVE_PID" 2>/dev/null || true
	wait "$DOVE_PID" 2>/dev/null || true
	DOVE_PID=""
}
imap_cleanup() {
	dovecot_down
	rm -rf "$DOVE_DIR"
	scenario_cleanup
}
trap imap_cleanup EXIT

# free_port: a loopback port nothing answers on (Dovecot start is retried
# should another process take it first), below the kernel's ephemeral
# range: a port there may be the local end of some outgoing connection,
# which no probe sees and which makes Dovecot's listen fail.
free_port() {
	local p low
	read -r low _ </proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || low=32768
	[ "$low" -gt 21000 ] || low=32768
	for _ in $(seq 1 100); do
		p=$((20000 + RANDOM % (low - 20000)))
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
			echo "$p"
			return 0
		fi
	done
	return 1
}
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

if [ "$(id -u)" -eq 0 ]; then
	MAIL_USER=dovecot MAIL_GROUP=dovecot LOGIN_USER=dovenull
else
	MAIL_USER=$(id -un) MAIL_GROUP=$(id -gn) LOGIN_USER=$(id -un)
fi

# dovecot_oauth2_conf ACTIVE_VALUE: the passdb's introspection settings;
# a token is accepted when the simulator's "active" equals ACTIVE_VALUE.
dovecot_oauth2_conf() {
	cat >"$DOVE_DIR/oauth2.conf" <<-EOF
	introspection_url = $SIM_URL/_sim/introspect
	introspection_mode = post
	username_attribute = email
	active_attribute = active
	active_value = $1
	EOF
}

# dovecot_conf: IMAP and submission on loopback without TLS, XOAUTH2 only
# (as Exchange Online offers), tokens checked by m365sim. Submission relays
# to a port where nothing listens: Dovecot answers AUTH before it contacts
# the relay, and the probe never sends mail.
dovecot_conf() {
	mkdir -p "$DOVE_DIR/mail" "$DOVE_DIR/state"
	chown "$MAIL_USER" "$DOVE_DIR/mail"
	cat >"$DOVE_DIR/dovecot.conf" <<-EOF
	protocols = imap submission
	instance_name = inboxsync-test-$$
	base_dir = $DOVE_DIR/run
	state_dir = $DOVE_DIR/state
	log_path = $DOVE_DIR/dovecot.log
	info_log_path = $DOVE_DIR/dovecot.log
	listen = 127.0.0.1
	ssl = no
	disable_plaintext_auth = no
	auth_mechanisms = ${DOVE_MECHANISMS:-xoauth2}
	auth_verbose = yes
	hostname = localhost
	default_internal_user = $MAIL_USER
	default_internal_group = $MAIL_GROUP
	default_login_user = $LOGIN_USER
	first_valid_uid = 1
	mail_location = maildir:$DOVE_DIR/mail/%u
	namespace inbox {
	  inbox = yes
	  separator = /
	  mailbox Drafts {
	    special_use = \\Drafts
	    auto = create
	  }
	  mailbox Sent {
	    special_use = \\Sent
	    auto = create
	  }
	  mailbox Trash {
	    special_use = \\Trash
	    auto = create
	  }
	${DOVE_MAILBOXES:-}
	}
	passdb {
	  driver = oauth2
	  mechanisms = xoauth2
	  args = $DOVE_DIR/oauth2.conf
	}
	${DOVE_PASSDB_EXTRA:-}
	userdb {
	  driver = static
	  args = uid=$MAIL_USER gid=$MAIL_GROUP home=$DOVE_DIR/mail/%u allow_all_users=yes
	}
	service imap-login {
	  chroot =
	  inet_listener imap {
	    port = $IMAP_PORT
	  }
	  inet_listener imaps {
	    port = 0
	  }
	}
	service submission-login {
	  chroot =
	  inet_listener submission {
	    port = $SMTP_PORT
	  }
	}
	service auth-worker {
	  user = $MAIL_USER
	}
	service anvil {
	  chroot =
	}
	service ipc {
	  chroot =
	}
	submission_relay_host = 127.0.0.1
	submission_relay_port = $RELAY_PORT
	EOF
}

# dovecot_up: start Dovecot in the foreground as our child on free ports.
dovecot_up() {
	for _ in 1 2 3; do
		IMAP_PORT=$(free_port) SMTP_PORT=$(free_port) RELAY_PORT=$(free_port)
		dovecot_conf
		"$DOVECOT_BIN" -F -c "$DOVE_DIR/dovecot.conf" >>"$DOVE_DIR/stdout.log" 2>&1 &
		DOVE_PID=$!
		for _ in $(seq 1 100); do
			port_open "$IMAP_PORT" && port_open "$SMTP_PORT" && return 0
			kill -0 "$DOVE_PID" 2>/dev/null || break
			sleep 0.1
		done
		dovecot_down
	done
	cat "$DOVE_DIR/stdout.log" "$DOVE_DIR/dovecot.log" >&2 2>/dev/null
	echo "FAIL: Dovecot did not start" >&2
	exit 1
}

# dovecot_reload: re-read the configuration (SIGHUP) and wait until the
# new auth process answers.
dovecot_reload() {
	local before
	before=$(grep -c 'reloading configuration' "$DOVE_DIR/dovecot.log" 2>/dev/null)
	kill -HUP "$DOVE_PID"
	for _ in $(seq 1 100); do
		[ "$(grep -c 'reloading configuration' "$DOVE_DIR/dovecot.log")" -gt "$before" ] && break
		sleep 0.05
	done
	sleep 0.5
}

# dove_adm ARGS...: doveadm with this Dovecot's configuration.
dove_adm() { doveadm -c "$DOVE_DIR/dovecot.conf" "$@"; }

# The mailbox of the shell scenarios and its account name.
USER_ADDR=${USER_ADDR:-adele@contoso.com}
ACCOUNT=${ACCOUNT:-box}

# seed FOLDER N...: one message per number, Message-ID <cli-N@test.example>,
# through doveadm save (another client's delivery).
seed() {
	local folder=$1
	shift
	for n in "$@"; do
		printf 'From: Carol <carol@fabrikam.example>\r\nTo: <%s>\r\nSubject: cli %s\r\nMessage-ID: <cli-%s@test.example>\r\nDate: Tue, 01 Dec 2026 10:00:00 +0000\r\n\r\nbody of message %s\r\n' \
			"$USER_ADDR" "$n" "$n" "$n" | dove_adm save -u "$USER_ADDR" -m "$folder" ||
			{ echo "FAIL: doveadm save" >&2; exit 1; }
	done
}

# server_ids FOLDER: the folder's Message-IDs on the server, sorted.
server_ids() {
	dove_adm -f tab fetch -u "$USER_ADDR" hdr.message-id mailbox "$1" | tail -n +2 |
		sed 's/^ *//' | sort
}

# local_ids FOLDER: the same from the local store.
local_ids() {
	ibx --json messages list "$ACCOUNT" --folder "$1" --limit 100000 | jq -r '.[].internet_message_id' | sort
}

# matches FOLDER DESCRIPTION: the local folder equals the server's (its
# Message-IDs, each once).
matches() {
	local want got
	want=$(server_ids "$1")
	got=$(local_ids "$1")
	if [ "$want" = "$got" ] && [ -n "$want" ]; then
		pass "$2"
	else
		fail "$2: the server has $(echo "$want" | grep -c .), the store $(echo "$got" | grep -c .); only on the server: $(comm -23 <(echo "$want") <(echo "$got") | head -5 | tr '\n' ' '); only in the store: $(comm -13 <(echo "$want") <(echo "$got") | head -5 | tr '\n' ' ')"
	fi
}

# seed_maildir FIRST COUNT: COUNT messages (numbers FIRST..) written straight
# into the Inbox's Maildir, as a delivery agent would: fast for big
# mailboxes. Dovecot numbers them when it next looks.
seed_maildir() {
	local dir="$DOVE_DIR/mail/$USER_ADDR" n
	mkdir -p "$dir/cur" "$dir/new" "$dir/tmp"
	for n in $(seq "$1" $(($1 + $2 - 1))); do
		printf 'From: Carol <carol@fabrikam.example>\r\nTo: <%s>\r\nSubject: cli %s\r\nMessage-ID: <cli-%s@test.example>\r\nDate: Tue, 01 Dec 2026 10:00:00 +0000\r\n\r\nbody of message %s\r\n' \
			"$USER_ADDR" "$n" "$n" "$n" >"$dir/cur/$(printf '%010d' "$n").seed:2,"
	done
	chown -R "$MAIL_USER" "$DOVE_DIR/mail"
}
