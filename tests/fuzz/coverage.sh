#!/usr/bin/env bash
# tests/fuzz/coverage.sh — how much of its parser each fuzz target reaches:
# builds the targets once more with llvm-cov instrumentation
# (build-fuzz-cov/), runs each once over its corpus (the seeds plus what
# the fuzzer found in build-fuzz/corpus/), and prints the line and branch
# coverage of the functions the target is about (the table below: the
# parsers, not the request plumbing around them). The same as
# tab-separated values in build-fuzz-cov/coverage.tsv.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
build=${FUZZ_COV_BUILD_DIR:-$root/build-fuzz-cov}
found=${FUZZ_BUILD_DIR:-$root/build-fuzz}/corpus
S=$root/src

# target -> "FILES|FUNCTIONS": the source files it answers for and, of
# their functions, the ones that read what the target feeds (an extended
# regex over llvm-cov's function names; static ones are "file.c:name").
declare -A spec=(
	[fuzz_json]="$S/common/json.c|.*"
	[fuzz_retry_after]="$S/common/http_util.c $S/common/timeutil.c|http_parse_retry_after|.*:parse_delta_seconds|time_parse_http_date|.*:(digits|expect|days_in_month)"
	[fuzz_rfc3339]="$S/common/timeutil.c|time_parse_rfc3339|time_format_rfc3339|.*:(digits|expect|days_in_month)"
	[fuzz_redact]="$S/common/log.c|log_redact|log_add_secret|.*:(out_put|is_token_char|rule_.*|redact_at)"
	[fuzz_quote]="$S/common/quote.c|.*"
	[fuzz_graph_page]="$S/graph/graph_messages.c|.*"
	[fuzz_graph_batch]="$S/graph/graph_batch.c|graph_batch_run|graph_batch_release|.*:(run_direct|request_json|header_get|answer_pos|answer_apply|dependent_settle|answers_read|batch_unsupported|run_batch|item_reset|run_chunk)"
	[fuzz_graph_error]="$S/graph/graph_error.c|graph_error_set|graph_error_from_http|graph_op_target|.*:(error_doc_read|codes_contain|rule_find|request_id_shown)"
	[fuzz_graph_answers]="$S/graph/graph_driver.c $S/graph/graph_folders.c $S/graph/graph_items.c $S/graph/graph_delta.c $S/graph/graph_send.c|graph_op_whoami|graph_op_list_folders|graph_op_get_changes|graph_op_list_newest|graph_op_fetch_body|graph_op_get_state|graph_state_from_json|graph_op_find_by_message_id|graph_op_create_draft|.*:(copy_field|walk_.*|listing_.*|well_known_.*|folder_emit|cursor_check|found_page|imid_filter|draft_post|messages_url|message_url|message_op)"
	[fuzz_oauth_error]="$S/auth/oauth_errors.c|.*"
	[fuzz_token_response]="$S/auth/oauth.c|oauth_refresh|oauth_redeem_code|oauth_tokens_clear|.*:(parse_tokens|token_request)"
	[fuzz_id_token]="$S/auth/oauth.c|oauth_parse_id_token"
	[fuzz_device_code]="$S/auth/oauth.c|oauth_device_start|oauth_device_poll|oauth_device_clear|.*:parse_tokens"
	[fuzz_mime]="$S/mime/mime_compose.c|mime_addresses_json|mime_build|.*:(parse_list|add_list|body_tree|serialize)"
	[fuzz_imap_replies]="$S/imap/imap_probe.c|imap_parse_server|.*:(on_list_data|on_debug|quote_server_text|continuation_prefix|decode_continuation|server_refusal|classify|probe_fail|count_list_lines)"
)
llvm_cov=$(command -v llvm-cov || command -v llvm-cov-14)
llvm_profdata=$(command -v llvm-profdata || command -v llvm-profdata-14)

CC=clang cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Debug -DINBOXSYNC_FUZZ=ON \
	-DINBOXSYNC_FUZZ_COVERAGE=ON -DINBOXSYNC_TESTS=OFF >/dev/null
cmake --build "$build" -j "$(nproc 2>/dev/null || echo 2)" --target fuzzers >/dev/null

out=$build/coverage.tsv
printf 'target\tfiles\tfunctions\tlines\tbranches\tinputs\n' >"$out"
for src in "$root"/tests/fuzz/fuzz_*.c; do
	t=$(basename "$src" .c)
	[ -n "${spec[$t]:-}" ] || { echo "coverage: no files listed for $t" >&2; exit 1; }
	srcs=${spec[$t]%%|*}
	funcs=${spec[$t]#*|}
	dirs=("$root/tests/fuzz/corpus/$t")
	[ -d "$found/$t" ] && dirs+=("$found/$t")
	inputs=$(find "${dirs[@]}" -type f | wc -l)
	rm -f "$build/$t".prof*
	LLVM_PROFILE_FILE="$build/$t.profraw" ASAN_OPTIONS=detect_leaks=0 \
		"$build/tests/fuzz/$t" -runs=0 "${dirs[@]}" >"$build/$t.cov.log" 2>&1
	"$llvm_profdata" merge -sparse "$build/$t.profraw" -o "$build/$t.profdata"
	# per function: Name Regions Miss Cover Lines Miss Cover Branches Miss Cover
	# shellcheck disable=SC2086 # the file list splits on purpose
	read -r nfunc lines branches < <("$llvm_cov" report -show-functions \
		"$build/tests/fuzz/$t" -instr-profile="$build/$t.profdata" $srcs |
		awk -v re="^($funcs)\$" '$1 ~ re && NF == 10 && $1 != "Name" {
			n++; l += $5; lm += $6; b += $8; bm += $9 }
		END { printf "%d %.1f%% %.1f%%\n", n, l ? 100 * (l - lm) / l : 0,
			b ? 100 * (b - bm) / b : 100 }')
	names=$(for f in $srcs; do basename "$f"; done | paste -sd' ')
	printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$t" "$names" "$nfunc" "$lines" "$branches" \
		"$inputs" >>"$out"
	echo "coverage: $t — lines $lines, branches $branches of $nfunc functions in $names ($inputs inputs)"
done
