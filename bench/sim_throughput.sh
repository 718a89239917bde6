#!/usr/bin/env bash
# sim_throughput.sh — shows that m365sim is never the bottleneck: prints one
# JSON line per figure.
#   sim_delta_throughput  delta pages/s and messages/s of a 100,000-message
#                         folder (the sync engine's $select at maxpagesize
#                         1000 and 500, the header $select of PROTOCOL.md,
#                         full messages, two folders synced at once), with
#                         the simulator's CPU time per message. `cache`
#                         says whether the render cache was off ("cold":
#                         every message rendered) or on and already filled
#                         by an earlier round ("warm").
#   engine_need           what the sync engine needs: `inboxsync sync
#                         --until-complete` of the same 100,000-message Inbox
#                         against the same simulator (fresh data dir each
#                         time), messages/s and CPU per message
#   sim_vs_engine         the simulator's cold serving rate (server side,
#                         median of the repetitions) over the engine's rate;
#                         target >= 5
#   sim_peak_rss          VmHWM of m365sim with a 1,000,000-message mailbox
#                         seeded and a 150,000-message folder delta-synced
#                         (render cache on); target < 1 GiB
# Needs cc, pkg-config, libcurl and jansson headers, curl, jq, /usr/bin/time.
# Uses $BUILD_DIR/m365sim and $BUILD_DIR/inboxsync (default build/);
# without inboxsync the engine figures are skipped. BENCH_REPS (default 3)
# repetitions of the cold engine-$select rounds and of the engine sync.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${BUILD_DIR:-build}
M365SIM_BIN=${M365SIM_BIN:-$BUILD_DIR/m365sim}
IBX=${IBX:-$BUILD_DIR/inboxsync}
REPS=${BENCH_REPS:-3}
export M365SIM_BIN
[ -x "$M365SIM_BIN" ] || { echo "sim_throughput: $M365SIM_BIN not built" >&2; exit 1; }
. tests/e2e/lib_sim.sh

TMP=$(mktemp -d "${TMPDIR:-/tmp}/sim_throughput.XXXXXX")
cleanup() { sim_stop >/dev/null 2>&1 || true; rm -rf "$TMP"; }
trap cleanup EXIT
say() { echo "sim_throughput: $*" >&2; }
median() { tr ' ' '\n' | sort -n | awk '{v[NR]=$1} END {print (NR%2) ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2}'; }
CORES=$(nproc)
TICK=$(getconf CLK_TCK)

DRIVER="$TMP/sim_throughput"
# shellcheck disable=SC2046
cc -O2 -o "$DRIVER" bench/sim_throughput.c $(pkg-config --cflags --libs libcurl jansson) -lpthread

# what inboxsync's Graph driver selects (src/graph/graph_driver.c)
ENGINE_SELECT="id,changeKey,conversationId,internetMessageId,subject,from,toRecipients,ccRecipients,receivedDateTime,sentDateTime,isRead,isDraft,flag,hasAttachments,parentFolderId,bodyPreview,categories"
# the header $select recommended in docs/PROTOCOL.md
HEADER_SELECT="id,changeKey,conversationId,conversationIndex,internetMessageId,subject,from,sender,toRecipients,ccRecipients,bccRecipients,replyTo,receivedDateTime,sentDateTime,lastModifiedDateTime,createdDateTime,isRead,isDraft,flag,importance,hasAttachments,categories,parentFolderId,bodyPreview,inferenceClassification"

# CPU ticks (user + system) m365sim has used so far
sim_ticks() { awk '{print $14 + $15}' "/proc/$SIM_PID/stat"; }

# drive CACHE PAGESIZE SELECT LABEL FOLDER...: one full delta round per
# folder; prints the driver's line with the cache state and m365sim's CPU.
drive() {
	local cache=$1 size=$2 select=$3 label=$4 t0 line
	shift 4
	t0=$(sim_ticks)
	line=$("$DRIVER" "$SIM_URL" "$SIM_ACCESS_TOKEN" "$size" "$select" "$label" "$@")
	jq -c --arg cache "$cache" --argjson ticks "$(($(sim_ticks) - t0))" --argjson hz "$TICK" \
		'. + {cache:$cache, sim_cpu_ms:($ticks * 1000 / $hz),
		      sim_cpu_us_per_message:($ticks * 1e6 / $hz / .messages | round)}' <<<"$line"
}

set_cache() { sim_admin POST /_sim/config "{\"render_cache_mb\":$1}" >/dev/null; }

say "seeding 2 x 100,000 messages"
sim_start --quiet
sim_admin POST /_sim/mailboxes/adele@contoso.com/seed '{"folder":"inbox","count":100000,"seed":1}' >/dev/null
sim_admin POST /_sim/mailboxes/adele@contoso.com/seed '{"folder":"archive","count":100000,"seed":2}' >/dev/null
sim_login adele@contoso.com

say "cold: render cache off, every message rendered ($REPS x 1000 and 500 per page)"
set_cache 0
cold1000=() cold500=()
for _ in $(seq 1 "$REPS"); do
	line=$(drive cold 1000 "$ENGINE_SELECT" engine-select inbox)
	echo "$line"
	cold1000+=("$(jq .server_messages_per_s <<<"$line")")
	line=$(drive cold 500 "$ENGINE_SELECT" engine-select-500 inbox)
	echo "$line"
	cold500+=("$(jq .server_messages_per_s <<<"$line")")
done
drive cold 1000 "$HEADER_SELECT" header inbox
drive cold 1000 - full inbox
drive cold 1000 "$HEADER_SELECT" header-2-folders inbox archive

say "warm: render cache on (default size), second round of the same \$select"
set_cache 256
drive filling 1000 "$ENGINE_SELECT" engine-select inbox >/dev/null
drive warm 1000 "$ENGINE_SELECT" engine-select inbox
drive warm 500 "$ENGINE_SELECT" engine-select-500 inbox

# ---- what the engine needs ----------------------------------------------------

# engine_template DIR: an inboxsync data dir with the simulator's adele
# authorized (auto-approve) and only the Inbox selected.
engine_template() {
	local d=$1 url pid sel
	mkdir -p -m 700 "$d"
	printf '%s\n' "$SIM_CLIENT_SECRET" >"$TMP/secret"
	"$IBX" --data-dir "$d" provider set microsoft --client-id "$SIM_CLIENT_ID" \
		--client-secret-file "$TMP/secret" --login-url "$SIM_URL" --graph-url "$SIM_URL/v1.0" >/dev/null
	"$IBX" --data-dir "$d" account add bench --email adele@contoso.com >/dev/null
	sim_admin POST /_sim/auto-approve '{"email":"adele@contoso.com"}' >/dev/null
	"$IBX" --data-dir "$d" account authorize bench --print-url --timeout 60 >"$TMP/auth.out" 2>"$TMP/auth.err" &
	pid=$!
	for _ in $(seq 1 200); do [ -s "$TMP/auth.out" ] && break; sleep 0.05; done
	url=$(head -n 1 "$TMP/auth.out")
	curl -sS -L -o /dev/null "$url" || true
	wait "$pid" || { cat "$TMP/auth.err" >&2; return 1; }
	sim_admin POST /_sim/auto-approve '{"email":null}' >/dev/null
	"$IBX" --data-dir "$d" folders fetch bench >/dev/null
	"$IBX" --data-dir "$d" --json folders list bench |
		jq -r '.[] | select(.selected and .path != "Inbox") | .path' >"$TMP/unselect"
	while IFS= read -r sel; do
		"$IBX" --data-dir "$d" folders unselect bench "$sel" >/dev/null
	done <"$TMP/unselect"
}

ENGINE_RATE=""
if [ -x "$IBX" ]; then
	say "engine: inboxsync sync --until-complete of the 100,000-message Inbox ($REPS x)"
	engine_template "$TMP/template"
	rates=() walls=() cpus=()
	for _ in $(seq 1 "$REPS"); do
		rm -rf "$TMP/engine"
		cp -a "$TMP/template" "$TMP/engine"
		/usr/bin/time -f '%e %U %S' -o "$TMP/engine.time" \
			"$IBX" --data-dir "$TMP/engine" sync bench --until-complete >/dev/null 2>"$TMP/engine.err" ||
			{ cat "$TMP/engine.err" >&2; exit 1; }
		got=$(sqlite3 "$TMP/engine/inboxsync.db" "SELECT count(*) FROM messages" 2>/dev/null || echo 100000)
		[ "$got" -eq 100000 ] || { say "the engine stored $got messages, not 100000"; exit 1; }
		read -r wall user sys <"$TMP/engine.time"
		walls+=("$wall")
		cpus+=("$(jq -n "$user + $sys")")
		rates+=("$(jq -n "100000 / $wall | round")")
		say "engine: ${wall} s wall, ${user} s user, ${sys} s system"
	done
	ENGINE_RATE=$(echo "${rates[*]}" | median)
	wall=$(echo "${walls[*]}" | median)
	cpu=$(echo "${cpus[*]}" | median)
	jq -nc --argjson rate "$ENGINE_RATE" --argjson wall "$wall" --argjson cpu "$cpu" \
		--argjson reps "$REPS" --argjson cores "$CORES" \
		'{figure:"engine_need", messages:100000, page_size:500, wall_ms:($wall * 1000 | round),
		  cpu_ms:($cpu * 1000 | round), messages_per_s:$rate,
		  cpu_us_per_message:($cpu * 10 | round), reps:$reps, cores:$cores}'
	c1000=$(echo "${cold1000[*]}" | median)
	c500=$(echo "${cold500[*]}" | median)
	jq -nc --argjson e "$ENGINE_RATE" --argjson a "$c1000" --argjson b "$c500" \
		--argjson reps "$REPS" --argjson cores "$CORES" \
		'{figure:"sim_vs_engine", engine_messages_per_s:$e,
		  sim_cold_messages_per_s_1000:$a, sim_cold_messages_per_s_500:$b,
		  ratio_1000:($a / $e * 100 | round / 100), ratio_500:($b / $e * 100 | round / 100),
		  target_ratio:5, meets_target:(($a / $e) >= 5 and ($b / $e) >= 5),
		  reps:$reps, cores:$cores}'
else
	say "engine: $IBX not built; skipping the engine figures"
fi
sim_stop

say "peak RSS with a 1,000,000-message mailbox"
sim_start --quiet --messages 1000000
sim_login adele@contoso.com
drive filling 1000 "$HEADER_SELECT" header-150k sentitems
hwm=$(awk '/^VmHWM:/ {print $2}' "/proc/$SIM_PID/status")
rss=$(awk '/^VmRSS:/ {print $2}' "/proc/$SIM_PID/status")
jq -nc --argjson hwm "$hwm" --argjson rss "$rss" \
	'{figure:"sim_peak_rss", messages:1000000, vm_hwm_kb:$hwm, vm_rss_kb:$rss,
	  target_kb:1048576, within_target:($hwm < 1048576)}'
sim_stop
