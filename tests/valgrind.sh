#!/usr/bin/env bash
# tests/valgrind.sh — the unit tests and a few scenario tests under
# valgrind memcheck (make valgrind): any invalid read or write, use of an
# uninitialised value, bad free or definite/indirect leak fails. Unit tests
# run under valgrind themselves; a scenario runs its inboxsync commands
# under it (INBOXSYNC_BIN is a wrapper), the simulator natively. Uses the
# normal build (BUILD, default build/). Suppressions with reasons:
# tests/valgrind.supp.
#
#   VALGRIND_TESTS="test_json test_hostile_text"  only these
#   VALGRIND_SKIP="test_sim_render"               all unit tests but these
#   VALGRIND_SCENARIOS="test_hostile_text"        these scenarios (default:
#                                                 the list below)
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=$(realpath -m "${BUILD:-$root/build}") # absolute: the tests run from build/tests
logs=$build/valgrind
read -r -a scenarios <<<"${VALGRIND_SCENARIOS:-test_sync_bootstrap test_sync_delta \
	test_send_compose test_token_lifecycle test_hostile_text}"
# test_send_alloc_torture and test_imap_send_alloc_torture fork thousands
# of runs of the command line that abort or converge; the paths they take
# are those of the scenarios above (and of test_imap_send), and under
# memcheck each would take most of an hour.
read -r -a skip <<<"${VALGRIND_SKIP:-test_send_alloc_torture test_imap_send_alloc_torture}"

command -v valgrind >/dev/null 2>&1 ||
	{ echo "valgrind: not installed (bash scripts/install-deps.sh)" >&2; exit 1; }
cmake -S "$root" -B "$build" -DINBOXSYNC_WERROR=ON >/dev/null
cmake --build "$build" -j "$(nproc 2>/dev/null || echo 2)" >/dev/null
rm -rf "$logs"
mkdir -p "$logs"

# Children forked without exec are not checked: the crash tests fork
# children that abort at the N-th allocation on purpose (alloc.h's hook)
# and die holding what they had allocated.
export VALGRIND_OPTS="--error-exitcode=99 --leak-check=full
	--errors-for-leak-kinds=definite,indirect --show-leak-kinds=definite,indirect
	--child-silent-after-fork=yes
	--num-callers=30 --suppressions=$root/tests/valgrind.supp"
export INBOXSYNC_REAL_BIN=$build/inboxsync
export INBOXSYNC_VALGRIND_LOGS=$logs
# what ctest gives the tests (tests/CMakeLists.txt: SCRIPT_ENV)
export M365SIM_BIN=$build/m365sim SOURCE_DIR=$root BUILD_DIR=$build

if [ -n "${VALGRIND_TESTS:-}" ]; then
	read -r -a wanted <<<"$VALGRIND_TESTS"
else
	wanted=()
	for t in "$build"/tests/test_*; do
		t=$(basename "$t")
		case " ${skip[*]:-} " in *" $t "*) continue ;; esac
		# tests/pg's own tests need the private PostgreSQL of with_pg.sh
		[ -f "$root/tests/pg/$t.c" ] && continue
		wanted+=("$t")
	done
	wanted+=("${scenarios[@]}")
fi

status=0
for t in "${wanted[@]}"; do
	start=$(date +%s)
	log=$logs/$t.log
	if [ -x "$build/tests/$t" ]; then
		(cd "$build/tests" && INBOXSYNC_BIN=$build/inboxsync \
			valgrind --log-file="$logs/$t.vg.%p" "./$t") >"$log" 2>&1 && rc=0 || rc=$?
	elif [ -f "$root/tests/scenarios/$t.sh" ]; then
		INBOXSYNC_BIN=$root/tests/valgrind-inboxsync.sh VALGRIND_TEST=$t \
			bash "$root/tests/scenarios/$t.sh" >"$log" 2>&1 && rc=0 || rc=$?
	else
		echo "valgrind: no test named $t" >&2
		status=1
		continue
	fi
	# errors land in the per-process logs (the test's own exit code may hide them)
	errors=$(cat "$logs/$t".vg.* 2>/dev/null | grep -c 'ERROR SUMMARY: [1-9]' || true)
	if [ "$rc" -eq 0 ] && [ "$errors" -eq 0 ]; then
		echo "valgrind: $t clean ($(($(date +%s) - start)) s)"
	else
		echo "valgrind: $t FAILED (exit $rc, $errors process(es) with errors): $logs/$t.*" >&2
		grep -h -B2 -A25 'ERROR SUMMARY: [1-9]\|Invalid\|uninitialised\|definitely lost' \
			"$logs/$t".vg.* 2>/dev/null | head -80 >&2 || tail -n 30 "$log" >&2
		status=1
	fi
done
exit $status
