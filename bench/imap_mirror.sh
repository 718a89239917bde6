#!/usr/bin/env bash
# imap_mirror.sh — the IMAP OAuth2 transport against baselines measured in
# the same run on the same private Dovecot (its oauth2 passdb asking
# m365sim about the tokens). Prints one JSON line per figure:
#   imap_full_mirror  headers and bodies of an N-message Inbox into a fresh
#                     data dir (`sync --until-complete`, then `sync --once
#                     --prefetch 1000` until every body is stored) vs.
#                     mbsync pulling the same Inbox into a fresh Maildir
#                     (FSync on, its default) and vs. the raw floor
#                     `UID FETCH 1:* (BODY.PEEK[])` (bench/imap_floor.c:
#                     the answer read and dropped)
#   imap_metadata     `sync --until-complete` alone vs. the headers floor
#                     `UID FETCH 1:* (UID FLAGS BODY.PEEK[HEADER])`
#   imap_peak_rss     peak RSS of the full mirror at the small and the
#                     large size (flat means the ratio stays near 1)
# Sizes: BENCH_IMAP_SMALL (10000) and BENCH_IMAP_LARGE (50000) messages of
# about 3 KB. BENCH_REPS (3) runs of each, medians reported with the
# single runs beside them; BENCH_KEEP=1 keeps the scratch directory.
# Needs dovecot-imapd, isync, cc with libsodium (for bench/imap_floor.c),
# jq, sqlite3, /usr/bin/time, and a build (BUILD_DIR, default build).
# Results and how to read them: docs/performance.md, "IMAP".
set -eEuo pipefail
trap 'echo "bench: failed at line $LINENO: $BASH_COMMAND" >&2' ERR
cd "$(dirname "${BASH_SOURCE[0]}")/.."
BUILD_DIR=${BUILD_DIR:-${BUILD:-build}}
IBX=$(realpath -m "$BUILD_DIR/inboxsync")
SIM=$(realpath -m "$BUILD_DIR/m365sim")
SMALL=${BENCH_IMAP_SMALL:-10000}
LARGE=${BENCH_IMAP_LARGE:-50000}
REPS=${BENCH_REPS:-3}
EMAIL=adele@contoso.com
ACCOUNT=box
for tool in cc jq curl sqlite3 mbsync /usr/bin/time; do
	command -v "$tool" >/dev/null || { echo "bench: $tool is missing (make deps)" >&2; exit 1; }
done
[ -x "$IBX" ] && [ -x "$SIM" ] || { echo "bench: build first (make build)" >&2; exit 1; }
TMP=$(mktemp -d /tmp/inboxsync-bench-imap.XXXXXX)
SIM_PID=""
# shellcheck source=bench/lib.sh
. bench/lib.sh

# lib_dovecot.sh calls this on exit, after stopping Dovecot.
scenario_cleanup() {
	sim_stop
	if [ "${BENCH_KEEP:-}" = 1 ]; then say "scratch kept in $TMP"; else rm -rf "$TMP"; fi
}
# mbsync logs in with PLAIN (it has no XOAUTH2 without a SASL plugin);
# inboxsync and the floors use XOAUTH2 as everywhere else.
DOVE_MECHANISMS="xoauth2 plain"
DOVE_PASSDB_EXTRA='passdb {
	  driver = static
	  args = password=bench
	  mechanisms = plain
	}'
# shellcheck source=tests/scenarios/lib_dovecot.sh
. tests/scenarios/lib_dovecot.sh


# seed_inbox N: N messages of about 3 KB written into the Inbox's Maildir.
seed_inbox() {
	local dir="$DOVE_DIR/mail/$EMAIL"
	rm -rf "$DOVE_DIR/mail/$EMAIL"
	mkdir -p "$dir/cur" "$dir/new" "$dir/tmp"
	awk -v n="$1" -v dir="$dir/cur" -v to="$EMAIL" 'BEGIN {
		line = "lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor";
		for (i = 1; i <= n; i++) {
			f = sprintf("%s/%010d.bench:2,%s", dir, i, i % 3 ? "" : "S");
			printf "From: Carol <carol@fabrikam.example>\r\nTo: <%s>\r\nSubject: bench %d\r\nMessage-ID: <bench-%d@test.example>\r\nDate: Tue, 01 Dec 2026 10:00:00 +0000\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n", to, i, i > f;
			for (k = 0; k < 36; k++) printf "%s %d\r\n", line, k > f;
			close(f);
		}
	}'
	chown -R "$MAIL_USER" "$DOVE_DIR/mail"
}

# imap_token: an access token for the outlook.office.com resource.
imap_token() {
	local loc code scope='offline_access https://outlook.office.com/IMAP.AccessAsUser.All'
	admin POST auto-approve "{\"email\":\"$EMAIL\"}" >/dev/null
	loc=$(curl -sS -o /dev/null -w '%{redirect_url}' \
		"$SIM_URL/common/oauth2/v2.0/authorize?client_id=$SIM_CLIENT_ID&response_type=code&redirect_uri=$(uri http://localhost/callback)&scope=$(uri "$scope")")
	code=$(sed -n 's/.*[?&]code=\([^&]*\).*/\1/p' <<<"$loc")
	curl -sS -f "$SIM_URL/common/oauth2/v2.0/token" --data-urlencode grant_type=authorization_code \
		--data-urlencode "code=$code" --data-urlencode "client_id=$SIM_CLIENT_ID" \
		--data-urlencode "client_secret=$SIM_SECRET" \
		--data-urlencode redirect_uri=http://localhost/callback | jq -r .access_token
}

# floor COMMAND: one IMAP command over the whole Inbox by bench/imap_floor
# (XOAUTH2, the answer read and dropped). Sets FLOOR_MS and FLOOR_BYTES.
floor() {
	local out
	out=$("$TMP/imap_floor" "$IMAP_PORT" "$EMAIL" "$TOKEN" "$1") || die "the floor failed: $1"
	FLOOR_BYTES=${out%% *}
	FLOOR_MS=${out##* }
}

# mbsync_pull: the Inbox into a fresh Maildir. Sets MB_MS and MB_RSS_KB.
mbsync_pull() {
	local t0
	rm -rf "$TMP/maildir"
	mkdir -p "$TMP/maildir"
	cat >"$TMP/mbsyncrc" <<-EOF
	FSync yes

	IMAPAccount bench
	Host 127.0.0.1
	Port $IMAP_PORT
	User $EMAIL
	Pass bench
	SSLType None
	AuthMechs PLAIN

	IMAPStore remote
	Account bench

	MaildirStore local
	Path $TMP/maildir/
	Inbox $TMP/maildir/INBOX

	Channel inbox
	Far :remote:
	Near :local:
	Patterns INBOX
	Sync Pull
	Create Near
	SyncState *
	EOF
	t0=$(now_ms)
	/usr/bin/time -v -o "$TMP/mbsync.time" mbsync -q -c "$TMP/mbsyncrc" -a >/dev/null 2>"$TMP/mbsync.err" ||
		{ cat "$TMP/mbsync.err" >&2; die "mbsync failed"; }
	MB_MS=$(($(now_ms) - t0))
	MB_RSS_KB=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$TMP/mbsync.time")
	local got
	got=$(find "$TMP/maildir/INBOX" -type f -path '*/cur/*' -o -type f -path '*/new/*' | wc -l)
	[ "$got" -eq "$N" ] || die "mbsync stored $got messages, not $N"
}

# template: a data dir with the IMAP account authorized, folders fetched,
# only the Inbox selected.
template() {
	local d=$TMP/template url pid
	rm -rf "$d"
	mkdir -p -m 700 "$d"
	ibx "$d" provider set microsoft --client-id "$SIM_CLIENT_ID" --client-secret-file "$TMP/secret" \
		--login-url "$SIM_URL" --graph-url "$SIM_URL/v1.0" --transports graph,imap \
		--imap "127.0.0.1:$IMAP_PORT" --smtp "127.0.0.1:$SMTP_PORT" >/dev/null
	ibx "$d" account add "$ACCOUNT" --email "$EMAIL" --transport imap >/dev/null
	admin POST auto-approve "{\"email\":\"$EMAIL\"}" >/dev/null
	: >"$TMP/auth.out"
	ibx "$d" account authorize "$ACCOUNT" --print-url --timeout 60 >"$TMP/auth.out" 2>"$TMP/auth.err" &
	pid=$!
	for _ in $(seq 1 200); do [ -s "$TMP/auth.out" ] && break; sleep 0.05; done
	url=$(head -n 1 "$TMP/auth.out")
	curl -sS -L -o /dev/null "$url" 2>/dev/null || true
	wait "$pid" || { cat "$TMP/auth.err" >&2; die "authorize failed"; }
	ibx "$d" folders fetch "$ACCOUNT" >/dev/null
	ibx "$d" folders unselect "$ACCOUNT" Sent >/dev/null
}

# timed DATA ARGS...: inboxsync under /usr/bin/time; adds to RUN_MS, keeps
# the largest RSS in RUN_RSS_KB.
timed() {
	local d=$1 t0 rss
	shift
	t0=$(now_ms)
	/usr/bin/time -v -o "$d/time.txt" "$IBX" --data-dir "$d" "$@" >"$d/out" 2>"$d/err" ||
		{ cat "$d/err" >&2; die "inboxsync $* failed"; }
	RUN_MS=$((RUN_MS + $(now_ms) - t0))
	rss=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$d/time.txt")
	[ "$rss" -gt "$RUN_RSS_KB" ] && RUN_RSS_KB=$rss
	return 0
}

# missing_bodies DATA: messages the next prefetch would fetch a body for
# (the store's own test: src/store/sqlite/sqlite_messages.c).
missing_bodies() {
	sqlite3 "$1/inboxsync.db" "SELECT count(*) FROM messages WHERE body_type IS NULL AND pending = 0"
}

# runs VALUES...: a JSON array of the numbers.
runs() { jq -nc '$ARGS.positional | map(tonumber)' --args "$@"; }
med() { printf '%s\n' "$@" | median; }

# figures N: every measurement at one size, BENCH_REPS times, the
# baselines and inboxsync alternating within each repetition.
figures() {
	N=$1
	dovecot_down
	seed_inbox "$N"
	dovecot_up
	TOKEN=$(imap_token)
	# the first reader builds Dovecot's index: a warm-up for everyone
	floor 'UID FETCH 1:* (UID FLAGS)'
	template
	local rep passes body_passes=()
	local hdr=() body=() mb=() mb_rss=() meta=() meta_rss=() full=() full_rss=()
	for rep in $(seq 1 "$REPS"); do
		floor 'UID FETCH 1:* (UID FLAGS BODY.PEEK[HEADER])'
		hdr+=("$FLOOR_MS")
		floor 'UID FETCH 1:* (BODY.PEEK[])'
		body+=("$FLOOR_MS")
		mbsync_pull
		mb+=("$MB_MS")
		mb_rss+=("$MB_RSS_KB")
		fresh_copy "$TMP/template" "$TMP/data"
		RUN_MS=0 RUN_RSS_KB=0
		timed "$TMP/data" sync "$ACCOUNT" --until-complete
		[ "$(store_count "$TMP/data")" -eq "$N" ] || die "the store holds $(store_count "$TMP/data") messages, not $N"
		meta+=("$RUN_MS")
		meta_rss+=("$RUN_RSS_KB")
		passes=0
		while [ "$(missing_bodies "$TMP/data")" -gt 0 ]; do
			timed "$TMP/data" sync "$ACCOUNT" --once --prefetch 1000
			passes=$((passes + 1))
			[ "$passes" -le $((N / 1000 + 5)) ] || die "bodies still missing after $passes passes"
		done
		full+=("$RUN_MS")
		full_rss+=("$RUN_RSS_KB")
		body_passes+=("$passes")
		say "$N (run $rep of $REPS): full mirror ${RUN_MS} ms (metadata ${meta[-1]} ms, $passes body passes), mbsync ${MB_MS} ms, body floor ${body[-1]} ms, header floor ${hdr[-1]} ms"
	done
	local m_full m_mb m_body m_meta m_hdr
	m_full=$(med "${full[@]}") m_mb=$(med "${mb[@]}") m_body=$(med "${body[@]}")
	m_meta=$(med "${meta[@]}") m_hdr=$(med "${hdr[@]}")
	jq -nc --argjson n "$N" --argjson ms "$m_full" --argjson mb "$m_mb" --argjson fl "$m_body" \
		--argjson rm "$(ratio "$m_full" "$m_mb")" --argjson rf "$(ratio "$m_full" "$m_body")" \
		--argjson rss "$(med "${full_rss[@]}")" --argjson mbrss "$(med "${mb_rss[@]}")" \
		--argjson bytes "$FLOOR_BYTES" --argjson passes "$(med "${body_passes[@]}")" \
		--argjson runs "$(runs "${full[@]}")" --argjson mbruns "$(runs "${mb[@]}")" \
		--argjson flruns "$(runs "${body[@]}")" --argjson reps "$REPS" --argjson cores "$(nproc)" \
		'{figure:"imap_full_mirror", messages:$n, wall_ms:$ms, mbsync_ms:$mb, floor_ms:$fl,
		  ratio_to_mbsync:$rm, ratio_to_floor:$rf, peak_rss_kb:$rss, mbsync_peak_rss_kb:$mbrss,
		  floor_bytes:$bytes, body_passes:$passes, wall_ms_runs:$runs, mbsync_ms_runs:$mbruns,
		  floor_ms_runs:$flruns, reps:$reps, cores:$cores}'
	jq -nc --argjson n "$N" --argjson ms "$m_meta" --argjson fl "$m_hdr" \
		--argjson r "$(ratio "$m_meta" "$m_hdr")" --argjson rss "$(med "${meta_rss[@]}")" \
		--argjson runs "$(runs "${meta[@]}")" --argjson flruns "$(runs "${hdr[@]}")" \
		--argjson reps "$REPS" --argjson cores "$(nproc)" \
		'{figure:"imap_metadata", messages:$n, wall_ms:$ms, floor_headers_ms:$fl,
		  ratio_to_floor:$r, peak_rss_kb:$rss, wall_ms_runs:$runs, floor_ms_runs:$flruns,
		  reps:$reps, cores:$cores}'
	LAST_RSS=$(printf '%s\n' "${full_rss[@]}" | sort -n | tail -n 1)
}

# Sourced with BENCH_IMAP_SETUP_ONLY=1 (e.g. to profile one sync by hand):
# the simulator and Dovecot are left running, nothing is measured.
cc -O2 -o "$TMP/imap_floor" bench/imap_floor.c $(pkg-config --cflags --libs libsodium) ||
	die "cannot build bench/imap_floor.c"
sim_start
dovecot_oauth2_conf true
dovecot_up
[ "${BENCH_IMAP_SETUP_ONLY:-}" = 1 ] && return 0
figures "$SMALL"
small_rss=$LAST_RSS
figures "$LARGE"
jq -nc --argjson s "$SMALL" --argjson l "$LARGE" --argjson a "$small_rss" --argjson b "$LAST_RSS" \
	--argjson r "$(ratio "$LAST_RSS" "$small_rss")" \
	'{figure:"imap_peak_rss", small:$s, large:$l, small_kb:$a, large_kb:$b, ratio:$r}'
