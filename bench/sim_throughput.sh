#!/usr/bin/env bash
# sim_throughput.sh — shows that m365sim is never the bottleneck: prints one
# JSON line per figure.
#   sim_delta_throughput  delta pages/s and messages/s of a 100,000-message
#                         folder at maxpagesize 1000 (the sync engine's
#                         $select, the header $select of PROTOCOL.md, full
#                         messages, and two folders synced at once)
#   sim_peak_rss          VmHWM of m365sim with a 1,000,000-message mailbox
#                         seeded and a 150,000-message folder delta-synced;
#                         target < 1 GiB
# Needs cc, pkg-config, libcurl and jansson headers, curl, jq. Uses
# $BUILD_DIR/m365sim (default build/).
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${BUILD_DIR:-build}
M365SIM_BIN=${M365SIM_BIN:-$BUILD_DIR/m365sim}
export M365SIM_BIN
[ -x "$M365SIM_BIN" ] || { echo "sim_throughput: $M365SIM_BIN not built" >&2; exit 1; }
. tests/e2e/lib_sim.sh

TMP=$(mktemp -d "${TMPDIR:-/tmp}/sim_throughput.XXXXXX")
cleanup() { sim_stop >/dev/null 2>&1 || true; rm -rf "$TMP"; }
trap cleanup EXIT
say() { echo "sim_throughput: $*" >&2; }

DRIVER="$TMP/sim_throughput"
# shellcheck disable=SC2046
cc -O2 -o "$DRIVER" bench/sim_throughput.c $(pkg-config --cflags --libs libcurl jansson) -lpthread

# what inboxsync's Graph driver selects (src/graph/graph_driver.c)
ENGINE_SELECT="id,changeKey,conversationId,internetMessageId,subject,from,toRecipients,ccRecipients,receivedDateTime,sentDateTime,isRead,isDraft,flag,hasAttachments,parentFolderId,bodyPreview,categories"
# the header $select recommended in docs/PROTOCOL.md
HEADER_SELECT="id,changeKey,conversationId,conversationIndex,internetMessageId,subject,from,sender,toRecipients,ccRecipients,bccRecipients,replyTo,receivedDateTime,sentDateTime,lastModifiedDateTime,createdDateTime,isRead,isDraft,flag,importance,hasAttachments,categories,parentFolderId,bodyPreview,inferenceClassification"

say "seeding 2 x 100,000 messages"
sim_start --quiet
sim_admin POST /_sim/mailboxes/adele@contoso.com/seed '{"folder":"inbox","count":100000,"seed":1}' >/dev/null
sim_admin POST /_sim/mailboxes/adele@contoso.com/seed '{"folder":"archive","count":100000,"seed":2}' >/dev/null
sim_login adele@contoso.com
say "delta sync of a 100,000-message folder, pages of 1000"
"$DRIVER" "$SIM_URL" "$SIM_ACCESS_TOKEN" 1000 "$ENGINE_SELECT" engine-select inbox
"$DRIVER" "$SIM_URL" "$SIM_ACCESS_TOKEN" 500 "$ENGINE_SELECT" engine-select-500 inbox
"$DRIVER" "$SIM_URL" "$SIM_ACCESS_TOKEN" 1000 "$HEADER_SELECT" header inbox
"$DRIVER" "$SIM_URL" "$SIM_ACCESS_TOKEN" 1000 - full inbox
"$DRIVER" "$SIM_URL" "$SIM_ACCESS_TOKEN" 1000 "$HEADER_SELECT" header-2-folders inbox archive
sim_stop

say "peak RSS with a 1,000,000-message mailbox"
sim_start --quiet --messages 1000000
sim_login adele@contoso.com
"$DRIVER" "$SIM_URL" "$SIM_ACCESS_TOKEN" 1000 "$HEADER_SELECT" header-150k sentitems >"$TMP/sent.json"
cat "$TMP/sent.json"
hwm=$(awk '/^VmHWM:/ {print $2}' "/proc/$SIM_PID/status")
rss=$(awk '/^VmRSS:/ {print $2}' "/proc/$SIM_PID/status")
jq -nc --argjson hwm "$hwm" --argjson rss "$rss" \
	'{figure:"sim_peak_rss", messages:1000000, vm_hwm_kb:$hwm, vm_rss_kb:$rss,
	  target_kb:1048576, within_target:($hwm < 1048576)}'
sim_stop
